/**
 * Reductions over one axis, a list of axes, or all axes, and the composites built on
 * them (mean, var, std, logsumexp, softmax, logSoftmax, norm). A reduction is one node;
 * the scheduler fuses its elementwise producers in front of it, its same-shape
 * consumers behind it, and inlines it (hoisted per row) into elementwise work it is
 * broadcast back into, so softmax and layer norm take at most two kernels.
 */
import { MetalArray } from '../array/array.js';
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { castNode, constNode, reduceNode } from '../core/build.js';
import { type DType, isFloat } from '../core/dtype.js';
import type { Node, ReduceOp } from '../core/node.js';
import { astype, binary, unary, where } from './elementwise.js';
import { broadcastTo, expandDims, reshape, transpose } from './movement.js';
import { cumprod } from './scan.js';
import type { NodeRule, Primitive } from '../transforms/rules.js';
import { markStopped } from '../transforms/autodiff.js';
import { type ArrayLike, nodeOf, normalizeAxis, operandNodes } from './operand.js';
import { type BatchingTable, batchedInput } from '../transforms/batching.js';

/** Which axes to reduce: one, several, or (undefined/null) all. */
export type Axes = number | readonly number[] | null | undefined;

function normalizeAxes(op: string, axis: Axes, rank: number): number[] {
  if (axis === undefined || axis === null) return [...Array(rank).keys()];
  const list = typeof axis === 'number' ? [axis] : Array.isArray(axis) ? axis : null;
  if (list === null) throw new ArgumentError(`${op}: axis must be an integer, a list of integers or null, got ${formatValue(axis)}`);
  const axes = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(axes).size !== axes.length) throw new ShapeError(`${op}: repeated axis in [${list.join(', ')}]`);
  return axes.sort((a, b) => a - b);
}

function keepDims(out: MetalArray, axes: readonly number[], keepdims: boolean): MetalArray {
  return keepdims && axes.length > 0 ? expandDims(out, axes) : out;
}

/** The result dtype of a reduction of `dtype`. */
function reduceDType(op: ReduceOp, dtype: DType): DType {
  switch (op) {
    case 'sum':
    case 'prod':
      return dtype === 'bool' ? 'int32' : dtype;
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

/** A single reduction node over normalized axes, with NumPy's empty-reduction rules. */
function reduceOp(op: ReduceOp, a: ArrayLike, axis: Axes, keepdims: boolean, opName: string = op): MetalArray {
  if (typeof keepdims !== 'boolean') throw new ArgumentError(`${opName}: keepdims must be a boolean, got ${formatValue(keepdims)}`);
  const [n0] = operandNodes(opName, [a]);
  const axes = normalizeAxes(opName, axis, n0.shape.length);
  if ((op === 'argmax' || op === 'argmin') && axes.length !== 1 && n0.shape.length > 1 && axis !== undefined && axis !== null) {
    throw new ShapeError(`${opName}: takes a single axis, got [${axes.join(', ')}]`);
  }
  const reducedSize = axes.reduce((p, d) => p * n0.shape[d], 1);
  // As NumPy: an empty reduced extent has no identity for these ops, whatever the output size.
  if (reducedSize === 0 && (op === 'max' || op === 'min' || op === 'argmax' || op === 'argmin')) {
    throw new ShapeError(`${opName}: zero-size reduction over axes [${axes.join(', ')}] of shape [${n0.shape.join(', ')}] has no identity`);
  }
  const input = op === 'any' || op === 'all' ? castNode(n0, 'bool') : op === 'sum' || op === 'prod' ? castNode(n0, reduceDType(op, n0.dtype)) : n0;
  if (axes.length === 0) {
    // Nothing to reduce: the array itself, or for argmax/argmin the only index, 0.
    if (op === 'argmax' || op === 'argmin') return MetalArray.fromNode(constNode(0, input.shape, 'int32', input.backend));
    return MetalArray.fromNode(input);
  }
  // argmax over all axes of an n-d array is the index into the flattened array.
  const flatArg = (op === 'argmax' || op === 'argmin') && axes.length > 1;
  const src = flatArg ? nodeOf(MetalArray.fromNode(input).reshape(-1), opName) : input;
  // An index past int32's range needs int64 (argmax over more than 2^31 - 1 elements).
  const resultDType = (op === 'argmax' || op === 'argmin') && reducedSize > 2 ** 31 - 1 ? 'int64' : reduceDType(op, n0.dtype);
  const twoStage = splitFullReduction(op, input, axes, resultDType);
  if (twoStage) return keepDims(twoStage, axes, keepdims);
  const out = MetalArray.fromNode(reduceNode(op, src, flatArg ? [0] : axes, resultDType));
  // Flattened argmax with keepdims keeps every axis, as 1 (NumPy).
  if (flatArg) return keepdims ? out.reshape(n0.shape.map(() => 1)) : out;
  return keepDims(out, axes, keepdims);
}

/** Below this many elements a full reduction runs as one kernel (one thread). */
const SPLIT_MIN = 1 << 21;

/** A full reduction is split into about this many parallel partial reductions. */
const SPLIT_PARTS = 64;

/**
 * A large reduction to one value has one output element, so one thread: it runs as about
 * SPLIT_PARTS parallel partial reductions and then one over the partials. The partials
 * are the leading dims of the input with one axis split in two ([..., p, d/p, ...]):
 * splitting a dim keeps the index math affine, where reshaping an n-d array to
 * [P, N/P] would need a division and a modulo per element. Float partials are rounded
 * once to float32/float64 (a rounding per 1/P of the sum; still within the pairwise
 * summation bound), so float16/bfloat16 stay single-stage.
 */
function splitFullReduction(op: ReduceOp, input: Node, axes: readonly number[], dtype: DType): MetalArray | null {
  if (op === 'argmax' || op === 'argmin' || axes.length !== input.shape.length || input.size < SPLIT_MIN) return null;
  if (input.dtype === 'float16' || input.dtype === 'bfloat16') return null;
  const shape = input.shape;
  let lead = 1;
  let split = shape.length;
  let parts = 1;
  for (let i = 0; i < shape.length; i++) {
    if (lead * shape[i] <= SPLIT_PARTS) {
      lead *= shape[i];
      continue;
    }
    split = i;
    parts = [64, 32, 16, 8, 4, 2].find((p) => lead * p <= SPLIT_PARTS && shape[i] % p === 0) ?? 1;
    break;
  }
  if (lead * parts < 2) return null;
  const splitShape = [...shape.slice(0, split), parts, shape[split] / parts, ...shape.slice(split + 1)];
  const rows = MetalArray.fromNode(input).reshape(...splitShape);
  const inner = splitShape.map((_, i) => i).slice(split + 1);
  const partial = MetalArray.fromNode(reduceNode(op, rows.liveNode(op), inner, dtype));
  // The same fold over the partials (already of the result dtype).
  const outer = partial.shape.map((_, i) => i);
  return MetalArray.fromNode(reduceNode(op, partial.liveNode(op), outer, dtype));
}

/** Sum over axes (all by default). Integers keep their dtype (and wrap); bool sums to int32; empty sums are 0. */
export function sum(a: ArrayLike, axis?: Axes, keepdims = false): MetalArray {
  return reduceOp('sum', a, axis, keepdims);
}
/** Product over axes. */
export function prod(a: ArrayLike, axis?: Axes, keepdims = false): MetalArray {
  return reduceOp('prod', a, axis, keepdims);
}
/** Maximum over axes (NaN propagates); an empty reduction is a ShapeError. */
export function max(a: ArrayLike, axis?: Axes, keepdims = false): MetalArray {
  return reduceOp('max', a, axis, keepdims);
}
/** Minimum over axes (NaN propagates); an empty reduction is a ShapeError. */
export function min(a: ArrayLike, axis?: Axes, keepdims = false): MetalArray {
  return reduceOp('min', a, axis, keepdims);
}
/** Index of the first maximum along an axis (over the flattened array by default); NaN counts as the maximum. int32. */
export function argmax(a: ArrayLike, axis?: number, keepdims = false): MetalArray {
  return reduceOp('argmax', a, axis, keepdims);
}
/** Index of the first minimum along an axis (over the flattened array by default); NaN counts as the minimum. int32. */
export function argmin(a: ArrayLike, axis?: number, keepdims = false): MetalArray {
  return reduceOp('argmin', a, axis, keepdims);
}
/** True where any element along the axes is non-zero. */
export function any(a: ArrayLike, axis?: Axes, keepdims = false): MetalArray {
  return reduceOp('any', a, axis, keepdims);
}
/** True where every element along the axes is non-zero. */
export function all(a: ArrayLike, axis?: Axes, keepdims = false): MetalArray {
  return reduceOp('all', a, axis, keepdims);
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

/** Arithmetic mean over axes; integers give float32, float16/bfloat16 accumulate in float32. */
export function mean(a: ArrayLike, axis?: Axes, keepdims = false): MetalArray {
  const n = countOf('mean', a, axis);
  return viaFloat32(floatOf('mean', a), (x) => binary('divide', sum(x, axis, keepdims), n));
}

/** Variance over axes with `ddof` delta degrees of freedom, computed in two passes (accurate for large offsets). */
export function variance(a: ArrayLike, axis?: Axes, keepdims = false, ddof = 0): MetalArray {
  if (typeof ddof !== 'number' || !Number.isFinite(ddof)) throw new ArgumentError(`var: ddof must be a number, got ${formatValue(ddof)}`);
  const n = countOf('var', a, axis);
  return viaFloat32(floatOf('var', a), (x) => {
    const centered = binary('subtract', x, mean(x, axis, true));
    return binary('divide', sum(binary('multiply', centered, centered), axis, keepdims), Math.max(0, n - ddof));
  });
}

/** Standard deviation over axes (`ddof` as in var). */
export function std(a: ArrayLike, axis?: Axes, keepdims = false, ddof = 0): MetalArray {
  return viaFloat32(floatOf('std', a), (x) => unary('sqrt', variance(x, axis, keepdims, ddof)));
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

/** log(sum(exp(x))) over axes, without overflow (shifted by the finite maximum). */
export function logsumexp(a: ArrayLike, axis?: Axes, keepdims = false): MetalArray {
  const x = floatOf('logsumexp', a);
  const m = max(x, axis, true);
  const shift = stableShift(m);
  const s = sum(unary('exp', binary('subtract', x, shift)), axis, true);
  const out = binary('add', unary('log', s), shift);
  const axes = normalizeAxes('logsumexp', axis, x.ndim);
  return keepdims ? out : out.squeeze(axes);
}

/** Number of non-zero elements over axes (int32). */
export function countNonzero(a: ArrayLike, axis?: Axes, keepdims = false): MetalArray {
  const [n] = operandNodes('countNonzero', [a]);
  return sum(MetalArray.fromNode(castNode(castNode(n, 'bool'), 'int32')), axis, keepdims);
}

/** Softmax along an axis (the last by default). */
export function softmax(a: ArrayLike, axis: Axes = -1): MetalArray {
  const x = floatOf('softmax', a);
  const m = max(x, axis, true);
  const e = unary('exp', binary('subtract', x, stableShift(m)));
  return binary('multiply', e, unary('reciprocal', sum(e, axis, true)));
}

/** log(softmax(x)) along an axis (the last by default), computed without the log of a quotient. */
export function logSoftmax(a: ArrayLike, axis: Axes = -1): MetalArray {
  const x = floatOf('logSoftmax', a);
  const m = max(x, axis, true);
  const shifted = binary('subtract', x, stableShift(m));
  return binary('subtract', shifted, unary('log', sum(unary('exp', shifted), axis, true)));
}

/**
 * Vector and matrix norms. For a vector (or over one axis): `ord` 2 (default), 1,
 * Infinity, -Infinity, or any p > 0. Over two axes (or a matrix with no axis): the
 * Frobenius norm ('fro', the default).
 */
export function norm(a: ArrayLike, ord: number | 'fro' | null = null, axis?: Axes, keepdims = false): MetalArray {
  const x = floatOf('norm', a);
  const axes = axis === undefined || axis === null ? [...Array(x.ndim).keys()] : normalizeAxes('norm', axis, x.ndim);
  const matrix = axes.length === 2 && (axis !== undefined && axis !== null ? true : x.ndim === 2);
  if (matrix || (axes.length > 2 && (ord === null || ord === 'fro'))) {
    if (ord !== null && ord !== 'fro')
      throw new ArgumentError(`norm: only the Frobenius norm ('fro') is supported over ${axes.length} axes, got ${formatValue(ord)}`);
    return unary('sqrt', sum(binary('multiply', x, x), axes, keepdims));
  }
  const p = ord === null ? 2 : ord;
  if (p === 'fro') return unary('sqrt', sum(binary('multiply', x, x), axes, keepdims));
  if (typeof p !== 'number' || Number.isNaN(p)) throw new ArgumentError(`norm: bad ord ${formatValue(ord)}`);
  const ax = unary('abs', x);
  if (p === Number.POSITIVE_INFINITY) return max(ax, axes, keepdims);
  if (p === Number.NEGATIVE_INFINITY) return min(ax, axes, keepdims);
  if (p === 1) return sum(ax, axes, keepdims);
  if (p === 2) return unary('sqrt', sum(binary('multiply', x, x), axes, keepdims));
  if (p === 0) return sum(binary('notEqual', x, 0).astype(x.dtype), axes, keepdims);
  return binary('power', sum(binary('power', ax, p), axes, keepdims), 1 / p);
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
