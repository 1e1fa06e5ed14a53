/**
 * Compiles C kernels with the system compiler into shared objects, with a verified disk
 * cache (see ../kernel-cache.ts for its layout) and a tiered build.
 *
 * Tiered build (METALARRAY_COMPILE, default 'tiered'): a miss is compiled by TinyCC
 * where `tcc` is installed (./tcc.ts: ~20 ms against 0.2-0.5 s for one GCC run), else at
 * -O0 against a precompiled math prelude (GCC; see preludeHeader), and run at once; a
 * background
 * process rebuilds the same kernels at -O3 (prelude inline) and records them in the
 * cache, and the backend swaps the kernels' code when it sees the new entry
 * (CpuBackend.pollFullBuilds). An -O0 kernel over the precompiled prelude, whose helpers
 * are built at -O2 (HELPERS_OPTIMIZED), takes 35-55% less compiler time than -O1 with the
 * prelude inline for the k-means example's batches (bench/README.md); its code is slower
 * (a first gelu over 4M floats ~2.5x), which lasts only until the -O3 build lands. Every level keeps IEEE semantics (no fast-math, no FMA contraction), so a swap
 * never changes a result bit. Background processes start after the result, not on its
 * path (./background.ts). 'full' compiles at -O3 before the first run (the old
 * behaviour); 'fast' compiles at -O1 and stays there.
 *
 * Cache directories: `$METALARRAY_CACHE_DIR/cpu` (default ~/.cache/metalarray/cpu) is
 * read and written. If it is not writable it is still read, and misses are compiled
 * into a private temporary directory removed at exit. A cache directory deleted while
 * the process runs is recreated at the next miss. A compiler is needed only for a miss.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { BackendUnavailableError, CompileError } from '../../errors.js';
import {
  cacheRoot,
  findVerified,
  type KernelCacheDirs,
  type KernelCacheEntry,
  type KernelCacheHit,
  openCacheDirs,
  storeEntry,
  storeObject,
  temporaryName,
} from '../kernel-cache.js';
import { debugLevel, debugLog } from '../../core/metrics.js';
import { type ProcessRequest, startSoon, stopPrivateChildren } from './background.js';
import { findProgram } from './programs.js';
import { compileWithTinyCompiler, TCC_BUILDER_PREFIX, type TinyCompiler, tinyCompiler, tinySource } from './tcc.js';

/**
 * Flags: optimize for this CPU; keep IEEE semantics (no fast-math, no FMA contraction,
 * so a fused kernel gives the same bits as one kernel per op, at any -O level). -pipe:
 * no temporary assembly file (about 15% less CPU time per -O1 run).
 */
export const C_FLAGS = ['-O3', '-march=native', '-fno-math-errno', '-fno-trapping-math', '-ffp-contract=off', '-shared', '-fPIC', '-std=c11', '-w', '-pipe'];
/**
 * GCC on x86: the math prelude's functions carry SIMD clones (MA_SIMD); GCC uses a
 * clone only when the loop's vector width matches one, and on AVX-512 machines it
 * prefers 256-bit loops while cloning for 512. Without this a long fused chain, whose
 * math calls are no longer inlined, ran scalar (10x slower).
 */
const GCC_X86_FLAGS = ['-mprefer-vector-width=512'];
const COMPILE_TIMEOUT_MS = 120_000;

/** The optimization level of the first build in tiered mode. */
export const FIRST_OPT = 0;
/** The optimization level of 'fast' mode (no background rebuild). */
export const FAST_OPT = 1;
/** The optimization level of the final build. */
export const FULL_OPT = 3;

interface CompilerInfo {
  path: string;
  /** Full flags at -O3 (the final build). */
  flags: string[];
  /** Identifies compiler and flags (without the -O level) in cache entries. */
  id: string;
  /** GCC: precompiled headers are used for the first tier. */
  isGcc: boolean;
}

let compiler: CompilerInfo | null | undefined;
let compilerProblem = '';

/** Whether the system compiler's program exists (a PATH look-up, no process). */
function systemCompilerInstalled(): boolean {
  return findProgram(process.env.CC || 'cc') !== undefined;
}

/**
 * `$CC --version`'s answer as { version: first line, isGcc }, remembered in the cache
 * directory per compiler binary (path, size, mtime, inode): the probe is a process
 * start, 10-40 ms of CPU at every process's first cache lookup otherwise.
 */
function compilerVersion(path: string): { version: string; isGcc: boolean } | { problem: string } {
  const binary = findProgram(path);
  let memo: string | undefined;
  if (binary !== undefined) {
    try {
      const st = statSync(binary);
      const key = createHash('sha256').update(`${path}\n${binary}\n${st.size}\n${st.mtimeMs}\n${st.ino}`).digest('hex').slice(0, 24);
      memo = `compiler_${key}.version`;
      for (const dir of kernelCacheDirs().read) {
        try {
          const known = JSON.parse(readFileSync(join(dir, memo), 'utf8')) as { version?: unknown; isGcc?: unknown };
          if (typeof known.version === 'string' && typeof known.isGcc === 'boolean') return { version: known.version, isGcc: known.isGcc };
        } catch {
          // not remembered here
        }
      }
    } catch {
      memo = undefined;
    }
  }
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return { problem: `\`${path} --version\` failed (${r.error?.message ?? r.stderr?.trim() ?? `exit ${r.status}`})` };
  const answer = {
    version: (r.stdout ?? '').split('\n')[0],
    isGcc: /Free Software Foundation|\bgcc\b/i.test(r.stdout ?? '') && !/clang/i.test(r.stdout ?? ''),
  };
  if (memo !== undefined) {
    try {
      const dir = kernelCacheDir();
      mkdirSync(dir, { recursive: true });
      const tmp = temporaryName(dir, 'compiler');
      writeFileSync(tmp, JSON.stringify(answer));
      renameSync(tmp, join(dir, memo));
    } catch {
      // an unwritable cache: probe again next time
    }
  }
  return answer;
}

/** The system C compiler ($CC or cc), or null with the reason in compilerError(). */
export function findCompiler(): CompilerInfo | null {
  if (compiler !== undefined) return compiler;
  const path = process.env.CC || 'cc';
  const probed = compilerVersion(path);
  if ('problem' in probed) {
    compilerProblem = `no working C compiler: ${probed.problem}; install gcc or clang, or set CC`;
    compiler = null;
    return null;
  }
  const { version, isGcc } = probed;
  const flags = isGcc && (process.arch === 'x64' || process.arch === 'ia32') ? [...C_FLAGS, ...GCC_X86_FLAGS] : C_FLAGS;
  compiler = {
    path,
    flags,
    isGcc,
    id: createHash('sha256')
      .update(`${path}\n${version}\n${withOpt(flags, 0).join(' ')}`)
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

/** `flags` with its -O level replaced by -O`opt`. */
function withOpt(flags: readonly string[], opt: number): string[] {
  return flags.map((f) => (/^-O\d$/.test(f) ? `-O${opt}` : f));
}

/** How misses are built: see the module comment. */
export type CompileMode = 'tiered' | 'full' | 'fast';

/** The compile mode from METALARRAY_COMPILE (read on each call: tests switch it). */
export function compileMode(): CompileMode {
  const m = process.env.METALARRAY_COMPILE;
  return m === 'full' || m === 'fast' ? m : 'tiered';
}

let cpuId: string | undefined;

/**
 * Identifies the CPU the code is built for (-march=native): a cache shared between
 * machines never hands one machine's instructions to another.
 */
function cpuIdentity(): string {
  if (cpuId !== undefined) return cpuId;
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^(flags|Features)\s*:(.*)$/m)?.[2] ?? '';
  } catch {
    // no /proc (macOS): the model name identifies the chip
  }
  cpuId = `${process.platform}-${process.arch}-${cpus()[0]?.model ?? ''}-${flags}`;
  return cpuId;
}

let dirs: KernelCacheDirs | undefined;

/** The cache directories (decided once per process; see the module comment). */
export function kernelCacheDirs(): KernelCacheDirs {
  dirs ??= openCacheDirs(join(cacheRoot(), 'cpu'), stopPrivateChildren);
  return dirs;
}

/** The directory new kernels are compiled into. */
export function kernelCacheDir(): string {
  return kernelCacheDirs().write;
}

/** The hash state after the prelude, kept per prelude text: kernels hash only their body. */
let preludeHash: { prelude: string; hash: ReturnType<typeof createHash> } | undefined;

/**
 * A stable kernel symbol for a source: the hash of prelude, body and target CPU. The
 * compiler is not part of it, so a warm cache is found without one; entries record
 * their compiler and a different one rebuilds them.
 */
export function kernelName(body: string, prelude: string): string {
  if (preludeHash?.prelude !== prelude) preludeHash = { prelude, hash: createHash('sha256').update(prelude).update(cpuIdentity()) };
  return `k_${preludeHash.hash.copy().update(body).digest('hex').slice(0, 24)}`;
}

/**
 * The verified cached object holding kernel `name`, or undefined. With a compiler, only
 * its own builds count (and, in tiered mode, TinyCC's first-tier builds, which it then
 * rebuilds); in 'full' mode only -O3 builds.
 */
export function cachedKernel(name: string): KernelCacheHit | undefined {
  const full = compileMode() === 'full';
  // TinyCC's first-tier builds count in tiered mode only, where they are rebuilt at -O3.
  const tiered = compileMode() === 'tiered';
  const accept = (e: KernelCacheEntry): boolean => {
    if (full && e.opt < FULL_OPT) return false;
    if (tiered && e.builder.startsWith(TCC_BUILDER_PREFIX) && e.opt < FULL_OPT) return true;
    const c = findCompiler(); // only once an entry is found: a cold start never needs it
    return !c || e.builder === c.id;
  };
  const d = kernelCacheDirs();
  return findVerified(d.read, name, accept, d.write, { bytes: false });
}

/** The compiler, or a BackendUnavailableError naming the kernels that need it. */
function requireCompiler(kernels: readonly { name: string }[]): CompilerInfo {
  const c = findCompiler();
  if (c) return c;
  const names = kernels.map((k) => k.name).join(', ');
  throw new BackendUnavailableError(
    `cpu backend: kernel ${names} is not in the kernel cache (${kernelCacheDirs().read.join(', ')}) and cannot be compiled: there is ${compilerProblem}. A warm cache runs without a compiler; a new kernel needs one.`,
  );
}

/** A compiled batch: the object's path, the level it was built at and by what. */
export interface CompiledBatch {
  path: string;
  opt: number;
  /** 'tcc' (TinyCC's first tier) or the system compiler's level, e.g. '-O0'. */
  tier: string;
  /** Whether an -O3 rebuild was started (tiered mode, with a system compiler). */
  upgrading: boolean;
}

/**
 * Compiles the kernels in one compiler run at the mode's first level, stores the object
 * and one entry per kernel, and (tiered mode) starts the -O3 rebuild in the background.
 * In tiered mode TinyCC builds the first tier where it is installed (./tcc.ts), unless
 * `systemCompilerOnly` (the backend's retry when TinyCC's object would not load); a
 * batch TinyCC rejects goes to the system compiler at -O0.
 */
export function compileBatch(prelude: string, kernels: readonly { name: string; source: string }[], systemCompilerOnly = false): CompiledBatch {
  const bodies = `${kernels.map((k) => k.source).join('\n\n')}\n`;
  const source = `${prelude}\n${bodies}`;
  const mode = compileMode();
  const dir = kernelCacheDir();
  mkdirSync(dir, { recursive: true }); // recreated if deleted while the process runs
  const tcc = mode === 'tiered' && !systemCompilerOnly && tccFailuresInARow < TCC_GIVE_UP_AFTER ? tinyCompiler() : null;
  if (tcc) {
    // No `cc --version` probe here: the background build makes it, after the result.
    const batch = compileFirstTierWithTcc(tcc, tinySource(tcc, prelude, bodies, dir, kernelCacheDirs().privateWrite), source, kernels, dir);
    if (batch) return batch;
  }
  const c = requireCompiler(kernels);
  const opt = mode === 'full' ? FULL_OPT : mode === 'fast' ? FAST_OPT : FIRST_OPT;
  const header = opt === FIRST_OPT ? preludeHeader(c, prelude, dir) : null;
  const cFile = temporaryName(dir, 'src', '.c');
  const tmpSo = temporaryName(dir, 'so');
  try {
    const firstTier = opt === FIRST_OPT && c.isGcc;
    writeFileSync(cFile, header !== null ? `#include "${header}"\n${bodies}` : firstTier ? `${optimizedPrelude(prelude)}\n${bodies}` : source);
    const r = spawnSync(c.path, [...withOpt(c.flags, opt), '-o', tmpSo, cFile, '-lm'], { encoding: 'utf8', timeout: COMPILE_TIMEOUT_MS });
    if (r.error || r.status !== 0) {
      const why = r.error ? r.error.message : `${c.path} exited with ${r.status}`;
      throw new CompileError(`C compilation of ${kernels.map((k) => k.name).join(', ')} failed: ${why}`, source, r.stderr ?? '');
    }
    const stored = storeObject(dir, readFileSync(tmpSo), 'so');
    for (const k of kernels) storeEntry(dir, k.name, { object: stored.object, sha256: stored.sha256, builder: c.id, opt });
    if (mode === 'tiered') startFullBuildOf(source, dir, kernels, stored.object);
    return { path: join(dir, stored.object), opt, tier: `-O${opt}`, upgrading: mode === 'tiered' };
  } finally {
    rmSync(cFile, { force: true });
    rmSync(tmpSo, { force: true });
  }
}

/** A tcc that fails this many batches in a row is broken (not a dialect gap): stop trying it. */
const TCC_GIVE_UP_AFTER = 3;
let tccFailuresInARow = 0;

/**
 * The TinyCC first tier of a batch (`tccSource`: see tinySource; `source`, prelude
 * inline, goes to the -O3 build), stored in the cache under TinyCC's builder id, with
 * its -O3 rebuild started; undefined if TinyCC rejected the batch (logged at
 * METALARRAY_DEBUG=1), so the caller compiles it with the system compiler.
 */
function compileFirstTierWithTcc(
  tcc: TinyCompiler,
  tccSource: string,
  source: string,
  kernels: readonly { name: string; source: string }[],
  dir: string,
): CompiledBatch | undefined {
  const tmpSo = temporaryName(dir, 'so');
  try {
    const log = compileWithTinyCompiler(tcc, tccSource, tmpSo);
    if (log !== '') {
      tccFailuresInARow++;
      if (debugLevel >= 1) {
        debugLog(`tcc could not compile ${kernels.map((k) => k.name).join(', ')} (the system compiler builds them): ${log}`);
        if (tccFailuresInARow === TCC_GIVE_UP_AFTER) debugLog(`tcc failed ${TCC_GIVE_UP_AFTER} batches in a row: not used again in this process`);
      }
      return undefined;
    }
    tccFailuresInARow = 0;
    const stored = storeObject(dir, readFileSync(tmpSo), 'so');
    for (const k of kernels) storeEntry(dir, k.name, { object: stored.object, sha256: stored.sha256, builder: tcc.id, opt: FIRST_OPT });
    if (systemCompilerInstalled()) startFullBuildOf(source, dir, kernels, stored.object);
    return { path: join(dir, stored.object), opt: FIRST_OPT, tier: 'tcc', upgrading: systemCompilerInstalled() };
  } finally {
    rmSync(tmpSo, { force: true });
  }
}

/** Writes the batch's source (prelude inline) and starts its background -O3 build. */
function startFullBuildOf(source: string, dir: string, kernels: readonly { name: string }[], replaces: string): void {
  // The -O3 build reads the prelude inline: a header precompiled at -O0 is not used at -O3.
  const fullSource = temporaryName(dir, 'src', '.c');
  writeFileSync(fullSource, source);
  startFullBuild(
    fullSource,
    dir,
    kernels.map((k) => k.name),
    replaces,
  );
}

/**
 * The prelude's helpers (exp, tanh, float16 rounding...) are compiled at -O2 inside an
 * -O0 kernel: with -O0 helpers a first gelu over 4M floats ran ~10x slower, while the
 * kernel's own loop at -O0 stays cheap to compile (only the helpers a kernel calls are
 * compiled at all). Same IEEE flags, so the same bits as every other level.
 */
const HELPERS_OPTIMIZED = '#pragma GCC push_options\n#pragma GCC optimize ("O2")';

/** Per header: 'ready' (its .gch exists), 'building' (in the background) or 'failed'. */
const preludeHeaders = new Map<string, 'ready' | 'building' | 'failed'>();

/** The prelude wrapped so its helpers compile at -O2 (see HELPERS_OPTIMIZED). */
function optimizedPrelude(prelude: string): string {
  return `${HELPERS_OPTIMIZED}\n${prelude}\n#pragma GCC pop_options\n`;
}

/**
 * GCC: the path of a header holding the prelude (helpers at -O2), with its precompiled
 * form (`.h.gch`, which GCC loads instead of parsing the header) beside it in the cache
 * directory, once per prelude text, compiler and flags. Parsing the 40 KB prelude and
 * its system headers is a good part of an -O0 compile. Null until the .gch exists: the
 * first call starts its build in the background (a process of its own, so it
 * completes for later processes too) and that compile puts the prelude inline, so no
 * compile waits for it. Null also where there is no GCC or the build failed. A stale
 * .gch only costs time (GCC falls back to the header's text), never correctness.
 */
function preludeHeader(c: CompilerInfo, prelude: string, dir: string): string | null {
  if (!c.isGcc) return null;
  const flags = withOpt(c.flags, FIRST_OPT).filter((f) => f !== '-shared');
  const key = createHash('sha256')
    .update(`${c.id}\n${flags.join(' ')}\n${HELPERS_OPTIMIZED}\n${prelude}`)
    .digest('hex')
    .slice(0, 24);
  const header = join(dir, `prelude_${key}.h`);
  const state = preludeHeaders.get(header);
  if (state === 'ready') return header;
  if (state === 'failed') return null;
  if (existsSync(`${header}.gch`) && existsSync(header)) {
    preludeHeaders.set(header, 'ready');
    return header;
  }
  if (state === 'building') return null;
  const tmpHeader = temporaryName(dir, 'prelude', '.h');
  try {
    writeFileSync(tmpHeader, optimizedPrelude(prelude));
    // The header is renamed first: a .gch is only used beside its header's final name.
    const q = (x: string): string => `'${x.replace(/'/g, "'\\''")}'`;
    const script =
      `${[c.path, ...flags, '-x', 'c-header', '-o', `${tmpHeader}.gch`, tmpHeader].map(q).join(' ')} && ` +
      `mv -f ${q(tmpHeader)} ${q(header)} && mv -f ${q(`${tmpHeader}.gch`)} ${q(`${header}.gch`)}; ` +
      `rm -f ${q(tmpHeader)} ${q(`${tmpHeader}.gch`)}`;
    startSoon(
      () => ({ command: 'sh', args: ['-c', script], options: {} }),
      kernelCacheDirs().privateWrite,
      () => preludeHeaders.set(header, 'failed'),
    );
    preludeHeaders.set(header, 'building');
  } catch {
    rmSync(tmpHeader, { force: true });
    preludeHeaders.set(header, 'failed'); // an unwritable cache: the prelude stays inline
  }
  return null;
}

/**
 * Starts the -O3 rebuild of kernels whose cached build is at a lower level (a process
 * that exited before its rebuild finished). Returns false if no compiler is there.
 */
export function upgradeCached(prelude: string, kernels: readonly { name: string; source: string }[]): boolean {
  if (!systemCompilerInstalled() || kernels.length === 0) return false;
  const dir = kernelCacheDir();
  try {
    mkdirSync(dir, { recursive: true });
    const cFile = temporaryName(dir, 'src', '.c');
    writeFileSync(cFile, `${prelude}\n${kernels.map((k) => k.source).join('\n\n')}\n`);
    startFullBuild(
      cFile,
      dir,
      kernels.map((k) => k.name),
      null,
    );
    return true;
  } catch {
    return false; // an unwritable cache: the kernels keep their -O1 code
  }
}

/**
 * The background rebuild, run by `node -e` so it completes the cache even after this
 * process exits (unless the cache is private, whose children are killed at exit). It
 * runs at the lowest CPU priority, writes the object under its hash, then the entries.
 */
const FULL_BUILD_SCRIPT = `
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const job = JSON.parse(process.argv[1]);
try { os.setPriority(19); } catch {}
const tmp = job.cFile + '.o3.so';
try {
  const r = spawnSync(job.cc, [...job.flags, '-o', tmp, job.cFile, '-lm'], { timeout: job.timeoutMs });
  if (!r.error && r.status === 0) {
    const bytes = fs.readFileSync(tmp);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const object = 'obj_' + sha.slice(0, 32) + '.so';
    const put = (name, data) => { const t = path.join(job.dir, name + '.' + process.pid + '.tmp'); fs.writeFileSync(t, data); fs.renameSync(t, path.join(job.dir, name)); };
    put(object, bytes);
    for (const n of job.names) put(n + '.json', JSON.stringify({ object, sha256: sha, builder: job.builder, opt: job.opt }));
    // The -O1 object has no entry left (its batch moved as a whole); a process that has
    // it loaded keeps its mapping.
    if (job.replaces && job.replaces !== object) fs.rmSync(path.join(job.dir, job.replaces), { force: true });
  }
} catch {}
try { fs.rmSync(tmp, { force: true }); } catch {}
try { fs.rmSync(job.cFile, { force: true }); } catch {}
`;

function startFullBuild(cFile: string, dir: string, names: readonly string[], replaces: string | null): void {
  // The compiler is probed (`cc --version`, a process) only when the build starts, after
  // the first tier's result; a failed start leaves the first-tier code in place.
  const prepare = (): ProcessRequest | null => {
    const c = findCompiler();
    if (!c) return null;
    const job = { cc: c.path, flags: withOpt(c.flags, FULL_OPT), cFile, dir, names, builder: c.id, opt: FULL_OPT, timeoutMs: COMPILE_TIMEOUT_MS, replaces };
    return { command: process.execPath, args: ['-e', FULL_BUILD_SCRIPT, JSON.stringify(job)], options: { env: { ...process.env, NODE_OPTIONS: '' } } };
  };
  startSoon(prepare, kernelCacheDirs().privateWrite, () => rmSync(cFile, { force: true }));
}
