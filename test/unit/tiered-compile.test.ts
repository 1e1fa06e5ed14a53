/**
 * The cpu backend's tiered compile: kernels first built at -O0 (GCC: against a
 * precompiled prelude header) run at once, their -O3
 * build replaces them in place (KernelRegistry::Replace, an atomic pointer swap per id),
 * and both give the same bits (IEEE semantics at every level: no fast-math, no FMA
 * contraction).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative, nativeLoadError, type NativeAddon } from '../../src/runtime/native.js';

function requireAddon(): NativeAddon {
  const addon = loadNative();
  if (!addon) throw nativeLoadError() ?? new Error('native addon unavailable');
  return addon;
}

const root = mkdtempSync(join(tmpdir(), 'ma-tiered-'));
// A child's -O3 builds may still be writing into its cache dir after it exited (they are
// started at exit, by design), so the removal retries while the directory refills.
afterAll(() => rmSync(root, { recursive: true, force: true, maxRetries: 30, retryDelay: 200 }));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return String((err as Error & { code?: unknown }).code);
  }
  throw new Error('expected a throw');
}

/** Builds a shared object whose `ma_scale` multiplies by `factor`. */
function scaleLibrary(name: string, factor: number): string {
  const src = join(root, `${name}.c`);
  const lib = join(root, `${name}.so`);
  writeFileSync(
    src,
    `#include <stdint.h>
void ma_scale(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
  const float *a = (const float *)bufs[0];
  float *out = (float *)bufs[1];
  for (int64_t i = start; i < end; ++i) out[i] = a[i] * ${factor}.0f;
  (void)args;
}
`,
  );
  execFileSync(process.env.CC || 'cc', ['-O1', '-shared', '-fPIC', '-o', lib, src]);
  return lib;
}

describe('replacing a loaded kernel (native)', () => {
  const addon = requireAddon();

  function runScale(id: number): number[] {
    const n = 8;
    const a = addon.alloc(n * 4);
    const out = addon.alloc(n * 4);
    try {
      addon.write(
        a,
        0,
        new Float32Array(n).map((_, i) => i),
      );
      addon.runPlan(new Int32Array([id, 0, 2, a, out]), new BigInt64Array([BigInt(n), 4n]));
      const result = new Float32Array(n);
      addon.read(out, 0, result);
      return Array.from(result);
    } finally {
      addon.free(a);
      addon.free(out);
    }
  }

  it('points an id at the new code; bad ids, count mismatches and missing symbols change nothing', () => {
    const [id] = addon.loadKernels(scaleLibrary('double', 2), ['ma_scale']);
    expect(runScale(id)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    addon.replaceKernels(scaleLibrary('triple', 3), ['ma_scale'], [id]);
    expect(runScale(id)).toEqual([0, 3, 6, 9, 12, 15, 18, 21]);
    const quad = scaleLibrary('quad', 4);
    expect(codeOf(() => addon.replaceKernels(quad, ['ma_scale'], [1 << 30]))).toBe('ERR_MA_BAD_ARGUMENT');
    expect(codeOf(() => addon.replaceKernels(quad, ['ma_scale'], [-1]))).toBe('ERR_MA_BAD_ARGUMENT');
    expect(codeOf(() => addon.replaceKernels(quad, ['ma_scale', 'ma_scale'], [id]))).toBe('ERR_MA_BAD_ARGUMENT');
    expect(codeOf(() => addon.replaceKernels(quad, ['missing'], [id]))).toBe('ERR_MA_DLOPEN');
    expect(codeOf(() => addon.replaceKernels(join(root, 'none.so'), ['ma_scale'], [id]))).toBe('ERR_MA_DLOPEN');
    expect(runScale(id)).toEqual([0, 3, 6, 9, 12, 15, 18, 21]);
  });
});

/**
 * Math-heavy kernels whose bits are compared across builds: transcendental functions of
 * the prelude, division, integer ops, casts, a reduction and a scan.
 */
const PROGRAM = `
function compute() {
  const x = ma.linspace(-6, 6, 4099, true, 'float32');
  const d = ma.linspace(-3, 40, 1031, true, 'float64');
  const parts = [
    ma.tanh(x).multiply(ma.exp(x.multiply(0.3))).add(ma.sin(x).divide(ma.cos(x).add(2.5))),
    ma.erf(x).subtract(ma.log1p(ma.abs(x))).multiply(ma.sqrt(ma.abs(x).add(1))),
    ma.sigmoid(x.multiply(1.7)).add(ma.power(ma.abs(x).add(0.5), 1.3)),
    ma.exp(d.multiply(0.7)).add(ma.log(d.add(4))).divide(ma.cosh(d.multiply(0.05))).astype('float32'),
    x.astype('int32').multiply(37).add(11).astype('float32'),
    ma.sum(ma.exp(x.multiply(0.5)).reshape([4099, 1]), 1),
    ma.cumsum(ma.sin(x)),
  ];
  const bits = [];
  for (const p of parts) bits.push(...new Uint32Array(new Float32Array(p.toTypedArray()).buffer));
  return bits;
}
`;

interface ProgramRun {
  bits: number[];
  upgraded: number;
  after?: number[];
  compiled: number;
  /** The first tiers that compiled its batches ('tcc', '-O0', ...; METALARRAY_DEBUG=1's log), distinct, sorted. */
  tiers: string[];
  stderr: string;
}

/**
 * More of the generated code (the generated matmul with its unroll pragmas and FMA,
 * float16 and bfloat16 rounding, sort, integer casts and division, random bits), for
 * the TinyCC tier's bits.
 */
const WIDE_PROGRAM = `
function compute() {
  ma.setCpuMatmul('generated');
  const [k1, k2, k3] = ma.split(ma.random.split(ma.random.key(7), 3), 3, 0).map((k) => k.reshape([2]));
  const a = ma.random.normal(k1, [64, 48]);
  const b = ma.random.uniform(k2, [48, 40], 'float32', -2, 2);
  const i = ma.random.randint(k3, [1000], -500, 500);
  const parts = [
    a, b, i,
    ma.matmul(a, b),
    ma.matmul(a.astype('float64'), b.astype('float64')),
    ma.softmax(a, -1),
    ma.sort(a, -1), ma.argsort(a, -1),
    a.astype('float16').multiply(1.37).add(0.1),
    ma.exp(a.astype('bfloat16')),
    ma.floor(a.multiply(7.3)), ma.round(a.multiply(3.3)),
    i.floorDivide(7), ma.remainder(i, 13), i.astype('uint8'),
    a.multiply(1e10).astype('int64'),
    ma.log(ma.abs(a).add(1e-3)), ma.arctan2(a, 1.5),
    ma.cumsum(a, 1), ma.max(a, 0), ma.argmax(a, 1), ma.mean(a.astype('float64'), 1),
  ];
  const bits = [];
  for (const p of parts) bits.push(...new Uint32Array(new Float32Array(p.astype('float32').toTypedArray()).buffer));
  return bits;
}
`;

/** Runs `program` (PROGRAM by default) in a fresh process; with `waitForUpgrade`, again after the -O3 swap. */
function runProgram(env: Record<string, string>, waitForUpgrade: boolean, program = PROGRAM): ProgramRun {
  const file = join(root, `probe-${Math.random().toString(36).slice(2)}.ts`);
  const src = join(process.cwd(), 'src');
  writeFileSync(
    file,
    `import * as ma from ${JSON.stringify(join(src, 'index.ts'))};
     import { backendFor } from ${JSON.stringify(join(src, 'runtime/registry.ts'))};
     ${program}
     const out = { bits: compute(), compiled: ma.metrics().kernelsCompiled, upgraded: 0 };
     if (${waitForUpgrade}) {
       // A synchronous wait: the swap must not need the event loop to turn.
       const backend = backendFor('cpu');
       const t0 = Date.now();
       while (backend.fullBuildsPending() && Date.now() - t0 < 150000) { const s = Date.now(); while (Date.now() - s < 20); }
       out.after = compute();
       out.upgraded = ma.metrics().kernelsUpgraded;
     }
     process.stdout.write(JSON.stringify(out));`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, METALARRAY_BACKEND: 'cpu', METALARRAY_DEBUG: '1', ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  rmSync(file, { force: true });
  if (r.status !== 0) throw new Error(`child failed (status ${r.status}): ${r.stderr}`);
  const tiers = [...new Set([...r.stderr.matchAll(/compiled \d+ kernel\(s\) \(cpu, ([^)]+)\)/g)].map((m) => m[1]))].sort();
  return { ...JSON.parse(r.stdout), tiers, stderr: r.stderr };
}

const fullRuns = new Map<string, ProgramRun>();
/** A program's bits from -O3 builds (the reference every tier must match), run once. */
function fullBits(program = PROGRAM): number[] {
  let run = fullRuns.get(program);
  if (!run) {
    run = runProgram({ METALARRAY_COMPILE: 'full', METALARRAY_CACHE_DIR: join(root, `full-${fullRuns.size}`) }, false, program);
    fullRuns.set(program, run);
  }
  return run.bits;
}

describe('tiered compile', () => {
  it('-O1 and -O3 builds give bit-identical results', () => {
    const fast = runProgram({ METALARRAY_COMPILE: 'fast', METALARRAY_CACHE_DIR: join(root, 'fast') }, false);
    expect(fast.compiled).toBeGreaterThan(0);
    expect(fast.bits.length).toBeGreaterThan(10_000);
    expect(fast.bits).toEqual(fullBits());
  }, 300_000);

  it('a synchronous loop switches from the -O0 code to the -O3 code of the background build; results keep their bits', () => {
    const dir = join(root, 'tiered');
    // TinyCC off: GCC's -O0 tier and its precompiled prelude (the fallback without tcc).
    const tiered = runProgram({ METALARRAY_COMPILE: 'tiered', METALARRAY_CACHE_DIR: dir, METALARRAY_TCC: '0' }, true);
    expect(tiered.tiers).toEqual(['-O0']);
    expect(tiered.upgraded).toBe(tiered.compiled);
    expect(tiered.after).toEqual(tiered.bits);
    // The cache keeps only the -O3 builds: every entry says so, no -O1 object is left.
    const cpu = join(dir, 'cpu');
    const entries = readdirSync(cpu).filter((f) => f.endsWith('.json'));
    expect(entries.length).toBe(tiered.compiled);
    const objects = new Set(entries.map((f) => (JSON.parse(readFileSync(join(cpu, f), 'utf8')) as { object: string; opt: number }).object));
    for (const f of entries) expect((JSON.parse(readFileSync(join(cpu, f), 'utf8')) as { opt: number }).opt).toBe(3);
    expect(
      readdirSync(cpu)
        .filter((f) => f.endsWith('.so'))
        .sort(),
    ).toEqual([...objects].sort());
    expect(readdirSync(cpu).filter((f) => f.includes('.tmp'))).toEqual([]);
    // GCC: the prelude's precompiled header, built in the background beside its header.
    if (/Free Software Foundation/.test(spawnSync(process.env.CC || 'cc', ['--version'], { encoding: 'utf8' }).stdout ?? '')) {
      const t0 = Date.now();
      const gch = () => readdirSync(cpu).filter((f) => /^prelude_[0-9a-f]+\.h\.gch$/.test(f));
      while (gch().length === 0 && Date.now() - t0 < 60_000) spawnSync('sleep', ['0.2']);
      expect(gch().length).toBe(1);
      expect(readdirSync(cpu)).toContain(gch()[0].slice(0, -'.gch'.length));
    }
  }, 300_000);

  it('kernels found on disk at -O1 (a process that exited before its rebuild) are rebuilt and swapped', () => {
    const dir = join(root, 'leftover');
    const fast = runProgram({ METALARRAY_COMPILE: 'fast', METALARRAY_CACHE_DIR: dir }, false);
    const tiered = runProgram({ METALARRAY_COMPILE: 'tiered', METALARRAY_CACHE_DIR: dir }, true);
    expect(tiered.tiers).toEqual([]);
    expect(tiered.compiled).toBe(0); // every kernel came from the cache...
    expect(tiered.upgraded).toBe(fast.compiled); // ...and each was switched to its -O3 build
    expect(tiered.after).toEqual(fast.bits);
    const cpu = join(dir, 'cpu');
    for (const f of readdirSync(cpu).filter((f) => f.endsWith('.json'))) {
      expect((JSON.parse(readFileSync(join(cpu, f), 'utf8')) as { opt: number }).opt).toBe(3);
    }
  }, 300_000);
});

/** Whether `tcc` is on PATH (CI installs it; elsewhere its tests are skipped, and say so). */
const hasTcc = spawnSync('tcc', ['-v'], { encoding: 'utf8' }).status === 0;
if (!hasTcc && !process.env.CI) console.warn('tiered-compile.test: no `tcc` on PATH, the TinyCC first-tier tests are skipped (apt-get install tcc)');

/** A stand-in for tcc: a shell script with the given body. */
function fakeTcc(name: string, body: string): string {
  const path = join(root, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

describe('TinyCC first tier', () => {
  it.skipIf(!hasTcc && !process.env.CI)(
    'builds the first tier with the same bits as -O3, then switches to the -O3 build',
    () => {
      const dir = join(root, 'tcc');
      const run = runProgram({ METALARRAY_COMPILE: 'tiered', METALARRAY_CACHE_DIR: dir }, true);
      expect(run.tiers).toEqual(['tcc']);
      expect(run.compiled).toBeGreaterThan(0);
      expect(run.bits).toEqual(fullBits());
      expect(run.upgraded).toBe(run.compiled);
      expect(run.after).toEqual(run.bits);
      const cpu = join(dir, 'cpu');
      const entries = readdirSync(cpu).filter((f) => f.endsWith('.json'));
      expect(entries.length).toBe(run.compiled);
      for (const f of entries) {
        const entry = JSON.parse(readFileSync(join(cpu, f), 'utf8')) as { opt: number; builder: string };
        expect(entry.opt).toBe(3);
        expect(entry.builder.startsWith('tcc-')).toBe(false);
      }
      // No GCC -O0 compile ran, so no precompiled prelude was started either.
      expect(readdirSync(cpu).filter((f) => f.startsWith('prelude_'))).toEqual([]);

      // The system headers expanded once for tcc (a background build): a process that
      // finds them compiles every batch against them, with the same bits.
      const headers = (): string[] => readdirSync(cpu).filter((f) => /^tcc_headers_[0-9a-f]+\.h$/.test(f));
      const t0 = Date.now();
      while (headers().length === 0 && Date.now() - t0 < 60_000) spawnSync('sleep', ['0.2']);
      expect(headers().length).toBe(1);
      const next = join(root, 'tcc-headers', 'cpu');
      mkdirSync(next, { recursive: true });
      copyFileSync(join(cpu, headers()[0]), join(next, headers()[0]));
      const again = runProgram({ METALARRAY_COMPILE: 'tiered', METALARRAY_CACHE_DIR: join(root, 'tcc-headers') }, false);
      expect(again.stderr).toContain('tcc: system headers expanded once');
      expect(again.tiers).toEqual(['tcc']);
      expect(again.bits).toEqual(fullBits());
    },
    300_000,
  );

  it.skipIf(!hasTcc && !process.env.CI)(
    'tcc code alone (no system compiler, so no -O3 swap) gives the -O3 bits on wider code',
    () => {
      const run = runProgram({ METALARRAY_COMPILE: 'tiered', METALARRAY_CACHE_DIR: join(root, 'tcc-only'), CC: join(root, 'no-such-cc') }, false, WIDE_PROGRAM);
      expect(run.tiers).toEqual(['tcc']);
      expect(run.compiled).toBeGreaterThan(10);
      expect(run.upgraded).toBe(0);
      expect(run.bits.length).toBeGreaterThan(40_000);
      expect(run.bits).toEqual(fullBits(WIDE_PROGRAM));
    },
    300_000,
  );

  it('a process that exits right after its first results still leaves the -O3 builds in the cache', () => {
    const dir = join(root, 'tcc-exit');
    const run = runProgram({ METALARRAY_COMPILE: 'tiered', METALARRAY_CACHE_DIR: dir }, false);
    expect(run.compiled).toBeGreaterThan(0);
    const cpu = join(dir, 'cpu');
    const optimized = (): number =>
      readdirSync(cpu)
        .filter((f) => f.endsWith('.json'))
        .filter((f) => (JSON.parse(readFileSync(join(cpu, f), 'utf8')) as { opt: number }).opt === 3).length;
    const t0 = Date.now();
    while (optimized() < run.compiled && Date.now() - t0 < 120_000) spawnSync('sleep', ['0.2']);
    expect(optimized()).toBe(run.compiled);
    // The background build's `cc --version` answer is remembered beside the kernels.
    const memos = readdirSync(cpu).filter((f) => /^compiler_[0-9a-f]+\.version$/.test(f));
    expect(memos.length).toBe(1);
    const version = (spawnSync(process.env.CC || 'cc', ['--version'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0];
    expect((JSON.parse(readFileSync(join(cpu, memos[0]), 'utf8')) as { version: string }).version).toBe(version);
  }, 300_000);

  it('a tcc that rejects a batch: the system compiler builds it at -O0, same bits', () => {
    const failing = fakeTcc('tcc-rejects', 'echo "error: unsupported construct" >&2; exit 1');
    const run = runProgram({ METALARRAY_COMPILE: 'tiered', METALARRAY_CACHE_DIR: join(root, 'tcc-rejects'), METALARRAY_TCC: failing }, false);
    expect(run.tiers).toEqual(['-O0']);
    expect(run.stderr).toContain('tcc could not compile');
    // Three failures in a row: tcc is broken, not tried again (PROGRAM has 7 batches).
    expect(run.stderr.match(/tcc could not compile/g)?.length).toBe(3);
    expect(run.stderr).toContain('tcc failed 3 batches in a row');
    expect(run.bits).toEqual(fullBits());
  }, 300_000);

  it('a tcc whose object does not load: the batch is rebuilt by the system compiler, same bits', () => {
    const broken = fakeTcc('tcc-broken', 'while [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo "not an ELF object" > "$2"; fi; shift; done; exit 0');
    const run = runProgram({ METALARRAY_COMPILE: 'tiered', METALARRAY_CACHE_DIR: join(root, 'tcc-broken'), METALARRAY_TCC: broken }, false);
    expect(run.tiers).toEqual(['-O0']);
    expect(run.stderr).toContain("loading tcc's build");
    expect(run.bits).toEqual(fullBits());
  }, 300_000);

  it('METALARRAY_TCC naming a missing program warns once and falls back to -O0', () => {
    const run = runProgram({ METALARRAY_COMPILE: 'tiered', METALARRAY_CACHE_DIR: join(root, 'tcc-missing'), METALARRAY_TCC: join(root, 'no-such-tcc') }, false);
    expect(run.tiers).toEqual(['-O0']);
    expect(run.stderr.match(/METALARRAY_TCC=.*no-such-tcc: not found \(or not executable\)/g)?.length).toBe(1);
    expect(run.bits).toEqual(fullBits());
  }, 300_000);
});
