/**
 * NumPy's searching and counting helpers (issue 22 §3): `searchsorted`, `digitize`,
 * `isin`, `interp`, `bincount`. Each search is a comparison of every value against
 * every sorted entry summed in one fused reduction (O(n·m) work, no sort, no host
 * read), which suits the sizes these are used at; `bincount` reads its input's maximum
 * to size the result (its length depends on the data), unless `minlength` covers it.
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { isFloat } from '../core/dtype.js';
import { ArgumentError, formatValue, ShapeError } from '../errors.js';
import { astype, binary, unary, where } from './elementwise.js';
import { take } from './indexing.js';
import { asArrays, asFloats } from './numeric.js';
import type { ArrayLike } from './operand.js';
import { reshape } from './movement.js';
import { reduceOp } from './reduce-core.js';
import { zeros } from '../array/creation.js';

/** Options of `searchsorted`. */
export interface SearchsortedOptions {
  /** 'left' (default): the first index where the value fits; 'right': the last. */
  readonly side?: 'left' | 'right';
}

/** For each value, how many entries of the 1-D `sorted` are below it ('left') or at most it ('right'). */
function countBelow(op: string, sorted: MetalArray, v: MetalArray, right: boolean): MetalArray {
  const col = reshape(v, [...v.shape, 1]);
  const hit = right ? binary('lessEqual', sorted, col) : binary('less', sorted, col);
  // NaN sorts last (as NumPy): every number is below a NaN value; a NaN entry is below nothing but NaN at 'right'.
  const nanValue = isFloat(v.dtype) ? binary('logicalAnd', unary('isnan', col), unary('logicalNot', unary('isnan', sorted))) : null;
  const counted = nanValue === null ? hit : binary('logicalOr', hit, nanValue);
  const withNanEntries = right && isFloat(v.dtype) ? binary('logicalOr', counted, binary('logicalAnd', unary('isnan', col), unary('isnan', sorted))) : counted;
  return reduceOp('sum', astype(withNanEntries, 'int32'), -1, false, op);
}

/**
 * Indices where `v`'s values would be inserted into the ascending 1-D `a` to keep it
 * sorted (NumPy's `searchsorted`; NaN sorts last). int32, `v`'s shape.
 *
 * @example
 * ```ts
 * const a = ma.array([1, 2, 2, 5], 'float32');
 * console.log(ma.searchsorted(a, ma.array([2, 3, 9], 'float32')).tolist()); // [ 1, 3, 4 ]
 * console.log(ma.searchsorted(a, 2, { side: 'right' }).item()); // 3
 * ```
 */
export function searchsorted(a: ArrayLike, v: ArrayLike, options?: SearchsortedOptions): MetalArray<'int32'> {
  checkArgCount('searchsorted', arguments.length, 3, "searchsorted(a, v, { side: 'left' | 'right' })");
  const o = checkOptions('searchsorted', options, ['side']);
  const side = o.side ?? 'left';
  if (side !== 'left' && side !== 'right') throw new ArgumentError(`searchsorted: side must be 'left' or 'right', got ${formatValue(side)}`);
  const [s, x] = asArrays('searchsorted', [a, v]);
  if (s.ndim !== 1) throw new ShapeError(`searchsorted: a must be 1-D, got shape [${s.shape}]`);
  return countBelow('searchsorted', s, x, side === 'right') as MetalArray<'int32'>;
}

/**
 * The index of the bin each value falls in (NumPy's `digitize`): for ascending `bins`,
 * `i` with `bins[i-1] <= x < bins[i]` (`right`: `bins[i-1] < x <= bins[i]`); descending
 * bins count from the other end. int32.
 *
 * @example
 * ```ts
 * const bins = ma.array([0, 1, 2.5], 'float32');
 * console.log(ma.digitize(ma.array([-1, 0, 2, 3], 'float32'), bins).tolist()); // [ 0, 1, 2, 3 ]
 * ```
 */
export function digitize(x: ArrayLike, bins: ArrayLike, right = false): MetalArray<'int32'> {
  checkArgCount('digitize', arguments.length, 3, 'digitize(x, bins, right)');
  if (typeof right !== 'boolean') throw new ArgumentError(`digitize: right must be a boolean, got ${formatValue(right)}`);
  const [v, b] = asArrays('digitize', [x, bins]);
  if (b.ndim !== 1) throw new ShapeError(`digitize: bins must be 1-D, got shape [${b.shape}]`);
  const n = b.shape[0];
  const ascending = countBelow('digitize', b, v, !right);
  if (n < 2) return ascending as MetalArray<'int32'>;
  // Descending bins: n - searchsorted(reversed bins, x, side), decided in the graph from the ends.
  const reversed = b.slice('::-1');
  const descending = binary('subtract', n, countBelow('digitize', reversed, v, !right));
  const isAscending = binary('lessEqual', b.slice(0), b.slice(n - 1));
  return where(isAscending, ascending, descending) as MetalArray<'int32'>;
}

/**
 * Whether each element of `element` is among the values of `testElements` (bool, `element`'s shape; NaN is in nothing).
 *
 * @example
 * ```ts
 * console.log(ma.isin(ma.array([1, 2, 3, 4]), ma.array([4, 2])).tolist()); // [ false, true, false, true ]
 * console.log(ma.isin(ma.array([1, 2]), ma.array([2]), { invert: true }).tolist()); // [ true, false ]
 * ```
 */
export function isin(element: ArrayLike, testElements: ArrayLike, options?: { readonly invert?: boolean }): MetalArray<'bool'> {
  checkArgCount('isin', arguments.length, 3, 'isin(element, testElements, { invert })');
  const o = checkOptions('isin', options, ['invert']);
  const [e, t] = asArrays('isin', [element, testElements]);
  const flat = reshape(t, [-1]);
  const found = reduceOp('any', binary('equal', reshape(e, [...e.shape, 1]), flat), -1, false, 'isin');
  return (o.invert === true ? unary('logicalNot', found) : found) as MetalArray<'bool'>;
}

/** Options of `interp`. */
export interface InterpOptions {
  /** The value below `xp[0]` (default `fp[0]`). */
  readonly left?: number;
  /** The value above `xp[-1]` (default `fp[-1]`). */
  readonly right?: number;
}

/**
 * Piecewise-linear interpolation of the points (`xp`, `fp`) at `x` (`xp` ascending;
 * NumPy's `interp` without `period`). Float results.
 *
 * @example
 * ```ts
 * const xp = ma.array([0, 1, 3], 'float32');
 * const fp = ma.array([0, 10, 30], 'float32');
 * console.log(ma.interp(ma.array([-1, 0.5, 2, 4], 'float32'), xp, fp).tolist()); // [ 0, 5, 20, 30 ]
 * ```
 */
export function interp(x: ArrayLike, xp: ArrayLike, fp: ArrayLike, options?: InterpOptions): MetalArray {
  checkArgCount('interp', arguments.length, 4, 'interp(x, xp, fp, { left, right })');
  const o = checkOptions('interp', options, ['left', 'right']);
  const [xv, xs, fs] = asFloats('interp', [x, xp, fp]);
  if (xs.ndim !== 1 || fs.ndim !== 1 || xs.shape[0] !== fs.shape[0]) {
    throw new ShapeError(`interp: xp and fp must be 1-D of the same length, got shapes [${xs.shape}] and [${fs.shape}]`);
  }
  const m = xs.shape[0];
  if (m === 0) throw new ShapeError('interp: xp and fp are empty');
  // j = the last index with xp[j] <= x, clipped to [0, m - 2]: the segment x falls in.
  const j = binary('minimum', binary('maximum', binary('subtract', countBelow('interp', xs, xv, true), 1), 0), Math.max(m - 2, 0));
  const flatJ = reshape(j, [-1]);
  const x0 = reshape(take(xs, flatJ), xv.shape);
  const f0 = reshape(take(fs, flatJ), xv.shape);
  const inner =
    m === 1
      ? f0
      : (() => {
          const j1 = binary('add', flatJ, 1);
          const x1 = reshape(take(xs, j1), xv.shape);
          const f1 = reshape(take(fs, j1), xv.shape);
          const slope = binary('divide', binary('subtract', f1, f0), binary('subtract', x1, x0));
          const y = binary('add', f0, binary('multiply', slope, binary('subtract', xv, x0)));
          // At a knot, the knot's value exactly (and no 0/0 between equal xp).
          return where(binary('equal', xv, x1), f1, where(binary('equal', xv, x0), f0, y));
        })();
  const left = o.left ?? null;
  const right = o.right ?? null;
  const below = binary('less', xv, xs.slice(0));
  const above = binary('greater', xv, xs.slice(m - 1));
  const lo = left === null ? fs.slice(0) : left;
  const hi = right === null ? fs.slice(m - 1) : right;
  return where(below, lo, where(above, hi, inner));
}

/** Options of `bincount`. */
export interface BincountOptions {
  /** Weights of `x`'s shape: the result sums them instead of counting (float). */
  readonly weights?: MetalArray;
  /** The least length of the result (default 0). */
  readonly minlength?: number;
}

/**
 * Counts of each value 0..max of a 1-D array of non-negative integers (NumPy's
 * `bincount`), or sums of `weights` per value. Reads the input's maximum to size the
 * result (a data-dependent shape); a negative value throws ArgumentError.
 *
 * @example
 * ```ts
 * console.log(ma.bincount(ma.array([0, 1, 1, 3])).tolist()); // [ 1, 2, 0, 1 ]
 * ```
 */
export function bincount(x: ArrayLike, options?: BincountOptions): MetalArray {
  checkArgCount('bincount', arguments.length, 2, 'bincount(x, { weights, minlength })');
  const o = checkOptions('bincount', options, ['weights', 'minlength']);
  const [v] = asArrays('bincount', [x]);
  if (v.ndim !== 1) throw new ShapeError(`bincount: x must be 1-D, got shape [${v.shape}]`);
  if (isFloat(v.dtype) || v.dtype === 'bool') throw new ArgumentError(`bincount: x must hold integers, got ${v.dtype}`);
  const minlength = o.minlength ?? 0;
  if (typeof minlength !== 'number' || !Number.isSafeInteger(minlength) || minlength < 0) {
    throw new ArgumentError(`bincount: minlength must be a non-negative integer, got ${formatValue(minlength)}`);
  }
  let length = minlength;
  if (v.shape[0] > 0) {
    const lo = Number(reduceOp('min', v, null, false, 'bincount').item());
    if (lo < 0) throw new ArgumentError(`bincount: x holds a negative value (${lo}); bincount counts non-negative integers`);
    length = Math.max(length, Number(reduceOp('max', v, null, false, 'bincount').item()) + 1);
  }
  const index = astype(v, 'int32');
  if (o.weights === undefined) return zeros([length], 'int32').at(index).add(1);
  const [w] = asFloats('bincount', [o.weights]);
  if (w.ndim !== 1 || w.shape[0] !== v.shape[0]) throw new ShapeError(`bincount: weights of shape [${w.shape}] must match x's shape [${v.shape}]`);
  return zeros([length], w.dtype).at(index).add(w);
}
