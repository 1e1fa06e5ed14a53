/**
 * `npm run bench`: times each workload on metalarray and on NumPy in the same run,
 * prints a table and writes bench/results/latest.json. See bench/README.md.
 *
 * Flags (after `npm run bench --`):
 *   --only=gelu,affine,chain,first-eval,rowsum,sum,softmax,layernorm,matmul,matmul-relu,sort,runplan,memory,coldstart,loops
 *                                         run a subset
 *   --no-numpy                            skip NumPy (ratios become n/a)
 *   --strict                              exit with status 1 if a target is missed
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ma from '../dist/index.js';
import { runPlanOverheadSamples } from './runplan.js';
import { benchMemory } from './memory.js';
import {
  AFFINE_COLS,
  AFFINE_ROWS,
  type Budget,
  CHAIN_N,
  CHAIN_OPS,
  GELU_N,
  LAYERNORM_COLS,
  LAYERNORM_ROWS,
  MATMUL_N,
  ROWSUM_COLS,
  ROWSUM_ROWS,
  SOFTMAX_COLS,
  SOFTMAX_ROWS,
  SORT_COLS,
  SORT_ROWS,
  SUM_N,
  type Stats,
  affine,
  affineReference,
  argsortReference,
  chain,
  chainOps,
  chainReference,
  gelu,
  geluReference,
  layerNorm,
  layerNormReference,
  matmulFlops,
  matmulReference,
  matmulRelu,
  matmulReluReference,
  maxError,
  quantile,
  rowSumReference,
  softmaxReference,
  sortReference,
  sumReference,
  timeGraph,
  uniform,
} from './workloads.js';

import { loopRows } from './loops.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const PEER = join(BENCH_DIR, 'numpy_peer.py');
const FIRST_EVAL = join(BENCH_DIR, 'first_eval.ts');
const RESULTS_DIR = join(BENCH_DIR, 'results');
// The in-process rows measure steady state: -O3 code from the start, not the -O1 code a
// tiered build runs until its background -O3 build lands (~1 s). Child processes (the
// first-eval row) get the user's default, tiered, unless the caller set a mode.
const userCompileMode = process.env.METALARRAY_COMPILE;
process.env.METALARRAY_COMPILE ??= 'full';

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const onlyArg = argv.find((a) => a.startsWith('--only='));
const WORKLOAD_IDS = [
  'gelu',
  'affine',
  'chain',
  'first-eval',
  'rowsum',
  'sum',
  'softmax',
  'layernorm',
  'matmul',
  'matmul-relu',
  'sort',
  'runplan',
  'memory',
  'coldstart',
  'loops',
] as const;
type WorkloadId = (typeof WORKLOAD_IDS)[number];
const only = new Set(onlyArg ? onlyArg.slice('--only='.length).split(',') : WORKLOAD_IDS);
for (const id of only) {
  if (!(WORKLOAD_IDS as readonly string[]).includes(id)) {
    console.error(`bench: unknown workload '${id}' in --only (known: ${WORKLOAD_IDS.join(', ')})`);
    process.exit(2);
  }
}
const selected = (id: WorkloadId): boolean => only.has(id);

// ---------------------------------------------------------------- NumPy

/** Which BLAS NumPy's matrix product runs, as numpy_peer.py's `version` finds it. */
interface BlasInfo {
  /** e.g. "OpenBLAS 0.3.21", "reference BLAS (Netlib)", "Intel MKL". */
  name: string;
  openblas: boolean;
  /** Real path of the library `a @ b` calls, or null if none was found. */
  library: string | null;
  /** OpenBLAS's own `openblas_get_config()` string. */
  config: string | null;
  /** OpenBLAS's thread count. */
  threads: number | null;
  /** What NumPy's build configuration names (Debian's NumPy says just "blas"). */
  build: string | null;
  /** How `library` was found: "dladdr of cblas_sgemm" (the symbol NumPy binds to), or a guess from the mapped libraries. */
  method?: string;
  /** Every BLAS-like library mapped into the process. */
  loaded: string[];
}

interface NumpyInfo {
  python: string;
  numpy: string;
  pythonVersion: string;
  executable: string;
  blas: BlasInfo | null;
}

function run(cmd: string, args: readonly string[], timeoutMs: number, env?: NodeJS.ProcessEnv) {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env: env ?? process.env, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
}

function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

function tail(text: string | null | undefined, lines = 4): string {
  return (text ?? '')
    .trim()
    .split('\n')
    .slice(-lines)
    .map((l) => `      ${l}`)
    .join('\n');
}

/** NumPy's version and BLAS under `python`, or null if numpy_peer.py can't run there. */
function probePython(python: string): NumpyInfo | null {
  const r = run(python, ['-c', 'import numpy'], 30_000);
  if (r.status !== 0) return null;
  const v = run(python, [PEER, 'version'], 60_000);
  if (v.status !== 0) return null;
  const info = lastJsonLine(v.stdout) as { numpy: string; python: string; executable: string; blas?: BlasInfo };
  return { python, numpy: info.numpy, pythonVersion: info.python, executable: info.executable, blas: info.blas ?? null };
}

/** The first of /usr/bin/python3 and python3 that imports numpy. */
function probeNumpy(): NumpyInfo | null {
  const candidates = ['/usr/bin/python3', 'python3'].filter((p) => !p.startsWith('/') || existsSync(p));
  for (const python of candidates) {
    const info = probePython(python);
    if (info) return info;
  }
  return null;
}

/** apt-get's lines worth showing after a successful step: what it installed and what it switched. */
const APT_SUMMARY = /^(Setting up|update-alternatives|The following NEW|\d+ upgraded|.*is already the newest)/;

/** Runs one apt-get step (as root, or through `sudo -n`), saying what it does. */
function aptGet(args: readonly string[], log?: { command: string; status: number | null }[]): boolean {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const cmd = root ? 'apt-get' : 'sudo';
  const full = root ? [...args] : ['-n', 'apt-get', ...args];
  console.log(`  running: ${cmd} ${full.join(' ')}`);
  const r = run(cmd, full, 600_000, { ...process.env, DEBIAN_FRONTEND: 'noninteractive' });
  log?.push({ command: `${cmd} ${full.join(' ')}`, status: r.error ? null : r.status });
  if (r.error) {
    console.log(`    failed to start: ${r.error.message}`);
    return false;
  }
  console.log(`    exit status ${r.status}`);
  if (r.status !== 0) console.log(tail(r.stderr || r.stdout));
  else {
    const summary = r.stdout.split('\n').filter((l) => APT_SUMMARY.test(l.trim()));
    if (summary.length) console.log(summary.map((l) => `      ${l.trim()}`).join('\n'));
  }
  return r.status === 0;
}

function blasLabel(b: BlasInfo | null): string {
  if (!b) return 'unknown (numpy_peer.py did not say)';
  const threads = b.threads ? `, ${b.threads} thread${b.threads === 1 ? '' : 's'}` : '';
  return `${b.name}${b.library ? ` (${b.library}${threads})` : threads ? ` (${threads.slice(2)})` : ''}`;
}

/** What was done to get an OpenBLAS-backed NumPy for the matmul rows (recorded in the JSON). */
const blasSetup: { before: BlasInfo | null; steps: { command: string; status: number | null }[]; after: BlasInfo | null; note: string } = {
  before: null,
  steps: [],
  after: null,
  note: '',
};

/**
 * The matmul rows compare against NumPy on OpenBLAS. If the chosen Python's NumPy runs
 * another BLAS (Debian's NumPy runs the reference BLAS unless OpenBLAS provides
 * libblas.so.3), installs Debian's libopenblas0-pthread, which registers itself as the
 * libblas.so.3 alternative, and looks again. Updates `np.blas` in place.
 */
function ensureOpenblas(np: NumpyInfo): void {
  blasSetup.before = np.blas;
  if (np.blas?.openblas) {
    blasSetup.after = np.blas;
    blasSetup.note = 'already OpenBLAS';
    return;
  }
  console.log(`NumPy's BLAS is ${np.blas?.name ?? 'unknown'}, not OpenBLAS; the matmul rows need OpenBLAS: installing Debian's libopenblas0-pthread.`);
  if (run('apt-get', ['--version'], 10_000).status !== 0) {
    console.log('  apt-get is not available on this machine.');
    blasSetup.note = 'apt-get not available';
  } else {
    let ok = aptGet(['install', '-y', 'libopenblas0-pthread'], blasSetup.steps);
    if (!ok) {
      console.log('  install failed; refreshing the package lists and trying again.');
      ok = aptGet(['update'], blasSetup.steps) && aptGet(['install', '-y', 'libopenblas0-pthread'], blasSetup.steps);
    }
    blasSetup.note = ok ? 'libopenblas0-pthread installed' : 'apt-get could not install libopenblas0-pthread';
  }
  const again = probePython(np.python);
  if (again) np.blas = again.blas;
  blasSetup.after = np.blas;
  console.log(
    np.blas?.openblas
      ? `  NumPy now runs ${blasLabel(np.blas)}.`
      : `  NumPy still runs ${np.blas?.name ?? 'an unknown BLAS'}: the matmul rows' ratios are marked "vs ${np.blas?.name ?? 'unknown BLAS'}" and their targets (set against OpenBLAS) are not judged.`,
  );
}

let noNumpyReason = '';

function findNumpy(skip: boolean): NumpyInfo | null {
  if (skip) {
    console.log('NumPy: skipped (--no-numpy); ratios are n/a.');
    return null;
  }
  let info = probeNumpy();
  if (!info) {
    console.log("NumPy: neither /usr/bin/python3 nor python3 can `import numpy`; installing Debian's python3-numpy.");
    let why = 'apt-get is not available on this machine';
    if (run('apt-get', ['--version'], 10_000).status !== 0) {
      console.log(`  ${why}.`);
    } else {
      let ok = aptGet(['install', '-y', 'python3-numpy']);
      if (!ok) {
        console.log('  install failed; refreshing the package lists and trying again.');
        ok = aptGet(['update']) && aptGet(['install', '-y', 'python3-numpy']);
      }
      why = ok ? 'python3-numpy installed, but numpy still does not import' : 'apt-get could not install python3-numpy';
    }
    info = probeNumpy();
    if (!info) noNumpyReason = why;
  }
  if (info) {
    console.log(`NumPy ${info.numpy} (Python ${info.pythonVersion}, ${info.executable}); BLAS: ${blasLabel(info.blas)}`);
  } else {
    console.log(
      `NumPy: NOT AVAILABLE. Neither /usr/bin/python3 nor python3 can import numpy (${noNumpyReason}).\n` +
        '  To fix: `apt-get install -y python3-numpy` as root, or `pip install numpy` for python3.\n' +
        '  Showing metalarray numbers alone; ratios are n/a.',
    );
  }
  return info;
}

function numpyTime(np: NumpyInfo | null, workload: string, args: readonly (string | number)[], budget: Budget): Stats | null {
  if (!np) return null;
  const all = [
    PEER,
    workload,
    ...args.map(String),
    '--warmup',
    String(budget.warmup),
    '--iters',
    String(budget.iters),
    '--min-iters',
    String(budget.minIters),
    '--max-seconds',
    String(budget.maxSeconds),
  ];
  const r = run(np.python, all, 300_000);
  if (r.status !== 0) {
    console.log(`  NumPy peer failed on ${workload} (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${tail(r.stderr, 8)}`);
    return null;
  }
  return lastJsonLine(r.stdout) as Stats;
}

// ---------------------------------------------------------------- results

type Unit = 'ms' | 'us';

interface Target {
  /** What is compared: NumPy's time over metalarray's, or metalarray's time itself. */
  kind: 'ratio-at-least' | 'time-at-most';
  value: number;
  unit: Unit | 'x';
}

interface WorkloadResult {
  id: string;
  name: string;
  description: string;
  unit: Unit;
  metalarray: Stats | null;
  metalarrayNoFusion: Stats | null;
  numpy: Stats | null;
  /** numpy median / metalarray median. */
  ratio: number | null;
  target: Target;
  /** null when the target can't be judged (no NumPy for a ratio target). */
  pass: boolean | null;
  /** CPU cores that other processes kept busy, on average, while this workload ran (Linux only). */
  otherLoadCores: number | null;
  /** What NumPy's side ran on, when that matters to the ratio (the BLAS of the matmul rows). */
  ratioVs?: string;
  details: Record<string, unknown>;
}

const results: WorkloadResult[] = [];
const problems: string[] = [];
/** Workloads that threw instead of producing a result. */
const errors: { label: string; message: string }[] = [];

function judge(target: Target, maMs: number | undefined, ratio: number | null): boolean | null {
  if (maMs === undefined) return null;
  if (target.kind === 'ratio-at-least') return ratio === null ? null : ratio >= target.value;
  const limitMs = target.unit === 'us' ? target.value / 1000 : target.value;
  return maMs <= limitMs;
}

/** `judged: false`: the ratio is shown but the target is not judged (NumPy is not the peer the target assumes). */
function record(r: Omit<WorkloadResult, 'ratio' | 'pass' | 'otherLoadCores'> & { judged?: boolean }): void {
  const { judged = true, ...rest } = r;
  const ratio = r.metalarray && r.numpy ? r.numpy.medianMs / r.metalarray.medianMs : null;
  results.push({ ...rest, ratio, pass: judged ? judge(r.target, r.metalarray?.medianMs, ratio) : null, otherLoadCores: null });
}

// ---------------------------------------------------------------- background load

/** Clock ticks per second of /proc/stat and /proc/self/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;
/** Above this many cores used by other processes, timings are flagged as unreliable. */
const LOAD_WARNING_CORES = 0.25;

interface CpuSample {
  wallMs: number;
  /** Busy ticks of the whole machine. */
  machine: number;
  /** Ticks of this process and its waited-for children (NumPy peer, first-eval child). */
  own: number;
}

function cpuSample(): CpuSample | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = cpu[3] + (cpu[4] ?? 0); // idle + iowait
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal; guest time is already in user
    const self = readFileSync('/proc/self/stat', 'utf8');
    const f = self
      .slice(self.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number); // f[0] is field 3 (state)
    const own = f[11] + f[12] + f[13] + f[14]; // utime, stime, cutime, cstime
    return { wallMs: performance.now(), machine: total - idle, own };
  } catch {
    return null;
  }
}

/** Average number of cores other processes used between two samples. */
function otherCores(a: CpuSample | null, b: CpuSample | null): number | null {
  if (!a || !b || b.wallMs <= a.wallMs) return null;
  const ticks = b.machine - a.machine - (b.own - a.own);
  return Math.max(0, ticks / USER_HZ / ((b.wallMs - a.wallMs) / 1000));
}

/** Runs one workload and notes how busy the rest of the machine was meanwhile. */
function withLoad(label: string, fn: () => void): void {
  const first = results.length;
  const a = cpuSample();
  try {
    fn();
  } catch (err) {
    // A library error must not hide the other workloads' numbers: report it and go on.
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.log(`  ERROR: ${label} threw:\n${tail(message, 12)}`);
    problems.push(`${label}: threw ${message.split('\n')[0]}`);
    errors.push({ label, message });
  }
  const cores = otherCores(a, cpuSample());
  for (let i = first; i < results.length; i++) results[i].otherLoadCores = cores;
  if (cores !== null && cores > LOAD_WARNING_CORES)
    console.log(`  WARNING: other processes kept ~${cores.toFixed(2)} cores busy meanwhile; these timings are not reliable.`);
}

/** Other processes' load over one idle second before the benchmarks start. */
function idleLoad(): number | null {
  const a = cpuSample();
  if (!a) return null;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  return otherCores(a, cpuSample());
}

/** Checks a result against its float64 reference before timing anything. */
function check(label: string, got: ma.MetalArray, want: Float64Array, tolerance: number): number {
  const values = got.toTypedArray() as Float32Array;
  const err = maxError(values, want);
  if (!(err <= tolerance)) problems.push(`${label}: WRONG RESULT, max relative error ${err} > ${tolerance}`);
  return err;
}

/** Runs `fn` with fresh counters; gives the counters and kernel launches per eval. */
function instrumented<T>(fn: () => T): { value: T; launchesPerEval: (evals: number) => number; metrics: ma.Metrics } {
  ma.resetMetrics();
  const value = fn();
  const metrics = ma.metrics();
  return { value, metrics, launchesPerEval: (evals) => metrics.kernelLaunches / evals };
}

function evalsOf(s: Stats): number {
  return s.warmup + s.iterations;
}

// ---------------------------------------------------------------- workloads

function benchGelu(np: NumpyInfo | null): void {
  console.log(`\n[a] gelu on ${GELU_N} float32 ...`);
  const data = uniform(GELU_N, -3, 3, 1);
  const x = ma.array(data);
  const before = ma.memory().activeBytes;
  const want = geluReference(data);
  const budget: Budget = { warmup: 3, iters: 30, minIters: 8, maxSeconds: 6 };

  const fusedCheck = gelu(x);
  const err = check('gelu', fusedCheck, want, 1e-4);
  fusedCheck.dispose();
  const fused = instrumented(() => timeGraph(() => gelu(x), budget));

  ma.setFusion(false);
  let unfused: ReturnType<typeof instrumented<Stats>>;
  let errUnfused: number;
  try {
    const c = gelu(x);
    errUnfused = check('gelu (fusion off)', c, want, 1e-4);
    c.dispose();
    unfused = instrumented(() => timeGraph(() => gelu(x), budget));
  } finally {
    ma.setFusion(true);
  }
  const leaked = ma.memory().activeBytes - before;
  x.dispose();

  const numpy = numpyTime(np, 'gelu', ['--n', GELU_N], budget);
  record({
    id: 'gelu',
    name: 'a. gelu 4M f32',
    description: '0.5*x*(1+tanh(0.79788456*(x+0.044715*x^3))) on 4M float32, elementwise ops; per iteration: build + eval + dispose',
    unit: 'ms',
    metalarray: fused.value,
    metalarrayNoFusion: unfused.value,
    numpy,
    target: { kind: 'ratio-at-least', value: 5, unit: 'x' },
    details: {
      maxRelError: err,
      maxRelErrorFusionOff: errUnfused,
      kernelLaunchesPerEval: fused.launchesPerEval(evalsOf(fused.value)),
      kernelLaunchesPerEvalFusionOff: unfused.launchesPerEval(evalsOf(unfused.value)),
      leakedBytes: leaked,
    },
  });
}

function benchAffine(np: NumpyInfo | null): void {
  console.log(`\n[b] affine on ${AFFINE_ROWS}x${AFFINE_COLS} float32 ...`);
  const aData = uniform(AFFINE_ROWS * AFFINE_COLS, -3, 3, 2);
  const muData = uniform(AFFINE_COLS, -1, 1, 3);
  const scData = uniform(AFFINE_COLS, 0.5, 1.5, 4);
  const biData = uniform(AFFINE_COLS, -1, 1, 5);
  const a = ma.array(aData).reshape([AFFINE_ROWS, AFFINE_COLS]);
  const mu = ma.array(muData);
  const sc = ma.array(scData);
  const bi = ma.array(biData);
  ma.eval(a); // the reshape of a leaf is a view: nothing to compute, but make it explicit
  const before = ma.memory().activeBytes;
  const want = affineReference(aData, muData, scData, biData, AFFINE_COLS);
  const budget: Budget = { warmup: 3, iters: 30, minIters: 8, maxSeconds: 6 };
  const build = (): ma.MetalArray => affine(a, mu, sc, bi);

  const c1 = build();
  const err = check('affine', c1, want, 1e-5);
  c1.dispose();
  const fused = instrumented(() => timeGraph(build, budget));

  ma.setFusion(false);
  let unfused: ReturnType<typeof instrumented<Stats>>;
  let errUnfused: number;
  try {
    const c2 = build();
    errUnfused = check('affine (fusion off)', c2, want, 1e-5);
    c2.dispose();
    unfused = instrumented(() => timeGraph(build, budget));
  } finally {
    ma.setFusion(true);
  }
  const leaked = ma.memory().activeBytes - before;
  ma.dispose([a, mu, sc, bi]);

  const numpy = numpyTime(np, 'affine', ['--rows', AFFINE_ROWS, '--cols', AFFINE_COLS], budget);
  record({
    id: 'affine',
    name: 'b. affine 2048x2048',
    description: '(a - mu) * sc + bi, a 2048x2048 float32, mu/sc/bi length-2048 row vectors broadcast; per iteration: build + eval + dispose',
    unit: 'ms',
    metalarray: fused.value,
    metalarrayNoFusion: unfused.value,
    numpy,
    target: { kind: 'ratio-at-least', value: 2, unit: 'x' },
    details: {
      maxRelError: err,
      maxRelErrorFusionOff: errUnfused,
      kernelLaunchesPerEval: fused.launchesPerEval(evalsOf(fused.value)),
      kernelLaunchesPerEvalFusionOff: unfused.launchesPerEval(evalsOf(unfused.value)),
      leakedBytes: leaked,
    },
  });
}

function benchChain(np: NumpyInfo | null): void {
  console.log(`\n[c] chain of ${CHAIN_OPS} ops on ${CHAIN_N} float32 ...`);
  const data = uniform(CHAIN_N, -1, 1, 6);
  const x = ma.array(data);
  const ops = chainOps(CHAIN_OPS);
  const before = ma.memory().activeBytes;
  const budget: Budget = { warmup: 200, iters: 2000, minIters: 200, maxSeconds: 10 };
  const c = chain(x, ops);
  const err = check('chain', c, chainReference(data, ops), 1e-3);
  c.dispose();
  const timed = instrumented(() => timeGraph(() => chain(x, ops), budget));
  const leaked = ma.memory().activeBytes - before;
  x.dispose();
  const evals = evalsOf(timed.value);

  const numpy = numpyTime(np, 'chain', ['--n', CHAIN_N, '--ops', CHAIN_OPS], budget);
  record({
    id: 'chain',
    name: 'c. 100-op chain, 1024 f32',
    description: '(x*1.0001 + 0.0001, sin(x)) repeated to 100 ops on 1024 float32; warm plan cache; per iteration: build + eval + dispose',
    unit: 'us',
    metalarray: timed.value,
    metalarrayNoFusion: null,
    numpy,
    target: { kind: 'time-at-most', value: 50, unit: 'us' },
    details: {
      maxRelError: err,
      kernelLaunchesPerEval: timed.launchesPerEval(evals),
      planCacheHitRate: timed.metrics.planCacheHits / evals,
      leakedBytes: leaked,
    },
  });

  // The same chain through ma.compile (issue 20): traced once, then each call binds x
  // and launches the stored kernels; no graph is built, hashed or planned.
  const compiledChain = ma.compile((a: ma.MetalArray) => chain(a, ops));
  const xc = ma.array(data);
  const cc = compiledChain(xc);
  const errCompiled = check('chain (compiled)', cc, chainReference(data, ops), 1e-3);
  cc.dispose();
  const beforeCompiled = ma.memory().activeBytes;
  const timedCompiled = instrumented(() => timeGraph(() => compiledChain(xc), budget));
  const leakedCompiled = ma.memory().activeBytes - beforeCompiled;
  xc.dispose();
  const evalsCompiled = evalsOf(timedCompiled.value);
  record({
    id: 'chain-compiled',
    name: "c'. 100-op chain, 1024 f32, ma.compile",
    description:
      'the same chain as c. through ma.compile: per iteration one compiled call (bind, launch, wrap the result) + dispose; uncompiled figure of c. and NumPy beside it',
    unit: 'us',
    metalarray: timedCompiled.value,
    metalarrayNoFusion: null,
    numpy,
    target: { kind: 'time-at-most', value: 10, unit: 'us' },
    details: {
      maxRelError: errCompiled,
      kernelLaunchesPerCall: timedCompiled.launchesPerEval(evalsCompiled),
      planLookupsPerCall: (timedCompiled.metrics.planCacheHits + timedCompiled.metrics.planCacheMisses) / evalsCompiled,
      leakedBytes: leakedCompiled,
      uncompiledMedianUs: timed.value.medianMs * 1000,
      speedupOverUncompiled: timed.value.medianMs / timedCompiled.value.medianMs,
    },
  });

  // The same on 16 elements, where the kernel is short: what a call costs besides it.
  const small = ma.array(data.subarray(0, 16));
  const smallUncompiled = timeGraph(() => chain(small, ops), budget);
  const smallCompiled = timeGraph(() => compiledChain(small), budget);
  small.dispose();
  record({
    id: 'chain-compiled-16',
    name: "c''. 100-op chain, 16 f32, ma.compile",
    description: 'the chain of c. on 16 elements through ma.compile (the per-call cost besides the kernel); uncompiled in details',
    unit: 'us',
    metalarray: smallCompiled,
    metalarrayNoFusion: null,
    numpy: numpyTime(np, 'chain', ['--n', 16, '--ops', CHAIN_OPS], budget),
    target: { kind: 'time-at-most', value: 10, unit: 'us' },
    details: {
      uncompiledMedianUs: smallUncompiled.medianMs * 1000,
      speedupOverUncompiled: smallUncompiled.medianMs / smallCompiled.medianMs,
    },
  });
}

interface ChildTimed {
  ops: string[];
  ms: number;
  metrics: ma.Metrics;
}
interface ChildReport {
  seed: number;
  first: ChildTimed;
  second: ChildTimed;
}

const LAUNCHERS: { label: string; cmd: string; args: string[] }[] = [
  { label: 'node --import tsx', cmd: process.execPath, args: ['--import', 'tsx', FIRST_EVAL] },
  { label: 'npx tsx', cmd: 'npx', args: ['--no-install', 'tsx', FIRST_EVAL] },
];
let launcher: (typeof LAUNCHERS)[number] | null = null;

function runChild(seed: number, cacheDir: string): ChildReport {
  const env = { ...process.env, METALARRAY_CACHE_DIR: cacheDir, METALARRAY_COMPILE: userCompileMode ?? 'tiered' };
  const tried: string[] = [];
  for (const l of launcher ? [launcher] : LAUNCHERS) {
    const r = run(l.cmd, [...l.args, '--seed', String(seed)], 300_000, env);
    if (r.status === 0) {
      launcher = l;
      return lastJsonLine(r.stdout) as ChildReport;
    }
    tried.push(`${l.label}: exit ${r.status}${r.error ? ` (${r.error.message})` : ''}\n${tail(r.stderr, 8)}`);
  }
  throw new Error(`first_eval child failed:\n${tried.join('\n')}`);
}

function statsOf(valuesMs: readonly number[]): Stats {
  const s = [...valuesMs].sort((a, b) => a - b);
  return {
    medianMs: quantile(s, 0.5),
    minMs: s[0],
    p10Ms: quantile(s, 0.1),
    p90Ms: quantile(s, 0.9),
    meanMs: s.reduce((a, b) => a + b, 0) / s.length,
    iterations: s.length,
    warmup: 0,
  };
}

/** l. The native core's cost per plan (was a time bound in test/unit/native.test.ts). */
function benchRunPlan(): void {
  console.log('\n[l] runPlan overhead: a one-kernel plan (the kernel bumps a counter), 30 batches of 10000 calls ...');
  record({
    id: 'runplan',
    name: 'l. runPlan, 1-kernel plan',
    description: 'addon.runPlan of a one-kernel plan whose kernel bumps a counter; per call, median over 30 batches of 10000',
    unit: 'us',
    metalarray: statsOf(runPlanOverheadSamples()),
    metalarrayNoFusion: null,
    numpy: null,
    target: { kind: 'time-at-most', value: 2, unit: 'us' },
    details: {},
  });
}

function benchFirstEval(): void {
  const PAIRS = 5;
  console.log(`\n[d] first-eval latency: ${PAIRS} fresh graphs, each cold (empty cache dir) then warm (same dir), in child processes ...`);
  const cold: ChildReport[] = [];
  const warm: ChildReport[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const seed = (Math.random() * 2 ** 31) >>> 0;
    const dir = mkdtempSync(join(os.tmpdir(), 'metalarray-bench-'));
    try {
      cold.push(runChild(seed, dir));
      warm.push(runChild(seed, dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const r of cold) if (r.first.metrics.kernelsCompiled < 1) problems.push(`first-eval cold (seed ${r.seed}): no kernel was compiled`);
  for (const r of warm) if (r.first.metrics.kernelsCompiled > 0) problems.push(`first-eval warm (seed ${r.seed}): a kernel was recompiled`);
  const details = (rs: ChildReport[]) => ({
    launcher: launcher?.label,
    runs: rs.map((r) => ({
      seed: r.seed,
      ops: r.first.ops,
      ms: r.first.ms,
      compileMs: r.first.metrics.compileMs,
      kernelsCompiled: r.first.metrics.kernelsCompiled,
    })),
    secondGraphInProcess: statsOf(rs.map((r) => r.second.ms)),
    secondGraphRuns: rs.map((r) => ({ ops: r.second.ops, ms: r.second.ms })),
  });
  record({
    id: 'first-eval-cold',
    name: 'd. first eval, cold cache',
    description: 'unseen 6-op elementwise graph, first eval in a fresh process on an empty kernel cache: build + eval (compile) + read back',
    unit: 'ms',
    metalarray: statsOf(cold.map((r) => r.first.ms)),
    metalarrayNoFusion: null,
    numpy: null,
    target: { kind: 'time-at-most', value: 250, unit: 'ms' },
    details: details(cold),
  });
  record({
    id: 'first-eval-warm',
    name: 'd. first eval, warm disk',
    description: 'the same graph in a second fresh process on the same cache dir: build + eval (dlopen) + read back',
    unit: 'ms',
    metalarray: statsOf(warm.map((r) => r.first.ms)),
    metalarrayNoFusion: null,
    numpy: null,
    target: { kind: 'time-at-most', value: 5, unit: 'ms' },
    details: details(warm),
  });
}

// ---------------------------------------------------------------- e-j: reductions, normalizations, matmul

type Instrumented = ReturnType<typeof instrumented<Stats>>;

/** Checks and times `build` with fusion on, then off (e-j; a and b do the same inline). */
function measureFusedAndUnfused(label: string, build: () => ma.MetalArray, want: Float64Array, tolerance: number, budget: Budget) {
  const c1 = build();
  const err = check(label, c1, want, tolerance);
  c1.dispose();
  const fused = instrumented(() => timeGraph(build, budget));
  ma.setFusion(false);
  let unfused: Instrumented;
  let errUnfused: number;
  try {
    const c2 = build();
    errUnfused = check(`${label} (fusion off)`, c2, want, tolerance);
    c2.dispose();
    unfused = instrumented(() => timeGraph(build, budget));
  } finally {
    ma.setFusion(true);
  }
  return { fused, unfused, err, errUnfused };
}

type Measured = ReturnType<typeof measureFusedAndUnfused>;

function fusedDetails(m: Measured, leaked: number): Record<string, unknown> {
  return {
    maxRelError: m.err,
    maxRelErrorFusionOff: m.errUnfused,
    kernelLaunchesPerEval: m.fused.launchesPerEval(evalsOf(m.fused.value)),
    kernelLaunchesPerEvalFusionOff: m.unfused.launchesPerEval(evalsOf(m.unfused.value)),
    leakedBytes: leaked,
  };
}

/** A row-major `rows`×`cols` float32 input, evaluated (the reshape of a leaf is a view). */
function matrix(data: Float32Array, rows: number, cols: number): ma.MetalArray {
  const m = ma.array(data).reshape([rows, cols]);
  ma.eval(m);
  return m;
}

function benchRowSum(np: NumpyInfo | null): void {
  console.log(`\n[e] row sum of ${ROWSUM_ROWS}x${ROWSUM_COLS} float32 ...`);
  const data = uniform(ROWSUM_ROWS * ROWSUM_COLS, 0, 1, 11);
  const x = matrix(data, ROWSUM_ROWS, ROWSUM_COLS);
  const before = ma.memory().activeBytes;
  const want = rowSumReference(data, ROWSUM_ROWS, ROWSUM_COLS);
  const budget: Budget = { warmup: 5, iters: 60, minIters: 10, maxSeconds: 4 };
  const m = measureFusedAndUnfused('rowsum', () => x.sum(1), want, 1e-5, budget);
  const leaked = ma.memory().activeBytes - before;
  x.dispose();
  record({
    id: 'rowsum',
    name: 'e. row sum 2048x2048',
    description: 'x.sum(1), x 2048x2048 float32 uniform in [0, 1); per iteration: build + eval + dispose',
    unit: 'ms',
    metalarray: m.fused.value,
    metalarrayNoFusion: m.unfused.value,
    numpy: numpyTime(np, 'rowsum', ['--rows', ROWSUM_ROWS, '--cols', ROWSUM_COLS], budget),
    target: { kind: 'ratio-at-least', value: 1, unit: 'x' },
    details: fusedDetails(m, leaked),
  });
}

function benchSum(np: NumpyInfo | null): void {
  console.log(`\n[f] full sum of ${SUM_N} float32 ...`);
  const data = uniform(SUM_N, 0, 1, 12);
  const x = ma.array(data);
  const before = ma.memory().activeBytes;
  const want = sumReference(data);
  const budget: Budget = { warmup: 3, iters: 30, minIters: 8, maxSeconds: 5 };
  const m = measureFusedAndUnfused('sum', () => x.sum(), want, 1e-5, budget);
  const leaked = ma.memory().activeBytes - before;
  x.dispose();
  record({
    id: 'sum',
    name: 'f. full sum 16M f32',
    description: 'x.sum(), x 16M float32 uniform in [0, 1) (float32 result, checked against a float64 sum); per iteration: build + eval + dispose',
    unit: 'ms',
    metalarray: m.fused.value,
    metalarrayNoFusion: m.unfused.value,
    numpy: numpyTime(np, 'sum', ['--n', SUM_N], budget),
    target: { kind: 'ratio-at-least', value: 1.5, unit: 'x' },
    details: fusedDetails(m, leaked),
  });
}

function benchSoftmax(np: NumpyInfo | null): void {
  console.log(`\n[g] softmax over the rows of ${SOFTMAX_ROWS}x${SOFTMAX_COLS} float32 ...`);
  const data = uniform(SOFTMAX_ROWS * SOFTMAX_COLS, -4, 4, 13);
  const x = matrix(data, SOFTMAX_ROWS, SOFTMAX_COLS);
  const before = ma.memory().activeBytes;
  const want = softmaxReference(data, SOFTMAX_ROWS, SOFTMAX_COLS);
  const budget: Budget = { warmup: 3, iters: 30, minIters: 8, maxSeconds: 5 };
  // Outputs are ~1/2048: an absolute 1e-6 (maxError divides by max(1, |want|)) is still strict.
  const m = measureFusedAndUnfused('softmax', () => ma.softmax(x, -1), want, 1e-6, budget);
  const leaked = ma.memory().activeBytes - before;
  x.dispose();
  record({
    id: 'softmax',
    name: 'g. softmax rows 2048x2048',
    description:
      'ma.softmax(x, -1), x 2048x2048 float32 uniform in [-4, 4); NumPy: m = x.max(1, keepdims=True); e = np.exp(x - m); e / e.sum(1, keepdims=True); per iteration: build + eval + dispose',
    unit: 'ms',
    metalarray: m.fused.value,
    metalarrayNoFusion: m.unfused.value,
    numpy: numpyTime(np, 'softmax', ['--rows', SOFTMAX_ROWS, '--cols', SOFTMAX_COLS], budget),
    target: { kind: 'ratio-at-least', value: 4, unit: 'x' },
    details: fusedDetails(m, leaked),
  });
}

function benchLayerNorm(np: NumpyInfo | null): void {
  console.log(`\n[h] layer norm of ${LAYERNORM_ROWS}x${LAYERNORM_COLS} float32 with gain and bias ...`);
  const data = uniform(LAYERNORM_ROWS * LAYERNORM_COLS, -3, 3, 14);
  const gData = uniform(LAYERNORM_COLS, 0.5, 1.5, 15);
  const bData = uniform(LAYERNORM_COLS, -1, 1, 16);
  const x = matrix(data, LAYERNORM_ROWS, LAYERNORM_COLS);
  const g = ma.array(gData);
  const b = ma.array(bData);
  const before = ma.memory().activeBytes;
  const want = layerNormReference(data, gData, bData, LAYERNORM_ROWS, LAYERNORM_COLS);
  const budget: Budget = { warmup: 3, iters: 40, minIters: 8, maxSeconds: 5 };
  const m = measureFusedAndUnfused('layernorm', () => layerNorm(x, g, b), want, 1e-4, budget);
  const leaked = ma.memory().activeBytes - before;
  ma.dispose([x, g, b]);
  record({
    id: 'layernorm',
    name: 'h. layer norm 4096x512',
    description:
      'mu = ma.mean(x, -1, true); v = ma.var(x, -1, true); (x - mu) / sqrt(v + 1e-5) * g + b, x 4096x512 float32, g/b length-512; NumPy the same with np.mean/np.var; per iteration: build + eval + dispose',
    unit: 'ms',
    metalarray: m.fused.value,
    metalarrayNoFusion: m.unfused.value,
    numpy: numpyTime(np, 'layernorm', ['--rows', LAYERNORM_ROWS, '--cols', LAYERNORM_COLS], budget),
    target: { kind: 'ratio-at-least', value: 3, unit: 'x' },
    details: fusedDetails(m, leaked),
  });
}

/** Inputs and float64 product shared by i and j (the reference product is ~1 s of JS: computed once). */
let matmulInputs: { a: Float32Array; b: Float32Array; bias: Float32Array; product: Float64Array } | null = null;

function matmulData() {
  if (!matmulInputs) {
    const n = MATMUL_N;
    const a = uniform(n * n, -1, 1, 17);
    const b = uniform(n * n, -1, 1, 18);
    const bias = uniform(n, -1, 1, 19);
    matmulInputs = { a, b, bias, product: matmulReference(a, b, n, n, n) };
  }
  return matmulInputs;
}

/** Which path metalarray's product takes, read from the plan explain() prints for `graph`. */
function matmulPath(graph: ma.MetalArray): { path: string; kernels: { name: string; kind: string }[] } {
  const backend = ma.getBackend();
  const lang = backend === 'cpu' ? 'C' : backend;
  const kernels = [...ma.explain(graph).matchAll(/^ {2}kernel \d+ (\S+) \((.+)\):/gm)].map((m) => ({ name: m[1], kind: m[2] }));
  const library = kernels.find((k) => k.kind.startsWith('matmul via '));
  if (library) {
    const rest = kernels.length - 1;
    return { path: `${library.kind.slice('matmul via '.length)}${rest > 0 ? ` + ${rest} generated kernel${rest > 1 ? 's' : ''}` : ''}`, kernels };
  }
  if (!kernels.some((k) => k.kind === 'matmul')) return { path: `generated ${lang} kernels (no 'matmul' kernel in the plan)`, kernels };
  return { path: `generated ${lang} kernel`, kernels };
}

function gflops(flops: number, s: Stats | null): number | null {
  return s ? flops / (s.medianMs * 1e6) : null;
}

/**
 * One matmul row per CPU path: 'auto' (the system BLAS where there is one; target 0.8x
 * NumPy on OpenBLAS) and 'generated' (the generated kernel alone; target 0.3x).
 */
function benchMatmul(np: NumpyInfo | null, withEpilogue: boolean, mode: 'auto' | 'generated'): void {
  ma.setCpuMatmul(mode);
  try {
    benchMatmulMode(np, withEpilogue, mode);
  } finally {
    ma.setCpuMatmul('auto');
  }
}

function benchMatmulMode(np: NumpyInfo | null, withEpilogue: boolean, mode: 'auto' | 'generated'): void {
  const n = MATMUL_N;
  const tag = `${withEpilogue ? 'j' : 'i'}${mode === 'generated' ? "'" : ''}`;
  console.log(`\n[${tag}] ${withEpilogue ? 'relu(a @ b + bias)' : 'a @ b'} at ${n}x${n}x${n} float32, cpu matmul mode ${mode} ...`);
  const data = matmulData();
  const a = matrix(data.a, n, n);
  const b = matrix(data.b, n, n);
  const bias = ma.array(data.bias);
  const before = ma.memory().activeBytes;
  const want = withEpilogue ? matmulReluReference(data.product, data.bias, n) : data.product;
  const build = withEpilogue ? () => matmulRelu(a, b, bias) : () => ma.matmul(a, b);
  const probe = build();
  const { path, kernels } = matmulPath(probe);
  probe.dispose();
  const budget: Budget = { warmup: 2, iters: 20, minIters: 5, maxSeconds: 5 };
  const id = `${withEpilogue ? 'matmul-relu' : 'matmul'}${mode === 'generated' ? '-generated' : ''}`;
  const m = measureFusedAndUnfused(id, build, want, 1e-4, budget);
  const leaked = ma.memory().activeBytes - before;
  ma.dispose([a, b, bias]);
  const numpy = numpyTime(np, withEpilogue ? 'matmul-relu' : 'matmul', ['--n', n], budget);
  const flops = matmulFlops(n, n, n);
  const blas = np?.blas ?? null;
  record({
    id,
    name: withEpilogue ? `${tag}. relu(a@b+bias) ${n} (${path})` : `${tag}. matmul ${n} f32 (${path})`,
    description: withEpilogue
      ? `ma.relu(ma.matmul(a, b).add(bias)), a/b ${n}x${n} float32, bias length ${n}; NumPy np.maximum(a @ b + bias, 0); per iteration: build + eval + dispose`
      : `ma.matmul(a, b), a/b ${n}x${n} float32; NumPy a @ b; per iteration: build + eval + dispose`,
    unit: 'ms',
    metalarray: m.fused.value,
    metalarrayNoFusion: m.unfused.value,
    numpy,
    target: { kind: 'ratio-at-least', value: mode === 'generated' ? 0.3 : 0.8, unit: 'x' },
    ratioVs: blas ? (blas.openblas ? 'OpenBLAS' : blas.name.replace(/ \(.*\)$/, '')) : 'unknown BLAS',
    judged: blas?.openblas === true,
    details: {
      ...fusedDetails(m, leaked),
      metalarrayPath: path,
      cpuMatmulMode: mode,
      metalarrayBlas: ma.blasInfo(),
      kernels,
      flops,
      gflops: { metalarray: gflops(flops, m.fused.value), metalarrayFusionOff: gflops(flops, m.unfused.value), numpy: gflops(flops, numpy) },
      numpyBlas: blas,
    },
  });
}

// ---------------------------------------------------------------- k: sorting

/**
 * Sorts (k) and argsorts (k') each row of 1000×1000 float32 along the last axis: the
 * ratio is against NumPy's stable sort (metalarray's sort is stable; NumPy's default
 * quicksort is not), and NumPy's default is timed too and shown in the notes.
 */
function benchSort(np: NumpyInfo | null): void {
  for (const op of ['sort', 'argsort'] as const) {
    const letter = op === 'sort' ? 'k' : "k'";
    console.log(`\n[${letter}] ${op} of each row of ${SORT_ROWS}x${SORT_COLS} float32 ...`);
    const data = uniform(SORT_ROWS * SORT_COLS, -1, 1, 17);
    const x = matrix(data, SORT_ROWS, SORT_COLS);
    const before = ma.memory().activeBytes;
    const want = op === 'sort' ? sortReference(data, SORT_ROWS, SORT_COLS) : argsortReference(data, SORT_ROWS, SORT_COLS);
    const build = () => (op === 'sort' ? ma.sort(x, -1) : ma.argsort(x, -1));
    const c = build();
    // exact: a sort moves values, an argsort gives the stable order
    const values = Float64Array.from(c.toTypedArray() as Float32Array | Int32Array);
    const err = maxError(values, want);
    if (!(err === 0)) problems.push(`${op}: WRONG RESULT, max error ${err}`);
    c.dispose();
    const budget: Budget = { warmup: 3, iters: 30, minIters: 8, maxSeconds: 5 };
    const timed = instrumented(() => timeGraph(build, budget));
    const leaked = ma.memory().activeBytes - before;
    x.dispose();
    const args = ['--rows', SORT_ROWS, '--cols', SORT_COLS];
    const quick = numpyTime(np, op, [...args, '--kind', 'quicksort'], budget);
    const stable = numpyTime(np, op, [...args, '--kind', 'stable'], budget);
    record({
      id: op,
      name: `${letter}. ${op} rows 1000x1000 f32`,
      description: `ma.${op}(x, -1), x 1000x1000 float32 uniform in [-1, 1) (stable, NaN last); NumPy np.${op}(x, axis=-1, kind='stable'); per iteration: build + eval + dispose`,
      unit: 'ms',
      metalarray: timed.value,
      metalarrayNoFusion: null,
      numpy: stable,
      ratioVs: 'np stable',
      target: { kind: 'ratio-at-least', value: 2, unit: 'x' },
      details: {
        maxError: err,
        kernelLaunchesPerEval: timed.launchesPerEval(evalsOf(timed.value)),
        leakedBytes: leaked,
        numpyQuicksort: quick,
        ratioVsNumpyQuicksort: quick ? quick.medianMs / timed.value.medianMs : null,
      },
    });
  }
}

// ---------------------------------------------------------------- report

function fmtTime(ms: number | undefined, unit: Unit): string {
  if (ms === undefined || Number.isNaN(ms)) return 'n/a';
  if (unit === 'us') return `${(ms * 1000).toFixed(1)} µs`;
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

function fmtTarget(t: Target): string {
  if (t.kind === 'ratio-at-least') return `≥ ${t.value}×`;
  return `≤ ${t.value} ${t.unit === 'us' ? 'µs' : 'ms'}`;
}

function printTable(): void {
  const header = ['workload', 'metalarray', 'fusion off', 'NumPy', 'ratio np/ma', 'target', 'result'];
  const rows = results.map((r) => [
    r.name,
    fmtTime(r.metalarray?.medianMs, r.unit),
    r.metalarrayNoFusion ? fmtTime(r.metalarrayNoFusion.medianMs, r.unit) : '-',
    r.numpy ? fmtTime(r.numpy.medianMs, r.unit) : r.id.startsWith('first-eval') ? '-' : 'n/a',
    r.ratio === null ? 'n/a' : `${r.ratio.toFixed(2)}×${r.ratioVs ? ` vs ${r.ratioVs}` : ''}`,
    fmtTarget(r.target),
    r.pass === null ? 'n/a' : r.pass ? 'PASS' : 'FAIL',
  ]);
  for (const e of errors) rows.push([e.label, 'ERROR', '-', '-', 'n/a', '-', 'FAIL']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`\n${line(header)}`);
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log('\nmedians per iteration; ratio = NumPy median / metalarray median (higher is better for metalarray).');
  const mm = results.filter((r) => r.id.startsWith('matmul'));
  if (mm.length) {
    const blas = mm[0].details.numpyBlas as BlasInfo | null;
    const mine = ma.blasInfo();
    console.log(
      `matmul: i and j run metalarray's default path (system BLAS: ${mine.available ? mine.library : `none, ${mine.reason}`}), i' and j' its generated kernel alone; NumPy's a @ b ran ${blas ? blasLabel(blas) : 'n/a (no NumPy)'}.`,
    );
    for (const r of mm) {
      const g = r.details.gflops as Record<string, number | null>;
      const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(1));
      console.log(
        `  ${r.name.split(' (')[0]}: GFLOP/s (2n³ / median) metalarray ${f(g.metalarray)}, fusion off ${f(g.metalarrayFusionOff)}, NumPy ${f(g.numpy)}`,
      );
    }
    if (blas && !blas.openblas)
      console.log(
        `  NOTE: NumPy here runs ${blas.name}, NOT OpenBLAS: the matmul ratios are vs ${blas.name}; their ≥ 0.8× targets are set against OpenBLAS and are not judged (n/a).`,
      );
  }
}

function printNotes(): void {
  for (const r of results) {
    const d = r.details;
    const parts: string[] = [];
    if (typeof d.kernelLaunchesPerEval === 'number') parts.push(`kernels/eval ${d.kernelLaunchesPerEval.toFixed(1)}`);
    if (typeof d.kernelLaunchesPerEvalFusionOff === 'number') parts.push(`fusion off ${d.kernelLaunchesPerEvalFusionOff.toFixed(1)}`);
    if (typeof d.maxRelError === 'number') parts.push(`max rel err ${d.maxRelError.toExponential(1)}`);
    if (typeof d.leakedBytes === 'number' && d.leakedBytes !== 0) parts.push(`ACTIVE BYTES GREW BY ${d.leakedBytes}`);
    if (r.metalarray) parts.push(`p10-p90 ${fmtTime(r.metalarray.p10Ms, r.unit)}-${fmtTime(r.metalarray.p90Ms, r.unit)}, n=${r.metalarray.iterations}`);
    const quick = d.numpyQuicksort as Stats | null | undefined;
    if (quick)
      parts.push(`NumPy default kind (quicksort, unstable): ${fmtTime(quick.medianMs, r.unit)}, ratio ${(d.ratioVsNumpyQuicksort as number).toFixed(2)}×`);
    const second = d.secondGraphInProcess as Stats | undefined;
    if (second) parts.push(`another unseen graph in the same (warmed) process: median ${fmtTime(second.medianMs, 'ms')}`);
    if (r.otherLoadCores !== null)
      parts.push(`other processes: ${r.otherLoadCores.toFixed(2)} cores${r.otherLoadCores > LOAD_WARNING_CORES ? ' (NOISY)' : ''}`);
    console.log(`  ${r.name}: ${parts.join('; ')}`);
  }
  if (problems.length) {
    console.log('\nPROBLEMS:');
    for (const p of problems) console.log(`  - ${p}`);
  }
}

function compilerVersion(): string | null {
  const r = run(process.env.CC || 'cc', ['--version'], 10_000);
  return r.status === 0 ? r.stdout.split('\n')[0] : null;
}

function gitInfo(): { commit: string; dirty: boolean } | null {
  const c = run('git', ['rev-parse', 'HEAD'], 10_000);
  if (c.status !== 0) return null;
  const s = run('git', ['status', '--porcelain'], 10_000);
  return { commit: c.stdout.trim(), dirty: s.stdout.trim().length > 0 };
}

function writeJson(np: NumpyInfo | null, startedAt: Date, seconds: number, background: number | null): string {
  const cpus = os.cpus();
  const json = {
    date: startedAt.toISOString(),
    durationSeconds: seconds,
    machine: {
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      cpuModel: cpus[0]?.model ?? 'unknown',
      cpuCount: cpus.length,
      totalMemoryGiB: os.totalmem() / 2 ** 30,
      node: process.version,
      numpy: np ? np.numpy : null,
      python: np ? `${np.pythonVersion} (${np.executable})` : null,
      numpyBlas: np ? np.blas : null,
      numpyBlasName: np?.blas ? np.blas.name : null,
      numpyBlasSetup: blasSetup.before || blasSetup.steps.length ? blasSetup : null,
      compiler: compilerVersion(),
      backend: ma.getBackend(),
      loadAverage: os.loadavg(),
      backgroundLoadCores: background,
    },
    git: gitInfo(),
    workloads: results,
    errors,
    problems,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, 'latest.json');
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
  return path;
}

function main(): void {
  const startedAt = new Date();
  const t0 = performance.now();
  const cpus = os.cpus();
  let backend: string;
  try {
    backend = ma.getBackend();
  } catch (err) {
    console.error(`bench: metalarray cannot run here: ${(err as Error).message}\nBuild the native addon first: npm run build`);
    process.exit(1);
  }
  console.log(`metalarray benchmarks — ${cpus[0]?.model ?? 'unknown CPU'} x${cpus.length}, Node ${process.version}, backend ${backend}`);
  const np = findNumpy(flag('no-numpy'));
  if (np && (selected('matmul') || selected('matmul-relu'))) ensureOpenblas(np);
  const background = idleLoad();
  if (background !== null) {
    const busy = background > LOAD_WARNING_CORES;
    console.log(
      `background load before starting: ${background.toFixed(2)} of ${cpus.length} cores busy${busy ? ' — WARNING: the machine is not idle; timings will be noisy' : ''}`,
    );
  }
  if (selected('gelu')) withLoad('a. gelu', () => benchGelu(np));
  if (selected('affine')) withLoad('b. affine', () => benchAffine(np));
  if (selected('chain')) withLoad('c. chain', () => benchChain(np));
  if (selected('first-eval')) withLoad('d. first eval', () => benchFirstEval());
  if (selected('rowsum')) withLoad('e. row sum', () => benchRowSum(np));
  if (selected('sum')) withLoad('f. full sum', () => benchSum(np));
  if (selected('softmax')) withLoad('g. softmax', () => benchSoftmax(np));
  if (selected('layernorm')) withLoad('h. layer norm', () => benchLayerNorm(np));
  if (selected('matmul')) withLoad('i. matmul', () => benchMatmul(np, false, 'auto'));
  if (selected('matmul-relu')) withLoad('j. relu(a@b+bias)', () => benchMatmul(np, true, 'auto'));
  if (selected('matmul')) withLoad("i'. matmul, generated kernel", () => benchMatmul(np, false, 'generated'));
  if (selected('matmul-relu')) withLoad("j'. relu(a@b+bias), generated kernel", () => benchMatmul(np, true, 'generated'));
  if (selected('sort')) withLoad('k. sort', () => benchSort(np));
  if (selected('runplan')) withLoad('l. runPlan overhead', () => benchRunPlan());
  if (selected('memory')) withLoad('m. memory', () => benchMemory()); // bench/memory.ts prints its own table
  if (selected('coldstart')) {
    // n. cold/warm start in fresh processes: bench/coldstart.ts prints its own table.
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'coldstart.ts')], { stdio: 'inherit', timeout: 900_000 });
    if (r.status !== 0) problems.push(`l. cold start: bench/coldstart.ts exited with ${r.status}`);
  }
  if (selected('loops'))
    withLoad('o. loops', () => {
      for (const row of loopRows()) record(row);
    });
  printTable();
  printNotes();
  const seconds = (performance.now() - t0) / 1000;
  const path = writeJson(np, startedAt, seconds, background);
  console.log(`\nwrote ${path} (${seconds.toFixed(1)} s)`);
  const failed = results.some((r) => r.pass === false) || problems.length > 0;
  if (flag('strict') && failed) process.exit(1);
}

main();
