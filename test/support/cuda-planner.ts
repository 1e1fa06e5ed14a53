/**
 * CUDA planning on any machine, in each dialect the CUDA backend uses: the (dialect,
 * arch) targets and a backend that plans and renders but never runs.
 */
import { CUDA_DIALECT, CUDA_SM90_DIALECT } from '../../src/codegen/cuda.js';
import type { GpuDialect } from '../../src/codegen/gpu-dialect.js';
import { planSourcesFor } from '../../src/engine/executor.js';
import { walkGraph } from '../../src/core/walk.js';
import type { MetalArray } from '../../src/array/array.js';
import { planOptions } from '../../src/array/context.js';
import { CudaRenderer } from '../../src/runtime/cuda/backend.js';
import { PlanOnlyBackend } from '../../src/runtime/registry.js';

/** The (dialect, arch) pairs the CUDA backend compiles for: sm_80-class devices and Hopper (wgmma). */
export const CUDA_TARGETS: readonly { arch: string; dialect: GpuDialect }[] = [
  { arch: 'sm_80', dialect: CUDA_DIALECT },
  { arch: 'sm_90a', dialect: CUDA_SM90_DIALECT },
];

/** A CUDA backend that plans and renders in one dialect and never runs anything. */
export class CudaPlanner extends PlanOnlyBackend {
  constructor(dialect: GpuDialect) {
    super(new CudaRenderer(dialect), 'the CUDA planner only renders kernels');
  }
}

/** The kernels `planner` would compile for `arrays`, with the current plan options. */
export function cudaSourcesFor(arrays: readonly MetalArray[], planner: CudaPlanner): readonly { name: string; source: string }[] {
  const outputs = arrays.map((a) => a.liveNode('cudaSourcesFor'));
  return planSourcesFor(walkGraph(outputs).nodes, outputs, planner, planOptions());
}
