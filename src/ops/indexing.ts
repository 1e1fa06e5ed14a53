/**
 * Indexing and rearranging: gathers (`take`, `takeAlongAxis`, advanced indexing, `at().get`),
 * scatters (`at().set/add/...`, `putAlongAxis`), and ops built from views, concatenation
 * and index arithmetic (`tril`, `triu`, `roll`, `tile`, `repeat`, `pad`), plus the
 * data-dependent `nonzero` (evaluated eagerly: its shape depends on values).
 *
 * A gather is one node: the consumer's kernel reads the data at the index values (a
 * computed data operand is materialized first), so `take(x, i).exp()` is one kernel.
 * Out-of-range indices follow an index mode, as JAX's (docs/indexing.md): gathers clip
 * by default, scatters drop. A mode is built into the graph around the gather (a modulo
 * of the index, a `where` on its range), so it is part of the structural hash and fuses
 * with the gather; the gather node itself always clamps, so it never reads out of bounds.
 */
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import { array, type NestedArray } from '../array/creation.js';
import { isTypedArray, scalarFor } from '../array/convert.js';
import { ArgumentError, BackendMismatchError, DTypeError, formatValue, IndexError, ShapeError } from '../errors.js';
import { castNode, constNode, elementwiseNode, gatherNode, iotaNode, type ScatterOp, scatterNode, viewNode } from '../core/build.js';
import type { Node, ScalarValue } from '../core/node.js';
import { type DType, DTYPES } from '../core/dtype.js';
import { astype, binary, where } from './elementwise.js';
import { concatenate } from './join.js';
import { basicSlice, broadcastTo, flatten, flip, type ParsedSpec, parseSliceString, reshape, type SliceSpec, SliceRange, transpose } from './movement.js';
import { type ArrayLike, broadcastNode, broadcastShapes, nodeOf, normalizeAxis } from './operand.js';
import { type BatchingTable, batchedInput, batchedInputs } from '../transforms/batching.js';

/** What an index argument may be: an integer array (a MetalArray or an integer typed array), a number, or nested lists of them. */
export type IndexLike =
  | MetalArray
  | number
  | bigint
  | readonly unknown[]
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/**
 * What happens to an index outside its axis of size n, once negative indices in
 * [-n, 0) have counted from the end (JAX's index modes; docs/indexing.md):
 * - `'clip'`: clamped into [0, n): -n-1 reads 0, n reads n-1 (the gathers' default);
 * - `'wrap'`: taken modulo n (Python's sign: -1 is n-1, n is 0);
 * - `'fill'` and `'drop'` (synonyms, as in JAX): a gather reads the fill value there, a
 *   scatter skips the update (the scatters' default);
 * - `'raise'`: an `IndexError` naming the index, the axis and its size. The indices are
 *   evaluated now to check them (a lazy library cannot raise on values it has not computed).
 */
export type IndexMode = 'clip' | 'wrap' | 'fill' | 'drop' | 'raise';

/** Options of a gather (`take`, `takeAlongAxis`, `at().get`). */
export interface GatherOptions {
  /** What an out-of-range index reads (default `'clip'`). */
  readonly mode?: IndexMode;
  /**
   * The value read at an out-of-range index in `'fill'` mode. Default: NaN for floats,
   * the smallest value for signed integers, the largest for unsigned ones, true for bool (JAX's).
   */
  readonly fillValue?: number | bigint | boolean;
}

/** Options of a scatter (`at().set/add/multiply/min/max`, `putAlongAxis`). */
export interface ScatterOptions {
  /** What an out-of-range index does to its update (default `'drop'`: nothing). */
  readonly mode?: IndexMode;
}

const INDEX_MODES: readonly IndexMode[] = ['clip', 'wrap', 'fill', 'drop', 'raise'];

/** The checked mode and fill value of a gather's or scatter's options. */
function modeOf(op: string, options: unknown, fallback: IndexMode): { mode: IndexMode; fillValue: number | bigint | boolean | undefined } {
  if (options === undefined) return { mode: fallback, fillValue: undefined };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ArgumentError(`${op}: options must be an object such as { mode: 'fill' }, got ${formatValue(options)}`);
  }
  // A scatter (default 'drop') has no fill value; a gather takes both keys.
  checkOptions(op, options as GatherOptions, fallback === 'drop' ? ['mode'] : ['mode', 'fillValue']);
  const { mode, fillValue } = options as { mode?: unknown; fillValue?: unknown };
  if (mode !== undefined && !INDEX_MODES.includes(mode as IndexMode)) {
    throw new ArgumentError(`${op}: mode must be one of ${INDEX_MODES.map((m) => `'${m}'`).join(', ')}, got ${formatValue(mode)}`);
  }
  if (fillValue !== undefined && typeof fillValue !== 'number' && typeof fillValue !== 'bigint' && typeof fillValue !== 'boolean') {
    throw new ArgumentError(`${op}: fillValue must be a number, bigint or boolean, got ${formatValue(fillValue)}`);
  }
  return { mode: (mode as IndexMode | undefined) ?? fallback, fillValue };
}

/** JAX's default fill of a gather: NaN, the signed minimum, the unsigned maximum, or true. */
function defaultFill(dtype: DType): ScalarValue {
  const info = DTYPES[dtype];
  if (info.kind === 'float') return Number.NaN;
  if (info.kind === 'bool') return true;
  const v = info.kind === 'int' ? info.min : info.max;
  return info.bits === 64 ? v : Number(v);
}

/** An index array after its mode: the index the (clamping) gather reads, and where it is in range. */
interface ModedIndex {
  index: MetalArray;
  /** Bool, the index's shape: false where the index is out of range ('fill'/'drop' only). */
  valid: MetalArray | null;
}

/**
 * Throws IndexError at the first index outside [-size, size). Evaluates the indices (and
 * waits for them): the check needs their values.
 */
function checkInRange(op: string, idx: MetalArray, size: number, axis: number): void {
  const values = idx.toTypedArray();
  const lo = -size;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const x = typeof v === 'bigint' ? v : typeof v === 'boolean' ? Number(v) : v;
    if (x < lo || x >= size) {
      throw new IndexError(
        `${op}: index ${String(x)} is out of bounds for axis ${axis} with size ${size} (mode 'raise'; pass { mode: 'clip' }, 'wrap' or 'fill' to allow it)`,
      );
    }
  }
}

/** Applies `mode` to the index array of an axis of `size` (`axis` names it in errors). */
function applyMode(op: string, idx: MetalArray, size: number, axis: number, mode: IndexMode): ModedIndex {
  if (mode === 'clip') return { index: idx, valid: null };
  if (mode === 'raise') {
    checkInRange(op, idx, size, axis);
    return { index: idx, valid: null };
  }
  // Range arithmetic in int64 (uint64 stays: it holds every size): a weak scalar -size or
  // size would wrap in a narrow index dtype.
  const wide = idx.dtype === 'uint64' || idx.dtype === 'int64' ? idx : astype(idx, 'int64');
  if (mode === 'wrap') return { index: size > 0 ? binary('remainder', wide, size) : idx, valid: null };
  const below = binary('less', wide, size);
  return { index: idx, valid: wide.dtype === 'uint64' ? below : binary('logicalAnd', binary('greaterEqual', wide, -size), below) };
}

/** `gathered` with the fill value where `valid` (which broadcasts to it) is false. */
function filled(gathered: MetalArray, valid: MetalArray, fillValue: number | bigint | boolean | undefined): MetalArray {
  const dtype = gathered.dtype;
  const value = fillValue === undefined ? defaultFill(dtype) : scalarFor(fillValue, dtype);
  const fill = MetalArray.fromNode(constNode(value, [], dtype, gathered.liveNode('fill').backend));
  return where(valid, gathered, fill);
}

/** The array argument of an op, checked (ArgumentError for anything else, DisposedError once disposed). */
function arrayArg(op: string, a: unknown): MetalArray {
  nodeOf(a as MetalArray, op);
  return a as MetalArray;
}

/** An integer or a list of integers, checked. */
function intList(op: string, name: string, v: unknown): number[] {
  const list = typeof v === 'number' ? [v] : Array.isArray(v) ? [...v] : null;
  if (list === null || !list.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) {
    throw new ArgumentError(`${op}: ${name} must be an integer or a list of integers, got ${formatValue(v)}`);
  }
  return list as number[];
}

/** An index argument (MetalArray, integer typed array, number, bigint or nested lists) as an integer array on `backend`. */
function indexArray(op: string, indices: IndexLike, backend: string): MetalArray {
  if (isTypedArray(indices)) {
    if (indices instanceof Float32Array || indices instanceof Float64Array || indices instanceof Uint8ClampedArray) {
      throw new DTypeError(`${op}: indices must be integers, got ${formatValue(indices)}; pass an Int32Array, or a MetalArray converted with astype('int32')`);
    }
    const idx = array(indices);
    return idx.liveNode(op).backend === backend ? idx : idx.to(backend);
  }
  if (indices instanceof MetalArray) {
    const kind = DTYPES[indices.dtype].kind;
    if (kind !== 'int' && kind !== 'uint' && kind !== 'bool') {
      throw new DTypeError(
        `${op}: an index array must have an integer (or bool) dtype, got ${indices.dtype} [${indices.shape.join(', ')}]; convert it with idx.astype('int32') (ma.array of JS integers is int32 already)`,
      );
    }
    if (indices.liveNode(op).backend !== backend) {
      throw new BackendMismatchError(`${op}: the indices live on ${indices.liveNode(op).backend}, the array on ${backend}`);
    }
    return indices;
  }
  if (typeof indices !== 'number' && typeof indices !== 'bigint' && !Array.isArray(indices)) {
    throw new ArgumentError(`${op}: indices must be an integer array, a number or nested lists of integers, got ${typeof indices}`);
  }
  const flat = Array.isArray(indices) ? (indices as unknown[]).flat(Number.POSITIVE_INFINITY) : [indices];
  if (!flat.every((v) => typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v)))) {
    throw new DTypeError(`${op}: indices must be integers, got ${JSON.stringify(indices, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  }
  const small = flat.every((v) => Number(v) >= -(2 ** 31) && Number(v) < 2 ** 31);
  const idx = array(indices as never, small ? 'int32' : 'int64');
  return idx.liveNode(op).backend === backend ? idx : idx.to(backend);
}

/**
 * Elements of `a` at `indices` along `axis` (NumPy's `take`): the result's shape is
 * `a.shape[:axis] + indices.shape + a.shape[axis+1:]`. Without an axis, `a` is
 * flattened first. Indices may be a MetalArray, an integer typed array, a number or
 * nested lists; out-of-range ones follow `options.mode` (default `'clip'`, see IndexMode).
 *
 * @example
 * ```ts
 * const x = ma.array([10, 20, 30]);
 * ma.take(x, Int32Array.of(2, 0));                        // [30, 10]
 * ma.take(x, [5, -1], 0, { mode: 'fill', fillValue: 0 }); // [0, 30]
 * ma.take(x, [3], 0, { mode: 'wrap' });                   // [10]
 * ```
 */
export function take<D extends DType>(a: MetalArray<D>, indices: IndexLike, axis?: number | null, options?: GatherOptions): MetalArray<D>;
export function take(a: MetalArray, indices: IndexLike, axis?: number | null, options?: GatherOptions): MetalArray {
  checkArgCount('take', arguments.length, 4, 'take(a, indices, axis, { mode, fillValue })');
  const op = 'take';
  arrayArg(op, a);
  const { mode, fillValue } = modeOf(op, options, 'clip');
  const node = a.liveNode(op);
  const idx = indexArray(op, indices, node.backend);
  const src = axis === undefined || axis === null ? flatten(a) : a;
  const ax = axis === undefined || axis === null ? 0 : normalizeAxis(op, axis, a.ndim);
  const n = src.shape[ax];
  const before = src.shape.slice(0, ax);
  const after = src.shape.slice(ax + 1);
  if (idx.ndim === 0) return take(src, reshape(idx, [1]), ax, options).squeeze(ax);
  const out = [...before, ...idx.shape, ...after];
  if (n === 0 && out.some((d) => d === 0) === false) throw new ShapeError(`${op}: cannot take from an empty axis ${ax} of shape [${src.shape.join(', ')}]`);
  const moded = applyMode(op, idx, n, ax, mode);
  // The data gets the index's extra dims as new axes in front of the gathered one.
  const g = ax + idx.ndim - 1;
  const data = reshape(src, [...before, ...new Array<number>(idx.ndim - 1).fill(1), n, ...after]);
  const dataShape = out.slice();
  dataShape[g] = n;
  const placed = [...new Array<number>(ax).fill(1), ...idx.shape, ...new Array<number>(after.length).fill(1)];
  const index = reshape(moded.index, placed);
  const gathered = MetalArray.fromNode(gatherNode(broadcastNode(data.liveNode(op), dataShape), [broadcastNode(index.liveNode(op), out)], [g]));
  return moded.valid === null ? gathered : filled(gathered, reshape(moded.valid, placed), fillValue);
}

/**
 * Picks values along `axis` by an index array of the same rank (NumPy's
 * `take_along_axis`): the other axes broadcast between `a` and `indices`. Without an
 * axis, `a` is flattened and `indices` must be 1-D. Out-of-range indices follow
 * `options.mode` (default `'clip'`, see IndexMode).
 *
 * @example
 * ```ts
 * const x = ma.array([[1, 2], [3, 4]]);
 * ma.takeAlongAxis(x, [[1], [0]], 1);                    // [[2], [3]]
 * ma.takeAlongAxis(x, [[2], [0]], 1, { mode: 'fill' });  // [[NaN], [3]]
 * ```
 */
export function takeAlongAxis<D extends DType>(a: MetalArray<D>, indices: IndexLike, axis?: number | null, options?: GatherOptions): MetalArray<D>;
export function takeAlongAxis(a: MetalArray, indices: IndexLike, axis: number | null = -1, options?: GatherOptions): MetalArray {
  checkArgCount('takeAlongAxis', arguments.length, 4, 'takeAlongAxis(a, indices, axis, { mode, fillValue })');
  const op = 'takeAlongAxis';
  arrayArg(op, a);
  const { mode, fillValue } = modeOf(op, options, 'clip');
  const node = a.liveNode(op);
  const idx = indexArray(op, indices, node.backend);
  const src = axis === null ? flatten(a) : a;
  if (idx.ndim !== src.ndim) {
    throw new ShapeError(`${op}: indices must have the array's rank ${src.ndim}, got shape [${idx.shape.join(', ')}]`);
  }
  if (src.ndim === 0) throw new ShapeError(`${op}: needs an array of rank >= 1`);
  const ax = axis === null ? 0 : normalizeAxis(op, axis, src.ndim);
  const others = (s: readonly number[]) => s.map((d, i) => (i === ax ? 1 : d));
  const common = broadcastShapes(op, [others(src.shape), others(idx.shape)]);
  const out = common.map((d, i) => (i === ax ? idx.shape[ax] : d));
  const dataShape = common.map((d, i) => (i === ax ? src.shape[ax] : d));
  if (src.shape[ax] === 0 && out.every((d) => d > 0)) throw new ShapeError(`${op}: cannot take from an empty axis ${ax}`);
  const moded = applyMode(op, idx, src.shape[ax], ax, mode);
  const gathered = MetalArray.fromNode(gatherNode(broadcastNode(src.liveNode(op), dataShape), [broadcastNode(moded.index.liveNode(op), out)], [ax]));
  return moded.valid === null ? gathered : filled(gathered, moded.valid, fillValue);
}

/** Row and column index grids of the last two axes, as int64 iotas (no host data). */
function matrixIndices(a: MetalArray): [MetalArray, MetalArray] {
  const [m, n] = a.shape.slice(-2);
  const backend = a.liveNode('tril').backend;
  const rows = MetalArray.fromNode(broadcastNode(iotaNode([m, 1], 'int64', backend), [m, n]));
  const cols = MetalArray.fromNode(broadcastNode(iotaNode([1, n], 'int64', backend), [m, n]));
  return [rows, cols];
}

function triangle(op: 'tril' | 'triu', a: MetalArray, k: number): MetalArray {
  if (!(a instanceof MetalArray)) throw new ArgumentError(`${op}: expected a MetalArray`);
  if (a.ndim < 2) throw new ShapeError(`${op}: needs an array of rank >= 2, got shape [${a.shape.join(', ')}]`);
  if (!Number.isSafeInteger(k)) throw new ArgumentError(`${op}: k must be an integer, got ${String(k)}`);
  const [rows, cols] = matrixIndices(a);
  // tril keeps col <= row + k; triu keeps col >= row + k.
  const keep = op === 'tril' ? binary('lessEqual', cols, binary('add', rows, k)) : binary('greaterEqual', cols, binary('add', rows, k));
  return where(keep, a, 0).astype(a.dtype);
}

/**
 * The lower triangle of the last two axes (elements above the k-th diagonal zeroed).
 *
 * @example
 * ```ts
 * const a = ma.ones([3, 3], 'int32');
 * console.log(ma.tril(a).tolist()); // [ [ 1, 0, 0 ], [ 1, 1, 0 ], [ 1, 1, 1 ] ]
 * console.log(ma.tril(a, -1).tolist()); // [ [ 0, 0, 0 ], [ 1, 0, 0 ], [ 1, 1, 0 ] ]
 * ```
 */
export function tril<D extends DType>(a: MetalArray<D>, k?: number): MetalArray<D>;
export function tril(a: MetalArray, k = 0): MetalArray {
  checkArgCount('tril', arguments.length, 2, 'tril(a, k)');
  return triangle('tril', a, k);
}

/**
 * The upper triangle of the last two axes (elements below the k-th diagonal zeroed).
 *
 * @example
 * ```ts
 * const a = ma.ones([3, 3], 'int32');
 * console.log(ma.triu(a).tolist()); // [ [ 1, 1, 1 ], [ 0, 1, 1 ], [ 0, 0, 1 ] ]
 * console.log(ma.triu(a, 1).tolist()); // [ [ 0, 1, 1 ], [ 0, 0, 1 ], [ 0, 0, 0 ] ]
 * ```
 */
export function triu<D extends DType>(a: MetalArray<D>, k?: number): MetalArray<D>;
export function triu(a: MetalArray, k = 0): MetalArray {
  checkArgCount('triu', arguments.length, 2, 'triu(a, k)');
  return triangle('triu', a, k);
}

function checkInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ArgumentError(`${op}: ${name} must be an integer, got ${String(v)}`);
  return v;
}

/**
 * Rolls elements along an axis (or the flattened array): element i moves to i + shift.
 * Two slices concatenated in the consumer's kernel; several axes with lists of shifts.
 *
 * @example
 * ```ts
 * console.log(ma.roll(ma.arange(5), 2).tolist()); // [ 3, 4, 0, 1, 2 ]
 * console.log(ma.roll(ma.arange(4).reshape(2, 2), 1, 1).tolist()); // [ [ 1, 0 ], [ 3, 2 ] ]
 * ```
 */
export function roll<D extends DType>(a: MetalArray<D>, shift: number | readonly number[], axis?: number | readonly number[] | null): MetalArray<D>;
export function roll(a: MetalArray, shift: number | readonly number[], axis?: number | readonly number[] | null): MetalArray {
  checkArgCount('roll', arguments.length, 3, 'roll(a, shift, axis)');
  const op = 'roll';
  arrayArg(op, a);
  if (axis === undefined || axis === null) {
    if (typeof shift !== 'number') throw new ArgumentError(`${op}: without an axis, shift must be one integer`);
    return reshape(roll(flatten(a), shift, 0), [...a.shape]);
  }
  const axes = intList(op, 'axis', axis);
  const shifts = typeof shift === 'number' ? axes.map(() => shift) : intList(op, 'shift', shift);
  if (shifts.length !== axes.length) throw new ArgumentError(`${op}: ${shifts.length} shifts for ${axes.length} axes`);
  let out = a;
  axes.forEach((ax0, i) => {
    const ax = normalizeAxis(op, ax0, a.ndim);
    const n = a.shape[ax];
    const s = checkInt(op, 'shift', shifts[i]);
    if (n === 0) return;
    const k = ((s % n) + n) % n;
    if (k === 0) return;
    const spec = (start: number | null, stop: number | null) =>
      a.shape.map((_, d) => (d === ax ? [start, stop] : [null, null]) as [number | null, number | null]);
    out = concatenate([basicSlice(out, spec(n - k, null)), basicSlice(out, spec(0, n - k))], ax);
  });
  return out;
}

/**
 * Repeats the whole array `reps` times along each axis (NumPy's `tile`): a broadcast and
 * a reshape, read through index arithmetic.
 *
 * @example
 * ```ts
 * console.log(ma.tile(ma.array([1, 2]), 2).tolist()); // [ 1, 2, 1, 2 ]
 * console.log(ma.tile(ma.array([1, 2]), [2, 1]).tolist()); // [ [ 1, 2 ], [ 1, 2 ] ]
 * ```
 */
export function tile<D extends DType>(a: MetalArray<D>, reps: number | readonly number[]): MetalArray<D>;
export function tile(a: MetalArray, reps: number | readonly number[]): MetalArray {
  checkArgCount('tile', arguments.length, 2, 'tile(a, reps)');
  const op = 'tile';
  arrayArg(op, a);
  const r = intList(op, 'reps', reps);
  for (const x of r) if (checkInt(op, 'reps', x) < 0) throw new ArgumentError(`${op}: reps must be >= 0, got ${x}`);
  const rank = Math.max(a.ndim, r.length);
  const shape = [...new Array<number>(rank - a.ndim).fill(1), ...a.shape];
  const times = [...new Array<number>(rank - r.length).fill(1), ...r];
  // [t0, s0, t1, s1, ...] broadcast from [1, s0, 1, s1, ...], then merged pairwise.
  const interleaved = shape.flatMap((s) => [1, s]);
  const target = shape.flatMap((s, i) => [times[i], s]);
  return reshape(
    broadcastTo(reshape(a, interleaved), target),
    shape.map((s, i) => s * times[i]),
  );
}

/**
 * Repeats each element `repeats` times along an axis (NumPy's `repeat`; flattened
 * without an axis). A number of repeats only: per-element counts give a data-dependent
 * layout and are not supported.
 *
 * @example
 * ```ts
 * console.log(ma.repeat(ma.array([1, 2]), 3).tolist()); // [ 1, 1, 1, 2, 2, 2 ]
 * console.log(ma.repeat(ma.array([[1, 2], [3, 4]]), 2, 1).tolist()); // [ [ 1, 1, 2, 2 ], [ 3, 3, 4, 4 ] ]
 * ```
 */
export function repeat<D extends DType>(a: MetalArray<D>, repeats: number, axis?: number | null): MetalArray<D>;
export function repeat(a: MetalArray, repeats: number, axis?: number | null): MetalArray {
  checkArgCount('repeat', arguments.length, 3, 'repeat(a, repeats, axis)');
  const op = 'repeat';
  arrayArg(op, a);
  if (checkInt(op, 'repeats', repeats) < 0) throw new ArgumentError(`${op}: repeats must be >= 0, got ${repeats}`);
  const src = axis === undefined || axis === null ? flatten(a) : a;
  const ax = axis === undefined || axis === null ? 0 : normalizeAxis(op, axis, a.ndim);
  const expanded = [...src.shape.slice(0, ax + 1), 1, ...src.shape.slice(ax + 1)];
  const target = [...src.shape.slice(0, ax + 1), repeats, ...src.shape.slice(ax + 1)];
  const out = src.shape.map((d, i) => (i === ax ? d * repeats : d));
  return reshape(broadcastTo(reshape(src, expanded), target), out);
}

/** How `pad` fills: a constant, the edge value, or a reflection without the edge (NumPy). */
export type PadMode = 'constant' | 'edge' | 'reflect';

/**
 * Pads each axis by (before, after) elements: `width` is one number for every side, a
 * [before, after] pair for every axis, or one pair per axis. The padding is slices,
 * flips, broadcasts and constants concatenated in the consumer's kernel: no copy.
 *
 * @example
 * ```ts
 * console.log(ma.pad(ma.array([1, 2]), 1).tolist()); // [ 0, 1, 2, 0 ]
 * console.log(ma.pad(ma.array([1, 2, 3]), [[1, 2]], 'edge').tolist()); // [ 1, 1, 2, 3, 3, 3 ]
 * console.log(ma.pad(ma.array([1, 2, 3]), [2, 0], 'reflect').tolist()); // [ 3, 2, 1, 2, 3 ]
 * console.log(ma.pad(ma.array([[1]]), [[0, 1], [1, 0]], 'constant', 9).tolist()); // [ [ 9, 1 ], [ 9, 9 ] ]
 * ```
 */
export function pad<D extends DType>(
  a: MetalArray<D>,
  width: number | readonly [number, number] | readonly (readonly [number, number])[],
  mode?: PadMode,
  constantValue?: number,
): MetalArray<D>;
export function pad(
  a: MetalArray,
  width: number | readonly [number, number] | readonly (readonly [number, number])[],
  mode: PadMode = 'constant',
  constantValue = 0,
): MetalArray {
  checkArgCount('pad', arguments.length, 4, 'pad(a, width, mode, constantValue)');
  const op = 'pad';
  arrayArg(op, a);
  const isPair = (p: unknown): p is [number, number] => Array.isArray(p) && p.length === 2;
  let pairs: [number, number][];
  if (typeof width === 'number') pairs = a.shape.map(() => [width, width]);
  else if (isPair(width) && typeof width[0] === 'number') pairs = a.shape.map(() => [width[0] as number, width[1] as number]);
  else if (Array.isArray(width) && width.every(isPair)) pairs = (width as readonly (readonly [number, number])[]).map((p) => [p[0], p[1]]);
  else throw new ArgumentError(`${op}: width must be a number, a [before, after] pair, or one pair per axis, got ${formatValue(width)}`);
  if (pairs.length !== a.ndim) throw new ArgumentError(`${op}: ${pairs.length} (before, after) pairs for an array of rank ${a.ndim}`);
  for (const [b, e] of pairs) {
    if (checkInt(op, 'width', b) < 0 || checkInt(op, 'width', e) < 0) throw new ArgumentError(`${op}: widths must be >= 0, got [${b}, ${e}]`);
  }
  if (!['constant', 'edge', 'reflect'].includes(mode)) throw new ArgumentError(`${op}: mode must be 'constant', 'edge' or 'reflect', got ${String(mode)}`);
  let out = a;
  pairs.forEach(([before, after], ax) => {
    if (before === 0 && after === 0) return;
    const n = out.shape[ax];
    const part = (start: number, stop: number) =>
      basicSlice(
        out,
        out.shape.map((_, d) => (d === ax ? [start, stop] : [null, null]) as [number, number] | [null, null]),
      );
    const block = (count: number, side: 'before' | 'after'): MetalArray => {
      const shape = out.shape.map((d, i) => (i === ax ? count : d));
      if (mode === 'constant') {
        const value = constNode(scalarFor(constantValue, out.dtype), [], out.dtype, out.liveNode(op).backend);
        return MetalArray.fromNode(broadcastNode(value, shape));
      }
      if (n === 0) throw new ShapeError(`${op}: cannot pad an empty axis ${ax} in '${mode}' mode`);
      if (mode === 'edge') return broadcastTo(side === 'before' ? part(0, 1) : part(n - 1, n), shape);
      if (count > n - 1) throw new ShapeError(`${op}: 'reflect' padding of ${count} needs an axis longer than ${count}, axis ${ax} has ${n}`);
      return flip(side === 'before' ? part(1, count + 1) : part(n - 1 - count, n - 1), ax);
    };
    const parts: MetalArray[] = [];
    if (before > 0) parts.push(block(before, 'before'));
    parts.push(out);
    if (after > 0) parts.push(block(after, 'after'));
    out = concatenate(parts, ax);
  });
  return out;
}

/**
 * The indices of the non-zero elements, one int32 array per axis (NumPy's `nonzero`).
 * The result's length depends on the values, so this evaluates `a` now.
 *
 * @example
 * ```ts
 * const [i, j] = ma.nonzero(ma.array([[1, 0], [0, 1]]));
 * console.log(i.tolist(), j.tolist()); // [ 0, 1 ] [ 0, 1 ]
 * ```
 */
export function nonzero(a: MetalArray): MetalArray<'int32'>[];
export function nonzero(a: MetalArray): MetalArray[] {
  checkArgCount('nonzero', arguments.length, 1, 'nonzero(a)');
  const op = 'nonzero';
  arrayArg(op, a);
  const values = a.toTypedArray();
  const flat: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'bigint' ? v !== 0n : v !== 0) flat.push(i); // NaN counts as non-zero
  }
  const strides = a.shape.map((_, d) => a.shape.slice(d + 1).reduce((p, x) => p * x, 1));
  const backend = a.liveNode(op).backend;
  return (a.ndim === 0 ? [1] : a.shape).map((_, d) => {
    const col = Int32Array.from(flat, (i) => (a.ndim === 0 ? 0 : Math.floor(i / strides[d]) % a.shape[d]));
    const out = array(col, 'int32');
    return out.liveNode(op).backend === backend ? out : out.to(backend);
  });
}

/** One spec of an advanced index once masks are index arrays (see advancedIndex). */
interface IndexEntry {
  /** What the basic view takes here: the spec itself, a full range under an index array, a new axis under a 0-d mask. */
  basic: ParsedSpec;
  /** The integer index array read along this entry's axis of the view, if any. */
  index: MetalArray | null;
  /** Whether NumPy counts the entry as advanced when it places the broadcast dims: arrays and integers. */
  advanced: boolean;
  /** Whether `index` came from a boolean mask (its positions are in range: no mode applies). */
  fromMask: boolean;
  /** The axis of the indexed array that `index` reads (for error messages). */
  axis: number;
}

const FULL_RANGE: ParsedSpec = [null, null, null];

/**
 * A JS list used as an index (NumPy's `a[[1, 3, 5]]`): booleans are a mask, integers an
 * int32 (int64 past 32 bits) index array. A list with `null` in it is most likely the
 * old list-as-range form, so the error says how to write a range now.
 */
function listIndex(op: string, list: readonly unknown[], backend: string): MetalArray {
  const flat = list.flat(Number.POSITIVE_INFINITY);
  if (flat.some((v) => v === null || v === undefined)) {
    throw new ArgumentError(
      `${op}: a JS list is an index array (NumPy's a[[1, 3]]), and ${formatValue(list)} has null in it; write a range as a string ('1:5:2', '::-1') or ma.range(start, stop, step)`,
    );
  }
  if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) {
    const mask = array(list as NestedArray, 'bool');
    return mask.liveNode(op).backend === backend ? mask : mask.to(backend);
  }
  return indexArray(op, flat.length === 0 ? new Int32Array(0) : (list as IndexLike), backend);
}

/** The specs of `slice` and `at` parsed: strings split, ranges as triples, JS lists as index arrays. */
function parseSpecs(op: string, a: MetalArray, specs: readonly (SliceSpec | string)[]): ParsedSpec[] {
  const list: ParsedSpec[] = [];
  for (const s of specs) {
    if (typeof s === 'string' && s !== '...') list.push(...parseSliceString(s));
    else if (s instanceof SliceRange) list.push([s.start, s.stop, s.step]);
    else if (Array.isArray(s)) list.push(listIndex(op, s, a.liveNode(op).backend));
    else list.push(s as ParsedSpec);
  }
  return list;
}

/**
 * NumPy indexing. Each spec is an integer (drops the axis), a range (`ma.range(start,
 * stop, step)`, nulls for defaults), `null` (a new axis) or `'...'`, or pass one
 * NumPy-style string such as `'1:10:2, ::-1, None, ...'`: basic indexing, a view. Index
 * arrays among them (integer MetalArrays, typed arrays or plain JS lists of integers;
 * boolean masks) make it NumPy's advanced indexing, a gather (see `advancedIndex`):
 * `a.slice([1, 3, 5])` is rows 1, 3 and 5, as NumPy's `a[[1, 3, 5]]`.
 *
 * @example
 * ```ts
 * const a = ma.arange(12).reshape(3, 4);
 * ma.slice(a, 1);                      // row 1: [4, 5, 6, 7]
 * ma.slice(a, '::2, ::-1');            // rows 0 and 2, columns reversed
 * ma.slice(a, ma.range(0, 3, 2));      // rows 0 and 2 (a view)
 * ma.slice(a, [2, 0]);                 // rows 2 and 0 (a gather)
 * ma.slice(a, Int32Array.of(2, 0));    // the same
 * ```
 */
export function slice<D extends DType>(a: MetalArray<D>, ...specs: (SliceSpec | string)[]): MetalArray<D>;
export function slice(a: MetalArray, ...specs: (SliceSpec | string)[]): MetalArray {
  nodeOf(a, 'slice');
  const list = parseSpecs('slice', a, specs);
  if (list.some((s) => s instanceof MetalArray || isTypedArray(s))) return advancedIndex(a, list);
  return basicSlice(a, list);
}

/** The view dims a basic spec produces (`rest`: the axes a '...' stands for). */
function viewDims(spec: ParsedSpec, rest: number): number {
  return spec === '...' ? rest : typeof spec === 'number' ? 0 : 1;
}

/**
 * NumPy's advanced indexing, behind `slice` when an index array is among the specs (and
 * behind `at()`, with an index mode).
 *
 * Every index array (integer MetalArrays and typed arrays; a boolean mask becomes its
 * `nonzero()` arrays, one per axis it covers, read now since their length depends on
 * the values) broadcasts against the others to one shape S. When the advanced indices
 * (arrays and integers) sit next to each other in the specs, S replaces them in place;
 * otherwise S comes first (so `a[:, i, :, j]` is `S + [a0, a2]`, and `a[0, :, i]` is
 * `S + [a1]`, as NumPy). Indices count from the end when negative; out-of-range ones
 * follow `options.mode` (default `'clip'`, see IndexMode).
 *
 * Built as the basic view of the other specs (full ranges where arrays go), then one
 * gather node that reads every indexed axis at once, so a consumer fuses with it.
 */
export function advancedIndex(a: MetalArray, list: readonly ParsedSpec[], options?: GatherOptions, op = 'slice'): MetalArray {
  const { mode, fillValue } = modeOf(op, options, 'clip');
  const node = a.liveNode(op);
  const rank = node.shape.length;
  const arrays = list.map((s) => (s instanceof MetalArray || isTypedArray(s) ? indexArray(op, s, node.backend) : null));
  // A mask consumes as many axes as it has dims; integers, ranges and index arrays one.
  const consumes = list.map((s, i) => (arrays[i]?.dtype === 'bool' ? (arrays[i] as MetalArray).ndim : s === null || s === '...' ? 0 : 1));
  const consuming = consumes.reduce((x, c) => x + c, 0);
  if (list.filter((s) => s === '...').length > 1) throw new ShapeError(`${op}: only one '...' is allowed`);
  if (consuming > rank) throw new ShapeError(`${op}: too many indices (${consuming}) for an array of rank ${rank}`);
  const rest = rank - consuming;
  const entries: IndexEntry[] = [];
  let axis = 0; // the axis of `a` the next spec reads
  list.forEach((s, i) => {
    const idx = arrays[i];
    if (idx === null) entries.push({ basic: s, index: null, advanced: typeof s === 'number', fromMask: false, axis });
    else if (idx.dtype !== 'bool') entries.push({ basic: FULL_RANGE, index: idx, advanced: true, fromMask: false, axis });
    else {
      const dims = node.shape.slice(axis, axis + idx.ndim);
      if (dims.join(',') !== idx.shape.join(',')) {
        throw new ShapeError(
          `${op}: a boolean mask of shape [${idx.shape.join(', ')}] does not match the indexed axes [${dims.join(', ')}] of [${node.shape.join(', ')}]`,
        );
      }
      const positions = nonzero(idx);
      // A 0-d mask reads index 0 (as many times as it is true: 0 or 1) of a new 1-sized axis.
      if (idx.ndim === 0) entries.push({ basic: null, index: positions[0], advanced: true, fromMask: true, axis });
      else for (const [k, p] of positions.entries()) entries.push({ basic: FULL_RANGE, index: p, advanced: true, fromMask: true, axis: axis + k });
    }
    axis += s === '...' ? rest : consumes[i];
  });
  const view = basicSlice(
    a,
    entries.map((e) => e.basic),
  );
  const q: number[] = []; // the view's axis under each index array
  const indexed: IndexEntry[] = [];
  let p = 0;
  for (const e of entries) {
    if (e.index !== null) {
      q.push(p);
      indexed.push(e);
    }
    p += viewDims(e.basic, rest);
  }
  const shapeS = broadcastShapes(
    op,
    indexed.map((e) => (e.index as MetalArray).shape),
  );
  const advancedAt = entries.flatMap((e, i) => (e.advanced ? [i] : []));
  const adjacent = advancedAt.every((x, k) => k === 0 || x === advancedAt[k - 1] + 1);
  const other = view.shape.flatMap((_, d) => (q.includes(d) ? [] : [d]));
  const otherShape = other.map((d) => view.shape[d]);
  const before = adjacent ? other.filter((d) => d < q[0]).length : 0;
  const out = [...otherShape.slice(0, before), ...shapeS, ...otherShape.slice(before)];
  const sizes = q.map((d) => view.shape[d]);
  if (sizes.some((n) => n === 0) && out.every((d) => d > 0)) {
    throw new ShapeError(`${op}: cannot index an empty axis (indexed axes of sizes [${sizes.join(', ')}] in [${view.shape.join(', ')}])`);
  }
  // The gather's output is `out` plus one trailing 1-sized dim per indexed axis: the data
  // has the view's other dims where they land in `out`, 1s (broadcast) under S, and the
  // indexed axes at the end, where the index values replace the 1-sized output dims.
  const ones = (k: number) => new Array<number>(k).fill(1);
  const moved = reshape(transpose(view, [...other, ...q]), [...otherShape.slice(0, before), ...ones(shapeS.length), ...otherShape.slice(before), ...sizes]);
  const gathered = [...out, ...ones(q.length)];
  const after = out.length - before - shapeS.length + q.length;
  const place = (x: MetalArray) => reshape(x, [...ones(before + shapeS.length - x.ndim), ...x.shape, ...ones(after)]);
  let valid: MetalArray | null = null;
  const indexNodes = indexed.map((e, k) => {
    const moded = e.fromMask ? { index: e.index as MetalArray, valid: null } : applyMode(op, e.index as MetalArray, sizes[k], e.axis, mode);
    if (moded.valid !== null) valid = valid === null ? place(moded.valid) : binary('logicalAnd', valid, place(moded.valid));
    return broadcastNode(place(moded.index).liveNode(op), gathered);
  });
  const g = MetalArray.fromNode(
    gatherNode(
      broadcastNode(moved.liveNode(op), [...out, ...sizes]),
      indexNodes,
      q.map((_, k) => out.length + k),
    ),
  );
  return reshape(valid === null ? g : filled(g, valid, fillValue), out);
}

/**
 * The index specs of `at()` under an index mode, strings parsed. An integer spec is known
 * now, so the mode applies to it here: in range it stays an integer (a view), clipped or
 * wrapped it becomes the integer it lands on, and in 'raise' mode it throws. Only an
 * out-of-range integer in 'fill'/'drop' mode becomes a 0-d constant index array, so the
 * gather reads the fill value there (a constant costs no upload, and its value is not
 * part of the plan's hash).
 */
function modedSpecs(op: string, a: MetalArray, specs: readonly (SliceSpec | string)[], mode: IndexMode): ParsedSpec[] {
  const node = a.liveNode(op);
  const list = parseSpecs(op, a, specs);
  // The axes each spec consumes: a boolean mask as many as it has dims, null and '...' none here.
  const consumes = list.map((s) => (s instanceof MetalArray && s.dtype === 'bool' ? s.ndim : s === null || s === '...' ? 0 : 1));
  const rest = node.shape.length - consumes.reduce((x, c) => x + c, 0);
  let axis = 0;
  return list.map((s, i) => {
    const ax = axis;
    axis += s === '...' ? Math.max(0, rest) : consumes[i];
    if (typeof s !== 'number') return s;
    if (!Number.isSafeInteger(s)) throw new ArgumentError(`${op}: index must be an integer, got ${formatValue(s)}`);
    if (ax >= node.shape.length) return s; // too many indices: slice says so
    const n = node.shape[ax];
    if (s >= -n && s < n) return s;
    if (mode === 'raise') throw new IndexError(`${op}: index ${s} is out of bounds for axis ${ax} with size ${n} (mode 'raise')`);
    if (n > 0 && mode === 'clip') return s < 0 ? 0 : n - 1;
    if (n > 0 && mode === 'wrap') return ((s % n) + n) % n;
    return MetalArray.fromNode(constNode(BigInt(s), [], 'int64', node.backend));
  });
}

/** `a` indexed by `specs` (as `slice`), with out-of-range indices following `options`. */
function indexWithMode(a: MetalArray, specs: readonly (SliceSpec | string)[], options: GatherOptions): MetalArray {
  const list = modedSpecs('at', a, specs, modeOf('at', options, 'clip').mode);
  return list.some((s) => s instanceof MetalArray || isTypedArray(s)) ? advancedIndex(a, list, options, 'at') : basicSlice(a, list);
}

/**
 * The linear positions of `a` that `select` picks (through an iota), as a contiguous
 * int64 array: -1 where the scatter mode drops the update (the scatter kernels skip
 * positions outside the array).
 */
function selectedPositions(op: string, a: MetalArray, select: (flatIndex: MetalArray, options: GatherOptions) => MetalArray, mode: IndexMode): Node {
  const node = a.liveNode(op);
  const gatherMode: GatherOptions = mode === 'drop' || mode === 'fill' ? { mode: 'fill', fillValue: -1n } : { mode };
  const positions = select(MetalArray.fromNode(iotaNode(node.shape, 'int64', node.backend)), gatherMode).liveNode(op);
  return elementwiseNode('copy', [positions], positions.shape, 'int64');
}

/** `values` in `a`'s dtype, broadcast to `shape` and made contiguous. */
function updateValues(op: string, a: MetalArray, values: ArrayLike, shape: readonly number[]): Node {
  const node = a.liveNode(op);
  const v = values instanceof MetalArray ? castNode(values.liveNode(op), node.dtype) : constNode(scalarFor(values, node.dtype), [], node.dtype, node.backend);
  if (v.backend !== node.backend) throw new BackendMismatchError(`${op}: the values live on ${v.backend}, the array on ${node.backend}`);
  if (broadcastShapes(op, [v.shape, shape]).join(',') !== shape.join(',')) {
    throw new ShapeError(`${op}: values of shape [${v.shape.join(', ')}] do not broadcast to the selection's shape [${shape.join(', ')}]`);
  }
  return elementwiseNode('copy', [broadcastNode(v, shape)], shape, node.dtype);
}

function scatterInto(op: string, a: MetalArray, positions: Node, values: ArrayLike, how: ScatterOp): MetalArray {
  const updates = updateValues(op, a, values, positions.shape);
  return MetalArray.fromNode(scatterNode(a.liveNode(op), positions, updates, how));
}

/**
 * Functional updates at an index, JAX style: `a.at(1, ma.range(null, null, 2)).set(0)`. The index
 * takes the specs of `slice` (integers, ranges, `null`, `'...'`, index arrays and boolean
 * masks, combined as NumPy's advanced indexing); each method returns a new array.
 * Updates are applied in the selection's row-major order, so a position indexed twice
 * gets both `add`s (and the last `set`). An update at an out-of-range index is dropped
 * unless `options.mode` says otherwise (JAX's scatters; see IndexMode): integers and
 * index arrays alike, negative ones in [-n, 0) counting from the end.
 *
 * @example
 * ```ts
 * const x = ma.zeros([4]);
 * x.at(1).set(5);                                  // [0, 5, 0, 0]
 * x.at(Int32Array.of(1, 9)).add(2);                // [0, 2, 0, 0]: 9 is dropped
 * x.at(Int32Array.of(9)).add(2, { mode: 'clip' }); // [0, 0, 0, 2]
 * x.at(Int32Array.of(5, 0)).get({ mode: 'fill', fillValue: -1 }); // [-1, 0]
 * ```
 */
export class AtIndex {
  constructor(
    private readonly array: MetalArray,
    private readonly specs: readonly (SliceSpec | string)[],
  ) {}

  private apply(how: ScatterOp, values: ArrayLike, options: ScatterOptions | undefined): MetalArray {
    const op = `at().${how}`;
    const { mode } = modeOf(op, options, 'drop');
    const positions = selectedPositions(op, this.array, (flat, gather) => indexWithMode(flat, this.specs, gather), mode);
    return scatterInto(op, this.array, positions, values, how);
  }

  /**
   * The selected elements (as `slice`), out-of-range indices following `options.mode` (default `'clip'`).
   *
   * @example
   * ```ts
   * const a = ma.array([10, 20, 30]);
   * console.log(a.at(Int32Array.of(2, 5)).get().tolist()); // [ 30, 30 ]
   * console.log(a.at(Int32Array.of(2, 5)).get({ mode: 'fill', fillValue: -1 }).tolist()); // [ 30, -1 ]
   * ```
   */
  get(options?: GatherOptions): MetalArray {
    checkArgCount('at().get', arguments.length, 1, 'at(...).get({ mode, fillValue })');
    modeOf('at().get', options, 'clip');
    return indexWithMode(this.array, this.specs, options ?? {});
  }
  /**
   * The array with the selected elements replaced by `values` (broadcast).
   *
   * @example
   * ```ts
   * const a = ma.zeros([2, 3], 'int32');
   * console.log(a.at(0).set(7).tolist()); // [ [ 7, 7, 7 ], [ 0, 0, 0 ] ]
   * console.log(a.at(':', 1).set(ma.array([1, 2])).tolist()); // [ [ 0, 1, 0 ], [ 0, 2, 0 ] ]
   * ```
   */
  set(values: ArrayLike, options?: ScatterOptions): MetalArray {
    checkArgCount('at().set', arguments.length, 2, 'at(...).set(values, { mode })');
    return this.apply('set', values, options);
  }
  /**
   * The array with `values` added at the selected elements (repeats accumulate).
   *
   * @example
   * ```ts
   * const a = ma.zeros([3], 'int32');
   * console.log(a.at(Int32Array.of(0, 2, 0)).add(1).tolist()); // [ 2, 0, 1 ]
   * ```
   */
  add(values: ArrayLike, options?: ScatterOptions): MetalArray {
    checkArgCount('at().add', arguments.length, 2, 'at(...).add(values, { mode })');
    return this.apply('add', values, options);
  }
  /**
   * The array with the selected elements multiplied by `values`.
   *
   * @example
   * ```ts
   * const a = ma.array([1, 2, 3]);
   * // A repeated index multiplies once per occurrence.
   * console.log(a.at(Int32Array.of(1, 1)).multiply(10).tolist()); // [ 1, 200, 3 ]
   * ```
   */
  multiply(values: ArrayLike, options?: ScatterOptions): MetalArray {
    checkArgCount('at().multiply', arguments.length, 2, 'at(...).multiply(values, { mode })');
    return this.apply('multiply', values, options);
  }
  /**
   * The array with the selected elements replaced by their minimum with `values`.
   *
   * @example
   * ```ts
   * const a = ma.array([5, 5, 5]);
   * console.log(a.at(Int32Array.of(0, 1)).min(ma.array([3, 9])).tolist()); // [ 3, 5, 5 ]
   * ```
   */
  min(values: ArrayLike, options?: ScatterOptions): MetalArray {
    checkArgCount('at().min', arguments.length, 2, 'at(...).min(values, { mode })');
    return this.apply('minimum', values, options);
  }
  /**
   * The array with the selected elements replaced by their maximum with `values`.
   *
   * @example
   * ```ts
   * const a = ma.array([5, 5, 5]);
   * console.log(a.at(Int32Array.of(0, 1)).max(ma.array([3, 9])).tolist()); // [ 5, 9, 5 ]
   * ```
   */
  max(values: ArrayLike, options?: ScatterOptions): MetalArray {
    checkArgCount('at().max', arguments.length, 2, 'at(...).max(values, { mode })');
    return this.apply('maximum', values, options);
  }
}

/**
 * The index `specs` of `a` for a functional update or a moded read (see AtIndex).
 *
 * @example
 * ```ts
 * const a = ma.arange(5);
 * console.log(ma.at(a, '1:3').set(0).tolist()); // [ 0, 0, 0, 3, 4 ]
 * console.log(a.tolist()); // [ 0, 1, 2, 3, 4 ]
 * ```
 */
export function at(a: MetalArray, ...specs: (SliceSpec | string)[]): AtIndex {
  arrayArg('at', a);
  return new AtIndex(a, specs);
}

/**
 * `a` with `values` put at `indices` along `axis` (NumPy's put_along_axis, returning a
 * new array): the positions `takeAlongAxis(a, indices, axis)` would read. Out-of-range
 * indices drop their update unless `options.mode` says otherwise (see IndexMode).
 *
 * @example
 * ```ts
 * ma.putAlongAxis(ma.zeros([2, 3]), [[2], [7]], 5, 1); // [[0, 0, 5], [0, 0, 0]]: 7 is dropped
 * ```
 */
export function putAlongAxis<D extends DType>(
  a: MetalArray<D>,
  indices: IndexLike,
  values: ArrayLike,
  axis?: number | null,
  options?: ScatterOptions,
): MetalArray<D>;
export function putAlongAxis(a: MetalArray, indices: IndexLike, values: ArrayLike, axis: number | null = -1, options?: ScatterOptions): MetalArray {
  checkArgCount('putAlongAxis', arguments.length, 5, 'putAlongAxis(a, indices, values, axis, { mode })');
  const op = 'putAlongAxis';
  arrayArg(op, a);
  const { mode } = modeOf(op, options, 'drop');
  const positions = selectedPositions(op, a, (flat, gather) => takeAlongAxis(flat, indices, axis, gather), mode);
  return scatterInto(op, a, positions, values, 'set');
}

// Batching rules

/** `x` as a computed node (a scatter reads its positions and updates as contiguous buffers). */
function computedNode(x: Node): Node {
  const k = x.kind;
  return k === 'unary' || k === 'binary' || k === 'where' || k === 'cast' ? x : elementwiseNode('copy', [x], x.shape, x.dtype);
}

/**
 * vmap: a gather gets the batch as one more leading axis of its data and of every
 * index array, read one to one (the batch axis is not gathered), so batched or shared
 * data and batched or shared indices are one gather node. A scatter writes the
 * examples' copies of the base side by side: each batched position moves by its
 * example's offset (b × the example's size) and a dropped position (-1) stays dropped.
 */
export const indexingBatching: Pick<BatchingTable, 'gather' | 'scatter'> = {
  gather: (node, inputs, batched, size) => {
    const [data, ...indices] = batchedInputs(inputs, batched, size) as [Node, ...Node[]];
    return gatherNode(
      data,
      indices,
      (node.axes as readonly number[]).map((a) => a + 1),
    );
  },
  scatter: (node, inputs, batched, size) => {
    const base = batchedInput(inputs, batched, 0, size);
    const positions = batchedInput(inputs, batched, 1, size);
    const updates = computedNode(batchedInput(inputs, batched, 2, size));
    const shape = positions.shape;
    const inDim = shape.map((_, d) => (d === 0 ? 0 : -1));
    const step = shape.map((_, d) => (d === 0 ? 1 : 0));
    const example = MetalArray.fromNode(viewNode(iotaNode([size], 'int64', node.backend), { inDim, step, start: [0] }, shape));
    const at = MetalArray.fromNode(positions);
    const moved = where(binary('less', at, 0), at, binary('add', at, binary('multiply', example, BigInt(node.size))));
    const result = scatterNode(base, computedNode(moved.liveNode('vmap')), updates, node.op as ScatterOp);
    // The wrappers were scaffolding: the scatter node holds what it reads.
    example.dispose();
    at.dispose();
    moved.dispose();
    return result;
  },
};
