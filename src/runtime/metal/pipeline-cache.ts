/**
 * The Metal backend's disk cache: one `MTLBinaryArchive` per device identity, holding the
 * GPU binaries of every pipeline built so far, so that a later process takes each
 * pipeline from the archive (MTLPipelineOptionFailOnBinaryArchiveMiss) instead of
 * compiling it for the GPU.
 *
 * The archive lives in the shared kernel cache's verified layout (../kernel-cache.ts):
 * `$METALARRAY_CACHE_DIR/metal/<identity>/obj_<sha>.metallib` written atomically, and the
 * entry `pipelines.json` naming it with its SHA-256. At start the entry is read and the
 * file's hash checked before Metal opens it; a file whose bytes changed, or that Metal
 * cannot read, is dropped (its entry deleted where the directory is writable) and the
 * archive starts empty, so its pipelines are compiled again. A read-only cache is read
 * but never written (misses stay in memory for the process).
 *
 * The identity is a hash of what a GPU binary depends on: the device (name, GPU family),
 * the OS release (which brings Metal's compiler), the MSL version and the compile
 * options. Kernel names already hash the prelude and the kernel source.
 *
 * Writes: when {@link SAVE_EVERY} pipelines were added since the last write, and at exit.
 * Processes that share a cache each write the archive they loaded plus their own
 * additions; the last writer wins and the other's new pipelines are compiled again
 * by a later process (they are never wrong, only missing).
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { ArgumentError } from '../../errors.js';
import { cacheRoot, findVerified, type KernelCacheDirs, openCacheDirs, readEntry, storeEntry, storeObject, temporaryName } from '../kernel-cache.js';

/** What native/metal's pipeline cache reports (metal_runtime.h, PipelineStats). */
export interface MetalPipelineStats {
  /** Pipelines Metal compiled for the GPU (not found in the archive). */
  compiled: number;
  /** Pipelines taken from the binary archive, with no GPU compile. */
  loaded: number;
  /** Pipelines dropped by the in-memory bound (rebuilt on their next launch). */
  evicted: number;
  /** Pipelines held in memory now. */
  resident: number;
  /** The in-memory bound. */
  limit: number;
  /** Pipelines added to the archive since it was last written. */
  pending: number;
  /** Why the archive refused a file or a pipeline, or ''. */
  archiveNote: string;
}

/** The addon's archive entry points (macOS builds; faked in the Linux unit test). */
export interface MetalArchiveNative {
  /** Opens the archive serialized at `path` ('' for an empty one); returns '' or why Metal could not read it. */
  metalOpenArchive(path: string): string;
  /** Serializes the archive to `path`; false (and no file) when nothing was added since the last write. */
  metalSaveArchive(path: string): boolean;
  metalPipelineStats(): MetalPipelineStats;
}

/** What a GPU binary depends on, besides the kernel's own source. */
export interface MetalCacheIdentityParts {
  deviceName: string;
  gpuFamily: string;
  languageVersion: string;
  /** The OS release (Darwin's, from os.release()): Metal's compiler comes with the OS. */
  osRelease: string;
}

/** The entry name of the archive in its directory. */
export const ARCHIVE_ENTRY = 'pipelines';
/** Bumped when the archive's use changes (compile options, entry layout). */
const FORMAT = 'mtl-archive-1;math=safe';
/** Pipelines added before the archive is written without waiting for exit. */
export const SAVE_EVERY = 32;
/** The in-memory pipeline bound when METALARRAY_METAL_PIPELINES is not set (as in metal_runtime.h). */
export const DEFAULT_PIPELINE_LIMIT = 512;

/**
 * The cache identity of a device: 32 hex digits hashing every part, so a different
 * GPU, OS release, MSL version or archive format never reads another's archive.
 *
 * @example
 * metalCacheIdentity({ deviceName: 'Apple M2', gpuFamily: 'apple8', languageVersion: '3.1', osRelease: '23.4.0' });
 * // → '5f0c…' (32 hex digits)
 */
export function metalCacheIdentity(parts: MetalCacheIdentityParts): string {
  const text = [FORMAT, parts.deviceName, parts.gpuFamily, parts.languageVersion, parts.osRelease].join('\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/**
 * The in-memory pipeline bound from METALARRAY_METAL_PIPELINES: undefined when unset
 * (the default, {@link DEFAULT_PIPELINE_LIMIT}, applies); an integer of at least 1.
 *
 * @example
 * pipelineLimitFromEnv('1024'); // → 1024
 * pipelineLimitFromEnv(undefined); // → undefined
 * pipelineLimitFromEnv('0'); // throws ArgumentError
 */
export function pipelineLimitFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ArgumentError(
      `METALARRAY_METAL_PIPELINES must be a whole number of pipelines of at least 1 (got "${value}"); unset it for the default of ${DEFAULT_PIPELINE_LIMIT}`,
    );
  }
  return n;
}

/** How the archive was opened at start. */
export interface ArchiveOpening {
  /** The verified file handed to Metal, or undefined when the archive started empty. */
  path: string | undefined;
  /** Why a file found was not used (hash mismatch, Metal refused it), or ''. */
  note: string;
}

/**
 * One device's binary archive on disk: opened (verified) once, written atomically.
 *
 * @example
 * const cache = new MetalArchiveCache(addon, metalCacheIdentity(parts));
 * cache.open(); // before the first compile
 * // ... addon.metalCompile(...) ...
 * cache.afterCompile(); // writes when SAVE_EVERY pipelines are pending
 */
export class MetalArchiveCache {
  readonly dirs: KernelCacheDirs;
  private readonly builder: string;
  private opened = false;
  private exitHook: (() => void) | undefined;

  /** `dirs` replaces the directories openCacheDirs picks under `root` (tests). */
  constructor(
    private readonly native: MetalArchiveNative,
    readonly identity: string,
    root: string = cacheRoot(),
    dirs?: KernelCacheDirs,
  ) {
    this.dirs = dirs ?? openCacheDirs(join(root, 'metal', identity));
    this.builder = `metal-archive-${identity}`;
  }

  /** Opens the cached archive (verified) in the addon, or an empty one; idempotent. Registers the exit write. */
  open(): ArchiveOpening {
    if (this.opened) return { path: undefined, note: '' };
    this.opened = true;
    if (!this.dirs.privateWrite) {
      this.exitHook = () => {
        try {
          this.save();
        } catch {
          // The disk cache is an optimization: a failed write at exit loses only it.
        }
      };
      process.once('exit', this.exitHook);
    }
    let note = '';
    for (const dir of this.dirs.read) {
      const entry = readEntry(dir, ARCHIVE_ENTRY);
      if (!entry) continue;
      const hit = findVerified([dir], ARCHIVE_ENTRY, (e) => e.builder === this.builder, this.dirs.write);
      if (!hit) {
        note = `the archive in ${dir} failed verification (bytes changed or missing); starting empty`;
        continue;
      }
      const why = this.native.metalOpenArchive(hit.path);
      if (why === '') return { path: hit.path, note };
      note = why;
      // Metal cannot read it (another OS wrote it, or it is damaged): drop it where we may.
      if (dir === this.dirs.write) rmSync(join(dir, `${ARCHIVE_ENTRY}.json`), { force: true });
    }
    this.native.metalOpenArchive('');
    return { path: undefined, note };
  }

  /**
   * Writes the archive if pipelines were added since the last write: serialized by
   * Metal to a temporary file, stored under its content hash, then the entry replaced
   * and the previous file removed. Returns whether a new archive was stored. A
   * read-only cache is never written.
   */
  save(): boolean {
    if (this.dirs.privateWrite || !this.opened) return false;
    const tmp = temporaryName(this.dirs.write, 'archive', '.metallib');
    try {
      if (!this.native.metalSaveArchive(tmp)) return false;
      const bytes = readFileSync(tmp);
      const previous = readEntry(this.dirs.write, ARCHIVE_ENTRY);
      const stored = storeObject(this.dirs.write, bytes, 'metallib');
      storeEntry(this.dirs.write, ARCHIVE_ENTRY, { object: stored.object, sha256: stored.sha256, builder: this.builder, opt: 0 });
      if (previous && previous.object !== stored.object) rmSync(join(this.dirs.write, previous.object), { force: true });
      return true;
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** After a compile: writes the archive once {@link SAVE_EVERY} pipelines are pending. */
  afterCompile(): void {
    if (this.dirs.privateWrite) return;
    if (this.native.metalPipelineStats().pending < SAVE_EVERY) return;
    try {
      this.save();
    } catch {
      // Kept in memory; the exit write tries again.
    }
  }

  /** Writes what is pending and stops the exit write (tests, and backends being replaced). */
  close(): void {
    if (this.exitHook) process.removeListener('exit', this.exitHook);
    this.exitHook = undefined;
    this.save();
  }
}

/** The OS release that goes into the identity (os.release(): the Darwin version on macOS). */
export function osRelease(): string {
  return release();
}
