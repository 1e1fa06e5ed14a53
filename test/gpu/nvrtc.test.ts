/**
 * CUDA kernels compiled with NVRTC on a machine without a GPU, with the CUDA runtime's
 * own loader and options (native/cuda/nvrtc_compile.cc) for sm_80 and sm_90a (Hopper,
 * wgmma). NVRTC comes from the nvidia-cuda-nvrtc wheel .ci/run installs under
 * .cache/nvrtc (or METALARRAY_NVRTC_LIBRARY). Where it is absent the tests skip with the
 * reason; under REQUIRE_NVRTC_CHECK=1 (set by .ci/run) that is a failure instead.
 *
 * With MA_NVRTC_CHECK_DIR=<dir> this file also compiles every kernel collected there by
 * a suite run under MA_COLLECT_CUDA=<dir> (test/support/collect-cuda.ts); .ci/run does
 * that after the suite.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { loadNative, type NativeAddon } from '../../src/runtime/native.js';
import { cudaProgramText } from '../../src/runtime/cuda/backend.js';
import { CUDA_TARGETS, CudaPlanner, cudaSourcesFor } from '../support/cuda-planner.js';
import { compileAll, type NvrtcJob, type NvrtcJobResult, nvrtcUnavailableReason, requireNvrtcCheck } from '../support/nvrtc.js';
import { batchableKernelName, batchProgramText, planBatches } from '../support/nvrtc-batch.js';

const why = nvrtcUnavailableReason();
const skip = why !== '' && !requireNvrtcCheck;

describe('NVRTC for the compile-only CUDA checks', () => {
  it.skipIf(skip)(`NVRTC loads without a driver or a device${why ? ` (skipped: ${why})` : ''}`, () => {
    expect(why).toBe('');
    expect((loadNative() as NativeAddon).cudaNvrtcProbe()).toBe('');
  });
});

/** Compiles one rendered kernel for `arch` in this process. */
function compile(name: string, source: string, arch: string): ReturnType<NativeAddon['cudaCheckCompile']> {
  return (loadNative() as NativeAddon).cudaCheckCompile(name, cudaProgramText(source), arch);
}

function failureReport(r: { arch: string; error: string; log: string }, name: string, source: string): string {
  return `kernel ${name} failed to compile for ${r.arch} (${r.error}):\n${r.log}\n--- source ---\n${source}`;
}

/** A small hand-written kernel in the renderer's form; `body` goes inside it. */
function tinyKernel(name: string, body: string): string {
  return `extern "C" __global__ void __launch_bounds__(256) ${name}(float *__restrict__ b0, uint8_t *__restrict__ scratch, const MaArgs<1> a) {\n  ${body}\n}`;
}

describe('many kernels per NVRTC program (test/support/nvrtc-batch.ts)', () => {
  it('only self-contained kernels share a program; dynamic shared arrays of other types and repeated names never do', () => {
    const plain = tinyKernel('k_plain', 'b0[threadIdx.x] = 1.0f;');
    // Braces inside a string, a character and a comment do not end the kernel early.
    const asm = tinyKernel('k_asm', 'asm volatile("{ .reg .b32 r; }" ::: "memory"); char c = \'}\'; /* } */ b0[0] = (float)c;');
    expect(batchableKernelName(plain)).toBe('k_plain');
    expect(batchableKernelName(asm)).toBe('k_asm');
    // A preprocessor line would reach the kernels after it; a second definition is not one kernel.
    expect(batchableKernelName(tinyKernel('k_def', '#define ONE 1.0f\n  b0[0] = ONE;'))).toBeUndefined();
    expect(batchableKernelName(`${plain}\n__device__ float helper() { return 1.0f; }`)).toBeUndefined();
    expect(batchableKernelName(`__device__ float helper() { return 1.0f; }\n${plain}`)).toBeUndefined();

    const dynF = tinyKernel('k_dynf', 'extern __shared__ __align__(16) float sm[]; sm[0] = 1.0f; b0[0] = sm[0];');
    const dynD = tinyKernel('k_dynd', 'extern __shared__ __align__(16) double sm[]; sm[0] = 1.0; b0[0] = (float)sm[0];');
    const sources = [plain, asm, dynF, dynD, tinyKernel('k_def', '#define ONE 1.0f\n  b0[0] = ONE;'), plain, plain];
    const jobs = sources.map((_, i) => ({ file: `${i}.cu`, arch: i === 6 ? 'sm_90a' : 'sm_80' }));
    const batches = planBatches(jobs, sources, 64);
    expect(batches.flat().sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const together = (i: number, j: number) => batches.some((b) => b.includes(i) && b.includes(j));
    expect(together(0, 1)).toBe(true);
    expect(together(2, 3)).toBe(false); // float and double `sm`: one symbol per program
    expect(batches).toContainEqual([4]); // the #define
    expect(together(0, 5)).toBe(false); // the same name twice
    expect(together(0, 6)).toBe(false); // another arch
    expect(planBatches(jobs, sources, 2).every((b) => b.length <= 2)).toBe(true);
  });
});

describe.skipIf(skip)('CUDA kernels compile with NVRTC', () => {
  it('a library kernel compiles to a cubin; the same kernel with an undeclared value is rejected with the log', () => {
    const x = ma.array([1, 2, 3], 'float32');
    const [k] = cudaSourcesFor([ma.sum(ma.exp(x))], new CudaPlanner(CUDA_TARGETS[0].dialect));
    const good = compile(k.name, k.source, 'sm_80');
    expect(good.ok).toBe(true);
    expect(good.cubinBytes).toBeGreaterThan(0);
    expect(good.nvrtc).toMatch(/^\d+\.\d+$/);
    // What the fusion bug of issue 14 renders: a use of a value that is never declared.
    const broken = k.source.replace(/\{/, '{ float ma_probe = v9999;');
    const bad = compile(k.name, broken, 'sm_80');
    expect(bad.ok).toBe(false);
    expect(bad.error).toBe('NVRTC_ERROR_COMPILATION');
    expect(bad.log).toContain('"v9999" is undefined');
  });

  it('a batch that fails is compiled kernel by kernel: only the broken kernel fails, named, with its log', { timeout: 120_000 }, async () => {
    // The reason batches keep dynamic shared arrays apart: NVRTC rejects one name with two types in a program.
    const dynF = tinyKernel('k_dynf', 'extern __shared__ __align__(16) float sm[]; sm[0] = 1.0f; b0[0] = sm[0];');
    const dynD = tinyKernel('k_dynd', 'extern __shared__ __align__(16) double sm[]; sm[0] = 1.0; b0[0] = (float)sm[0];');
    const native = loadNative() as NativeAddon;
    expect(native.cudaCheckCompile('k_both', batchProgramText([dynF, dynD]), 'sm_80').ok).toBe(false);

    const dir = mkdtempSync(join(tmpdir(), 'metalarray-nvrtc-batch-'));
    const sources = [
      tinyKernel('k_good1', 'b0[threadIdx.x] = 1.0f;'),
      tinyKernel('k_broken', 'b0[threadIdx.x] = v9999;'),
      tinyKernel('k_good2', 'b0[threadIdx.x] = (float)a.w[0];'),
      dynF,
      dynD,
    ];
    const jobs = sources.map((source, i) => {
      const file = join(dir, `k${i}.cu`);
      writeFileSync(file, source);
      return { file, arch: 'sm_80' };
    });
    const results = await compileAll(jobs, 1);
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true, true]);
    expect(results[1].file).toBe(jobs[1].file);
    expect(results[1].log).toContain('"v9999" is undefined');
  });

  it('kernels of every kind compile for sm_80 and sm_90a (wgmma on Hopper)', { timeout: 300_000 }, async () => {
    const rand = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7));
    const a = ma.array(rand(64 * 48)).reshape(64, 48);
    const b = ma.array(rand(48 * 40)).reshape(48, 40);
    const h = ma
      .array(rand(32 * 16))
      .reshape(32, 16)
      .astype('float16');
    const idx = ma.array(Int32Array.from([3, 0, 2]));
    const graphs: ma.MetalArray[][] = [
      [ma.matmul(a, b).relu()],
      [ma.matmul(h, h.transpose([1, 0]))],
      [ma.sum(a, 1), ma.max(a, 0)],
      [ma.softmax(a, -1)],
      [ma.cumsum(a, 1)],
      [ma.take(a, idx, 0).multiply(2)],
      // Issue 14's reductions nested in another's kernel (once an undeclared value).
      [ma.sum(ma.exp(ma.max(ma.expandDims(a, -1), 2)), 1)],
      [ma.sum(ma.sum(ma.broadcastTo(ma.expandDims(a, 0), [4, 64, 48]), 0).exp())],
    ];
    const previous = ma.getMatmulPrecision();
    const jobs: { name: string; source: string; arch: string }[] = [];
    try {
      for (const precision of ['highest', 'tf32'] as const) {
        ma.setMatmulPrecision(precision);
        for (const t of CUDA_TARGETS) {
          const planner = new CudaPlanner(t.dialect);
          for (const g of graphs) for (const k of cudaSourcesFor(g, planner)) jobs.push({ ...k, arch: t.arch });
        }
      }
    } finally {
      ma.setMatmulPrecision(previous);
    }
    const unique = [...new Map(jobs.map((j) => [`${j.arch}/${j.name}`, j])).values()];
    // The Hopper dialect renders the TF32 product with wgmma: that kernel must be among them.
    expect(unique.some((j) => j.arch === 'sm_90a' && j.source.includes('wgmma'))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'metalarray-nvrtc-'));
    const sourceOf = new Map<string, string>();
    const fileJobs = unique.map((j, i) => {
      const file = join(dir, `${i}-${j.name}.cu`);
      writeFileSync(file, j.source);
      sourceOf.set(file, j.source);
      return { file, arch: j.arch };
    });
    const results = await compileAll(fileJobs);
    expect(results.length).toBe(unique.length);
    const failures = results.filter((r) => !r.ok).map((r) => failureReport(r, r.file, sourceOf.get(r.file) ?? ''));
    expect(failures.join('\n\n')).toBe('');
  });
});

const collected = process.env.MA_NVRTC_CHECK_DIR;
if (collected) {
  describe('every CUDA kernel the suites generated compiles with NVRTC', () => {
    it(`the kernels collected in ${collected}`, { timeout: 1_800_000 }, async () => {
      expect(why).toBe('');
      const jobs: NvrtcJob[] = [];
      const byArch = new Map<string, Set<string>>();
      for (const t of CUDA_TARGETS) {
        const dir = join(collected, t.arch);
        byArch.set(t.arch, new Set(existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cu')) : []));
      }
      const sm80 = byArch.get('sm_80') as Set<string>;
      for (const f of sm80) jobs.push({ file: join(collected, 'sm_80', f), arch: 'sm_80' });
      // The same name is the same text (a hash of it). Hopper's own kernels (its dialect
      // renders TF32 products with wgmma) compile for sm_90a; with MA_NVRTC_ALL_ARCHS=1,
      // every kernel does (twice the time).
      const all = process.env.MA_NVRTC_ALL_ARCHS === '1';
      for (const f of byArch.get('sm_90a') as Set<string>) {
        if (all || !sm80.has(f)) jobs.push({ file: join(collected, 'sm_90a', f), arch: 'sm_90a' });
      }
      expect(jobs.length).toBeGreaterThan(0);
      const t0 = performance.now();
      const results: NvrtcJobResult[] = await compileAll(jobs);
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      const refusedDir = join(collected, 'refused');
      const refused = existsSync(refusedDir) ? readdirSync(refusedDir).length : 0;
      console.log(
        `NVRTC check: ${results.length} kernels compiled (${sm80.size} for sm_80, ${results.length - sm80.size} Hopper-only for sm_90a) in ${seconds} s; ${refused} graph kinds the CUDA renderer refuses (${refusedDir})`,
      );
      expect(results.length).toBe(jobs.length);
      const failures = results.filter((r) => !r.ok).map((r) => failureReport(r, r.file, readFileSync(r.file, 'utf8')));
      expect(failures.join('\n\n')).toBe('');
    });
  });
}
