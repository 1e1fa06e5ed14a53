/**
 * `vmap`: a function mapped over an axis of its inputs, as JAX's and MLX's.
 *
 * vmap runs `f` once on stand-ins of one example's shape (leaves over no memory),
 * which records f's lazy graph, then rebuilds that graph node by node with each node
 * kind's batching rule (src/transforms/batching.ts; the rules live with the ops): every
 * node that reads a mapped value gets the batch as its leading axis, the rest is shared.
 * The result is one batched lazy graph (a batched matmul, a reduction over one more
 * axis, a gather with a batch dim), fused by the scheduler like any other: no JS loop
 * over the batch, and as many kernels as the unbatched graph. Since the rules work on
 * the graph's nodes, whatever built them (nested vmaps, the transformations that add
 * nodes of their own) is mapped the same way.
 */
import { MetalArray } from '../array/array.js';
import { Scope, runInScope } from '../array/context.js';
import { leafNode, viewNode } from '../core/build.js';
import { type BufferRef, type Node, releaseNode } from '../core/node.js';
import { checkArgCount } from '../core/arguments.js';
import { ArgumentError, BatchingError, ShapeError, formatValue } from '../errors.js';
import { batchingRuleFor, broadcastBatch } from './batching.js';
import { type TreeDef, flattenTree } from './tree.js';

/**
 * Which axis of each array is mapped: a number (negative counts from the end), `null`
 * (not mapped: the same array for every example), or a tree of those matching the
 * arguments (or results) down to where one number or `null` covers a whole subtree.
 */
export type AxisSpec = number | null | readonly AxisSpec[] | { readonly [key: string]: AxisSpec };

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * The axis of every array of `tree`, depth first in flattenTree's order. `spec` is a
 * number or null for the whole subtree, or a container of the same structure.
 */
function axesOf(spec: AxisSpec, tree: unknown, path: string, out: (number | null)[], what: string, wholeTree: boolean): void {
  if (spec === null || typeof spec === 'number') {
    if (typeof spec === 'number' && !Number.isInteger(spec)) throw new ArgumentError(`vmap: ${what} at ${path} must be an integer or null, got ${spec}`);
    if (tree instanceof MetalArray) {
      out.push(spec);
      return;
    }
    if (Array.isArray(tree)) {
      for (let i = 0; i < tree.length; i++) axesOf(spec, tree[i], `${path}[${i}]`, out, what, wholeTree);
      return;
    }
    if (isPlainObject(tree)) {
      for (const k of Object.keys(tree)) axesOf(spec, tree[k], `${path}.${k}`, out, what, wholeTree);
      return;
    }
    // A static leaf (number, string...) is never mapped; naming an axis for it alone is a mistake.
    if (spec !== null && !wholeTree) {
      throw new ArgumentError(`vmap: ${what} gives axis ${spec} for ${path}, which is ${formatValue(tree)}, not an array; use null for it`);
    }
    return;
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(tree) || tree.length !== spec.length) {
      throw new ArgumentError(
        `vmap: ${what} at ${path} is a list of ${spec.length} axes, but the value there is ${Array.isArray(tree) ? `a list of ${tree.length}` : formatValue(tree)}; give one axis per item, or one number or null for the whole value`,
      );
    }
    for (let i = 0; i < spec.length; i++) axesOf(spec[i] as AxisSpec, tree[i], `${path}[${i}]`, out, what, false);
    return;
  }
  if (isPlainObject(spec)) {
    const keys = Object.keys(spec);
    if (!isPlainObject(tree) || Object.keys(tree).join('\u0000') !== keys.join('\u0000')) {
      throw new ArgumentError(
        `vmap: ${what} at ${path} is an object with keys [${keys.join(', ')}], but the value there ${isPlainObject(tree) ? `has keys [${Object.keys(tree).join(', ')}]` : `is ${formatValue(tree)}`}`,
      );
    }
    for (const k of keys) axesOf((spec as Record<string, AxisSpec>)[k] as AxisSpec, tree[k], `${path}.${k}`, out, what, false);
    return;
  }
  throw new ArgumentError(`vmap: ${what} must be a number, null, or a list or object of them, got ${formatValue(spec)}`);
}

/** A view of `x` with axis `from` moved to position `to` (a transpose view, no copy). */
function moveAxis(x: Node, from: number, to: number): Node {
  if (from === to) return x;
  const r = x.shape.length;
  const order: number[] = [];
  for (let d = 0; d < r; d++) if (d !== from) order.push(d);
  order.splice(to, 0, from);
  return viewNode(
    x,
    { inDim: order, step: order.map(() => 1), start: new Array<number>(r).fill(0) },
    order.map((d) => x.shape[d] as number),
  );
}

/** Normalizes `axis` for rank `rank` (valid: -rank ≤ axis < rank) or throws a ShapeError. */
function checkAxis(axis: number, rank: number, message: () => string): number {
  if (axis < -rank || axis >= rank) throw new ShapeError(message());
  return axis < 0 ? axis + rank : axis;
}

/**
 * Memory that a stand-in leaf claims to view: there is none. Any evaluation that reaches
 * it (eval, item, toTypedArray, a custom kernel, auto-evaluation) asks for its id, which
 * throws, so f cannot read a mapped value while being traced.
 */
function standInBuffer(backend: string, argument: string): BufferRef {
  return {
    backend,
    get id(): number {
      throw new BatchingError(
        `vmap: the mapped function evaluated or read a value that depends on ${argument} (eval, item, toTypedArray, tolist, a custom kernel, random.split/foldIn of a mapped key, or auto-evaluation of a graph deeper than setAutoEval's bound); inside vmap, f must stay lazy: return arrays instead of reading them`,
      );
    },
    nbytes: 0,
    holders: 0,
    release(): void {},
    label(): void {},
    addReaders(): void {},
  };
}

/**
 * Rebuilds the graph under `outputs` with batched nodes: `batchedOf` starts with each
 * stand-in's batched input (batch at axis 0) and ends with every node that reads a
 * mapped value. Post-order and iterative, so deep graphs cannot overflow the stack.
 */
function batchGraph(outputs: readonly Node[], batchedOf: Map<Node, Node>, size: number): void {
  const done = new Set<Node>(batchedOf.keys());
  const stack: Node[] = [];
  const entered = new Set<Node>();
  for (const out of outputs) {
    if (done.has(out)) continue;
    stack.push(out);
    while (stack.length > 0) {
      const n = stack[stack.length - 1] as Node;
      if (done.has(n)) {
        stack.pop();
        continue;
      }
      if (!entered.has(n)) {
        entered.add(n);
        for (let i = n.inputs.length - 1; i >= 0; i--) {
          const x = n.inputs[i] as Node;
          if (!done.has(x)) stack.push(x);
        }
        continue;
      }
      stack.pop();
      done.add(n);
      const inputs = n.inputs;
      let any = false;
      const batched = new Array<boolean>(inputs.length);
      const rebuilt = new Array<Node>(inputs.length);
      for (let i = 0; i < inputs.length; i++) {
        const b = batchedOf.get(inputs[i] as Node);
        batched[i] = b !== undefined;
        rebuilt[i] = b ?? (inputs[i] as Node);
        if (b !== undefined) any = true;
      }
      if (any) batchedOf.set(n, batchingRuleFor(n)(n, rebuilt, batched, size));
    }
  }
}

/**
 * Maps `f` over an axis of its inputs: `vmap(f)(xs)` equals stacking `f(x)` over the
 * examples `x` of `xs`, computed as one batched lazy graph (a batched matmul, a
 * reduction over one more axis, a gather with a batch dim), never a JS loop over the
 * batch. The batched graph fuses like the unbatched one: the same number of kernels.
 *
 * - `inAxes` (default 0): the mapped axis of each argument; a number or `null` for all
 *   arguments, or a list with one entry per argument, each a number, `null` (the
 *   argument is the same for every example) or a tree of those matching the argument
 *   (a list or object of arrays). Negative axes count from the end.
 * - `outAxes` (default 0): where the batch axis goes in each result, the same way; a
 *   result that reads no mapped value is broadcast along the batch. `null` marks a
 *   result that must not depend on the mapped values (a BatchingError if it does).
 * - Arguments and results may be array trees (nested lists and plain objects of
 *   arrays); non-array values pass through unmapped. Every mapped axis must have the
 *   same size, and at least one array must be mapped.
 * - f must stay lazy on mapped values: evaluating or reading one inside f (`eval`,
 *   `item`, a custom kernel over it, `random.split` of a mapped key) throws a
 *   BatchingError. Random draws with a mapped key give each example its own draws; with
 *   a shared (unmapped) key every example gets the same draws, as in JAX.
 * - Nested `vmap(vmap(f))` maps over two axes; a function built by another
 *   transformation (`grad(f)`) is mapped through the graph it builds.
 * - Repeated calls with the same signature (shapes, dtypes, axes, tree structure, the
 *   values of non-array arguments) reuse f's trace (up to 8 per mapped function) when f
 *   read only its mapped arguments and what it made; f closing over arrays, or an
 *   unmapped array argument, traces at every call. A kept trace bakes in JS values f
 *   read from its environment: pass what changes as an argument.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const w = ma.array([[1, 0], [0, 2], [1, 1]]); // [3, 2]
 * const xs = ma.array([[1, 2, 3], [4, 5, 6]]); // a batch of two [3] vectors
 * const apply = ma.vmap((x: ma.MetalArray) => ma.matmul(x, w).sum());
 * apply(xs).tolist(); // [11, 26]
 * // Map the second argument over its axis 1; the first is shared.
 * const scaled = ma.vmap((s: ma.MetalArray, v: ma.MetalArray) => v.multiply(s), [null, 1], 0);
 * scaled(ma.array(2), ma.array([[1, 2], [3, 4]])).tolist(); // [[2, 6], [4, 8]]
 * ```
 */
export function vmap<A extends unknown[], R>(f: (...args: A) => R, inAxes: AxisSpec = 0, outAxes: AxisSpec = 0): (...args: A) => R {
  checkArgCount('vmap', arguments.length, 3, 'vmap(f, inAxes?, outAxes?)');
  if (typeof f !== 'function') throw new ArgumentError(`vmap: f must be a function, got ${formatValue(f)}`);
  if (Array.isArray(inAxes) === false && inAxes !== null && typeof inAxes !== 'number') {
    throw new ArgumentError(`vmap: inAxes must be a number, null, or a list with one entry per argument, got ${formatValue(inAxes)}`);
  }
  const name = f.name === '' ? 'vmap' : `vmap(${f.name})`;
  const traces: TraceCache = new Map();
  return (...args: A): R => mapped(name, f, inAxes, outAxes, args, traces);
}

/**
 * A trace of f kept for reuse: the per-example graph under its stand-ins, with the
 * structure and axes of its results. Its output nodes hold one reference each, so the
 * graph stays alive until the entry is evicted.
 */
interface Trace {
  readonly standIns: readonly Node[];
  readonly outputs: readonly Node[];
  readonly outDef: TreeDef;
  readonly outAxes: readonly (number | null)[];
}

/** One mapped function's traces by signature, least recently used first. */
type TraceCache = Map<string, Trace>;

/** The most traces one mapped function keeps (each a small per-example graph). */
const TRACES_PER_FUNCTION = 8;

/**
 * Whether f's trace reads nothing but its stand-ins and what f made while traced
 * (constants, arrays it created): only then does a call with the same signature rebuild
 * the same graph. An array f closes over (or an unmapped argument) is read afresh at
 * every call, since it may be rebound between calls, so such traces are not kept.
 */
function selfContained(outputs: readonly Node[], standIns: ReadonlySet<Node>, madeInside: ReadonlySet<Node>): boolean {
  const seen = new Set<Node>();
  const stack = outputs.slice();
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (seen.has(n) || standIns.has(n)) continue;
    seen.add(n);
    if (n.kind === 'leaf') {
      if (!madeInside.has(n)) return false;
      if (n.history !== null) stack.push(...n.history.inputs);
      continue;
    }
    stack.push(...n.inputs);
  }
  return true;
}

/** The batched results of the traced `outputs`, the batch moved to each result's axis. */
function batchedResults(name: string, outputs: readonly Node[], outAxes: readonly (number | null)[], batchedOf: Map<Node, Node>, size: number): MetalArray[] {
  batchGraph(outputs, batchedOf, size);
  const results = outputs.map((n, i) => {
    const axis = outAxes[i] as number | null;
    const b = batchedOf.get(n);
    if (axis === null) {
      if (b !== undefined) throw new BatchingError(`${name}: result array ${i} depends on a mapped argument, but outAxes gives null for it; give it an axis`);
      return MetalArray.fromNode(n);
    }
    const rank = n.shape.length + 1;
    const to = checkAxis(
      axis,
      rank,
      () => `${name}: outAxes gives axis ${axis} for result array ${i}, which has ${rank} dims with the batch; give an axis in [${-rank}, ${rank - 1}]`,
    );
    return MetalArray.fromNode(moveAxis(b ?? broadcastBatch(n, size), 0, to));
  });
  // Batched nodes that nothing ended up reading (folded into a composed view) let go of their inputs.
  for (const b of new Set(batchedOf.values())) if (b.refs === 0) releaseNode(b);
  return results;
}

function mapped<A extends unknown[], R>(name: string, f: (...args: A) => R, inAxes: AxisSpec, outAxes: AxisSpec, args: A, traces: TraceCache): R {
  const { leaves, def } = flattenTree(args, name);
  const axes: (number | null)[] = [];
  if (Array.isArray(inAxes) && inAxes.length !== args.length) {
    throw new ArgumentError(`${name}: inAxes lists ${inAxes.length} axes for ${args.length} arguments; give one entry per argument`);
  }
  axesOf(inAxes, args, 'arguments', axes, 'inAxes', !Array.isArray(inAxes));
  let size = -1;
  let sizeFrom = '';
  // A trace is reused only when every array argument is mapped (unmapped ones are read
  // afresh) and no static argument is an object or function (their keys don't tell instances apart).
  let signature: string | null = def.key.includes('obj:') || def.key.includes('fn:') ? null : def.key;
  const mappedNodes: Node[] = [];
  const mappedAxes: number[] = [];
  for (const [i, x] of leaves.entries()) {
    const axis = axes[i] as number | null;
    if (axis === null) {
      signature = null;
      continue;
    }
    const n = x.liveNode(name);
    const a = checkAxis(
      axis,
      n.shape.length,
      () =>
        `${name}: cannot map argument array ${i} of shape [${n.shape.join(', ')}] over axis ${axis}; give an axis in [${-n.shape.length}, ${n.shape.length - 1}] or null`,
    );
    const s = n.shape[a] as number;
    if (size === -1) {
      size = s;
      sizeFrom = `array ${i} (axis ${a})`;
    } else if (s !== size) {
      throw new ShapeError(`${name}: mapped axes differ in size: ${sizeFrom} has ${size}, array ${i} (axis ${a}) has ${s}`);
    }
    mappedNodes.push(n);
    mappedAxes.push(a);
    if (signature !== null) signature += `|${n.backend}:${n.dtype}:${n.shape.join(',')}@${a}`;
  }
  if (size === -1) throw new ArgumentError(`${name}: no argument is mapped (every inAxes entry is null or names no array); map at least one array`);

  const batchedOf = new Map<Node, Node>();
  const cached = signature === null ? undefined : traces.get(signature);
  if (cached !== undefined && signature !== null) {
    // Most recently used last.
    traces.delete(signature);
    traces.set(signature, cached);
    for (const [j, s] of cached.standIns.entries()) batchedOf.set(s, moveAxis(mappedNodes[j] as Node, mappedAxes[j] as number, 0));
    return cached.outDef.rebuild(batchedResults(name, cached.outputs, cached.outAxes, batchedOf, size)) as R;
  }

  const standIns: MetalArray[] = [];
  let next = 0;
  const traced = leaves.map((x, i) => {
    if (axes[i] === null) return x;
    const j = next++;
    const n = mappedNodes[j] as Node;
    const a = mappedAxes[j] as number;
    const exampleShape = n.shape.filter((_, d) => d !== a);
    const standIn = MetalArray.fromNode(leafNode(standInBuffer(n.backend, `mapped argument array ${i}`), exampleShape, n.dtype));
    standIns.push(standIn);
    batchedOf.set(standIn.liveNode(name), moveAxis(n, a, 0));
    return standIn;
  });

  // The trace's arrays are scaffolding: collected so they can be let go of after.
  const scope = new Scope();
  try {
    const result = runInScope(scope, () => f(...(def.rebuild(traced) as A)));
    if (result instanceof Promise) throw new ArgumentError(`${name}: f returned a Promise; vmap maps synchronous functions`);
    const out = flattenTree(result, name);
    const outAxesList: (number | null)[] = [];
    axesOf(outAxes, result, 'result', outAxesList, 'outAxes', true);
    const outNodes = out.leaves.map((r) => r.liveNode(name));
    const standInNodes = standIns.map((x) => x.liveNode(name));
    const results = batchedResults(name, outNodes, outAxesList, batchedOf, size);
    if (signature !== null) {
      const madeInside = new Set<Node>();
      for (const x of scope.tracked) if (x instanceof MetalArray && !x.isDisposed) madeInside.add(x.liveNode(name));
      if (selfContained(outNodes, new Set(standInNodes), madeInside)) {
        for (const n of outNodes) n.refs++;
        traces.set(signature, { standIns: standInNodes, outputs: outNodes, outDef: out.def, outAxes: outAxesList });
        if (traces.size > TRACES_PER_FUNCTION) {
          const [oldest, evicted] = traces.entries().next().value as [string, Trace];
          traces.delete(oldest);
          for (const n of evicted.outputs) releaseNode(n);
        }
      }
    }
    return out.def.rebuild(results) as R;
  } finally {
    for (const x of scope.tracked) x.dispose();
    for (const s of standIns) s.dispose();
  }
}
