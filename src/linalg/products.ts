/**
 * Linear-algebra functions built from other ops (lazy, fused, differentiable through
 * those ops): `norm` with every NumPy order, `cond`, `trace`, `diagonal`, `kron`,
 * `multiDot`, `cross`, `matrixPower`.
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { DTYPES } from '../core/dtype.js';
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { normalizeAxes, type Axes } from '../ops/reduce-core.js';
import { stack } from '../ops/join.js';
import { norm as vectorNorm } from '../ops/reduce.js';
import { type MatrixLike, asLinalgFloat, checkSquare, toArray } from './lapack.js';
import { inv } from './solve.js';
import { svd } from './spectral.js';
import { diagonalOf, identityOf } from './util.js';

/** A norm order as NumPy's: a number (Infinity included), 'fro' or 'nuc'. */
export type NormOrder = number | 'fro' | 'nuc';

/** Options of `norm`. */
export interface LinalgNormOptions {
  /** The order (default: 2-norm of vectors, Frobenius of matrices). */
  ord?: NormOrder | null;
  /** One axis (vector norm), two (matrix norm), or null/undefined: a vector or matrix input as a whole. */
  axis?: Axes;
  /** Keep the reduced axes as size 1. */
  keepdims?: boolean;
}

/**
 * Vector and matrix norms with all of NumPy's orders. Over one axis: any p (Infinity,
 * -Infinity, 0, p > 0, p < 0). Over two axes (a 2-d input by default): 'fro', 'nuc'
 * (sum of singular values), 1 / -1 (max / min column sum), Infinity / -Infinity (max /
 * min row sum), 2 / -2 (largest / smallest singular value).
 *
 * @example
 * ```ts
 * const a = ma.array([[1, -2], [3, 4]], 'float64');
 * console.log(ma.linalg.norm(a, { ord: 1 }).item(), ma.linalg.norm(a, { ord: Infinity }).item()); // 6 7
 * ```
 */
export function norm(x: MatrixLike, options: LinalgNormOptions = {}): MetalArray {
  checkArgCount('linalg.norm', arguments.length, 2, 'linalg.norm(x, { ord, axis, keepdims })');
  const op = 'norm';
  const o = checkOptions(`linalg.${op}`, options, ['ord', 'axis', 'keepdims'] as const);
  const keepdims = o.keepdims ?? false;
  if (typeof keepdims !== 'boolean') throw new ArgumentError(`linalg.norm: keepdims must be a boolean, got ${formatValue(keepdims)}`);
  const a = toArray(x, op);
  const f = DTYPES[a.dtype].kind === 'float' ? a : asLinalgFloat(op, a);
  const ord = o.ord ?? null;
  const axes = o.axis === undefined || o.axis === null ? null : normalizeAxes('linalg.norm', o.axis, f.ndim);
  if (axes === null && ord !== null && f.ndim > 2) throw new ArgumentError('linalg.norm: an ord needs a 1-d or 2-d input, or axis');
  const over = axes ?? [...Array(f.ndim).keys()];
  if (over.length === 1 || (axes === null && f.ndim === 1)) {
    if (ord === 'nuc' || ord === 'fro') throw new ArgumentError(`linalg.norm: ord ${formatValue(ord)} is a matrix norm; a vector norm takes a number`);
    return vectorOrder(f, ord, over, keepdims);
  }
  if (over.length !== 2) {
    if (ord !== null) throw new ArgumentError(`linalg.norm: a norm over ${over.length} axes takes no ord`);
    return vectorNorm(f, { ord: 2, axis: over, keepdims: false }).reshape(keepShape(f.shape, over, keepdims));
  }
  return matrixOrder(f, ord, over[0], over[1], keepdims);
}

function keepShape(shape: readonly number[], axes: readonly number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function vectorOrder(f: MetalArray, ord: number | string | null, axes: readonly number[], keepdims: boolean): MetalArray {
  const p = ord ?? 2;
  if (typeof p !== 'number' || Number.isNaN(p)) throw new ArgumentError(`linalg.norm: bad vector ord ${formatValue(ord)}`);
  if (p > 0 || p === 0 || p === Number.NEGATIVE_INFINITY) return vectorNorm(f, { ord: p, axis: axes, keepdims });
  // p < 0 (finite): (Σ |x|^p)^(1/p), as NumPy.
  return f
    .abs()
    .power(p)
    .sum(axes, keepdims)
    .power(1 / p);
}

function matrixOrder(f: MetalArray, ord: NormOrder | null, row: number, col: number, keepdims: boolean): MetalArray {
  const shape = keepShape(f.shape, [row, col], keepdims);
  if (ord === null || ord === 'fro') return vectorNorm(f, { ord: 'fro', axis: [row, col], keepdims });
  // Move the two axes last, so the singular values are over [..., row, col].
  const rest = [...Array(f.ndim).keys()].filter((i) => i !== row && i !== col);
  const moved = f.transpose([...rest, row, col]);
  if (ord === 'nuc' || ord === 2 || ord === -2) {
    const s = svd(moved, { computeUv: false });
    const r = ord === 'nuc' ? s.sum(-1) : ord === 2 ? s.max(-1) : s.min(-1);
    return r.reshape(shape);
  }
  const absm = moved.abs();
  if (ord === 1 || ord === -1) {
    const colSums = absm.sum(-2);
    return (ord === 1 ? colSums.max(-1) : colSums.min(-1)).reshape(shape);
  }
  if (ord === Number.POSITIVE_INFINITY || ord === Number.NEGATIVE_INFINITY) {
    const rowSums = absm.sum(-1);
    return (ord > 0 ? rowSums.max(-1) : rowSums.min(-1)).reshape(shape);
  }
  throw new ArgumentError(`linalg.norm: invalid matrix norm order ${formatValue(ord)} (use 'fro', 'nuc', 1, -1, 2, -2, Infinity or -Infinity)`);
}

/**
 * The condition number of each matrix of `x` in norm `p` (default 2: s_max / s_min;
 * -2: s_min / s_max; others: ‖x‖ · ‖x⁻¹‖ for square x), as NumPy.
 *
 * @example
 * ```ts
 * console.log(ma.linalg.cond(ma.array([[1, 0], [0, 4]], 'float64')).item()); // 4
 * ```
 */
export function cond(x: MatrixLike, p: NormOrder | null = null): MetalArray {
  checkArgCount('linalg.cond', arguments.length, 2, 'linalg.cond(x, p)');
  const op = 'cond';
  const a = asLinalgFloat(op, toArray(x, op));
  if (a.ndim < 2) throw new ShapeError(`linalg.cond: x must be a matrix or a stack of them, got shape [${a.shape.join(', ')}]`);
  if (p === null || p === 2 || p === -2) {
    const s = svd(a, { computeUv: false });
    return p === -2 ? s.min(-1).divide(s.max(-1)) : s.max(-1).divide(s.min(-1));
  }
  checkSquare(op, a);
  return norm(a, { ord: p, axis: [-2, -1] }).multiply(norm(inv(a), { ord: p, axis: [-2, -1] }));
}

/** Options of `trace` and `diagonal`. */
export interface DiagonalOptions {
  /** Which diagonal: 0 the main one, k > 0 above it, k < 0 below. */
  offset?: number;
}

/**
 * The diagonal of each matrix of `x` (the last two axes; [..., M, N] → [..., K]), as
 * NumPy's `linalg.diagonal`.
 *
 * @example
 * ```ts
 * console.log(ma.linalg.diagonal(ma.array([[1, 2], [3, 4]], 'float32')).tolist()); // [ 1, 4 ]
 * ```
 */
export function diagonal(x: MatrixLike, options: DiagonalOptions = {}): MetalArray {
  checkArgCount('linalg.diagonal', arguments.length, 2, 'linalg.diagonal(x, { offset })');
  const op = 'diagonal';
  const o = checkOptions(`linalg.${op}`, options, ['offset'] as const);
  const offset = o.offset ?? 0;
  if (!Number.isSafeInteger(offset)) throw new ArgumentError(`linalg.diagonal: offset must be an integer, got ${formatValue(offset)}`);
  const a = toArray(x, op);
  if (a.ndim < 2) throw new ShapeError(`linalg.diagonal: x must have at least 2 dims, got shape [${a.shape.join(', ')}]`);
  return diagonalOf(a, offset);
}

/**
 * The sum of the diagonal of each matrix of `x` ([..., M, N] → [...]), as NumPy's
 * `linalg.trace`.
 *
 * @example
 * ```ts
 * console.log(ma.linalg.trace(ma.array([[1, 2], [3, 4]], 'float32')).item()); // 5
 * ```
 */
export function trace(x: MatrixLike, options: DiagonalOptions = {}): MetalArray {
  checkArgCount('linalg.trace', arguments.length, 2, 'linalg.trace(x, { offset })');
  return diagonal(x, options).sum(-1);
}

/**
 * The Kronecker product of `a` and `b` (the lower-rank one padded with leading 1s), as
 * NumPy's `kron`.
 *
 * @example
 * ```ts
 * const k = ma.linalg.kron(ma.array([[1, 2]], 'float32'), ma.array([[1], [10]], 'float32'));
 * console.log(k.tolist()); // [ [ 1, 2 ], [ 10, 20 ] ]
 * ```
 */
export function kron(a: MatrixLike, b: MatrixLike): MetalArray {
  checkArgCount('linalg.kron', arguments.length, 2, 'linalg.kron(a, b)');
  const op = 'kron';
  let x = toArray(a, op);
  let y = toArray(b, op);
  const r = Math.max(x.ndim, y.ndim);
  x = x.reshape([...Array(r - x.ndim).fill(1), ...x.shape]);
  y = y.reshape([...Array(r - y.ndim).fill(1), ...y.shape]);
  // x[i0, 1, i1, 1, ...] · y[1, j0, 1, j1, ...], then merge each (i, j) pair.
  const xs = x.reshape(x.shape.flatMap((d) => [d, 1]));
  const ys = y.reshape(y.shape.flatMap((d) => [1, d]));
  return xs.multiply(ys).reshape(x.shape.map((d, i) => d * y.shape[i]));
}

/**
 * The product of two or more matrices in the cheapest order (dynamic programming over
 * the chain, as NumPy's `multi_dot`); the first may be a vector (a row), the last a
 * vector (a column).
 *
 * @example
 * ```ts
 * const a = ma.ones([10, 100]), b = ma.ones([100, 5]), c = ma.ones([5, 50]);
 * console.log(ma.linalg.multiDot([a, b, c]).shape); // [ 10, 50 ]
 * ```
 */
export function multiDot(arrays: readonly MatrixLike[]): MetalArray {
  checkArgCount('linalg.multiDot', arguments.length, 1, 'linalg.multiDot([a, b, c])');
  const op = 'multiDot';
  if (!Array.isArray(arrays) || arrays.length < 2) throw new ArgumentError('linalg.multiDot: expects a list of at least two arrays');
  const xs = arrays.map((a) => toArray(a, op));
  const firstVector = xs[0].ndim === 1;
  const lastVector = xs[xs.length - 1].ndim === 1;
  if (firstVector) xs[0] = xs[0].reshape([1, xs[0].shape[0]]);
  if (lastVector) xs[xs.length - 1] = xs[xs.length - 1].reshape([xs[xs.length - 1].shape[0], 1]);
  xs.forEach((x, i) => {
    if (x.ndim !== 2) throw new ShapeError(`linalg.multiDot: array ${i} must be 2-d (the first and last may be 1-d), got shape [${x.shape.join(', ')}]`);
  });
  const n = xs.length;
  const dims = [xs[0].shape[0], ...xs.map((x) => x.shape[1])];
  // cost[i][j]: cheapest multiply-adds for xs[i..j]; split[i][j]: where to split.
  const cost = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const split = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let len = 1; len < n; len++) {
    for (let i = 0; i + len < n; i++) {
      const j = i + len;
      cost[i][j] = Number.POSITIVE_INFINITY;
      for (let k = i; k < j; k++) {
        const c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1];
        if (c < cost[i][j]) {
          cost[i][j] = c;
          split[i][j] = k;
        }
      }
    }
  }
  const chain = (i: number, j: number): MetalArray => (i === j ? xs[i] : chain(i, split[i][j]).matmul(chain(split[i][j] + 1, j)));
  let out = chain(0, n - 1);
  if (firstVector && lastVector) out = out.reshape([]);
  else if (firstVector) out = out.reshape([out.shape[1]]);
  else if (lastVector) out = out.reshape([out.shape[0]]);
  return out;
}

/** Options of `cross`. */
export interface CrossOptions {
  /** The axis holding the 3-vectors (default -1). */
  axis?: number;
}

/**
 * The cross product of 3-element vectors along `axis` (broadcasting the rest), as
 * NumPy's `linalg.cross`.
 *
 * @example
 * ```ts
 * console.log(ma.linalg.cross(ma.array([1, 0, 0], 'float32'), ma.array([0, 1, 0], 'float32')).tolist()); // [ 0, 0, 1 ]
 * ```
 */
export function cross(a: MatrixLike, b: MatrixLike, options: CrossOptions = {}): MetalArray {
  checkArgCount('linalg.cross', arguments.length, 3, 'linalg.cross(a, b, { axis })');
  const op = 'cross';
  const o = checkOptions(`linalg.${op}`, options, ['axis'] as const);
  const x0 = toArray(a, op);
  const y0 = toArray(b, op);
  const axis = o.axis ?? -1;
  const x = x0.moveaxis(normalizeAxes('linalg.cross', axis, x0.ndim)[0], -1);
  const y = y0.moveaxis(normalizeAxes('linalg.cross', axis, y0.ndim)[0], -1);
  if (x.shape[x.ndim - 1] !== 3 || y.shape[y.ndim - 1] !== 3)
    throw new ShapeError(`linalg.cross: both inputs need 3 elements along axis ${axis}, got shapes [${x0.shape.join(', ')}] and [${y0.shape.join(', ')}]`);
  const c = (v: MetalArray, i: number): MetalArray => v.slice(`..., ${i}`);
  const parts = [
    c(x, 1)
      .multiply(c(y, 2))
      .subtract(c(x, 2).multiply(c(y, 1))),
    c(x, 2)
      .multiply(c(y, 0))
      .subtract(c(x, 0).multiply(c(y, 2))),
    c(x, 0)
      .multiply(c(y, 1))
      .subtract(c(x, 1).multiply(c(y, 0))),
  ];
  return stack(parts, -1).moveaxis(-1, axis);
}

/**
 * `x` raised to the integer power `n` (square x, [..., m, m]) by repeated squaring,
 * as NumPy's `matrix_power`; n < 0 inverts first, n = 0 gives identities.
 *
 * @example
 * ```ts
 * console.log(ma.linalg.matrixPower(ma.array([[1, 1], [0, 1]], 'float32'), 3).tolist()); // [ [ 1, 3 ], [ 0, 1 ] ]
 * ```
 */
export function matrixPower(x: MatrixLike, n: number): MetalArray {
  checkArgCount('linalg.matrixPower', arguments.length, 2, 'linalg.matrixPower(x, n)');
  const op = 'matrixPower';
  if (!Number.isSafeInteger(n)) throw new ArgumentError(`linalg.matrixPower: n must be an integer, got ${formatValue(n)}`);
  let a = toArray(x, op);
  const m = checkSquare(op, a);
  if (n === 0) return identityOf(m, a.dtype).broadcastTo(a.shape);
  if (n < 0) a = inv(a);
  let e = Math.abs(n);
  let result: MetalArray | null = null;
  let base = a;
  while (e > 0) {
    if (e & 1) result = result === null ? base : result.matmul(base);
    e = Math.floor(e / 2);
    if (e > 0) base = base.matmul(base);
  }
  return result as MetalArray;
}
