/**
 * NumPy's statistics (issue 22 §3): the NaN-ignoring reductions (`nansum` … `nanvar`),
 * `ptp`, `average`, and the order statistics `quantile`, `percentile`, `median`,
 * `nanquantile`, `nanmedian`. All are compositions of reductions, sorts and gathers, so
 * they stay lazy (no host read) and differentiate through their parts. Integer inputs
 * of the float-valued ones compute in float32 (NumPy uses float64).
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { type DType, isFloat } from '../core/dtype.js';
import { ArgumentError, formatValue, ShapeError } from '../errors.js';
import { astype, binary, unary, where } from './elementwise.js';
import { takeAlongAxis } from './indexing.js';
import { stack } from './join.js';
import { broadcastTo, reshape, transpose } from './movement.js';
import { asArrays, asFloats } from './numeric.js';
import type { ArrayLike } from './operand.js';
import { type Axes, normalizeAxes, reduceOp } from './reduce-core.js';
import { sort } from './sort.js';

/** Options of the NaN-ignoring reductions. */
export interface NanReduceOptions {
  /** The axis or axes to reduce (all when omitted or null). */
  readonly axis?: Axes;
  /** Keep the reduced axes as size 1 (default false). */
  readonly keepdims?: boolean;
}

/** Options of `nanvar` and `nanstd`. */
export interface NanVarianceOptions extends NanReduceOptions {
  /** Delta degrees of freedom: the divisor is (count of non-NaN) - ddof (default 0). */
  readonly ddof?: number;
}

function reduceArgs(
  op: string,
  options: NanVarianceOptions | undefined,
  keys: readonly (keyof NanVarianceOptions)[],
): { axis: Axes; keepdims: boolean; ddof: number } {
  const o = checkOptions(op, options, keys);
  if (o.keepdims !== undefined && typeof o.keepdims !== 'boolean') throw new ArgumentError(`${op}: keepdims must be a boolean, got ${formatValue(o.keepdims)}`);
  if (o.ddof !== undefined && (typeof o.ddof !== 'number' || !Number.isFinite(o.ddof)))
    throw new ArgumentError(`${op}: ddof must be a finite number, got ${formatValue(o.ddof)}`);
  return { axis: o.axis ?? null, keepdims: o.keepdims ?? false, ddof: o.ddof ?? 0 };
}

/** NaN replaced by `fill` (float arrays only; other dtypes hold no NaN). */
function withoutNan(a: MetalArray, fill: number): MetalArray {
  return isFloat(a.dtype) ? where(unary('isnan', a), fill, a) : a;
}

/** How many non-NaN values each reduced slice holds, in `like`'s float dtype. */
function validCount(a: MetalArray, axis: Axes, keepdims: boolean, dtype: DType, op: string): MetalArray {
  const valid = isFloat(a.dtype) ? unary('logicalNot', unary('isnan', a)) : binary('equal', a, a);
  return reduceOp('sum', astype(valid, dtype), axis, keepdims, op);
}

/**
 * Sum over axes treating NaN as 0 (an all-NaN or empty slice sums to 0). Integers
 * accumulate as `sum` does.
 *
 * @example
 * ```ts
 * console.log(ma.nansum(ma.array([[1, NaN], [3, 4]], 'float32'), { axis: 1 }).tolist()); // [ 1, 7 ]
 * ```
 */
export function nansum(a: ArrayLike, options?: NanReduceOptions): MetalArray {
  checkArgCount('nansum', arguments.length, 2, 'nansum(a, { axis, keepdims })');
  const { axis, keepdims } = reduceArgs('nansum', options, ['axis', 'keepdims']);
  const [x] = asArrays('nansum', [a]);
  return reduceOp('sum', withoutNan(x, 0), axis, keepdims, 'nansum');
}

function nanmeanOf(op: string, x: MetalArray, axis: Axes, keepdims: boolean): MetalArray {
  const n = validCount(x, axis, keepdims, x.dtype, op);
  return binary('divide', reduceOp('sum', withoutNan(x, 0), axis, keepdims, op), n);
}

/**
 * Mean over axes ignoring NaN (an all-NaN or empty slice gives NaN); integers give float32.
 *
 * @example
 * ```ts
 * console.log(ma.nanmean(ma.array([1, NaN, 3], 'float32')).item()); // 2
 * ```
 */
export function nanmean(a: ArrayLike, options?: NanReduceOptions): MetalArray {
  checkArgCount('nanmean', arguments.length, 2, 'nanmean(a, { axis, keepdims })');
  const { axis, keepdims } = reduceArgs('nanmean', options, ['axis', 'keepdims']);
  const [x] = asFloats('nanmean', [a]);
  return nanmeanOf('nanmean', x, axis, keepdims);
}

function nanExtreme(op: 'nanmax' | 'nanmin', a: ArrayLike, options: NanReduceOptions | undefined): MetalArray {
  const { axis, keepdims } = reduceArgs(op, options, ['axis', 'keepdims']);
  const [x] = asArrays(op, [a]);
  const red = op === 'nanmax' ? 'max' : 'min';
  if (!isFloat(x.dtype)) return reduceOp(red, x, axis, keepdims, op);
  const m = reduceOp(red, withoutNan(x, op === 'nanmax' ? -Infinity : Infinity), axis, keepdims, op);
  const allNan = reduceOp('all', unary('isnan', x), axis, keepdims, op);
  return where(allNan, Number.NaN, m);
}

/**
 * Maximum over axes ignoring NaN (an all-NaN slice gives NaN).
 *
 * @example
 * ```ts
 * console.log(ma.nanmax(ma.array([1, NaN, 3], 'float32')).item()); // 3
 * ```
 */
export function nanmax(a: ArrayLike, options?: NanReduceOptions): MetalArray {
  checkArgCount('nanmax', arguments.length, 2, 'nanmax(a, { axis, keepdims })');
  return nanExtreme('nanmax', a, options);
}

/**
 * Minimum over axes ignoring NaN (an all-NaN slice gives NaN).
 *
 * @example
 * ```ts
 * console.log(ma.nanmin(ma.array([1, NaN, 3], 'float32')).item()); // 1
 * ```
 */
export function nanmin(a: ArrayLike, options?: NanReduceOptions): MetalArray {
  checkArgCount('nanmin', arguments.length, 2, 'nanmin(a, { axis, keepdims })');
  return nanExtreme('nanmin', a, options);
}

/** Options of `nanargmax` and `nanargmin` (one axis). */
export interface NanArgOptions {
  /** The axis to search along (the flattened array when omitted or null). */
  readonly axis?: number | null;
  /** Keep the reduced axis as size 1 (default false). */
  readonly keepdims?: boolean;
}

function nanArg(op: 'nanargmax' | 'nanargmin', a: ArrayLike, options: NanArgOptions | undefined): MetalArray {
  const o = checkOptions(op, options, ['axis', 'keepdims']);
  const axis = o.axis ?? null;
  const keepdims = o.keepdims ?? false;
  const [x] = asArrays(op, [a]);
  const red = op === 'nanargmax' ? 'argmax' : 'argmin';
  if (!isFloat(x.dtype)) return reduceOp(red, x, axis, keepdims, op);
  const idx = reduceOp(red, withoutNan(x, op === 'nanargmax' ? -Infinity : Infinity), axis, keepdims, op);
  const allNan = reduceOp('all', unary('isnan', x), axis, keepdims, op);
  return where(allNan, -1, idx);
}

/**
 * Index of the maximum ignoring NaN. An all-NaN slice gives -1 (NumPy raises; a lazy
 * array cannot raise without reading its data, so check for -1 where it can happen).
 *
 * @example
 * ```ts
 * console.log(ma.nanargmax(ma.array([1, NaN, 3, NaN], 'float32')).item()); // 2
 * ```
 */
export function nanargmax(a: ArrayLike, options?: NanArgOptions): MetalArray {
  checkArgCount('nanargmax', arguments.length, 2, 'nanargmax(a, { axis, keepdims })');
  return nanArg('nanargmax', a, options);
}

/**
 * Index of the minimum ignoring NaN (an all-NaN slice gives -1, see `nanargmax`).
 *
 * @example
 * ```ts
 * console.log(ma.nanargmin(ma.array([NaN, 4, 1], 'float32')).item()); // 2
 * ```
 */
export function nanargmin(a: ArrayLike, options?: NanArgOptions): MetalArray {
  checkArgCount('nanargmin', arguments.length, 2, 'nanargmin(a, { axis, keepdims })');
  return nanArg('nanargmin', a, options);
}

function nanvarOf(op: string, a: ArrayLike, options: NanVarianceOptions | undefined): MetalArray {
  const { axis, keepdims, ddof } = reduceArgs(op, options, ['axis', 'keepdims', 'ddof']);
  const [x] = asFloats(op, [a]);
  const centered = withoutNan(binary('subtract', x, nanmeanOf(op, x, axis, true)), 0);
  const n = validCount(x, axis, keepdims, x.dtype, op);
  const dof = binary('maximum', binary('subtract', n, ddof), 0);
  return binary('divide', reduceOp('sum', binary('multiply', centered, centered), axis, keepdims, op), dof);
}

/**
 * Variance ignoring NaN, divisor (non-NaN count) - ddof; a slice with no more than
 * `ddof` values gives NaN or Inf (as NumPy, which also warns).
 *
 * @example
 * ```ts
 * console.log(ma.nanvar(ma.array([1, NaN, 3], 'float32')).item()); // 1
 * ```
 */
export function nanvar(a: ArrayLike, options?: NanVarianceOptions): MetalArray {
  checkArgCount('nanvar', arguments.length, 2, 'nanvar(a, { axis, keepdims, ddof })');
  return nanvarOf('nanvar', a, options);
}

/**
 * Standard deviation ignoring NaN (`sqrt(nanvar)`).
 *
 * @example
 * ```ts
 * console.log(ma.nanstd(ma.array([1, NaN, 3], 'float32'), { ddof: 1 }).item()); // 1.4142135381698608
 * ```
 */
export function nanstd(a: ArrayLike, options?: NanVarianceOptions): MetalArray {
  checkArgCount('nanstd', arguments.length, 2, 'nanstd(a, { axis, keepdims, ddof })');
  return unary('sqrt', nanvarOf('nanstd', a, options));
}

/**
 * Peak to peak, `max - min` over axes, in the input's dtype (integers wrap as NumPy's).
 *
 * @example
 * ```ts
 * console.log(ma.ptp(ma.array([[4, 9], [1, 2]]), { axis: 1 }).tolist()); // [ 5, 1 ]
 * ```
 */
export function ptp(a: ArrayLike, options?: NanReduceOptions): MetalArray {
  checkArgCount('ptp', arguments.length, 2, 'ptp(a, { axis, keepdims })');
  const { axis, keepdims } = reduceArgs('ptp', options, ['axis', 'keepdims']);
  const [x] = asArrays('ptp', [a]);
  return binary('subtract', reduceOp('max', x, axis, keepdims, 'ptp'), reduceOp('min', x, axis, keepdims, 'ptp'));
}

/** Options of `average`. */
export interface AverageOptions {
  /** The axis or axes to average over (all when omitted or null). */
  readonly axis?: Axes;
  /** Weights of `a`'s shape, or 1-D along a single `axis` (default: all 1). */
  readonly weights?: MetalArray;
  /** Keep the reduced axes as size 1 (default false). */
  readonly keepdims?: boolean;
}

/**
 * Weighted mean, `sum(a * w) / sum(w)` over axes. 1-D weights apply along a single
 * `axis`. Weights summing to zero give NaN or Inf (NumPy raises; that would need a read).
 *
 * @example
 * ```ts
 * const a = ma.array([[1, 2], [3, 4]], 'float32');
 * console.log(ma.average(a, { axis: 1, weights: ma.array([3, 1], 'float32') }).tolist()); // [ 1.25, 3.25 ]
 * ```
 */
export function average(a: ArrayLike, options?: AverageOptions): MetalArray {
  checkArgCount('average', arguments.length, 2, 'average(a, { axis, weights, keepdims })');
  const o = checkOptions('average', options, ['axis', 'weights', 'keepdims']);
  const axis = o.axis ?? null;
  const keepdims = o.keepdims ?? false;
  if (o.weights === undefined) {
    const [x] = asFloats('average', [a]);
    return binary('divide', reduceOp('sum', x, axis, keepdims, 'average'), countOf('average', x, axis));
  }
  const [x, w0] = asFloats('average', [a, o.weights]);
  let w = w0;
  if (w.ndim !== x.ndim || !w.shape.every((d, k) => d === x.shape[k])) {
    if (w.ndim !== 1 || typeof axis !== 'number') {
      throw new ShapeError(`average: weights of shape [${w.shape}] must match a's shape [${x.shape}], or be 1-D with a single axis`);
    }
    const ax = normalizeAxes('average', axis, x.ndim)[0];
    if (w.shape[0] !== x.shape[ax]) throw new ShapeError(`average: 1-D weights of length ${w.shape[0]} differ from a's axis ${axis} of length ${x.shape[ax]}`);
    const shape = x.shape.map((_, k) => (k === ax ? w0.shape[0] : 1));
    w = reshape(w, shape);
  }
  const num = reduceOp('sum', binary('multiply', x, w), axis, keepdims, 'average');
  const den = reduceOp('sum', broadcastTo(w, x.shape), axis, keepdims, 'average');
  return binary('divide', num, den);
}

function countOf(op: string, x: MetalArray, axis: Axes): number {
  return normalizeAxes(op, axis, x.ndim).reduce((p, d) => p * x.shape[d], 1);
}

/** The methods of `quantile` (NumPy's names; 'linear' is the default). */
export type QuantileMethod =
  | 'linear'
  | 'lower'
  | 'higher'
  | 'nearest'
  | 'midpoint'
  | 'inverted_cdf'
  | 'averaged_inverted_cdf'
  | 'closest_observation'
  | 'interpolated_inverted_cdf'
  | 'hazen'
  | 'weibull'
  | 'median_unbiased'
  | 'normal_unbiased';

/** The (alpha, beta) of the continuous methods (Hyndman and Fan), as NumPy tabulates them. */
const CONTINUOUS: Readonly<Partial<Record<QuantileMethod, readonly [number, number]>>> = {
  linear: [1, 1],
  interpolated_inverted_cdf: [0, 1],
  hazen: [0.5, 0.5],
  weibull: [0, 0],
  median_unbiased: [1 / 3, 1 / 3],
  normal_unbiased: [3 / 8, 3 / 8],
};

const METHODS: readonly QuantileMethod[] = [
  'linear',
  'lower',
  'higher',
  'nearest',
  'midpoint',
  'inverted_cdf',
  'averaged_inverted_cdf',
  'closest_observation',
  'interpolated_inverted_cdf',
  'hazen',
  'weibull',
  'median_unbiased',
  'normal_unbiased',
];

/** Options of `quantile`, `percentile`, `median` and their NaN-ignoring forms. */
export interface QuantileOptions {
  /** The axis or axes to reduce (all when omitted or null). */
  readonly axis?: Axes;
  /** How to pick between the two order statistics around a quantile (default 'linear'). */
  readonly method?: QuantileMethod;
  /** Keep the reduced axes as size 1 (default false). */
  readonly keepdims?: boolean;
}

/** `x` with the reduced axes merged into one last axis; the kept shape (keepdims form) alongside. */
function gatherAxes(op: string, x: MetalArray, axis: Axes): { flat: MetalArray; kept: number[] } {
  const axes = normalizeAxes(op, axis, x.ndim);
  const rest = x.shape.map((_, k) => k).filter((k) => !axes.includes(k));
  const moved = transpose(x, [...rest, ...axes]);
  const n = axes.reduce((p, d) => p * x.shape[d], 1);
  const flat = reshape(moved, [...rest.map((k) => x.shape[k]), n]);
  const kept = x.shape.map((d, k) => (axes.includes(k) ? 1 : d));
  return { flat, kept };
}

/**
 * The q-quantile along the last axis of `sorted` (ascending, NaN last) with `count`
 * valid values per row (an array of the rows' shape plus a trailing 1). Every index is
 * computed in the graph, so nanquantile's per-row counts need no read.
 */
function quantileSorted(sorted: MetalArray, count: MetalArray, q: number, method: QuantileMethod): MetalArray {
  const last = sorted.shape[sorted.ndim - 1];
  const n = count;
  const nm1 = binary('subtract', n, 1);
  const pick = (i: MetalArray): MetalArray => {
    const idx = astype(binary('minimum', binary('maximum', i, 0), binary('maximum', nm1, 0)), 'int32');
    return takeAlongAxis(sorted, binary('minimum', idx, Math.max(last - 1, 0)), -1);
  };
  const floorOf = (v: MetalArray): MetalArray => unary('floor', v);
  const params = CONTINUOUS[method];
  if (params !== undefined) {
    const [alpha, beta] = params;
    // NumPy: virtual index n*q + alpha + q*(1 - alpha - beta) - 1, clipped to [0, n - 1].
    const virt = binary('minimum', binary('maximum', binary('add', binary('multiply', n, q), alpha + q * (1 - alpha - beta) - 1), 0), nm1);
    const lo = floorOf(virt);
    const t = binary('subtract', virt, lo);
    const a = pick(lo);
    const b = pick(binary('add', lo, 1));
    const diff = binary('subtract', b, a);
    // NumPy's _lerp: from the nearer end, so t = 1 gives b exactly.
    const fromA = binary('add', a, binary('multiply', diff, t));
    const fromB = binary('subtract', b, binary('multiply', diff, binary('subtract', 1, t)));
    return where(binary('greaterEqual', t, 0.5), fromB, fromA);
  }
  const pos = binary('multiply', nm1, q);
  switch (method) {
    case 'lower':
      return pick(floorOf(pos));
    case 'higher':
      return pick(unary('ceil', pos));
    case 'nearest':
      // round half to even, as NumPy's around
      return pick(unary('round', pos));
    case 'midpoint': {
      const a = pick(floorOf(pos));
      const b = pick(unary('ceil', pos));
      return binary('multiply', binary('add', a, b), 0.5);
    }
    case 'inverted_cdf':
      return pick(binary('subtract', unary('ceil', binary('multiply', n, q)), 1));
    case 'averaged_inverted_cdf': {
      const nq = binary('multiply', n, q);
      const j = floorOf(nq);
      const exact = binary('equal', nq, j);
      const a = pick(binary('subtract', j, 1));
      const b = pick(j);
      return where(exact, binary('multiply', binary('add', a, b), 0.5), b);
    }
    default: {
      // closest_observation: the nearest order statistic to n*q - 0.5, ties to the even index
      const v = binary('subtract', binary('multiply', n, q), 0.5);
      const j = floorOf(v);
      const frac = binary('subtract', v, j);
      const jOdd = binary('equal', binary('remainder', j, 2), 1);
      const up = binary('logicalOr', binary('greater', frac, 0.5), binary('logicalAnd', binary('equal', frac, 0.5), jOdd));
      return pick(where(up, binary('add', j, 1), j));
    }
  }
}

function quantileOf(
  op: string,
  a: ArrayLike,
  qs: number | readonly number[],
  options: QuantileOptions | undefined,
  scale: number,
  ignoreNan: boolean,
): MetalArray {
  const o = checkOptions(op, options, ['axis', 'method', 'keepdims']);
  const method = o.method ?? 'linear';
  if (!METHODS.includes(method)) throw new ArgumentError(`${op}: unknown method ${formatValue(method)}; the methods are ${METHODS.join(', ')}`);
  if (typeof qs !== 'number' && !Array.isArray(qs)) throw new ArgumentError(`${op}: q must be a number or a list of numbers, got ${formatValue(qs)}`);
  const qList: readonly number[] = typeof qs === 'number' ? [qs] : qs;
  for (const q of qList) {
    if (typeof q !== 'number' || !(q / scale >= 0 && q / scale <= 1)) {
      throw new ArgumentError(`${op}: q must be in [0, ${scale}], got ${formatValue(q)}`);
    }
  }
  const [x] = asFloats(op, [a]);
  const { flat, kept } = gatherAxes(op, x, o.axis ?? null);
  const last = flat.shape[flat.ndim - 1];
  const sorted = sort(flat, -1);
  const isNan = unary('isnan', flat);
  const nanCount = reduceOp('sum', astype(isNan, x.dtype), -1, true, op);
  const count = ignoreNan ? binary('subtract', last, nanCount) : binary('add', binary('multiply', nanCount, 0), last);
  const results = qList.map((q) => {
    let r = last === 0 ? binary('multiply', reduceOp('sum', flat, -1, true, op), Number.NaN) : quantileSorted(sorted, count, q / scale, method);
    // A NaN in a row makes its quantile NaN (NumPy); an all-NaN row is NaN for the nan forms.
    r = ignoreNan ? where(binary('equal', count, 0), Number.NaN, r) : where(binary('greater', nanCount, 0), Number.NaN, r);
    const shaped = reshape(r, kept);
    return o.keepdims === true
      ? shaped
      : reshape(
          shaped,
          kept.filter((_, k) => !normalizeAxes(op, o.axis ?? null, x.ndim).includes(k)),
        );
  });
  return typeof qs === 'number' ? results[0] : stack(results, 0);
}

/**
 * The q-th quantile(s) along axes, `q` in [0, 1] (a number, or a list: the result then
 * has a leading axis of the list's length). `method` is NumPy's (default 'linear'); a
 * slice holding NaN gives NaN. Integers give float32.
 *
 * @example
 * ```ts
 * const a = ma.array([[10, 7, 4], [3, 2, 1]], 'float32');
 * console.log(ma.quantile(a, 0.5, { axis: 1 }).tolist()); // [ 7, 2 ]
 * console.log(ma.quantile(a, [0.25, 1], { method: 'lower' }).tolist()); // [ 2, 10 ]
 * ```
 */
export function quantile(a: ArrayLike, q: number | readonly number[], options?: QuantileOptions): MetalArray {
  checkArgCount('quantile', arguments.length, 3, 'quantile(a, q, { axis, method, keepdims })');
  return quantileOf('quantile', a, q, options, 1, false);
}

/**
 * The q-th percentile(s), `q` in [0, 100]: `quantile(a, q / 100)`.
 *
 * @example
 * ```ts
 * console.log(ma.percentile(ma.array([1, 2, 3, 4], 'float32'), 50).item()); // 2.5
 * ```
 */
export function percentile(a: ArrayLike, q: number | readonly number[], options?: QuantileOptions): MetalArray {
  checkArgCount('percentile', arguments.length, 3, 'percentile(a, q, { axis, method, keepdims })');
  return quantileOf('percentile', a, q, options, 100, false);
}

/**
 * The median along axes (`quantile(a, 0.5)`); an empty slice gives NaN.
 *
 * @example
 * ```ts
 * console.log(ma.median(ma.array([[1, 5, 2], [4, 4, 0]]), { axis: 1 }).tolist()); // [ 2, 4 ]
 * ```
 */
export function median(a: ArrayLike, options?: Omit<QuantileOptions, 'method'>): MetalArray {
  checkArgCount('median', arguments.length, 2, 'median(a, { axis, keepdims })');
  checkOptions('median', options, ['axis', 'keepdims']);
  return quantileOf('median', a, 0.5, options, 1, false);
}

/**
 * `quantile` ignoring NaN (an all-NaN slice gives NaN).
 *
 * @example
 * ```ts
 * console.log(ma.nanquantile(ma.array([1, NaN, 3, 2], 'float32'), 0.5).item()); // 2
 * ```
 */
export function nanquantile(a: ArrayLike, q: number | readonly number[], options?: QuantileOptions): MetalArray {
  checkArgCount('nanquantile', arguments.length, 3, 'nanquantile(a, q, { axis, method, keepdims })');
  return quantileOf('nanquantile', a, q, options, 1, true);
}

/**
 * `percentile` ignoring NaN.
 *
 * @example
 * ```ts
 * console.log(ma.nanpercentile(ma.array([1, NaN, 3], 'float32'), 100).item()); // 3
 * ```
 */
export function nanpercentile(a: ArrayLike, q: number | readonly number[], options?: QuantileOptions): MetalArray {
  checkArgCount('nanpercentile', arguments.length, 3, 'nanpercentile(a, q, { axis, method, keepdims })');
  return quantileOf('nanpercentile', a, q, options, 100, true);
}

/**
 * The median ignoring NaN (an all-NaN slice gives NaN).
 *
 * @example
 * ```ts
 * console.log(ma.nanmedian(ma.array([[1, NaN, 3], [NaN, NaN, 2]], 'float32'), { axis: 1 }).tolist()); // [ 2, 2 ]
 * ```
 */
export function nanmedian(a: ArrayLike, options?: Omit<QuantileOptions, 'method'>): MetalArray {
  checkArgCount('nanmedian', arguments.length, 2, 'nanmedian(a, { axis, keepdims })');
  checkOptions('nanmedian', options, ['axis', 'keepdims']);
  return quantileOf('nanmedian', a, 0.5, options, 1, true);
}
