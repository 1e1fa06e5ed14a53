/**
 * Reductions over one axis, a list of axes, or all axes, and the composites built on
 * them (mean, var, std, logsumexp, softmax, logSoftmax, norm). A reduction is one node;
 * the scheduler fuses its elementwise producers in front of it, its same-shape
 * consumers behind it, and inlines it (hoisted per row) into elementwise work it is
 * broadcast back into, so softmax and layer norm take at most two kernels.
 */
import { MetalArray } from '../array/array.js';
import { ArgumentError, DTypeError, formatValue } from '../errors.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { castNode, reduceNode } from '../core/build.js';
import { type DType, isFloat } from '../core/dtype.js';
import type { ReduceOp } from '../core/node.js';
import type { AccumulationOf, FloatDType, FloatOf } from '../core/dtype-types.js';
import { astype, binary, unary, where } from './elementwise.js';
import { broadcastTo, expandDims, reshape, transpose } from './movement.js';
import { cumprod } from './scan.js';
import type { NodeRule, Primitive } from '../transforms/rules.js';
import { markStopped } from '../transforms/autodiff.js';
import { type ArrayLike, operandNodes } from './operand.js';
import { type BatchingTable, batchedInput } from '../transforms/batching.js';
import { type Axes, checkAccumulationDType, normalizeAxes, reduceOp } from './reduce-core.js';

export { accumulationDType } from './reduce-core.js';

export type { Axes } from './reduce-core.js';

/** Options of the reductions (`ma.max(x, { axis: 1, keepdims: true })`). */
export interface ReduceOptions {
  /** The axis or axes to reduce (all when omitted or null). */
  readonly axis?: Axes;
  /** Keep the reduced axes as size 1 (default false). */
  readonly keepdims?: boolean;
}

/** Options of `sum` and `prod`: the reduction's, and the dtype to accumulate in and return. */
export interface AccumulateOptions<T extends DType = DType> extends ReduceOptions {
  /**
   * The dtype the values are converted to, summed in and returned. Default: bool and
   * integers narrower than 32 bits accumulate in int32 (uint32 for unsigned), others in
   * their own dtype.
   */
  readonly dtype?: T;
}

/** Options of `mean`: the reduction's, and the float dtype to compute in and return. */
export interface MeanOptions<T extends DType = FloatDType> extends ReduceOptions {
  /** The float dtype to compute in and return (default: the input's float dtype, float32 for others). */
  readonly dtype?: T;
}

/** Options of `argmax` and `argmin` (a single axis). */
export interface ArgReduceOptions {
  /** The axis to search along (the flattened array when omitted or null). */
  readonly axis?: number | null;
  /** Keep the reduced axis as size 1 (default false). */
  readonly keepdims?: boolean;
}

/** Options of `var` and `std`. */
export interface VarianceOptions extends ReduceOptions {
  /** Delta degrees of freedom: the divisor is N - ddof (default 0). */
  readonly ddof?: number;
}

/** Options of `softmax` and `logSoftmax`. */
export interface SoftmaxOptions {
  /** The axis or axes to normalize over (default -1, the last). */
  readonly axis?: Axes;
}

/** Options of `norm`. */
export interface NormOptions extends ReduceOptions {
  /** The order: 2 (default), 1, Infinity, -Infinity, any p > 0, or 'fro' over two axes. */
  readonly ord?: number | 'fro' | null;
}

/** True for an options object (not an axis, a list of axes, or null). */
function isOptionsObject(x: unknown): x is object {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The reductions that share one argument parser (norm has its own: its first argument is ord). */
type ReduceEntry =
  | 'sum'
  | 'prod'
  | 'max'
  | 'min'
  | 'argmax'
  | 'argmin'
  | 'any'
  | 'all'
  | 'mean'
  | 'var'
  | 'std'
  | 'logsumexp'
  | 'countNonzero'
  | 'softmax'
  | 'logSoftmax';

/** Each entry's option keys, in the order its positional form takes them. */
const ENTRY_KEYS: Readonly<Record<ReduceEntry, readonly string[]>> = {
  sum: ['axis', 'keepdims', 'dtype'],
  prod: ['axis', 'keepdims', 'dtype'],
  max: ['axis', 'keepdims'],
  min: ['axis', 'keepdims'],
  argmax: ['axis', 'keepdims'],
  argmin: ['axis', 'keepdims'],
  any: ['axis', 'keepdims'],
  all: ['axis', 'keepdims'],
  mean: ['axis', 'keepdims', 'dtype'],
  var: ['axis', 'keepdims', 'ddof'],
  std: ['axis', 'keepdims', 'ddof'],
  logsumexp: ['axis', 'keepdims'],
  countNonzero: ['axis', 'keepdims'],
  softmax: ['axis'],
  logSoftmax: ['axis'],
};

/** How many positional arguments after the array each entry takes (dtype is options-only). */
const ENTRY_POSITIONAL: Readonly<Record<ReduceEntry, number>> = {
  sum: 2,
  prod: 2,
  max: 2,
  min: 2,
  argmax: 2,
  argmin: 2,
  any: 2,
  all: 2,
  mean: 2,
  var: 3,
  std: 3,
  logsumexp: 2,
  countNonzero: 2,
  softmax: 1,
  logSoftmax: 1,
};

function usageOf(fn: ReduceEntry): string {
  const keys = ENTRY_KEYS[fn];
  const positional = keys.slice(0, ENTRY_POSITIONAL[fn]);
  return `${fn}(x, { ${keys.join(', ')} }) or ${fn}(x, ${positional.join(', ')})`;
}

/**
 * @internal One reduction call from its public function or method: `argc` is how many
 * arguments the caller got (the array included), `second` an options object or the
 * positional axis, `keepdims` and `ddof` the positional rest.
 */
export function reduceEntry(fn: ReduceEntry, argc: number, a: ArrayLike, second: unknown, keepdims?: unknown, ddof?: unknown): MetalArray {
  let axis: Axes;
  let keep: unknown = keepdims;
  let dtype: unknown;
  let dof: unknown = ddof;
  if (isOptionsObject(second)) {
    checkArgCount(fn, argc, 2, usageOf(fn));
    const o = checkOptions(fn, second as Record<string, unknown>, ENTRY_KEYS[fn]);
    axis = o.axis as Axes;
    keep = o.keepdims;
    dtype = o.dtype;
    dof = o.ddof;
  } else {
    checkArgCount(fn, argc, 1 + ENTRY_POSITIONAL[fn], usageOf(fn));
    axis = second as Axes;
  }
  const k = keep === undefined ? false : (keep as boolean);
  switch (fn) {
    case 'sum':
    case 'prod':
      return reduceOp(fn, a, axis, k, fn, dtype === undefined ? undefined : (dtype as DType));
    case 'max':
    case 'min':
    case 'any':
    case 'all':
    case 'argmax':
    case 'argmin':
      return reduceOp(fn, a, axis, k);
    case 'mean':
      return meanOf(a, axis, k, dtype);
    case 'var':
      return varianceOf('var', a, axis, k, dof === undefined ? 0 : dof);
    case 'std':
      return stdOf(a, axis, k, dof === undefined ? 0 : dof);
    case 'logsumexp':
      return logsumexpOf(a, axis, k);
    case 'countNonzero':
      return countNonzeroOf(a, axis, k);
    case 'softmax':
      return softmaxOf(a, axis === undefined ? -1 : axis);
    case 'logSoftmax':
      return logSoftmaxOf(a, axis === undefined ? -1 : axis);
  }
}

/**
 * Sum over axes (all by default); empty sums are 0. bool and integers narrower than 32
 * bits accumulate in and return int32 (uint32 for unsigned), as MLX and JAX, so a sum
 * of uint8 pixels does not wrap; 32- and 64-bit integers keep their dtype (and wrap);
 * `dtype` chooses the dtype to accumulate in and return.
 *
 * @example
 * ```ts
 * const image = ma.full([512, 512], 200, 'uint8');
 * console.log(ma.sum(image).item()); // 52428800
 * ma.sum(ma.ones([2, 3]), { axis: 1, keepdims: true }); // [[3], [3]]
 * ma.sum(ma.ones([2, 3]), 1);                           // positional form: [3, 3]
 * ma.sum(image, { dtype: 'uint8' });                    // wraps in uint8, as NumPy's sum(dtype=uint8)
 * ```
 */
export function sum<D extends DType, T extends DType = AccumulationOf<D>>(a: MetalArray<D>, options?: AccumulateOptions<T>): MetalArray<T>;
export function sum<D extends DType>(a: MetalArray<D>, axis?: Axes, keepdims?: boolean): MetalArray<AccumulationOf<D>>;
export function sum(a: ArrayLike, axis?: Axes | AccumulateOptions, keepdims?: boolean): MetalArray;
export function sum(a: ArrayLike, axis?: Axes | AccumulateOptions, keepdims?: boolean): MetalArray {
  return reduceEntry('sum', arguments.length, a, axis, keepdims);
}

/**
 * Product over axes; empty products are 1. Accumulates as `sum` does (bool and narrow
 * integers in int32/uint32; `dtype` to choose).
 *
 * @example
 * ```ts
 * console.log(ma.prod(ma.array([1, 2, 3, 4], 'int8')).item()); // 24
 * ma.prod(ma.ones([2, 3]), { axis: 0 });                       // [1, 1, 1]
 * ```
 */
export function prod<D extends DType, T extends DType = AccumulationOf<D>>(a: MetalArray<D>, options?: AccumulateOptions<T>): MetalArray<T>;
export function prod<D extends DType>(a: MetalArray<D>, axis?: Axes, keepdims?: boolean): MetalArray<AccumulationOf<D>>;
export function prod(a: ArrayLike, axis?: Axes | AccumulateOptions, keepdims?: boolean): MetalArray;
export function prod(a: ArrayLike, axis?: Axes | AccumulateOptions, keepdims?: boolean): MetalArray {
  return reduceEntry('prod', arguments.length, a, axis, keepdims);
}

/**
 * Maximum over axes (NaN propagates); an empty reduction is a ShapeError.
 *
 * @example
 * ```ts
 * ma.max(ma.array([[1, 5], [7, 2]]), { axis: 1 }); // [5, 7]
 * ```
 */
export function max<D extends DType>(a: MetalArray<D>, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<D>;
export function max(a: ArrayLike, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray;
export function max(a: ArrayLike, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray {
  return reduceEntry('max', arguments.length, a, axis, keepdims);
}

/**
 * Minimum over axes (NaN propagates); an empty reduction is a ShapeError.
 *
 * @example
 * ```ts
 * ma.min(ma.array([[1, 5], [7, 2]]), { axis: 0, keepdims: true }); // [[1, 2]]
 * ```
 */
export function min<D extends DType>(a: MetalArray<D>, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<D>;
export function min(a: ArrayLike, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray;
export function min(a: ArrayLike, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray {
  return reduceEntry('min', arguments.length, a, axis, keepdims);
}

/**
 * Index of the first maximum along an axis (over the flattened array by default); NaN
 * counts as the maximum. int32, or int64 past 2^31 - 1 elements.
 *
 * @example
 * ```ts
 * ma.argmax(ma.array([[1, 5], [7, 2]]), { axis: 1 }); // [1, 0]
 * ```
 */
export function argmax(a: ArrayLike, axis?: number | null | ArgReduceOptions, keepdims?: boolean): MetalArray<'int32' | 'int64'> {
  return reduceEntry('argmax', arguments.length, a, axis, keepdims) as MetalArray<'int32' | 'int64'>;
}

/**
 * Index of the first minimum along an axis (over the flattened array by default); NaN
 * counts as the minimum. int32, or int64 past 2^31 - 1 elements.
 *
 * @example
 * ```ts
 * ma.argmin(ma.array([3, 1, 2])); // 1
 * ```
 */
export function argmin(a: ArrayLike, axis?: number | null | ArgReduceOptions, keepdims?: boolean): MetalArray<'int32' | 'int64'> {
  return reduceEntry('argmin', arguments.length, a, axis, keepdims) as MetalArray<'int32' | 'int64'>;
}

/**
 * True where any element along the axes is non-zero. A MetalArray is an object, so
 * `if (ma.any(x))` is always true in JavaScript: read it with `.item()`.
 *
 * @example
 * ```ts
 * if (ma.any(ma.array([0, 0, 1]), { axis: 0 }).item()) console.log('some');
 * ```
 */
export function any(a: ArrayLike, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<'bool'> {
  return reduceEntry('any', arguments.length, a, axis, keepdims) as MetalArray<'bool'>;
}

/**
 * True where every element along the axes is non-zero (read with `.item()` in an `if`).
 *
 * @example
 * ```ts
 * ma.all(ma.array([[1, 0], [1, 1]]), { axis: 1 }); // [false, true]
 * ```
 */
export function all(a: ArrayLike, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<'bool'> {
  return reduceEntry('all', arguments.length, a, axis, keepdims) as MetalArray<'bool'>;
}

function floatOf(op: string, a: ArrayLike): MetalArray {
  const [n] = operandNodes(op, [a]);
  return MetalArray.fromNode(castNode(n, isFloat(n.dtype) ? n.dtype : 'float32'));
}

function countOf(op: string, a: ArrayLike, axis: Axes): number {
  const [n] = operandNodes(op, [a]);
  return normalizeAxes(op, axis, n.shape.length).reduce((p, d) => p * n.shape[d], 1);
}

/** float16/bfloat16 statistics are computed in float32 and rounded once at the end (as NumPy). */
function viaFloat32(x: MetalArray, f: (x32: MetalArray) => MetalArray): MetalArray {
  const d = x.dtype;
  if (d !== 'float16' && d !== 'bfloat16') return f(x);
  return f(x.astype('float32')).astype(d);
}

function meanOf(a: ArrayLike, axis: Axes, keepdims: boolean, dtype: unknown): MetalArray {
  const n = countOf('mean', a, axis);
  let x = floatOf('mean', a);
  if (dtype !== undefined) {
    const d = checkAccumulationDType('mean', dtype, x.backend);
    if (!isFloat(d)) throw new DTypeError(`mean: dtype must be a float dtype (float16, bfloat16, float32, float64), got '${d}'`);
    x = MetalArray.fromNode(castNode(x.liveNode('mean'), d));
  }
  return viaFloat32(x, (x32) => binary('divide', reduceOp('sum', x32, axis, keepdims), n));
}

/**
 * Arithmetic mean over axes; integers give float32, float16/bfloat16 accumulate in
 * float32; `dtype` (a float dtype) chooses the dtype to compute in and return.
 *
 * @example
 * ```ts
 * ma.mean(ma.array([[1, 2], [3, 4]]), { axis: 0 }); // [2, 3]
 * ma.mean(ma.array([1, 2], 'int32'), { dtype: 'float64' }); // 1.5 (float64)
 * ```
 */
export function mean<D extends DType, T extends DType = FloatOf<D>>(a: MetalArray<D>, options?: MeanOptions<T>): MetalArray<T>;
export function mean<D extends DType>(a: MetalArray<D>, axis?: Axes, keepdims?: boolean): MetalArray<FloatOf<D>>;
export function mean(a: ArrayLike, axis?: Axes | MeanOptions, keepdims?: boolean): MetalArray;
export function mean(a: ArrayLike, axis?: Axes | MeanOptions, keepdims?: boolean): MetalArray {
  return reduceEntry('mean', arguments.length, a, axis, keepdims);
}

function checkDdof(op: string, ddof: unknown): number {
  if (typeof ddof !== 'number' || !Number.isFinite(ddof)) throw new ArgumentError(`${op}: ddof must be a finite number, got ${formatValue(ddof)}`);
  return ddof;
}

function varianceOf(op: string, a: ArrayLike, axis: Axes, keepdims: boolean, ddof: unknown): MetalArray {
  const dof = checkDdof(op, ddof);
  const n = countOf(op, a, axis);
  return viaFloat32(floatOf(op, a), (x) => {
    const centered = binary('subtract', x, meanOf(x, axis, true, undefined));
    return binary('divide', reduceOp('sum', binary('multiply', centered, centered), axis, keepdims), Math.max(0, n - dof));
  });
}

/**
 * Variance over axes with `ddof` delta degrees of freedom, computed in two passes
 * (accurate for large offsets). Exported as `ma.var`.
 *
 * @example
 * ```ts
 * ma.var(ma.array([1, 2, 3, 4]), { ddof: 1 }); // 1.6666666
 * ma.var(ma.array([[1, 2], [3, 4]]), 1);       // positional axis: [0.25, 0.25]
 * ```
 */
export function variance<D extends DType>(a: MetalArray<D>, axis?: Axes | VarianceOptions, keepdims?: boolean, ddof?: number): MetalArray<FloatOf<D>>;
export function variance(a: ArrayLike, axis?: Axes | VarianceOptions, keepdims?: boolean, ddof?: number): MetalArray;
export function variance(a: ArrayLike, axis?: Axes | VarianceOptions, keepdims?: boolean, ddof?: number): MetalArray {
  return reduceEntry('var', arguments.length, a, axis, keepdims, ddof);
}

/**
 * The shift that keeps exp from overflowing: the finite maximum, a constant for
 * differentiation (the results do not depend on it, so its gradient is zero; walking
 * through the max would cost a reduction and kernels for nothing, as in JAX). The fresh
 * `where` node itself is marked, so the forward kernels are unchanged.
 */
function stableShift(m: MetalArray): MetalArray {
  const shift = where(unary('isfinite', m), m, 0);
  markStopped(shift.liveNode('softmax'));
  return shift;
}

function stdOf(a: ArrayLike, axis: Axes, keepdims: boolean, ddof: unknown): MetalArray {
  return viaFloat32(floatOf('std', a), (x) => unary('sqrt', varianceOf('std', x, axis, keepdims, ddof)));
}

/**
 * Standard deviation over axes (`ddof` as in var).
 *
 * @example
 * ```ts
 * ma.std(ma.array([1, 2, 3, 4]), { axis: 0 }); // 1.118034
 * ```
 */
export function std<D extends DType>(a: MetalArray<D>, axis?: Axes | VarianceOptions, keepdims?: boolean, ddof?: number): MetalArray<FloatOf<D>>;
export function std(a: ArrayLike, axis?: Axes | VarianceOptions, keepdims?: boolean, ddof?: number): MetalArray;
export function std(a: ArrayLike, axis?: Axes | VarianceOptions, keepdims?: boolean, ddof?: number): MetalArray {
  return reduceEntry('std', arguments.length, a, axis, keepdims, ddof);
}

function logsumexpOf(a: ArrayLike, axis: Axes, keepdims: boolean): MetalArray {
  const x = floatOf('logsumexp', a);
  const m = reduceOp('max', x, axis, true, 'logsumexp');
  const shift = stableShift(m);
  const s = reduceOp('sum', unary('exp', binary('subtract', x, shift)), axis, true, 'logsumexp');
  const out = binary('add', unary('log', s), shift);
  const axes = normalizeAxes('logsumexp', axis, x.ndim);
  return keepdims ? out : out.squeeze(axes);
}

/**
 * log(sum(exp(x))) over axes, without overflow (shifted by the finite maximum).
 *
 * @example
 * ```ts
 * ma.logsumexp(ma.array([[0, 0], [1, 1]]), { axis: 1 }); // [0.6931472, 1.6931472]
 * ```
 */
export function logsumexp<D extends DType>(a: MetalArray<D>, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<FloatOf<D>>;
export function logsumexp(a: ArrayLike, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray;
export function logsumexp(a: ArrayLike, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray {
  return reduceEntry('logsumexp', arguments.length, a, axis, keepdims);
}

function countNonzeroOf(a: ArrayLike, axis: Axes, keepdims: boolean): MetalArray {
  const [n] = operandNodes('countNonzero', [a]);
  return reduceOp('sum', MetalArray.fromNode(castNode(castNode(n, 'bool'), 'int32')), axis, keepdims, 'countNonzero');
}

/**
 * Number of non-zero elements over axes (int32).
 *
 * @example
 * ```ts
 * ma.countNonzero(ma.array([[0, 1], [2, 3]]), { axis: 1 }); // [1, 2]
 * ```
 */
export function countNonzero(a: ArrayLike, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<'int32'> {
  return reduceEntry('countNonzero', arguments.length, a, axis, keepdims) as MetalArray<'int32'>;
}

function softmaxOf(a: ArrayLike, axis: Axes): MetalArray {
  const x = floatOf('softmax', a);
  const m = reduceOp('max', x, axis, true, 'softmax');
  const e = unary('exp', binary('subtract', x, stableShift(m)));
  return binary('multiply', e, unary('reciprocal', reduceOp('sum', e, axis, true, 'softmax')));
}

/**
 * Softmax along an axis (the last by default).
 *
 * @example
 * ```ts
 * ma.softmax(ma.array([[1, 1], [0, 0]]), { axis: -1 }); // [[0.5, 0.5], [0.5, 0.5]]
 * ```
 */
export function softmax<D extends DType>(a: MetalArray<D>, axis?: Axes | SoftmaxOptions): MetalArray<FloatOf<D>>;
export function softmax(a: ArrayLike, axis?: Axes | SoftmaxOptions): MetalArray;
export function softmax(a: ArrayLike, axis?: Axes | SoftmaxOptions): MetalArray {
  return reduceEntry('softmax', arguments.length, a, axis);
}

function logSoftmaxOf(a: ArrayLike, axis: Axes): MetalArray {
  const x = floatOf('logSoftmax', a);
  const m = reduceOp('max', x, axis, true, 'logSoftmax');
  const shifted = binary('subtract', x, stableShift(m));
  return binary('subtract', shifted, unary('log', reduceOp('sum', unary('exp', shifted), axis, true, 'logSoftmax')));
}

/**
 * log(softmax(x)) along an axis (the last by default), computed without the log of a quotient.
 *
 * @example
 * ```ts
 * ma.logSoftmax(ma.array([0, 0]), { axis: 0 }); // [-0.6931472, -0.6931472]
 * ```
 */
export function logSoftmax<D extends DType>(a: MetalArray<D>, axis?: Axes | SoftmaxOptions): MetalArray<FloatOf<D>>;
export function logSoftmax(a: ArrayLike, axis?: Axes | SoftmaxOptions): MetalArray;
export function logSoftmax(a: ArrayLike, axis?: Axes | SoftmaxOptions): MetalArray {
  return reduceEntry('logSoftmax', arguments.length, a, axis);
}

const NORM_KEYS = ['ord', 'axis', 'keepdims'] as const;

/**
 * Vector and matrix norms. For a vector (or over one axis): `ord` 2 (default), 1,
 * Infinity, -Infinity, or any p > 0. Over two axes (or a matrix with no axis): the
 * Frobenius norm ('fro', the default). Options `{ ord, axis, keepdims }` or positional
 * `norm(x, ord, axis, keepdims)`.
 *
 * @example
 * ```ts
 * ma.norm(ma.array([3, 4])); // 5
 * ma.norm(ma.array([[3, 4], [6, 8]]), { ord: 1, axis: 1 }); // [7, 14]
 * ```
 */
export function norm<D extends DType>(a: MetalArray<D>, ord?: number | 'fro' | null | NormOptions, axis?: Axes, keepdims?: boolean): MetalArray<FloatOf<D>>;
export function norm(a: ArrayLike, ord?: number | 'fro' | null | NormOptions, axis?: Axes, keepdims?: boolean): MetalArray;
export function norm(a: ArrayLike, ord?: number | 'fro' | null | NormOptions, axis?: Axes, keepdims?: boolean): MetalArray {
  const usage = 'norm(x, { ord, axis, keepdims }) or norm(x, ord, axis, keepdims)';
  if (isOptionsObject(ord)) {
    checkArgCount('norm', arguments.length, 2, usage);
    const o = checkOptions('norm', ord as NormOptions, NORM_KEYS);
    return normOf(a, o.ord ?? null, o.axis, o.keepdims ?? false);
  }
  checkArgCount('norm', arguments.length, 4, usage);
  return normOf(a, ord ?? null, axis, keepdims ?? false);
}

function normOf(a: ArrayLike, ord: number | 'fro' | null, axis: Axes, keepdims: boolean): MetalArray {
  if (typeof keepdims !== 'boolean') throw new ArgumentError(`norm: keepdims must be a boolean, got ${formatValue(keepdims)}`);
  const x = floatOf('norm', a);
  const sumOf = (v: MetalArray, axes: readonly number[]): MetalArray => reduceOp('sum', v, axes, keepdims, 'norm');
  const axes = axis === undefined || axis === null ? [...Array(x.ndim).keys()] : normalizeAxes('norm', axis, x.ndim);
  const matrix = axes.length === 2 && (axis !== undefined && axis !== null ? true : x.ndim === 2);
  if (matrix || (axes.length > 2 && (ord === null || ord === 'fro'))) {
    if (ord !== null && ord !== 'fro')
      throw new ArgumentError(`norm: only the Frobenius norm ('fro') is supported over ${axes.length} axes, got ${formatValue(ord)}`);
    return unary('sqrt', sumOf(binary('multiply', x, x), axes));
  }
  const p = ord === null ? 2 : ord;
  if (p === 'fro') return unary('sqrt', sumOf(binary('multiply', x, x), axes));
  if (typeof p !== 'number' || Number.isNaN(p)) throw new ArgumentError(`norm: bad ord ${formatValue(ord)}`);
  const ax = unary('abs', x);
  if (p === Number.POSITIVE_INFINITY) return reduceOp('max', ax, axes, keepdims, 'norm');
  if (p === Number.NEGATIVE_INFINITY) return reduceOp('min', ax, axes, keepdims, 'norm');
  if (p === 1) return sumOf(ax, axes);
  if (p === 2) return unary('sqrt', sumOf(binary('multiply', x, x), axes));
  if (p === 0) return sumOf(binary('notEqual', x, 0).astype(x.dtype), axes);
  return binary('power', sumOf(binary('power', ax, p), axes), 1 / p);
}

// Differentiation rules

/** The reduced cotangent (or output) broadcast back over the reduced axes. */
function spread(g: MetalArray, node: Primitive, like: MetalArray): MetalArray {
  return broadcastTo(expandDims(g, node.axes as readonly number[]), like.shape);
}

/** sum: the cotangent broadcast back; forward mode sums the tangent. */
const sumRule: NodeRule = {
  vjp({ node, inputs }, g) {
    return [spread(g, node, inputs[0])];
  },
  jvp({ node }, [t]) {
    return sum(t as MetalArray, node.axes as number[]);
  },
};

/**
 * For prod: the product of the other elements of each reduced group, from an exclusive
 * product from each side (exact where some elements are zero, unlike out / x).
 */
function productOfOthers(node: Primitive, x: MetalArray): MetalArray {
  const axes = node.axes as readonly number[];
  const rest = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const perm = [...rest, ...axes];
  const moved = transpose(x, perm);
  const grouped = reshape(moved, [...rest.map((d) => x.shape[d]), -1]);
  const last = grouped.ndim - 1;
  const others = binary('multiply', cumprod(grouped, last, false, false), cumprod(grouped, last, true, false));
  const back = reshape(others, moved.shape);
  const inverse = perm.map((_, d) => perm.indexOf(d));
  return transpose(back, inverse);
}

/** prod: each element's cotangent is the product of the others times the output's. */
const prodRule: NodeRule = {
  vjp({ node, inputs }, g) {
    return [binary('multiply', spread(g, node, inputs[0]), productOfOthers(node, inputs[0]))];
  },
  jvp({ node, inputs }, [t]) {
    return sum(binary('multiply', t as MetalArray, productOfOthers(node, inputs[0])), node.axes as number[]);
  },
};

/** max/min: the cotangent shared evenly by the elements equal to the extremum (JAX's rule). */
function extremumMask(node: Primitive, x: MetalArray, out: MetalArray): MetalArray {
  const hit = astype(binary('equal', x, spread(out, node, x)), x.dtype);
  return binary('divide', hit, spread(sum(hit, node.axes as number[]), node, x));
}

const extremumRule: NodeRule = {
  vjp({ node, inputs, output }, g) {
    return [binary('multiply', spread(g, node, inputs[0]), extremumMask(node, inputs[0], output))];
  },
  jvp({ node, inputs, output }, [t]) {
    return sum(binary('multiply', t as MetalArray, extremumMask(node, inputs[0], output)), node.axes as number[]);
  },
};

/** The reductions' rules; argmax/argmin/any/all have integer or bool results (no gradient). */
export const reduceRules = {
  sum: sumRule,
  prod: prodRule,
  max: extremumRule,
  min: extremumRule,
  argmax: 'zero',
  argmin: 'zero',
  any: 'zero',
  all: 'zero',
} as const;

// Batching rules

/** vmap: every reduction reduces the same axes, shifted past the leading batch axis (one kernel still). */
export const reduceBatching: Pick<BatchingTable, 'reduce'> = {
  reduce: (node, inputs, batched, size) => {
    const axes = (node.axes as readonly number[]).map((a) => a + 1);
    return reduceNode(node.op as ReduceOp, batchedInput(inputs, batched, 0, size), axes, node.dtype);
  },
};
