/**
 * Error bounds for random graphs.
 *
 * A single op is compared with the tolerance table (tolerance.ts). A deep graph cannot
 * be: an inexact op (sin, exp, ...) followed by a subtraction, a floor, a comparison or
 * a cast to an integer can turn a 1-ulp difference into any difference. So alongside the
 * oracle's value of every element we track what a correct library may return for it:
 *
 * - `exact`: the element must equal the oracle bit for bit (NaN = NaN, -0 = +0).
 *   Every element whose inputs are exact and whose op is exact stays exact.
 * - otherwise an interval [lo, hi] of possible non-NaN values plus a flag `nan` (NaN
 *   possible). Inexact ops widen the interval by their tolerance; monotone and other
 *   well-understood functions map intervals to intervals (the image of the input box);
 *   anything else gives the full range of the dtype. Discrete results (bool, small
 *   integer ranges) whose interval collapses to one value become exact again, so a
 *   comparison of a slightly uncertain value far from the threshold is still checked
 *   exactly downstream.
 *
 * Signed zeros: `maximum(-0, +0)` may return either zero (docs/semantics.md), so such an
 * element becomes the interval [0, 0] without a known sign, and any interval that
 * contains 0 is taken to contain both zeros (1/x of it is [-Inf, Inf]).
 *
 * The oracle's own value must lie in its bounds; this is asserted at every node, and
 * harness.test.ts checks that oracle results perturbed within tolerance stay in bounds.
 */
import * as R from '../reference/index.js';
import type { BinaryOp, DType, RefArray, Scalar, UnaryOp } from '../reference/index.js';
import { applyView, evalRef, isScalar, type Arg, type Node, topoOrder } from './graphs.js';
import { allowedError, inputScale, isInexact, minNormal, sameValue, toleranceOf } from './tolerance.js';
import { combineBounds } from './reduce-nodes.js';

/** Abstract value of one element. */
export interface Abs {
  exact: boolean;
  lo: number;
  hi: number;
  nan: boolean;
}

/** Per-node bounds, as arrays with the node's shape (views apply to all of them). */
export interface Bounds {
  val: RefArray;
  lo: RefArray;
  hi: RefArray;
  nan: RefArray;
  exact: RefArray;
}

const INF = Number.POSITIVE_INFINITY;
const EMPTY_LO = INF;
const EMPTY_HI = Number.NEGATIVE_INFINITY;

function num(x: Scalar): number {
  return R.toNumber(x);
}

export function exactAbs(v: Scalar): Abs {
  const x = num(v);
  if (Number.isNaN(x)) return { exact: true, lo: EMPTY_LO, hi: EMPTY_HI, nan: true };
  return { exact: true, lo: x, hi: x, nan: false };
}

export function isEmpty(a: Abs): boolean {
  return a.lo > a.hi;
}

function containsZero(a: Abs): boolean {
  return !isEmpty(a) && a.lo <= 0 && a.hi >= 0;
}

function containsNonZero(a: Abs): boolean {
  return !isEmpty(a) && (a.lo !== 0 || a.hi !== 0);
}

/** Possible truthiness outcomes of an element: [canBeFalse, canBeTrue]. */
export function truthSet(a: Abs): [boolean, boolean] {
  return [containsZero(a), containsNonZero(a) || a.nan];
}

export function fullRange(dtype: DType): Abs {
  const info = R.DTYPES[dtype];
  if (info.kind === 'float') return { exact: false, lo: Number.NEGATIVE_INFINITY, hi: INF, nan: true };
  return { exact: false, lo: num(info.min ?? 0n), hi: num(info.max ?? 0n), nan: false };
}

function inRange(lo: number, hi: number, dtype: DType): boolean {
  const info = R.DTYPES[dtype];
  return lo >= num(info.min ?? 0n) && hi <= num(info.max ?? 0n);
}

export function interval(lo: number, hi: number, nan: boolean): Abs {
  return { exact: false, lo, hi, nan };
}

export function hull(a: Abs, b: Abs): Abs {
  return { exact: false, lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi), nan: a.nan || b.nan };
}

export function boolFromSet(canFalse: boolean, canTrue: boolean): Abs {
  return { exact: false, lo: canFalse ? 0 : 1, hi: canTrue ? 1 : 0, nan: false };
}

/** Rounds interval endpoints to a float dtype (rounding is monotone). */
export function roundInterval(a: Abs, dtype: DType): Abs {
  if (isEmpty(a)) return a;
  return { ...a, lo: R.roundFloat(a.lo, dtype), hi: R.roundFloat(a.hi, dtype) };
}

function proxy(x: number, dtype: DType): number {
  if (Number.isFinite(x)) return x;
  const fmt = R.DTYPES[dtype].format;
  const big = !fmt || fmt.maxExp >= 1023 ? Number.MAX_VALUE : R.pow2(fmt.maxExp + 1);
  return x > 0 ? big : -big;
}

/** Widens a float interval by an inexact op's tolerance, then rounds to the dtype. */
export function widen(a: Abs, dtype: DType, op: string, scale: number): Abs {
  if (isEmpty(a)) return a;
  const plo = proxy(a.lo, dtype);
  const phi = proxy(a.hi, dtype);
  const m = Math.max(Math.abs(plo), Math.abs(phi));
  // float64: the oracle's own evaluation of the endpoints can be an ulp or two off, and
  // is not exactly monotone at that level
  const err = allowedError(m, dtype, toleranceOf(op), scale) + (dtype === 'float64' ? 2 * R.ulp(m, 'float64') : 0);
  const pmax = proxy(INF, dtype);
  let lo = plo - err;
  let hi = phi + err;
  if (lo <= -pmax) lo = Number.NEGATIVE_INFINITY;
  if (hi >= pmax) hi = INF;
  // subnormal results of inexact ops: anything tiny of the same sign (tolerance.ts)
  const mn = minNormal(dtype);
  if (lo > -mn && lo < mn) lo = lo > 0 ? 0 : -mn;
  if (hi > -mn && hi < mn) hi = hi < 0 ? 0 : mn;
  // round outward to the dtype's grid
  let rlo = R.roundFloat(lo, dtype);
  let rhi = R.roundFloat(hi, dtype);
  if (rlo > lo) rlo = R.nextDown(rlo, dtype);
  if (rhi < hi) rhi = R.nextUp(rhi, dtype);
  return { exact: false, lo: rlo, hi: rhi, nan: a.nan };
}

// ---------------------------------------------------------------------------------
// Casts
// ---------------------------------------------------------------------------------

export function castAbs(x: Abs, v: Scalar, from: DType, to: DType): Abs {
  if (x.exact || from === to) return x.exact ? exactAbs(R.castScalar(v, from, to)) : x;
  const src = R.DTYPES[from];
  const dst = R.DTYPES[to];
  if (dst.kind === 'bool') {
    const [f, t] = truthSet(x);
    return boolFromSet(f, t);
  }
  if (isEmpty(x) && src.kind === 'float') {
    // only NaN: float → int gives 0, float → float stays NaN
    return dst.kind === 'float' ? x : { exact: false, lo: 0, hi: 0, nan: false };
  }
  if (src.kind !== 'float') {
    if (dst.kind === 'float') return roundInterval(x, to);
    return inRange(x.lo, x.hi, to) ? { ...x } : fullRange(to);
  }
  if (dst.kind === 'float') return roundInterval(x, to);
  // float → int: truncate and saturate (monotone); NaN → 0
  let lo = num(R.saturatingFloatToInt(x.lo, to));
  let hi = num(R.saturatingFloatToInt(x.hi, to));
  if (x.nan) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  return { exact: false, lo, hi, nan: false };
}

// ---------------------------------------------------------------------------------
// Unary
// ---------------------------------------------------------------------------------

const INC = new Set<UnaryOp>([
  'cbrt',
  'sqrt',
  'exp',
  'exp2',
  'expm1',
  'log',
  'log2',
  'log10',
  'log1p',
  'arcsin',
  'arctan',
  'sinh',
  'tanh',
  'arcsinh',
  'arccosh',
  'arctanh',
  'erf',
  'erfinv',
  'sigmoid',
  'relu',
  'floor',
  'ceil',
  'round',
  'trunc',
  'sign',
]);

const DOMAIN: Partial<Record<UnaryOp, [number, number]>> = {
  sqrt: [0, INF],
  rsqrt: [0, INF],
  log: [0, INF],
  log2: [0, INF],
  log10: [0, INF],
  log1p: [-1, INF],
  arcsin: [-1, 1],
  arccos: [-1, 1],
  arctanh: [-1, 1],
  erfinv: [-1, 1],
  arccosh: [1, INF],
};

/** Minimum points of the non-monotone activations (found numerically; f' = 0 there). */
const GELU_MIN_X = -0.7517915246935645;
const SILU_MIN_X = -1.2784645427610737;
const LARGE = 1e6; // beyond this |x| the periodic functions are taken as unknown

function f64(op: UnaryOp, x: number): number {
  return R.floatUnary(op, x);
}

/** Image of [lo, hi] (non-empty, no NaN) under a float unary op, in float64. */
function floatUnaryImage(op: UnaryOp, lo0: number, hi0: number): Abs {
  let lo = lo0;
  let hi = hi0;
  let nan = false;
  const dom = DOMAIN[op];
  if (dom) {
    if (lo < dom[0] || hi > dom[1]) nan = true;
    lo = Math.max(lo, dom[0]);
    hi = Math.min(hi, dom[1]);
    if (lo > hi) return interval(EMPTY_LO, EMPTY_HI, true);
  }
  const ends = (a: number, b: number): Abs => interval(Math.min(a, b), Math.max(a, b), nan);
  if (INC.has(op)) return ends(f64(op, lo), f64(op, hi));
  switch (op) {
    case 'negative':
    case 'arccos':
      return ends(f64(op, lo), f64(op, hi));
    case 'rsqrt':
      return lo <= 0 ? interval(Number.NEGATIVE_INFINITY, INF, nan) : ends(f64(op, lo), f64(op, hi));
    case 'reciprocal':
      return lo <= 0 && hi >= 0 ? interval(Number.NEGATIVE_INFINITY, INF, nan) : ends(1 / lo, 1 / hi);
    case 'abs':
    case 'square':
    case 'cosh': {
      const a = f64(op, lo);
      const b = f64(op, hi);
      if (lo <= 0 && hi >= 0) return interval(f64(op, 0), Math.max(a, b), nan);
      return ends(a, b);
    }
    case 'gelu':
    case 'silu': {
      const xm = op === 'gelu' ? GELU_MIN_X : SILU_MIN_X;
      // at -Inf both are -Inf * 0 = NaN; the limit is 0
      if (lo === Number.NEGATIVE_INFINITY) nan = true;
      const l = lo === Number.NEGATIVE_INFINITY ? -1e300 : lo;
      const a = f64(op, l);
      const b = f64(op, hi);
      if (hi === Number.NEGATIVE_INFINITY) return interval(EMPTY_LO, EMPTY_HI, true);
      let mn = Math.min(a, b);
      const mx = Math.max(a, b, lo === Number.NEGATIVE_INFINITY ? 0 : Number.NEGATIVE_INFINITY);
      if (l <= xm && hi >= xm) mn = Math.min(mn, f64(op, xm) * (1 + 1e-12));
      return interval(mn, mx, nan);
    }
    case 'sin':
    case 'cos':
    case 'tan': {
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) nan = true; // sin(±Inf) = NaN
      const full = op === 'tan' ? interval(Number.NEGATIVE_INFINITY, INF, nan) : interval(-1, 1, nan);
      if (!Number.isFinite(lo) || !Number.isFinite(hi) || Math.max(-lo, hi) > LARGE || hi - lo >= Math.PI) return full;
      // critical points (sin: pi/2 + k pi; cos: k pi) or poles (tan: pi/2 + k pi), with a margin
      const off = op === 'cos' ? 0 : Math.PI / 2;
      const margin = 1e-6;
      const k0 = Math.ceil((lo - margin - off) / Math.PI);
      const k1 = Math.floor((hi + margin - off) / Math.PI);
      if (op === 'tan') return k0 <= k1 ? full : ends(f64(op, lo), f64(op, hi));
      let mn = Math.min(f64(op, lo), f64(op, hi));
      let mx = Math.max(f64(op, lo), f64(op, hi));
      for (let k = k0; k <= k1; k++) {
        const y = f64(op, off + k * Math.PI);
        mn = Math.min(mn, y > 0 ? 1 : -1, y);
        mx = Math.max(mx, y > 0 ? 1 : -1, y);
      }
      return interval(mn, mx, nan);
    }
    default:
      throw new Error(`floatUnaryImage: no rule for ${op}`);
  }
}

/** Enumerates a small discrete input range through the oracle's scalar kernel. */
function enumerateUnary(op: UnaryOp, compute: DType, result: DType, lo: number, hi: number): Abs {
  let mn = INF;
  let mx = Number.NEGATIVE_INFINITY;
  for (let x = lo; x <= hi; x++) {
    const y = num(R.unaryScalar(op, compute, result, R.DTYPES[compute].big ? BigInt(x) : x));
    mn = Math.min(mn, y);
    mx = Math.max(mx, y);
  }
  return interval(mn, mx, false);
}

const SMALL_RANGE = 64;

/** Abstract unary op; `x` is already in the computation dtype. */
export function unaryAbs(op: UnaryOp, compute: DType, result: DType, x: Abs, xv: Scalar, scale: number): Abs {
  // signbit of a NaN depends on its sign bit, which the oracle (JS numbers) cannot see
  if (op === 'signbit' && (x.nan || Number.isNaN(num(xv)))) return boolFromSet(true, true);
  if (op === 'signbit' && !x.exact && R.DTYPES[compute].kind === 'float') return boolFromSet(x.hi >= 0, x.lo <= 0);
  if (x.exact) {
    // relu(-0) is maximum(-0, 0): either zero
    if (op === 'relu' && Object.is(xv, -0)) return interval(0, 0, false);
    return { exact: true, lo: 0, hi: 0, nan: false }; // value filled in by the caller
  }
  const kind = R.DTYPES[compute].kind;
  // predicates
  if (op === 'isnan') return boolFromSet(!isEmpty(x), x.nan);
  if (op === 'isinf') {
    const canInf = !isEmpty(x) && (x.lo === Number.NEGATIVE_INFINITY || x.hi === INF);
    const canFinite = !isEmpty(x) && !(x.lo === x.hi && !Number.isFinite(x.lo));
    return boolFromSet(canFinite || x.nan, canInf);
  }
  if (op === 'isfinite') {
    const canInf = !isEmpty(x) && (x.lo === Number.NEGATIVE_INFINITY || x.hi === INF);
    const canFinite = !isEmpty(x) && !(x.lo === x.hi && !Number.isFinite(x.lo));
    return boolFromSet(canInf || x.nan, canFinite);
  }
  if (op === 'logicalNot' || (op === 'bitwiseNot' && kind === 'bool')) {
    const [f, t] = truthSet(x);
    return boolFromSet(t, f);
  }
  if (kind === 'float') {
    if (isEmpty(x)) return interval(EMPTY_LO, EMPTY_HI, true);
    let r = floatUnaryImage(op, x.lo, x.hi);
    r = { ...r, nan: r.nan || x.nan };
    return isInexact(op, result) ? widen(r, result, op, scale) : roundInterval(r, result);
  }
  // integers and bool: enumerate small ranges, monotone rules otherwise
  if (!R.DTYPES[compute].big && x.hi - x.lo <= SMALL_RANGE) return enumerateUnary(op, compute, result, x.lo, x.hi);
  switch (op) {
    case 'sign':
    case 'relu':
      return interval(
        num(R.unaryScalar(op, compute, result, toScalar(x.lo, compute))),
        num(R.unaryScalar(op, compute, result, toScalar(x.hi, compute))),
        false,
      );
    case 'floor':
    case 'ceil':
    case 'round':
    case 'trunc':
      return { ...x };
    default:
      return fullRange(result);
  }
}

function toScalar(x: number, dtype: DType): Scalar {
  if (!R.DTYPES[dtype].big) return x;
  const info = R.DTYPES[dtype];
  let v = BigInt(x);
  if (info.max !== undefined && v > info.max) v = info.max;
  if (info.min !== undefined && v < info.min) v = info.min;
  return v;
}

// ---------------------------------------------------------------------------------
// Binary
// ---------------------------------------------------------------------------------

function has(a: Abs, v: number): boolean {
  return !isEmpty(a) && a.lo <= v && a.hi >= v;
}

function corners(f: (x: number, y: number) => number, a: Abs, b: Abs): { mn: number; mx: number; nan: boolean } {
  let mn = INF;
  let mx = Number.NEGATIVE_INFINITY;
  let nan = false;
  for (const x of [a.lo, a.hi]) {
    for (const y of [b.lo, b.hi]) {
      const z = f(x, y);
      if (Number.isNaN(z)) nan = true;
      else {
        mn = Math.min(mn, z);
        mx = Math.max(mx, z);
      }
    }
  }
  return { mn, mx, nan };
}

function compareSet(op: BinaryOp, a: Abs, b: Abs): Abs {
  const anyNan = a.nan || b.nan;
  const both = !isEmpty(a) && !isEmpty(b);
  let canT = false;
  let canF = anyNan && op !== 'notEqual';
  if (anyNan && op === 'notEqual') canT = true;
  if (both) {
    switch (op) {
      case 'less':
        canT ||= a.lo < b.hi;
        canF ||= a.hi >= b.lo;
        break;
      case 'lessEqual':
        canT ||= a.lo <= b.hi;
        canF ||= a.hi > b.lo;
        break;
      case 'greater':
        canT ||= a.hi > b.lo;
        canF ||= a.lo <= b.hi;
        break;
      case 'greaterEqual':
        canT ||= a.hi >= b.lo;
        canF ||= a.lo < b.hi;
        break;
      case 'equal':
      case 'notEqual': {
        const overlap = a.lo <= b.hi && b.lo <= a.hi;
        const single = a.lo === a.hi && b.lo === b.hi && a.lo === b.lo;
        const canEq = overlap;
        const canNe = !single;
        if (op === 'equal') {
          canT ||= canEq;
          canF ||= canNe;
        } else {
          canT ||= canNe;
          canF ||= canEq;
        }
        break;
      }
      default:
        throw new Error(`not a comparison: ${op}`);
    }
  }
  return boolFromSet(canF, canT);
}

function logicalSet(op: BinaryOp, a: Abs, b: Abs): Abs {
  const [af, at] = truthSet(a);
  const [bf, bt] = truthSet(b);
  const outs = new Set<boolean>();
  for (const x of [af ? [false] : [], at ? [true] : []].flat()) {
    for (const y of [bf ? [false] : [], bt ? [true] : []].flat()) {
      outs.add(op === 'logicalAnd' ? x && y : op === 'logicalOr' ? x || y : x !== y);
    }
  }
  return boolFromSet(outs.has(false), outs.has(true));
}

function floatBinaryImage(op: BinaryOp, a: Abs, b: Abs): Abs {
  const anyNan = a.nan || b.nan;
  // copysign(x, NaN) is ±|x| (the NaN's sign bit decides, which the oracle cannot see)
  if (op === 'copysign' && !isEmpty(a) && isEmpty(b)) {
    const m = Math.max(Math.abs(a.lo), Math.abs(a.hi));
    return interval(-m, m, a.nan);
  }
  // hypot(±Inf, NaN) = +Inf (C99): with one side NaN the result is +Inf or NaN
  if (op === 'hypot' && isEmpty(a) !== isEmpty(b)) {
    const x = isEmpty(a) ? b : a;
    return x.lo === Number.NEGATIVE_INFINITY || x.hi === INF ? interval(INF, INF, true) : interval(EMPTY_LO, EMPTY_HI, true);
  }
  if (isEmpty(a) || isEmpty(b)) {
    // NaN in: NaN out, except C's pow(NaN, 0) = pow(1, NaN) = 1
    return op === 'power' ? interval(1, 1, true) : interval(EMPTY_LO, EMPTY_HI, true);
  }
  const ninf = Number.NEGATIVE_INFINITY;
  switch (op) {
    case 'add': {
      const nan = anyNan || (a.hi === INF && b.lo === ninf) || (a.lo === ninf && b.hi === INF);
      const lo = a.lo + b.lo;
      const hi = a.hi + b.hi;
      return interval(Number.isNaN(lo) ? ninf : lo, Number.isNaN(hi) ? INF : hi, nan);
    }
    case 'subtract': {
      const nan = anyNan || (a.hi === INF && b.hi === INF) || (a.lo === ninf && b.lo === ninf);
      const lo = a.lo - b.hi;
      const hi = a.hi - b.lo;
      return interval(Number.isNaN(lo) ? ninf : lo, Number.isNaN(hi) ? INF : hi, nan);
    }
    case 'multiply': {
      const c = corners((x, y) => x * y, a, b);
      const zeroInf = (has(a, 0) && (b.lo === ninf || b.hi === INF)) || (has(b, 0) && (a.lo === ninf || a.hi === INF));
      if (c.nan || zeroInf) return interval(ninf, INF, true);
      return interval(c.mn, c.mx, anyNan);
    }
    case 'divide': {
      if (has(b, 0)) return interval(ninf, INF, true);
      const c = corners((x, y) => x / y, a, b);
      const infInf = (a.lo === ninf || a.hi === INF) && (b.lo === ninf || b.hi === INF);
      if (c.nan || infInf) return interval(ninf, INF, true);
      return interval(c.mn, c.mx, anyNan);
    }
    case 'maximum':
    case 'minimum': {
      const f = op === 'maximum' ? Math.max : Math.min;
      return interval(f(a.lo, b.lo), f(a.hi, b.hi), anyNan);
    }
    case 'logaddexp': {
      // increasing in both; min/max guard against float64 evaluation noise
      const l = R.logaddexpScalar(a.lo, b.lo);
      const h = R.logaddexpScalar(a.hi, b.hi);
      return interval(Math.min(l, h), Math.max(l, h), anyNan);
    }
    case 'power': {
      if (a.lo <= 0) return interval(ninf, INF, true);
      const c = corners(R.cPow, a, b);
      const r = interval(c.nan ? 0 : c.mn, c.nan ? INF : c.mx, anyNan || c.nan);
      return anyNan ? { ...r, lo: Math.min(r.lo, 1), hi: Math.max(r.hi, 1) } : r;
    }
    case 'arctan2':
      return interval(-Math.PI, Math.PI, anyNan);
    case 'copysign': {
      const m = Math.max(Math.abs(a.lo), Math.abs(a.hi));
      return interval(-m, m, anyNan);
    }
    case 'hypot': {
      // hypot(±Inf, NaN) = Inf: the NaN flag stays, the top reaches Inf where an input can
      const m = Math.hypot(Math.max(Math.abs(a.lo), Math.abs(a.hi)), Math.max(Math.abs(b.lo), Math.abs(b.hi)));
      return interval(0, m, anyNan);
    }
    default:
      // floorDivide, remainder: unknown
      return interval(ninf, INF, true);
  }
}

function enumerateBinary(op: BinaryOp, compute: DType, result: DType, a: Abs, b: Abs): Abs {
  let mn = INF;
  let mx = Number.NEGATIVE_INFINITY;
  for (let x = a.lo; x <= a.hi; x++) {
    for (let y = b.lo; y <= b.hi; y++) {
      const z = num(R.binaryScalar(op, compute, result, x, y));
      mn = Math.min(mn, z);
      mx = Math.max(mx, z);
    }
  }
  return interval(mn, mx, false);
}

/** Abstract binary op; `a`, `b` are already in the computation dtype. */
export function binaryAbs(op: BinaryOp, compute: DType, result: DType, a: Abs, b: Abs, av: Scalar, bv: Scalar, scale: number): Abs {
  if (a.exact && b.exact) {
    // maximum(-0, +0) may be either zero
    if ((op === 'maximum' || op === 'minimum') && av === 0 && bv === 0 && !Object.is(av, bv)) return interval(0, 0, false);
    return { exact: true, lo: 0, hi: 0, nan: false }; // value filled in by the caller
  }
  if (R.COMPARISON_OPS.has(op)) return compareSet(op, a, b);
  if (R.LOGICAL_BINARY_OPS.has(op)) return logicalSet(op, a, b);
  const info = R.DTYPES[compute];
  if (info.kind === 'float') {
    const r = floatBinaryImage(op, a, b);
    return isInexact(op, result) ? widen(r, result, op, scale) : roundInterval(r, result);
  }
  if (info.kind === 'bool' || (!info.big && a.hi - a.lo <= 16 && b.hi - b.lo <= 16)) return enumerateBinary(op, compute, result, a, b);
  if (info.big) return fullRange(result);
  switch (op) {
    case 'add':
    case 'subtract':
    case 'multiply': {
      const f = op === 'add' ? (x: number, y: number) => x + y : op === 'subtract' ? (x: number, y: number) => x - y : (x: number, y: number) => x * y;
      const c = op === 'subtract' ? { mn: a.lo - b.hi, mx: a.hi - b.lo } : corners(f, a, b);
      return inRange(c.mn, c.mx, result) ? interval(c.mn, c.mx, false) : fullRange(result);
    }
    case 'maximum':
      return interval(Math.max(a.lo, b.lo), Math.max(a.hi, b.hi), false);
    case 'minimum':
      return interval(Math.min(a.lo, b.lo), Math.min(a.hi, b.hi), false);
    default:
      return fullRange(result);
  }
}

// ---------------------------------------------------------------------------------
// Graph evaluation
// ---------------------------------------------------------------------------------

export function absArrays(b: Bounds, shape: readonly number[]): { v: Scalar[]; abs: Abs[] } {
  const v = R.flatBroadcast(b.val, shape);
  const lo = R.flatBroadcast(b.lo, shape);
  const hi = R.flatBroadcast(b.hi, shape);
  const nan = R.flatBroadcast(b.nan, shape);
  const ex = R.flatBroadcast(b.exact, shape);
  return {
    v,
    abs: v.map((_, i) => ({ exact: ex[i] === 1, lo: lo[i] as number, hi: hi[i] as number, nan: nan[i] === 1 })),
  };
}

/**
 * One element: collapses a discrete interval to an exact value and checks that the
 * oracle's value `v` lies in the bounds (else the harness itself is wrong).
 */
export function settleAbs(v: Scalar, a: Abs, dtype: DType, where: string, index = 0): Abs {
  if (a.exact) return exactAbs(v);
  let b = a;
  const isF = R.isFloat(dtype);
  if (!b.nan && b.lo === b.hi && (!isF || b.lo !== 0) && Math.abs(b.lo) <= 2 ** 53) b = { ...b, exact: true };
  // the oracle's value must be possible
  const x = num(v);
  const ok = Number.isNaN(x) ? b.nan : b.exact ? sameValue(v, R.DTYPES[dtype].big ? BigInt(b.lo) : b.lo) : x >= b.lo && x <= b.hi;
  if (!ok) {
    throw new Error(`harness bug at ${where}: oracle value ${String(v)} (${dtype}) outside bounds ${JSON.stringify(b)} [element ${index}]`);
  }
  return b.exact ? exactAbs(v) : b;
}

/** Collapses discrete intervals to exact values; checks the oracle value lies in the bounds. */
export function finish(val: RefArray, abs: Abs[], where: string): Bounds {
  const v = R.toFlat(val);
  const dtype = val.dtype;
  const out = abs.map((a, i) => settleAbs(v[i], a, dtype, where, i));
  const shape = val.nd.shape;
  return {
    val,
    lo: R.fromFlat(
      'float64',
      shape,
      out.map((a) => a.lo),
    ),
    hi: R.fromFlat(
      'float64',
      shape,
      out.map((a) => a.hi),
    ),
    nan: R.fromFlat(
      'float64',
      shape,
      out.map((a) => (a.nan ? 1 : 0)),
    ),
    exact: R.fromFlat(
      'float64',
      shape,
      out.map((a) => (a.exact ? 1 : 0)),
    ),
  };
}

export function mapBounds(b: Bounds, f: (a: RefArray) => RefArray): Bounds {
  return { val: f(b.val), lo: f(b.lo), hi: f(b.hi), nan: f(b.nan), exact: f(b.exact) };
}

export function castBounds(b: Bounds, to: DType): Bounds {
  if (b.val.dtype === to) return b;
  const shape = b.val.nd.shape;
  const { v, abs } = absArrays(b, shape);
  return finish(
    R.astype(b.val, to),
    abs.map((a, i) => castAbs(a, v[i], b.val.dtype, to)),
    `astype ${to}`,
  );
}

/** Bounds of every node of a graph. */
export function evalBounds(root: Node): Map<Node, Bounds> {
  const vals = new Map<Node, RefArray>();
  evalRef(root, undefined, vals);
  const out = new Map<Node, Bounds>();
  const get = (a: Node): Bounds => out.get(a) as Bounds;
  const finiteScale = (s: number) => (Number.isFinite(s) ? s : Number.MAX_VALUE);

  /** Operand abstract values broadcast to `shape` and converted to `compute`. */
  const operand = (a: Arg, compute: DType, shape: readonly number[], promoted: DType = compute): { v: Scalar[]; abs: Abs[] } => {
    if (isScalar(a)) {
      const v = R.weakScalarIn(a.value, promoted, compute);
      return { v: new Array<Scalar>(R.sizeOf(shape)).fill(v), abs: new Array<Abs>(R.sizeOf(shape)).fill(exactAbs(v)) };
    }
    return absArrays(castBounds(get(a), compute), shape);
  };

  const binaryNode = (op: BinaryOp, a: Arg, b: Arg, val: RefArray, where: string): Bounds => {
    const av = isScalar(a) ? a.value : (vals.get(a) as RefArray);
    const bv = isScalar(b) ? b.value : (vals.get(b) as RefArray);
    const { promoted, compute, result } = R.binaryResultDTypes(op, av, bv);
    const shape = val.nd.shape;
    const A = operand(a, compute, shape, promoted);
    const B = operand(b, compute, shape, promoted);
    const abs = A.abs.map((x, i) => {
      const scale = Math.max(Math.abs(num(A.v[i])), Math.abs(num(B.v[i])), Math.abs(x.lo), Math.abs(x.hi), Math.abs(B.abs[i].lo), Math.abs(B.abs[i].hi));
      return binaryAbs(op, compute, result, x, B.abs[i], A.v[i], B.v[i], finiteScale(scale));
    });
    // exact inputs through an inexact op: an interval around the oracle's value
    const v = R.toFlat(val);
    return finish(
      val,
      abs.map((x, i) =>
        x.exact && A.abs[i].exact && B.abs[i].exact && isInexact(op, result) ? inexactAround(v[i], result, op, inputScale([A.v[i], B.v[i]])) : x,
      ),
      where,
    );
  };

  for (const n of topoOrder(root)) {
    const val = vals.get(n) as RefArray;
    let b: Bounds;
    switch (n.kind) {
      case 'leaf':
        b = finish(val, R.toFlat(val).map(exactAbs), 'leaf');
        break;
      case 'unary': {
        const xv = vals.get(n.x) as RefArray;
        const { compute, result } = R.unaryDTypes(n.op, xv.dtype);
        const X = operand(n.x, compute, xv.nd.shape);
        const v = R.toFlat(val);
        const abs = X.abs.map((x, i) => {
          const scale = Math.max(Math.abs(num(X.v[i])), Math.abs(x.lo), Math.abs(x.hi));
          if (x.exact && isInexact(n.op, result)) return inexactAround(v[i], result, n.op, inputScale([X.v[i]]));
          return unaryAbs(n.op, compute, result, x, X.v[i], finiteScale(scale));
        });
        b = finish(val, abs, `unary ${n.op}`);
        break;
      }
      case 'binary':
        b = binaryNode(n.op, n.a, n.b, val, `binary ${n.op}`);
        break;
      case 'where': {
        const shape = val.nd.shape;
        const C = absArrays(get(n.c), shape);
        const A = operand(n.a, val.dtype, shape);
        const B = operand(n.b, val.dtype, shape);
        const abs = C.abs.map((c, i) => {
          const [f, t] = c.exact ? [!R.truthy(C.v[i]), R.truthy(C.v[i])] : truthSet(c);
          if (t && !f) return A.abs[i];
          if (f && !t) return B.abs[i];
          return hull(A.abs[i], B.abs[i]);
        });
        b = finish(val, abs, 'where');
        break;
      }
      case 'clip': {
        // evaluated as minimum(maximum(x, lo), hi) through synthetic nodes
        let cur: Node = n.x;
        for (const [op, bound] of [
          ['maximum', n.lo],
          ['minimum', n.hi],
        ] as const) {
          if (bound === null) continue;
          const curVal = vals.get(cur) as RefArray;
          const stepVal = R.binary(op, curVal, isScalar(bound) ? bound.value : (vals.get(bound) as RefArray));
          const synthetic: Node = { kind: 'binary', op, a: cur, b: bound, dtype: stepVal.dtype, shape: [...stepVal.nd.shape], method: false };
          vals.set(synthetic, stepVal);
          out.set(synthetic, binaryNode(op, cur, bound, stepVal, `clip ${op}`));
          cur = synthetic;
        }
        b = out.get(cur) as Bounds;
        break;
      }
      case 'cast':
        b = castBounds(get(n.x), n.dtype);
        break;
      case 'view':
        b = mapBounds(get(n.x), (a) => applyView(n.view, a));
        break;
      case 'concatenate':
      case 'stack': {
        const parts = n.xs.map((x) => castBounds(get(x), n.dtype));
        const join = (arrs: RefArray[]) => (n.kind === 'concatenate' ? R.concatenate(arrs, n.axis ?? 0) : R.stack(arrs, n.axis ?? 0));
        b = {
          val: join(parts.map((p) => p.val)),
          lo: join(parts.map((p) => p.lo)),
          hi: join(parts.map((p) => p.hi)),
          nan: join(parts.map((p) => p.nan)),
          exact: join(parts.map((p) => p.exact)),
        };
        break;
      }
      case 'split':
        b = mapBounds(get(n.x), (a) => R.split(a, n.sections, n.axis ?? 0)[n.part]);
        break;
      default:
        b = combineBounds(n, get, val);
        break;
    }
    out.set(n, b);
  }
  return out;
}

/** Exact inputs through an inexact op: the oracle's value plus the op's tolerance. */
export function inexactAround(v: Scalar, dtype: DType, op: string, scale: number): Abs {
  const x = num(v);
  if (Number.isNaN(x)) return exactAbs(v); // NaN results (domain errors) must match
  return widen(interval(x, x, false), dtype, op, scale);
}

/** Compares library output with the bounds of the root. Returns null or a description. */
export function checkBounds(actual: ArrayLike<Scalar>, b: Bounds): string | null {
  const v = R.toFlat(b.val);
  const lo = R.toFlat(b.lo) as number[];
  const hi = R.toFlat(b.hi) as number[];
  const nan = R.toFlat(b.nan) as number[];
  const ex = R.toFlat(b.exact) as number[];
  if (actual.length !== v.length) return `length mismatch: got ${actual.length}, expected ${v.length}`;
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < v.length; i++) {
    const a = actual[i];
    let ok: boolean;
    let want: string;
    if (ex[i] === 1) {
      ok = sameValue(a, v[i]);
      want = `exactly ${show(v[i])}`;
    } else {
      const x = num(a);
      ok = Number.isNaN(x) ? nan[i] === 1 : x >= lo[i] && x <= hi[i];
      want = `in [${lo[i]}, ${hi[i]}]${nan[i] ? ' or NaN' : ''} (oracle ${show(v[i])})`;
    }
    if (!ok) {
      count++;
      if (bad.length < 8) bad.push(`  [${i}] got ${show(a)}, expected ${want}`);
    }
  }
  if (count === 0) return null;
  return `${count} of ${v.length} elements out of bounds (dtype ${b.val.dtype}):\n${bad.join('\n')}`;
}

function show(x: Scalar): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

/** Fraction of root elements that are checked exactly (for statistics). */
export function exactFraction(b: Bounds): number {
  const ex = R.toFlat(b.exact) as number[];
  return ex.length === 0 ? 1 : ex.filter((e) => e === 1).length / ex.length;
}
