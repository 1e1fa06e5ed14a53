/**
 * Library-level functions over arrays: evaluation, lifetimes (tidy), memory and
 * metrics views, plan inspection, backend selection.
 */
import { checkArgCount } from '../core/arguments.js';
import { ArgumentError, BackendUnavailableError, formatValue, MetalArrayError } from '../errors.js';
import { autoEvaluate, execute, executeAsync, inspectPlan } from '../engine/executor.js';
import { type Metrics, counters, resetCounters } from '../core/metrics.js';
import { type AutoEvalLimits, DEFAULT_AUTO_EVAL, type Node, setAutoEvalHook } from '../core/node.js';
import { walkGraph } from '../core/walk.js';
import type { DeviceInfo } from '../runtime/backend.js';
import { backendFor, getBackendName, isAvailable as backendAvailable, plannerFor, setBackendName } from '../runtime/registry.js';
import { loadNative } from '../runtime/native.js';
import { bufferLedger } from '../runtime/pool-buffer.js';
import { MetalArray } from './array.js';
import { type Disposable, Scope, currentScope, planOptions, runInScope, setCpuMatmulMode } from './context.js';

function groupByBackend(op: string, arrays: readonly MetalArray[]): Map<string, Node[]> {
  const groups = new Map<string, Node[]>();
  for (const a of arrays) {
    if (!(a instanceof MetalArray)) throw new ArgumentError(`${op}: expected MetalArrays, got ${formatValue(a)}`);
    const n = a.liveNode(op);
    const list = groups.get(n.backend);
    if (list) list.push(n);
    else groups.set(n.backend, [n]);
  }
  return groups;
}

/**
 * Evaluates arrays together: one plan, shared work fused and computed once.
 *
 * @example
 * ```ts
 * const a = ma.arange(3).add(1);
 * const b = a.multiply(2);
 * ma.eval(a, b); // one plan: `a` is computed once for both
 * console.log(a.tolist(), b.tolist()); // [ 1, 2, 3 ] [ 2, 4, 6 ]
 * ```
 */
export function evaluate(...arrays: MetalArray[]): void {
  for (const [backend, nodes] of groupByBackend('eval', arrays)) execute(nodes, backendFor(backend), planOptions());
}

/**
 * Like `eval`, with the kernels running off the JS thread; the event loop keeps going.
 *
 * @example
 * ```ts
 * const a = ma.arange(3).square();
 * await ma.evalAsync(a);
 * console.log(a.tolist()); // [ 0, 1, 4 ]
 * ```
 */
export async function evalAsync(...arrays: MetalArray[]): Promise<void> {
  await Promise.all([...groupByBackend('evalAsync', arrays)].map(([backend, nodes]) => executeAsync(nodes, backendFor(backend), planOptions())));
}

function collectArrays(value: unknown, out: Set<MetalArray>, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (value instanceof MetalArray) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collectArrays(v, out, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collectArrays(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collectArrays(v, out, depth + 1);
}

function closeScope(scope: Scope, result: unknown): void {
  const keep = new Set<MetalArray>();
  collectArrays(result, keep);
  const parent = currentScope();
  for (const d of scope.tracked) {
    if (keep.has(d as MetalArray)) parent?.tracked.push(d);
    else d.dispose();
  }
}

/**
 * Runs `fn` and disposes every array it created, except those it returns (in an array,
 * object or Map). Works with async functions: the scope closes when the promise settles,
 * and concurrent async tidies keep separate scopes.
 *
 * @example
 * ```ts
 * const y = ma.tidy(() => ma.ones([4]).add(1).multiply(2)); // temporaries disposed, y kept
 * console.log(y.toString()); // array([4., 4., 4., 4.])
 * ```
 */
export function tidy<T>(fn: () => T): T {
  checkArgCount('tidy', arguments.length, 1, 'tidy(fn)');
  if (typeof fn !== 'function') throw new ArgumentError('tidy: expected a function');
  const scope = new Scope();
  let result: T;
  try {
    result = runInScope(scope, fn);
  } catch (err) {
    closeScope(scope, undefined);
    throw err;
  }
  if (result instanceof Promise) {
    return result.then(
      (v) => {
        closeScope(scope, v);
        return v;
      },
      (err) => {
        closeScope(scope, undefined);
        throw err;
      },
    ) as T;
  }
  closeScope(scope, result);
  return result;
}

/**
 * Disposes arrays (in any nesting of arrays and plain objects).
 *
 * @example
 * ```ts
 * const a = ma.ones([2]);
 * ma.dispose({ a, more: [ma.zeros([3])] });
 * console.log(a.isDisposed); // true
 * ```
 */
export function dispose(value: unknown): void {
  checkArgCount('dispose', arguments.length, 1, 'dispose(value)');
  const found = new Set<MetalArray>();
  collectArrays(value, found);
  for (const a of found) a.dispose();
}

/**
 * Keeps an array alive past the end of the enclosing tidy.
 *
 * @example
 * ```ts
 * let kept: ma.MetalArray | undefined;
 * ma.tidy(() => {
 *   kept = ma.keep(ma.ones([2]).eval());
 * });
 * console.log(kept?.isDisposed); // false
 * ```
 */
export function keep<T extends MetalArray>(a: T): T {
  checkArgCount('keep', arguments.length, 1, 'keep(a)');
  const scope = currentScope();
  if (scope) {
    const i = scope.tracked.indexOf(a as Disposable);
    if (i >= 0) scope.tracked.splice(i, 1);
  }
  return a;
}

/** Memory of the current backend's pool. */
export interface MemoryInfo {
  /** Bytes of the pool's live buffers (held by arrays, or by an evaluation in progress). */
  activeBytes: number;
  /** Bytes of freed blocks the pool keeps for reuse (`clearCache()` returns them). */
  cachedBytes: number;
  peakBytes: number;
  activeBuffers: number;
  /**
   * Bytes of live buffers that unevaluated arrays read: the leaves their graphs keep
   * alive. `eval()` of those arrays (or `dispose()`, or letting the GC collect them) lets
   * these go unless an evaluated array also holds them. It counts what the library has
   * seen: a pending array dropped without `dispose()` keeps counting until the GC frees
   * the leaves it read (docs/memory.md).
   */
  lazyBytes: number;
  /**
   * Bytes of every backend's live buffers that this thread has reported to V8 as
   * external memory, so the garbage collector weighs them (docs/memory.md). Node's
   * `process.memoryUsage().external` does not include them: it counts ArrayBuffer
   * memory only.
   */
  external: number;
}

/**
 * Pool statistics of the current backend, the bytes unevaluated arrays keep alive, and
 * the external memory reported to V8. Costs a pass over the live buffers' records.
 *
 * @example
 * const x = ma.ones([1024, 1024]).eval(); // 4 MiB, held by x
 * const y = x.add(1); // unevaluated: reads x's buffer
 * ma.memory().lazyBytes; // 4194304
 * y.eval(); // y's graph lets go of x
 * ma.memory().lazyBytes; // 0
 * const { activeBytes, external } = ma.memory();
 */
export function memory(): MemoryInfo {
  checkArgCount('memory', arguments.length, 0, 'memory()');
  const name = getBackendName();
  const backend = backendFor(name);
  const lazyBytes = bufferLedger(name).lazyBytes();
  return { ...backend.memory(), lazyBytes, external: loadNative()?.externalBytes() ?? 0 };
}

/**
 * Frees every cached (unused) buffer of the current backend's pool.
 *
 * @example
 * ```ts
 * ma.ones([1024]).eval().dispose(); // its block goes to the pool's cache
 * ma.clearCache();
 * console.log(ma.memory().cachedBytes); // 0
 * ```
 */
export function clearCache(): void {
  checkArgCount('clearCache', arguments.length, 0, 'clearCache()');
  backendFor(getBackendName()).clearCache();
}

function checkBytes(op: string, bytes: number): void {
  if (typeof bytes !== 'number' || Number.isNaN(bytes) || bytes < 0 || (Number.isFinite(bytes) && !Number.isInteger(bytes))) {
    throw new ArgumentError(`${op}: bytes must be a non-negative integer (or Infinity), got ${formatValue(bytes)}`);
  }
}

/**
 * Bounds the bytes the pool keeps cached for reuse.
 *
 * @example
 * ```ts
 * ma.setCacheLimit(256 * 2 ** 20); // keep at most 256 MiB of freed blocks for reuse
 * ```
 */
export function setCacheLimit(bytes: number): void {
  checkArgCount('setCacheLimit', arguments.length, 1, 'setCacheLimit(bytes)');
  checkBytes('setCacheLimit', bytes);
  backendFor(getBackendName()).setCacheLimit(bytes);
}

/**
 * Bounds active bytes; allocations beyond it throw OutOfMemoryError.
 *
 * @example
 * ```ts
 * ma.setMemoryLimit(2 ** 20);
 * ma.zeros([2 ** 20]).eval(); // throws OutOfMemoryError: 4 MiB asked, the limit is 1 MiB
 * ma.setMemoryLimit(Infinity);
 * ```
 */
export function setMemoryLimit(bytes: number): void {
  checkArgCount('setMemoryLimit', arguments.length, 1, 'setMemoryLimit(bytes)');
  checkBytes('setMemoryLimit', bytes);
  backendFor(getBackendName()).setMemoryLimit(bytes);
}

/**
 * Compile, launch and cache counters since start or the last `resetMetrics()`.
 *
 * @example
 * ```ts
 * ma.resetMetrics();
 * ma.ones([8]).exp().add(1).eval();
 * console.log(ma.metrics().kernelLaunches); // 1
 * ```
 */
export function metrics(): Metrics {
  checkArgCount('metrics', arguments.length, 0, 'metrics()');
  return { ...counters };
}

/**
 * Zeroes the counters.
 *
 * @example
 * ```ts
 * ma.ones([8]).exp().eval();
 * ma.resetMetrics();
 * console.log(ma.metrics().kernelLaunches); // 0
 * ```
 */
export function resetMetrics(): void {
  checkArgCount('resetMetrics', arguments.length, 0, 'resetMetrics()');
  resetCounters();
}

function planOf(op: string, arrays: readonly MetalArray[], backendName?: string) {
  const groups = groupByBackend(op, arrays);
  const out = [];
  for (const [backend, nodes] of groups) {
    const plan = inspectPlan(nodes, backendName ? plannerFor(backendName) : backendFor(backend), planOptions());
    if (plan) out.push(plan);
  }
  return out;
}

/**
 * The schedule that evaluating `arrays` would run, as text: each kernel, the ops fused
 * into it, its inputs and output. Builds (and caches) the plan without running it.
 *
 * @example
 * ```ts
 * const x = ma.ones([4]);
 * console.log(ma.explain(x.exp().add(1)).split('\n')[0]); // plan on cpu: 1 kernel
 * ```
 */
export function explain(...arrays: MetalArray[]): string {
  const plans = planOf('explain', arrays);
  const lines: string[] = [];
  let k = 0;
  for (const p of plans) {
    lines.push(`plan on ${p.backend.name}: ${p.kernelCount} kernel${p.kernelCount === 1 ? '' : 's'}`);
    for (const d of p.description) {
      lines.push(`  kernel ${k++} ${d.name} (${d.kind}): ${d.ops.join(' → ') || 'copy'}`);
      for (const i of d.inputs) lines.push(`    in:  ${i}`);
      lines.push(`    out: ${d.output}`);
    }
  }
  if (lines.length === 0) lines.push('nothing to run: every array is already evaluated');
  const early = autoEvaluatedInputs(arrays);
  if (early > 0) {
    lines.push(
      `auto-evaluated: ${early} input${early === 1 ? ' was' : 's were'} evaluated early (a pending graph crossed ${describeLimits()}; setAutoEval(false) turns this off)`,
    );
  }
  return lines.join('\n');
}

/** How many leaves under `arrays` were made by auto-evaluation. */
function autoEvaluatedInputs(arrays: readonly MetalArray[]): number {
  const pending = arrays.map((a) => a.liveNode('explain')).filter((n) => n.kind !== 'leaf');
  if (pending.length === 0) return 0;
  let count = 0;
  for (const n of walkGraph(pending).nodes) if (n.autoEvaluated && n.kind === 'leaf') count++;
  return count;
}

// ---------------------------------------------------------------- auto-evaluation

/** The bounds of `setAutoEval`, or false when auto-evaluation is off. */
export type AutoEvalSetting = AutoEvalLimits | false;

let autoEvalSetting: AutoEvalSetting = DEFAULT_AUTO_EVAL;

function describeLimits(): string {
  const s = autoEvalSetting;
  return s === false ? 'no bound (auto-evaluation is off)' : `depth ${s.maxDepth} or ${s.maxPinnedBytes} pinned bytes`;
}

function installAutoEval(setting: AutoEvalSetting): void {
  autoEvalSetting = setting;
  if (setting === false) {
    setAutoEvalHook(null, { maxDepth: Number.POSITIVE_INFINITY, maxPinnedBytes: Number.POSITIVE_INFINITY });
    return;
  }
  setAutoEvalHook((inputs, depth, pinned) => autoEvaluate(inputs, depth, pinned, setting, backendFor(inputs[0].backend), planOptions()), setting);
}

function checkLimit(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (Number.isFinite(value) && !Number.isInteger(value))) {
    throw new ArgumentError(`setAutoEval: ${name} must be an integer >= ${min} (or Infinity), got ${formatValue(value)}`);
  }
  return value;
}

/**
 * Bounds pending (unevaluated) graphs. When an op would build a node more than
 * `maxDepth` ops deep, or one whose graph may keep more than `maxPinnedBytes` of
 * buffers alive, the op's pending inputs are evaluated first (the values are the same;
 * `metrics().autoEvals` counts these and `explain` reports them). This keeps loops
 * that never call `eval` from growing a graph without end. Defaults: depth 512,
 * 1 GiB; `false` turns it off, `true` restores the defaults; a partial object keeps
 * the default for the other bound. `METALARRAY_AUTO_EVAL=off` starts with it off.
 *
 * @example
 * ```ts
 * ma.setAutoEval({ maxDepth: 128 }); // evaluate sooner
 * let x = ma.ones([4]);
 * for (let i = 0; i < 1000; i++) x = x.add(1); // never more than 128 pending ops
 * ma.setAutoEval(false); // graphs grow until read or eval()
 * ```
 */
export function setAutoEval(setting: Partial<AutoEvalLimits> | boolean): void {
  checkArgCount('setAutoEval', arguments.length, 1, 'setAutoEval(setting)');
  if (setting === false || setting === true) {
    installAutoEval(setting ? DEFAULT_AUTO_EVAL : false);
    return;
  }
  if (setting === null || typeof setting !== 'object' || Array.isArray(setting)) {
    throw new ArgumentError(`setAutoEval: expected { maxDepth, maxPinnedBytes }, true or false, got ${formatValue(setting)}`);
  }
  for (const k of Object.keys(setting)) {
    if (k !== 'maxDepth' && k !== 'maxPinnedBytes') throw new ArgumentError(`setAutoEval: unknown option '${k}' (expected maxDepth, maxPinnedBytes)`);
  }
  installAutoEval({
    maxDepth: setting.maxDepth === undefined ? DEFAULT_AUTO_EVAL.maxDepth : checkLimit('maxDepth', setting.maxDepth, 1),
    maxPinnedBytes: setting.maxPinnedBytes === undefined ? DEFAULT_AUTO_EVAL.maxPinnedBytes : checkLimit('maxPinnedBytes', setting.maxPinnedBytes, 0),
  });
}

/**
 * The current auto-evaluation bounds, or false when it is off (see setAutoEval).
 *
 * @example
 * ```ts
 * const before = ma.getAutoEval();
 * ma.setAutoEval(false);
 * // ... build a deep graph on purpose ...
 * ma.setAutoEval(before);
 * ```
 */
export function getAutoEval(): AutoEvalSetting {
  checkArgCount('getAutoEval', arguments.length, 0, 'getAutoEval()');
  return autoEvalSetting;
}

const AUTO_EVAL_ENV = (process.env.METALARRAY_AUTO_EVAL ?? '').trim().toLowerCase();
installAutoEval(AUTO_EVAL_ENV === 'off' || AUTO_EVAL_ENV === '0' || AUTO_EVAL_ENV === 'false' ? false : DEFAULT_AUTO_EVAL);

/** One generated kernel, as `kernelSources` returns it. */
export interface KernelSourceInfo {
  name: string;
  kind: string;
  source: string;
}

/**
 * The generated source of each kernel in the plan for `arrays`: C for 'cpu', CUDA C for
 * 'cuda', MSL for 'metal'; in the language of `backend` if given (GPU backends render on
 * any machine).
 *
 * @example
 * ```ts
 * const [k] = ma.kernelSources([ma.ones([4]).exp()]);
 * console.log(k.kind, k.source.length > 0); // elementwise true
 * console.log(ma.kernelSources([ma.ones([4]).exp()], 'metal')[0].source.includes('kernel void')); // true
 * ```
 */
export function kernelSources(arrays: MetalArray | readonly MetalArray[], backend?: string): KernelSourceInfo[] {
  checkArgCount('kernelSources', arguments.length, 2, 'kernelSources(arrays, backend)');
  if (!(arrays instanceof MetalArray) && !Array.isArray(arrays))
    throw new ArgumentError(`kernelSources: expected a MetalArray or an array of them, got ${formatValue(arrays)}`);
  const list = arrays instanceof MetalArray ? [arrays] : [...arrays];
  const out: KernelSourceInfo[] = [];
  for (const p of planOf('kernelSources', list, backend)) {
    for (const s of p.sources) {
      const kind = p.description.find((d) => d.name === s.name)?.kind ?? 'unknown';
      out.push({ name: s.name, kind, source: s.source });
    }
  }
  return out;
}

/**
 * The backend new arrays are created on.
 *
 * @example
 * ```ts
 * console.log(['cpu', 'cuda', 'metal'].includes(ma.getBackend())); // true
 * ```
 */
export function getBackend(): string {
  checkArgCount('getBackend', arguments.length, 0, 'getBackend()');
  return getBackendName();
}

/**
 * Makes `name` the default backend; throws BackendUnavailableError saying why if it can't run.
 *
 * @example
 * ```ts
 * ma.setBackend('cpu');
 * console.log(ma.ones([2]).backend); // cpu
 * ```
 */
export function setBackend(name: string): void {
  checkArgCount('setBackend', arguments.length, 1, 'setBackend(name)');
  setBackendName(name);
}

/**
 * The device behind a backend (default: the current one): name, memory, threadgroup
 * limits, SIMD width, largest buffer; for Metal also GPU family and whether simdgroup
 * matrices and bfloat compile. Throws BackendUnavailableError with the reason where the
 * backend cannot run.
 *
 * @example
 * ```ts
 * console.log(typeof ma.deviceInfo('cpu').name); // string
 * ```
 */
export function deviceInfo(backend?: string): DeviceInfo {
  checkArgCount('deviceInfo', arguments.length, 1, 'deviceInfo(backend)');
  const b = backendFor(backend ?? getBackendName());
  if (!b.deviceInfo) throw new MetalArrayError(`deviceInfo: the ${b.name} backend does not report its device yet`);
  return b.deviceInfo();
}

/**
 * True if the named backend can run on this machine.
 *
 * @example
 * ```ts
 * console.log(ma.isAvailable('cpu')); // true
 * ```
 */
export function isAvailable(name: string): boolean {
  checkArgCount('isAvailable', arguments.length, 1, 'isAvailable(name)');
  return backendAvailable(name);
}

/** Whether the CPU backend found a system BLAS, which one, and if not, why. */
export interface BlasInfo {
  available: boolean;
  /** What dlopen loaded (e.g. `libopenblas.so.0`), or null. */
  library: string | null;
  /** Why no BLAS is used, or null. */
  reason: string | null;
}

/**
 * The system BLAS the CPU backend uses for large float32/float64 matrix products:
 * OpenBLAS (or MKL, BLIS) on Linux, Accelerate on macOS, found at run time with dlopen.
 * `METALARRAY_BLAS=off` disables it; `METALARRAY_BLAS=/path/libfoo.so` names one.
 *
 * @example
 * ```ts
 * const { available, library, reason } = ma.blasInfo();
 * console.log(available ? `BLAS: ${library}` : `no BLAS: ${reason}`);
 * ```
 */
export function blasInfo(): BlasInfo {
  checkArgCount('blasInfo', arguments.length, 0, 'blasInfo()');
  if (!backendAvailable('cpu')) return { available: false, library: null, reason: 'the cpu backend is unavailable' };
  const cpu = backendFor('cpu');
  const library = cpu.libraryName?.() ?? null;
  return library === null
    ? { available: false, library: null, reason: cpu.libraryUnavailableReason?.() ?? 'no BLAS support' }
    : { available: true, library, reason: null };
}

const CPU_MATMUL_MODES = ['auto', 'blas', 'generated'] as const;

/**
 * How the CPU backend runs float32/float64 matrix products: `'auto'` (the default) hands
 * large ones to the system BLAS when there is one and runs the rest, and every other
 * dtype, as generated kernels with their epilogue fused; `'blas'` hands every product a
 * BLAS can read to it (throws BackendUnavailableError when there is none); `'generated'`
 * never uses a BLAS. With a BLAS the epilogue (`relu(a @ b + bias)`) is a second kernel.
 *
 * @example
 * ```ts
 * ma.setCpuMatmul('generated'); // every cpu product runs the generated C kernel
 * console.log(ma.getCpuMatmul()); // generated
 * ma.setCpuMatmul('auto');
 * ```
 */
export function setCpuMatmul(mode: 'auto' | 'blas' | 'generated'): void {
  checkArgCount('setCpuMatmul', arguments.length, 1, 'setCpuMatmul(mode)');
  if (!CPU_MATMUL_MODES.includes(mode)) {
    throw new ArgumentError(`setCpuMatmul: mode must be one of ${CPU_MATMUL_MODES.join(', ')}, got ${formatValue(mode)}`);
  }
  if (mode === 'blas') {
    const info = blasInfo();
    if (!info.available) throw new BackendUnavailableError(`setCpuMatmul('blas'): no BLAS can be used: ${info.reason}`);
  }
  setCpuMatmulMode(mode);
}

/**
 * The current CPU matrix-product mode (see setCpuMatmul).
 *
 * @example
 * ```ts
 * console.log(['auto', 'generated', 'blas'].includes(ma.getCpuMatmul())); // true
 * ```
 */
export function getCpuMatmul(): 'auto' | 'blas' | 'generated' {
  checkArgCount('getCpuMatmul', arguments.length, 0, 'getCpuMatmul()');
  return planOptions().cpuMatmul;
}
