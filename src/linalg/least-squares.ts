/**
 * Least squares and rank on LAPACK and the SVD: `lstsq` (gelsd), `pinv`, `matrixRank`,
 * with JAX's differentiation rules for lstsq and pinv.
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { promoteTypes } from '../core/promotion.js';
import { ShapeError } from '../errors.js';
import { where } from '../ops/elementwise.js';
import { K, type MatrixLike, asLinalgFloat, checkInfo, checkMatrix, checkNumber, doubleBits, runRoutine, toArray, withRules } from './lapack.js';
import { svd } from './spectral.js';
import { epsOf, identityOf, mT } from './util.js';

/** Options of `lstsq`. */
export interface LstsqOptions {
  /** Singular values at most rcond · s_max count as zero (default: eps · max(m, n), as NumPy). */
  rcond?: number | null;
}

/**
 * The least-squares solution of `a @ x = b` (a [m, n], b [m] or [m, k]) as NumPy's
 * `lstsq` (LAPACK gelsd): `[x, residuals, rank, s]`, residuals the squared 2-norm of
 * each column of `b - a @ x` when rank = n < m (else empty), s a's singular values.
 *
 * @example
 * ```ts
 * const a = ma.array([[1, 0], [1, 1], [1, 2]], 'float64');
 * const [x, , rank] = ma.linalg.lstsq(a, ma.array([1, 2, 3], 'float64'));
 * console.log(x.round(12).tolist(), rank); // [ 1, 1 ] 2
 * ```
 */
export function lstsq(a: MatrixLike, b: MatrixLike, options: LstsqOptions = {}): [MetalArray, MetalArray, number, MetalArray] {
  checkArgCount('linalg.lstsq', arguments.length, 3, 'linalg.lstsq(a, b, { rcond })');
  const op = 'lstsq';
  const o = checkOptions(`linalg.${op}`, options, ['rcond'] as const);
  const ia = toArray(a, op);
  const ib = toArray(b, op);
  const fa0 = asLinalgFloat(op, ia);
  const fb0 = asLinalgFloat(op, ib);
  const dtype = promoteTypes(fa0.dtype, fb0.dtype) === 'float64' ? 'float64' : 'float32';
  const fa = fa0.astype(dtype);
  const fb = fb0.astype(dtype);
  if (fa.ndim !== 2) throw new ShapeError(`linalg.lstsq: a must be a matrix (2 dims), got shape [${fa.shape.join(', ')}]`);
  if (fb.ndim !== 1 && fb.ndim !== 2) throw new ShapeError(`linalg.lstsq: b must have 1 or 2 dims, got shape [${fb.shape.join(', ')}]`);
  const [m, n] = fa.shape;
  if (fb.shape[0] !== m)
    throw new ShapeError(`linalg.lstsq: a has ${m} rows but b has ${fb.shape[0]} (shapes [${fa.shape.join(', ')}] and [${fb.shape.join(', ')}])`);
  const vector = fb.ndim === 1;
  const k = vector ? 1 : fb.shape[1];
  const rcond = checkNumber(op, 'rcond', o.rcond) ?? epsOf(dtype) * Math.max(m, n);
  const bm = vector ? fb.reshape([m, 1]) : fb;
  const [x, s, rankArr, info] = runRoutine(
    op,
    K.lstsq,
    dtype,
    [fa, bm],
    [
      { shape: [n, k], dtype },
      { shape: [Math.min(m, n)], dtype },
      { shape: [], dtype: 'int32' },
      { shape: [], dtype: 'int32' },
    ],
    [m, n, k, doubleBits(rcond)],
    1,
    Math.max(m, n),
  );
  checkInfo(op, info, [], () => 'SVD did not converge in linear least squares');
  const rank = Number(rankArr.item());
  rankArr.dispose();
  const out = vector ? x.reshape([n]) : x;
  let residuals: MetalArray;
  if (rank === n && m > n) {
    const r = fa.matmul(x).subtract(bm);
    residuals = r.multiply(r).sum(0);
    if (vector) residuals = residuals.reshape([1]);
  } else residuals = fa.reshape([-1]).slice('0:0');
  // x = A⁺ b: the rules of pinv for full-rank A (JAX differentiates lstsq the same way).
  withRules(op, out, [ia, ib], {
    vjp: (g) => {
      const p = pinv(fa);
      const gm = vector ? g.reshape([n, 1]) : g;
      const gb = mT(p).matmul(gm);
      const ga = pinvVjp(fa, p, gm.matmul(mT(bm)));
      return [ga, vector ? gb.reshape([m]) : gb];
    },
    jvp: ([ta, tb]) => {
      const p = pinv(fa);
      let dx = tb === null ? null : p.matmul(vector ? (tb as MetalArray).reshape([m, 1]) : (tb as MetalArray));
      if (ta !== null) {
        const dpx = pinvJvp(fa, p, ta as MetalArray).matmul(bm);
        dx = dx === null ? dpx : dx.add(dpx);
      }
      return vector ? (dx as MetalArray).reshape([n]) : (dx as MetalArray);
    },
  });
  return [out, residuals, rank, s];
}

/** Options of `pinv` and `matrixRank`. */
export interface PinvOptions {
  /** Relative cutoff: singular values ≤ rtol · s_max count as zero (default max(m, n) · eps, NumPy 2's). */
  rtol?: number | null;
}

/**
 * The Moore-Penrose pseudo-inverse of each matrix of `a` ([..., m, n] → [..., n, m]),
 * from its SVD with small singular values cut (as NumPy's `pinv` with `rtol`).
 *
 * @example
 * ```ts
 * console.log(ma.linalg.pinv(ma.array([[2, 0], [0, 0]], 'float64')).tolist()); // [ [ 0.5, 0 ], [ 0, 0 ] ]
 * ```
 */
export function pinv(a: MatrixLike, options: PinvOptions = {}): MetalArray {
  checkArgCount('linalg.pinv', arguments.length, 2, 'linalg.pinv(a, { rtol })');
  const op = 'pinv';
  const o = checkOptions(`linalg.${op}`, options, ['rtol'] as const);
  const input = toArray(a, op);
  const x = asLinalgFloat(op, input);
  checkMatrix(op, x);
  const m = x.shape[x.ndim - 2];
  const n = x.shape[x.ndim - 1];
  const rtol = checkNumber(op, 'rtol', o.rtol) ?? Math.max(m, n) * epsOf(x.dtype);
  if (Math.min(m, n) === 0) return x.swapaxes(-1, -2).multiply(0);
  const [u, s, vh] = svd(x, { fullMatrices: false });
  const cutoff = s.max(-1, true).multiply(rtol);
  const sInv = where(s.greater(cutoff), s.reciprocal(), 0);
  const p = mT(vh).multiply(sInv.expandDims(-2)).matmul(mT(u));
  // JAX's pinv rule (Golub & Pereyra), for the rank the cutoff keeps.
  return withRules(op, p, [input], {
    vjp: (g) => [pinvVjp(x, p, g)],
    jvp: ([t]) => pinvJvp(x, p, t as MetalArray),
  });
}

/** dA⁺ = -A⁺ dA A⁺ + A⁺ A⁺ᵀ dAᵀ (I - A A⁺) + (I - A⁺ A) dAᵀ A⁺ᵀ A⁺. */
function pinvJvp(a: MetalArray, p: MetalArray, t: MetalArray): MetalArray {
  const m = a.shape[a.ndim - 2];
  const n = a.shape[a.ndim - 1];
  const im = identityOf(m, a.dtype);
  const inn = identityOf(n, a.dtype);
  const term1 = p.matmul(t).matmul(p).negative();
  const term2 = p
    .matmul(mT(p))
    .matmul(mT(t))
    .matmul(im.subtract(a.matmul(p)));
  const term3 = inn.subtract(p.matmul(a)).matmul(mT(t)).matmul(mT(p)).matmul(p);
  return term1.add(term2).add(term3);
}

/** The transpose of `pinvJvp` applied to the cotangent g ([..., n, m]). */
function pinvVjp(a: MetalArray, p: MetalArray, g: MetalArray): MetalArray {
  const m = a.shape[a.ndim - 2];
  const n = a.shape[a.ndim - 1];
  const im = identityOf(m, a.dtype);
  const inn = identityOf(n, a.dtype);
  const t1 = mT(p).matmul(g).matmul(mT(p)).negative();
  const t2 = im.subtract(a.matmul(p)).matmul(mT(g)).matmul(p).matmul(mT(p));
  const t3 = mT(p)
    .matmul(p)
    .matmul(mT(g))
    .matmul(inn.subtract(p.matmul(a)));
  return t1.add(t2).add(t3);
}

/**
 * The rank of each matrix of `a`: the number of singular values above
 * the cutoff (`tol`, absolute, or `rtol` · s_max; default rtol max(m, n) · eps, as
 * NumPy). A vector's rank is 1 unless it is all zeros. Returns int32 [...].
 *
 * @example
 * ```ts
 * console.log(ma.linalg.matrixRank(ma.array([[1, 2], [2, 4]], 'float64')).item()); // 1
 * ```
 */
export function matrixRank(a: MatrixLike, options: { tol?: number | null; rtol?: number | null } = {}): MetalArray {
  checkArgCount('linalg.matrixRank', arguments.length, 2, 'linalg.matrixRank(a, { tol, rtol })');
  const op = 'matrixRank';
  const o = checkOptions(`linalg.${op}`, options, ['tol', 'rtol'] as const);
  const x = asLinalgFloat(op, toArray(a, op));
  if (x.ndim < 2) return x.notEqual(0).any().astype('int32');
  const m = x.shape[x.ndim - 2];
  const n = x.shape[x.ndim - 1];
  const s = svd(x, { computeUv: false });
  const tol = checkNumber(op, 'tol', o.tol);
  const rtol = checkNumber(op, 'rtol', o.rtol) ?? Math.max(m, n) * epsOf(x.dtype);
  const cutoff = tol !== null ? tol : Math.min(m, n) === 0 ? 0 : s.max(-1, true).multiply(rtol);
  return s.greater(cutoff).astype('int32').sum(-1).astype('int32');
}
