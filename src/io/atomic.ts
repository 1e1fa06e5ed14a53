/**
 * Atomic file replacement: every file the library writes goes through `writeFileAtomic`.
 * The bytes go to a temporary file in the target's directory, are flushed to disk, and
 * the temporary is renamed over the target (rename within one directory is atomic on
 * POSIX file systems), so a reader, a crash or a full disk sees either the old file or
 * the complete new one, never a fragment.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileError } from '../errors.js';

/** Bytes per `write` call: large enough to be fast, small enough to never hit a per-call size limit. */
const CHUNK_BYTES = 1 << 26;

/** The prefix of every temporary file, so a leftover one (from a killed process) is easy to recognise. */
export const TEMPORARY_MARK = '.tmp-metalarray-';

/**
 * The file a write to `path` must replace: a symbolic link is followed, as
 * `writeFileSync` follows it, so the link stays and the file it names is replaced.
 */
function resolveTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // no such file yet (or a dangling link): write `path` itself
  }
}

/** What is at the target now: nothing, a regular file (with its permission bits), or something else. */
function existing(path: string): { kind: 'none' } | { kind: 'file'; mode: number } | { kind: 'special' } | { kind: 'directory' } {
  try {
    const st = statSync(path);
    if (st.isFile()) return { kind: 'file', mode: st.mode & 0o7777 };
    return st.isDirectory() ? { kind: 'directory' } : { kind: 'special' };
  } catch {
    return { kind: 'none' };
  }
}

/** Flushes a directory's entries (the rename) to disk. Some platforms cannot open a directory; there it is skipped. */
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR/EPERM: the file system does not sync directories; the rename itself is still atomic.
  } finally {
    closeSync(fd);
  }
}

function describeFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOSPC'
      ? 'no space left on the device (ENOSPC)'
      : code === 'EDQUOT'
        ? 'the disk quota is exceeded (EDQUOT)'
        : code === 'EACCES' || code === 'EPERM'
          ? `permission denied (${code}): the directory must be writable`
          : code === 'ENOENT'
            ? 'the directory does not exist (ENOENT)'
            : code === 'EISDIR'
              ? 'the path is a directory (EISDIR)'
              : (err as Error).message;
  return `cannot write the file: ${why}; any previous file at this path is unchanged`;
}

/**
 * Replaces the file at `path` with `bytes` atomically: a temporary file in the same
 * directory is written, flushed (`fsync`) and renamed over `path`, and the directory is
 * flushed after the rename where the platform allows. On any failure the temporary is
 * removed, the previous file (if any) is untouched, and a `FileError` naming `path` and
 * the cause (Node's error as `cause`) is thrown.
 *
 * A target that is a device, FIFO or socket (a link to `/dev/null`) is written into
 * directly: it has no contents to keep, and a rename would replace the node itself.
 * A process killed mid-write leaves the old file and, at worst, a temporary named
 * `.<name>.tmp-metalarray-<pid>-<random>` beside it, which is safe to delete.
 *
 * @param path - the file to create or replace
 * @param bytes - its new contents
 * @throws FileError when the file cannot be written (full disk, no permission, missing directory)
 * @example
 * ```ts
 * writeFileAtomic('/data/weights.npy', encoded); // readers see the old or the new file, never half of one
 * ```
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const target = resolveTarget(path);
  const before = existing(target);
  if (before.kind === 'special') {
    // A device, FIFO or socket (e.g. a link to /dev/null) has no old contents to keep, and
    // renaming over it would replace the device node itself: write into it directly.
    try {
      writeFileSync(target, bytes);
    } catch (err) {
      throw new FileError(path, `cannot write the file: ${(err as Error).message}`, { cause: err });
    }
    return;
  }
  const dir = dirname(target);
  const temporary = join(dir, `.${basename(target)}${TEMPORARY_MARK}${process.pid}-${randomBytes(6).toString('hex')}`);
  let fd = -1;
  try {
    fd = openSync(temporary, 'wx', 0o666);
    if (before.kind === 'file') fchmodSync(fd, before.mode);
    for (let done = 0; done < bytes.byteLength; ) {
      done += writeSync(fd, bytes, done, Math.min(CHUNK_BYTES, bytes.byteLength - done));
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(temporary, target);
  } catch (err) {
    if (fd >= 0) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the write error is the one to report
      }
    }
    try {
      unlinkSync(temporary);
    } catch {
      // never created, or already renamed
    }
    throw new FileError(path, describeFailure(err), { cause: err });
  }
  syncDirectory(dir);
}
