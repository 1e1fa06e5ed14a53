/** The CUDA renderer and backend selection on any machine (no GPU needed). */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { CUDA_DIALECT, CUDA_SM90_DIALECT, cudaDialectFor } from '../../src/codegen/cuda.js';
import { gpuLaunch } from '../../src/codegen/gpu.js';
import { GPU_ARGS_INLINE_BYTES } from '../../src/codegen/gpu-dialect.js';
import { sortTile } from '../../src/codegen/gpu-sort.js';
import type { KernelIR } from '../../src/codegen/ir.js';
import type { DType } from '../../src/core/dtype.js';
import { planFor } from '../../src/engine/executor.js';
import type { Backend } from '../../src/runtime/backend.js';
import { CudaRenderer } from '../../src/runtime/cuda/backend.js';
import { MetalRenderer } from '../../src/runtime/metal/backend.js';
import { unavailableReason } from '../../src/runtime/registry.js';

function rand(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
}

/** The CUDA sources and launch words of `y`'s plan in `dialect`, whatever device this machine has. */
function planIn(dialect: typeof CUDA_DIALECT, y: ma.MetalArray): { sources: string[]; commands: Int32Array } {
  const renderer = new CudaRenderer(dialect) as unknown as Backend;
  const { plan } = planFor([y.liveNode('test')], renderer, { fusion: true, cpuMatmul: 'generated' });
  return { sources: plan.sources.map((k) => k.source), commands: plan.commands };
}

describe('CUDA codegen without a GPU', () => {
  it('approximate math goes through the prelude wrappers that hide constant arguments from NVRTC; exact math does not', () => {
    const src = planIn(
      CUDA_DIALECT,
      ma.arctan2(
        ma
          .array(rand(8))
          .exp()
          .add(ma.array(rand(8)).sqrt()),
        ma.array(rand(8)),
      ),
    ).sources.join('\n');
    expect(src).toContain('ma_expf(');
    expect(src).toContain('ma_atan2('); // float32 arctan2 runs in double
    expect(src).toMatch(/[^_]sqrtf\(/);
  });

  it('kernelSources(…, "cuda") renders every kernel kind as CUDA C', () => {
    const x = ma.array(rand(64)).reshape(8, 8);
    const cases: [ma.MetalArray, string][] = [
      [ma.gelu(x).add(1), 'uint4'], // 16-byte vector path
      [ma.softmax(x, -1), 'ma_shfl_down'],
      [x.sum(), 'atomicAdd'], // split reduction
      [ma.cumsum(x, 1), 'acc ='],
      [ma.relu(ma.matmul(x, x.T).add(1)), 'fmaf('],
      [ma.argsort(x.exp(), 1), 'di[q] = si[p];'], // shared-memory merge of keys and positions
      [ma.sort(x, 0), 'gd[q] = x;'], // the scratch merge of long lines
      [ma.topk(x, 3)[0], '__shared__ __align__(16) float sk0[2048];'],
      [x.at(ma.array([1, 1], 'int32')).add(1), 'atomicAdd((uint32_t *)scratch, 1u)'], // the last block applies the updates
      [ma.putAlongAxis(x, ma.zeros([8, 1], 'int32'), 2, 1), 'k2 < count &&'], // one thread per run of equal positions
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

  it('sorts and scatters render for every CUDA dtype, with a barrier between the base and the updates', () => {
    const dts: DType[] = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'bfloat16', 'float32', 'float64'];
    for (const d of dts) {
      const x = ma.array(rand(40)).multiply(9).astype(d).reshape(4, 10);
      const sorts = ma.kernelSources([ma.sort(x), ma.argsort(x, 0)], 'cuda').filter((k) => k.kind === 'sort');
      expect(sorts.length, d).toBe(2);
      for (const k of sorts) {
        // NaN last for floats: the order asks whether the right-hand key is NaN.
        expect(k.source.includes('!= sk0[m - 1]'), d).toBe(d.startsWith('float') || d === 'bfloat16');
        expect(k.source).toContain('__syncthreads();');
      }
      const sc = ma.kernelSources(x.at(ma.array([3, 3], 'int32')).set(ma.array([1, 0]).astype(d).reshape(2, 1)), 'cuda').find((k) => k.kind === 'scatter');
      expect(sc?.source, d).toMatch(/__syncthreads\(\);\n {2}uint8_t down = 0;/);
    }
  });

  it('sort launches: one block per line, shared-memory tiles by key width, scratch only for lines longer than a tile', () => {
    const ir = (dtype: DType, indices: boolean): KernelIR => ({
      kind: 'sort',
      rank: 2,
      buffers: [indices ? 'int32' : dtype, dtype],
      stmts: [],
      inner: [],
      result: 0,
      argWords: 4,
      sort: { indices, dtype },
    });
    // Two key buffers (and two uint16 position buffers) within Metal's 32 KB.
    expect(sortTile({ dtype: 'float32', indices: false })).toBe(4096);
    expect(sortTile({ dtype: 'float32', indices: true })).toBe(2048);
    expect(sortTile({ dtype: 'float16', indices: true })).toBe(2048);
    expect(sortTile({ dtype: 'int64', indices: false })).toBe(2048);
    expect(sortTile({ dtype: 'int64', indices: true })).toBe(1024);
    expect(sortTile({ dtype: 'bool', indices: true })).toBe(4096);
    for (const [d, idx] of [
      ['float32', true],
      ['int64', true],
      ['uint8', false],
    ] as const) {
      const t = sortTile({ dtype: d, indices: idx });
      expect(2 * t * ((d === 'int64' ? 8 : d === 'uint8' ? 1 : 4) + (idx ? 2 : 0))).toBeLessThanOrEqual(32768);
    }
    // Short lines: no scratch; as many whole lines per block as fill a tile (2048 / 17 =
    // 120), the block just big enough for runs of 8 per thread.
    expect(gpuLaunch(ir('float32', true), [3, 0, 3, 17], CUDA_DIALECT)).toEqual({ grid: [1, 1, 1], block: [32, 1, 1], sharedBytes: 0, scratchBytes: 0 });
    expect(gpuLaunch(ir('float32', true), [1000, 0, 1000, 17], CUDA_DIALECT)).toEqual({ grid: [9, 1, 1], block: [256, 1, 1], sharedBytes: 0, scratchBytes: 0 });
    expect(gpuLaunch(ir('float32', true), [5, 0, 5, 2000], CUDA_DIALECT)).toEqual({ grid: [5, 1, 1], block: [256, 1, 1], sharedBytes: 0, scratchBytes: 0 });
    // Long lines: per block two int32 position halves and two key halves.
    expect(gpuLaunch(ir('float32', true), [2, 0, 2, 5000], CUDA_DIALECT)).toEqual({
      grid: [2, 1, 1],
      block: [256, 1, 1],
      sharedBytes: 0,
      scratchBytes: 2 * (8 + 8) * 5000,
    });
    expect(gpuLaunch(ir('float32', false), [2, 0, 2, 5000], CUDA_DIALECT).scratchBytes).toBe(2 * 8 * 5000);
    // Many long lines share a bounded scratch: fewer blocks, each sorting several lines.
    const many = gpuLaunch(ir('int64', true), [100000, 0, 100000, 4097], CUDA_DIALECT);
    expect(many.grid[0]).toBeLessThan(100000);
    expect(many.scratchBytes).toBeLessThanOrEqual(256 * 1024 * 1024);
    expect(gpuLaunch(ir('float32', true), [0, 0, 0, 9], CUDA_DIALECT).grid).toEqual([0, 0, 0]);
    // Metal keeps a sort's scratch (and a split reduction's; only a scatter drops it).
    expect(new MetalRenderer().launchWords(ir('float32', true), [2, 0, 2, 5000]).slice(-1)).toEqual([160000]);
  });

  it('scatter launches: the base over several blocks with a counter word in scratch; on Metal the same as two ordered passes (grid z)', () => {
    const ir: KernelIR = {
      kind: 'scatter',
      rank: 1,
      buffers: ['float32', 'float32', 'int64', 'float32'],
      stmts: [],
      inner: [],
      result: 0,
      argWords: 5,
      scatter: { op: 'add', positions: 2, updates: 3, count: 4 },
    };
    expect(gpuLaunch(ir, [100, 0, 100, 0, 3], CUDA_DIALECT)).toEqual({ grid: [1, 1, 1], block: [256, 1, 1], sharedBytes: 0, scratchBytes: 0 });
    expect(gpuLaunch(ir, [5000, 0, 5000, 0, 3], CUDA_DIALECT)).toEqual({ grid: [3, 1, 1], block: [256, 1, 1], sharedBytes: 0, scratchBytes: 4 });
    expect(gpuLaunch(ir, [1e9, 0, 1e9, 0, 3], CUDA_DIALECT).grid[0]).toBe(4096);
    expect(gpuLaunch(ir, [0, 0, 0, 0, 0], CUDA_DIALECT).grid[0]).toBe(0);
    // Metal: no device-scope fence, so the base and the ordered apply are two dispatches of one kernel in one encoder (grid z = passes).
    expect(new MetalRenderer().launchWords(ir, [5000, 0, 5000, 0, 3])).toEqual([3, 1, 2, 256, 1, 1, 0, 40, 4]);
  });

  it("setMatmulPrecision('tf32') selects the tensor-core kernel for float32 only: mma.sync before Hopper, warpgroup products on it", () => {
    const x = ma.array(rand(64)).reshape(8, 8);
    const x64 = x.astype('float64');
    const exact = planIn(CUDA_DIALECT, ma.matmul(x, x)).sources[0];
    expect(exact).toContain('ma_cp16(');
    expect(exact).not.toContain('ma_mma_tf32');
    expect(planIn(CUDA_SM90_DIALECT, ma.matmul(x, x)).sources[0]).toBe(exact); // exact float32 is the same kernel on Hopper
    ma.setMatmulPrecision('tf32');
    try {
      expect(planIn(CUDA_DIALECT, ma.matmul(x, x)).sources[0]).toContain('ma_mma_tf32(');
      const hopper = planIn(CUDA_SM90_DIALECT, ma.matmul(x, x).add(1));
      expect(hopper.sources).toHaveLength(1); // the epilogue stays fused
      expect(hopper.sources[0]).toContain('ma_wgmma_tf32(d, af[j], ma_wg_desc(');
      // A copying warpgroup feeds the two multiplying ones through mbarriers, and hands them registers.
      expect(hopper.sources[0]).toMatch(/ma_wg_shrink\(\);.*ma_mb_arrive_copies\(filled.*ma_wg_grow\(\);.*ma_mb_wait\(filled.*ma_mb_arrive\(emptied/s);
      expect(hopper.sources[0]).not.toContain('ma_mma_tf32');
      // 256×128 tiles of 384 threads; four stages of A (32 KiB) and B (16 KiB) with two mbarriers each, plus the alignment slack.
      expect(Array.from(hopper.commands.slice(-9, -3))).toEqual([1, 1, 1, 384, 1, 1]);
      expect(hopper.commands.at(-3)).toBe(4 * (32768 + 16384 + 16) + 1024);
      for (const d of [CUDA_DIALECT, CUDA_SM90_DIALECT]) expect(planIn(d, ma.matmul(x64, x64)).sources.at(-1)).not.toMatch(/ma_w?g?mma/);
    } finally {
      ma.setMatmulPrecision('highest');
    }
    expect(() => ma.setMatmulPrecision('fast' as never)).toThrow(ma.ArgumentError);
    // The dialect follows the device: warpgroup products need sm_90a, which NVRTC must be asked for.
    expect(cudaDialectFor(9, 0)).toEqual({ dialect: CUDA_SM90_DIALECT, arch: 'sm_90a' });
    expect(cudaDialectFor(8, 0)).toEqual({ dialect: CUDA_DIALECT, arch: 'sm_80' });
    expect(cudaDialectFor(10, 0)).toEqual({ dialect: CUDA_DIALECT, arch: 'sm_100' });
  });

  it('kernels with thousands of constants take their args through a pointer', () => {
    // 600 one-element slices of one buffer, joined: one kernel, an offset and bounds per piece.
    const x = ma.array(rand(600));
    const y = ma.concatenate(Array.from({ length: 600 }, (_, i) => x.slice(ma.range(i, i + 1)))).multiply(2);
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
