/**
 * Compiles C kernels with the system compiler into shared objects, with a disk cache.
 *
 * One compiler run builds every kernel an eval lacks. Each kernel's cache entry is a
 * hard link `<kernel>.so` to its batch's shared object, so a later process finds any
 * kernel by name. A corrupt entry is deleted and rebuilt; an unwritable cache
 * directory is replaced by a private temporary one with a single warning.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, accessSync, constants } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { CompileError } from '../../errors.js';

/**
 * Flags: optimize for this CPU; keep IEEE semantics (no fast-math, no FMA contraction,
 * so a fused kernel gives the same bits as one kernel per op).
 */
export const C_FLAGS = ['-O3', '-march=native', '-fno-math-errno', '-fno-trapping-math', '-ffp-contract=off', '-shared', '-fPIC', '-std=c11', '-w'];
/**
 * GCC on x86: the math prelude's functions carry SIMD clones (MA_SIMD); GCC uses a
 * clone only when the loop's vector width matches one, and on AVX-512 machines it
 * prefers 256-bit loops while cloning for 512. Without this a long fused chain, whose
 * math calls are no longer inlined, ran scalar (10x slower).
 */
const GCC_X86_FLAGS = ['-mprefer-vector-width=512'];
const COMPILE_TIMEOUT_MS = 120_000;
let compileCount = 0;

interface CompilerInfo {
  path: string;
  flags: string[];
  /** Identifies compiler and flags in cache keys. */
  id: string;
}

let compiler: CompilerInfo | null | undefined;
let compilerProblem = '';

/** The system C compiler ($CC or cc), or null with the reason in compilerError(). */
export function findCompiler(): CompilerInfo | null {
  if (compiler !== undefined) return compiler;
  const path = process.env.CC || 'cc';
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) {
    compilerProblem = `no working C compiler: \`${path} --version\` failed (${r.error?.message ?? r.stderr?.trim() ?? `exit ${r.status}`}); install gcc or clang, or set CC`;
    compiler = null;
    return null;
  }
  const version = (r.stdout ?? '').split('\n')[0];
  const isGcc = /Free Software Foundation|\bgcc\b/i.test(r.stdout ?? '') && !/clang/i.test(r.stdout ?? '');
  const flags = isGcc && (process.arch === 'x64' || process.arch === 'ia32') ? [...C_FLAGS, ...GCC_X86_FLAGS] : C_FLAGS;
  compiler = {
    path,
    flags,
    id: createHash('sha256')
      .update(`${path}\n${version}\n${flags.join(' ')}`)
      .digest('hex')
      .slice(0, 16),
  };
  return compiler;
}

/** Why there is no compiler ('' if there is one). */
export function compilerError(): string {
  findCompiler();
  return compilerProblem;
}

let cacheDir: string | undefined;
let warnedCache = false;

function writable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory compiled kernels are kept in (created on first use). */
export function kernelCacheDir(): string {
  if (cacheDir) return cacheDir;
  const base = process.env.METALARRAY_CACHE_DIR || join(homedir(), '.cache', 'metalarray');
  const dir = join(base, 'cpu');
  if (writable(dir)) {
    cacheDir = dir;
  } else {
    cacheDir = mkdtempSync(join(tmpdir(), 'metalarray-'));
    if (!warnedCache) {
      warnedCache = true;
      process.emitWarning(`metalarray: kernel cache ${dir} is not writable; using ${cacheDir} for this process`);
    }
  }
  return cacheDir;
}

/** The cached shared object that holds kernel `name`, if there is one. */
export function cachedKernelPath(name: string): string | undefined {
  const p = join(kernelCacheDir(), `${name}.so`);
  return existsSync(p) ? p : undefined;
}

/** Deletes a cache entry that failed to load. */
export function dropCachedKernel(name: string): void {
  // recursive: whatever sits under the entry's name (a directory, say) goes, not only a file.
  rmSync(join(kernelCacheDir(), `${name}.so`), { force: true, recursive: true });
}

/** The hash state after the prelude, kept per prelude text: kernels hash only their body. */
let preludeHash: { prelude: string; hash: ReturnType<typeof createHash> } | undefined;

/** A stable kernel symbol for a source: the hash of source, compiler and flags. */
export function kernelName(body: string, prelude: string): string {
  const c = findCompiler();
  if (preludeHash?.prelude !== prelude) preludeHash = { prelude, hash: createHash('sha256').update(prelude) };
  return `k_${preludeHash.hash
    .copy()
    .update(body)
    .update(c ? c.id : 'none')
    .digest('hex')
    .slice(0, 24)}`;
}

/** Compiles the kernels in one run; returns the shared object's path. */
export function compileBatch(prelude: string, kernels: readonly { name: string; source: string }[]): string {
  const source = `${prelude}\n${kernels.map((k) => k.source).join('\n\n')}\n`;
  const c = findCompiler();
  if (!c) throw new CompileError(`cannot compile ${kernels.length} kernel(s)`, source, compilerProblem);
  const dir = kernelCacheDir();
  const batch = createHash('sha256').update(source).digest('hex').slice(0, 24);
  // Unique per compile: worker threads share the pid and may build the same batch at once.
  const unique = `${process.pid}.${threadId}.${++compileCount}`;
  const cFile = join(dir, `batch_${batch}.${unique}.c`);
  const tmpSo = join(dir, `batch_${batch}.${unique}.tmp.so`);
  const so = join(dir, `batch_${batch}.so`);
  try {
    writeFileSync(cFile, source);
    const r = spawnSync(c.path, [...c.flags, '-o', tmpSo, cFile, '-lm'], { encoding: 'utf8', timeout: COMPILE_TIMEOUT_MS });
    if (r.error || r.status !== 0) {
      const why = r.error ? r.error.message : `${c.path} exited with ${r.status}`;
      throw new CompileError(`C compilation of ${kernels.map((k) => k.name).join(', ')} failed: ${why}`, source, r.stderr ?? '');
    }
    renameSync(tmpSo, so); // atomic: readers never see a half-written object
  } finally {
    rmSync(cFile, { force: true });
    rmSync(tmpSo, { force: true });
  }
  for (const k of kernels) {
    const entry = join(dir, `${k.name}.so`);
    rmSync(entry, { force: true, recursive: true });
    try {
      linkSync(so, entry);
    } catch {
      // A concurrent process linked it first, or links are unsupported: the batch file still serves.
    }
  }
  return so;
}
