/**
 * Square systems and factorizations on LAPACK: `inv`, `solve`, `solveTriangular`,
 * `det`, `slogdet`, `lu`, `luFactor`, `cholesky`, `choleskyInv`, each batched over the
 * leading axes, with their differentiation rules (JAX's).
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { promoteTypes } from '../core/promotion.js';
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { where } from '../ops/elementwise.js';
import { arange } from '../ops/ranges.js';
import { broadcastShapes } from '../ops/operand.js';
import {
  K,
  type LinalgDType,
  type MatrixLike,
  asLinalgFloat,
  batchCount,
  checkInfo,
  checkMatrix,
  checkSquare,
  runRoutine,
  toArray,
  withRules,
} from './lapack.js';
import { diagonalOf, identityOf, lowerOf, mT, sumTo, symmetrize, upperOf } from './util.js';

const singular = (code: number): string => `singular matrix (U[${code - 1}, ${code - 1}] of its LU factorization is exactly zero)`;

/** The common float dtype of several inputs (NumPy's promotion, then LAPACK's types). */
function commonFloat(xs: readonly MetalArray[]): LinalgDType {
  let d = xs[0].dtype;
  for (const x of xs.slice(1)) d = promoteTypes(d, x.dtype);
  return d === 'float64' ? 'float64' : 'float32';
}

/**
 * The inverse of each square matrix of `a` ([..., n, n]). A singular matrix throws
 * `LinAlgError` naming its batch element; NaN inputs give NaN outputs.
 *
 * @example
 * ```ts
 * const a = ma.array([[4, 7], [2, 6]], 'float64');
 * console.log(ma.linalg.inv(a).round(12).tolist()); // [ [ 0.6, -0.7 ], [ -0.2, 0.4 ] ]
 * ```
 */
export function inv(a: MatrixLike): MetalArray {
  checkArgCount('linalg.inv', arguments.length, 1, 'linalg.inv(a)');
  const op = 'inv';
  const input = toArray(a, op);
  const x = asLinalgFloat(op, input);
  const n = checkSquare(op, x);
  const batchShape = x.shape.slice(0, -2);
  const [out, info] = runRoutine(
    op,
    K.inv,
    x.dtype,
    [x],
    [
      { shape: x.shape, dtype: x.dtype },
      { shape: batchShape, dtype: 'int32' },
    ],
    [n],
    batchCount(x.shape),
    n,
  );
  checkInfo(op, info, batchShape, singular);
  // d(A⁻¹) = -A⁻¹ dA A⁻¹.
  return withRules(op, out, [input], {
    vjp: (g) => [mT(out).matmul(g).matmul(mT(out)).negative()],
    jvp: ([t]) =>
      out
        .matmul(t as MetalArray)
        .matmul(out)
        .negative(),
  });
}

/** Options of `solve`. */
function solveShapes(op: string, a: MetalArray, b: MetalArray): { vector: boolean; batch: number[]; n: number; k: number } {
  const n = checkSquare(op, a);
  const vector = b.ndim === 1;
  if (b.ndim === 0) throw new ShapeError(`linalg.${op}: b must have at least 1 dim, got a scalar`);
  const rows = vector ? b.shape[0] : b.shape[b.ndim - 2];
  if (rows !== n) throw new ShapeError(`linalg.${op}: a is ${n} x ${n} but b has ${rows} rows (shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}])`);
  const k = vector ? 1 : b.shape[b.ndim - 1];
  const batch = broadcastShapes(`linalg.${op}`, [a.shape.slice(0, -2), vector ? [] : b.shape.slice(0, -2)]);
  return { vector, batch, n, k };
}

/**
 * Solves `a @ x = b` for x. `a` is [..., n, n]; `b` is [..., n, k] or a vector [n] (as
 * NumPy 2: b is a vector only when it has one dim). Batch dims broadcast. A singular
 * matrix throws `LinAlgError` naming its batch element.
 *
 * @example
 * ```ts
 * const a = ma.array([[3, 1], [1, 2]], 'float64');
 * console.log(ma.linalg.solve(a, ma.array([9, 8], 'float64')).tolist()); // [ 2, 3 ]
 * ```
 */
export function solve(a: MatrixLike, b: MatrixLike): MetalArray {
  checkArgCount('linalg.solve', arguments.length, 2, 'linalg.solve(a, b)');
  const op = 'solve';
  const ia = toArray(a, op);
  const ib = toArray(b, op);
  const dtype = commonFloat([asLinalgFloat(op, ia), asLinalgFloat(op, ib)]);
  const fa = asLinalgFloat(op, ia).astype(dtype);
  const fb = asLinalgFloat(op, ib).astype(dtype);
  const { vector, batch, n, k } = solveShapes(op, fa, fb);
  const aFull = fa.broadcastTo([...batch, n, n]);
  const bFull = vector ? fb.reshape([n, 1]).broadcastTo([...batch, n, 1]) : fb.broadcastTo([...batch, n, k]);
  const [x, info] = runRoutine(
    op,
    K.solve,
    dtype,
    [aFull, bFull],
    [
      { shape: [...batch, n, k], dtype },
      { shape: batch, dtype: 'int32' },
    ],
    [n, k],
    batchCount(aFull.shape),
    n,
  );
  checkInfo(op, info, batch, singular);
  const out = vector ? x.reshape([...batch, n]) : x;
  const asMatrix = (v: MetalArray): MetalArray => (vector ? v.expandDims(-1) : v);
  const fromMatrix = (v: MetalArray): MetalArray => (vector ? v.squeeze(-1) : v);
  // x = A⁻¹ b: b̄ = A⁻ᵀ x̄, Ā = -b̄ xᵀ; dx = A⁻¹ (db - dA x).
  return withRules(op, out, [ia, ib], {
    vjp: (g) => {
      const gb = solve(mT(aFull), asMatrix(g));
      const ga = gb.matmul(mT(asMatrix(out))).negative();
      return [sumTo(ga, ia.shape), sumTo(fromMatrix(gb), ib.shape)];
    },
    jvp: ([ta, tb]) => {
      let rhs = tb === null ? null : asMatrix((tb as MetalArray).broadcastTo(vector ? [...batch, n] : [...batch, n, k]));
      if (ta !== null) {
        const dax = (ta as MetalArray).matmul(asMatrix(out)).negative();
        rhs = rhs === null ? dax : rhs.add(dax);
      }
      return fromMatrix(solve(aFull, rhs as MetalArray));
    },
  });
}

/** Options of `solveTriangular` (SciPy's). */
export interface SolveTriangularOptions {
  /** Use the lower triangle of `a` (default false: the upper one, as SciPy). */
  lower?: boolean;
  /** Solve `aᵀ x = b` instead (default false). */
  trans?: boolean;
  /** Take a's diagonal as ones without reading it (default false). */
  unitDiagonal?: boolean;
}

/**
 * Solves `a @ x = b` (or `aᵀ @ x = b`) for triangular `a` ([..., n, n]), reading only
 * its lower or upper triangle, as `scipy.linalg.solve_triangular`. `b` is [..., n, k]
 * or a vector [n]; batch dims broadcast. A zero on the diagonal throws `LinAlgError`.
 *
 * @example
 * ```ts
 * const l = ma.array([[2, 0], [1, 1]], 'float64');
 * console.log(ma.linalg.solveTriangular(l, ma.array([4, 5], 'float64'), { lower: true }).tolist()); // [ 2, 3 ]
 * ```
 */
export function solveTriangular(a: MatrixLike, b: MatrixLike, options: SolveTriangularOptions = {}): MetalArray {
  checkArgCount('linalg.solveTriangular', arguments.length, 3, 'linalg.solveTriangular(a, b, { lower, trans, unitDiagonal })');
  const op = 'solveTriangular';
  const o = checkOptions(`linalg.${op}`, options, ['lower', 'trans', 'unitDiagonal'] as const);
  for (const key of ['lower', 'trans', 'unitDiagonal'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw new ArgumentError(`linalg.${op}: ${key} must be a boolean, got ${formatValue(o[key])}`);
  }
  const lower = o.lower ?? false;
  const trans = o.trans ?? false;
  const unit = o.unitDiagonal ?? false;
  const ia = toArray(a, op);
  const ib = toArray(b, op);
  const dtype = commonFloat([asLinalgFloat(op, ia), asLinalgFloat(op, ib)]);
  const fa = asLinalgFloat(op, ia).astype(dtype);
  const fb = asLinalgFloat(op, ib).astype(dtype);
  const { vector, batch, n, k } = solveShapes(op, fa, fb);
  const aFull = fa.broadcastTo([...batch, n, n]);
  const bFull = vector ? fb.reshape([n, 1]).broadcastTo([...batch, n, 1]) : fb.broadcastTo([...batch, n, k]);
  const [x, info] = runRoutine(
    op,
    K.trsolve,
    dtype,
    [aFull, bFull],
    [
      { shape: [...batch, n, k], dtype },
      { shape: batch, dtype: 'int32' },
    ],
    [n, k, lower ? 1 : 0, trans ? 1 : 0, unit ? 1 : 0],
    batchCount(aFull.shape),
    n,
  );
  checkInfo(op, info, batch, (c) => `singular matrix: a[${c - 1}, ${c - 1}] on the diagonal is zero`);
  const out = vector ? x.reshape([...batch, n]) : x;
  const asMatrix = (v: MetalArray): MetalArray => (vector ? v.expandDims(-1) : v);
  const fromMatrix = (v: MetalArray): MetalArray => (vector ? v.squeeze(-1) : v);
  // The part of a the solve reads: its triangle, without the diagonal when unit.
  const readPart = (m: MetalArray): MetalArray => (lower ? lowerOf(m, unit ? -1 : 0) : upperOf(m, unit ? 1 : 0));
  return withRules(op, out, [ia, ib], {
    vjp: (g) => {
      const gb = solveTriangular(aFull, asMatrix(g), { lower, trans: !trans, unitDiagonal: unit });
      const xm = asMatrix(out);
      const ga = (trans ? xm.matmul(mT(gb)) : gb.matmul(mT(xm))).negative();
      return [sumTo(readPart(ga), ia.shape), sumTo(fromMatrix(gb), ib.shape)];
    },
    jvp: ([ta, tb]) => {
      let rhs = tb === null ? null : asMatrix((tb as MetalArray).broadcastTo(vector ? [...batch, n] : [...batch, n, k]));
      if (ta !== null) {
        const t = readPart(ta as MetalArray);
        const dax = (trans ? mT(t) : t).matmul(asMatrix(out)).negative();
        rhs = rhs === null ? dax : rhs.add(dax);
      }
      return fromMatrix(solveTriangular(aFull, rhs as MetalArray, { lower, trans, unitDiagonal: unit }));
    },
  });
}

/** The determinant's routine: [sign, log|det|, det] per matrix. */
function detParts(op: string, x: MetalArray<LinalgDType>): MetalArray[] {
  const n = checkSquare(op, x);
  const batch = x.shape.slice(0, -2);
  const out = { shape: batch, dtype: x.dtype };
  return runRoutine(op, K.det, x.dtype, [x], [out, out, out], [n], batchCount(x.shape), n);
}

/**
 * The determinant of each square matrix of `a` ([..., n, n] → [...]), from its LU
 * factorization. A singular matrix gives 0.
 *
 * @example
 * ```ts
 * console.log(ma.linalg.det(ma.array([[1, 2], [3, 4]], 'float64')).round(12).item()); // -2
 * ```
 */
export function det(a: MatrixLike): MetalArray {
  checkArgCount('linalg.det', arguments.length, 1, 'linalg.det(a)');
  const op = 'det';
  const input = toArray(a, op);
  const x = asLinalgFloat(op, input);
  const [sign, logabs, d] = detParts(op, x);
  sign.dispose();
  logabs.dispose();
  // d det = det · tr(A⁻¹ dA): Ā = ḡ det A⁻ᵀ.
  return withRules(op, d, [input], {
    vjp: (g) => [mT(inv(x)).multiply(g.multiply(d).expandDims(-1).expandDims(-1))],
    jvp: ([t]) => d.multiply(diagonalOf(solve(x, t as MetalArray)).sum(-1)),
  });
}

/**
 * The sign and natural log of the absolute determinant of each square matrix of `a`
 * (`[sign, logabsdet]`, each [...]), stable where `det` would under- or overflow. A
 * singular matrix gives sign 0 and logabsdet -Infinity.
 *
 * @example
 * ```ts
 * const [sign, logabsdet] = ma.linalg.slogdet(ma.array([[1, 2], [3, 4]], 'float64'));
 * console.log(sign.item(), logabsdet.round(12).item()); // -1 0.69314718056
 * ```
 */
export function slogdet(a: MatrixLike): [MetalArray, MetalArray] {
  checkArgCount('linalg.slogdet', arguments.length, 1, 'linalg.slogdet(a)');
  const op = 'slogdet';
  const input = toArray(a, op);
  const x = asLinalgFloat(op, input);
  const [sign, logabs, d] = detParts(op, x);
  d.dispose();
  // d log|det| = tr(A⁻¹ dA); the sign is piecewise constant.
  withRules(op, logabs, [input], {
    vjp: (g) => [mT(inv(x)).multiply(g.expandDims(-1).expandDims(-1))],
    jvp: ([t]) => diagonalOf(solve(x, t as MetalArray)).sum(-1),
  });
  withRules(op, sign, [input], {
    vjp: () => [null],
    jvp: () => sign.multiply(0),
  });
  return [sign, logabs];
}

/** `luFactor`'s raw outputs: the packed LU, pivots, permutation. */
function luParts(op: string, x: MetalArray<LinalgDType>): { lu: MetalArray; piv: MetalArray; perm: MetalArray } {
  checkMatrix(op, x);
  const m = x.shape[x.ndim - 2];
  const n = x.shape[x.ndim - 1];
  const k = Math.min(m, n);
  const batch = x.shape.slice(0, -2);
  const [lu, piv, perm, info] = runRoutine(
    op,
    K.lu,
    x.dtype,
    [x],
    [
      { shape: x.shape, dtype: x.dtype },
      { shape: [...batch, k], dtype: 'int32' },
      { shape: [...batch, m], dtype: 'int32' },
      { shape: batch, dtype: 'int32' },
    ],
    [m, n],
    batchCount(x.shape),
    Math.max(m, n),
  );
  info.dispose(); // a zero pivot is not an error for a factorization (SciPy warns only)
  return { lu, piv, perm };
}

/**
 * The LU factorization with partial pivoting, packed as `scipy.linalg.lu_factor`:
 * `[lu, piv]`, lu [..., m, n] holding U and L's strict lower part, piv [..., min(m, n)]
 * (int32, 0-based: row i was swapped with row piv[i]).
 *
 * @example
 * ```ts
 * const [lu, piv] = ma.linalg.luFactor(ma.array([[1, 2], [3, 4]], 'float64'));
 * console.log(lu.tolist(), piv.tolist()); // [ [ 3, 4 ], [ 0.3333333333333333, 0.6666666666666667 ] ] [ 1, 1 ]
 * ```
 */
export function luFactor(a: MatrixLike): [MetalArray, MetalArray] {
  checkArgCount('linalg.luFactor', arguments.length, 1, 'linalg.luFactor(a)');
  const op = 'luFactor';
  const { lu, piv, perm } = luParts(op, asLinalgFloat(op, toArray(a, op)));
  perm.dispose();
  return [lu, piv];
}

/**
 * The LU factorization `a = p @ l @ u` as `scipy.linalg.lu`: p [..., m, m] a
 * permutation matrix, l [..., m, k] unit lower triangular, u [..., k, n] upper
 * triangular (k = min(m, n)).
 *
 * @example
 * ```ts
 * const a = ma.array([[1, 2], [3, 4]], 'float64');
 * const [p, l, u] = ma.linalg.lu(a);
 * console.log(p.matmul(l).matmul(u).tolist()); // [ [ 1, 2 ], [ 3, 4 ] ]
 * ```
 */
export function lu(a: MatrixLike): [MetalArray, MetalArray, MetalArray] {
  checkArgCount('linalg.lu', arguments.length, 1, 'linalg.lu(a)');
  const op = 'lu';
  const x = asLinalgFloat(op, toArray(a, op));
  const { lu: packed, piv, perm } = luParts(op, x);
  piv.dispose();
  const m = x.shape[x.ndim - 2];
  const n = x.shape[x.ndim - 1];
  const k = Math.min(m, n);
  // p[r, i] = 1 where row i of l @ u is row r of a.
  const p = perm.expandDims(-2).equal(arange(m).astype('int32').expandDims(-1)).astype(x.dtype);
  const l = lowerOf(packed.slice(`..., 0:${k}`), -1).add(identityOf(m, x.dtype).slice(`..., 0:${k}`));
  const u = upperOf(packed.slice(`..., 0:${k}, :`));
  return [p, l, u];
}

/** Options of `cholesky`. */
export interface CholeskyOptions {
  /** Return the upper factor U (a = Uᵀ U) instead of the lower L (a = L Lᵀ). Default false. */
  upper?: boolean;
}

/**
 * The Cholesky factor of each symmetric positive-definite matrix of `a` ([..., n, n]):
 * lower L with `a = L @ Lᵀ` (or upper with `{ upper: true }`), reading only a's lower
 * triangle as NumPy. A matrix that is not positive definite throws `LinAlgError`.
 *
 * @example
 * ```ts
 * const a = ma.array([[4, 2], [2, 3]], 'float64');
 * console.log(ma.linalg.cholesky(a).tolist()); // [ [ 2, 0 ], [ 1, 1.4142135623730951 ] ]
 * ```
 */
export function cholesky(a: MatrixLike, options: CholeskyOptions = {}): MetalArray {
  checkArgCount('linalg.cholesky', arguments.length, 2, 'linalg.cholesky(a, { upper })');
  const op = 'cholesky';
  const o = checkOptions(`linalg.${op}`, options, ['upper'] as const);
  if (o.upper !== undefined && typeof o.upper !== 'boolean') throw new ArgumentError(`linalg.${op}: upper must be a boolean, got ${formatValue(o.upper)}`);
  const input = toArray(a, op);
  const x = asLinalgFloat(op, input);
  const n = checkSquare(op, x);
  const batch = x.shape.slice(0, -2);
  const [l, info] = runRoutine(
    op,
    K.cholesky,
    x.dtype,
    [x],
    [
      { shape: x.shape, dtype: x.dtype },
      { shape: batch, dtype: 'int32' },
    ],
    [n],
    batchCount(x.shape),
    n,
  );
  checkInfo(op, info, batch, (c) => `matrix is not positive definite (leading minor of order ${c})`);
  // Φ(X): the lower triangle with the diagonal halved. dL = L Φ(L⁻¹ sym(dA) L⁻ᵀ) (as JAX);
  // its transpose: Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹).
  const phi = (m: MetalArray): MetalArray => lowerOf(m, -1).add(diagMatrixOf(m).multiply(0.5));
  const solveL = (rhs: MetalArray, transposed: boolean): MetalArray => solveTriangular(l, rhs, { lower: true, trans: transposed });
  withRules(op, l, [input], {
    vjp: (g) => {
      const p = phi(mT(l).matmul(g));
      const left = solveL(p, true); // L⁻ᵀ P
      const s = mT(solveL(mT(left), true)); // (L⁻ᵀ (L⁻ᵀ P)ᵀ)ᵀ = L⁻ᵀ P L⁻¹
      return [symmetrize(s)];
    },
    jvp: ([t]) => {
      const st = symmetrize(t as MetalArray);
      const y = solveL(mT(solveL(st, false)), false); // L⁻¹ (L⁻¹ S)ᵀ = L⁻¹ S L⁻ᵀ
      return l.matmul(phi(y));
    },
  });
  return o.upper ? mT(l) : l;
}

/** The diagonal of the last two axes as a diagonal matrix. */
function diagMatrixOf(m: MetalArray): MetalArray {
  const n = m.shape[m.ndim - 1];
  return where(identityOf(n, 'bool'), m, 0);
}

/**
 * The inverse of `L @ Lᵀ` from its lower Cholesky factor `l` ([..., n, n]), as
 * `torch.cholesky_inverse`: two triangular solves, no general inverse.
 *
 * @example
 * ```ts
 * const a = ma.array([[4, 2], [2, 3]], 'float64');
 * console.log(ma.linalg.choleskyInv(ma.linalg.cholesky(a)).round(12).tolist()); // [ [ 0.375, -0.25 ], [ -0.25, 0.5 ] ]
 * ```
 */
export function choleskyInv(l: MatrixLike): MetalArray {
  checkArgCount('linalg.choleskyInv', arguments.length, 1, 'linalg.choleskyInv(l)');
  const op = 'choleskyInv';
  const x = asLinalgFloat(op, toArray(l, op));
  const n = checkSquare(op, x);
  const linv = solveTriangular(x, identityOf(n, x.dtype).broadcastTo(x.shape), { lower: true });
  return mT(linv).matmul(linv);
}
