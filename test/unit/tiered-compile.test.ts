/**
 * The cpu backend's tiered compile: kernels first built at -O0 (GCC: against a
 * precompiled prelude header) run at once, their -O3
 * build replaces them in place (KernelRegistry::Replace, an atomic pointer swap per id),
 * and both give the same bits (IEEE semantics at every level: no fast-math, no FMA
 * contraction).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
afterAll(() => rmSync(root, { recursive: true, force: true }));

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

/** Runs PROGRAM in a fresh process; with `waitForUpgrade`, again after the -O3 swap. */
function runProgram(env: Record<string, string>, waitForUpgrade: boolean): { bits: number[]; upgraded: number; after?: number[]; compiled: number } {
  const file = join(root, `probe-${Math.random().toString(36).slice(2)}.ts`);
  const src = join(process.cwd(), 'src');
  writeFileSync(
    file,
    `import * as ma from ${JSON.stringify(join(src, 'index.ts'))};
     import { backendFor } from ${JSON.stringify(join(src, 'runtime/registry.ts'))};
     ${PROGRAM}
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
    env: { ...process.env, METALARRAY_BACKEND: 'cpu', ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  rmSync(file, { force: true });
  if (r.status !== 0) throw new Error(`child failed (status ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('tiered compile', () => {
  it('-O1 and -O3 builds give bit-identical results', () => {
    const fast = runProgram({ METALARRAY_COMPILE: 'fast', METALARRAY_CACHE_DIR: join(root, 'fast') }, false);
    const full = runProgram({ METALARRAY_COMPILE: 'full', METALARRAY_CACHE_DIR: join(root, 'full') }, false);
    expect(fast.compiled).toBeGreaterThan(0);
    expect(fast.bits.length).toBeGreaterThan(10_000);
    expect(fast.bits).toEqual(full.bits);
  }, 300_000);

  it('a synchronous loop switches from the -O0 code to the -O3 code of the background build; results keep their bits', () => {
    const dir = join(root, 'tiered');
    const tiered = runProgram({ METALARRAY_COMPILE: 'tiered', METALARRAY_CACHE_DIR: dir }, true);
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
    expect(tiered.compiled).toBe(0); // every kernel came from the cache...
    expect(tiered.upgraded).toBe(fast.compiled); // ...and each was switched to its -O3 build
    expect(tiered.after).toEqual(fast.bits);
    const cpu = join(dir, 'cpu');
    for (const f of readdirSync(cpu).filter((f) => f.endsWith('.json'))) {
      expect((JSON.parse(readFileSync(join(cpu, f), 'utf8')) as { opt: number }).opt).toBe(3);
    }
  }, 300_000);
});
