/**
 * Small array helpers shared by the linalg functions and their rules: matrix transpose,
 * triangles, identity, diagonal, and summing a broadcast gradient back to a shape.
 */
import type { MetalArray } from '../array/array.js';
import type { DType } from '../core/dtype.js';
import { eye } from '../ops/ranges.js';
import { tril, triu } from '../ops/indexing.js';
import { where } from '../ops/elementwise.js';
import '../ops/methods.js';

/** The transpose of the last two axes. */
export function mT(x: MetalArray): MetalArray {
  return x.swapaxes(-1, -2);
}

/** The n x n identity of `dtype`. */
export function identityOf(n: number, dtype: DType): MetalArray {
  return eye(n, null, 0, dtype);
}

/** The lower (k ≤ 0 below) and upper triangles of the last two axes. */
export const lowerOf = (x: MetalArray, k = 0): MetalArray => tril(x, k);
export const upperOf = (x: MetalArray, k = 0): MetalArray => triu(x, k);

/** The diagonal of the last two axes ([..., min(M, N - k)] for offset k ≥ 0), by a mask (NaN elsewhere stays out). */
export function diagonalOf(x: MetalArray, offset = 0): MetalArray {
  const m = x.shape[x.ndim - 2];
  const n = x.shape[x.ndim - 1];
  const mask = eye(m, n, offset, 'bool');
  const picked = where(mask, x, 0);
  if (offset >= 0) {
    const len = Math.max(0, Math.min(m, n - offset));
    return picked.sum(-1).slice(`..., 0:${len}`);
  }
  const len = Math.max(0, Math.min(n, m + offset));
  return picked.sum(-2).slice(`..., 0:${len}`);
}

/** A matrix with `d` ([..., n]) on its diagonal. */
export function diagMatrix(d: MetalArray): MetalArray {
  const n = d.shape[d.ndim - 1];
  return d.expandDims(-1).multiply(identityOf(n, d.dtype));
}

/** `g` summed over the axes that broadcasting added to reach its shape from `shape`. */
export function sumTo(g: MetalArray, shape: readonly number[]): MetalArray {
  let x = g;
  const extra = x.ndim - shape.length;
  if (extra > 0) x = x.sum([...Array(extra).keys()]);
  const ones = shape.flatMap((d, i) => (d === 1 && x.shape[i] !== 1 ? [i] : []));
  if (ones.length > 0) x = x.sum(ones, true);
  return x;
}

/** ½(X + Xᵀ) over the last two axes. */
export function symmetrize(x: MetalArray): MetalArray {
  return x.add(mT(x)).multiply(0.5);
}

/** Machine epsilon of a float dtype. */
export function epsOf(dtype: DType): number {
  return dtype === 'float64' ? 2 ** -52 : dtype === 'float32' ? 2 ** -23 : 2 ** -10;
}
