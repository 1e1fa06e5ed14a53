/**
 * Cache and compiler faults, each in a child process with its own environment: a
 * missing C compiler, a compiler that fails, a compiler that writes a broken shared
 * object, corrupt disk-cache entries of other kinds than test/unit/api.test.ts covers
 * (a truncated ELF file, a directory, an object whose code was altered), a cache
 * directory that cannot be created, a read-only warm cache, a cache deleted while the
 * process runs, and a warm cache without a compiler. Each gives a typed error naming
 * the cause, or falls back as DESIGN.md says; none hangs (every child has a time limit).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'ma-faults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const INDEX = join(process.cwd(), 'src/index.ts');

interface Outcome {
  ok: boolean;
  values?: number[];
  error?: { name: string; isLibraryError: boolean; message: string; log?: string; source?: string };
}

const TANH_EXPRESSION = 'ma.tanh(ma.array([1, 2, 3, 4]).multiply(0.25)).add(0.5)';

/**
 * Runs a small program in a child process and returns what it reported, and its stderr.
 * `setup` runs first (its own kernels' values are not reported). `uid` runs it as that
 * user (when the test runs as root, to make a directory truly read-only to it).
 */
function runChild(env: Record<string, string>, expression = TANH_EXPRESSION, setup = '', uid?: number): { outcome: Outcome; stderr: string } {
  const file = join(root, `probe-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(
    file,
    `import * as ma from ${JSON.stringify(INDEX)};
     import * as fs from 'node:fs';
     let out;
     try {
       ${setup}
       const y = ${expression};
       out = { ok: true, values: Array.from(y.toTypedArray()) };
     } catch (e) {
       out = { ok: false, error: { name: e?.name, isLibraryError: e instanceof ma.MetalArrayError, message: String(e?.message), log: e?.log, source: e?.source } };
     }
     process.stdout.write(JSON.stringify(out));`,
  );
  // Faults of the cpu backend's compiler and disk cache, whatever the run's default backend.
  // 'full' by default: a background -O3 build would rewrite the entries these tests inspect.
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, METALARRAY_BACKEND: 'cpu', METALARRAY_COMPILE: 'full', ...env },
    encoding: 'utf8',
    timeout: 90_000,
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  rmSync(file, { force: true });
  if (r.error) throw new Error(`child did not finish: ${r.error.message}`); // a hang shows up here
  if (r.status !== 0) throw new Error(`child crashed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  return { outcome: JSON.parse(r.stdout) as Outcome, stderr: r.stderr };
}

const EXPECTED = [0.25, 0.5, 0.75, 1].map((v) => Math.fround(Math.fround(Math.tanh(v)) + 0.5));

/** A fake compiler: a shell script that answers --version and otherwise runs `body`. */
function fakeCompiler(name: string, body: string): string {
  const path = join(root, name);
  writeFileSync(path, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "fakecc 1.0"; exit 0; fi\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function outputArg(): string {
  // The script finds the -o argument's value.
  return 'out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done';
}

describe('cache and compiler faults', () => {
  it('the child harness computes the right values with a working compiler', () => {
    const { outcome } = runChild({ METALARRAY_CACHE_DIR: join(root, 'ok') });
    expect(outcome.ok).toBe(true);
    expect(outcome.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
  }, 120_000);

  it('CC=/nonexistent: BackendUnavailableError naming the compiler, no hang', () => {
    const { outcome } = runChild({ CC: '/nonexistent', METALARRAY_CACHE_DIR: join(root, 'nocc') });
    expect(outcome.ok).toBe(false);
    expect(outcome.error?.name).toBe('BackendUnavailableError');
    expect(outcome.error?.isLibraryError).toBe(true);
    expect(outcome.error?.message).toMatch(/\/nonexistent/);
    expect(outcome.error?.message).toMatch(/install gcc or clang, or set CC/);
  }, 120_000);

  it('a compiler that fails: CompileError with the compiler log and the source', () => {
    const cc = fakeCompiler('failcc', 'echo "fakecc: error: the disk is on fire" >&2; exit 1');
    const { outcome } = runChild({ CC: cc, METALARRAY_CACHE_DIR: join(root, 'failcc') });
    expect(outcome.ok).toBe(false);
    expect(outcome.error?.name).toBe('CompileError');
    expect(outcome.error?.log).toMatch(/the disk is on fire/);
    expect(outcome.error?.source).toMatch(/void k_[0-9a-f]+\(/);
  }, 120_000);

  it('a compiler that writes a broken shared object: a typed error, not a crash', () => {
    const cc = fakeCompiler('junkcc', `${outputArg()}\necho "not an ELF file" > "$out"; exit 0`);
    const { outcome } = runChild({ CC: cc, METALARRAY_CACHE_DIR: join(root, 'junkcc') });
    expect(outcome.ok).toBe(false);
    expect(outcome.error?.isLibraryError).toBe(true);
    expect(outcome.error?.name).toBe('CompileError');
  }, 120_000);

  it('a truncated object and a directory in place of an object or an entry are rebuilt', () => {
    const dir = join(root, 'corrupt');
    expect(runChild({ METALARRAY_CACHE_DIR: dir }).outcome.ok).toBe(true);
    const cpu = join(dir, 'cpu');
    const objects = readdirSync(cpu).filter((f) => f.startsWith('obj_') && f.endsWith('.so'));
    expect(objects.length).toBeGreaterThan(0);
    // A truncated object: the ELF header is there, the rest is missing.
    for (const f of objects) writeFileSync(join(cpu, f), readFileSync(join(cpu, f)).subarray(0, 256));
    const truncated = runChild({ METALARRAY_CACHE_DIR: dir }).outcome;
    expect(truncated.ok, JSON.stringify(truncated.error)).toBe(true);
    expect(truncated.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
    // A directory where an object should be.
    const rebuilt = readdirSync(cpu).filter((f) => f.startsWith('obj_') && f.endsWith('.so'));
    for (const f of rebuilt) {
      rmSync(join(cpu, f));
      mkdirSync(join(cpu, f));
    }
    const directory = runChild({ METALARRAY_CACHE_DIR: dir }).outcome;
    expect(directory.ok, JSON.stringify(directory.error)).toBe(true);
    expect(directory.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
    // A directory where a kernel's entry should be.
    for (const f of readdirSync(cpu)) rmSync(join(cpu, f), { recursive: true, force: true });
    for (const f of readdirSync(join(dir, 'cpu'))) rmSync(join(cpu, f), { recursive: true, force: true });
    expect(runChild({ METALARRAY_CACHE_DIR: dir }).outcome.ok).toBe(true);
    const entries = readdirSync(cpu).filter((f) => f.startsWith('k_') && f.endsWith('.json'));
    expect(entries.length).toBeGreaterThan(0);
    for (const f of entries) {
      rmSync(join(cpu, f));
      mkdirSync(join(cpu, f));
    }
    const entryDir = runChild({ METALARRAY_CACHE_DIR: dir }).outcome;
    expect(entryDir.ok, JSON.stringify(entryDir.error)).toBe(true);
    expect(entryDir.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
  }, 240_000);

  it('an object whose code was altered (a valid shared object defining the kernel) is rebuilt, never run', () => {
    const dir = join(root, 'altered');
    expect(runChild({ METALARRAY_CACHE_DIR: dir }).outcome.ok).toBe(true);
    const cpu = join(dir, 'cpu');
    const entries = readdirSync(cpu).filter((f) => f.startsWith('k_') && f.endsWith('.json'));
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      const name = e.slice(0, -'.json'.length);
      const { object } = JSON.parse(readFileSync(join(cpu, e), 'utf8')) as { object: string };
      // The same symbol, loadable, but writing 42 everywhere: what a tampered cache serves.
      const src = join(root, `${name}-evil.c`);
      writeFileSync(
        src,
        `#include <stdint.h>\nvoid ${name}(void *const *bufs, const int64_t *args, int64_t start, int64_t end) { float *o = (float *)bufs[0]; for (int64_t i = start; i < end; i++) o[i] = 42.0f; (void)args; }\n`,
      );
      const built = spawnSync(process.env.CC || 'cc', ['-shared', '-fPIC', '-o', join(cpu, object), src], { encoding: 'utf8' });
      expect(built.status, built.stderr).toBe(0);
    }
    const altered = runChild({ METALARRAY_CACHE_DIR: dir }).outcome;
    expect(altered.ok, JSON.stringify(altered.error)).toBe(true);
    expect(altered.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
  }, 180_000);

  it('a cache directory that cannot be created falls back to a private one with one warning', () => {
    const blocker = join(root, 'blocker');
    writeFileSync(blocker, 'a file, not a directory');
    const { outcome, stderr } = runChild({ METALARRAY_CACHE_DIR: join(blocker, 'cache') }, 'ma.array([1, 2]).add(ma.array([3, 4])).multiply(2)');
    expect(outcome.ok).toBe(true);
    expect(outcome.values).toEqual([8, 12]);
    expect(stderr.match(/is not writable; using/g)?.length).toBe(1);
  }, 120_000);

  it('an entry copied from another kernel (a verified object without this symbol) is rebuilt', () => {
    const dir = join(root, 'swapped');
    expect(runChild({ METALARRAY_CACHE_DIR: dir }).outcome.ok).toBe(true);
    const other = join(root, 'other');
    expect(runChild({ METALARRAY_CACHE_DIR: other }, 'ma.array([1, 2]).subtract(ma.array([3, 4]))').outcome.ok).toBe(true);
    const donorEntry = readdirSync(join(other, 'cpu')).find((f) => f.startsWith('k_') && f.endsWith('.json'));
    expect(donorEntry).toBeDefined();
    const donor = JSON.parse(readFileSync(join(other, 'cpu', donorEntry as string), 'utf8')) as { object: string };
    copyFileSync(join(other, 'cpu', donor.object), join(dir, 'cpu', donor.object));
    for (const f of readdirSync(join(dir, 'cpu')).filter((f) => f.startsWith('k_'))) {
      copyFileSync(join(other, 'cpu', donorEntry as string), join(dir, 'cpu', f));
    }
    const swapped = runChild({ METALARRAY_CACHE_DIR: dir }).outcome;
    expect(swapped.ok, JSON.stringify(swapped.error)).toBe(true);
    expect(swapped.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
  }, 180_000);

  it('a read-only warm cache is read; misses go to a private temporary cache removed at exit', () => {
    const dir = join(root, 'readonly');
    expect(runChild({ METALARRAY_CACHE_DIR: dir }).outcome.ok).toBe(true);
    const tmp = join(root, 'readonly-tmp');
    mkdirSync(tmp, { mode: 0o777 });
    chmodSync(tmp, 0o777);
    // Read-only to the child: as root, run it as nobody (root ignores permission bits).
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const uid = asRoot ? 65534 : undefined;
    if (asRoot) chmodSync(root, 0o755); // the child reads its probe file from here
    const lock = (mode: number): void => {
      chmodSync(dir, mode);
      chmodSync(join(dir, 'cpu'), mode);
    };
    lock(0o555);
    try {
      const env = { METALARRAY_CACHE_DIR: dir, TMPDIR: tmp, METALARRAY_DEBUG: '1', HOME: tmp };
      const warm = runChild(env, TANH_EXPRESSION, '', uid);
      expect(warm.outcome.ok, JSON.stringify(warm.outcome.error)).toBe(true);
      expect(warm.outcome.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
      expect(warm.stderr).toMatch(/disk cache hit/);
      expect(warm.stderr).not.toMatch(/compiled \d+ kernel/);
      // A miss compiles into the private cache, which is gone once the child exits.
      const miss = runChild(env, 'ma.array([1, 2]).add(ma.array([3, 4])).multiply(2)', '', uid);
      expect(miss.outcome.ok, JSON.stringify(miss.outcome.error)).toBe(true);
      expect(miss.outcome.values).toEqual([8, 12]);
      expect(miss.stderr).toMatch(/compiled \d+ kernel/);
      expect(miss.stderr.match(/is not writable; using/g)?.length).toBe(1);
      expect(readdirSync(tmp).filter((f) => f.startsWith('metalarray-'))).toEqual([]);
    } finally {
      lock(0o755);
      chmodSync(root, 0o700);
    }
  }, 180_000);

  it('a cache directory deleted while the process runs is recreated; later kernels still compile', () => {
    const dir = join(root, 'deleted');
    const { outcome } = runChild(
      { METALARRAY_CACHE_DIR: dir },
      TANH_EXPRESSION,
      `ma.array([1, 2]).add(ma.array([3, 4])).toTypedArray();
       fs.rmSync(${JSON.stringify(dir)}, { recursive: true, force: true });`,
    );
    expect(outcome.ok, JSON.stringify(outcome.error)).toBe(true);
    expect(outcome.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
    expect(readdirSync(join(dir, 'cpu')).some((f) => f.endsWith('.json'))).toBe(true);
  }, 120_000);

  it('without a compiler a warm cache runs; a miss is a BackendUnavailableError naming the kernel', () => {
    const dir = join(root, 'nocc-warm');
    expect(runChild({ METALARRAY_CACHE_DIR: dir }).outcome.ok).toBe(true);
    const warm = runChild({ METALARRAY_CACHE_DIR: dir, CC: '/nonexistent' }).outcome;
    expect(warm.ok, JSON.stringify(warm.error)).toBe(true);
    expect(warm.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
    const miss = runChild({ METALARRAY_CACHE_DIR: dir, CC: '/nonexistent' }, 'ma.array([1, 2]).subtract(ma.array([3, 4]))').outcome;
    expect(miss.ok).toBe(false);
    expect(miss.error?.name).toBe('BackendUnavailableError');
    expect(miss.error?.message).toMatch(/kernel k_[0-9a-f]+ is not in the kernel cache/);
    expect(miss.error?.message).toMatch(/install gcc or clang, or set CC/);
  }, 180_000);
});
