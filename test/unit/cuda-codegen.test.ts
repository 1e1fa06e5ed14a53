/** The CUDA renderer and backend selection on any machine (no GPU needed). */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { GPU_ARGS_INLINE_BYTES } from '../../src/codegen/gpu.js';
import { unavailableReason } from '../../src/runtime/registry.js';

function rand(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
}

describe('CUDA codegen without a GPU', () => {
  it('kernelSources(…, "cuda") renders every kernel kind as CUDA C', () => {
    const x = ma.array(rand(64)).reshape(8, 8);
    const cases: [ma.MetalArray, string][] = [
      [ma.gelu(x).add(1), 'uint4'], // 16-byte vector path
      [ma.softmax(x, -1), 'ma_shfl_down'],
      [x.sum(), 'atomicAdd'], // split reduction
      [ma.cumsum(x, 1), 'acc ='],
      [ma.relu(ma.matmul(x, x.T).add(1)), 'fmaf('],
    ];
    for (const [y, marker] of cases) {
      const src = ma.kernelSources(y, 'cuda').map((k) => k.source);
      expect(src.length).toBeGreaterThan(0);
      for (const s of src) expect(s).toMatch(/^extern "C" __global__ void __launch_bounds__\(\d+\) k_[0-9a-f]{24}\(/);
      expect(src.join('\n')).toContain(marker);
    }
    // The CPU renderer is untouched by the choice.
    expect(ma.kernelSources(ma.gelu(x), 'cpu')[0].source).not.toContain('__global__');
  });

  it("setMatmulPrecision('tf32') selects the tensor-core kernel for float32 only", () => {
    const x = ma.array(rand(64)).reshape(8, 8);
    const exact = ma.kernelSources(ma.matmul(x, x), 'cuda')[0].source;
    expect(exact).not.toContain('ma_mma_tf32');
    ma.setMatmulPrecision('tf32');
    try {
      expect(ma.kernelSources(ma.matmul(x, x), 'cuda')[0].source).toContain('ma_mma_tf32');
      const x64 = x.astype('float64');
      expect(ma.kernelSources(ma.matmul(x64, x64), 'cuda').at(-1)?.source).not.toContain('ma_mma_tf32');
    } finally {
      ma.setMatmulPrecision('highest');
    }
    expect(() => ma.setMatmulPrecision('fast' as never)).toThrow(ma.ArgumentError);
  });

  it('kernels with thousands of constants take their args through a pointer', () => {
    // 600 one-element slices of one buffer, joined: one kernel, an offset and bounds per piece.
    const x = ma.array(rand(600));
    const y = ma.concatenate(Array.from({ length: 600 }, (_, i) => x.slice([i, i + 1]))).multiply(2);
    const sources = ma.kernelSources(y, 'cuda');
    expect(sources.length).toBe(1);
    const src = sources[0].source;
    expect(600 * 8).toBeGreaterThan(GPU_ARGS_INLINE_BYTES);
    expect(src).toContain('*__restrict__ ap)');
  });

  it('isAvailable("cuda") is false with the reason where CUDA cannot run', () => {
    const why = unavailableReason('cuda');
    expect(ma.isAvailable('cuda')).toBe(why === '');
    if (why) expect(() => ma.setBackend('cuda')).toThrow(ma.BackendUnavailableError);
  });
});
