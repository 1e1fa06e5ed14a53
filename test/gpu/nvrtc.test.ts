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
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { loadNative, type NativeAddon } from '../../src/runtime/native.js';
import { cudaProgramText } from '../../src/runtime/cuda/backend.js';
import { CUDA_TARGETS, CudaPlanner, cudaSourcesFor } from '../support/cuda-planner.js';
import { compileAll, type NvrtcJobResult, nvrtcUnavailableReason, requireNvrtcCheck } from '../support/nvrtc.js';
import { batchableKernelName, batchProgramText, planBatches } from '../support/nvrtc-batch.js';
import {
  kernelFamily,
  needsPtxas,
  type NvrtcPlanOptions,
  planNvrtcCheck,
  ptxStaticSharedBytes,
  readCollected,
  STATIC_SHARED_LIMIT,
  virtualArch,
} from '../support/nvrtc-plan.js';

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

describe('what the collected check compiles to PTX and what to a cubin (test/support/nvrtc-plan.ts)', () => {
  const plain = (i: number) => tinyKernel(`k_p${i}`, `b0[threadIdx.x] = ${i}.0f;`);
  const reduction = (i: number) => tinyKernel(`k_r${i}`, `__shared__ float sh[32]; sh[threadIdx.x & 31] = ${i}.0f; __syncthreads(); b0[0] = sh[0];`);

  it('a text rendered for both targets compiles once; inline PTX always builds a cubin; every family builds some; the sample is stable', () => {
    const kernels = [
      ...Array.from({ length: 400 }, (_, i) => ({ file: `sm_80/p${i}.cu`, source: plain(i), arch: 'sm_80' })),
      ...Array.from({ length: 40 }, (_, i) => ({ file: `sm_80/r${i}.cu`, source: reduction(i), arch: 'sm_80' })),
      { file: 'sm_80/asm.cu', source: tinyKernel('k_asm', 'asm volatile("membar.gl;");'), arch: 'sm_80' },
      // Hopper's copies of the same texts, and one of its own.
      ...Array.from({ length: 400 }, (_, i) => ({ file: `sm_90a/p${i}.cu`, source: plain(i), arch: 'sm_90a' })),
      { file: 'sm_90a/own.cu', source: plain(1000), arch: 'sm_90a' },
    ];
    const plan = planNvrtcCheck(kernels, { cubinPerFamily: 3, cubinEvery: 10, otherArchCubinsPerFamily: 2 });
    expect(plan.distinct).toBe(442);
    expect(plan.jobs.length).toBe(442 + 2);
    // Hopper's own kernel, and two of the texts it shares with sm_80 (one family): cubins for sm_90a.
    const hopper = plan.jobs.filter((j) => j.file.startsWith('sm_90a/'));
    expect(hopper.length).toBe(3);
    expect(hopper).toContainEqual({ file: 'sm_90a/own.cu', arch: 'sm_90a' });
    expect(hopper.every((j) => j.arch === 'sm_90a')).toBe(true);
    expect(plan.cubin.otherArch).toBe(2);
    expect(plan.jobs.find((j) => j.file === 'sm_80/asm.cu')?.arch).toBe('sm_80');
    expect(plan.cubin.ptxasOnly).toBe(1);
    // Families: plain (the asm kernel's too) and reduction kernels for sm_80, Hopper's own kernel.
    expect(kernelFamily(plain(1))).not.toBe(kernelFamily(reduction(1)));
    expect(plan.families).toBe(3);
    expect(plan.jobs.filter((j) => j.file.startsWith('sm_80/r') && j.arch === 'sm_80').length).toBeGreaterThanOrEqual(3);
    // About one in ten of the rest builds a cubin; the rest stop at PTX.
    const cubins = plan.jobs.filter((j) => j.arch.startsWith('sm_')).length;
    expect(cubins).toBe(plan.cubin.ptxasOnly + plan.cubin.family + plan.cubin.sampled + plan.cubin.otherArch);
    expect(plan.cubin.sampled).toBeGreaterThan(20);
    expect(plan.cubin.sampled).toBeLessThan(70);
    expect(plan.ptx).toBe(444 - cubins);
    expect(plan.jobs.filter((j) => j.arch === 'compute_80').length).toBe(plan.ptx);
    // The same kernels in another order (the targets' order kept: the first renders a shared text): the same decisions.
    const sm80First = [...kernels.filter((k) => k.arch === 'sm_80').reverse(), ...kernels.filter((k) => k.arch !== 'sm_80')];
    const again = planNvrtcCheck(sm80First, { cubinPerFamily: 3, cubinEvery: 10, otherArchCubinsPerFamily: 2 });
    const decisions = (p: typeof plan) => new Map(p.jobs.map((j) => [j.file, j.arch]));
    expect(decisions(again)).toEqual(decisions(plan));
    // Everything for every target, every kernel a cubin: the full check.
    const full = planNvrtcCheck(kernels, { allArchs: true, cubinEvery: 1 });
    expect(full.jobs.length).toBe(842);
    expect(full.jobs.every((j) => j.arch.startsWith('sm_'))).toBe(true);
    expect(() => planNvrtcCheck(kernels, { cubinEvery: 0 })).toThrow(/cubinEvery/);
  });

  it('names the constructs only ptxas reads, and the virtual arch of a real one', () => {
    expect(needsPtxas(tinyKernel('k', 'asm volatile("membar.gl;");'))).toBe(true);
    expect(needsPtxas('wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32')).toBe(true);
    expect(needsPtxas(plain(1))).toBe(false);
    expect(virtualArch('sm_80')).toBe('compute_80');
    expect(virtualArch('sm_90a')).toBe('compute_90a');
    expect(() => virtualArch('compute_80')).toThrow(/not a real CUDA architecture/);
  });

  it('reads the static shared memory a PTX module declares; an unknown form is not guessed', () => {
    const ptx = [
      '.visible .entry k_a(',
      '\t.shared .align 16 .b8 _ZZ3k_aE2sm[52000];',
      '\t.shared .align 4 .u32 _ZZ3k_aE1n;',
      '.extern .shared .align 16 .b8 dyn[];',
      '\tst.shared.u32 \t[%rd5], %r2;',
      '\t.shared .align 8 .b64 _ZZ3k_bE2sh[3];',
    ].join('\n');
    expect(ptxStaticSharedBytes(ptx)).toBe(52000 + 4 + 24);
    expect(ptxStaticSharedBytes('\t.shared .align 4 .v4.b32 odd[2];')).toBeUndefined();
    expect(ptxStaticSharedBytes('.visible .entry k(\n)\n{\n\tret;\n}')).toBe(0);
    expect(STATIC_SHARED_LIMIT).toBe(49152);
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

  it(
    'the collected check fails on a broken kernel: a C++ error at PTX, and what only ptxas rejects (bad inline PTX, too much shared memory)',
    { timeout: 300_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'metalarray-nvrtc-collected-'));
      const kernels: Record<string, string> = {};
      for (let i = 0; i < 40; i++) kernels[`k_good${i}`] = tinyKernel(`k_good${i}`, `b0[threadIdx.x] = ${i}.0f * (float)a.w[0];`);
      kernels.k_syntax = tinyKernel('k_syntax', 'b0[threadIdx.x] = 1.0f'); // no semicolon
      kernels.k_badasm = tinyKernel('k_badasm', 'asm volatile("bogus.op.f32 %0;" :: "f"(b0[0]));');
      kernels.k_bigshared = tinyKernel(
        'k_bigshared',
        '__shared__ __align__(16) float sm[13000]; sm[threadIdx.x] = 1.0f; __syncthreads(); b0[threadIdx.x] = sm[255 - threadIdx.x];',
      );
      mkdirSync(join(dir, 'sm_80'));
      for (const [name, source] of Object.entries(kernels)) writeFileSync(join(dir, 'sm_80', `${name}.cu`), source);
      // No family firsts and no sample: everything that can stops at PTX.
      const plan = planNvrtcCheck(readCollected(dir, ['sm_80', 'sm_90a']), { cubinPerFamily: 0, cubinEvery: 1_000_000_007 });
      const archOf = (name: string) => plan.jobs.find((j) => j.file.endsWith(`/${name}.cu`))?.arch;
      expect(archOf('k_syntax')).toBe('compute_80');
      expect(archOf('k_bigshared')).toBe('compute_80');
      expect(archOf('k_badasm')).toBe('sm_80');
      // Both ptxas-only faults pass NVRTC's front end: PTX alone would let them through.
      const native = loadNative() as NativeAddon;
      for (const name of ['k_badasm', 'k_bigshared']) expect(native.cudaCheckCompile(name, cudaProgramText(kernels[name]), 'compute_80').ok).toBe(true);
      const results = await compileAll(plan.jobs, 1);
      const failed = results.filter((r) => !r.ok);
      expect(failed.map((r) => r.file.split('/').pop()).sort()).toEqual(['k_badasm.cu', 'k_bigshared.cu', 'k_syntax.cu']);
      const byName = (name: string) => failed.find((r) => r.file.endsWith(`/${name}.cu`)) as NvrtcJobResult;
      expect(byName('k_syntax').arch).toBe('compute_80');
      expect(byName('k_syntax').log).toMatch(/expected a ";"/);
      // The shared-memory kernel was sent on to ptxas, which names the limit.
      expect(byName('k_bigshared').arch).toBe('sm_80');
      expect(byName('k_bigshared').log).toMatch(/too much shared data/);
      expect(byName('k_badasm').log).toMatch(/bogus/);
    },
  );

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

/** The plan options of the collected check, from the environment (.ci/run leaves the defaults). */
function collectedPlanOptions(): NvrtcPlanOptions {
  const every = process.env.MA_NVRTC_CUBIN_EVERY;
  return { allArchs: process.env.MA_NVRTC_ALL_ARCHS === '1', ...(every ? { cubinEvery: Number(every) } : {}) };
}

const collected = process.env.MA_NVRTC_CHECK_DIR;
if (collected) {
  describe('every CUDA kernel the suites generated compiles with NVRTC', () => {
    it(`the kernels collected in ${collected}`, { timeout: 1_800_000 }, async () => {
      expect(why).toBe('');
      // Each distinct text once (the sm_80 dialect's first; Hopper's own wgmma kernels for
      // sm_90a), to PTX, and a cubin (ptxas) for what only ptxas checks and a sample of
      // every family (test/support/nvrtc-plan.ts). MA_NVRTC_ALL_ARCHS=1: every text for
      // every target; MA_NVRTC_CUBIN_EVERY=1: every kernel builds a cubin (about 1.8× the time).
      const kernels = readCollected(
        collected,
        CUDA_TARGETS.map((t) => t.arch),
      );
      const plan = planNvrtcCheck(kernels, collectedPlanOptions());
      expect(plan.jobs.length).toBeGreaterThan(0);
      const t0 = performance.now();
      const results: NvrtcJobResult[] = await compileAll(plan.jobs);
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      const refusedDir = join(collected, 'refused');
      const refused = existsSync(refusedDir) ? readdirSync(refusedDir).length : 0;
      const byArch = new Map<string, number>();
      for (const r of results) byArch.set(r.arch, (byArch.get(r.arch) ?? 0) + 1);
      const perArch = [...byArch].map(([arch, n]) => `${n} ${arch}`).join(', ');
      const { ptxasOnly, family, sampled, otherArch } = plan.cubin;
      console.log(
        `NVRTC check: ${kernels.length} collected kernels, ${plan.distinct} distinct texts, ${results.length} compiled in ${seconds} s (${perArch}; cubins: ${ptxasOnly} with inline PTX, ${family} firsts of ${plan.families} families, ${sampled} sampled, ${otherArch} shared texts for a later target, plus any whose PTX declares over 48 KiB of shared memory); ${refused} graph kinds the CUDA renderer refuses (${refusedDir})`,
      );
      expect(results.length).toBe(plan.jobs.length);
      const failures = results.filter((r) => !r.ok).map((r) => failureReport(r, r.file, readFileSync(r.file, 'utf8')));
      expect(failures.join('\n\n')).toBe('');
    });
  });
}
