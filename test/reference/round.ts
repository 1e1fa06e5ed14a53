/**
 * Reference oracle: rounding to a dtype and casts.
 *
 * Element representation: every dtype except int64/uint64 holds its elements as JS
 * numbers (exact: ints up to 32 bits, bool as 0/1, and every float16/bfloat16/float32
 * value is a float64). int64/uint64 hold bigints.
 */
import { DTYPES, type DType, type FloatFormat } from './dtypes.js';

export type Scalar = number | bigint;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Little-endian hosts only (x86-64 and arm64): the high word is u32[1].
const HI = 1;

/** 2**k exactly, for integer k in [-1022, 1023]. */
export function pow2(k: number): number {
  if (!Number.isInteger(k) || k < -1022 || k > 1023) throw new RangeError(`pow2(${k}) out of range`);
  u32[1 - HI] = 0;
  u32[HI] = (k + 1023) << 20;
  return f64[0];
}

/** floor(log2(a)) for finite a > 0 from the float64 bits; below the normal range, -1023. */
export function exponentOf(a: number): number {
  f64[0] = a;
  const e = (u32[HI] >>> 20) & 0x7ff;
  if (e === 0) return -1023;
  return e - 1023;
}

/** Round-half-to-even of y >= 0 to an integer. */
function rintNonNeg(y: number): number {
  const f = Math.floor(y);
  const d = y - f; // exact
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** NumPy's round (half to even) for any float64; keeps the sign of zero. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  if (Math.abs(x) >= 2 ** 52) return x;
  const r = rintNonNeg(Math.abs(x));
  return x < 0 || Object.is(x, -0) ? -r : r;
}

/**
 * Round a float64 to the nearest value of a binary format (ties to even), with
 * gradual underflow and overflow to ±Inf. NaN, ±Inf, ±0 pass through.
 */
export function roundToFormat(x: number, fmt: FloatFormat): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  const m = fmt.mantissaBits;
  // Largest finite value is 2^maxExp * (2 - 2^-m); halfway to the next binade step is
  // 2^maxExp * (2 - 2^-(m+1)); a tie there rounds to the even neighbour 2^(maxExp+1),
  // which overflows.
  const overflow = pow2(fmt.maxExp) * (2 - pow2(-(m + 1)));
  if (a >= overflow) return x > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  const e = Math.max(exponentOf(a), fmt.minExp);
  const q = e - m; // the ulp is 2^q
  // a * 2^-q and back are exact (scaling by powers of two, no overflow/underflow here).
  const scaled = q >= -1022 ? a / pow2(q) : a * pow2(-q);
  const r = rintNonNeg(scaled);
  const back = q >= -1022 ? r * pow2(q) : r / pow2(-q);
  return x < 0 ? -back : back;
}

/** Round-to-nearest-even of an exact integer to a float format (overflow → ±Inf). */
export function roundBigIntToFormat(v: bigint, fmt: FloatFormat): number {
  if (v === 0n) return 0;
  const neg = v < 0n;
  const a = neg ? -v : v;
  const p = BigInt(fmt.mantissaBits + 1);
  const n = BigInt(a.toString(2).length);
  let result: number;
  if (n <= p) {
    result = Number(a); // at most 53 bits: exact
  } else {
    const shift = n - p;
    let q = a >> shift;
    const rem = a - (q << shift);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    result = Number(q) * 2 ** Number(shift); // q has <= p+1 bits; scaling by 2^k is exact
  }
  if (result >= pow2(fmt.maxExp) * 2) result = Number.POSITIVE_INFINITY;
  return neg ? -result : result;
}

/** Round a float64 to a float dtype. */
export function roundFloat(x: number, dtype: DType): number {
  switch (dtype) {
    case 'float64':
      return x;
    case 'float32':
      return Math.fround(x);
    case 'float16':
    case 'bfloat16': {
      const fmt = DTYPES[dtype].format;
      if (!fmt) throw new Error('unreachable');
      return roundToFormat(x, fmt);
    }
    default:
      throw new Error(`roundFloat: ${dtype} is not a float dtype`);
  }
}

/** Wrap an exact integer into an integer dtype (two's complement), as a Scalar of that dtype. */
export function wrapInt(v: bigint, dtype: DType): Scalar {
  const info = DTYPES[dtype];
  if (info.kind === 'bool') return v !== 0n ? 1 : 0;
  const w = info.kind === 'int' ? BigInt.asIntN(info.bits, v) : BigInt.asUintN(info.bits, v);
  return info.big ? w : Number(w);
}

/** An element of any dtype as an exact bigint (integers and bool only). */
export function toBigInt(x: Scalar): bigint {
  return typeof x === 'bigint' ? x : BigInt(x);
}

/** An element as a float64 number (bigints rounded to nearest float64). */
export function toNumber(x: Scalar): number {
  return typeof x === 'bigint' ? roundBigIntToFormat(x, { mantissaBits: 52, minExp: -1022, maxExp: 1023 }) : x;
}

/** Truthiness of an element: x != 0 (NaN is true). */
export function truthy(x: Scalar): boolean {
  return typeof x === 'bigint' ? x !== 0n : x !== 0;
}

/**
 * Cast one element from dtype `from` to dtype `to` (astype semantics):
 * - to bool: x != 0 (NaN → true);
 * - int/bool → int: wrap (C cast);
 * - int/bool → float: round to nearest even (exact from the integer, no double rounding);
 * - float → int: truncate toward zero; NaN → 0; beyond range → saturate to min/max;
 * - float → float: round to nearest even.
 */
export function castScalar(x: Scalar, from: DType, to: DType): Scalar {
  const src = DTYPES[from];
  const dst = DTYPES[to];
  if (dst.kind === 'bool') return truthy(x) ? 1 : 0;
  if (src.kind !== 'float') {
    const v = toBigInt(x);
    if (dst.kind === 'float') {
      if (!dst.format) throw new Error('unreachable');
      return roundBigIntToFormat(v, dst.format);
    }
    return wrapInt(v, to);
  }
  // src is float
  const f = x as number;
  if (dst.kind === 'float') return roundFloat(f, to);
  return saturatingFloatToInt(f, to);
}

/** float → integer dtype: trunc toward zero, NaN → 0, saturating. */
export function saturatingFloatToInt(f: number, to: DType): Scalar {
  const dst = DTYPES[to];
  if (dst.min === undefined || dst.max === undefined) throw new Error('not an integer dtype');
  let v: bigint;
  if (Number.isNaN(f)) v = 0n;
  else if (f === Number.POSITIVE_INFINITY) v = dst.max;
  else if (f === Number.NEGATIVE_INFINITY) v = dst.min;
  else {
    v = BigInt(Math.trunc(f)); // trunc of a float64 is an exact integer
    if (v > dst.max) v = dst.max;
    if (v < dst.min) v = dst.min;
  }
  return dst.big ? v : Number(v);
}

/**
 * Convert a JS value given to array()/full() to a dtype. Numbers are treated as
 * float64 values and cast with astype semantics (the doc leaves out-of-range literals
 * unspecified; tests only use representable ones); bigints are exact integers;
 * booleans are 0/1.
 */
export function fromJS(v: number | boolean | bigint, to: DType): Scalar {
  if (typeof v === 'boolean') return castScalar(v ? 1 : 0, 'bool', to);
  if (typeof v === 'bigint') {
    const dst = DTYPES[to];
    if (dst.kind === 'bool') return v !== 0n ? 1 : 0;
    if (dst.kind === 'float') return castScalar(v, 'int64', to);
    return wrapInt(v, to);
  }
  return castScalar(v, 'float64', to);
}

/**
 * Convert a weak JS scalar to the computation dtype of an op (docs/semantics.md):
 * integer dtypes get the integer-valued number with wrap-around (`uint8 + 300` is
 * `uint8 + 44`); float dtypes round the number to the dtype (as JAX does with a weak
 * scalar: `float16_array + 0.1` adds float16(0.1)); bool takes the truthiness.
 */
export function weakToDType(v: number | boolean, to: DType): Scalar {
  const dst = DTYPES[to];
  const n = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  if (dst.kind === 'bool') return n !== 0 ? 1 : 0;
  if (dst.kind === 'float') return roundFloat(n, to);
  if (!Number.isInteger(n)) throw new Error(`weak scalar ${n} cannot be converted to ${to}`);
  return wrapInt(BigInt(n), to);
}

/** The spacing of the dtype's values at magnitude |x| (for floats; 1 for integers). */
export function ulp(x: number, dtype: DType): number {
  const fmt = DTYPES[dtype].format;
  if (!fmt) return 1;
  const a = Math.abs(x);
  if (!Number.isFinite(a)) return pow2(fmt.maxExp - fmt.mantissaBits);
  const e = a === 0 ? fmt.minExp : Math.max(Math.min(exponentOf(a), fmt.maxExp), fmt.minExp);
  const q = e - fmt.mantissaBits;
  return q >= -1022 ? pow2(q) : pow2(q + 100) / pow2(100);
}

/** Largest finite value of a float dtype. */
export function maxFinite(dtype: DType): number {
  const fmt = DTYPES[dtype].format;
  if (!fmt) throw new Error('not a float dtype');
  return pow2(fmt.maxExp) * (2 - pow2(-fmt.mantissaBits));
}

/** Next representable value of a float dtype above x (toward +Inf). */
export function nextUp(x: number, dtype: DType): number {
  if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) return x;
  if (x === Number.NEGATIVE_INFINITY) return -maxFinite(dtype);
  if (x === 0) return ulp(0, dtype);
  if (x > 0) {
    const y = x + ulp(x, dtype);
    return y > maxFinite(dtype) ? Number.POSITIVE_INFINITY : y;
  }
  return -(-x - spacingBelow(-x, dtype));
}

/** Next representable value of a float dtype below x (toward -Inf). */
export function nextDown(x: number, dtype: DType): number {
  return -nextUp(-x, dtype);
}

/** For a representable a > 0: the distance to the next smaller representable value. */
function spacingBelow(a: number, dtype: DType): number {
  const fmt = DTYPES[dtype].format;
  if (!fmt) throw new Error('not a float dtype');
  const e = exponentOf(a);
  const u = ulp(a, dtype);
  const isPow2 = e >= -1022 && a === pow2(e);
  return isPow2 && e > fmt.minExp ? u / 2 : u;
}
