/**
 * Orthogonal factorizations and spectra on LAPACK: `qr`, `svd`, `svdvals`, `eigh`,
 * `eigvalsh`, `eig`, `eigvals`, with the differentiation rules of JAX for qr, svd and
 * eigh (least squares and the pseudo-inverse: least-squares.ts).
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { ArgumentError, formatValue } from '../errors.js';
import { where } from '../ops/elementwise.js';
import { K, type MatrixLike, asLinalgFloat, batchCount, checkInfo, checkMatrix, checkSquare, runRoutine, toArray, withRules } from './lapack.js';
import { solveTriangular } from './solve.js';
import { diagonalOf, identityOf, lowerOf, mT, symmetrize } from './util.js';

/** Options of `qr`. */
export interface QrOptions {
  /** 'reduced' (default: q [m, k], r [k, n]), 'complete' (q [m, m], r [m, n]) or 'r' (r [k, n] only); k = min(m, n). */
  mode?: 'reduced' | 'complete' | 'r';
}

/**
 * The QR factorization `a = q @ r` of each matrix of `a` ([..., m, n]): q with
 * orthonormal columns, r upper triangular, as NumPy (Householder, LAPACK geqrf/orgqr).
 * Returns `[q, r]`, or r alone with `{ mode: 'r' }`.
 *
 * @example
 * ```ts
 * const a = ma.array([[3, 1], [4, 2]], 'float64');
 * const [q, r] = ma.linalg.qr(a);
 * console.log(q.matmul(r).round(12).tolist()); // [ [ 3, 1 ], [ 4, 2 ] ]
 * ```
 */
export function qr(a: MatrixLike, options?: { mode?: 'reduced' | 'complete' }): [MetalArray, MetalArray];
export function qr(a: MatrixLike, options: { mode: 'r' }): MetalArray;
export function qr(a: MatrixLike, options: QrOptions = {}): [MetalArray, MetalArray] | MetalArray {
  checkArgCount('linalg.qr', arguments.length, 2, 'linalg.qr(a, { mode })');
  const op = 'qr';
  const o = checkOptions(`linalg.${op}`, options, ['mode'] as const);
  const mode = o.mode ?? 'reduced';
  if (mode !== 'reduced' && mode !== 'complete' && mode !== 'r')
    throw new ArgumentError(`linalg.qr: mode must be 'reduced', 'complete' or 'r', got ${formatValue(mode)}`);
  const input = toArray(a, op);
  const x = asLinalgFloat(op, input);
  checkMatrix(op, x);
  const m = x.shape[x.ndim - 2];
  const n = x.shape[x.ndim - 1];
  const k = Math.min(m, n);
  const batch = x.shape.slice(0, -2);
  const qCols = mode === 'complete' ? m : k;
  const rShape = [...batch, qCols, n];
  const code = mode === 'reduced' ? 0 : mode === 'complete' ? 1 : 2;
  const outs =
    mode === 'r'
      ? [{ shape: rShape, dtype: x.dtype }]
      : [
          { shape: [...batch, m, qCols], dtype: x.dtype },
          { shape: rShape, dtype: x.dtype },
        ];
  const res = runRoutine(op, K.qr, x.dtype, [x], outs, [m, n, code], batchCount(x.shape), Math.max(m, n));
  if (mode === 'r') return res[0];
  const [q, r] = res;
  if (mode === 'reduced' && m >= n) attachQrRules(input, q, r);
  return [q, r];
}

/**
 * JAX's QR rule (m ≥ n, reduced): with dA = dQ R + Q dR, C = Qᵀ dA R⁻¹,
 * dQ = Q (ω) + (dA - Q Qᵀ dA) R⁻¹ where ω = L(C) - L(C)ᵀ, dR = (C - ω) R.
 */
function attachQrRules(input: MetalArray, q: MetalArray, r: MetalArray): void {
  const rinvRight = (m: MetalArray): MetalArray => mT(solveTriangular(r, mT(m), { lower: false, trans: true })); // m R⁻¹
  const parts = (t: MetalArray): { dq: MetalArray; dr: MetalArray } => {
    const dar = rinvRight(t);
    const c = mT(q).matmul(dar);
    const low = lowerOf(c, -1);
    const omega = low.subtract(mT(low));
    const dq = q.matmul(omega).add(dar.subtract(q.matmul(mT(q).matmul(dar))));
    const dr = c.subtract(omega).matmul(r);
    return { dq, dr };
  };
  // Reverse: Ā = [Q̄ + Q copyltu(M)] R⁻ᵀ with M = R R̄ᵀ - Q̄ᵀ Q (the transpose of the JVP).
  const vjp = (gq: MetalArray | null, gr: MetalArray | null): MetalArray => {
    const qb = gq ?? q.multiply(0);
    const rb = gr ?? r.multiply(0);
    const mm = r.matmul(mT(rb)).subtract(mT(qb).matmul(q));
    const copyltu = lowerOf(mm, -1).add(mT(lowerOf(mm, 0)));
    const b = qb.add(q.matmul(copyltu));
    return mT(solveTriangular(r, mT(b), { lower: false })); // B R⁻ᵀ
  };
  withRules('qr', q, [input], { vjp: (g) => [vjp(g, null)], jvp: ([t]) => parts(t as MetalArray).dq });
  withRules('qr', r, [input], { vjp: (g) => [vjp(null, g)], jvp: ([t]) => parts(t as MetalArray).dr });
}

/** Options of `svd`. */
export interface SvdOptions {
  /** u [..., m, m] and vh [..., n, n] (default true, as NumPy), else [..., m, k] and [..., k, n]. */
  fullMatrices?: boolean;
  /** Compute u and vh (default true); false returns the singular values alone. */
  computeUv?: boolean;
}

/**
 * The singular value decomposition `a = u @ diag(s) @ vh` of each matrix of `a`
 * ([..., m, n]), as NumPy (LAPACK gesdd): `[u, s, vh]`, s descending ([..., k],
 * k = min(m, n)); with `{ computeUv: false }` s alone. A matrix holding NaN or ±Inf
 * gives NaN results.
 *
 * @example
 * ```ts
 * const a = ma.array([[3, 0], [0, -4]], 'float64');
 * const [u, s, vh] = ma.linalg.svd(a);
 * console.log(s.tolist()); // [ 4, 3 ]
 * ```
 */
export function svd(a: MatrixLike, options?: { fullMatrices?: boolean; computeUv?: true }): [MetalArray, MetalArray, MetalArray];
export function svd(a: MatrixLike, options: { fullMatrices?: boolean; computeUv: false }): MetalArray;
export function svd(a: MatrixLike, options: SvdOptions = {}): [MetalArray, MetalArray, MetalArray] | MetalArray {
  checkArgCount('linalg.svd', arguments.length, 2, 'linalg.svd(a, { fullMatrices, computeUv })');
  const op = 'svd';
  const o = checkOptions(`linalg.${op}`, options, ['fullMatrices', 'computeUv'] as const);
  for (const key of ['fullMatrices', 'computeUv'] as const)
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw new ArgumentError(`linalg.svd: ${key} must be a boolean, got ${formatValue(o[key])}`);
  const input = toArray(a, op);
  const x = asLinalgFloat(op, input);
  checkMatrix(op, x);
  const m = x.shape[x.ndim - 2];
  const n = x.shape[x.ndim - 1];
  const k = Math.min(m, n);
  const batch = x.shape.slice(0, -2);
  const dt = x.dtype;
  const notConverged = (): string => 'SVD did not converge';
  if (o.computeUv === false) {
    const [s, info] = runRoutine(
      op,
      K.svd,
      dt,
      [x],
      [
        { shape: [...batch, k], dtype: dt },
        { shape: batch, dtype: 'int32' },
      ],
      [m, n, 0],
      batchCount(x.shape),
      Math.max(m, n),
    );
    checkInfo(op, info, batch, notConverged);
    return attachSvdValueRules(input, x, s);
  }
  const full = o.fullMatrices ?? true;
  const uCols = full ? m : k;
  const vRows = full ? n : k;
  const [s, u, vh, info] = runRoutine(
    op,
    K.svd,
    dt,
    [x],
    [
      { shape: [...batch, k], dtype: dt },
      { shape: [...batch, m, uCols], dtype: dt },
      { shape: [...batch, vRows, n], dtype: dt },
      { shape: batch, dtype: 'int32' },
    ],
    [m, n, full ? 2 : 1],
    batchCount(x.shape),
    Math.max(m, n),
  );
  checkInfo(op, info, batch, notConverged);
  attachSvdValueRules(input, x, s, u, vh);
  if (!full || m === n) attachSvdVectorRules(input, s, u, vh);
  return [u, s, vh];
}

/** The singular values of each matrix of `a` (`svd` with `{ computeUv: false }`), as NumPy's `svdvals`.
 *
 * @example
 * ```ts
 * console.log(ma.linalg.svdvals(ma.array([[3, 0], [0, -4]], 'float64')).tolist()); // [ 4, 3 ]
 * ```
 */
export function svdvals(a: MatrixLike): MetalArray {
  checkArgCount('linalg.svdvals', arguments.length, 1, 'linalg.svdvals(a)');
  return svd(a, { computeUv: false });
}

/** ds = diag(Uᵀ dA V); s̄ → Ā = U diag(s̄) Vᵀ (reduced U, V). */
function attachSvdValueRules(input: MetalArray, x: MetalArray, s: MetalArray, uGiven?: MetalArray, vhGiven?: MetalArray): MetalArray {
  const k = s.shape[s.ndim - 1];
  let factors: { u: MetalArray; vh: MetalArray } | null = null;
  const reduced = (): { u: MetalArray; vh: MetalArray } => {
    if (factors !== null) return factors;
    if (uGiven !== undefined && vhGiven !== undefined) factors = { u: uGiven.slice(`..., 0:${k}`), vh: vhGiven.slice(`..., 0:${k}, :`) };
    else {
      const [u, , vh] = svd(x, { fullMatrices: false });
      factors = { u, vh };
    }
    return factors;
  };
  return withRules('svd', s, [input], {
    vjp: (g) => {
      const { u, vh } = reduced();
      return [u.multiply(g.expandDims(-2)).matmul(vh)];
    },
    jvp: ([t]) => {
      const { u, vh } = reduced();
      return diagonalOf(
        mT(u)
          .matmul(t as MetalArray)
          .matmul(mT(vh)),
      );
    },
  });
}

/**
 * Rules for u and vh of a square or reduced SVD (JAX's svd_jvp): with dP = Uᵀ dA V,
 * F_ij = 1/(s_j² - s_i²), S_inv = diag(1/s): dU = U (F ∘ (dP S + S dPᵀ)) + (I - U Uᵀ) dA V S⁻¹,
 * dV = V (F ∘ (S dP + dPᵀ S)) + (I - V Vᵀ) dAᵀ U S⁻¹. The VJPs are their transposes.
 */
function attachSvdVectorRules(input: MetalArray, s: MetalArray, u: MetalArray, vh: MetalArray): void {
  const v = mT(vh);
  const m = u.shape[u.ndim - 2];
  const n = v.shape[v.ndim - 2];
  const k = s.shape[s.ndim - 1];
  const s2 = s.multiply(s);
  const diff = s2.expandDims(-2).subtract(s2.expandDims(-1)); // [i, j] = s_j² - s_i²
  const f = where(identityOf(k, 'bool'), 0, diff.reciprocal());
  const sInv = s.reciprocal();
  const sRow = s.expandDims(-2); // multiplies columns: X S
  const sCol = s.expandDims(-1); // multiplies rows: S X
  const projU = (y: MetalArray): MetalArray => (m > k ? y.subtract(u.matmul(mT(u).matmul(y))) : y.multiply(0));
  const projV = (y: MetalArray): MetalArray => (n > k ? y.subtract(v.matmul(mT(v).matmul(y))) : y.multiply(0));
  const dU = (t: MetalArray): MetalArray => {
    const dp = mT(u).matmul(t).matmul(v);
    const inner = f.multiply(dp.multiply(sRow).add(sCol.multiply(mT(dp))));
    return u.matmul(inner).add(projU(t.matmul(v)).multiply(sInv.expandDims(-2)));
  };
  const dV = (t: MetalArray): MetalArray => {
    const dp = mT(u).matmul(t).matmul(v);
    const inner = f.multiply(sCol.multiply(dp).add(mT(dp).multiply(sRow)));
    return v.matmul(inner).add(projV(mT(t).matmul(u)).multiply(sInv.expandDims(-2)));
  };
  // Transposes: for dU, ⟨Ū, dU⟩ = ⟨J, dP S + S dPᵀ⟩ + ⟨(I - UUᵀ) Ū S⁻¹, dA V⟩ with J = F ∘ (Uᵀ Ū).
  const vjpU = (g: MetalArray): MetalArray => {
    const j = f.multiply(mT(u).matmul(g));
    const gp = j.add(mT(j)).multiply(sRow); // ⟨J, dP S + S dPᵀ⟩ = ⟨(J + Jᵀ) S, dP⟩
    return u
      .matmul(gp)
      .matmul(vh)
      .add(projU(g.multiply(sInv.expandDims(-2))).matmul(vh));
  };
  const vjpV = (g: MetalArray): MetalArray => {
    const j = f.multiply(mT(v).matmul(g));
    const gp = sCol.multiply(j).add(mT(j.multiply(sRow)));
    return u
      .matmul(gp)
      .matmul(vh)
      .add(u.matmul(mT(projV(g.multiply(sInv.expandDims(-2))))));
  };
  withRules('svd', u, [input], { vjp: (g) => [vjpU(g)], jvp: ([t]) => dU(t as MetalArray) });
  withRules('svd', vh, [input], { vjp: (g) => [vjpV(mT(g))], jvp: ([t]) => mT(dV(t as MetalArray)) });
}

/**
 * Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix of `a`
 * ([..., n, n]), reading its lower triangle as NumPy (LAPACK syevd): `[w, v]` with
 * `a @ v = v @ diag(w)`.
 *
 * @example
 * ```ts
 * const [w, v] = ma.linalg.eigh(ma.array([[2, 1], [1, 2]], 'float64'));
 * console.log(w.tolist()); // [ 1, 3 ]
 * ```
 */
export function eigh(a: MatrixLike): [MetalArray, MetalArray] {
  checkArgCount('linalg.eigh', arguments.length, 1, 'linalg.eigh(a)');
  const op = 'eigh';
  const input = toArray(a, op);
  const x = asLinalgFloat(op, input);
  const n = checkSquare(op, x);
  const batch = x.shape.slice(0, -2);
  const [w, v, info] = runRoutine(
    op,
    K.eigh,
    x.dtype,
    [x],
    [
      { shape: [...batch, n], dtype: x.dtype },
      { shape: x.shape, dtype: x.dtype },
      { shape: batch, dtype: 'int32' },
    ],
    [n, 1],
    batchCount(x.shape),
    n,
  );
  checkInfo(op, info, batch, () => 'eigenvalues did not converge');
  attachEighRules(input, w, v);
  return [w, v];
}

/**
 * JAX's eigh rule on sym(dA): M = Vᵀ dA V, dw = diag(M), dV = V (F ∘ M) with
 * F_ij = 1/(w_j - w_i); Ā = sym(V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ).
 */
function attachEighRules(input: MetalArray, w: MetalArray, v: MetalArray): void {
  const n = w.shape[w.ndim - 1];
  const f = where(identityOf(n, 'bool'), 0, w.expandDims(-2).subtract(w.expandDims(-1)).reciprocal());
  const mOf = (t: MetalArray): MetalArray => mT(v).matmul(symmetrize(t)).matmul(v);
  withRules('eigh', w, [input], {
    vjp: (g) => [symmetrize(v.multiply(g.expandDims(-2)).matmul(mT(v)))],
    jvp: ([t]) => diagonalOf(mOf(t as MetalArray)),
  });
  withRules('eigh', v, [input], {
    vjp: (g) => [symmetrize(v.matmul(f.multiply(mT(v).matmul(g))).matmul(mT(v)))],
    jvp: ([t]) => v.matmul(f.multiply(mOf(t as MetalArray))),
  });
}

/**
 * The eigenvalues (ascending) of each symmetric matrix of `a`, reading its lower
 * triangle (as NumPy's `eigvalsh`).
 *
 * @example
 * ```ts
 * console.log(ma.linalg.eigvalsh(ma.array([[2, 1], [1, 2]], 'float64')).tolist()); // [ 1, 3 ]
 * ```
 */
export function eigvalsh(a: MatrixLike): MetalArray {
  checkArgCount('linalg.eigvalsh', arguments.length, 1, 'linalg.eigvalsh(a)');
  const op = 'eigvalsh';
  const input = toArray(a, op);
  const x = asLinalgFloat(op, input);
  const n = checkSquare(op, x);
  const batch = x.shape.slice(0, -2);
  const [w, info] = runRoutine(
    op,
    K.eigh,
    x.dtype,
    [x],
    [
      { shape: [...batch, n], dtype: x.dtype },
      { shape: batch, dtype: 'int32' },
    ],
    [n, 0],
    batchCount(x.shape),
    n,
  );
  checkInfo(op, info, batch, () => 'eigenvalues did not converge');
  let vectors: MetalArray | null = null;
  const vOf = (): MetalArray => {
    vectors ??= eigh(x)[1];
    return vectors;
  };
  return withRules(op, w, [input], {
    vjp: (g) => [symmetrize(vOf().multiply(g.expandDims(-2)).matmul(mT(vOf())))],
    jvp: ([t]) =>
      diagonalOf(
        mT(vOf())
          .matmul(symmetrize(t as MetalArray))
          .matmul(vOf()),
      ),
  });
}

/**
 * A complex array as its real and imaginary parts (metalarray has no complex dtype
 * yet): `real[i] + i·imag[i]`.
 */
export interface ComplexPair {
  /** The real parts. */
  real: MetalArray;
  /** The imaginary parts. */
  imag: MetalArray;
}

function eigParts(op: string, a: MatrixLike, vectors: boolean): MetalArray[] {
  const x = asLinalgFloat(op, toArray(a, op));
  const n = checkSquare(op, x);
  const batch = x.shape.slice(0, -2);
  const vec = { shape: x.shape, dtype: x.dtype };
  const val = { shape: [...batch, n], dtype: x.dtype };
  const outs = vectors ? [val, val, vec, vec, { shape: batch, dtype: 'int32' as const }] : [val, val, { shape: batch, dtype: 'int32' as const }];
  const res = runRoutine(op, K.eig, x.dtype, [x], outs, [n, vectors ? 1 : 0], batchCount(x.shape), n);
  checkInfo(op, res[res.length - 1], batch, () => 'eigenvalues did not converge');
  return res.slice(0, -1);
}

/**
 * Eigenvalues and right eigenvectors of each general square matrix of `a` ([..., n, n]),
 * as NumPy (LAPACK geev, same order, vectors of unit norm). metalarray has no complex
 * dtype yet, so both come as a `ComplexPair` of real and imaginary parts:
 * `[values, vectors]`, values [..., n], vectors [..., n, n] (column i for value i).
 * Not differentiable yet.
 *
 * @example
 * ```ts
 * const [values] = ma.linalg.eig(ma.array([[0, -1], [1, 0]], 'float64'));
 * console.log(values.real.tolist(), values.imag.tolist()); // [ 0, 0 ] [ 1, -1 ]
 * ```
 */
export function eig(a: MatrixLike): [ComplexPair, ComplexPair] {
  checkArgCount('linalg.eig', arguments.length, 1, 'linalg.eig(a)');
  const [wr, wi, vr, vi] = eigParts('eig', a, true);
  return [
    { real: wr, imag: wi },
    { real: vr, imag: vi },
  ];
}

/**
 * The eigenvalues of each general square matrix of `a`, as a `ComplexPair` of real and
 * imaginary parts (see `eig`).
 *
 * @example
 * ```ts
 * const w = ma.linalg.eigvals(ma.array([[2, 0], [0, 3]], 'float64'));
 * console.log(w.real.tolist(), w.imag.tolist()); // [ 2, 3 ] [ 0, 0 ]
 * ```
 */
export function eigvals(a: MatrixLike): ComplexPair {
  checkArgCount('linalg.eigvals', arguments.length, 1, 'linalg.eigvals(a)');
  const [wr, wi] = eigParts('eigvals', a, false);
  return { real: wr, imag: wi };
}
