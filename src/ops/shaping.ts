/**
 * NumPy's building and shaping helpers (issue 22 §3): `atleast1d/2d/3d`, `vstack`,
 * `hstack`, `dstack`, `columnStack`, `diagonal`, `diag`, `trace`, `diff`, `meshgrid`,
 * `rot90` and `polyval`. Views, joins, gathers with host-computed indices and
 * elementwise ops: all lazy, all differentiable through their parts.
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { ArgumentError, formatValue, ShapeError } from '../errors.js';
import { binary, where } from './elementwise.js';
import { take } from './indexing.js';
import { concatenate } from './join.js';
import { asArrays } from './numeric.js';
import type { ArrayLike } from './operand.js';
import { normalizeAxis } from './operand.js';
import { broadcastTo, flip, reshape, swapaxes } from './movement.js';
import { eye } from './ranges.js';
import { reduceOp } from './reduce-core.js';

function checkInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ArgumentError(`${op}: ${name} must be an integer, got ${formatValue(v)}`);
  return v;
}

function checkList(op: string, arrays: readonly ArrayLike[]): MetalArray[] {
  if (!Array.isArray(arrays) || arrays.length === 0) throw new ArgumentError(`${op}: expected a non-empty list of arrays, got ${formatValue(arrays)}`);
  return arrays.map((x) => asArrays(op, [x])[0]);
}

/**
 * The input as an array of at least one dimension (a 0-d array becomes shape [1]).
 *
 * @example
 * ```ts
 * console.log(ma.atleast1d(3).shape); // [ 1 ]
 * ```
 */
export function atleast1d(a: ArrayLike): MetalArray {
  checkArgCount('atleast1d', arguments.length, 1, 'atleast1d(a)');
  const [x] = asArrays('atleast1d', [a]);
  return x.ndim >= 1 ? x : reshape(x, [1]);
}

/**
 * The input with at least two dimensions: 0-d → [1, 1], 1-d [n] → [1, n].
 *
 * @example
 * ```ts
 * console.log(ma.atleast2d(ma.array([1, 2])).shape); // [ 1, 2 ]
 * ```
 */
export function atleast2d(a: ArrayLike): MetalArray {
  checkArgCount('atleast2d', arguments.length, 1, 'atleast2d(a)');
  const [x] = asArrays('atleast2d', [a]);
  if (x.ndim >= 2) return x;
  return reshape(x, x.ndim === 0 ? [1, 1] : [1, x.shape[0]]);
}

/**
 * The input with at least three dimensions: 0-d → [1, 1, 1], [n] → [1, n, 1], [m, n] → [m, n, 1] (as NumPy).
 *
 * @example
 * ```ts
 * console.log(ma.atleast3d(ma.array([1, 2])).shape); // [ 1, 2, 1 ]
 * ```
 */
export function atleast3d(a: ArrayLike): MetalArray {
  checkArgCount('atleast3d', arguments.length, 1, 'atleast3d(a)');
  const [x] = asArrays('atleast3d', [a]);
  if (x.ndim >= 3) return x;
  if (x.ndim === 0) return reshape(x, [1, 1, 1]);
  if (x.ndim === 1) return reshape(x, [1, x.shape[0], 1]);
  return reshape(x, [x.shape[0], x.shape[1], 1]);
}

/**
 * Stacks arrays row-wise: 1-D arrays of length n become rows [1, n], then join on axis 0.
 *
 * @example
 * ```ts
 * console.log(ma.vstack([ma.array([1, 2]), ma.array([3, 4])]).tolist()); // [ [ 1, 2 ], [ 3, 4 ] ]
 * ```
 */
export function vstack(arrays: readonly ArrayLike[]): MetalArray {
  checkArgCount('vstack', arguments.length, 1, 'vstack(arrays)');
  return concatenate(
    checkList('vstack', arrays).map((x) => atleast2d(x)),
    0,
  );
}

/**
 * Stacks arrays column-wise: 1-D arrays join on axis 0, others on axis 1.
 *
 * @example
 * ```ts
 * console.log(ma.hstack([ma.array([1, 2]), ma.array([3])]).tolist()); // [ 1, 2, 3 ]
 * ```
 */
export function hstack(arrays: readonly ArrayLike[]): MetalArray {
  checkArgCount('hstack', arguments.length, 1, 'hstack(arrays)');
  const xs = checkList('hstack', arrays).map((x) => atleast1d(x));
  return concatenate(xs, xs[0].ndim === 1 ? 0 : 1);
}

/**
 * Stacks arrays depth-wise (along a third axis, after `atleast3d`).
 *
 * @example
 * ```ts
 * console.log(ma.dstack([ma.array([1, 2]), ma.array([3, 4])]).shape); // [ 1, 2, 2 ]
 * ```
 */
export function dstack(arrays: readonly ArrayLike[]): MetalArray {
  checkArgCount('dstack', arguments.length, 1, 'dstack(arrays)');
  return concatenate(
    checkList('dstack', arrays).map((x) => atleast3d(x)),
    2,
  );
}

/**
 * Stacks 1-D arrays as the columns of a 2-D array (2-D arrays join as they are).
 *
 * @example
 * ```ts
 * console.log(ma.columnStack([ma.array([1, 2]), ma.array([3, 4])]).tolist()); // [ [ 1, 3 ], [ 2, 4 ] ]
 * ```
 */
export function columnStack(arrays: readonly ArrayLike[]): MetalArray {
  checkArgCount('columnStack', arguments.length, 1, 'columnStack(arrays)');
  const xs = checkList('columnStack', arrays).map((x) => (x.ndim < 2 ? reshape(x, [-1, 1]) : x));
  return concatenate(xs, 1);
}

/** Options of `diagonal` and `trace`. */
export interface DiagonalOptions {
  /** The diagonal's offset: above the main one when positive, below when negative (default 0). */
  readonly offset?: number;
  /** The first axis of the 2-D planes (default 0). */
  readonly axis1?: number;
  /** The second axis of the 2-D planes (default 1). */
  readonly axis2?: number;
}

function diagonalOf(op: string, a: ArrayLike, options: DiagonalOptions | undefined): MetalArray {
  const o = checkOptions(op, options, ['offset', 'axis1', 'axis2']);
  const [x0] = asArrays(op, [a]);
  if (x0.ndim < 2) throw new ShapeError(`${op}: needs an array of at least 2 dimensions, got shape [${x0.shape}]`);
  const offset = checkInt(op, 'offset', o.offset ?? 0);
  const a1 = normalizeAxis(op, o.axis1 ?? 0, x0.ndim);
  const a2 = normalizeAxis(op, o.axis2 ?? 1, x0.ndim);
  if (a1 === a2) throw new ArgumentError(`${op}: axis1 and axis2 must differ, both are ${a1}`);
  // The two axes last (axis1 then axis2), merged into one, then a gather of the diagonal's flat positions.
  const rest = x0.shape.map((_, k) => k).filter((k) => k !== a1 && k !== a2);
  const x = x0.transpose([...rest, a1, a2]);
  const [n, m] = [x0.shape[a1], x0.shape[a2]];
  const length = Math.max(0, Math.min(n + Math.min(offset, 0), m - Math.max(offset, 0)));
  const positions = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const row = i - Math.min(offset, 0);
    positions[i] = row * m + row + offset;
  }
  const flat = reshape(x, [...rest.map((k) => x0.shape[k]), n * m]);
  return take(flat, positions, -1);
}

/**
 * The diagonal of the planes of axes (axis1, axis2), as a last axis (NumPy's `diagonal`). A gather.
 *
 * @example
 * ```ts
 * const a = ma.arange(9).reshape(3, 3);
 * console.log(ma.diagonal(a).tolist(), ma.diagonal(a, { offset: 1 }).tolist()); // [ 0, 4, 8 ] [ 1, 5 ]
 * ```
 */
export function diagonal(a: ArrayLike, options?: DiagonalOptions): MetalArray {
  checkArgCount('diagonal', arguments.length, 2, 'diagonal(a, { offset, axis1, axis2 })');
  return diagonalOf('diagonal', a, options);
}

/**
 * Sum along the diagonal (NumPy's `trace`; sums accumulate as `sum`).
 *
 * @example
 * ```ts
 * console.log(ma.trace(ma.arange(9).reshape(3, 3)).item()); // 12
 * ```
 */
export function trace(a: ArrayLike, options?: DiagonalOptions): MetalArray {
  checkArgCount('trace', arguments.length, 2, 'trace(a, { offset, axis1, axis2 })');
  return reduceOp('sum', diagonalOf('trace', a, options), -1, false, 'trace');
}

/**
 * The k-th diagonal of a 2-D array, or a 2-D array with the 1-D input on its k-th
 * diagonal (zeros elsewhere), as NumPy's `diag`.
 *
 * @example
 * ```ts
 * console.log(ma.diag(ma.array([1, 2])).tolist()); // [ [ 1, 0 ], [ 0, 2 ] ]
 * console.log(ma.diag(ma.array([1, 2]), 1).tolist()); // [ [ 0, 1, 0 ], [ 0, 0, 2 ], [ 0, 0, 0 ] ]
 * ```
 */
export function diag(v: ArrayLike, k = 0): MetalArray {
  checkArgCount('diag', arguments.length, 2, 'diag(v, k)');
  const [x] = asArrays('diag', [v]);
  checkInt('diag', 'k', k);
  if (x.ndim === 2) return diagonalOf('diag', x, { offset: k });
  if (x.ndim !== 1) throw new ShapeError(`diag: needs a 1-D or 2-D array, got shape [${x.shape}]`);
  const len = x.shape[0];
  const n = len + Math.abs(k);
  if (len === 0) return broadcastTo(reshape(x, [1, 0]), [0, 0]);
  // Entry (i, i + k) holds v[min(i, i + k)]: v padded with |k| values along the rows (k >= 0) or columns.
  const padded = concatenate([x, broadcastTo(x.slice('0:1'), [Math.abs(k)])], 0);
  const along = k >= 0 ? reshape(padded, [n, 1]) : reshape(padded, [1, n]);
  return where(eye(n, { k, dtype: 'bool' }), broadcastTo(along, [n, n]), 0);
}

/**
 * A 2-D array with the flattened input on its k-th diagonal.
 *
 * @example
 * ```ts
 * console.log(ma.diagflat(ma.array([[1, 2]])).tolist()); // [ [ 1, 0 ], [ 0, 2 ] ]
 * ```
 */
export function diagflat(v: ArrayLike, k = 0): MetalArray {
  checkArgCount('diagflat', arguments.length, 2, 'diagflat(v, k)');
  const [x] = asArrays('diagflat', [v]);
  return diag(reshape(x, [-1]), k);
}

/** Options of `diff`. */
export interface DiffOptions {
  /** How many times to difference (default 1). */
  readonly n?: number;
  /** The axis (default -1, the last). */
  readonly axis?: number;
  /** Values put in front along the axis before differencing. */
  readonly prepend?: ArrayLike;
  /** Values put at the end along the axis before differencing. */
  readonly append?: ArrayLike;
}

/** `x` along `axis` sliced to [start, stop). */
function sliceAxis(x: MetalArray, axis: number, start: number, stop: number): MetalArray {
  const specs: string[] = x.shape.map((_, k) => (k === axis ? `${start}:${stop}` : ':'));
  return x.slice(specs.join(', '));
}

/** A prepend/append value as an array of x's shape with `axis` of its own length (a scalar: length 1). */
function edgeOf(op: string, x: MetalArray, axis: number, v: ArrayLike): MetalArray {
  const [e] = asArrays(op, [v]);
  if (e.ndim === 0)
    return broadcastTo(
      e,
      x.shape.map((d, k) => (k === axis ? 1 : d)),
    );
  return e;
}

/**
 * The n-th discrete difference along an axis, `out[i] = a[i + 1] - a[i]` (bool: not-equal, as NumPy).
 *
 * @example
 * ```ts
 * console.log(ma.diff(ma.array([1, 4, 9, 16])).tolist()); // [ 3, 5, 7 ]
 * console.log(ma.diff(ma.array([1, 4, 9, 16]), { n: 2, prepend: 0 }).tolist()); // [ 2, 2, 2 ]
 * ```
 */
export function diff(a: ArrayLike, options?: DiffOptions): MetalArray {
  checkArgCount('diff', arguments.length, 2, 'diff(a, { n, axis, prepend, append })');
  const o = checkOptions('diff', options, ['n', 'axis', 'prepend', 'append']);
  const n = checkInt('diff', 'n', o.n ?? 1);
  if (n < 0) throw new ArgumentError(`diff: n must be >= 0, got ${n}`);
  let [x] = asArrays('diff', [a]);
  if (x.ndim === 0) throw new ShapeError('diff: needs an array of at least 1 dimension, got a 0-d array');
  const axis = normalizeAxis('diff', o.axis ?? -1, x.ndim);
  const parts: MetalArray[] = [];
  if (o.prepend !== undefined) parts.push(edgeOf('diff', x, axis, o.prepend));
  parts.push(x);
  if (o.append !== undefined) parts.push(edgeOf('diff', x, axis, o.append));
  if (parts.length > 1) x = concatenate(parts, axis);
  for (let k = 0; k < n; k++) {
    const len = x.shape[axis];
    if (len === 0) break;
    const hi = sliceAxis(x, axis, 1, len);
    const lo = sliceAxis(x, axis, 0, len - 1);
    x = x.dtype === 'bool' ? binary('notEqual', hi, lo) : binary('subtract', hi, lo);
  }
  return x;
}

/** Options of `meshgrid`. */
export interface MeshgridOptions {
  /** 'xy' (default, Cartesian: the first two outputs have their axes swapped) or 'ij' (matrix). */
  readonly indexing?: 'xy' | 'ij';
  /** Return broadcastable arrays with size-1 axes instead of full grids (default false). */
  readonly sparse?: boolean;
}

/**
 * Coordinate grids from 1-D coordinate arrays (NumPy's `meshgrid`). The grids are
 * broadcast views: nothing is copied.
 *
 * @example
 * ```ts
 * const [X, Y] = ma.meshgrid([ma.array([1, 2, 3]), ma.array([4, 5])]);
 * console.log(X.tolist(), Y.tolist()); // [ [ 1, 2, 3 ], [ 1, 2, 3 ] ] [ [ 4, 4, 4 ], [ 5, 5, 5 ] ]
 * ```
 */
export function meshgrid(xs: readonly ArrayLike[], options?: MeshgridOptions): MetalArray[] {
  checkArgCount('meshgrid', arguments.length, 2, 'meshgrid(xs, { indexing, sparse })');
  const o = checkOptions('meshgrid', options, ['indexing', 'sparse']);
  const indexing = o.indexing ?? 'xy';
  if (indexing !== 'xy' && indexing !== 'ij') throw new ArgumentError(`meshgrid: indexing must be 'xy' or 'ij', got ${formatValue(indexing)}`);
  if (!Array.isArray(xs)) throw new ArgumentError(`meshgrid: expected a list of arrays, got ${formatValue(xs)}`);
  const arrays = xs.map((x) => reshape(asArrays('meshgrid', [x])[0], [-1]));
  const nd = arrays.length;
  const lengths = arrays.map((x) => x.shape[0]);
  // 'xy' puts the first coordinate along axis 1 and the second along axis 0.
  const axisOf = (i: number): number => (indexing === 'xy' && nd >= 2 && i < 2 ? 1 - i : i);
  const full = lengths.map((_, k) => lengths[indexing === 'xy' && nd >= 2 && k < 2 ? 1 - k : k]);
  return arrays.map((x, i) => {
    const shape = full.map((_, k) => (k === axisOf(i) ? lengths[i] : 1));
    const v = reshape(x, shape);
    return o.sparse === true ? v : broadcastTo(v, full);
  });
}

/**
 * Rotates by 90° `k` times in the plane of `axes` (default the first two), from the first axis towards the second.
 *
 * @example
 * ```ts
 * console.log(ma.rot90(ma.array([[1, 2], [3, 4]])).tolist()); // [ [ 2, 4 ], [ 1, 3 ] ]
 * ```
 */
export function rot90(m: ArrayLike, k = 1, axes: readonly [number, number] = [0, 1]): MetalArray {
  checkArgCount('rot90', arguments.length, 3, 'rot90(m, k, axes)');
  const [x] = asArrays('rot90', [m]);
  checkInt('rot90', 'k', k);
  if (!Array.isArray(axes) || axes.length !== 2) throw new ArgumentError(`rot90: axes must be a pair of axes, got ${formatValue(axes)}`);
  if (x.ndim < 2) throw new ShapeError(`rot90: needs an array of at least 2 dimensions, got shape [${x.shape}]`);
  const a0 = normalizeAxis('rot90', axes[0], x.ndim);
  const a1 = normalizeAxis('rot90', axes[1], x.ndim);
  if (a0 === a1) throw new ArgumentError(`rot90: the two axes must differ, both are ${a0}`);
  const turns = ((k % 4) + 4) % 4;
  if (turns === 0) return x;
  if (turns === 2) return flip(flip(x, a0), a1);
  // NumPy: k = 1 is flip(axis1) then swap; k = 3 is swap then flip(axis1).
  return turns === 1 ? swapaxes(flip(x, a1), a0, a1) : flip(swapaxes(x, a0, a1), a1);
}

/**
 * Evaluates the polynomial with coefficients `p` (highest degree first) at `x`, by
 * Horner's rule (one fused elementwise kernel).
 *
 * @example
 * ```ts
 * console.log(ma.polyval([1, 0, -1], ma.array([2, 3], 'float32')).tolist()); // [ 3, 8 ]
 * ```
 */
export function polyval(p: readonly number[] | MetalArray, x: ArrayLike): MetalArray {
  checkArgCount('polyval', arguments.length, 2, 'polyval(p, x)');
  if (Array.isArray(p)) {
    const coeffs = p as readonly number[];
    if (coeffs.some((c) => typeof c !== 'number')) throw new ArgumentError(`polyval: p must be numbers or a 1-D array, got ${formatValue(p)}`);
    const [xv] = asArrays('polyval', [x]);
    let y: MetalArray = binary('multiply', xv, 0);
    for (const c of coeffs) y = binary('add', binary('multiply', y, xv), c);
    return y;
  }
  const [pa, xa] = asArrays('polyval', [p as MetalArray, x]);
  if (pa.ndim !== 1) throw new ShapeError(`polyval: p must be 1-D, got shape [${pa.shape}]`);
  let y: MetalArray = binary('multiply', xa, 0);
  for (let i = 0; i < pa.shape[0]; i++) y = binary('add', binary('multiply', y, xa), pa.slice(i));
  return y;
}
