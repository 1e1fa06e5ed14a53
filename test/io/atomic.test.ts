/**
 * Atomic saves (issue 16 §1): a save replaces its file through a flushed temporary and a
 * rename, so a process killed mid-save or a full disk leaves the old file or the complete
 * new one, and a failed save removes its temporary.
 *
 * Kills: a child process saves two 32 MB arrays in turn over one file and is killed
 * (SIGKILL, by its pid) at random moments; after each kill the file must load and hold
 * exactly one of the two arrays. The test keeps killing until at least three kills landed
 * while a temporary was being written (so the critical window is really exercised).
 *
 * Full disk: a 1 MiB tmpfs (mounting needs root; CI runs as root and sets
 * REQUIRE_FS_FAULTS=1, which turns a failed mount into a failure instead of a skip).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { TEMPORARY_MARK } from '../../src/io/atomic.js';

const root = mkdtempSync(join(tmpdir(), 'ma-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const INDEX = join(process.cwd(), 'src/index.ts');

type Format = 'npy' | 'npz' | 'safetensors';
const FORMATS: readonly Format[] = ['npy', 'npz', 'safetensors'];

/** The save call of each format, as child-process source text saving the array named `variable`. */
const SAVE_SOURCE: Record<Format, (file: string, variable: string) => string> = {
  npy: (file, variable) => `ma.save(${JSON.stringify(file)}, ${variable})`,
  npz: (file, variable) => `ma.savez(${JSON.stringify(file)}, { w: ${variable} })`,
  safetensors: (file, variable) => `ma.saveSafetensors(${JSON.stringify(file)}, { w: ${variable} })`,
};

function saveInProcess(format: Format, file: string, a: ma.MetalArray): void {
  if (format === 'npy') ma.save(file, a);
  else if (format === 'npz') ma.savez(file, { w: a });
  else ma.saveSafetensors(file, { w: a });
}

/** The float32 values stored in `file` (the one array of a .npy, or entry `w`). */
function loadValues(format: Format, file: string): Float32Array {
  const loaded = format === 'npy' ? ma.load(file as `${string}.npy`) : ma.load(file as `${string}.npz`).w;
  expect(loaded.dtype).toBe('float32');
  return loaded.toTypedArray() as Float32Array;
}

/** Which constant `values` holds throughout, or a description of how it is damaged. */
function constantOf(values: Float32Array, length: number): number | string {
  if (values.length !== length) return `length ${values.length}, expected ${length}`;
  const first = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return `mixed values (${first} at 0, ${values[i]} at ${i})`;
  return first;
}

function temporariesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes(TEMPORARY_MARK));
}

/** A program file for a child process. */
function program(name: string, source: string): string {
  const file = join(root, `${name}-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, `import * as ma from ${JSON.stringify(INDEX)};\n${source}`);
  return file;
}

function waitForLine(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      if (seen.includes(marker)) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`child exited (code ${code}, signal ${signal}) before '${marker}'`)));
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('a killed save leaves the old file or the complete new one', () => {
  const LENGTH = 8 * 1024 * 1024; // 32 MB of float32: large enough that a write spans many disk blocks
  const OLD = 2.5;
  const NEW = 1.5;

  it('SIGKILL at random points of 32 MB saves, all three formats', { timeout: 600_000 }, async () => {
    const dir = join(root, 'kills');
    mkdirSync(dir);
    const targets = Object.fromEntries(FORMATS.map((f) => [f, join(dir, `checkpoint.${f}`)])) as Record<Format, string>;
    // The exact bytes of each format's file holding OLD and holding NEW: after a kill the
    // target must equal one of them byte for byte.
    const expected = {} as Record<Format, { old: Buffer; new: Buffer }>;
    for (const f of FORMATS) {
      const newArray = ma.full([LENGTH], NEW, 'float32');
      saveInProcess(f, targets[f], newArray);
      newArray.dispose();
      const newBytes = readFileSync(targets[f]);
      const oldArray = ma.full([LENGTH], OLD, 'float32');
      saveInProcess(f, targets[f], oldArray);
      oldArray.dispose();
      expected[f] = { old: readFileSync(targets[f]), new: newBytes };
      expect(constantOf(loadValues(f, targets[f]), LENGTH)).toBe(OLD);
    }

    // The child says 'ready' when both arrays are built, then saves NEW and OLD in turn forever.
    const children = Object.fromEntries(
      FORMATS.map((f) => [
        f,
        program(
          `saver-${f}`,
          `const arrays = [ma.full([${LENGTH}], ${NEW}, 'float32'), ma.full([${LENGTH}], ${OLD}, 'float32')];
           for (const a of arrays) a.eval();
           process.stdout.write('ready\\n');
           for (let i = 0; ; i++) {
             const a = arrays[i % 2];
             const t0 = performance.now();
             ${SAVE_SOURCE[f](targets[f], 'a')};
             process.stdout.write('saved ' + (performance.now() - t0) + '\\n');
           }`,
        ),
      ]),
    ) as Record<Format, string>;

    // One save's duration, measured once, sets the range of kill delays (two saves' worth).
    let saveMs = 0;
    const outcomes: string[] = [];
    let kills = 0;
    let midWrite = 0;
    while ((kills < 12 || midWrite < 3) && kills < 30) {
      const format = FORMATS[kills % FORMATS.length];
      const child = spawn(process.execPath, ['--import', 'tsx', children[format]], { stdio: ['ignore', 'pipe', 'inherit'] });
      let delay = 0;
      try {
        await waitForLine(child, 'ready');
        if (saveMs === 0) {
          saveMs = await new Promise<number>((resolve) => {
            child.stdout?.once('data', (chunk: Buffer) => resolve(Number(/saved ([\d.]+)/.exec(chunk.toString())?.[1] ?? 1000)));
          });
        }
        delay = Math.random() * 2 * saveMs;
        await sleep(delay);
      } finally {
        if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
        await waitForExit(child);
      }
      kills++;
      const leftovers = temporariesIn(dir);
      if (leftovers.length > 0) midWrite++;
      for (const t of leftovers) rmSync(join(dir, t)); // a killed process cannot remove its own
      const bytes = readFileSync(targets[format]);
      const state = bytes.equals(expected[format].old) ? 'old' : bytes.equals(expected[format].new) ? 'new' : `damaged (${bytes.length} bytes)`;
      outcomes.push(`${format} after ${Math.round(delay)} ms: ${state}${leftovers.length > 0 ? ', killed mid-write' : ''}`);
      expect(['old', 'new'], `kill ${kills} (${format}) left a damaged file: ${outcomes.join('; ')}`).toContain(state);
    }
    console.log(`atomic.test: one save took ${Math.round(saveMs)} ms; ${outcomes.join('; ')}`);
    expect(midWrite, `kills that landed mid-write, of ${kills}: ${outcomes.join('; ')}`).toBeGreaterThanOrEqual(3);
    expect(kills).toBeGreaterThanOrEqual(12);
  });
});

/** Why a small tmpfs cannot be mounted here, or null when it can. */
function mountSmallFilesystem(dir: string): string | null {
  if (process.platform !== 'linux') return `mounting a tmpfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.error) return `mount could not run: ${r.error.message}`;
  if (r.status !== 0) return `mount failed: ${r.stderr.trim()}`;
  return null;
}

describe('a save onto a full file system', () => {
  const dir = join(root, 'full');
  let mountFailure: string | null = 'not tried';
  beforeAll(() => {
    mkdirSync(dir);
    mountFailure = mountSmallFilesystem(dir);
    if (mountFailure !== null) console.warn(`atomic.test: full-disk tests skipped: ${mountFailure}`);
  });
  afterAll(() => {
    if (mountFailure === null) spawnSync('umount', [dir]);
  });

  it.runIf(process.env.REQUIRE_FS_FAULTS === '1')('can mount a small tmpfs (REQUIRE_FS_FAULTS=1)', () => {
    expect(mountFailure).toBeNull();
  });

  it('ENOSPC is a FileError naming the file; the old file is intact; no temporary is left', { timeout: 120_000 }, (ctx) => {
    if (mountFailure !== null) ctx.skip(`cannot mount a small tmpfs: ${mountFailure}`);
    const old = ma.arange(0, 40_000, 1, 'float32'); // 160 kB: fits in 1 MiB three times over
    const oldValues = old.toTypedArray() as Float32Array;
    for (const f of FORMATS) saveInProcess(f, join(dir, `model.${f}`), old);
    // 2 MB does not fit: each save must fail, in a child process as a real program would.
    const child = program(
      'full-disk',
      `const big = ma.array(new Float32Array(512 * 1024).fill(7));
       const out = [];
       for (const [format, save] of [
         ${FORMATS.map((f) => `['${f}', () => ${SAVE_SOURCE[f](join(dir, `model.${f}`), 'big')}],`).join('\n')}
       ]) {
         try { save(); out.push({ format, ok: true }); }
         catch (e) { out.push({ format, ok: false, isFileError: e instanceof ma.FileError, path: e.path, code: e.cause?.code, message: String(e.message) }); }
       }
       process.stdout.write(JSON.stringify(out));`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { format: Format; ok: boolean; isFileError?: boolean; path?: string; code?: string; message?: string }[];
    expect(results.map((x) => x.format)).toEqual(FORMATS);
    for (const x of results) {
      const file = join(dir, `model.${x.format}`);
      expect(x.ok, `${x.format}: a 2 MB save onto a 1 MiB file system succeeded`).toBe(false);
      expect(x.isFileError).toBe(true);
      expect(x.path).toBe(file);
      expect(x.code).toBe('ENOSPC');
      expect(x.message).toContain(file);
      expect(x.message).toContain('no space left');
      expect(Array.from(loadValues(x.format, file))).toEqual(Array.from(oldValues));
    }
    expect(readdirSync(dir).sort()).toEqual(FORMATS.map((f) => `model.${f}`).sort());
  });
});

describe('failed and ordinary saves', () => {
  it('a save whose rename fails (the target is a directory) removes its temporary', () => {
    const dir = join(root, 'rename');
    mkdirSync(join(dir, 'taken.npy'), { recursive: true });
    const a = ma.array([1, 2, 3]);
    let caught: unknown;
    try {
      ma.save(join(dir, 'taken.npy'), a);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ma.FileError);
    expect((caught as ma.FileError).path).toBe(join(dir, 'taken.npy'));
    expect(readdirSync(dir)).toEqual(['taken.npy']);
  });

  it('a save into a missing directory is a FileError saying so', () => {
    expect(() => ma.save(join(root, 'no-such-dir', 'x.npy'), ma.array([1]))).toThrow(/x\.npy: cannot write the file: the directory does not exist/);
  });

  it('a save keeps the permission bits of the file it replaces', () => {
    const file = join(root, 'mode.npy');
    ma.save(file, ma.array([1]));
    chmodSync(file, 0o640);
    ma.save(file, ma.array([2]));
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(Array.from(ma.load(file as `${string}.npy`).toTypedArray() as Float32Array)).toEqual([2]);
  });

  it.runIf(process.platform !== 'win32')('a save through a link to /dev/null writes into the device and leaves it a device', () => {
    const link = join(root, 'sink.npy');
    symlinkSync('/dev/null', link);
    expect(ma.save(link, ma.array([1, 2]))).toBe(link);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(readdirSync('/dev').filter((f) => f.includes(TEMPORARY_MARK))).toEqual([]);
  });

  it('a save through a symbolic link replaces the file it names and keeps the link', () => {
    const dir = join(root, 'link');
    mkdirSync(dir);
    const real = join(dir, 'real.safetensors');
    const link = join(dir, 'link.safetensors');
    ma.saveSafetensors(real, { w: ma.array([1, 2]) });
    symlinkSync(real, link);
    ma.saveSafetensors(link, { w: ma.array([3, 4]) });
    expect(Array.from(ma.load(real as `${string}.safetensors`).w.toTypedArray() as Float32Array)).toEqual([3, 4]);
    expect(readdirSync(dir).sort()).toEqual(['link.safetensors', 'real.safetensors']);
    expect(statSync(link).isFile()).toBe(true);
  });
});
