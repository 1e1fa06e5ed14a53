/**
 * The composite reductions (mean, var, std, logsumexp, softmax, logSoftmax, norm)
 * against the oracle's own float64 computation, with tolerances from the mathematics
 * of each function (its condition and the compute precision), not from the library's
 * formula: reduce-bounds.ts bounds a library that follows its formula step by step; a
 * formula that loses accuracy would pass those bounds and fails here.
 *
 * The oracle computes each composite exactly (test/reference/reduce.ts) on the input cast
 * to float64 (exact for every float input), rounded once to float64. The library's
 * result in dtype d (compute precision u: 2^-53 for float64 results, else float32's
 * 2^-24) may differ by two ulps of d plus:
 * - mean: (n + 2) u mean|x|;
 * - var: ((n + 4) u sum((x - mean)^2) + (n u)^2 sum(x^2)) / (n - ddof), the error of a
 *   two-pass computation (a one-pass formula that cancels is not excused);
 * - std: the square root of var's interval;
 * - logsumexp, logSoftmax: (n + 16) u (1 + max|x|) absolute (the shift and exp/log);
 * - softmax: that absolute error of the exponent, relative to the element;
 * - norm: (n + 16) u (2 + |p| + 1/|p|) relative (max/min/count norms: exact up to rounding).
 * float16/bfloat16 logsumexp, softmax, logSoftmax and norm take their elementwise steps in
 * the dtype itself (only sums accumulate wider), so those add 8 u_h (1 + max|x| + |x_i| +
 * log(n + 1)) to the exponent's error (norm: 8 u_h (2 + |p| + 1/|p|) relative), u_h the
 * dtype's unit roundoff (see allowed()).
 * Checked where every input is finite and of magnitude in [2^-40, 2^40] (or zero), so no
 * float32 step may overflow or underflow; outside, the formula bounds still apply.
 */
import * as R from '../reference/index.js';
import type { DType, RefArray, Scalar } from '../reference/index.js';

export type CompositeOp = 'mean' | 'var' | 'std' | 'logsumexp' | 'softmax' | 'logSoftmax' | 'norm';

export const COMPOSITE_OPS: ReadonlySet<string> = new Set<CompositeOp>(['mean', 'var', 'std', 'logsumexp', 'softmax', 'logSoftmax', 'norm']);

/** One composite call's arguments (softmax/logSoftmax: `axis` as given, keepdims unused). */
export interface CompositeCall {
  op: CompositeOp;
  axis: R.Axes;
  keepdims: boolean;
  ddof: number;
  ord: R.NormOrd;
}

const LIMIT = 2 ** 40;

/** Whether the inputs lie where no float32 step of a composite can overflow or underflow. */
export function inCheckedDomain(x: RefArray): boolean {
  return R.toFlat(x).every((s) => {
    const v = Math.abs(R.toNumber(s));
    return Number.isFinite(v) && (v === 0 || (v >= 1 / LIMIT && v <= LIMIT));
  });
}

/** The oracle's float64 value of the call. */
export function oracle64(c: CompositeCall, x: RefArray): RefArray {
  const x64 = R.astype(x, 'float64');
  switch (c.op) {
    case 'mean':
      return R.mean(x64, c.axis, c.keepdims);
    case 'var':
      return R.var(x64, c.axis, c.keepdims, c.ddof);
    case 'std':
      return R.std(x64, c.axis, c.keepdims, c.ddof);
    case 'logsumexp':
      return R.logsumexp(x64, c.axis, c.keepdims);
    case 'softmax':
      return R.softmax(x64, c.axis === undefined ? -1 : c.axis);
    case 'logSoftmax':
      return R.logSoftmax(x64, c.axis === undefined ? -1 : c.axis);
    case 'norm':
      return R.norm(x64, c.ord, c.axis, c.keepdims);
  }
}

/** For every output element, the input elements it is computed from. */
function rowsOf(c: CompositeCall, x: RefArray): number[][] {
  const shape = x.nd.shape;
  const nd = shape.length;
  const xs = R.toFlat(x).map((s) => R.toNumber(s));
  if (c.op === 'softmax' || c.op === 'logSoftmax') {
    const g = R.reductionGroups(shape, R.reduceAxes(c.axis === undefined ? -1 : c.axis, nd), false);
    const out = new Array<number[]>(xs.length);
    for (const idx of g.groups) {
      const row = idx.map((i) => xs[i]);
      for (const i of idx) out[i] = row;
    }
    return out;
  }
  const axes = c.op === 'norm' ? R.normKind(c.ord, c.axis, nd).axes : R.reduceAxes(c.axis, nd);
  return R.reductionGroups(shape, axes, c.keepdims).groups.map((idx) => idx.map((i) => xs[i]));
}

/**
 * Unit roundoff of the steps that float16/bfloat16 logsumexp, softmax, logSoftmax and norm
 * take in their own dtype (src/ops/reduce.ts: only mean, var and std go through float32;
 * sums accumulate in double). 0 for the other dtypes, whose steps are covered by `u`.
 */
function halfStepRoundoff(op: CompositeOp, d: DType): number {
  if (op === 'mean' || op === 'var' || op === 'std') return 0;
  if (d === 'float16') return 2 ** -11;
  if (d === 'bfloat16') return 2 ** -8;
  return 0;
}

/** The allowed |got - want| for one element (want: the float64 oracle value). */
function allowed(c: CompositeCall, row: readonly number[], want: number, xi: number, d: DType, maxAbs: number): number {
  const u = d === 'float64' ? 2 ** -53 : 2 ** -24;
  const n = row.length;
  const rounding = 2 * R.ulp(want, d);
  // A half-precision step rounds x - shift (|.| <= maxAbs + |x_i|), each exp (relative
  // error u_h (1 + |t_j|), so the sum's relative error is u_h (1 + 2 maxAbs)), the sum
  // to the dtype, the log (|log s| <= log n + ...) and the last subtract or divide:
  // at most 4 u_h (1 + maxAbs + |x_i| + log(n + 1)) absolute in the exponent, doubled
  // for the second-order terms. Norms: the abs, power (or square), sum rounding and
  // root each add u_h relative, scaled by p and 1/p.
  const uh = halfStepRoundoff(c.op, d);
  const halfExponent = 8 * uh * (1 + maxAbs + Math.abs(xi) + Math.log(n + 1));
  switch (c.op) {
    case 'mean':
      return rounding + (n + 2) * u * (row.reduce((s, v) => s + Math.abs(v), 0) / n);
    case 'var':
    case 'std': {
      // the two-pass bound: (n + 4) u of the centered sum, plus the mean's error squared
      // ((n u)^2 sum(x^2)): a one-pass E[x^2] - E[x]^2 in the compute precision is off by
      // u sum(x^2) and fails where it cancels
      const k = Math.max(1, n - c.ddof);
      const centered = c.op === 'var' ? want * k : want * want * k;
      const e = ((n + 4) * u * centered + (n * u) ** 2 * row.reduce((s, v) => s + v * v, 0)) / k;
      if (c.op === 'var') return rounding + e;
      // std = sqrt(var): the widest distance from want to sqrt of var's interval
      const v = want * want;
      return rounding + Math.max(Math.sqrt(v + e) - want, want - Math.sqrt(Math.max(0, v - e)));
    }
    case 'logsumexp':
    case 'logSoftmax':
      return rounding + (n + 16) * u * (1 + maxAbs + Math.abs(xi)) + halfExponent;
    case 'softmax': {
      // the exponent's error δ scales the element by e^±δ; a softmax value is at most 1,
      // so where e^δ overflows (|x| near 2^40 in float32: δ in the hundreds) anything in
      // [0, 1] is allowed (0 · Inf would be NaN and reject everything)
      const grow = Math.expm1((n + 16) * u * (1 + maxAbs + Math.abs(xi)) + halfExponent);
      return rounding + Math.min(1, Number.isFinite(grow) ? Math.abs(want) * grow : 1) + 2 * R.ulp(0, d);
    }
    case 'norm': {
      const p = c.ord === null || c.ord === 'fro' ? 2 : c.ord;
      if (p === 0 || !Number.isFinite(p)) return rounding;
      return rounding + Math.abs(want) * ((n + 16) * u + 8 * uh) * (2 + Math.abs(p) + 1 / Math.abs(p));
    }
  }
}

/** Whether sum |x|^p of the row (p of a p-norm; 2 for the default and Frobenius norms) passes the dtype's largest finite value. */
function powerSumOverflows(ord: R.NormOrd, row: readonly number[], d: DType): boolean {
  const p = ord === null || ord === 'fro' ? 2 : ord;
  if (p === 0 || !Number.isFinite(p)) return false;
  return row.reduce((s, v) => s + Math.abs(v) ** p, 0) > R.maxFinite(d);
}

/**
 * Compares the library's values `got` (row-major, of dtype `d`) with the oracle's float64
 * value of the call on `x`. Returns null or a description of the first elements off.
 */
export function checkComposite(what: string, c: CompositeCall, x: RefArray, got: readonly Scalar[], d: DType): string | null {
  if (!inCheckedDomain(x)) return null;
  const want = R.toFlat(oracle64(c, x)).map((s) => R.toNumber(s));
  if (want.length !== got.length) return `${what}: ${got.length} values, the oracle has ${want.length}`;
  const rows = rowsOf(c, x);
  const xs = R.toFlat(x).map((s) => R.toNumber(s));
  // softmax rows are shared by their elements: max |x| once per row, not per element
  const maxAbsOf = new Map<readonly number[], number>();
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 4; i++) {
    const w = want[i];
    const g = R.toNumber(got[i]);
    // NaN/Inf results (empty rows, ddof >= n, log of 0, a value past the dtype's range)
    // are the formula bounds' to check
    if (!Number.isFinite(R.roundFloat(w, d))) continue;
    // so is a norm whose sum of |x|^p leaves the dtype's range (the library sums in double
    // but rounds that sum to the dtype before the root, as NumPy's float16 norm overflows)
    if (c.op === 'norm' && powerSumOverflows(c.ord, rows[i], d)) continue;
    const xi = c.op === 'softmax' || c.op === 'logSoftmax' ? xs[i] : 0;
    let maxAbs = maxAbsOf.get(rows[i]);
    if (maxAbs === undefined) {
      maxAbs = rows[i].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      maxAbsOf.set(rows[i], maxAbs);
    }
    const tol = allowed(c, rows[i], w, xi, d, maxAbs);
    if (!(Math.abs(g - w) <= tol)) bad.push(`  [${i}] got ${g}, float64 oracle ${w}, allowed ±${tol.toPrecision(3)} (${d})`);
  }
  return bad.length > 0 ? `${what}: off the float64 oracle\n${bad.join('\n')}` : null;
}
