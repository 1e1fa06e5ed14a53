/**
 * Reference oracle: matrix products with NumPy semantics.
 *
 * - matmul: operands of rank >= 1 (0-d is a ShapeError); 1-D operands are promoted
 *   (a → [1, K], b → [K, 1]) and the added axis squeezed afterwards; batch dims
 *   broadcast. The dtype is the promotion of the operands (each is cast to it first);
 *   two bool operands are a DTypeError (the library's choice: cast them first).
 * - Every output element is the exact sum of products of the cast operands: integers
 *   wrap (exact modular arithmetic), floats are rounded once to the dtype (IEEE special
 *   values: NaN from NaN or 0 * Inf or Inf - Inf, else ±Inf).
 * - dot: multiply for 0-d operands, matmul when b has rank <= 2, else a contraction of
 *   a's last axis with b's second-to-last (NumPy's dot). inner: multiply for 0-d, else
 *   the last axes. outer: the flattened operands' product (multiply's dtypes, so bool
 *   is allowed). tensordot(a, b, axes = 2): the last n axes of a with the first n of b,
 *   or a pair of axis lists; contractions go through matmul, so bool with bool is a
 *   DTypeError there too.
 *
 * The library accumulates floats in float32 (float64 for float64) with FMA; the
 * property tests bound that difference (test/property/reduce-bounds.ts).
 */
import { broadcastShapes, getAt, type RefArray, fromFlat, sizeOf } from './array.js';
import { ArgumentError, type DType, DTYPES, DTypeError, promote, ShapeError } from './dtypes.js';
import { formatOf, roundScaled, SCALE_EXP, scaledProduct } from './exact.js';
import { astype, multiply } from './ops.js';
import { type Scalar, toBigInt, truthy, wrapInt } from './round.js';
import { broadcastTo, expandDims, normalizeAxis, reshape, transpose } from './views.js';

/** The operand pairs of every output element of a contraction (values cast to `dtype`). */
export interface Contraction {
  dtype: DType;
  shape: number[];
  /** Per output element (row-major): the a-values and b-values multiplied pairwise and summed. */
  terms: [Scalar[], Scalar[]][];
  /** Length of the contraction (K). */
  k: number;
}

/** Sum of pairwise products, exact, in `dtype` (integers wrap, floats round once). */
export function dotScalars(as: readonly Scalar[], bs: readonly Scalar[], dtype: DType): Scalar {
  const info = DTYPES[dtype];
  if (info.kind === 'bool') return as.some((a, i) => truthy(a) && truthy(bs[i])) ? 1 : 0;
  if (info.kind !== 'float') {
    let s = 0n;
    for (let i = 0; i < as.length; i++) s += toBigInt(as[i]) * toBigInt(bs[i]);
    return wrapInt(s, dtype);
  }
  let nan = false;
  let pos = false;
  let neg = false;
  let s = 0n;
  for (let i = 0; i < as.length; i++) {
    const x = as[i] as number;
    const y = bs[i] as number;
    const p = x * y;
    if (Number.isNaN(p)) nan = true;
    else if (p === Number.POSITIVE_INFINITY && !(Number.isFinite(x) && Number.isFinite(y))) pos = true;
    else if (p === Number.NEGATIVE_INFINITY && !(Number.isFinite(x) && Number.isFinite(y))) neg = true;
    else if (x !== 0 && y !== 0) s += scaledProduct(x, y); // finite operands: exact (no overflow)
  }
  if (nan || (pos && neg)) return Number.NaN;
  if (pos) return Number.POSITIVE_INFINITY;
  if (neg) return Number.NEGATIVE_INFINITY;
  return roundScaled(s, 2 * SCALE_EXP, formatOf(dtype));
}

function contractionValues(c: Contraction): RefArray {
  return fromFlat(
    c.dtype,
    c.shape,
    c.terms.map(([as, bs]) => dotScalars(as, bs, c.dtype)),
  );
}

/** The contraction of matmul(a, b) (see the module comment for the rules). */
export function matmulContraction(a: RefArray, b: RefArray): Contraction {
  const ra = a.nd.shape.length;
  const rb = b.nd.shape.length;
  if (ra === 0 || rb === 0) throw new ShapeError('matmul: operands must have at least one dimension');
  if (a.dtype === 'bool' && b.dtype === 'bool') throw new DTypeError('matmul: bool operands are not supported');
  const dtype = promote(a.dtype, b.dtype);
  let A = astype(a, dtype);
  let B = astype(b, dtype);
  const aVec = ra === 1;
  const bVec = rb === 1;
  if (aVec) A = expandDims(A, 0);
  if (bVec) B = expandDims(B, 1);
  const [M, K] = A.nd.shape.slice(-2);
  const [K2, N] = B.nd.shape.slice(-2);
  if (K !== K2) throw new ShapeError(`matmul: shapes [${a.nd.shape}] and [${b.nd.shape}] do not align (${K} != ${K2})`);
  const batch = broadcastShapes(A.nd.shape.slice(0, -2), B.nd.shape.slice(0, -2));
  const Ab = broadcastTo(A, [...batch, M, K]);
  const Bb = broadcastTo(B, [...batch, K, N]);
  const terms: [Scalar[], Scalar[]][] = [];
  const nb = sizeOf(batch);
  const bidx = new Array<number>(batch.length).fill(0);
  for (let t = 0; t < nb; t++) {
    let r = t;
    for (let d = batch.length - 1; d >= 0; d--) {
      bidx[d] = r % batch[d];
      r = Math.floor(r / batch[d]);
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        const as: Scalar[] = [];
        const bs: Scalar[] = [];
        for (let k = 0; k < K; k++) {
          as.push(getAt(Ab, [...bidx, i, k]));
          bs.push(getAt(Bb, [...bidx, k, j]));
        }
        terms.push([as, bs]);
      }
    }
  }
  const shape = [...batch, ...(aVec ? [] : [M]), ...(bVec ? [] : [N])];
  return { dtype, shape, terms, k: K };
}

export function matmul(a: RefArray, b: RefArray): RefArray {
  return contractionValues(matmulContraction(a, b));
}

export type TensordotAxes = number | readonly [readonly number[] | number, readonly number[] | number];

/** The contraction of tensordot(a, b, axes). */
export function tensordotContraction(a: RefArray, b: RefArray, axes: TensordotAxes = 2): Contraction {
  const ra = a.nd.shape.length;
  const rb = b.nd.shape.length;
  let axA: number[];
  let axB: number[];
  if (typeof axes === 'number') {
    if (!Number.isInteger(axes) || axes < 0 || axes > ra || axes > rb) throw new ArgumentError(`tensordot: bad axes ${axes}`);
    axA = [...Array(axes).keys()].map((i) => ra - axes + i);
    axB = [...Array(axes).keys()];
  } else {
    axA = (typeof axes[0] === 'number' ? [axes[0]] : [...axes[0]]).map((x) => normalizeAxis(x, ra));
    axB = (typeof axes[1] === 'number' ? [axes[1]] : [...axes[1]]).map((x) => normalizeAxis(x, rb));
  }
  if (axA.length !== axB.length) throw new ShapeError(`tensordot: ${axA.length} axes of a against ${axB.length} of b`);
  for (let i = 0; i < axA.length; i++) {
    if (a.nd.shape[axA[i]] !== b.nd.shape[axB[i]]) throw new ShapeError(`tensordot: axis ${axA[i]} of a does not match axis ${axB[i]} of b`);
  }
  // the library contracts through a 2-D matmul
  if (a.dtype === 'bool' && b.dtype === 'bool') throw new DTypeError('tensordot: bool operands are not supported');
  const dtype = promote(a.dtype, b.dtype);
  const freeA = [...Array(ra).keys()].filter((d) => !axA.includes(d));
  const freeB = [...Array(rb).keys()].filter((d) => !axB.includes(d));
  const size = (s: readonly number[], ds: number[]) => ds.reduce((p, d) => p * s[d], 1);
  const m = size(a.nd.shape, freeA);
  const k = size(a.nd.shape, axA);
  const n = size(b.nd.shape, freeB);
  const A = reshape(transpose(astype(a, dtype), [...freeA, ...axA]), [m, k]);
  const B = reshape(transpose(astype(b, dtype), [...axB, ...freeB]), [k, n]);
  const terms: [Scalar[], Scalar[]][] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const as: Scalar[] = [];
      const bs: Scalar[] = [];
      for (let t = 0; t < k; t++) {
        as.push(getAt(A, [i, t]));
        bs.push(getAt(B, [t, j]));
      }
      terms.push([as, bs]);
    }
  }
  const shape = [...freeA.map((d) => a.nd.shape[d]), ...freeB.map((d) => b.nd.shape[d])];
  return { dtype, shape, terms, k };
}

export function tensordot(a: RefArray, b: RefArray, axes: TensordotAxes = 2): RefArray {
  return contractionValues(tensordotContraction(a, b, axes));
}

/** The contraction of dot(a, b), or null when dot is an elementwise multiply (a 0-d operand). */
export function dotContraction(a: RefArray, b: RefArray): Contraction | null {
  const ra = a.nd.shape.length;
  const rb = b.nd.shape.length;
  if (ra === 0 || rb === 0) return null;
  if (rb <= 2) return matmulContraction(a, b);
  return tensordotContraction(a, b, [[ra - 1], [rb - 2]]);
}

export function dot(a: RefArray, b: RefArray): RefArray {
  const c = dotContraction(a, b);
  return c === null ? multiply(a, b) : contractionValues(c);
}

/** The contraction of inner(a, b), or null when inner is an elementwise multiply. */
export function innerContraction(a: RefArray, b: RefArray): Contraction | null {
  const ra = a.nd.shape.length;
  const rb = b.nd.shape.length;
  if (ra === 0 || rb === 0) return null;
  return tensordotContraction(a, b, [[ra - 1], [rb - 1]]);
}

export function inner(a: RefArray, b: RefArray): RefArray {
  const c = innerContraction(a, b);
  return c === null ? multiply(a, b) : contractionValues(c);
}

/** outer(a, b): the product of the flattened operands, a column times a row. */
export function outer(a: RefArray, b: RefArray): RefArray {
  return multiply(reshape(a, [-1, 1]), reshape(b, [1, -1]));
}
