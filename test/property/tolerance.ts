/**
 * Tolerances for comparing the library against the reference oracle, written once.
 *
 * Rules:
 * - Integer and bool results: exact.
 * - Float results of correctly rounded operations are exact: + - * / sqrt, reciprocal,
 *   negative, abs, sign, square, relu, maximum/minimum, remainder (fmod-based, exact),
 *   comparisons, rounding ops, casts, where/clip and every view. For float16/bfloat16
 *   "compute in float32, round to the dtype" gives the correctly rounded result for
 *   these (float32 has more than 2p+2 bits for p = 11 and p = 8), so they are exact too.
 * - Transcendentals (and composites such as gelu) on float32/float64: a few ulps of the
 *   expected value (`ulps`), plus for an op that cancels (logaddexp near zero) an
 *   absolute part of `absUlps` ulps of the input magnitude (`scale`). gelu, silu and
 *   sigmoid are relative everywhere, their tails included.
 * - float16/bfloat16 results of inexact ops: computed in float32 and rounded, so the
 *   float32 tolerance plus one ulp of the result dtype.
 * - Inexact ops whose expected result is subnormal: any result of the same sign (or
 *   zero) below the smallest normal is accepted. Composite float32 formulas lose the
 *   subnormal range (sigmoid(-100) = 1/(1 + exp(100)) overflows to 0, silu(-101) =
 *   -101 * sigmoid(-101) multiplies a 10-bit subnormal), as flush-to-zero hardware does;
 *   exact ops (+ - * / sqrt, casts, ...) must still produce exact subnormals.
 * - NaN matches NaN (any payload); -0 matches +0. ±Inf must match exactly, except that
 *   for inexact ops an infinity is taken as 2^(maxExp+1) when measuring the distance
 *   (so a value that overflows in one and is the largest finite in the other is within
 *   tolerance when it should be).
 */
import * as R from '../reference/index.js';
import type { DType, Scalar } from '../reference/index.js';

export interface OpTolerance {
  /** Ulps of the expected value, for float32 and float64 results. */
  f32: number;
  f64: number;
  /** Ulps of the input magnitude (absolute error allowance), for cancelling ops. */
  absUlps?: number;
  /**
   * For an ill-conditioned op alone: the slope |f'| at the expected value, so one ulp of
   * the input (`scale`) is allowed through it (the result of f at an input within an ulp).
   */
  slope?: (expected: number) => number;
}

const EXACT: OpTolerance = { f32: 0, f64: 0 };
const LIBM: OpTolerance = { f32: 4, f64: 4 };

/**
 * The table. Ops not listed are exact. Keys are op names as in the library API
 * (`floorDivide` is listed because a huge quotient can be 1 ulp off when computed in
 * float32, NumPy's own float32 result included).
 */
export const TOLERANCES: Readonly<Record<string, OpTolerance>> = {
  exp: LIBM,
  exp2: LIBM,
  expm1: LIBM,
  log: LIBM,
  log2: LIBM,
  log10: LIBM,
  log1p: LIBM,
  sin: LIBM,
  cos: LIBM,
  tan: LIBM,
  arcsin: LIBM,
  arccos: LIBM,
  arctan: LIBM,
  sinh: LIBM,
  cosh: LIBM,
  tanh: LIBM,
  arcsinh: LIBM,
  arccosh: LIBM,
  arctanh: LIBM,
  erf: LIBM,
  arctan2: LIBM,
  power: LIBM,
  rsqrt: { f32: 2, f64: 2 },
  // erfinv near ±1 is ill-conditioned: f'(x) = (√π/2)·e^(y²) ≈ 43 at y = 2, so one ulp of x
  // moves y by ~20 ulps; the float64 Newton step's erf residual is about an ulp of x.
  erfinv: { f32: 8, f64: 8, slope: (y) => (Math.sqrt(Math.PI) / 2) * Math.exp(y * y) },
  // Relative everywhere, tails included (test/unit/activations.test.ts sweeps them): float32
  // within 0.51 ulp of the exact value (the oracle rounded to float32 is within 0.5), float64
  // from libm exp/erfc with the rounding of x/sqrt2 corrected (prelude-text.ts f64ActivationHelpers).
  sigmoid: { f32: 1, f64: 4 },
  silu: { f32: 1, f64: 4 },
  gelu: { f32: 1, f64: 6 },
  // float32 is computed in double and is relative too; float64 keeps an absolute part where
  // max + log1p(e^-|x-y|) cancels towards 0 (|result| << 1): log1p's rounding, ~1 ulp of ln2.
  logaddexp: { f32: 1, f64: 4, absUlps: 2 },
  floorDivide: { f32: 1, f64: 1 },
  // glibc's cbrt and hypot are within an ulp; Metal's (prelude) within two
  cbrt: LIBM,
  hypot: LIBM,
};

/** Ops whose float results are not exact (the keys of the table). */
export const INEXACT_OPS: ReadonlySet<string> = new Set(Object.keys(TOLERANCES));

export function toleranceOf(op: string): OpTolerance {
  return TOLERANCES[op] ?? EXACT;
}

export function isInexact(op: string, resultDType: DType): boolean {
  return R.isFloat(resultDType) && INEXACT_OPS.has(op);
}

/** The combined tolerance of a chain of ops (sum of the inexact ones). */
export function combinedTolerance(ops: readonly string[]): OpTolerance {
  const t = { f32: 0, f64: 0, absUlps: 0 };
  for (const op of ops) {
    const o = toleranceOf(op);
    t.f32 += o.f32;
    t.f64 += o.f64;
    t.absUlps += o.absUlps ?? 0;
  }
  // a slope is the op's own: it applies where the op is alone
  const only = ops.length === 1 ? toleranceOf(ops[0]).slope : undefined;
  return only ? { ...t, slope: only } : t;
}

/**
 * The largest allowed |actual - expected| for one element of a float dtype, given the
 * expected value and the magnitude of the op's inputs (`scale`, 0 if unknown).
 */
export function allowedError(expected: number, dtype: DType, tol: OpTolerance, scale = 0): number {
  if (tol.f32 === 0 && tol.f64 === 0 && !tol.absUlps) return 0;
  const e = Math.abs(expected);
  const through = (d: DType): number => (tol.slope && scale > 0 ? tol.slope(expected) * R.ulp(scale, d) : 0);
  if (dtype === 'float64') {
    return tol.f64 * R.ulp(e, 'float64') + (tol.absUlps ?? 0) * R.ulp(scale, 'float64') + through('float64');
  }
  // float32 computation; float16/bfloat16 round the float32 result once more.
  let err = tol.f32 * R.ulp(e, 'float32') + (tol.absUlps ?? 0) * R.ulp(scale, 'float32') + through('float32');
  if (dtype === 'float16' || dtype === 'bfloat16') err += R.ulp(e + err, dtype);
  return err;
}

/**
 * The input magnitude used for the absolute part of a tolerance: the largest finite
 * |input| (infinite inputs do not cancel).
 */
export function inputScale(inputs: readonly Scalar[]): number {
  let m = 0;
  for (const x of inputs) {
    const v = typeof x === 'bigint' ? Math.abs(Number(x)) : Math.abs(x);
    if (Number.isFinite(v) && v > m) m = v;
  }
  return m;
}

/** Smallest normal value of a float dtype. */
export function minNormal(dtype: DType): number {
  const fmt = R.DTYPES[dtype].format;
  if (!fmt) throw new Error(`${dtype} is not a float dtype`);
  return R.pow2(fmt.minExp);
}

/** Both below the smallest normal, with the same sign or zero (see the subnormal rule). */
export function tinySameSign(a: number, e: number, dtype: DType): boolean {
  const m = minNormal(dtype);
  return Math.abs(a) < m && Math.abs(e) < m && (a === 0 || e === 0 || a > 0 === e > 0);
}

/** ±Inf as the first power of two beyond the dtype's range (for distances only). */
function finiteProxy(x: number, dtype: DType): number {
  if (Number.isFinite(x) || Number.isNaN(x)) return x;
  const fmt = R.DTYPES[dtype].format;
  if (!fmt) return x;
  // float64 has no power of two beyond its range: use its largest finite value.
  const big = fmt.maxExp >= 1023 ? Number.MAX_VALUE : R.pow2(fmt.maxExp + 1);
  return x > 0 ? big : -big;
}

function show(x: Scalar): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

/** Element equality for exact comparisons: NaN == NaN, -0 == +0, bigint/number by value. */
export function sameValue(a: Scalar, b: Scalar): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    try {
      return BigInt(a) === BigInt(b);
    } catch {
      return false;
    }
  }
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return a === b;
}

/**
 * Compares flat results. `opsUsed` are the op names that produced them (their
 * tolerances add up); `scale` optionally gives per-element input magnitudes for the
 * absolute part. Returns null when everything is within tolerance, else a readable
 * description of the first mismatches.
 */
export function compare(
  actual: ArrayLike<Scalar>,
  expected: ArrayLike<Scalar>,
  dtype: DType,
  opsUsed: readonly string[],
  scale?: ArrayLike<number>,
): string | null {
  if (actual.length !== expected.length) {
    return `length mismatch: got ${actual.length} elements, expected ${expected.length}`;
  }
  const tol = R.isFloat(dtype) ? combinedTolerance(opsUsed) : EXACT;
  const inexact = tol.f32 > 0 || tol.f64 > 0 || (tol.absUlps ?? 0) > 0;
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (sameValue(a, e)) continue;
    let ok = false;
    let detail = '';
    if (inexact && typeof a === 'number' && typeof e === 'number' && tinySameSign(a, e, dtype)) continue;
    if (inexact && typeof a === 'number' && typeof e === 'number' && !Number.isNaN(a) && !Number.isNaN(e)) {
      const pa = finiteProxy(a, dtype);
      const pe = finiteProxy(e, dtype);
      const allowed = allowedError(pe, dtype, tol, scale ? scale[i] : 0);
      const diff = Math.abs(pa - pe);
      ok = diff <= allowed;
      detail = ` (|diff| ${diff.toPrecision(3)} = ${(diff / R.ulp(pe, dtype)).toPrecision(3)} ulp, allowed ${allowed.toPrecision(3)})`;
    }
    if (!ok) {
      count++;
      if (bad.length < 8) bad.push(`  [${i}] got ${show(a)}, expected ${show(e)}${detail}`);
    }
  }
  if (count === 0) return null;
  const opsText = opsUsed.length > 0 ? opsUsed.join(', ') : 'exact ops';
  return `${count} of ${expected.length} elements differ (dtype ${dtype}; ${opsText}):\n${bad.join('\n')}`;
}

// ---------------------------------------------------------------------------------
// Accumulation: reductions, scans and matrix products
// ---------------------------------------------------------------------------------

/**
 * How the library accumulates a float reduction, written once per op family and dtype:
 * `u` is the unit roundoff of the accumulator, `eta` the largest absolute error of one
 * step whose exact result is subnormal (0 where such steps are exact, as additions
 * are), `max` the largest finite accumulator value (beyond it a partial result may
 * overflow to ±Inf, and Inf - Inf give NaN).
 *
 * - sum (and mean's sum, var's sum of squares, norms), prod, and the float scans
 *   (cumsum, cumprod) accumulate in double whatever the dtype, and round the total (each
 *   prefix, for scans) to the dtype once (src/codegen/c.ts: accType/reduceFinal).
 * - matmul (dot, inner and tensordot go through it) accumulates with FMA in the compute
 *   type, float32 for float16/bfloat16/float32 and double for float64, and rounds the
 *   float32 total once more to float16/bfloat16.
 *
 * n accumulation steps are off by at most gamma(n, u) * sum|term| + n * eta in any
 * order (lanes, pairwise folds): Higham, "Accuracy and Stability of Numerical
 * Algorithms", 2nd ed., sections 3.1 and 4.2. A product of n + 1 factors is within
 * gamma(n, u) of the exact one, relatively, while no partial product leaves the normal
 * range of the accumulator (the bounds check that separately).
 */
export interface Accumulator {
  u: number;
  eta: number;
  max: number;
}

// eta is the absolute error of one step that underflows: half a subnormal ulp, but 2^-1075
// is not a double (it rounds to 0), so float64 takes the whole ulp 2^-1074.
const DOUBLE_ACC: Accumulator = { u: 2 ** -53, eta: 2 ** -1074, max: Number.MAX_VALUE };
const FLOAT_ACC: Accumulator = { u: 2 ** -24, eta: 2 ** -150, max: (2 - 2 ** -23) * 2 ** 127 };

export type AccumulatingOp = 'sum' | 'prod' | 'scan' | 'matmul';

export function accumulatorOf(op: AccumulatingOp, dtype: DType): Accumulator {
  if (op === 'matmul') return dtype === 'float64' ? DOUBLE_ACC : FLOAT_ACC;
  return DOUBLE_ACC;
}

/** gamma(n) = n u / (1 - n u), rounded up (the float64 evaluation is inflated by 2^-40). */
export function gamma(n: number, u: number): number {
  if (n <= 0) return 0;
  const nu = n * u;
  if (nu >= 0.5) return Number.POSITIVE_INFINITY;
  return (nu / (1 - nu)) * (1 + 2 ** -40);
}

/** An upper bound on the exact sum of non-negative doubles summed left to right in float64. */
export function sumUpper(total: number, count: number): number {
  return total * (1 + (count + 2) * 2 ** -52);
}

/**
 * Formula vs math: how far (in ulps of the result dtype, beyond the bounds of the
 * library's formula) the oracle's exactly rounded value may lie, for the harness's own
 * consistency check (reduce.property.test.ts, "oracle vs formula bounds"). The bounds
 * follow the library's formula step by step (each elementwise step rounds to the dtype),
 * so where that formula rounds more than once the exactly rounded result can be a few
 * ulps away even when everything is correct. Ops not listed must lie inside the bounds.
 */
export const FORMULA_SLACK_ULPS: Readonly<Record<string, number>> = {
  mean: 1,
  var: 4,
  std: 2,
  logsumexp: 2,
  softmax: 4,
  logSoftmax: 4,
  norm: 2,
};
