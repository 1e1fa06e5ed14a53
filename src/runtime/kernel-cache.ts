/**
 * The on-disk kernel cache shared by the cpu (shared objects) and cuda (cubins) backends:
 * content-addressed objects plus one small entry file per kernel, verified before use.
 *
 * Layout of a cache directory:
 * - `obj_<sha>.<ext>`: a compiled object, named by the SHA-256 of its bytes (written to
 *   a temporary name, then renamed, so it is never seen half-written);
 * - `<kernel>.json`: `{ object, sha256, builder, opt }`, written the same way. Several
 *   kernels compiled in one run point at the same object.
 *
 * A hit reads the object and checks its hash against the entry before anything loads
 * it, so an object whose bytes were altered (same size, still valid ELF) is a miss and
 * is rebuilt, never run.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** One kernel's cache entry. */
export interface KernelCacheEntry {
  /** File name of the object, in the same directory. */
  object: string;
  /** SHA-256 (hex) of the object's bytes. */
  sha256: string;
  /** Identifies the compiler and flags that built it. */
  builder: string;
  /** Optimization level it was built at (the cpu backend's tiered compile upgrades 1 to 3). */
  opt: number;
}

/** A verified hit: the object's path and bytes (unless skipped, see verifyEntry), and its entry. */
export interface KernelCacheHit {
  path: string;
  bytes: Buffer | undefined;
  entry: KernelCacheEntry;
}

/**
 * Objects this process verified and handed to dlopen (path and hash). dlopen returns
 * the already loaded image for a path it has open, and loaded objects are never
 * closed, so a later kernel of the same object runs the verified code without the
 * file being read again.
 */
const loadedObjects = new Set<string>();

/** Records that a verified object was loaded by path (see loadedObjects). */
export function markLoaded(hit: KernelCacheHit): void {
  loadedObjects.add(`${hit.path}\n${hit.entry.sha256}`);
}

let tmpCount = 0;

/**
 * A name for a temporary file in `dir`, unique across processes and worker threads;
 * `ext` (e.g. '.c') ends it where a tool goes by the suffix.
 */
export function temporaryName(dir: string, stem: string, ext = ''): string {
  return join(dir, `${stem}.${process.pid}.${threadId}.${++tmpCount}.tmp${ext}`);
}

/** SHA-256 (hex) of bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The file name of an object with this content hash. */
export function objectFileName(sha: string, ext: string): string {
  return `obj_${sha.slice(0, 32)}.${ext}`;
}

/** Writes `bytes` to `path` atomically (temporary file, then rename). */
function writeAtomic(dir: string, path: string, bytes: string | Uint8Array): void {
  const tmp = temporaryName(dir, 'w');
  try {
    writeFileSync(tmp, bytes);
    try {
      renameSync(tmp, path);
    } catch {
      // Something else sits under the name (a directory, say): it goes, then retry once.
      rmSync(path, { recursive: true, force: true });
      renameSync(tmp, path);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Stores an object under its content hash in `dir` (recreated if it was deleted) and
 * returns its file name and hash. `bytes` may come from a file the caller wrote; the
 * object is written afresh so the name always matches the content.
 */
export function storeObject(dir: string, bytes: Uint8Array, ext: string): { object: string; sha256: string } {
  mkdirSync(dir, { recursive: true });
  const sha = sha256(bytes);
  const object = objectFileName(sha, ext);
  writeAtomic(dir, join(dir, object), bytes);
  return { object, sha256: sha };
}

/** Writes the entry of kernel `name` in `dir` atomically. */
export function storeEntry(dir: string, name: string, entry: KernelCacheEntry): void {
  mkdirSync(dir, { recursive: true });
  writeAtomic(dir, join(dir, `${name}.json`), JSON.stringify(entry));
}

function parseEntry(text: string): KernelCacheEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  if (typeof e.object !== 'string' || typeof e.sha256 !== 'string' || typeof e.builder !== 'string' || typeof e.opt !== 'number') return undefined;
  // The object must sit beside the entry: no path separators, no '..'.
  if (!/^obj_[0-9a-f]{32}\.[a-z]+$/.test(e.object) || !/^[0-9a-f]{64}$/.test(e.sha256)) return undefined;
  return { object: e.object, sha256: e.sha256, builder: e.builder, opt: e.opt };
}

/** Reads the entry of kernel `name` in `dir`, or undefined if it is missing or malformed. */
export function readEntry(dir: string, name: string): KernelCacheEntry | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, `${name}.json`), 'utf8');
  } catch {
    return undefined;
  }
  return parseEntry(text);
}

/**
 * Reads the object an entry names and checks its hash; returns the hit, or undefined
 * if the object is missing or its bytes are not the ones the entry recorded. With
 * `bytes: false` an object already loaded by path is not read again (bytes undefined).
 */
export function verifyEntry(dir: string, entry: KernelCacheEntry, options: { bytes: boolean } = { bytes: true }): KernelCacheHit | undefined {
  const path = join(dir, entry.object);
  if (!options.bytes && loadedObjects.has(`${path}\n${entry.sha256}`)) return { path, bytes: undefined, entry };
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined;
  }
  if (sha256(bytes) !== entry.sha256) return undefined;
  return { path, bytes, entry };
}

/**
 * The first verified entry of kernel `name` in `dirs` (in order) that `accept` takes,
 * or undefined. Entries whose object fails verification are skipped; when `writable`
 * is one of the dirs, its bad entry is deleted so the rebuild replaces it.
 */
export function findVerified(
  dirs: readonly string[],
  name: string,
  accept: (e: KernelCacheEntry) => boolean,
  writable?: string,
  options: { bytes: boolean } = { bytes: true },
): KernelCacheHit | undefined {
  for (const dir of dirs) {
    const entry = readEntry(dir, name);
    if (!entry || !accept(entry)) continue;
    const hit = verifyEntry(dir, entry, options);
    if (hit) return hit;
    if (dir === writable) rmSync(join(dir, `${name}.json`), { force: true });
  }
  return undefined;
}

/** Where a backend's kernel cache reads and writes. */
export interface KernelCacheDirs {
  /** Where misses are stored (the main cache, or a private temporary one). */
  write: string;
  /** Searched in order for hits: `write` first, then a read-only main cache. */
  read: readonly string[];
  /** True when `write` is a private directory removed at exit. */
  privateWrite: boolean;
}

/** The cache root: $METALARRAY_CACHE_DIR, or ~/.cache/metalarray. */
export function cacheRoot(): string {
  return process.env.METALARRAY_CACHE_DIR || join(homedir(), '.cache', 'metalarray');
}

function writable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The directories for cache `main`: itself if writable; otherwise `main` is only read,
 * and misses go to a private temporary directory (per user and process) that is removed
 * at exit, after `beforeRemove` (which stops whatever still writes there). One warning.
 */
export function openCacheDirs(main: string, beforeRemove?: () => void): KernelCacheDirs {
  if (writable(main)) return { write: main, read: [main], privateWrite: false };
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  const write = mkdtempSync(join(tmpdir(), `metalarray-${uid}-`));
  process.once('exit', () => {
    beforeRemove?.();
    rmSync(write, { recursive: true, force: true });
  });
  process.emitWarning(
    `metalarray: kernel cache ${main} is not writable; using ${write} for this process's new kernels (removed at exit), reading ${main} for cached ones`,
  );
  return { write, read: [write, main], privateWrite: true };
}
