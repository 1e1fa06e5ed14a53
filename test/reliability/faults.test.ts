/**
 * Cache and compiler faults, each in a child process with its own environment: a
 * missing C compiler, a compiler that fails, a compiler that writes a broken shared
 * object, corrupt disk-cache entries of other kinds than test/unit/api.test.ts covers
 * (a truncated ELF file, a directory), and a cache directory that cannot be created.
 * Each gives a typed error naming the cause, or falls back as DESIGN.md says; none
 * hangs (every child has a time limit).
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

/** Runs a small program in a child process and returns what it reported, and its stderr. */
function runChild(env: Record<string, string>, expression = 'ma.tanh(ma.array([1, 2, 3, 4]).multiply(0.25)).add(0.5)'): { outcome: Outcome; stderr: string } {
  const file = join(root, `probe-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(
    file,
    `import * as ma from ${JSON.stringify(INDEX)};
     let out;
     try {
       const y = ${expression};
       out = { ok: true, values: Array.from(y.toTypedArray()) };
     } catch (e) {
       out = { ok: false, error: { name: e?.name, isLibraryError: e instanceof ma.MetalArrayError, message: String(e?.message), log: e?.log, source: e?.source } };
     }
     process.stdout.write(JSON.stringify(out));`,
  );
  // Faults of the cpu backend's compiler and disk cache, whatever the run's default backend.
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, METALARRAY_BACKEND: 'cpu', ...env },
    encoding: 'utf8',
    timeout: 90_000,
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

  it('a truncated ELF cache entry and a directory in place of an entry are rebuilt', () => {
    const dir = join(root, 'corrupt');
    expect(runChild({ METALARRAY_CACHE_DIR: dir }).outcome.ok).toBe(true);
    const cpu = join(dir, 'cpu');
    const entries = readdirSync(cpu).filter((f) => f.startsWith('k_') && f.endsWith('.so'));
    expect(entries.length).toBeGreaterThan(0);
    // A truncated object: the ELF header is there, the rest is missing.
    for (const f of entries) {
      const bytes = readFileSync(join(cpu, f));
      rmSync(join(cpu, f));
      writeFileSync(join(cpu, f), bytes.subarray(0, 256));
    }
    for (const f of readdirSync(cpu).filter((f) => f.startsWith('batch_'))) rmSync(join(cpu, f));
    const truncated = runChild({ METALARRAY_CACHE_DIR: dir }).outcome;
    expect(truncated.ok, JSON.stringify(truncated.error)).toBe(true);
    expect(truncated.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
    // A directory where a kernel's .so should be.
    for (const f of readdirSync(cpu)) rmSync(join(cpu, f), { recursive: true, force: true });
    for (const f of entries) mkdirSync(join(cpu, f));
    const directory = runChild({ METALARRAY_CACHE_DIR: dir }).outcome;
    expect(directory.ok, JSON.stringify(directory.error)).toBe(true);
    expect(directory.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
  }, 180_000);

  it('a cache directory that cannot be created falls back to a private one with one warning', () => {
    const blocker = join(root, 'blocker');
    writeFileSync(blocker, 'a file, not a directory');
    const { outcome, stderr } = runChild({ METALARRAY_CACHE_DIR: join(blocker, 'cache') }, 'ma.array([1, 2]).add(ma.array([3, 4])).multiply(2)');
    expect(outcome.ok).toBe(true);
    expect(outcome.values).toEqual([8, 12]);
    expect(stderr.match(/is not writable; using/g)?.length).toBe(1);
  }, 120_000);

  it('a cache copied from elsewhere with the wrong contents under the right name is rebuilt', () => {
    const dir = join(root, 'swapped');
    expect(runChild({ METALARRAY_CACHE_DIR: dir }).outcome.ok).toBe(true);
    // A valid shared object of another kernel under this kernel's name: the symbol is missing.
    const other = join(root, 'other');
    expect(runChild({ METALARRAY_CACHE_DIR: other }, 'ma.array([1, 2]).subtract(ma.array([3, 4]))').outcome.ok).toBe(true);
    const donor = readdirSync(join(other, 'cpu')).find((f) => f.startsWith('k_') && f.endsWith('.so'));
    expect(donor).toBeDefined();
    for (const f of readdirSync(join(dir, 'cpu')).filter((f) => f.startsWith('k_'))) {
      rmSync(join(dir, 'cpu', f));
      copyFileSync(join(other, 'cpu', donor as string), join(dir, 'cpu', f));
    }
    const swapped = runChild({ METALARRAY_CACHE_DIR: dir }).outcome;
    expect(swapped.ok, JSON.stringify(swapped.error)).toBe(true);
    expect(swapped.values?.map((v) => Math.fround(v))).toEqual(EXPECTED);
  }, 180_000);
});
