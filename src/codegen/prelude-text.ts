/**
 * Prelude text the C, CUDA and MSL preludes share, written once and spelled per dialect:
 * half/bfloat16 conversions, float floor division and remainder, and the per-integer-dtype
 * helpers. Each prelude composes these with its own parts (types, math, shuffles); the
 * composed strings are part of every kernel's cache key, so a spelling must reproduce its
 * prelude's text exactly.
 */
import { DTYPES, type DType } from '../graph/dtype.js';
import { wrapType } from './ctypes.js';

/** How one C-family language spells what the shared prelude text needs. */
export interface PreludeSpelling {
  /** The qualifier of every helper (`static inline`, `inline`, `static __device__ __forceinline__`). */
  readonly qual: string;
  /** The float whose bits are the uint32 expression `bits`. */
  asFloat(bits: string): string;
  /** The uint32 bits of the float expression `f`. */
  asBits(f: string): string;
  /** The float round-to-nearest-even function. */
  readonly rintf: string;
  /**
   * The widest float (`double`, or `float` where the language has none): `ma_rh_d` and
   * `ma_rb_d` round it to half precision, `ma_floordiv_d` and `ma_rem_d` compute in it.
   */
  readonly wide: 'double' | 'float';
  /** The namespace prefix of the wide float's library functions (`metal::`), or ''. */
  readonly lib: string;
  /** The C prelude's wording of two comments (the GPU preludes word them shorter). */
  readonly cComments: boolean;
}

/**
 * float16 and bfloat16 conversions with round to nearest even: `ma_h2f ma_f2h ma_rh
 * ma_rh_d ma_b2f ma_f2b ma_rb ma_rb_d` (`_d`: from the widest float, rounded once).
 *
 * @example
 * ```ts
 * const text = halfConversions(C_SPELLING); // starts "/* float16: IEEE binary16, ..."
 * ```
 */
export function halfConversions(sp: PreludeSpelling): string {
  const q = sp.qual;
  const subnormal = sp.cComments
    ? `    /* subnormal or zero: scale so the half ulp is an integer step, round to even. */
    float t = ${sp.asFloat('a')} * 16777216.0f; /* 2^24 */`
    : `    float t = ${sp.asFloat('a')} * 16777216.0f; /* 2^24: the half ulp is an integer step */`;
  const fromWide =
    sp.wide === 'double'
      ? `${q} float ma_rh_d(double d) {
${sp.cComments ? '  /* Round a double to half directly (no double rounding through float). */\n' : ''}  double a = fabs(d);
  if (a != a || a >= 65520.0 || a < 6.103515625e-05) {
    if (a != a) return (float)d;
    if (a >= 65520.0) return d < 0 ? -INFINITY : INFINITY;
    return (float)(rint(d * 16777216.0) / 16777216.0);
  }
  int e; frexp(a, &e);
  double q = ldexp(1.0, e - 11);
  return (float)(rint(d / q) * q);
}`
      : `/* No double on Metal: the "wide" value is a float already, rounded once more. */
${q} float ma_rh_d(float d) { return ma_rh(d); }`;
  const bfromWide =
    sp.wide === 'double'
      ? `${q} float ma_rb_d(double d) {
  double a = fabs(d);
  if (a != a) return (float)d;
  if (a >= 3.3961775292304e+38) return d < 0 ? -INFINITY : INFINITY;
  if (a < 1.1754943508222875e-38) return (float)(rint(d * 0x1p133) / 0x1p133);
  int e; frexp(a, &e);
  double q = ldexp(1.0, e - 8);
  return (float)(rint(d / q) * q);
}`
      : `${q} float ma_rb_d(float d) { return ma_rb(d); }`;
  return `/* float16: IEEE binary16, round to nearest even, subnormals kept. */
${q} float ma_h2f(uint16_t h) {
  uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1f) return ${sp.asFloat('s | 0x7f800000u | (m << 13)')};
  if (e == 0) { float f = (float)m * 5.9604644775390625e-8f; return s ? -f : f; }
  return ${sp.asFloat('s | ((e + 112u) << 23) | (m << 13)')};
}
${q} uint16_t ma_f2h(float f) {
  uint32_t u = ${sp.asBits('f')}, s = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(s | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) return (uint16_t)(s | 0x7c00u);
  if (a < 0x38800000u) {
${subnormal}
    return (uint16_t)(s | (uint32_t)${sp.rintf}(t));
  }
  uint32_t r = a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u;
  return (uint16_t)(s | (r >> 13));
}
${q} float ma_rh(float f) { return ma_h2f(ma_f2h(f)); }
${fromWide}
${q} float ma_b2f(uint16_t b) { return ${sp.asFloat('(uint32_t)b << 16')}; }
${q} uint16_t ma_f2b(float f) {
  uint32_t u = ${sp.asBits('f')};
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
${q} float ma_rb(float f) { return ma_b2f(ma_f2b(f)); }
${bfromWide}`;
}

/**
 * Python-style floor division and remainder on the widest float (`ma_floordiv_d`,
 * `ma_rem_d`): the remainder takes the divisor's sign, the quotient is floor(a / b)
 * computed from fmod so it stays exact.
 *
 * @example
 * ```ts
 * const text = floatFloorDivision(C_SPELLING); // "static inline double ma_floordiv_d(..."
 * ```
 */
export function floatFloorDivision(sp: PreludeSpelling): string {
  const { qual: q, wide: F, lib: L } = sp;
  const k = F === 'float' ? 'f' : '';
  return `${q} ${F} ma_floordiv_d(${F} a, ${F} b) {
  if (b == 0) return a / b;
  ${F} mod = ${L}fmod(a, b), div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0${k};
  if (div != 0) { ${F} f = ${L}floor(div); if (div - f > 0.5${k}) f += 1.0${k}; return f; }
  return ${L}copysign(0.0${k}, a / b);
}
${q} ${F} ma_rem_d(${F} a, ${F} b) {
  if (b == 0) return ${L}fmod(a, b);
  ${F} mod = ${L}fmod(a, b);
  if (mod != 0) { if ((b < 0) != (mod < 0)) mod += b; }
  else mod = ${L}copysign(0.0${k}, b);
  return mod;
}`;
}

const INT_DTYPES: readonly DType[] = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];

/**
 * The per-integer-dtype helpers (float→int conversion with saturation, shifts, floor
 * division, remainder, power) with C semantics, each function declared with `qual`, for
 * every integer dtype `computeType` has a type for. `exactZero`: the C prelude's in-range
 * float→int conversion, written so that GCC cannot fold `(float)(int)x` into trunc(x)
 * (which keeps -0 for x in (-1, 0) where the integer is 0) under -fno-trapping-math.
 *
 * @example
 * ```ts
 * const text = intHelpers('inline', C_COMPUTE_TYPE, 'float', false);
 * // defines ma_f2i_int8 ... ma_pow_uint64
 * ```
 */
export function intHelpers(qual: string, computeType: Readonly<Record<DType, string | null>>, wideFloat: string, exactZero: boolean): string {
  const lines: string[] = [];
  for (const d of INT_DTYPES) {
    const T = computeType[d];
    if (T === null) continue;
    const W = wrapType(d);
    const info = DTYPES[d];
    const signed = info.kind === 'int';
    const bits = info.bits;
    const min = signed ? `((${T})((${W})1 << ${bits - 1}))` : '0';
    const max = signed ? `((${T})(((${W})1 << ${bits - 1}) - 1))` : `((${T})~(${T})0)`;
    const maxPlusOne = signed ? `${2 ** (bits - 1)}.0` : `${2 ** bits}.0`;
    const minD = signed ? `-${2 ** (bits - 1)}.0` : '0.0';
    // A narrowing from int64 (or, for int64, an explicit zero for |x| < 1) breaks GCC's
    // trunc pattern; unsigned targets clamp x <= 0 to 0 anyway.
    const inRange = !exactZero || !signed ? `(${T})x` : bits < 64 ? `(${T})(int64_t)x` : `((x > -1.0) & (x < 1.0)) ? (${T})0 : (${T})x`;
    lines.push(
      `${qual} ${T} ma_f2i_${d}(${wideFloat} x) { return x != x ? (${T})0 : x <= ${minD} ? ${min} : x >= ${maxPlusOne} ? ${max} : ${inRange}; }`,
      `${qual} ${T} ma_shl_${d}(${T} x, ${T} s) { return (s < 0 || s >= ${bits}) ? (${T})0 : (${T})((${W})x << s); }`,
    );
    if (signed) {
      lines.push(
        `${qual} ${T} ma_shr_${d}(${T} x, ${T} s) { return (s < 0 || s >= ${bits}) ? (x < 0 ? (${T})-1 : (${T})0) : (${T})(x >> s); }`,
        `${qual} ${T} ma_floordiv_${d}(${T} x, ${T} y) { if (y == 0) return 0; if (x == ${min} && y == -1) return x; ${T} q = (${T})(x / y); if ((x % y != 0) && ((x < 0) != (y < 0))) q--; return q; }`,
        `${qual} ${T} ma_rem_${d}(${T} x, ${T} y) { if (y == 0 || y == -1) return 0; ${T} r = (${T})(x % y); if (r != 0 && ((r < 0) != (y < 0))) r = (${T})(r + y); return r; }`,
        `${qual} ${T} ma_pow_${d}(${T} x, ${T} y) { if (y < 0) return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0; ${W} r = 1, b = (${W})x; while (y) { if (y & 1) r *= b; b *= b; y >>= 1; } return (${T})r; }`,
      );
    } else {
      lines.push(
        `${qual} ${T} ma_shr_${d}(${T} x, ${T} s) { return (s >= ${bits}) ? (${T})0 : (${T})(x >> s); }`,
        `${qual} ${T} ma_floordiv_${d}(${T} x, ${T} y) { return y == 0 ? (${T})0 : (${T})(x / y); }`,
        `${qual} ${T} ma_rem_${d}(${T} x, ${T} y) { return y == 0 ? (${T})0 : (${T})(x % y); }`,
        `${qual} ${T} ma_pow_${d}(${T} x, ${T} y) { ${W} r = 1, b = x; while (y) { if (y & 1) r *= b; b *= b; y >>= 1; } return (${T})r; }`,
      );
    }
  }
  return lines.join('\n');
}
