/**
 * The first tier of the tiered compile by TinyCC (`tcc`): it builds a shared object from
 * the prelude and a batch of kernels in ~20 ms, where one GCC run costs 0.2–0.5 s even
 * at -O0, so a new graph runs at once and the -O3 build lands in the background as
 * before (compiler.ts). Its code is slow (no vectorization, calls for math helpers); it
 * lasts only until the -O3 build is swapped in.
 *
 * Same bits as the -O3 build: TinyCC does SSE arithmetic in each type's own precision
 * and never contracts a*b+c, like the flags of compiler.ts (no fast-math,
 * -ffp-contract=off). The one difference in the C the two see is the target macros of
 * -march=native that the prelude tests (FMA: where the CPU has it the prelude's
 * polynomials use fmaf, rounded once); they are passed to TinyCC as -D flags, so both
 * compile the same C (libm's fmaf is exact, as the fused instruction is).
 *
 * The compiler is the `tcc` program (Debian/Ubuntu: `apt-get install tcc`), run once per
 * batch: Debian ships libtcc only as a static archive, and a process start (~5 ms) is a
 * small part of the budget. METALARRAY_TCC picks it: unset, empty or '1' finds `tcc` on
 * PATH; '0', 'off' or 'false' turns the tier off; anything else is the program's path.
 * Without it (or when it rejects a batch) the first tier is GCC at -O0, as before.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { debugLevel, debugLog } from '../../core/metrics.js';
import { temporaryName } from '../kernel-cache.js';
import { startSoon } from './background.js';
import { findProgram } from './programs.js';

/** Cache entries built by TinyCC carry a builder id with this prefix. */
export const TCC_BUILDER_PREFIX = 'tcc-';
const TCC_TIMEOUT_MS = 30_000;

/** A TinyCC program found for the first tier. */
export interface TinyCompiler {
  path: string;
  /** The full command line before the output name: dialect and target macros. */
  flags: readonly string[];
  /** Identifies program and flags in cache entries (TCC_BUILDER_PREFIX + hash). */
  id: string;
}

/** The last lookup, per METALARRAY_TCC value (tests switch it between processes only, but cheaply). */
let found: { request: string; compiler: TinyCompiler | null; problem: string } | undefined;

/** Whether METALARRAY_TCC turns the tier off. */
function disabled(request: string): boolean {
  return request === '0' || request === 'off' || request === 'false';
}

/**
 * The -D flags of the target macros the prelude tests, as the system compiler defines
 * them with -march=native: FMA where the CPU has it (x86: the `fma` flag of cpuinfo,
 * which is what -march=native reads; AArch64 always has it). tcc defines its own
 * architecture macros (__x86_64__, __aarch64__) and no compiler-identity ones
 * (__GNUC__), which keep the prelude's GCC-only attributes out.
 */
function targetDefines(): string[] {
  const fma = ['-D__FP_FAST_FMAF=1', '-D__FP_FAST_FMA=1'];
  if (process.arch === 'arm64') return ['-D__ARM_FEATURE_FMA=1', ...fma];
  if (process.arch !== 'x64') return [];
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    return []; // no /proc: no tcc first tier is expected there either (see tinyCompiler)
  }
  return /\bfma\b/.test(flags) ? ['-D__FMA__=1', ...fma] : [];
}

/**
 * The TinyCC program for the first tier, or null (turned off, not installed, or not
 * Linux, where tcc's output is not a shared object dlopen takes). Read on each call:
 * tests switch METALARRAY_TCC.
 */
export function tinyCompiler(): TinyCompiler | null {
  const request = process.env.METALARRAY_TCC ?? '';
  if (found?.request === request) return found.compiler;
  let path: string | undefined;
  let problem = '';
  if (disabled(request)) problem = `turned off by METALARRAY_TCC=${request}`;
  else if (process.platform !== 'linux') problem = 'the TinyCC first tier is used on Linux only';
  else path = findProgram(request === '' || request === '1' ? 'tcc' : request);
  if (path === undefined && problem === '')
    problem = request === '' || request === '1' ? 'no `tcc` on PATH' : `METALARRAY_TCC=${request}: not found (or not executable)`;
  let compiler: TinyCompiler | null = null;
  if (path !== undefined) {
    try {
      const st = statSync(path);
      // tcc 0.9.27 lacks C99's _Pragma operator; the kernels use it only for GCC's unroll hints.
      const flags = ['-shared', '-std=c11', '-w', '-D_Pragma(hint)=', ...targetDefines()];
      const id = createHash('sha256')
        .update(`${path}\n${st.size}\n${st.mtimeMs}\n${flags.join(' ')}`)
        .digest('hex')
        .slice(0, 16);
      compiler = { path, flags, id: `${TCC_BUILDER_PREFIX}${id}` };
    } catch (err) {
      problem = `METALARRAY_TCC=${request}: ${(err as Error).message}`;
    }
  }
  if (compiler === null && request !== '' && request !== '1' && !disabled(request)) {
    // A program named explicitly and not there: say so once, then use GCC's first tier.
    process.emitWarning(`metalarray: ${problem}; kernels are first compiled by the system compiler at -O0`, { code: 'METALARRAY_TCC' });
  }
  found = { request, compiler, problem };
  return compiler;
}

/** Why there is no TinyCC first tier ('' if there is one). */
export function tinyCompilerProblem(): string {
  tinyCompiler();
  return found?.problem ?? '';
}

/**
 * Compiles `source` (prelude and kernels, read from stdin: no source file) into the
 * shared object `output`. Returns '' on success, else tcc's log: the caller falls back
 * to the system compiler for this batch.
 */
export function compileWithTinyCompiler(t: TinyCompiler, source: string, output: string): string {
  const r = spawnSync(t.path, [...t.flags, '-o', output, '-', '-lm'], { input: source, encoding: 'utf8', timeout: TCC_TIMEOUT_MS });
  if (r.error) return r.error.message;
  if (r.status !== 0) return `${t.path} exited with ${r.status ?? r.signal}: ${(r.stderr ?? '').trim()}`;
  return '';
}

/** Per expanded-headers file: 'ready' (it exists), 'building' (in the background) or 'failed'. */
const expandedHeaders = new Map<string, 'ready' | 'building' | 'failed'>();

/** Shell quoting of one word. */
function quoted(word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * The source TinyCC compiles for a batch. The prelude's system headers (stdint, stdlib,
 * string, math) are half of a tcc run's CPU time (~11 of ~25 ms): once per tcc, flags
 * and include list they are expanded with their macros (`tcc -E -dD`, a background
 * process queued like the -O3 builds) into `tcc_headers_<key>.h` in the cache
 * directory, and later batches include that file instead; the C that tcc compiles is
 * the same. Until the file exists (or if its build failed) the includes stay as they are.
 */
export function tinySource(t: TinyCompiler, prelude: string, bodies: string, dir: string, privateDir: boolean): string {
  const includes = prelude.match(/^#include <[^>\n]+>$/gm) ?? [];
  if (includes.length === 0) return `${prelude}\n${bodies}`;
  const key = createHash('sha256')
    .update(`${t.id}\n${includes.join('\n')}`)
    .digest('hex')
    .slice(0, 24);
  const header = join(dir, `tcc_headers_${key}.h`);
  let state = expandedHeaders.get(header);
  if ((state === undefined || state === 'building') && existsSync(header)) {
    state = 'ready';
    expandedHeaders.set(header, state);
    if (debugLevel >= 1) debugLog(`tcc: system headers expanded once, in ${header}`);
  }
  if (state === 'ready') return `#include "${header}"\n${prelude.replace(/^#include <[^>\n]+>$/gm, '')}\n${bodies}`;
  if (state === undefined) {
    expandedHeaders.set(header, 'building');
    const tmp = temporaryName(dir, 'tcc_headers', '.h');
    const flags = t.flags.filter((f) => f !== '-shared');
    const script =
      `printf '%s\\n' ${includes.map(quoted).join(' ')} | ${[t.path, ...flags, '-E', '-dD', '-o', tmp, '-'].map(quoted).join(' ')} && ` +
      `mv -f ${quoted(tmp)} ${quoted(header)}; rm -f ${quoted(tmp)}`;
    startSoon(
      () => ({ command: 'sh', args: ['-c', script], options: {} }),
      privateDir,
      () => expandedHeaders.set(header, 'failed'),
    );
  }
  return `${prelude}\n${bodies}`;
}
