/**
 * `compile(fn)`: trace once per signature, replay without building graphs. The first
 * call with a signature (each array argument's backend, dtype and shape; the structure
 * of array trees; the values of other arguments; the
 * planning settings) runs `fn` on placeholder leaves, schedules the graph it built
 * once and stores it (src/engine/replay.ts). Later calls with that signature bind the
 * new buffers into the stored commands and launch them: no node is built, hashed or
 * scheduled. The traces live in one bounded LRU cache (`setCompileCacheLimit`,
 * `compileCacheInfo`). See docs/compile.md.
 */
import { MetalArray } from '../array/array.js';
import { getAutoEval, setAutoEval } from '../array/api.js';
import { Scope, planOptions, runInScope } from '../array/context.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { leafNode } from '../core/build.js';
import { debugLevel, debugLog } from '../core/metrics.js';
import { type BufferRef, type Node, isTracing } from '../core/node.js';
import { execute, type PlanOptions } from '../engine/executor.js';
import { getMatmulPrecision } from '../engine/precision.js';
import { Replay } from '../engine/replay.js';
import { beginCompileTrace, compileTracing, endCompileTrace, traceReadError } from '../engine/trace-guard.js';
import { ArgumentError, formatValue } from '../errors.js';
import { backendFor, getBackendName } from '../runtime/registry.js';
import { type TreeDef, flattenTree } from './tree.js';

/** Options of `compile`. */
export interface CompileOptions {
  /**
   * State the function reads besides its arguments: a container (object or JS array,
   * nested) whose arrays are read afresh at every call, e.g. a model's parameters.
   */
  readonly inputs?: object;
  /**
   * State the function updates in place: a container whose arrays `fn` replaces
   * (`params.w = ...`); after each call they hold the new values.
   */
  readonly outputs?: object;
}

/** What `compileCacheInfo` reports. */
export interface CompileCacheInfo {
  /** Traces held now, over every compiled function. */
  readonly size: number;
  /** The most traces held (`setCompileCacheLimit`). */
  readonly limit: number;
  /** Calls that replayed a stored trace. */
  readonly hits: number;
  /** Calls that traced (a first call, or a new signature). */
  readonly traces: number;
  /** Traces dropped to stay within the limit. */
  readonly evictions: number;
  /** Calls run inline (fn called directly) because a transformation was tracing. */
  readonly inlined: number;
  /** The held traces, least recently used first: the function's name and its signature. */
  readonly entries: readonly { readonly name: string; readonly signature: string }[];
  /**
   * The last 16 traces, oldest first: the function's name and why it traced (its first
   * call, or which argument's shape, dtype or value changed), as METALARRAY_DEBUG logs them.
   */
  readonly recentTraces: readonly { readonly name: string; readonly reason: string }[];
}

interface StateSlot {
  readonly holder: Record<string, unknown>;
  readonly key: string;
}

interface Entry {
  readonly owner: CompiledState;
  readonly key: string;
  readonly parts: readonly string[];
  readonly settings: string;
  readonly replay: Replay;
  readonly outDef: TreeDef;
  readonly resultCount: number;
}

interface CompiledState {
  readonly name: string;
  readonly fn: (...args: never[]) => unknown;
  readonly inputs: object | undefined;
  readonly outputs: object | undefined;
  readonly entries: Map<string, Entry>;
  last: Entry | null;
}

const DEFAULT_LIMIT = 128;
let limit = DEFAULT_LIMIT;
// Every held trace, least recently used first (a hit moves its entry to the end).
const lru = new Map<Entry, Entry>();
const stats = { hits: 0, traces: 0, evictions: 0, inlined: 0 };
const RECENT_TRACES = 16;
const recentTraces: { name: string; reason: string }[] = [];

/**
 * Compiles `fn`: the returned function computes what `fn` computes, but traces `fn`
 * only once per signature (array shapes, dtypes and tree structure, and the values of
 * non-array arguments) and afterwards replays the stored kernels with the new inputs,
 * without building, hashing or scheduling a graph. Results are fresh evaluated arrays.
 * `fn` must be lazy: reading a value inside (`item`, `toTypedArray`...) throws
 * `CompileTraceError`; JS side effects in `fn` happen once, when it is traced.
 * Arrays `fn` captures from outside are constants of the trace; pass arrays that change
 * as arguments, or declare them as state with `{ inputs, outputs }`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const step = ma.compile((x: ma.MetalArray, y: ma.MetalArray) => x.multiply(y).add(1).sin());
 * const a = ma.array([1, 2, 3], 'float32');
 * // The first call traces and runs; the second replays the stored kernels.
 * console.log(step(a, a).tolist().length); // 3
 * console.log(step(a.add(1), a).shape); // [ 3 ]
 * // State updated in place: a compiled training step.
 * const params = { w: ma.ones([3], 'float32') };
 * const update = ma.compile((g: ma.MetalArray) => { params.w = params.w.subtract(g.multiply(0.5)); }, { inputs: params, outputs: params });
 * update(ma.ones([3], 'float32'));
 * console.log(params.w.tolist()); // [ 0.5, 0.5, 0.5 ]
 * ```
 */
export function compile<A extends unknown[], R>(fn: (...args: A) => R, options?: CompileOptions): (...args: A) => R {
  checkArgCount('compile', arguments.length, 2, 'compile(fn, { inputs, outputs }?)');
  if (typeof fn !== 'function') throw new ArgumentError(`compile: fn must be a function, got ${formatValue(fn)}`);
  const opts = checkOptions('compile', options, ['inputs', 'outputs']);
  for (const k of ['inputs', 'outputs'] as const) {
    const c = opts[k];
    if (c !== undefined && (typeof c !== 'object' || c === null || c instanceof MetalArray)) {
      throw new ArgumentError(`compile: ${k} must be an object or JS array holding the state's arrays (e.g. { w, b }), got ${formatValue(c)}`);
    }
  }
  const state: CompiledState = {
    name: fn.name === '' ? 'compile' : `compile(${fn.name})`,
    fn: fn as (...args: never[]) => unknown,
    inputs: opts.inputs,
    outputs: opts.outputs,
    entries: new Map(),
    last: null,
  };
  return (...args: A): R => callCompiled(state, args) as R;
}

/**
 * Sets how many traces the compile cache holds over every compiled function (default
 * 128); past it the least recently used trace is dropped (and retraced if called again).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * ma.setCompileCacheLimit(16);
 * console.log(ma.compileCacheInfo().limit); // 16
 * ma.setCompileCacheLimit(128);
 * ```
 */
export function setCompileCacheLimit(n: number): void {
  checkArgCount('setCompileCacheLimit', arguments.length, 1, 'setCompileCacheLimit(n)');
  if (!Number.isSafeInteger(n) || n < 0) throw new ArgumentError(`setCompileCacheLimit: n must be a non-negative integer, got ${formatValue(n)}`);
  limit = n;
  evictOverLimit();
}

/**
 * What the compile cache holds and how it was used: traces held, the limit, hits,
 * traces, evictions and inlined calls, and each held trace's function and signature.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const f = ma.compile(function double(x: ma.MetalArray) { return x.multiply(2); });
 * f(ma.ones([4], 'float32'));
 * const info = ma.compileCacheInfo();
 * console.log(info.entries.at(-1)); // { name: 'compile(double)', signature: 'cpu:float32[4]' }
 * ```
 */
export function compileCacheInfo(): CompileCacheInfo {
  checkArgCount('compileCacheInfo', arguments.length, 0, 'compileCacheInfo()');
  const entries = [...lru.keys()].map((e) => ({ name: e.owner.name, signature: e.parts.join(', ') }));
  return { size: lru.size, limit, ...stats, entries, recentTraces: recentTraces.map((t) => ({ ...t })) };
}

/**
 * Drops every stored trace (their captured constants are let go of) and zeroes the
 * counters and the recent traces of `compileCacheInfo`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * ma.clearCompileCache();
 * console.log(ma.compileCacheInfo().size); // 0
 * ```
 */
export function clearCompileCache(): void {
  checkArgCount('clearCompileCache', arguments.length, 0, 'clearCompileCache()');
  for (const e of [...lru.keys()]) evict(e);
  stats.hits = 0;
  stats.traces = 0;
  stats.evictions = 0;
  stats.inlined = 0;
  recentTraces.length = 0;
}

function evict(e: Entry): void {
  lru.delete(e);
  if (e.owner.entries.get(e.key) === e) e.owner.entries.delete(e.key);
  if (e.owner.last === e) e.owner.last = null;
  e.replay.release();
}

function evictOverLimit(): void {
  while (lru.size > limit) {
    evict(lru.keys().next().value as Entry);
    stats.evictions++;
  }
}

// The planning settings as a key part, rebuilt only when they change.
let lastOptions: PlanOptions | null = null;
let lastPrecision = '';
let lastBackend = '';
let lastSettings = '';
function settingsKey(): string {
  const o = planOptions();
  const p = getMatmulPrecision();
  // The default backend matters to a function without array arguments (its constants live there).
  const b = getBackendName();
  if (o !== lastOptions || p !== lastPrecision || b !== lastBackend) {
    lastOptions = o;
    lastPrecision = p;
    lastBackend = b;
    lastSettings = `fusion=${o.fusion ? 1 : 0},cpuMatmul=${o.cpuMatmul},precision=${p},backend=${b}`;
  }
  return lastSettings;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** One argument's key (arrays by backend, dtype and shape), collecting its arrays. */
function keyOf(x: unknown, leaves: MetalArray[], name: string, depth: number): string {
  if (x instanceof MetalArray) {
    leaves.push(x);
    const n = x.liveNode(name);
    return `${n.backend}:${n.dtype}[${n.shape.join(',')}]`;
  }
  if (depth > 64) throw new ArgumentError(`${name}: an argument nests deeper than 64 levels (a cycle?); pass trees of arrays, lists and plain objects`);
  if (Array.isArray(x)) {
    let s = '[';
    for (let i = 0; i < x.length; i++) s += (i > 0 ? ',' : '') + keyOf(x[i], leaves, name, depth + 1);
    return `${s}]`;
  }
  if (isPlainObject(x)) {
    let s = '{';
    let first = true;
    for (const k in x) {
      s += `${first ? '' : ','}${JSON.stringify(k)}:${keyOf(x[k], leaves, name, depth + 1)}`;
      first = false;
    }
    return `${s}}`;
  }
  if (typeof x === 'number' || typeof x === 'boolean' || x === null || x === undefined) return Object.is(x, -0) ? '-0' : String(x);
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x === 'string') return JSON.stringify(x);
  throw new ArgumentError(
    `${name}: a compiled function's arguments must be arrays, trees of them (JS arrays, plain objects), numbers, strings, booleans, bigints, null or undefined; got ${formatValue(x)}. Capture other values in a closure instead`,
  );
}

/** The places in a state container that hold arrays (walked afresh at every call). */
function stateSlots(container: object, name: string, which: string): StateSlot[] {
  const slots: StateSlot[] = [];
  const seen = new Set<object>();
  const visit = (x: object): void => {
    if (seen.has(x)) throw new ArgumentError(`${name}: the ${which} state contains itself (a cycle)`);
    seen.add(x);
    const holder = x as Record<string, unknown>;
    for (const key of Object.keys(holder)) {
      const v = holder[key];
      if (v instanceof MetalArray) slots.push({ holder, key });
      else if (Array.isArray(v) || isPlainObject(v)) visit(v);
    }
    seen.delete(x);
  };
  visit(container);
  return slots;
}

/** Whether `node` is, or reads, a stand-in leaf of a transformation's trace (no memory behind it). */
function readsStandIn(node: Node): boolean {
  const stack: Node[] = [node];
  const seen = new Set<Node>();
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (n.kind === 'leaf') {
      if (n.size > 0 && n.buffer !== null && n.buffer.nbytes === 0) return true;
      continue;
    }
    if (seen.has(n)) continue;
    seen.add(n);
    for (const x of n.inputs) stack.push(x);
  }
  return false;
}

function callCompiled(state: CompiledState, args: unknown[]): unknown {
  // Inside a transformation's trace (grad, jvp, vmap, an outer compile) fn is inlined, as
  // MLX does: the transformation sees fn's graph and the outer trace stores it.
  if (isTracing() || compileTracing()) return inline(state, args);
  const name = state.name;
  const leaves: MetalArray[] = [];
  const parts: string[] = [];
  for (let i = 0; i < args.length; i++) parts.push(keyOf(args[i], leaves, name, 0));
  const argLeafCount = leaves.length;
  const inSlots = state.inputs === undefined ? null : stateSlots(state.inputs, name, 'inputs');
  if (inSlots !== null) {
    let s = 'state:';
    for (const slot of inSlots) s += keyOf(slot.holder[slot.key], leaves, name, 0);
    parts.push(s);
  }
  const key = `${parts.join('|')}|${settingsKey()}`;
  // Dense inputs: evaluate pending arrays (one plan), copy strided or offset views.
  const nodes: Node[] = new Array(leaves.length);
  let pending: Node[] | null = null;
  for (let i = 0; i < leaves.length; i++) {
    const n = leaves[i].liveNode(name);
    nodes[i] = n;
    if (n.kind !== 'leaf') {
      if (readsStandIn(n)) return inline(state, args);
      if (pending === null) pending = [];
      pending.push(n);
    } else if (n.size > 0 && (n.buffer as BufferRef).nbytes === 0) {
      return inline(state, args);
    }
  }
  if (pending !== null) execute(pending, backendFor(pending[0].backend), planOptions());
  let entry = state.entries.get(key);
  if (entry === undefined) {
    entry = trace(state, args, leaves, argLeafCount, inSlots, key, parts);
  } else {
    stats.hits++;
    lru.delete(entry);
    lru.set(entry, entry);
  }
  state.last = entry;
  if (lru.has(entry)) return replay(state, entry, leaves, nodes);
  // Not stored (a cache limit of 0): its captured constants go after this call.
  try {
    return replay(state, entry, leaves, nodes);
  } finally {
    entry.replay.release();
    state.last = null;
  }
}

function inline(state: CompiledState, args: unknown[]): unknown {
  stats.inlined++;
  return (state.fn as (...a: unknown[]) => unknown)(...args);
}

function isDense(n: Node): boolean {
  if (n.offset !== 0) return false;
  const strides = n.strides as readonly number[];
  let s = 1;
  for (let d = n.shape.length - 1; d >= 0; d--) {
    if (n.shape[d] !== 1 && strides[d] !== s) return false;
    s *= n.shape[d];
  }
  return true;
}

function replay(state: CompiledState, entry: Entry, leaves: readonly MetalArray[], nodes: readonly Node[]): unknown {
  const buffers: BufferRef[] = new Array(nodes.length);
  let copies: { release(): void }[] | null = null;
  try {
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (isDense(n)) buffers[i] = n.buffer as BufferRef;
      else {
        const dense = leaves[i].denseLeaf(state.name);
        (copies ??= []).push(dense);
        buffers[i] = dense.node.buffer as BufferRef;
      }
    }
    const r = entry.replay;
    const slots = r.run(buffers);
    const outs = r.outputs;
    const results: MetalArray[] = new Array(outs.length);
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i];
      results[i] = MetalArray.fromNode(leafNode(slots[o.slot], o.shape, o.dtype, o.strides, o.offset));
    }
    r.finish();
    if (state.outputs !== undefined) {
      const outSlots = stateSlots(state.outputs, state.name, 'outputs');
      for (let i = 0; i < outSlots.length; i++) outSlots[i].holder[outSlots[i].key] = results[entry.resultCount + i];
    }
    return entry.outDef.rebuild(entry.resultCount === results.length ? results : results.slice(0, entry.resultCount));
  } finally {
    if (copies !== null) for (const c of copies) c.release();
  }
}

/** A leaf buffer with no memory: a trace's placeholder for one input array. */
function placeholderBuffer(name: string, backend: string): BufferRef {
  return {
    backend,
    get id(): number {
      throw traceReadError(name, 'evaluating (eval, a read, a custom kernel, a host-computed op such as random.split, or auto-evaluation)');
    },
    nbytes: 0,
    holders: 0,
    release(): void {},
    label(): void {},
    addReaders(): void {},
  };
}

function trace(
  state: CompiledState,
  args: unknown[],
  leaves: readonly MetalArray[],
  argLeafCount: number,
  inSlots: StateSlot[] | null,
  key: string,
  parts: string[],
): Entry {
  const name = state.name;
  const reason = retraceReason(state, parts);
  if (recentTraces.push({ name, reason }) > RECENT_TRACES) recentTraces.shift();
  if (debugLevel >= 1) debugLog(`${name}: ${reason}`);
  stats.traces++;
  const inputOf = new Map<BufferRef, number>();
  const placeholders: MetalArray[] = leaves.map((x, i) => {
    const n = x.liveNode(name);
    const buffer = placeholderBuffer(name, n.backend);
    inputOf.set(buffer, i);
    return MetalArray.fromNode(leafNode(buffer, n.shape, n.dtype));
  });
  const { def: argDef } = flattenTree(args, name);
  const traceArgs = argDef.rebuild(placeholders.slice(0, argLeafCount)) as unknown[];
  const saved = inSlots?.map((s) => s.holder[s.key]) ?? [];
  const outSlots = state.outputs === undefined ? null : stateSlots(state.outputs, name, 'outputs');
  const savedOut = outSlots?.map((s) => s.holder[s.key]) ?? [];
  const scope = new Scope();
  const autoEval = getAutoEval();
  let replayed: Replay;
  let outDef: TreeDef;
  let resultCount: number;
  try {
    inSlots?.forEach((s, i) => {
      s.holder[s.key] = placeholders[argLeafCount + i];
    });
    // The trace must stay lazy: auto-evaluation would read placeholders.
    setAutoEval(false);
    beginCompileTrace(name, new Set(inputOf.keys()));
    let result: unknown;
    let stateOut: MetalArray[] = [];
    try {
      result = runInScope(scope, () => (state.fn as (...a: unknown[]) => unknown)(...traceArgs));
      if (result instanceof Promise) throw new ArgumentError(`${name}: fn returned a Promise; compile traces synchronous functions`);
      stateOut =
        outSlots?.map((s) => {
          const v = s.holder[s.key];
          if (!(v instanceof MetalArray))
            throw new ArgumentError(`${name}: after fn ran, the outputs state holds ${formatValue(v)} at '${s.key}'; it must hold an array`);
          return v;
        }) ?? [];
    } finally {
      endCompileTrace();
      setAutoEval(autoEval);
      inSlots?.forEach((s, i) => {
        s.holder[s.key] = saved[i];
      });
      outSlots?.forEach((s, i) => {
        s.holder[s.key] = savedOut[i];
      });
    }
    const out = flattenTree(result, name);
    outDef = out.def;
    resultCount = out.leaves.length;
    const outNodes = [...out.leaves, ...stateOut].map((a) => a.liveNode(name));
    const backend = backendFor(leaves[0]?.backend ?? outNodes[0]?.backend ?? getBackendName());
    replayed = new Replay(outNodes, inputOf, backend, planOptions());
  } finally {
    for (const x of scope.tracked) x.dispose();
    for (const p of placeholders) p.dispose();
  }
  const entry: Entry = { owner: state, key, parts, settings: settingsKey(), replay: replayed, outDef, resultCount };
  // Room is made before the new trace goes in (it must survive its first replay); with a
  // limit of 0 it is not stored: the caller releases it after this call.
  if (limit === 0) return entry;
  while (lru.size >= limit) {
    evict(lru.keys().next().value as Entry);
    stats.evictions++;
  }
  state.entries.set(key, entry);
  lru.set(entry, entry);
  return entry;
}

/** Why a function traces: its first call, or which argument's key changed since its last call. */
function retraceReason(state: CompiledState, parts: readonly string[]): string {
  const last = state.last;
  if (last === null) return state.entries.size === 0 ? `tracing (first call): ${parts.join(', ')}` : `tracing: ${parts.join(', ')}`;
  const changed: string[] = [];
  const n = Math.max(parts.length, last.parts.length);
  for (let i = 0; i < n; i++) {
    if (parts[i] === last.parts[i]) continue;
    const what = parts[i]?.startsWith('state:') || last.parts[i]?.startsWith('state:') ? 'the inputs state' : `argument ${i}`;
    changed.push(`${what} changed from ${last.parts[i] ?? '(absent)'} to ${parts[i] ?? '(absent)'}`);
  }
  if (changed.length === 0) {
    const now = settingsKey();
    changed.push(
      now === last.settings ? 'its earlier trace was evicted from the compile cache' : `the planning settings changed from ${last.settings} to ${now}`,
    );
  }
  return `retracing: ${changed.join('; ')}`;
}
