/**
 * Movement ops. All are views: they build a dimension-wise map (or a reshape node)
 * and never copy; the consumer's kernel does the index arithmetic.
 */
import { MetalArray } from '../array/array.js';
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { checkArgCount } from '../core/arguments.js';
import { reshapeNode, viewNode } from '../core/build.js';
import type { ViewMap } from '../core/node.js';
import { checkShape } from '../core/shape.js';
import { axisList, broadcastNode, broadcastShapes, nodeOf, normalizeAxis } from './operand.js';
import { type BatchingTable, batchedInput } from '../transforms/batching.js';

/** An integer typed array used as an index array in `slice` and `at`. */
export type IndexTypedArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/**
 * A range of one axis, NumPy's `start:stop:step` (`null` for a default), as `ma.range`
 * makes it: the object form of the string `'1:5:2'`.
 */
export class SliceRange {
  /** @internal Use `ma.range(start, stop, step)`. */
  constructor(
    /** First index (null: the start of the axis, or its end for a negative step). */
    readonly start: number | null,
    /** Index to stop before (null: run to the end of the axis, or its start for a negative step). */
    readonly stop: number | null,
    /** Distance between indices (null: 1); negative walks backwards. */
    readonly step: number | null,
  ) {}

  /**
   * NumPy's text of the range.
   *
   * @example
   * ```ts
   * console.log(ma.range(1, 5, 2).toString()); // 1:5:2
   * ```
   */
  toString(): string {
    const f = (v: number | null): string => (v === null ? '' : String(v));
    return `${f(this.start)}:${f(this.stop)}${this.step === null ? '' : `:${this.step}`}`;
  }
}

function rangeBound(name: string, v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ArgumentError(`range: ${name} must be an integer or null, got ${formatValue(v)}`);
  return v;
}

/**
 * A range for `slice` and `at`, as Python's `slice(...)`: `range(stop)`,
 * `range(start, stop)` or `range(start, stop, step)`, `null` for a default. The same as
 * the string form: `ma.range(1, 5, 2)` is `'1:5:2'`, `ma.range(null, null, -1)` is `'::-1'`.
 * A plain JS list in `slice` is an index array (a gather), never a range.
 *
 * @example
 * ```ts
 * const a = ma.arange(10);
 * console.log(a.slice(ma.range(1, 5, 2)).tolist());        // [ 1, 3 ]
 * console.log(a.slice(ma.range(null, null, -3)).tolist()); // [ 9, 6, 3, 0 ]
 * ```
 */
export function range(...args: (number | null)[]): SliceRange {
  checkArgCount('range', args.length, 3, 'range(stop), range(start, stop) or range(start, stop, step)');
  if (args.length === 0) throw new ArgumentError("range: needs a stop, (start, stop) or (start, stop, step); for the whole axis use '...' or ma.range(null)");
  if (args.length === 1) return new SliceRange(null, rangeBound('stop', args[0]), null);
  const step = rangeBound('step', args[2]);
  if (step === 0) throw new ArgumentError('range: step cannot be zero');
  return new SliceRange(rangeBound('start', args[0]), rangeBound('stop', args[1]), step);
}

/**
 * A nested JS list used as an index: integers gather (an int32 index array), booleans
 * are a mask, as NumPy's `a[[1, 3, 5]]`.
 */
export type IndexList = readonly (number | boolean | bigint | IndexList)[];

/**
 * One index of `slice` and `at`: an integer (drops the axis), a range (`ma.range(1, 5, 2)`,
 * or the string form `'1:5:2'`), `null` (a new axis), `'...'`, or an index array (a
 * MetalArray, an integer typed array, or a plain JS list): integers gather along the
 * axis, a boolean mask selects along as many axes as it has. Several arrays combine as
 * in NumPy's advanced indexing (see `advancedIndex`).
 */
export type SliceSpec = number | SliceRange | null | '...' | MetalArray | IndexTypedArray | IndexList;

/** @internal A range as the basic slicer takes it: `[start, stop, step]`, nulls for defaults. */
export type RangeTriple = readonly [number | null, (number | null)?, (number | null)?];

/** @internal One index once parsed: lists are arrays, ranges are triples (see `slice`). */
export type ParsedSpec = number | RangeTriple | null | '...' | MetalArray | IndexTypedArray;

function identityMap(rank: number): { inDim: number[]; step: number[]; start: number[] } {
  return { inDim: [...Array(rank).keys()], step: new Array<number>(rank).fill(1), start: new Array<number>(rank).fill(0) };
}

/**
 * Reshapes to `shape` (one entry may be -1). Adding or dropping 1-sized dims is a view; otherwise a reshape node, still without a copy.
 *
 * @example
 * ```ts
 * console.log(ma.reshape(ma.arange(6), [2, 3]).tolist()); // [ [ 0, 1, 2 ], [ 3, 4, 5 ] ]
 * console.log(ma.reshape(ma.arange(6), [-1, 2]).shape); // [ 3, 2 ]
 * ```
 */
export function reshape(a: MetalArray, shape: readonly number[]): MetalArray {
  checkArgCount('reshape', arguments.length, 2, 'reshape(a, shape)');
  const n = nodeOf(a, 'reshape');
  if (!Array.isArray(shape)) throw new ArgumentError(`reshape: shape must be an array of integers, got ${formatValue(shape)}`);
  const target = checkShape('reshape', shape, true).slice();
  const unknown = target.filter((d) => d === -1).length;
  const known = target.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (unknown) {
    if (known === 0 || n.size % known !== 0) throw new ShapeError(`reshape: cannot reshape array of shape [${n.shape.join(', ')}] into [${target.join(', ')}]`);
    target[target.indexOf(-1)] = n.size / known;
  } else if (known !== n.size) {
    throw new ShapeError(`reshape: cannot reshape array of shape [${n.shape.join(', ')}] (size ${n.size}) into [${target.join(', ')}] (size ${known})`);
  }
  const a1 = n.shape.filter((d) => d !== 1);
  const b1 = target.filter((d) => d !== 1);
  if (a1.length === b1.length && a1.every((d, i) => d === b1[i])) {
    // Only 1-sized dims change: a dimension-wise view.
    const inNon1 = n.shape.map((d, i) => (d !== 1 ? i : -1)).filter((i) => i >= 0);
    let k = 0;
    const inDim = target.map((d) => (d !== 1 ? inNon1[k++] : -1));
    return MetalArray.fromNode(viewNode(n, { inDim, step: inDim.map((j) => (j >= 0 ? 1 : 0)), start: new Array<number>(n.shape.length).fill(0) }, target));
  }
  return MetalArray.fromNode(reshapeNode(n, target));
}

/**
 * Permutes axes (reverses them when `axes` is omitted).
 *
 * @example
 * ```ts
 * console.log(ma.transpose(ma.arange(6).reshape(2, 3)).tolist()); // [ [ 0, 3 ], [ 1, 4 ], [ 2, 5 ] ]
 * console.log(ma.transpose(ma.zeros([2, 3, 4]), [2, 0, 1]).shape); // [ 4, 2, 3 ]
 * ```
 */
export function transpose(a: MetalArray, axes?: readonly number[]): MetalArray {
  checkArgCount('transpose', arguments.length, 2, 'transpose(a, axes)');
  const n = nodeOf(a, 'transpose');
  const r = n.shape.length;
  const perm = axes === undefined || axes === null ? [...Array(r).keys()].reverse() : axisList('transpose', axes).map((x) => normalizeAxis('transpose', x, r));
  if (perm.length !== r || new Set(perm).size !== r) throw new ShapeError(`transpose: axes ${formatValue(axes ?? [])} are not a permutation of ${r} axes`);
  return MetalArray.fromNode(
    viewNode(
      n,
      { inDim: perm, step: new Array<number>(r).fill(1), start: new Array<number>(r).fill(0) },
      perm.map((p) => n.shape[p]),
    ),
  );
}

/**
 * Swaps two axes.
 *
 * @example
 * ```ts
 * console.log(ma.swapaxes(ma.zeros([2, 3, 4]), 0, 1).shape); // [ 3, 2, 4 ]
 * ```
 */
export function swapaxes(a: MetalArray, axis1: number, axis2: number): MetalArray {
  checkArgCount('swapaxes', arguments.length, 3, 'swapaxes(a, axis1, axis2)');
  const r = nodeOf(a, 'swapaxes').shape.length;
  const i = normalizeAxis('swapaxes', axis1, r);
  const j = normalizeAxis('swapaxes', axis2, r);
  const perm = [...Array(r).keys()];
  perm[i] = j;
  perm[j] = i;
  return transpose(a, perm);
}

/**
 * Moves an axis to a new position.
 *
 * @example
 * ```ts
 * console.log(ma.moveaxis(ma.zeros([2, 3, 4]), -1, 0).shape); // [ 4, 2, 3 ]
 * ```
 */
export function moveaxis(a: MetalArray, source: number, destination: number): MetalArray {
  checkArgCount('moveaxis', arguments.length, 3, 'moveaxis(a, source, destination)');
  const r = nodeOf(a, 'moveaxis').shape.length;
  const s = normalizeAxis('moveaxis', source, r);
  const d = normalizeAxis('moveaxis', destination, r);
  const perm = [...Array(r).keys()].filter((x) => x !== s);
  perm.splice(d, 0, s);
  return transpose(a, perm);
}

/**
 * Broadcasts to `shape` (NumPy rules).
 *
 * @example
 * ```ts
 * console.log(ma.broadcastTo(ma.array([[1], [2]]), [2, 3]).tolist()); // [ [ 1, 1, 1 ], [ 2, 2, 2 ] ]
 * ```
 */
export function broadcastTo(a: MetalArray, shape: readonly number[]): MetalArray {
  checkArgCount('broadcastTo', arguments.length, 2, 'broadcastTo(a, shape)');
  const n = nodeOf(a, 'broadcastTo');
  if (!Array.isArray(shape)) throw new ArgumentError(`broadcastTo: shape must be an array of integers, got ${formatValue(shape)}`);
  const target = checkShape('broadcastTo', shape);
  const b = broadcastShapes('broadcastTo', [n.shape, target]);
  if (b.length !== target.length || b.some((d, i) => d !== target[i])) {
    throw new ShapeError(`broadcastTo: cannot broadcast shape [${n.shape.join(', ')}] to [${target.join(', ')}]`);
  }
  return MetalArray.fromNode(broadcastNode(n, target));
}

/**
 * Inserts 1-sized axes at the given positions (of the result).
 *
 * @example
 * ```ts
 * console.log(ma.expandDims(ma.array([1, 2]), 1).tolist()); // [ [ 1 ], [ 2 ] ]
 * ```
 */
export function expandDims(a: MetalArray, axis: number | readonly number[]): MetalArray {
  checkArgCount('expandDims', arguments.length, 2, 'expandDims(a, axis)');
  const n = nodeOf(a, 'expandDims');
  const axes = axisList('expandDims', axis);
  const r = n.shape.length + axes.length;
  const norm = axes.map((x) => normalizeAxis('expandDims', x, r));
  if (new Set(norm).size !== norm.length) throw new ShapeError(`expandDims: repeated axis in [${axes.join(', ')}]`);
  const shape: number[] = [];
  const inDim: number[] = [];
  let k = 0;
  for (let d = 0; d < r; d++) {
    if (norm.includes(d)) {
      shape.push(1);
      inDim.push(-1);
    } else {
      shape.push(n.shape[k]);
      inDim.push(k++);
    }
  }
  return MetalArray.fromNode(viewNode(n, { inDim, step: inDim.map((j) => (j >= 0 ? 1 : 0)), start: new Array<number>(n.shape.length).fill(0) }, shape));
}

/**
 * Removes 1-sized axes (all of them, or the given ones, which must be 1-sized).
 *
 * @example
 * ```ts
 * console.log(ma.squeeze(ma.array([[[1], [2]]])).tolist()); // [ 1, 2 ]
 * ```
 */
export function squeeze(a: MetalArray, axis?: number | readonly number[]): MetalArray {
  checkArgCount('squeeze', arguments.length, 2, 'squeeze(a, axis)');
  const n = nodeOf(a, 'squeeze');
  const r = n.shape.length;
  let drop: number[];
  if (axis === undefined || axis === null) drop = n.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  else {
    drop = axisList('squeeze', axis).map((x) => normalizeAxis('squeeze', x, r));
    for (const d of drop) if (n.shape[d] !== 1) throw new ShapeError(`squeeze: axis ${d} has size ${n.shape[d]}, not 1 (shape [${n.shape.join(', ')}])`);
  }
  const keep = [...Array(r).keys()].filter((i) => !drop.includes(i));
  return MetalArray.fromNode(
    viewNode(
      n,
      { inDim: keep, step: keep.map(() => 1), start: new Array<number>(r).fill(0) },
      keep.map((i) => n.shape[i]),
    ),
  );
}

/**
 * The array as one dimension.
 *
 * @example
 * ```ts
 * console.log(ma.flatten(ma.array([[1, 2], [3, 4]])).tolist()); // [ 1, 2, 3, 4 ]
 * ```
 */
export function flatten(a: MetalArray): MetalArray {
  checkArgCount('flatten', arguments.length, 1, 'flatten(a)');
  return reshape(a, [-1]);
}

/**
 * Reverses the order of elements along the given axes (all when omitted).
 *
 * @example
 * ```ts
 * console.log(ma.flip(ma.arange(3)).tolist()); // [ 2, 1, 0 ]
 * console.log(ma.flip(ma.arange(4).reshape(2, 2), 0).tolist()); // [ [ 2, 3 ], [ 0, 1 ] ]
 * ```
 */
export function flip(a: MetalArray, axis?: number | readonly number[]): MetalArray {
  checkArgCount('flip', arguments.length, 2, 'flip(a, axis)');
  const n = nodeOf(a, 'flip');
  const r = n.shape.length;
  const axes = axis === undefined || axis === null ? [...Array(r).keys()] : axisList('flip', axis).map((x) => normalizeAxis('flip', x, r));
  const map = identityMap(r);
  for (const d of axes) {
    map.step[d] = -1;
    map.start[d] = Math.max(0, n.shape[d] - 1);
  }
  return MetalArray.fromNode(viewNode(n, map, n.shape));
}

/** @internal The specs of a NumPy-style index string such as `'1:, ::-1, None, ...'`. */
export function parseSliceString(text: string): ParsedSpec[] {
  if (text.trim() === '') return []; // like a[()]: every axis, whole
  const parts = text.split(',').map((p) => p.trim());
  return parts.map((p): ParsedSpec => {
    if (p === '...' || p === 'Ellipsis') return '...';
    if (p === 'None' || p === 'newaxis') return null;
    if (!p.includes(':')) {
      if (!/^[-+]?\d+$/.test(p)) throw new ArgumentError(`slice: cannot parse index ${JSON.stringify(p)} in ${JSON.stringify(text)}`);
      return Number(p);
    }
    const fields = p.split(':');
    if (fields.length > 3) throw new ArgumentError(`slice: too many ':' in ${JSON.stringify(p)}`);
    const num = (f: string | undefined): number | null => {
      if (f === undefined || f.trim() === '') return null;
      if (!/^[-+]?\d+$/.test(f.trim())) throw new ArgumentError(`slice: cannot parse ${JSON.stringify(f)} in ${JSON.stringify(text)}`);
      return Number(f);
    };
    return [num(fields[0]), num(fields[1]), num(fields[2])];
  });
}

/** NumPy's slice normalization: start, length and step for a dim of size n. */
function sliceRange(spec: readonly (number | null | undefined)[], n: number): { start: number; len: number; step: number } {
  const [s0, s1, s2] = spec;
  const step = s2 ?? 1;
  if (!Number.isInteger(step)) throw new ArgumentError(`slice: step must be an integer, got ${formatValue(step)}`);
  if (step === 0) throw new ArgumentError('slice: step cannot be zero');
  const clamp = (v: number | null | undefined, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    if (!Number.isInteger(v)) throw new ArgumentError(`slice: bounds must be integers, got ${formatValue(v)}`);
    if (v < 0) {
      v += n;
      if (v < 0) v = step < 0 ? -1 : 0;
    } else if (v >= n) v = step < 0 ? n - 1 : n;
    return v;
  };
  const start = clamp(s0, step < 0 ? n - 1 : 0);
  const stop = clamp(s1, step < 0 ? -1 : n);
  let len: number;
  if (step < 0) len = stop < start ? Math.floor((start - stop - 1) / -step) + 1 : 0;
  else len = start < stop ? Math.floor((stop - start - 1) / step) + 1 : 0;
  return { start: len > 0 ? start : 0, len, step };
}

/**
 * Basic NumPy indexing, a view: each spec is an integer (drops the axis), a
 * `[start, stop, step]` triple (nulls for defaults), `null` (a new axis) or `'...'`.
 * The public `slice` (src/ops/indexing.ts) parses strings and sends index arrays to
 * advanced indexing; it calls this for the rest.
 */
export function basicSlice(a: MetalArray, specs: readonly ParsedSpec[]): MetalArray {
  const n = nodeOf(a, 'slice');
  let list: ParsedSpec[] = [...specs];
  const r = n.shape.length;
  const consuming = list.filter((s) => s !== null && s !== '...').length;
  const ellipses = list.filter((s) => s === '...').length;
  if (ellipses > 1) throw new ShapeError("slice: only one '...' is allowed");
  if (consuming > r) throw new ShapeError(`slice: too many indices (${consuming}) for an array of rank ${r}`);
  if (ellipses === 0) list = [...list, '...'];
  const expanded: ParsedSpec[] = [];
  for (const s of list) {
    if (s === '...') for (let k = 0; k < r - consuming; k++) expanded.push([null, null, null]);
    else expanded.push(s);
  }
  const inDim: number[] = [];
  const step: number[] = [];
  const start = new Array<number>(r).fill(0);
  const shape: number[] = [];
  let j = 0;
  for (const s of expanded) {
    if (s === null) {
      inDim.push(-1);
      step.push(0);
      shape.push(1);
    } else if (typeof s === 'number') {
      if (!Number.isInteger(s)) throw new ArgumentError(`slice: index must be an integer, got ${formatValue(s)}`);
      const d = n.shape[j];
      if (s < -d || s >= d) throw new ShapeError(`slice: index ${s} is out of bounds for axis ${j} with size ${d}`);
      start[j] = s < 0 ? s + d : s;
      j++;
    } else if (Array.isArray(s)) {
      const rg = sliceRange(s, n.shape[j]);
      inDim.push(j);
      step.push(rg.step);
      start[j] = rg.start;
      shape.push(rg.len);
      j++;
    } else {
      throw new ArgumentError(`slice: bad spec ${formatValue(s)}; use an integer, ma.range(start, stop, step), null, '...', an index array or a string`);
    }
  }
  return MetalArray.fromNode(viewNode(n, { inDim, step, start }, shape));
}

// Batching rules

/**
 * vmap: a view of the batched input keeps the batch as a new leading dim read one to
 * one (input dims shift by one); a reshape gets the batch as its leading dim, which
 * row-major order leaves in place. Both stay views or reshapes: no copy.
 */
export const movementBatching: Pick<BatchingTable, 'view' | 'reshape'> = {
  view: (node, inputs, batched, size) => {
    const map = node.view as ViewMap;
    const inDim = [0];
    const step = [1];
    for (let d = 0; d < map.inDim.length; d++) {
      const j = map.inDim[d] as number;
      inDim.push(j >= 0 ? j + 1 : -1);
      step.push(map.step[d] as number);
    }
    return viewNode(batchedInput(inputs, batched, 0, size), { inDim, step, start: [0, ...map.start] }, [size, ...node.shape]);
  },
  reshape: (node, inputs, batched, size) => reshapeNode(batchedInput(inputs, batched, 0, size), [size, ...node.shape]),
};
