/**
 * A local stand-in for the macOS job's `METALARRAY_BACKEND=metal npm test`, for machines
 * without a Mac: with MA_SIMULATE_METAL_RENDER=1 (vitest.config.ts loads this file
 * then), the cpu backend first renders every kernel as MSL for the metal backend and
 * throws the DTypeError that throws for float64. Sort and scatter kernels, which the GPU
 * renderers are gaining separately, are let through. Tests of cpu-only machinery pin
 * the cpu backend (pinCpuBackend, onCpuBackend in backend.ts) and get it unchanged.
 * Kernels still run on the cpu, so this finds the tests that cannot pass on Metal for
 * what the renderer refuses; it cannot find runtime differences.
 */
import { renderMslKernel } from '../../src/codegen/msl.js';
import { DTypeError } from '../../src/errors.js';
import type { Backend } from '../../src/runtime/backend.js';
import { backendFor } from '../../src/runtime/registry.js';
import { cpuPin } from './pin.js';

const cpu = backendFor('cpu') as { -readonly [K in keyof Backend]: Backend[K] };
const render = cpu.render.bind(cpu);
cpu.render = (ir, name) => {
  // Tests that pin the cpu backend get it as it is (on a Mac it has float64).
  if (cpuPin.pinned) return render(ir, name);
  try {
    renderMslKernel(ir, name);
  } catch (err) {
    if (err instanceof DTypeError) throw err;
  }
  return render(ir, name);
};
