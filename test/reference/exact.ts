/**
 * Reference oracle: exact arithmetic on float64 values and correctly rounded conversion
 * of exact results to a float dtype.
 *
 * Every finite double is an integer multiple of 2^-1074, so a sum of doubles is an exact
 * bigint at that scale (`scaled`), and a product of two doubles one at 2^-2148. Values
 * are written `m * 2^s` with a bigint `m`; `roundScaled` rounds such a value (plus an
 * optional sticky part below its last bit) to a binary format, ties to even, with
 * gradual underflow and overflow to ±Inf. Quotients and square roots of exact values
 * are rounded the same way from enough quotient bits plus a sticky bit.
 */
import { DTYPES, type DType, type FloatFormat } from './dtypes.js';

/** Every finite double is an integer multiple of 2^SCALE_EXP. */
export const SCALE_EXP = -1074;

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

export const FLOAT64_FORMAT: FloatFormat = { mantissaBits: 52, minExp: -1022, maxExp: 1023 };

export function formatOf(dtype: DType): FloatFormat {
  const fmt = DTYPES[dtype].format;
  if (!fmt) throw new Error(`${dtype} is not a float dtype`);
  return fmt;
}

/** A finite double as `m * 2^e` with an integer `m` (exact). */
export function dyadicOf(x: number): { m: bigint; e: number } {
  if (!Number.isFinite(x)) throw new RangeError(`dyadicOf(${x}): not finite`);
  f64[0] = x;
  const bits = u64[0];
  const neg = bits >> 63n === 1n;
  const ex = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const m = ex === 0 ? frac : frac | (1n << 52n);
  const e = ex === 0 ? -1074 : ex - 1075;
  return { m: neg ? -m : m, e };
}

/** x * 2^1074 as an exact bigint (x finite). */
export function scaledOf(x: number): bigint {
  const { m, e } = dyadicOf(x);
  return m << BigInt(e - SCALE_EXP);
}

/** x * y * 2^2148 as an exact bigint (x, y finite): the exact product at scale 2^(2 SCALE_EXP). */
export function scaledProduct(x: number, y: number): bigint {
  const a = dyadicOf(x);
  const b = dyadicOf(y);
  return (a.m * b.m) << BigInt(a.e + b.e - 2 * SCALE_EXP);
}

/** Number of bits of a non-negative bigint (0 for 0). */
export function bitLength(a: bigint): number {
  if (a === 0n) return 0;
  const hex = a.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(Number.parseInt(hex[0], 16)));
}

/**
 * Rounds `v * 2^s` (plus, if `sticky`, a positive amount below one unit of `v` in the
 * direction away from zero) to the nearest value of `fmt`, ties to even.
 */
export function roundScaled(v: bigint, s: number, fmt: FloatFormat, sticky = false): number {
  if (v === 0n) {
    if (sticky) throw new Error('roundScaled: a sticky part needs a non-zero value');
    return 0;
  }
  const neg = v < 0n;
  const a = neg ? -v : v;
  const n = bitLength(a);
  const top = n - 1 + s; // floor(log2(value))
  const q = Math.max(top, fmt.minExp) - fmt.mantissaBits; // exponent of the ulp
  const shift = q - s;
  let r: bigint;
  if (shift <= 0) {
    if (sticky) throw new Error('roundScaled: a sticky part below a representable value');
    r = a << BigInt(-shift);
  } else {
    r = a >> BigInt(shift);
    const rem = a - (r << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    if (rem > half || (rem === half && (sticky || (r & 1n) === 1n))) r += 1n;
  }
  if (r === 0n) return neg ? -0 : 0;
  if (bitLength(r) - 1 + q > fmt.maxExp) return neg ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  // r has at most mantissaBits + 2 bits and r * 2^q is representable: both steps are exact
  const out = Number(r) * 2 ** q;
  return neg ? -out : out;
}

/** Rounds `num * 2^s / den` (den > 0) to the nearest value of `fmt`, ties to even. */
export function roundQuotient(num: bigint, s: number, den: bigint, fmt: FloatFormat): number {
  if (den <= 0n) throw new RangeError('roundQuotient: the denominator must be positive');
  if (num === 0n) return 0;
  const neg = num < 0n;
  const a = neg ? -num : num;
  // enough quotient bits that the rounding position lies inside the quotient
  const k = Math.max(0, bitLength(den) + fmt.mantissaBits + 4 - bitLength(a));
  const scaled = a << BigInt(k);
  const q = scaled / den;
  const sticky = q * den !== scaled;
  const r = roundScaled(q, s - k, fmt, sticky);
  return neg ? -r : r;
}

/** floor(sqrt(n)) for n >= 0. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Rounds `sqrt(num / den) * 2^s` (num >= 0, den > 0) to the nearest value of `fmt`. */
export function roundSqrtQuotient(num: bigint, den: bigint, s: number, fmt: FloatFormat): number {
  if (num < 0n || den <= 0n) throw new RangeError('roundSqrtQuotient: bad arguments');
  if (num === 0n) return 0;
  // sqrt(num/den) * 2^k = sqrt(num * 4^k / den): pick k so the root has enough bits
  const want = 2 * (fmt.mantissaBits + 4);
  const k = Math.max(0, Math.ceil((want - (bitLength(num) - bitLength(den))) / 2));
  const scaled = num << BigInt(2 * k);
  const q = scaled / den;
  const r = isqrt(q);
  const sticky = r * r !== q || q * den !== scaled;
  return roundScaled(r, s - k, fmt, sticky);
}

/** The exact value `v * 2^s` rounded to a float dtype. */
export function roundScaledTo(v: bigint, s: number, dtype: DType): number {
  return roundScaled(v, s, formatOf(dtype));
}

/** Largest finite magnitude of a format. */
export function formatMax(fmt: FloatFormat): number {
  return 2 ** fmt.maxExp * (2 - 2 ** -fmt.mantissaBits);
}
