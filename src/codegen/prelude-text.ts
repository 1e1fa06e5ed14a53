/**
 * Prelude text the C, CUDA and MSL preludes share, written once and spelled per dialect:
 * half/bfloat16 conversions, float floor division and remainder, and the per-integer-dtype
 * helpers. Each prelude composes these with its own parts (types, math, shuffles); the
 * composed strings are part of every kernel's cache key, so a spelling must reproduce its
 * prelude's text exactly.
 */
import { DTYPES, type DType } from '../core/dtype.js';
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

/** The libm-style functions {@link f64ActivationHelpers} calls, named as the target spells them. */
export interface F64MathNames {
  exp: string;
  erfc: string;
  fma: string;
}

/**
 * float64 sigmoid, silu and gelu (`ma_sigmoid_d`, `ma_silu_d`, `ma_gelu_d`) over a libm with
 * `exp`, `erfc` and `fma`, for the C prelude (glibc) and the CUDA prelude (CUDA's double library
 * through its `ma_` wrappers). Scalar code: libm's double functions are scalar calls anyway.
 *
 * - sigmoid and silu take e^-|x| (never overflows), so the tails below x = -709.8, where e^-x
 *   would be Inf while the result is still a (normal, for silu down to -714.9) double, come out
 *   right; below -700 silu multiplies x by e^(x/2) twice so no factor is subnormal.
 * - gelu is 0.5 x erfc(z) with z = -x/sqrt 2. For x < 0, rounding z alone would move erfc by
 *   2 z^2 ulps (900 ulps at x = -30), so z is kept as zh + zl (an exact product split) and
 *   erfc(zh + zl) = erfc(zh) (1 - zl m), m = 2/sqrt(pi) e^-zh^2 / erfc(zh) = -(log erfc)'(zh)
 *   (for zh >= 5 the asymptotic 2z + (1 - 1/z^2)/z, good to 1e-4: the correction is below
 *   2^-40). Below x = -36, where erfc(zh) turns subnormal (at -37.54) before the result does
 *   (at -37.62), erfc comes from e^-z^2 and a continued fraction instead, normal factor first.
 *
 * @example
 * ```ts
 * const text = f64ActivationHelpers('static inline', { exp: 'exp', erfc: 'erfc', fma: 'fma' });
 * // text defines `static inline double ma_gelu_d(double x) { ... }` and its two siblings
 * ```
 */
export function f64ActivationHelpers(qualifier: string, names: F64MathNames): string {
  const { exp, erfc, fma } = names;
  return `${qualifier} double ma_sigmoid_d(double x) {
  double e = ${exp}(-fabs(x));
  return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
${qualifier} double ma_silu_d(double x) {
  if (x < -700.0) { double h = ${exp}(0.5 * x); return (x * h) * h; }
  double e = ${exp}(-fabs(x));
  return x >= 0 ? x / (1.0 + e) : (x * e) / (1.0 + e);
}
${qualifier} double ma_gelu_d(double x) {
  double zh = -x * 0x1.6a09e667f3bcdp-1;
  if (!(x < 0)) return 0.5 * x * ${erfc}(zh);
  if (x < -40.0) return x * 0.0; /* underflowed (from -38.7 on); NaN at -Inf, as x Phi(x) */
  if (x < -36.0) {
    /* erfc(zh) turns subnormal at -37.54 while the result is normal to -37.62: take
       erfc(z) = e^-z^2 / (sqrt(pi) K(z)), K Laplace's continued fraction (exact to 2^-60 for
       z > 25 at this depth), with z^2 = x^2/2 split exactly and the normal factor first. */
    double k = zh;
    for (int i = 8; i >= 1; i--) k = zh + 0.5 * i / k;
    double p = x * x, pl = ${fma}(x, x, -p);
    return (0.5 * x * (0x1.20dd750429b6dp-1 / k) * (1.0 - 0.5 * pl)) * ${exp}(-0.5 * p);
  }
  double zl = ${fma}(-x, 0x1.6a09e667f3bcdp-1, -zh) + -x * -0x1.bdd3413b26456p-55;
  double ez = ${erfc}(zh);
  double m = zh < 5.0 ? 0x1.20dd750429b6dp+0 * ${exp}(-zh * zh) / ez : 2.0 * zh + (1.0 - 1.0 / (zh * zh)) / zh;
  return 0.5 * x * (ez * (1.0 - zl * m));
}`;
}

/** How one prelude spells {@link erfinvText}'s float type and functions. */
export interface ErfinvSpelling {
  readonly qual: string;
  /** The float type it computes in, `double` or (Metal) `float`. */
  readonly F: 'double' | 'float';
  /** A quiet NaN of type F. */
  readonly nan: string;
  readonly log: string;
  readonly sqrt: string;
  readonly exp: string;
  readonly erf: string;
  /** Newton steps on erf after the initial guess (each about doubles the correct digits). */
  readonly steps: number;
  /** The C prelude's wording (one more comment, a non-const error term). */
  readonly cComments: boolean;
}

/**
 * `ma_erfinv`: an initial guess from Giles' log-based polynomials, then Newton steps on
 * erf; ±1 give ±Inf, arguments outside [-1, 1] NaN.
 *
 * @example
 * ```ts
 * const text = erfinvText({ qual: 'inline', F: 'float', nan: 'NAN', log: 'log', sqrt: 'sqrt', exp: 'exp', erf: 'erf', steps: 2, cComments: false });
 * ```
 */
export function erfinvText(sp: ErfinvSpelling): string {
  const { F } = sp;
  const k = F === 'float' ? 'f' : '';
  const poly = (coefs: readonly string[]): string => {
    const terms = coefs.map((c, i) => (i === 0 ? `x = ${c}${k};` : `x = ${c}${k} + x * w;`));
    const rows = [terms.slice(0, 4), terms.slice(4, 8), terms.slice(8)];
    return rows.map((r) => `    ${r.join(' ')}`).join('\n');
  };
  return `${sp.qual} ${F} ma_erfinv(${F} y) {
  if (!(y > -1.0${k} && y < 1.0${k})) return y == 1.0${k} ? INFINITY : y == -1.0${k} ? -INFINITY : ${sp.nan};
  if (y == 0) return y;
${sp.cComments ? '  /* Initial guess from a log-based approximation, then Newton steps on erf. */\n' : ''}  ${F} w = -${sp.log}((1.0${k} - y) * (1.0${k} + y)), x;
  if (w < 5.0${k}) {
    w -= 2.5${k};
${poly(['2.81022636e-08', '3.43273939e-07', '-3.5233877e-06', '-4.39150654e-06', '0.00021858087', '-0.00125372503', '-0.00417768164', '0.246640727', '1.50140941'])}
  } else {
    w = ${sp.sqrt}(w) - 3.0${k};
${poly(['-0.000200214257', '0.000100950558', '0.00134934322', '-0.00367342844', '0.00573950773', '-0.0076224613', '0.00943887047', '1.00167406', '2.83297682'])}
  }
  x *= y;
  for (int k = 0; k < ${sp.steps}; k++) {
    ${sp.cComments ? F : `const ${F}`} err = ${sp.erf}(x) - y;
    x -= err / (1.1283791670955126${k} * ${sp.exp}(-x * x));
  }
  return x;
}`;
}
