/**
 * Reference oracle: reductions over axes, the composites built on them (mean, var, std,
 * logsumexp, softmax, logSoftmax, norm, countNonzero), and scans.
 *
 * Semantics (the library's, see src/ops/reduce.ts and src/ops/scan.ts docs, NumPy where
 * they agree):
 * - sum/prod: bool and integers narrower than 32 bits accumulate in int32 (unsigned
 *   ones in uint32), as MLX and JAX; 32- and 64-bit integers keep their dtype and wrap
 *   (exact modular arithmetic); floats are the exact sum/product rounded once to the dtype (NaN if a
 *   NaN is present or Inf - Inf / 0 * Inf arises; ±Inf otherwise). Empty: 0 and 1.
 * - max/min keep the dtype, NaN propagates; argmax/argmin give the first index of the
 *   extreme, a NaN counting as the extreme (the first NaN wins), as int32. An empty
 *   reduced extent is a ShapeError for all four (and for the composites that use max).
 * - any/all → bool by truthiness (NaN is true); empty: false / true.
 * - mean, var, std, logsumexp, softmax, logSoftmax, norm: float results, integers and
 *   bool give float32. mean, var, std, and the 1-, 2- and Frobenius norms are exact
 *   (rational arithmetic on the exact inputs, one rounding); logsumexp, softmax,
 *   logSoftmax and general p-norms are computed in float64 and rounded once.
 *   logsumexp/softmax/logSoftmax shift by the maximum where it is finite and by 0
 *   otherwise (the library's formula), so a row with +Inf gives NaN where NumPy's
 *   unshifted formula would too.
 * - scans: cumsum/cumprod accumulate as sum/prod (bool, int8/16 → int32, uint8/16 →
 *   uint32), 32- and 64-bit integers wrap, floats round each exact prefix
 *   sum/product to the dtype; cummax/cummin propagate NaN. Exclusive scans start from
 *   the identity (0, 1, -Inf or the type's minimum, +Inf or the type's maximum).
 *
 * Where the library's float formulas differ from these exact values by rounding, the
 * property tests bound the difference (test/property/reduce-bounds.ts).
 */
import { contiguousStrides, forEachOffset, fromFlat, type RefArray, type Shape, sizeOf, toFlat } from './array.js';
import { ArgumentError, type DType, DTYPES, isFloat, ShapeError } from './dtypes.js';
import { dyadicOf, formatOf, roundQuotient, roundScaled, roundSqrtQuotient, SCALE_EXP, scaledOf } from './exact.js';
import { cPow } from './ops.js';
import { castScalar, roundBigIntToFormat, roundFloat, type Scalar, toBigInt, toNumber, truthy, wrapInt } from './round.js';
import { normalizeAxis } from './views.js';

/** Which axes to reduce: one, several, or (undefined/null) all. */
export type Axes = number | readonly number[] | null | undefined;

/** Normalized, sorted reduction axes; ShapeError for an out-of-range or repeated axis. */
export function reduceAxes(axis: Axes, ndim: number): number[] {
  if (axis === undefined || axis === null) return [...Array(ndim).keys()];
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = list.map((a) => normalizeAxis(a, ndim));
  if (new Set(out).size !== out.length) throw new ShapeError(`repeated axis in [${list}]`);
  return out.sort((x, y) => x - y);
}

export interface Groups {
  /** Output shape (reduced axes dropped, or kept as 1 with keepdims). */
  shape: number[];
  /** For each output element (row-major), the flat row-major indices of its inputs, in row-major order. */
  groups: number[][];
  /** Number of elements reduced into each output (also when there are no outputs). */
  extent: number;
}

/** The reduction groups of an array of `shape` over `axes` (normalized). */
export function reductionGroups(shape: Shape, axes: readonly number[], keepdims: boolean): Groups {
  const nd = shape.length;
  const strides = contiguousStrides(shape);
  const kept = [...Array(nd).keys()].filter((d) => !axes.includes(d));
  const keptShape = kept.map((d) => shape[d]);
  const redShape = axes.map((d) => shape[d]);
  const redStrides = axes.map((d) => strides[d]);
  const groups: number[][] = [];
  forEachOffset(
    keptShape,
    kept.map((d) => strides[d]),
    0,
    (_, base) => {
      const g: number[] = [];
      forEachOffset(redShape, redStrides, base, (__, off) => g.push(off));
      groups.push(g);
    },
  );
  const outShape = keepdims ? shape.map((s, d) => (axes.includes(d) ? 1 : s)) : keptShape;
  return { shape: outShape, groups, extent: sizeOf(redShape) };
}

/** Applies `fn` to every group of `a` (values in row-major order). */
function reduceWith(a: RefArray, axes: readonly number[], keepdims: boolean, dtype: DType, fn: (xs: Scalar[]) => Scalar, emptyThrows?: string): RefArray {
  const g = reductionGroups(a.nd.shape, axes, keepdims);
  if (emptyThrows !== undefined && g.extent === 0) {
    throw new ShapeError(`${emptyThrows}: zero-size reduction over axes [${axes}] of shape [${a.nd.shape}] has no identity`);
  }
  const flat = toFlat(a);
  return fromFlat(
    dtype,
    g.shape,
    g.groups.map((idx) => fn(idx.map((i) => flat[i]))),
  );
}

/** The float dtype of mean/var/std/softmax/norm results: floats stay, integers and bool → float32. */
export function floatResultDType(dtype: DType): DType {
  return isFloat(dtype) ? dtype : 'float32';
}

/** The dtype sum, prod, cumsum and cumprod accumulate in (MLX, JAX): bool, int8, int16 → int32; uint8, uint16 → uint32. */
export function accumulationDType(dtype: DType): DType {
  if (dtype === 'bool' || dtype === 'int8' || dtype === 'int16') return 'int32';
  if (dtype === 'uint8' || dtype === 'uint16') return 'uint32';
  return dtype;
}

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin' | 'any' | 'all';

export function reduceResultDType(op: ReduceOp, dtype: DType): DType {
  switch (op) {
    case 'sum':
    case 'prod':
      return accumulationDType(dtype);
    case 'argmax':
    case 'argmin':
      return 'int32';
    case 'any':
    case 'all':
      return 'bool';
    default:
      return dtype;
  }
}

// ---------------------------------------------------------------------------------
// Scalar kernels over one group (values already of `dtype`)
// ---------------------------------------------------------------------------------

/** IEEE special cases of a float sum: NaN, ±Inf, or null when every element is finite. */
function sumSpecial(xs: readonly number[]): number | null {
  let nan = false;
  let pos = false;
  let neg = false;
  for (const x of xs) {
    if (Number.isNaN(x)) nan = true;
    else if (x === Number.POSITIVE_INFINITY) pos = true;
    else if (x === Number.NEGATIVE_INFINITY) neg = true;
  }
  if (nan || (pos && neg)) return Number.NaN;
  if (pos) return Number.POSITIVE_INFINITY;
  if (neg) return Number.NEGATIVE_INFINITY;
  return null;
}

/** Exact sum of finite doubles, at scale 2^SCALE_EXP. */
export function exactScaledSum(xs: readonly number[]): bigint {
  let s = 0n;
  for (const x of xs) if (x !== 0) s += scaledOf(x);
  return s;
}

/** Sum of a group (values of `dtype`, the result dtype). */
export function sumScalars(xs: readonly Scalar[], dtype: DType): Scalar {
  const info = DTYPES[dtype];
  if (info.kind === 'float') {
    const nums = xs as readonly number[];
    const sp = sumSpecial(nums);
    if (sp !== null) return sp;
    return roundScaled(exactScaledSum(nums), SCALE_EXP, formatOf(dtype));
  }
  let s = 0n;
  for (const x of xs) s += toBigInt(x);
  return wrapInt(s, dtype);
}

/** Product of a group (values of `dtype`, the result dtype). */
export function prodScalars(xs: readonly Scalar[], dtype: DType): Scalar {
  const info = DTYPES[dtype];
  if (info.kind !== 'float') {
    if (info.kind === 'bool') return xs.every(truthy) ? 1 : 0;
    let p = 1n;
    for (const x of xs) p = BigInt.asUintN(info.bits, p * toBigInt(x));
    return wrapInt(p, dtype);
  }
  let nan = false;
  let zero = false;
  let inf = false;
  let negative = false;
  let m = 1n;
  let e = 0;
  for (const v of xs as readonly number[]) {
    if (Number.isNaN(v)) {
      nan = true;
      continue;
    }
    if (v < 0 || Object.is(v, -0)) negative = !negative;
    if (v === 0) zero = true;
    else if (!Number.isFinite(v)) inf = true;
    else {
      const d = dyadicOf(Math.abs(v));
      m *= d.m;
      e += d.e;
    }
  }
  if (nan || (zero && inf)) return Number.NaN;
  const sign = negative ? -1 : 1;
  if (inf) return sign * Number.POSITIVE_INFINITY;
  if (zero) return sign * 0;
  return sign * roundScaled(m, e, formatOf(dtype));
}

/** Index of the first maximum (isMax) or minimum of a non-empty group; a NaN is the extreme. */
export function argExtreme(xs: readonly Scalar[], dtype: DType, isMax: boolean): number {
  if (xs.length === 0) throw new ShapeError('arg-reduction of an empty group');
  if (isFloat(dtype)) {
    const k = (xs as readonly number[]).findIndex((x) => Number.isNaN(x));
    if (k >= 0) return k;
  }
  let best = 0;
  for (let i = 1; i < xs.length; i++) {
    if (isMax ? xs[i] > xs[best] : xs[i] < xs[best]) best = i;
  }
  return best;
}

/** Maximum or minimum of a non-empty group (NaN propagates). */
export function extremeScalars(xs: readonly Scalar[], dtype: DType, isMax: boolean): Scalar {
  return xs[argExtreme(xs, dtype, isMax)];
}

/** IEEE special value of the mean/var of float inputs, or null when every element is finite. */
function exactMeanParts(xs: readonly Scalar[], dtype: DType): { s: bigint; scale: number; special: number | null } {
  if (isFloat(dtype)) {
    const nums = xs as readonly number[];
    const sp = sumSpecial(nums);
    return { s: sp === null ? exactScaledSum(nums) : 0n, scale: SCALE_EXP, special: sp };
  }
  let s = 0n;
  for (const x of xs) s += toBigInt(x);
  return { s, scale: 0, special: null };
}

/** Arithmetic mean of a group (exact, rounded once to the float result dtype; NaN when empty). */
export function meanScalars(xs: readonly Scalar[], dtype: DType): number {
  const f = floatResultDType(dtype);
  if (xs.length === 0) return Number.NaN;
  const { s, scale, special } = exactMeanParts(xs, dtype);
  if (special !== null) return special;
  return roundQuotient(s, scale, BigInt(xs.length), formatOf(f));
}

/**
 * n * sum(x^2) - (sum x)^2 = n * sum((x - mean)^2), exactly, with its scale exponent; null
 * if an element is not finite (the variance is NaN then, as Inf - Inf arises).
 */
function exactSumSquares(xs: readonly Scalar[], dtype: DType): { num: bigint; scale: number } | null {
  let s = 0n;
  let s2 = 0n;
  let scale = 0;
  if (isFloat(dtype)) {
    // a common scale: the smallest exponent of the elements keeps the bigints small
    let minE = Number.POSITIVE_INFINITY;
    for (const x of xs as readonly number[]) {
      if (!Number.isFinite(x)) return null;
      if (x !== 0) minE = Math.min(minE, dyadicOf(x).e);
    }
    scale = Number.isFinite(minE) ? minE : 0;
    for (const x of xs as readonly number[]) {
      if (x === 0) continue;
      const d = dyadicOf(x);
      const v = d.m << BigInt(d.e - scale);
      s += v;
      s2 += v * v;
    }
  } else {
    for (const x of xs) {
      const v = toBigInt(x);
      s += v;
      s2 += v * v;
    }
  }
  return { num: BigInt(xs.length) * s2 - s * s, scale };
}

/** Variance with `ddof` (an integer), exact and rounded once; the divisor is max(0, n - ddof). */
export function varianceScalars(xs: readonly Scalar[], dtype: DType, ddof = 0, root = false): number {
  if (!Number.isInteger(ddof)) throw new ArgumentError(`the oracle's var takes an integer ddof, got ${ddof}`);
  const f = floatResultDType(dtype);
  const n = xs.length;
  if (n === 0) return Number.NaN;
  const parts = exactSumSquares(xs, dtype);
  if (parts === null) return Number.NaN;
  const k = Math.max(0, n - ddof);
  if (k === 0) return parts.num > 0n ? Number.POSITIVE_INFINITY : Number.NaN;
  const den = BigInt(n) * BigInt(k);
  // var = num / (n k) * 2^(2 scale)
  if (root) return roundSqrtQuotient(parts.num, den, parts.scale, formatOf(f));
  return roundQuotient(parts.num, 2 * parts.scale, den, formatOf(f));
}

/** Neumaier's compensated sum in float64. */
export function fsum(xs: readonly number[]): number {
  let s = 0;
  let c = 0;
  for (const x of xs) {
    const t = s + x;
    if (Math.abs(s) >= Math.abs(x)) c += s - t + x;
    else c += x - t + s;
    s = t;
  }
  const r = s + c;
  return Number.isNaN(r) && !Number.isNaN(s) ? s : r;
}

/** The shift of logsumexp/softmax: the maximum where it is finite, else 0. */
function maxShift(xs: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    if (Number.isNaN(x)) return 0;
    if (x > m) m = x;
  }
  return Number.isFinite(m) ? m : 0;
}

export function logsumexpScalars(xs: readonly Scalar[], dtype: DType): number {
  const v = xs.map(toNumber);
  const shift = maxShift(v);
  const s = fsum(v.map((x) => Math.exp(x - shift)));
  return roundFloat(Math.log(s) + shift, floatResultDType(dtype));
}

export function softmaxScalars(xs: readonly Scalar[], dtype: DType, log: boolean): number[] {
  const f = floatResultDType(dtype);
  const v = xs.map(toNumber);
  const shift = maxShift(v);
  const s = fsum(v.map((x) => Math.exp(x - shift)));
  const ls = Math.log(s);
  return v.map((x) => roundFloat(log ? x - shift - ls : Math.exp(x - shift) / s, f));
}

export type NormOrd = number | 'fro' | null;

/** |x| of an element as a float of dtype f (ints converted exactly rounded, as astype). */
function absAsFloat(x: Scalar, dtype: DType, f: DType): number {
  if (typeof x === 'bigint') return roundBigIntToFormat(x < 0n ? -x : x, formatOf(f));
  return Math.abs(castScalar(x, dtype, f) as number);
}

/** sqrt(sum x^2), exact and rounded once (NaN if a NaN is present, else Inf if an Inf is). */
function frobenius(xs: readonly Scalar[], dtype: DType, f: DType): number {
  if (isFloat(dtype)) {
    const nums = xs as readonly number[];
    if (nums.some(Number.isNaN)) return Number.NaN;
    if (nums.some((x) => !Number.isFinite(x))) return Number.POSITIVE_INFINITY;
    let s2 = 0n;
    for (const x of nums) {
      if (x === 0) continue;
      const v = scaledOf(x);
      s2 += v * v;
    }
    return roundSqrtQuotient(s2, 1n, SCALE_EXP, formatOf(f));
  }
  let s2 = 0n;
  for (const x of xs) s2 += toBigInt(x) * toBigInt(x);
  return roundSqrtQuotient(s2, 1n, 0, formatOf(f));
}

/** A vector norm of a group (`ord` as the library: 2, 1, ±Infinity, 0, or any p). */
export function vectorNormScalars(xs: readonly Scalar[], dtype: DType, ord: number | 'fro'): number {
  const f = floatResultDType(dtype);
  if (ord === 'fro' || ord === 2) return frobenius(xs, dtype, f);
  if (ord === 1) {
    if (isFloat(dtype)) {
      const nums = (xs as readonly number[]).map(Math.abs);
      const sp = sumSpecial(nums);
      return sp ?? roundScaled(exactScaledSum(nums), SCALE_EXP, formatOf(f));
    }
    let s = 0n;
    for (const x of xs) s += toBigInt(x) < 0n ? -toBigInt(x) : toBigInt(x);
    return s === 0n ? 0 : roundScaled(s, 0, formatOf(f));
  }
  if (ord === Number.POSITIVE_INFINITY || ord === Number.NEGATIVE_INFINITY) {
    const abs = xs.map((x) => absAsFloat(x, dtype, f));
    return extremeScalars(abs, f, ord > 0) as number;
  }
  if (ord === 0) return roundFloat(xs.filter(truthy).length, f);
  // general p: sum(|x|^p)^(1/p) with p and 1/p as weak scalars of the dtype (rounded to
  // it, as NumPy's `ret **= reciprocal(ord, dtype=ret.dtype)`)
  const p = roundFloat(ord, f);
  const inv = roundFloat(1 / ord, f);
  const s = fsum(xs.map((x) => cPow(absAsFloat(x, dtype, f), p)));
  return roundFloat(cPow(s, inv), f);
}

// ---------------------------------------------------------------------------------
// Array-level reductions
// ---------------------------------------------------------------------------------

function castAll(a: RefArray, to: DType): (xs: Scalar[]) => Scalar[] {
  return (xs) => (a.dtype === to ? xs : xs.map((x) => castScalar(x, a.dtype, to)));
}

export function sum(a: RefArray, axis?: Axes, keepdims = false): RefArray {
  const d = reduceResultDType('sum', a.dtype);
  const cast = castAll(a, d);
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, d, (xs) => sumScalars(cast(xs), d));
}

export function prod(a: RefArray, axis?: Axes, keepdims = false): RefArray {
  const d = reduceResultDType('prod', a.dtype);
  const cast = castAll(a, d);
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, d, (xs) => prodScalars(cast(xs), d));
}

export function max(a: RefArray, axis?: Axes, keepdims = false): RefArray {
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, a.dtype, (xs) => extremeScalars(xs, a.dtype, true), 'max');
}

export function min(a: RefArray, axis?: Axes, keepdims = false): RefArray {
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, a.dtype, (xs) => extremeScalars(xs, a.dtype, false), 'min');
}

/**
 * argmax/argmin along one axis, or over the flattened array when `axis` is undefined/null
 * (then `keepdims` keeps every axis as 1, as NumPy). A 0-d array has index 0.
 */
function argReduce(a: RefArray, axis: number | null | undefined, keepdims: boolean, isMax: boolean): RefArray {
  const name = isMax ? 'argmax' : 'argmin';
  const nd = a.nd.shape.length;
  if (axis === undefined || axis === null) {
    const flat = toFlat(a);
    if (flat.length === 0) throw new ShapeError(`${name}: zero-size reduction of shape [${a.nd.shape}] has no identity`);
    const shape = keepdims ? new Array<number>(nd).fill(1) : [];
    return fromFlat('int32', shape, [argExtreme(flat, a.dtype, isMax)]);
  }
  return reduceWith(a, [normalizeAxis(axis, nd)], keepdims, 'int32', (xs) => argExtreme(xs, a.dtype, isMax), name);
}

export function argmax(a: RefArray, axis?: number | null, keepdims = false): RefArray {
  return argReduce(a, axis, keepdims, true);
}

export function argmin(a: RefArray, axis?: number | null, keepdims = false): RefArray {
  return argReduce(a, axis, keepdims, false);
}

export function any(a: RefArray, axis?: Axes, keepdims = false): RefArray {
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, 'bool', (xs) => (xs.some(truthy) ? 1 : 0));
}

export function all(a: RefArray, axis?: Axes, keepdims = false): RefArray {
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, 'bool', (xs) => (xs.every(truthy) ? 1 : 0));
}

export function countNonzero(a: RefArray, axis?: Axes, keepdims = false): RefArray {
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, 'int32', (xs) => xs.filter(truthy).length);
}

export function mean(a: RefArray, axis?: Axes, keepdims = false): RefArray {
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, floatResultDType(a.dtype), (xs) => meanScalars(xs, a.dtype));
}

export function variance(a: RefArray, axis?: Axes, keepdims = false, ddof = 0): RefArray {
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, floatResultDType(a.dtype), (xs) => varianceScalars(xs, a.dtype, ddof));
}

export function std(a: RefArray, axis?: Axes, keepdims = false, ddof = 0): RefArray {
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, floatResultDType(a.dtype), (xs) => varianceScalars(xs, a.dtype, ddof, true));
}

export function logsumexp(a: RefArray, axis?: Axes, keepdims = false): RefArray {
  return reduceWith(a, reduceAxes(axis, a.nd.shape.length), keepdims, floatResultDType(a.dtype), (xs) => logsumexpScalars(xs, a.dtype), 'logsumexp');
}

/** Applies a group → group map (softmax) over the groups of `axes`; the result has `a`'s shape. */
function mapGroups(a: RefArray, axes: readonly number[], dtype: DType, fn: (xs: Scalar[]) => Scalar[], emptyThrows: string): RefArray {
  const g = reductionGroups(a.nd.shape, axes, false);
  if (g.extent === 0) throw new ShapeError(`${emptyThrows}: zero-size reduction over axes [${axes}] of shape [${a.nd.shape}] has no identity`);
  const flat = toFlat(a);
  const out = new Array<Scalar>(flat.length);
  for (const idx of g.groups) {
    const r = fn(idx.map((i) => flat[i]));
    idx.forEach((i, k) => {
      out[i] = r[k];
    });
  }
  return fromFlat(dtype, a.nd.shape, out);
}

export function softmax(a: RefArray, axis: Axes = -1): RefArray {
  return mapGroups(a, reduceAxes(axis, a.nd.shape.length), floatResultDType(a.dtype), (xs) => softmaxScalars(xs, a.dtype, false), 'softmax');
}

export function logSoftmax(a: RefArray, axis: Axes = -1): RefArray {
  return mapGroups(a, reduceAxes(axis, a.nd.shape.length), floatResultDType(a.dtype), (xs) => softmaxScalars(xs, a.dtype, true), 'logSoftmax');
}

/**
 * How norm reduces: the Frobenius norm over two axes (or a 2-D array with no axis, or
 * more than two axes with ord null/'fro'), else a vector norm of `ord` over the axes.
 */
export function normKind(ord: NormOrd, axis: Axes, ndim: number): { axes: number[]; ord: number | 'fro' } {
  const axes = reduceAxes(axis, ndim);
  const given = axis !== undefined && axis !== null;
  const matrix = axes.length === 2 && (given || ndim === 2);
  if (matrix || (axes.length > 2 && (ord === null || ord === 'fro'))) {
    if (ord !== null && ord !== 'fro') throw new ArgumentError(`norm: only the Frobenius norm is supported over ${axes.length} axes, got ${String(ord)}`);
    return { axes, ord: 'fro' };
  }
  const p = ord ?? 2;
  if (p !== 'fro' && Number.isNaN(p)) throw new ArgumentError(`norm: bad ord ${String(ord)}`);
  return { axes, ord: p };
}

export function norm(a: RefArray, ord: NormOrd = null, axis?: Axes, keepdims = false): RefArray {
  const k = normKind(ord, axis, a.nd.shape.length);
  const emptyThrows = k.ord === Number.POSITIVE_INFINITY || k.ord === Number.NEGATIVE_INFINITY ? 'norm' : undefined;
  return reduceWith(a, k.axes, keepdims, floatResultDType(a.dtype), (xs) => vectorNormScalars(xs, a.dtype, k.ord), emptyThrows);
}

export { variance as var };

// ---------------------------------------------------------------------------------
// Scans
// ---------------------------------------------------------------------------------

export type ScanOp = 'cumsum' | 'cumprod' | 'cummax' | 'cummin';

export function scanResultDType(op: ScanOp, dtype: DType): DType {
  return op === 'cumsum' || op === 'cumprod' ? accumulationDType(dtype) : dtype;
}

/** The identity an exclusive scan starts from. */
export function scanIdentity(op: ScanOp, dtype: DType): Scalar {
  const info = DTYPES[dtype];
  const big = (v: bigint): Scalar => (info.big ? v : Number(v));
  switch (op) {
    case 'cumsum':
      return big(0n);
    case 'cumprod':
      return big(1n);
    case 'cummax':
      return info.kind === 'float' ? Number.NEGATIVE_INFINITY : big(info.min ?? 0n);
    case 'cummin':
      return info.kind === 'float' ? Number.POSITIVE_INFINITY : big(info.max ?? 0n);
  }
}

/** Inclusive prefix results of one line (values of `dtype`, the result dtype). */
export function inclusiveScan(op: ScanOp, xs: readonly Scalar[], dtype: DType): Scalar[] {
  const out: Scalar[] = [];
  const info = DTYPES[dtype];
  if (op === 'cummax' || op === 'cummin') {
    let best: Scalar | null = null;
    for (const x of xs) {
      if (best === null) best = x;
      else if (typeof best === 'number' && Number.isNaN(best)) {
        // NaN stays
      } else if (typeof x === 'number' && Number.isNaN(x)) best = x;
      else if (op === 'cummax' ? x > best : x < best) best = x;
      out.push(best);
    }
    return out;
  }
  if (info.kind !== 'float') {
    let acc = op === 'cumsum' ? 0n : 1n;
    for (const x of xs) {
      acc = op === 'cumsum' ? BigInt.asUintN(64, acc + toBigInt(x)) : BigInt.asUintN(64, acc * toBigInt(x));
      out.push(wrapInt(acc, dtype));
    }
    return out;
  }
  // floats: the exact running sum or product, rounded per prefix
  const fmt = formatOf(dtype);
  let nan = false;
  let posInf = false;
  let negInf = false;
  let zero = false;
  let negative = false;
  let s = 0n; // running sum at scale 2^SCALE_EXP, or running |product| mantissa
  let e = 0; // running product exponent
  if (op === 'cumprod') s = 1n;
  for (const x of xs as readonly number[]) {
    if (Number.isNaN(x)) nan = true;
    else if (op === 'cumsum') {
      if (x === Number.POSITIVE_INFINITY) posInf = true;
      else if (x === Number.NEGATIVE_INFINITY) negInf = true;
      else if (x !== 0) s += scaledOf(x);
    } else {
      if (x < 0 || Object.is(x, -0)) negative = !negative;
      if (x === 0) zero = true;
      else if (!Number.isFinite(x)) posInf = true;
      else {
        const d = dyadicOf(Math.abs(x));
        s *= d.m;
        e += d.e;
      }
    }
    if (op === 'cumsum') {
      if (nan || (posInf && negInf)) out.push(Number.NaN);
      else if (posInf || negInf) out.push(posInf ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
      else out.push(roundScaled(s, SCALE_EXP, fmt));
    } else {
      const sign = negative ? -1 : 1;
      if (nan || (zero && posInf)) out.push(Number.NaN);
      else if (posInf) out.push(sign * Number.POSITIVE_INFINITY);
      else if (zero) out.push(sign * 0);
      else out.push(sign * roundScaled(s, e, fmt));
    }
  }
  return out;
}

/** One line of a scan, forward, inclusive or exclusive. */
export function scanLine(op: ScanOp, xs: readonly Scalar[], dtype: DType, inclusive: boolean): Scalar[] {
  const inc = inclusiveScan(op, xs, dtype);
  if (inclusive) return inc;
  return xs.length === 0 ? [] : [scanIdentity(op, dtype), ...inc.slice(0, -1)];
}

/**
 * cumsum/cumprod/cummax/cummin(a, axis?, reverse = false, inclusive = true): along
 * `axis`, or over the flattened array (a 1-D result) when `axis` is undefined/null.
 */
export function scan(op: ScanOp, a: RefArray, axis?: number | null, reverse = false, inclusive = true): RefArray {
  const dtype = scanResultDType(op, a.dtype);
  let flat = toFlat(a);
  if (a.dtype !== dtype) flat = flat.map((x) => castScalar(x, a.dtype, dtype));
  let shape: number[];
  let ax: number;
  if (axis === undefined || axis === null) {
    shape = [flat.length];
    ax = 0;
  } else {
    if (a.nd.shape.length === 0) throw new ArgumentError(`${op}: axis ${axis} given for a zero-dimensional array`);
    shape = [...a.nd.shape];
    ax = normalizeAxis(axis, shape.length);
  }
  const g = reductionGroups(shape, [ax], false);
  const out = new Array<Scalar>(flat.length);
  for (const idx0 of g.groups) {
    const idx = reverse ? [...idx0].reverse() : idx0;
    const r = scanLine(
      op,
      idx.map((i) => flat[i]),
      dtype,
      inclusive,
    );
    idx.forEach((i, k) => {
      out[i] = r[k];
    });
  }
  return fromFlat(dtype, shape, out);
}

export const cumsum = (a: RefArray, axis?: number | null, reverse = false, inclusive = true): RefArray => scan('cumsum', a, axis, reverse, inclusive);
export const cumprod = (a: RefArray, axis?: number | null, reverse = false, inclusive = true): RefArray => scan('cumprod', a, axis, reverse, inclusive);
export const cummax = (a: RefArray, axis?: number | null, reverse = false, inclusive = true): RefArray => scan('cummax', a, axis, reverse, inclusive);
export const cummin = (a: RefArray, axis?: number | null, reverse = false, inclusive = true): RefArray => scan('cummin', a, axis, reverse, inclusive);
