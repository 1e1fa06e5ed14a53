/**
 * Bounds for reductions, their composites, scans and matrix products.
 *
 * bounds.ts bounds elementwise graphs: per element, the oracle's value plus either
 * "exact" or an interval [lo, hi] (and a NaN flag) of what a correct library may return.
 * This module extends that to the ops that combine elements:
 *
 * - A float sum is accumulated in double and rounded once (tolerance.ts, accumulators):
 *   the accumulator lies within E = gamma(n - 1) * sum|x| of the exact sum, so the result
 *   lies in [RN(S_lo - E), RN(S_hi + E)], where S_lo/S_hi are the exact sums of the
 *   inputs' lower/upper bounds (exact bigint arithmetic; RN rounds to the dtype, which is
 *   monotone). Exact inputs give S_lo = S_hi = S. Overflow of a partial sum, infinities
 *   and NaN are handled explicitly.
 * - prod: relative gamma(n - 1) of the exact product while no partial product can leave
 *   the normal range of double (checked from the factors' exponents), else only the sign.
 * - max/min: the interval of the extremes; argmax/argmin: the range of indices that can
 *   be the first extreme (or first NaN); any/all: truth sets.
 * - Composites (mean, var, std, logsumexp, softmax, logSoftmax, norm, countNonzero) are
 *   bounded by following the library's formula step by step (src/ops/reduce.ts), each
 *   elementwise step through bounds.ts (so exp/log/power get the tolerance table's
 *   allowance and every step rounds to the dtype), each reduction step as above. mean,
 *   var and std of float16/bfloat16 run entirely in float32 and round once at the end.
 * - Scans: each prefix as a sum/product of its elements (the accumulator runs in order).
 * - matmul and friends: gamma(K) * sum|a b| + K * eta in the compute type (FMA steps),
 *   then one rounding to the dtype.
 *
 * Every value carries the formula's exactly rounded value `v` (what an error-free
 * library following the formula returns) alongside its bounds, and settleAbs checks
 * that `v` lies in them: a bound that excludes the formula's own value is a harness bug.
 */
import * as R from '../reference/index.js';
import type { DType, RefArray, Scalar, UnaryOp, BinaryOp } from '../reference/index.js';
import {
  type Abs,
  binaryAbs,
  type Bounds,
  castAbs,
  exactAbs,
  finish,
  fullRange,
  hull,
  inexactAround,
  interval,
  isEmpty,
  settleAbs,
  truthSet,
  unaryAbs,
} from './bounds.js';
import { type Accumulator, accumulatorOf, gamma, inputScale, isInexact, sameValue, sumUpper } from './tolerance.js';

const INF = Number.POSITIVE_INFINITY;
const NINF = Number.NEGATIVE_INFINITY;

function num(x: Scalar): number {
  return R.toNumber(x);
}

function finiteOr(x: number, dflt: number): number {
  return Number.isFinite(x) ? x : dflt;
}

/** An abstract scalar: the formula's value, its bounds, its dtype. */
export interface AV {
  v: Scalar;
  a: Abs;
  dtype: DType;
}

export function exactAV(v: Scalar, dtype: DType): AV {
  return { v, a: exactAbs(v), dtype };
}

function settle(v: Scalar, a: Abs, dtype: DType, where: string): AV {
  return { v, a: settleAbs(v, a, dtype, where), dtype };
}

const NAN_ONLY: Abs = { exact: false, lo: INF, hi: NINF, nan: true };

// ---------------------------------------------------------------------------------
// Elementwise steps (through bounds.ts)
// ---------------------------------------------------------------------------------

export function avCast(x: AV, to: DType): AV {
  if (x.dtype === to) return x;
  return settle(R.castScalar(x.v, x.dtype, to), castAbs(x.a, x.v, x.dtype, to), to, `cast ${to}`);
}

function magnitude(x: AV): number {
  return Math.max(Math.abs(finiteOr(num(x.v), 0)), Math.abs(finiteOr(x.a.lo, 0)), Math.abs(finiteOr(x.a.hi, 0)));
}

export function avUnary(op: UnaryOp, x: AV): AV {
  const { compute, result } = R.unaryDTypes(op, x.dtype);
  const xc = avCast(x, compute);
  const v = R.unaryScalar(op, compute, result, xc.v);
  const a = xc.a.exact && isInexact(op, result) ? inexactAround(v, result, op, inputScale([xc.v])) : unaryAbs(op, compute, result, xc.a, xc.v, magnitude(xc));
  return settle(v, a, result, op);
}

type AVOperand = AV | number;

function isAV(x: AVOperand): x is AV {
  return typeof x === 'object';
}

function operandIn(x: AVOperand, promoted: DType, compute: DType): AV {
  return isAV(x) ? avCast(x, compute) : exactAV(R.weakScalarIn(x, promoted, compute), compute);
}

function promotedOf(xs: readonly AVOperand[]): DType {
  return R.operandsDType(
    xs.filter(isAV).map((x) => x.dtype),
    xs.filter((x): x is number => !isAV(x)),
  );
}

export function avBinary(op: BinaryOp, x: AVOperand, y: AVOperand): AV {
  const promoted = promotedOf([x, y]);
  const { compute, result } = R.binaryDTypes(op, promoted);
  const X = operandIn(x, promoted, compute);
  const Y = operandIn(y, promoted, compute);
  const v = R.binaryScalar(op, compute, result, X.v, Y.v);
  const a =
    X.a.exact && Y.a.exact && isInexact(op, result)
      ? inexactAround(v, result, op, inputScale([X.v, Y.v]))
      : binaryAbs(op, compute, result, X.a, Y.a, X.v, Y.v, Math.max(magnitude(X), magnitude(Y)));
  return settle(v, a, result, op);
}

/** multiply(x, x): bounded as a square (a product of an interval with itself is not negative). */
export function avSquare(x: AV): AV {
  const v = R.binaryScalar('multiply', x.dtype, x.dtype, x.v, x.v);
  if (x.a.exact || !R.isFloat(x.dtype)) return avBinary('multiply', x, x);
  return settle(v, unaryAbs('square', x.dtype, x.dtype, x.a, x.v, magnitude(x)), x.dtype, 'square');
}

export function avWhere(c: AV, x: AVOperand, y: AVOperand): AV {
  const dtype = promotedOf([x, y]);
  const X = operandIn(x, dtype, dtype);
  const Y = operandIn(y, dtype, dtype);
  const v = R.truthy(c.v) ? X.v : Y.v;
  if (c.a.exact) return R.truthy(c.v) ? X : Y;
  const [canFalse, canTrue] = truthSet(c.a);
  if (canTrue && !canFalse) return X;
  if (canFalse && !canTrue) return Y;
  return settle(v, hull(X.a, Y.a), dtype, 'where');
}

// ---------------------------------------------------------------------------------
// Float sums
// ---------------------------------------------------------------------------------

/**
 * The bounds of a float sum accumulated in `acc`, built one term at a time (so a scan
 * can read every prefix). Terms are AVs (sums) or exact products (matmul).
 */
export class FloatSum {
  private n = 0;
  private sLo = 0n;
  private sHi = 0n;
  private sV = 0n;
  private pos = 0;
  private neg = 0;
  private canPos = false;
  private canNeg = false;
  private mustPos = false;
  private mustNeg = false;
  private nan = false;
  private nanSure = false;
  private vNaN = false;
  private vPos = false;
  private vNeg = false;

  /** Terms are exact multiples of 2^scaleExp (R.SCALE_EXP for doubles, twice that for products). */
  constructor(
    readonly dtype: DType,
    readonly acc: Accumulator,
    readonly scaleExp: number = R.SCALE_EXP,
  ) {}

  private scaled(x: number): bigint {
    return R.scaledOf(x) << BigInt(R.SCALE_EXP - this.scaleExp);
  }

  private valueSpecial(v: number): boolean {
    if (Number.isNaN(v)) this.vNaN = true;
    else if (v === INF) this.vPos = true;
    else if (v === NINF) this.vNeg = true;
    else return false;
    return true;
  }

  /** Adds a term given by its bounds and the formula's value. */
  add(x: AV): void {
    if (x.dtype !== this.dtype) throw new Error(`FloatSum of ${this.dtype} given ${x.dtype}`);
    this.n++;
    const v = x.v as number;
    if (!this.valueSpecial(v) && v !== 0) this.sV += this.scaled(v);
    const a = x.a;
    if (a.nan) this.nan = true;
    if (isEmpty(a)) {
      if (a.nan) this.nanSure = true;
      return;
    }
    if (a.lo === NINF) this.canNeg = true;
    if (a.hi === INF) this.canPos = true;
    if (a.lo === INF) this.mustPos = true;
    if (a.hi === NINF) this.mustNeg = true;
    if (Number.isFinite(a.lo)) {
      if (a.lo !== 0) this.sLo += this.scaled(a.lo);
      this.neg += Math.max(0, -a.lo);
    }
    if (Number.isFinite(a.hi)) {
      if (a.hi !== 0) this.sHi += this.scaled(a.hi);
      this.pos += Math.max(0, a.hi);
    }
  }

  /** Adds an exact product term x * y (both finite or special), for matrix products. */
  addProduct(x: number, y: number): void {
    this.n++;
    const p = x * y;
    const finite = Number.isFinite(x) && Number.isFinite(y);
    if (!finite || Number.isNaN(p)) {
      // an infinite or NaN operand: an exact special term
      if (Number.isNaN(p)) {
        this.vNaN = true;
        this.nan = true;
        this.nanSure = true;
      } else if (p > 0) {
        this.vPos = true;
        this.canPos = true;
        this.mustPos = true;
      } else {
        this.vNeg = true;
        this.canNeg = true;
        this.mustNeg = true;
      }
      return;
    }
    if (x === 0 || y === 0) return;
    const s = R.scaledProduct(x, y);
    this.sV += s;
    this.sLo += s;
    this.sHi += s;
    const m = Math.abs(p) * (1 + 2 ** -52); // the double product may round down
    if (p > 0) this.pos += m;
    else this.neg += m;
  }

  /** The formula's value: the exact sum rounded once (IEEE specials). */
  value(): number {
    if (this.vNaN || (this.vPos && this.vNeg)) return Number.NaN;
    if (this.vPos) return INF;
    if (this.vNeg) return NINF;
    return R.roundScaled(this.sV, this.scaleExp, R.formatOf(this.dtype));
  }

  /** The bounds after `steps` rounding steps (n - 1 additions for a sum, n FMAs for a product). */
  result(steps: number = this.n - 1): AV {
    const d = this.dtype;
    const v = this.value();
    if (this.nanSure || (this.mustPos && this.mustNeg)) return settle(v, NAN_ONLY, d, 'sum');
    const g = gamma(steps, this.acc.u);
    const slack = 1 + g;
    if (sumUpper(this.pos, this.n) * slack >= this.acc.max || sumUpper(this.neg, this.n) * slack >= this.acc.max) {
      // a partial sum may overflow the accumulator: ±Inf, or NaN from Inf - Inf
      return settle(v, fullRange(d), d, 'sum (may overflow)');
    }
    // sum|term| <= pos + neg (each below the accumulator's range, their sum may not be)
    const e = g * sumUpper(this.pos, this.n) + g * sumUpper(this.neg, this.n) + Math.max(steps, 0) * this.acc.eta;
    const fmt = R.formatOf(d);
    const E = e === 0 ? 0n : this.scaled(e * (1 + 2 ** -50));
    const lo = this.mustPos ? INF : this.canNeg ? NINF : R.roundScaled(this.sLo - E, this.scaleExp, fmt);
    const hi = this.mustNeg ? NINF : this.canPos ? INF : R.roundScaled(this.sHi + E, this.scaleExp, fmt);
    return settle(v, interval(lo, hi, this.nan || (this.canPos && this.canNeg)), d, 'sum');
  }
}

// ---------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------

/** floor(log2|x|) for finite x != 0 (subnormals: their true exponent or below). */
function log2Floor(x: number): number {
  const e = R.exponentOf(Math.abs(x));
  return e === -1023 ? -1075 : e;
}

/** Bounds of a float product accumulated in double, one factor at a time (exact factors only). */
export class FloatProd {
  private n = 0;
  private m = 1n;
  private e = 0;
  private negative = false;
  private zero = false;
  private inf = false;
  private nan = false;
  private up = 0; // upper bound of log2 of the largest partial product magnitude
  private down = 0; // lower bound of log2 of the smallest one
  private inexact = false;

  constructor(readonly dtype: DType) {}

  add(x: AV): void {
    this.n++;
    if (!x.a.exact) this.inexact = true;
    const v = x.v as number;
    if (Number.isNaN(v)) {
      this.nan = true;
      return;
    }
    if (v < 0 || Object.is(v, -0)) this.negative = !this.negative;
    if (v === 0) this.zero = true;
    else if (!Number.isFinite(v)) this.inf = true;
    else {
      const d = R.dyadicOf(Math.abs(v));
      this.m *= d.m;
      this.e += d.e;
      const k = log2Floor(v);
      this.up += Math.max(0, k + 1);
      this.down += Math.min(0, k);
    }
  }

  result(): AV {
    const d = this.dtype;
    const sign = this.negative ? -1 : 1;
    let v: number;
    if (this.nan || (this.zero && this.inf)) v = Number.NaN;
    else if (this.inf) v = sign * INF;
    else if (this.zero) v = sign * 0;
    else v = sign * R.roundScaled(this.m, this.e, R.formatOf(d));
    if (this.inexact) return settle(v, fullRange(d), d, 'prod of inexact values');
    if (Number.isNaN(v)) return exactAV(v, d);
    const safe = this.up <= 1023 && this.down >= -1022;
    if (!safe) {
      // a partial product may overflow or underflow double: only the sign is known
      if (this.zero || this.inf) return settle(v, fullRange(d), d, 'prod (range)');
      return settle(v, sign > 0 ? interval(0, INF, true) : interval(NINF, 0, true), d, 'prod (range)');
    }
    if (this.inf) return exactAV(v, d);
    if (this.zero) return settle(v, interval(0, 0, false), d, 'prod');
    const g = gamma(this.n - 1, 2 ** -53);
    if (g === 0) return exactAV(v, d);
    const gd = R.dyadicOf(g * (1 + 2 ** -50));
    const base = this.m << BigInt(-gd.e); // |P| at exponent e + gd.e
    const err = this.m * gd.m;
    const fmt = R.formatOf(d);
    const s = this.e + gd.e;
    const a = R.roundScaled(base - err, s, fmt);
    const b = R.roundScaled(base + err, s, fmt);
    return settle(v, sign > 0 ? interval(a, b, false) : interval(-b, -a, false), d, 'prod');
  }
}

// ---------------------------------------------------------------------------------
// Row reductions (the inputs of one output element)
// ---------------------------------------------------------------------------------

/** sum of a row whose elements are already of the result dtype. */
export function rowSum(xs: readonly AV[], dtype: DType): AV {
  const row = xs.map((x) => avCast(x, dtype));
  if (R.isFloat(dtype)) {
    const s = new FloatSum(dtype, accumulatorOf('sum', dtype));
    for (const x of row) s.add(x);
    return s.result();
  }
  const v = R.sumScalars(
    row.map((x) => x.v),
    dtype,
  );
  if (row.every((x) => x.a.exact)) return exactAV(v, dtype);
  const lo = row.reduce((p, x) => p + x.a.lo, 0);
  const hi = row.reduce((p, x) => p + x.a.hi, 0);
  const info = R.DTYPES[dtype];
  const inRange = !info.big && lo >= Number(info.min) && hi <= Number(info.max);
  return settle(v, inRange ? interval(lo, hi, false) : fullRange(dtype), dtype, 'integer sum');
}

export function rowProd(xs: readonly AV[], dtype: DType): AV {
  const row = xs.map((x) => avCast(x, dtype));
  if (R.isFloat(dtype)) {
    const p = new FloatProd(dtype);
    for (const x of row) p.add(x);
    return p.result();
  }
  const v = R.prodScalars(
    row.map((x) => x.v),
    dtype,
  );
  return row.every((x) => x.a.exact) ? exactAV(v, dtype) : settle(v, fullRange(dtype), dtype, 'integer prod');
}

/** max (isMax) or min of a non-empty row, NaN propagating. */
export function rowExtreme(xs: readonly AV[], isMax: boolean): AV {
  const dtype = xs[0].dtype;
  const v = R.extremeScalars(
    xs.map((x) => x.v),
    dtype,
    isMax,
  );
  if (xs.every((x) => x.a.exact)) return exactAV(v, dtype);
  let nan = false;
  let lo = isMax ? NINF : INF;
  let hi = isMax ? NINF : INF;
  for (const x of xs) {
    if (x.a.nan) nan = true;
    if (isEmpty(x.a)) {
      if (x.a.nan) return settle(v, NAN_ONLY, dtype, 'extreme');
      continue;
    }
    lo = isMax ? Math.max(lo, x.a.lo) : Math.min(lo, x.a.lo);
    hi = isMax ? Math.max(hi, x.a.hi) : Math.min(hi, x.a.hi);
  }
  return settle(v, interval(lo, hi, nan), dtype, isMax ? 'max' : 'min');
}

/** argmax/argmin of a non-empty row: the first extreme, a NaN counting as the extreme. */
export function rowArg(xs: readonly AV[], isMax: boolean): AV {
  const dtype = xs[0].dtype;
  const v = R.argExtreme(
    xs.map((x) => x.v),
    dtype,
    isMax,
  );
  if (xs.every((x) => x.a.exact)) return exactAV(v, 'int32');
  // the extreme, if no element is NaN, is at least max(lo) (at most min(hi))
  let bound = isMax ? NINF : INF;
  for (const x of xs) if (!isEmpty(x.a)) bound = isMax ? Math.max(bound, x.a.lo) : Math.min(bound, x.a.hi);
  const firstSureNaN = xs.findIndex((x) => isEmpty(x.a) && x.a.nan);
  const last = firstSureNaN >= 0 ? firstSureNaN : xs.length - 1;
  let lo = INF;
  let hi = NINF;
  for (let j = 0; j <= last; j++) {
    const a = xs[j].a;
    const can = a.nan || (!isEmpty(a) && (isMax ? a.hi >= bound : a.lo <= bound));
    if (can) {
      lo = Math.min(lo, j);
      hi = Math.max(hi, j);
    }
  }
  return settle(v, interval(lo, hi, false), 'int32', isMax ? 'argmax' : 'argmin');
}

export function rowAnyAll(xs: readonly AV[], isAny: boolean): AV {
  const v = isAny ? (xs.some((x) => R.truthy(x.v)) ? 1 : 0) : xs.every((x) => R.truthy(x.v)) ? 1 : 0;
  if (xs.every((x) => x.a.exact)) return exactAV(v, 'bool');
  const sets = xs.map((x) => (x.a.exact ? [!R.truthy(x.v), R.truthy(x.v)] : truthSet(x.a)));
  const canTrue = isAny ? sets.some(([, t]) => t) : sets.every(([, t]) => t);
  const canFalse = isAny ? sets.every(([f]) => f) : sets.some(([f]) => f);
  return settle(v, interval(canFalse ? 0 : 1, canTrue ? 1 : 0, false), 'bool', isAny ? 'any' : 'all');
}

// ---------------------------------------------------------------------------------
// Composites, following src/ops/reduce.ts
// ---------------------------------------------------------------------------------

function floatOf(x: AV): AV {
  return avCast(x, R.floatResultDType(x.dtype));
}

/** mean, var and std of float16/bfloat16 compute in float32 and round once at the end. */
function innerDType(f: DType): DType {
  return f === 'float16' || f === 'bfloat16' ? 'float32' : f;
}

/** mean = sum / n, in the dtype of the elements. */
function rowMeanIn(x: readonly AV[]): AV {
  return avBinary('divide', rowSum(x, x[0].dtype), x.length);
}

/** var: centered by the (kept) mean, the sum of squares divided by max(0, n - ddof). */
function rowVarIn(x: readonly AV[], ddof: number): AV {
  const mu = rowMeanIn(x);
  const q = x.map((e) => avSquare(avBinary('subtract', e, mu)));
  return avBinary('divide', rowSum(q, x[0].dtype), Math.max(0, x.length - ddof));
}

/** The row as floats (integers and bool: float32), then in the inner dtype. */
function innerRow(xs: readonly AV[]): { x: AV[]; f: DType } {
  const f = R.floatResultDType(xs[0].dtype);
  const inner = innerDType(f);
  return { x: xs.map((e) => avCast(floatOf(e), inner)), f };
}

export function rowMean(xs: readonly AV[]): AV {
  const { x, f } = innerRow(xs);
  return avCast(rowMeanIn(x), f);
}

export function rowVar(xs: readonly AV[], ddof: number): AV {
  const { x, f } = innerRow(xs);
  return avCast(rowVarIn(x, ddof), f);
}

export function rowStd(xs: readonly AV[], ddof: number): AV {
  const { x, f } = innerRow(xs);
  return avCast(avUnary('sqrt', rowVarIn(x, ddof)), f);
}

function shifted(x: readonly AV[]): AV[] {
  const m = rowExtreme(x, true);
  const shift = avWhere(avUnary('isfinite', m), m, 0);
  return x.map((e) => avBinary('subtract', e, shift));
}

export function rowLogsumexp(xs: readonly AV[]): AV {
  const x = xs.map(floatOf);
  const f = x[0].dtype;
  const m = rowExtreme(x, true);
  const shift = avWhere(avUnary('isfinite', m), m, 0);
  const s = rowSum(
    x.map((e) => avUnary('exp', avBinary('subtract', e, shift))),
    f,
  );
  return avBinary('add', avUnary('log', s), shift);
}

export function rowSoftmax(xs: readonly AV[], log: boolean): AV[] {
  const x = xs.map(floatOf);
  const f = x[0].dtype;
  const t = shifted(x);
  if (log) {
    const ls = avUnary(
      'log',
      rowSum(
        t.map((e) => avUnary('exp', e)),
        f,
      ),
    );
    return t.map((e) => avBinary('subtract', e, ls));
  }
  const e = t.map((ti) => avUnary('exp', ti));
  const s = rowSum(e, f);
  return e.map((ei) => avBinary('divide', ei, s));
}

export function rowNorm(xs: readonly AV[], ord: number | 'fro'): AV {
  const x = xs.map(floatOf);
  const f = x[0].dtype;
  if (ord === 'fro' || ord === 2) return avUnary('sqrt', rowSum(x.map(avSquare), f));
  const ax = x.map((e) => avUnary('abs', e));
  if (ord === INF) return rowExtreme(ax, true);
  if (ord === NINF) return rowExtreme(ax, false);
  if (ord === 1) return rowSum(ax, f);
  if (ord === 0)
    return rowSum(
      x.map((e) => avCast(avBinary('notEqual', e, 0), f)),
      f,
    );
  return avBinary(
    'power',
    rowSum(
      ax.map((e) => avBinary('power', e, ord)),
      f,
    ),
    1 / ord,
  );
}

// ---------------------------------------------------------------------------------
// Arrays
// ---------------------------------------------------------------------------------

/** Bounds of exact values (a leaf). */
export function exactBounds(a: RefArray): Bounds {
  return finish(R.copy(a), R.toFlat(a).map(exactAbs), 'leaf');
}

/** The elements of bounds as AVs, row-major. */
export function avsOf(b: Bounds): AV[] {
  const v = R.toFlat(b.val);
  const lo = R.toFlat(b.lo) as number[];
  const hi = R.toFlat(b.hi) as number[];
  const nan = R.toFlat(b.nan) as number[];
  const ex = R.toFlat(b.exact) as number[];
  return v.map((x, i) => ({ v: x, a: { exact: ex[i] === 1, lo: lo[i], hi: hi[i], nan: nan[i] === 1 }, dtype: b.val.dtype }));
}

export function boundsOfAVs(dtype: DType, shape: readonly number[], xs: readonly AV[], where: string): Bounds {
  for (const x of xs) if (x.dtype !== dtype) throw new Error(`harness bug at ${where}: element of ${x.dtype} in a ${dtype} result`);
  return finish(
    R.fromFlat(
      dtype,
      shape,
      xs.map((x) => x.v),
    ),
    xs.map((x) => x.a),
    where,
  );
}

/** Reduces every group of `axes` with `fn`; `dtype` is the result dtype. */
export function reduceRows(b: Bounds, axes: readonly number[], keepdims: boolean, dtype: DType, fn: (row: AV[]) => AV, where: string): Bounds {
  const g = R.reductionGroups(b.val.nd.shape, axes, keepdims);
  const xs = avsOf(b);
  return boundsOfAVs(
    dtype,
    g.shape,
    g.groups.map((idx) => fn(idx.map((i) => xs[i]))),
    where,
  );
}

/** Maps every group of `axes` to a group of the same size (softmax); the shape is kept. */
export function mapRows(b: Bounds, axes: readonly number[], dtype: DType, fn: (row: AV[]) => AV[], where: string): Bounds {
  const g = R.reductionGroups(b.val.nd.shape, axes, false);
  const xs = avsOf(b);
  const out = new Array<AV>(xs.length);
  for (const idx of g.groups) {
    const r = fn(idx.map((i) => xs[i]));
    idx.forEach((i, k) => {
      out[i] = r[k];
    });
  }
  return boundsOfAVs(dtype, b.val.nd.shape, out, where);
}

export function unaryBounds(op: UnaryOp, b: Bounds): Bounds {
  const out = avsOf(b).map((x) => avUnary(op, x));
  const dtype = out.length > 0 ? out[0].dtype : R.unaryDTypes(op, b.val.dtype).result;
  return boundsOfAVs(dtype, b.val.nd.shape, out, op);
}

/** A binary op with broadcasting; either side may be a weak JS number. */
export function binaryBounds(op: BinaryOp, a: Bounds | number, b: Bounds | number): Bounds {
  const sa = typeof a === 'number' ? [] : a.val.nd.shape;
  const sb = typeof b === 'number' ? [] : b.val.nd.shape;
  const shape = R.broadcastShapes(sa, sb);
  const n = R.sizeOf(shape);
  const side = (x: Bounds | number): AVOperand[] => {
    if (typeof x === 'number') return new Array<AVOperand>(n).fill(x);
    const xs = avsOf(x);
    // broadcast by index: the flat positions of a broadcast view of 0..size-1
    const idx = R.flatBroadcast(
      R.fromFlat(
        'float64',
        x.val.nd.shape,
        xs.map((_, i) => i),
      ),
      shape,
    );
    return idx.map((i) => xs[i as number]);
  };
  const A = side(a);
  const B = side(b);
  const out = A.map((x, i) => avBinary(op, x, B[i]));
  const ra: R.Operand = typeof a === 'number' ? a : a.val;
  const rb: R.Operand = typeof b === 'number' ? b : b.val;
  return boundsOfAVs(R.binaryResultDTypes(op, ra, rb).result, shape, out, op);
}

// Reductions mirroring the library API (the oracle decides errors and shapes) ---------

export const reduceBounds = {
  sum(b: Bounds, axis?: R.Axes, keepdims = false): Bounds {
    const d = R.reduceResultDType('sum', b.val.dtype);
    return reduceRows(b, R.reduceAxes(axis, b.val.nd.shape.length), keepdims, d, (r) => rowSum(r, d), 'sum');
  },
  prod(b: Bounds, axis?: R.Axes, keepdims = false): Bounds {
    const d = R.reduceResultDType('prod', b.val.dtype);
    return reduceRows(b, R.reduceAxes(axis, b.val.nd.shape.length), keepdims, d, (r) => rowProd(r, d), 'prod');
  },
  max(b: Bounds, axis?: R.Axes, keepdims = false): Bounds {
    return reduceRows(b, R.reduceAxes(axis, b.val.nd.shape.length), keepdims, b.val.dtype, (r) => rowExtreme(r, true), 'max');
  },
  min(b: Bounds, axis?: R.Axes, keepdims = false): Bounds {
    return reduceRows(b, R.reduceAxes(axis, b.val.nd.shape.length), keepdims, b.val.dtype, (r) => rowExtreme(r, false), 'min');
  },
  argmax(b: Bounds, axis?: number | null, keepdims = false): Bounds {
    return argBounds(b, axis, keepdims, true);
  },
  argmin(b: Bounds, axis?: number | null, keepdims = false): Bounds {
    return argBounds(b, axis, keepdims, false);
  },
  any(b: Bounds, axis?: R.Axes, keepdims = false): Bounds {
    return reduceRows(b, R.reduceAxes(axis, b.val.nd.shape.length), keepdims, 'bool', (r) => rowAnyAll(r, true), 'any');
  },
  all(b: Bounds, axis?: R.Axes, keepdims = false): Bounds {
    return reduceRows(b, R.reduceAxes(axis, b.val.nd.shape.length), keepdims, 'bool', (r) => rowAnyAll(r, false), 'all');
  },
  countNonzero(b: Bounds, axis?: R.Axes, keepdims = false): Bounds {
    return reduceRows(
      b,
      R.reduceAxes(axis, b.val.nd.shape.length),
      keepdims,
      'int32',
      (r) =>
        rowSum(
          r.map((x) => avCast(avCast(x, 'bool'), 'int32')),
          'int32',
        ),
      'countNonzero',
    );
  },
  mean(b: Bounds, axis?: R.Axes, keepdims = false): Bounds {
    const f = R.floatResultDType(b.val.dtype);
    return reduceRows(b, R.reduceAxes(axis, b.val.nd.shape.length), keepdims, f, (r) => (r.length === 0 ? exactAV(Number.NaN, f) : rowMean(r)), 'mean');
  },
  var(b: Bounds, axis?: R.Axes, keepdims = false, ddof = 0): Bounds {
    const f = R.floatResultDType(b.val.dtype);
    return reduceRows(b, R.reduceAxes(axis, b.val.nd.shape.length), keepdims, f, (r) => (r.length === 0 ? exactAV(Number.NaN, f) : rowVar(r, ddof)), 'var');
  },
  std(b: Bounds, axis?: R.Axes, keepdims = false, ddof = 0): Bounds {
    const f = R.floatResultDType(b.val.dtype);
    return reduceRows(b, R.reduceAxes(axis, b.val.nd.shape.length), keepdims, f, (r) => (r.length === 0 ? exactAV(Number.NaN, f) : rowStd(r, ddof)), 'std');
  },
  logsumexp(b: Bounds, axis?: R.Axes, keepdims = false): Bounds {
    return reduceRows(b, R.reduceAxes(axis, b.val.nd.shape.length), keepdims, R.floatResultDType(b.val.dtype), rowLogsumexp, 'logsumexp');
  },
  softmax(b: Bounds, axis: R.Axes = -1): Bounds {
    return mapRows(b, R.reduceAxes(axis, b.val.nd.shape.length), R.floatResultDType(b.val.dtype), (r) => rowSoftmax(r, false), 'softmax');
  },
  logSoftmax(b: Bounds, axis: R.Axes = -1): Bounds {
    return mapRows(b, R.reduceAxes(axis, b.val.nd.shape.length), R.floatResultDType(b.val.dtype), (r) => rowSoftmax(r, true), 'logSoftmax');
  },
  norm(b: Bounds, ord: R.NormOrd = null, axis?: R.Axes, keepdims = false): Bounds {
    const k = R.normKind(ord, axis, b.val.nd.shape.length);
    const f = R.floatResultDType(b.val.dtype);
    return reduceRows(b, k.axes, keepdims, f, (r) => (r.length === 0 ? rowNormEmpty(k.ord, f) : rowNorm(r, k.ord)), 'norm');
  },
};

/** The norm of an empty row: the formula on no elements (0, or 0^(1/p)). */
function rowNormEmpty(ord: number | 'fro', f: DType): AV {
  const v = R.vectorNormScalars([], f, ord);
  return exactAV(v, f);
}

function argBounds(b: Bounds, axis: number | null | undefined, keepdims: boolean, isMax: boolean): Bounds {
  const nd = b.val.nd.shape.length;
  if (axis === undefined || axis === null) {
    const xs = avsOf(b);
    return boundsOfAVs('int32', keepdims ? new Array<number>(nd).fill(1) : [], [rowArg(xs, isMax)], isMax ? 'argmax' : 'argmin');
  }
  return reduceRows(b, [R.normalizeAxis(axis, nd)], keepdims, 'int32', (r) => rowArg(r, isMax), isMax ? 'argmax' : 'argmin');
}

// ---------------------------------------------------------------------------------
// Scans
// ---------------------------------------------------------------------------------

/** Bounds of one line's inclusive prefixes. */
function scanLineBounds(op: R.ScanOp, xs: readonly AV[], dtype: DType): AV[] {
  const out: AV[] = [];
  if (op === 'cummax' || op === 'cummin') {
    for (let j = 1; j <= xs.length; j++) out.push(rowExtreme(xs.slice(0, j), op === 'cummax'));
    return out;
  }
  if (R.isFloat(dtype)) {
    if (op === 'cumsum') {
      const s = new FloatSum(dtype, accumulatorOf('scan', dtype));
      for (const x of xs) {
        s.add(x);
        out.push(s.result());
      }
    } else {
      const p = new FloatProd(dtype);
      for (const x of xs) {
        p.add(x);
        out.push(p.result());
      }
    }
    return out;
  }
  const vs = R.inclusiveScan(
    op,
    xs.map((x) => x.v),
    dtype,
  );
  let exact = true;
  return vs.map((v, j) => {
    exact &&= xs[j].a.exact;
    return exact ? exactAV(v, dtype) : settle(v, fullRange(dtype), dtype, op);
  });
}

/** Bounds of cumsum/cumprod/cummax/cummin (argument rules as the oracle's R.scan). */
export function scanBounds(op: R.ScanOp, b: Bounds, axis?: number | null, reverse = false, inclusive = true): Bounds {
  const dtype = R.scanResultDType(op, b.val.dtype);
  const xs = avsOf(b).map((x) => avCast(x, dtype));
  let shape: number[];
  let ax: number;
  if (axis === undefined || axis === null) {
    shape = [xs.length];
    ax = 0;
  } else {
    shape = [...b.val.nd.shape];
    ax = R.normalizeAxis(axis, shape.length);
  }
  const g = R.reductionGroups(shape, [ax], false);
  const out = new Array<AV>(xs.length);
  const id = exactAV(R.scanIdentity(op, dtype), dtype);
  for (const idx0 of g.groups) {
    const idx = reverse ? [...idx0].reverse() : idx0;
    const inc = scanLineBounds(
      op,
      idx.map((i) => xs[i]),
      dtype,
    );
    const line = inclusive ? inc : [id, ...inc.slice(0, -1)];
    idx.forEach((i, k) => {
      out[i] = line[k];
    });
  }
  return boundsOfAVs(dtype, shape, out, op);
}

// ---------------------------------------------------------------------------------
// Matrix products
// ---------------------------------------------------------------------------------

/** Bounds of a contraction (matmul, dot, inner, tensordot) of exact operands. */
export function contractionBounds(c: R.Contraction): Bounds {
  const d = c.dtype;
  const out = c.terms.map(([as, bs]): AV => {
    if (!R.isFloat(d)) return exactAV(R.dotScalars(as, bs, d), d);
    const s = new FloatSum(d, accumulatorOf('matmul', d), 2 * R.SCALE_EXP);
    for (let k = 0; k < as.length; k++) s.addProduct(as[k] as number, bs[k] as number);
    const r = s.result(as.length);
    // the formula's value is the exactly rounded sum of products (the oracle's)
    if (!sameValue(r.v, R.dotScalars(as, bs, d))) throw new Error('harness bug: contraction value differs from the oracle');
    return r;
  });
  return boundsOfAVs(d, c.shape, out, 'contraction');
}
