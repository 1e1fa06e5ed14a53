/**
 * Vectorizable float32 transcendental functions for the generated C kernels.
 *
 * The kernels are compiled with `cc -O3 -march=native` and no -ffast-math, so calls to libm's
 * expf/tanhf/sinf... stay scalar calls inside otherwise vectorized loops. C_MATH_PRELUDE defines
 * branch-free `static inline` replacements (`ma_expf`, `ma_tanhf`, ...) that GCC and clang
 * auto-vectorize, with IEEE special-value behaviour kept and <= ~1 ULP error over the whole float
 * range (see the comment at the top of the C text, and test/unit/c-math.test.ts, which measures
 * the error and checks vectorization).
 *
 * The text must be placed after `#include <stdint.h>` and `#include <math.h>`; it needs nothing
 * else. Internal helpers are named `ma__*`.
 */

/** The C names this prelude defines, each `float name(float)`. */
export const C_MATH_FUNCTIONS = [
  'ma_expf',
  'ma_exp2f',
  'ma_expm1f',
  'ma_logf',
  'ma_log2f',
  'ma_log10f',
  'ma_log1pf',
  'ma_sinf',
  'ma_cosf',
  'ma_tanf',
  'ma_tanhf',
  'ma_sigmoidf',
  'ma_siluf',
  'ma_erff',
  'ma_geluf',
  'ma_sinhf',
  'ma_coshf',
] as const;

export type CMathFunction = (typeof C_MATH_FUNCTIONS)[number];

export const C_MATH_PRELUDE: string = `/* ---- metalarray vectorizable float32 math ----
 * Assumes the kernel source has already included <stdint.h> and <math.h> (INFINITY, NAN, fmaf,
 * fma); nothing else is used. Internal names start with "ma__".
 *
 * Why: glibc's expf/tanhf/sinf... are opaque calls, so GCC and clang leave a loop containing them
 * scalar unless -ffast-math is given, which we refuse (it breaks NaN/Inf/-0 semantics). Everything
 * here is straight-line code: bit casts through unions, selects as mask blends (see ma__self), no
 * branches, loops, calls or table lookups, so -O3 -march=native vectorizes the caller's loop
 * (checked for every function by test/unit/c-math.test.ts with -fopt-info-vec).
 *
 * Accuracy, measured over all 2^32 inputs against double-precision libm: max error 1.21 ULP
 * (log2f) on FMA hardware, whatever -ffp-contract says (see ma__fmaf); 1.31 ULP (erff) without FMA.
 * expm1, sigmoid, silu, gelu, sinh, cosh and tan stay below 0.51 ULP; sin and cos are below 1.6 ULP for |x| <= 8192
 * (the fast Cody-Waite path, below) and 0.51 ULP beyond. NaN -> NaN; +-Inf, overflow to
 * Inf and underflow to 0/subnormals are rounded correctly at the thresholds; odd functions keep the
 * sign of zero; subnormal inputs are handled. sin/cos/tan are accurate for every finite input (no
 * large-|x| fallback).
 *
 * Internal precision, chosen per function:
 *  - float (exp, exp2, log, log2, log10, log1p, tanh, erf): exact reductions and hi/lo splits
 *    whose products are exact keep these near 1 ULP with or without FMA;
 *  - double (expm1, sigmoid, silu, gelu, sinh, cosh, sin, cos, tan): these combine sub-results whose
 *    float rounding errors would add up towards 2 ULP; in double every intermediate carries 29
 *    spare bits, and the final conversion to float rounds overflow/underflow exactly. The double
 *    part runs at half the SIMD width, still several times faster than scalar libm.
 * Polynomial coefficients are minimax fits made for this file (LP on a dense grid, coefficients
 * rounded to the working precision one at a time with the rest refitted).
 */
/* Under GCC the public functions are SIMD-cloned and never inlined: a loop calls their
   vector clones, so it vectorizes however long the fused kernel is. (Inlined, a long
   kernel outgrows GCC's inliner budget midway and the partly inlined calls that remain
   keep the loop scalar.) The backend asks GCC on x86 for 512-bit loops so loops match
   the clones' width. */
#if defined(__GNUC__) && !defined(__clang__)
#define MA_SIMD __attribute__((simd("notinbranch"), noinline))
#else
#define MA_SIMD
#endif

typedef union { float f; uint32_t u; } ma__f32u;
typedef union { double d; uint64_t u; } ma__f64u;
static inline uint32_t ma__bits(float x) { ma__f32u v; v.f = x; return v.u; }
static inline float ma__fbits(uint32_t u) { ma__f32u v; v.u = u; return v.f; }
static inline uint64_t ma__bits64(double x) { ma__f64u v; v.d = x; return v.u; }
static inline double ma__dbits(uint64_t u) { ma__f64u v; v.u = u; return v.d; }
static inline float ma__absf(float x) { return ma__fbits(ma__bits(x) & 0x7fffffffu); }
/* Puts the sign bit of s onto y, whose own sign bit must be clear. */
static inline float ma__with_sign(float y, float s) {
  return ma__fbits(ma__bits(y) | (ma__bits(s) & 0x80000000u));
}
/* 2^k as a float from the bits; valid for -126 <= k <= 127. Unsigned arithmetic: no UB on garbage k. */
static inline float ma__pow2i(uint32_t k) { return ma__fbits((k + 127u) << 23); }

/* Branch-free selects, c ? a : b with c in {0, 1}. Written as mask blends rather than ternaries:
 * GCC turns a ternary into a branch diamond, later passes may copy trapping float operations into
 * its arms, and then if-conversion gives up under the default -ftrapping-math ("control flow in
 * loop"). A blend has no control flow to lose. */
static inline float ma__self(int c, float a, float b) {
  uint32_t m = 0u - (uint32_t)c;
  return ma__fbits((ma__bits(a) & m) | (ma__bits(b) & ~m));
}
static inline double ma__seld(int c, double a, double b) {
  uint64_t m = 0u - (uint64_t)c;
  return ma__dbits((ma__bits64(a) & m) | (ma__bits64(b) & ~m));
}
static inline uint32_t ma__selu(int c, uint32_t a, uint32_t b) {
  uint32_t m = 0u - (uint32_t)c;
  return (a & m) | (b & ~m);
}
/* a*b + c. Rounded once (fmaf/fma, inlined to one instruction) when the target has FMA, so the
 * polynomials keep FMA speed and accuracy even when kernels are built with -ffp-contract=off; plain
 * a*b + c otherwise (never a libm call). All algorithms here are accurate either way. */
#if defined(__FP_FAST_FMAF) || defined(__FMA__) || defined(__ARM_FEATURE_FMA)
static inline float ma__fmaf(float a, float b, float c) { return fmaf(a, b, c); }
static inline double ma__fma(double a, double b, double c) { return fma(a, b, c); }
#else
static inline float ma__fmaf(float a, float b, float c) { return a * b + c; }
static inline double ma__fma(double a, double b, double c) { return a * b + c; }
#endif
/* Clamps that let NaN through (both comparisons are false for NaN). */
static inline float ma__minf(float x, float hi) { return ma__self(x > hi, hi, x); }
static inline float ma__maxf(float x, float lo) { return ma__self(x < lo, lo, x); }

/* ---------------------------------------------------------------- exp family (float) */

/* p * 2^k for k in [-151, 129] (k as two's complement in a uint32_t). Split in two factors so each is
 * a normal float; the first product is exact, the second rounds once, so overflow gives Inf and
 * underflow gives a correctly rounded subnormal or 0. */
static inline float ma__ldexp_k(float p, uint32_t k) {
  uint32_t k1 = (uint32_t)((int32_t)k >> 1);
  return (p * ma__pow2i(k1)) * ma__pow2i(k - k1);
}

static inline MA_SIMD float ma_exp2f(float x) {
  /* Clamp so k stays in range: 2^-151 rounds to +0, 2^129 overflows. NaN fails both tests, passes. */
  float xc = ma__minf(ma__maxf(x, -151.0f), 129.0f);
  /* Round to nearest integer with the 1.5*2^23 trick; the integer sits in the low mantissa bits. */
  float t = xc + 0x1.8p23f;
  float kf = t - 0x1.8p23f;
  uint32_t k = ma__bits(t) - ma__bits(0x1.8p23f);
  float r = xc - kf; /* exact, |r| <= 1/2 */
  float p = 0x1.416b5ep-13f;
  p = ma__fmaf(p, r, 0x1.5f082ep-10f);
  p = ma__fmaf(p, r, 0x1.3b2de0p-7f);
  p = ma__fmaf(p, r, 0x1.c6af7cp-5f);
  p = ma__fmaf(p, r, 0x1.ebfbdcp-3f);
  p = ma__fmaf(p, r, 0x1.62e430p-1f);
  p = ma__fmaf(p, r, 1.0f);
  return ma__ldexp_k(p, k);
}

/* e^r for |r| <= ln2/2, relative error 2^-28.3 before rounding. */
static inline float ma__exp_poly(float r) {
  float p = 0x1.6a3d0ep-10f;
  p = ma__fmaf(p, r, 0x1.123856p-7f);
  p = ma__fmaf(p, r, 0x1.5558bep-5f);
  p = ma__fmaf(p, r, 0x1.555494p-3f);
  p = ma__fmaf(p, r, 0x1.fffffcp-2f);
  p = ma__fmaf(p, r, 1.0f);
  return ma__fmaf(p, r, 1.0f);
}

/* e^x = 2^k * p, p in [0.7, 1.42], for |x| <= 104 (callers clamp). */
typedef struct { float p; uint32_t k; } ma__expf_red;
static inline ma__expf_red ma__expf_reduce(float x) {
  float t = x * 0x1.715476p+0f + 0x1.8p23f;
  float kf = t - 0x1.8p23f;
  /* Cody-Waite: ln2 = HI + LO with HI of 15 bits, so kf*HI (|k| <= 150) and x - kf*HI are exact. */
  float r = x - kf * 0x1.62e400p-1f;
  r = r - kf * 0x1.7f7d1cp-20f;
  ma__expf_red o;
  o.p = ma__exp_poly(r);
  o.k = ma__bits(t) - ma__bits(0x1.8p23f);
  return o;
}

static inline MA_SIMD float ma_expf(float x) {
  /* e^-104 < 2^-150 rounds to +0; e^89 > FLT_MAX overflows to +Inf. */
  ma__expf_red e = ma__expf_reduce(ma__minf(ma__maxf(x, -104.0f), 89.0f));
  return ma__ldexp_k(e.p, e.k);
}

/* ---------------------------------------------------------------- log family (float) */

/* v = 2^e * (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)); valid for normal positive v (callers select
 * the special cases afterwards). */
typedef struct { float e, f; } ma__logred;
static inline ma__logred ma__log_reduce(float v) {
  uint32_t u = ma__bits(v);
  int32_t e = (int32_t)(u - 0x3f3504f3u) >> 23; /* 0x3f3504f3 = sqrt(1/2) */
  ma__logred o;
  o.e = (float)e;
  o.f = ma__fbits(u - ((uint32_t)e << 23)) - 1.0f; /* exact (Sterbenz) */
  return o;
}

/* log1p(f) = f - tail(f) for f in [sqrt(1/2)-1, sqrt(2)-1]. With s = f/(2+f), log1p(f) = 2s + s*R(s^2)
 * and 2s = f - s*f, which rearranges to f - (f^2/2 - s*(f^2/2 + R)): f is exact and every rounding
 * lands in the tail, which is at most ~0.17 of the result. */
static inline float ma__log1p_tail(float f) {
  float s = f / (2.0f + f);
  float z = s * s;
  float R = z * ma__fmaf(z, ma__fmaf(z, 0x1.31e096p-2f, 0x1.995ed6p-2f), 0x1.55557ap-1f);
  float hfsq = 0.5f * f * f;
  return ma__fmaf(-s, hfsq + R, hfsq);
}

/* The special inputs of log-like functions, given x's own "in domain" test. */
static inline float ma__log_special(float x, float res, float one_below) {
  /* x > lo and finite: res; x == lo: -Inf; x < lo (incl. -Inf): NaN; NaN, +Inf: x itself. */
  int at = x == one_below, below = x < one_below, ok = (x > one_below) & (x < INFINITY);
  float sp = ma__self(at, -INFINITY, ma__self(below, NAN, x));
  return ma__self(ok, res, sp);
}

static inline MA_SIMD float ma_logf(float x) {
  int sub = x < 0x1p-126f; /* subnormal (or <= 0: fixed by the final select) */
  float xs = x * 0x1p23f;
  float v = ma__self(sub, xs, x);
  ma__logred g = ma__log_reduce(v);
  float e = g.e - ma__self(sub, 23.0f, 0.0f);
  float tail = ma__log1p_tail(g.f);
  /* e*ln2 + f - tail; the big part e*LN2HI + f is summed exactly (Fast2Sum: |e*LN2HI| > |f| when
   * e != 0, and trivially exact when e == 0). */
  float a = e * 0x1.62e400p-1f;
  float s = a + g.f;
  float err = (a - s) + g.f;
  float res = s + (err + (e * 0x1.7f7d1cp-20f - tail));
  return ma__log_special(x, res, 0.0f);
}

static inline MA_SIMD float ma_log2f(float x) {
  int sub = x < 0x1p-126f;
  float xs = x * 0x1p23f;
  float v = ma__self(sub, xs, x);
  ma__logred g = ma__log_reduce(v);
  float e = g.e - ma__self(sub, 23.0f, 0.0f);
  float tail = ma__log1p_tail(g.f);
  /* log2 = e + log2(e)*(f - tail). f*log2(e) is split as fh*HI (12x12 bits: exact) + the rest. */
  float fh = ma__fbits(ma__bits(g.f) & 0xfffff000u);
  float fl = g.f - fh;
  float b = fh * 0x1.716000p+0f;
  float s = e + b;
  float err = (e - s) + b; /* Fast2Sum: |e| >= 1 > |b| unless e == 0 */
  float lo = ma__fmaf(fl, 0x1.716000p+0f, ma__fmaf(g.f, -0x1.7135a8p-13f, -tail * 0x1.715476p+0f));
  float res = s + (err + lo);
  return ma__log_special(x, res, 0.0f);
}

static inline MA_SIMD float ma_log10f(float x) {
  int sub = x < 0x1p-126f;
  float xs = x * 0x1p23f;
  float v = ma__self(sub, xs, x);
  ma__logred g = ma__log_reduce(v);
  float e = g.e - ma__self(sub, 23.0f, 0.0f);
  float tail = ma__log1p_tail(g.f);
  /* log10 = e*log10(2) + log10(e)*(f - tail), both products split into an exact hi part + rest. */
  float fh = ma__fbits(ma__bits(g.f) & 0xfffff000u);
  float fl = g.f - fh;
  float a = e * 0x1.344000p-2f;
  float b = fh * 0x1.bcc000p-2f;
  float s = a + b;
  float err = (a - s) + b; /* Fast2Sum: |a| >= 0.30 > |b| unless e == 0 */
  float lo = ma__fmaf(e, 0x1.3509f8p-18f,
                      ma__fmaf(fl, 0x1.bcc000p-2f, ma__fmaf(g.f, -0x1.09d5b2p-15f, -tail * 0x1.bcb7b2p-2f)));
  float res = s + (err + lo);
  return ma__log_special(x, res, 0.0f);
}

static inline MA_SIMD float ma_log1pf(float x) {
  float u = 1.0f + x;
  ma__logred g = ma__log_reduce(u);
  /* When e == 0 the reduced argument is x itself (no rounding from forming 1 + x). Otherwise add
   * the rounding error of 1 + x back as c/u (first-order term of log(u + c)). */
  int e0 = g.e == 0.0f;
  float f = ma__self(e0, x, g.f);
  float cq = (x - (u - 1.0f)) / u;
  float c = ma__self(e0, 0.0f, cq);
  float tail = ma__log1p_tail(f);
  float a = g.e * 0x1.62e400p-1f;
  float s = a + f;
  float err = (a - s) + f;
  float res = s + (err + ((g.e * 0x1.7f7d1cp-20f + c) - tail));
  res = ma__log_special(x, res, -1.0f);
  return ma__self(x == 0.0f, x, res); /* keep the sign of zero */
}

/* ---------------------------------------------------------------- exp family (double inside) */

/* e^x = s * (1 + q) with s = 2^k and q = expm1(r), |r| <= ln2/2; for |x| <= ~700 (callers clamp). */
typedef struct { double s, q; } ma__expd;
static inline ma__expd ma__exp_parts(double x) {
  double t = x * 0x1.71547652b82fep+0 + 0x1.8p52;
  double kd = t - 0x1.8p52;
  uint64_t k = ma__bits64(t) - ma__bits64(0x1.8p52);
  double r = x - kd * 0x1.62e42ff000000p-1; /* ln2 hi: 32 bits, exact product */
  r = r - kd * -0x1.718432a1b0e26p-35;
  double q = 0x1.a032b95705902p-13;
  q = ma__fma(q, r, 0x1.6d729664e398bp-10);
  q = ma__fma(q, r, 0x1.111189dcda224p-7);
  q = ma__fma(q, r, 0x1.5554b09912f5dp-5);
  q = ma__fma(q, r, 0x1.555554ef04c0dp-3);
  q = ma__fma(q, r, 0x1.00000026235d8p-1);
  ma__expd o;
  o.q = ma__fma(r * r, q, r);
  o.s = ma__dbits((k + 1023u) << 52);
  return o;
}

static inline MA_SIMD float ma_expm1f(float x) {
  /* expm1(-30) rounds to -1; above 88.73 the final conversion overflows to +Inf. */
  float xc = ma__minf(ma__maxf(x, -30.0f), 100.0f);
  ma__expd e = ma__exp_parts((double)xc);
  /* 2^k (1+q) - 1 = s*q + (s - 1); s - 1 is exact (|k| <= 145) and the sum is q itself for k = 0. */
  float res = (float)ma__fma(e.s, e.q, e.s - 1.0);
  return ma__self(x == 0.0f, x, res); /* keep the sign of zero */
}

static inline MA_SIMD float ma_sigmoidf(float x) {
  /* 1/(1+e^-x) in double: e^-x cannot overflow double after the clamp, so no Inf/Inf NaN; the final
   * conversion rounds the subnormal tail (x < -87) correctly. */
  float xc = ma__minf(ma__maxf(x, -120.0f), 120.0f);
  ma__expd e = ma__exp_parts(-(double)xc);
  return (float)(1.0 / (1.0 + ma__fma(e.s, e.q, e.s)));
}

static inline MA_SIMD float ma_siluf(float x) {
  /* x/(1+e^-x) rounded once: as x*sigmoid(x) in float, a subnormal sigmoid (x < -87) would drop the
   * bits the normal product needs. Below -120 the result underflows to -0 either way; -Inf gives
   * NaN (-Inf * 0), as x*sigmoid(x) does in NumPy, JAX and PyTorch. */
  float xc = ma__minf(ma__maxf(x, -120.0f), 120.0f);
  ma__expd e = ma__exp_parts(-(double)xc);
  float numerator = ma__maxf(x, -120.0f);
  float res = (float)((double)numerator / (1.0 + ma__fma(e.s, e.q, e.s)));
  return ma__self(x == -INFINITY, NAN, res);
}

static inline MA_SIMD float ma_sinhf(float x) {
  float a = ma__absf(x);
  a = ma__minf(a, 100.0f);
  ma__expd e = ma__exp_parts((double)a);
  double em = ma__fma(e.s, e.q, e.s - 1.0);
  /* sinh = (e^a - e^-a)/2 = (em + em/(em+1))/2: no cancellation for small a. */
  return ma__with_sign((float)(0.5 * (em + em / (em + 1.0))), x);
}

static inline MA_SIMD float ma_coshf(float x) {
  float a = ma__absf(x);
  a = ma__minf(a, 100.0f);
  ma__expd e = ma__exp_parts((double)a);
  double ea = ma__fma(e.s, e.q, e.s);
  return (float)(0.5 * (ea + 1.0 / ea));
}

/* ---------------------------------------------------------------- tanh (float) */

/* Float only, because tanh is the hot one (GELU): about 2x faster than the double route while
 * staying near 1 ULP. |x| < 1: odd minimax polynomial. |x| >= 1: 1 - 2/(e^{2|x|} + 1), where
 * 2/(e+1) <= 0.24 so the rounding errors of e, e+1 and the division shrink by that factor. */
static inline MA_SIMD float ma_tanhf(float x) {
  float a = ma__minf(ma__absf(x), 9.5f); /* 1 - tanh(9.5) < 2^-25: rounds to 1 */
  float z = a * a;
  float p = -0x1.77cb0cp-12f;
  p = ma__fmaf(p, z, 0x1.2d9f8ep-9f);
  p = ma__fmaf(p, z, -0x1.045fdep-7f);
  p = ma__fmaf(p, z, 0x1.6009a4p-6f);
  p = ma__fmaf(p, z, -0x1.b9623ap-5f);
  p = ma__fmaf(p, z, 0x1.110be4p-3f);
  p = ma__fmaf(p, z, -0x1.55553cp-2f);
  float small = ma__fmaf(a, z * p, a);
  ma__expf_red e = ma__expf_reduce(2.0f * a); /* 2a <= 19: 2^k is a normal float */
  float big = 1.0f - 2.0f / ma__fmaf(e.p, ma__pow2i(e.k), 1.0f);
  return ma__with_sign(ma__self(a < 1.0f, small, big), x);
}

/* ---------------------------------------------------------------- erf (float) */

/* Float only, like tanh, because GELU(erf) is hot. */
static inline MA_SIMD float ma_erff(float x) {
  float a = ma__minf(ma__absf(x), 4.0f); /* erf(4) rounds to 1 */
  float z = a * a;
  /* |x| < 1: erf = a + a*Q(a^2); a is exact and Q <= 0.16, so the rounding lands in the small term. */
  float q = 0x1.4771fep-14f;
  q = ma__fmaf(q, z, -0x1.a3515ep-11f);
  q = ma__fmaf(q, z, 0x1.53f224p-8f);
  q = ma__fmaf(q, z, -0x1.b7f71ap-6f);
  q = ma__fmaf(q, z, 0x1.ce2ce6p-4f);
  q = ma__fmaf(q, z, -0x1.81273ep-2f);
  q = ma__fmaf(q, z, 0x1.06eba8p-3f);
  float small = ma__fmaf(a, q, a);
  /* 1 <= |x| <= 4: erf = 1 - e^{-x^2} R(x). x^2 = ah^2 + lo with ah^2 exact (ah: 12 bits of a), so
   * e^{-x^2} keeps full float accuracy; R = erfc(x) e^{x^2} is a polynomial in x - 2.5. */
  float ah = ma__fbits(ma__bits(a) & 0xfffff000u);
  float al = a - ah;
  float hi = ah * ah;
  float lo = (ah + a) * al;
  float t = hi * -0x1.715476p+0f + 0x1.8p23f;
  float kf = t - 0x1.8p23f;
  float r = (kf * -0x1.62e400p-1f - hi) - kf * 0x1.7f7d1cp-20f - lo;  /* -x^2 - k ln2 */
  float e = ma__exp_poly(r) * ma__pow2i(ma__bits(t) - ma__bits(0x1.8p23f));
  float u = a - 2.5f;
  float R = 0x1.d08982p-14f;
  R = ma__fmaf(R, u, 0x1.015ac8p-12f);
  R = ma__fmaf(R, u, 0x1.311984p-11f);
  R = ma__fmaf(R, u, -0x1.4bfb32p-11f);
  R = ma__fmaf(R, u, 0x1.2d5e96p-9f);
  R = ma__fmaf(R, u, -0x1.0af588p-7f);
  R = ma__fmaf(R, u, 0x1.9819c2p-6f);
  R = ma__fmaf(R, u, -0x1.3081c2p-4f);
  R = ma__fmaf(R, u, 0x1.afbbf8p-3f);
  float big = ma__fmaf(-e, R, 1.0f);
  return ma__with_sign(ma__self(a < 1.0f, small, big), x);
}

/* ---------------------------------------------------------------- gelu (double inside) */

/* gelu(x) = x Phi(x), Phi the standard normal CDF. Not 0.5 x (1 + erf(x/sqrt2)): for x < 0 that
 * subtracts nearly equal numbers (4% off at x = -5, 0 below -6, where the true value is a tiny
 * negative number down to x = -14.4). Here Phi(-a) = Q(a) for a = |x| is computed directly:
 *  - |x| < 1/2: gelu = x (1/2 + x P(x^2)), P(x^2) = erf(x/sqrt2)/(2x) (1/2 + xP >= 0.3: no
 *    cancellation worth a bit);
 *  - |x| >= 1/2: Q(a) = e^{-a^2/2} t S(t) with t = 2/(2 + a), S a fit of Q e^{a^2/2}/t (smooth,
 *    tends to 1/(2 sqrt(2 pi)) as a grows); a^2 is exact in double, so e^{-a^2/2} is as accurate as
 *    the exp. gelu = -a Q for x < 0, x (1 - Q) for x > 0.
 * Fits (relative error 2^-34.4 and 2^-31.7) made for this file; in double every rounding is far
 * below the final conversion to float, which also rounds the subnormal tail (-14.4 < x < -13.2)
 * correctly. gelu(-Inf) is NaN, as x Phi(x) gives (-Inf * 0), and as JAX returns. */
static inline MA_SIMD float ma_geluf(float x) {
  double xd = (double)x;
  double a = (double)ma__minf(ma__absf(x), 14.4f); /* gelu(-14.4) < 2^-151 rounds to -0 */
  double u = xd * xd;
  double p = 0x1.cc13aa88bfdd0p-14;
  p = ma__fma(p, u, -0x1.36ec92407d14cp-10);
  p = ma__fma(p, u, 0x1.46cf5404d1fb4p-7);
  p = ma__fma(p, u, -0x1.1058368f5fd67p-4);
  p = ma__fma(p, u, 0x1.9884533cf6addp-2);
  double small = xd * ma__fma(xd, p, 0.5);
  double t = 2.0 / (2.0 + a);
  double s = 0x1.61fd1d2062c9bp-4;
  s = ma__fma(s, t, -0x1.1e1e2862edc37p-1);
  s = ma__fma(s, t, 0x1.8fba8b3558401p+0);
  s = ma__fma(s, t, -0x1.34e58537ef1cdp+1);
  s = ma__fma(s, t, 0x1.1312a2bda42d7p+1);
  s = ma__fma(s, t, -0x1.ffd2b501b396ap-1);
  s = ma__fma(s, t, 0x1.94b737c989e0ap-3);
  s = ma__fma(s, t, -0x1.0aef0810a03ddp-3);
  s = ma__fma(s, t, 0x1.eb1e262fb6dcep-5);
  s = ma__fma(s, t, 0x1.3069ab051a28ap-3);
  s = ma__fma(s, t, 0x1.98a068188d60dp-3);
  s = ma__fma(s, t, 0x1.9883a3968fc80p-3);
  ma__expd e = ma__exp_parts(-0.5 * (a * a));
  double q = ma__fma(e.s, e.q, e.s) * (t * s);
  double big = ma__seld(x < 0.0f, -a * q, ma__fma(-xd, q, xd));
  float res = (float)ma__seld(ma__absf(x) < 0.5f, small, big);
  /* x (1 - Q) rounds to x from 5.6 on; taking x itself keeps +Inf (Inf * Q would be NaN). */
  res = ma__self(x > 8.0f, x, res);
  return ma__self(x == -INFINITY, NAN, res);
}

/* ---------------------------------------------------------------- sin, cos, tan (double inside) */

/* |x| = (4n + q) * pi/2 + r, |r| <= pi/4, for every finite |x|, branch-free.
 * Small |x| (< pi/4) is returned as is. Otherwise a Payne-Hanek reduction in integers: with
 * |x| = m * 2^E (m a 24-bit integer), x*2/pi mod 4 only needs the bits of 2/pi from weight 2^(1-E)
 * downward; a 96-bit window of them is chosen by E with selects (no table lookup) and multiplied by m
 * modulo 2^96, which leaves the quadrant in the top 2 bits and 94 bits of fraction. The closest any
 * float >= pi/4 comes to a multiple of pi/2 is 2^-29.2 (found by exhaustive search), so the 64-bit
 * fixed-point fraction kept below still has >= 34 significant bits and the window truncation
 * (< 2^-70) is negligible. Needs AVX2-class variable shifts to vectorize on x86. */
typedef struct { double r; uint32_t q; } ma__trigred;
static inline ma__trigred ma__rem_pio2(float ax) {
  /* 2/pi in 32-bit words, preceded by two zero words so windows starting above bit 1 read zeros. */
  const uint32_t T2 = 0xA2F9836Eu, T3 = 0x4E441529u, T4 = 0xFC2757D1u, T5 = 0xF534DDC0u,
                 T6 = 0xDB629599u, T7 = 0x3C439041u, T8 = 0xFE5163ABu;
  uint32_t ux = ma__bits(ax);
  uint32_t m = (ux & 0x7fffffu) | 0x800000u;
  uint32_t p = (ux >> 23) - 150u + 62u; /* window start, as a bit index into the padded table (0 = MSB) */
  uint32_t j = p >> 5, sh = p & 31u;     /* j in [1, 5] for |x| >= 0.5 incl. Inf/NaN */
  int j1 = j == 1u, j2 = j == 2u, j3 = j == 3u, j4 = j == 4u;
  uint32_t w0 = ma__selu(j1, 0u, ma__selu(j2, T2, ma__selu(j3, T3, ma__selu(j4, T4, T5))));
  uint32_t w1 = ma__selu(j1, T2, ma__selu(j2, T3, ma__selu(j3, T4, ma__selu(j4, T5, T6))));
  uint32_t w2 = ma__selu(j1, T3, ma__selu(j2, T4, ma__selu(j3, T5, ma__selu(j4, T6, T7))));
  uint32_t w3 = ma__selu(j1, T4, ma__selu(j2, T5, ma__selu(j3, T6, ma__selu(j4, T7, T8))));
  /* (w >> 1) >> (31 - sh) == w >> (32 - sh) without the undefined shift by 32 when sh == 0. */
  uint32_t hi = (w0 << sh) | ((w1 >> 1) >> (31u - sh));
  uint32_t mid = (w1 << sh) | ((w2 >> 1) >> (31u - sh));
  uint32_t lo = (w2 << sh) | ((w3 >> 1) >> (31u - sh));
  /* m * (hi:mid:lo) mod 2^96 = r2:r1:r0 */
  uint64_t plo = (uint64_t)m * lo;
  uint64_t pmid = (uint64_t)m * mid + (plo >> 32);
  uint32_t r0 = (uint32_t)plo;
  uint32_t r1 = (uint32_t)pmid;
  uint32_t r2 = (uint32_t)(pmid >> 32) + m * hi;
  /* Round to the nearest quadrant; the remaining fraction, as a signed 2^-64-scaled fixed point. */
  uint32_t q = (r2 + 0x20000000u) >> 30;
  int32_t fhi = (int32_t)((r2 << 2) | (r1 >> 30));
  uint32_t fmid = (r1 << 2) | (r0 >> 30);
  double fd = (double)fhi * 0x1p32 + ((double)(int32_t)(fmid ^ 0x80000000u) + 0x1p31);
  int small = ax < 0x1.921fb6p-1f;
  ma__trigred o;
  o.r = ma__seld(small, (double)ax, fd * 0x1.921fb54442d18p-64); /* * pi/2 * 2^-64 */
  o.q = ma__selu(small, 0u, q);
  return o;
}

static inline double ma__sin_poly(double r) {
  double z = r * r;
  double p = 0x1.6cd1a8ac85542p-19;
  p = ma__fma(p, z, -0x1.a00f7def82a70p-13);
  p = ma__fma(p, z, 0x1.11110868d64ecp-7);
  p = ma__fma(p, z, -0x1.5555554c6f9f2p-3);
  return ma__fma(r * z, p, r);
}

static inline double ma__cos_poly(double r) {
  double z = r * r;
  double p = -0x1.241e68632b84bp-22;
  p = ma__fma(p, z, 0x1.a010ddd5307a6p-16);
  p = ma__fma(p, z, -0x1.6c16b82896998p-10);
  p = ma__fma(p, z, 0x1.5555554ed81ddp-5);
  return ma__fma(z * z, p, 1.0 - 0.5 * z);
}

static inline float ma__sinf_full(float x) {
  float ax = ma__absf(x);
  ma__trigred t = ma__rem_pio2(ax);
  double s = ma__sin_poly(t.r), c = ma__cos_poly(t.r);
  float v = (float)ma__seld((int)(t.q & 1u), c, s);
  /* sin(-x) = -sin(x); quadrants 2, 3 flip the sign too. */
  uint32_t sign = (ma__bits(x) ^ (t.q << 30)) & 0x80000000u;
  float res = ma__fbits(ma__bits(v) ^ sign);
  return ma__self(ax <= 0x1.fffffep127f, res, x - x); /* Inf/NaN -> NaN */
}

static inline float ma__cosf_full(float x) {
  float ax = ma__absf(x);
  ma__trigred t = ma__rem_pio2(ax);
  double s = ma__sin_poly(t.r), c = ma__cos_poly(t.r);
  uint32_t q = t.q + 1u; /* cos(y) = sin(y + pi/2) */
  float v = (float)ma__seld((int)(q & 1u), c, s);
  float res = ma__fbits(ma__bits(v) ^ ((q << 30) & 0x80000000u));
  return ma__self(ax <= 0x1.fffffep127f, res, x - x);
}

static inline MA_SIMD float ma_tanf(float x) {
  float ax = ma__absf(x);
  ma__trigred t = ma__rem_pio2(ax);
  double s = ma__sin_poly(t.r), c = ma__cos_poly(t.r);
  int odd = (int)(t.q & 1u);
  /* tan(y + pi/2) = -cos(y)/sin(y) */
  float v = (float)(ma__seld(odd, -c, s) / ma__seld(odd, s, c));
  float res = ma__fbits(ma__bits(v) ^ (ma__bits(x) & 0x80000000u));
  return ma__self(ax <= 0x1.fffffep127f, res, x - x);
}

/* Fast float32 sin and cos for |x| <= MA_TRIG_FAST_MAX (max 1.56 ULP there, measured
 * against double libm on every 7th float pattern): a 3-part Cody-Waite reduction by pi/2
 * with FMA, then odd/even minimax polynomials on [-pi/4, pi/4] (Cephes' published
 * float coefficients). Kernels run these speculatively and redo a row with ma_sinf /
 * ma_cosf when ma_trig_big saw any argument out of range (or NaN/Inf). */
#define MA_TRIG_FAST_MAX 8192.0f
static inline float ma__fsin_poly(float r) {
  float r2 = r * r;
  float p = ma__fmaf(r2, -1.9515295891e-4f, 8.3321608736e-3f);
  p = ma__fmaf(r2, p, -1.6666654611e-1f);
  return ma__fmaf(r * r2, p, r);
}
static inline float ma__fcos_poly(float r) {
  float r2 = r * r;
  float p = ma__fmaf(r2, 2.443315711809948e-5f, -1.388731625493765e-3f);
  p = ma__fmaf(r2, p, 4.166664568298827e-2f);
  return ma__fmaf(r2 * r2, p, ma__fmaf(-0.5f, r2, 1.0f));
}
static inline float ma__ftrig(float x, int32_t shift) {
  float k = rintf(x * 0.63661977236758134f);
  float r = ma__fmaf(k, -1.57079601287841796875f, x);
  r = ma__fmaf(k, -3.13916473556309938431e-07f, r);
  r = ma__fmaf(k, -5.39030252995776476554e-15f, r);
  int32_t q = (int32_t)k + shift;
  float s = ma__fsin_poly(r), c = ma__fcos_poly(r);
  float v = ma__self(q & 1, c, s);
  return ma__fbits(ma__bits(v) ^ ((uint32_t)(q & 2) << 30));
}
static inline float ma__sinf_fast(float x) { return ma__self(x == 0.0f, x, ma__ftrig(x, 0)); /* keeps -0 */ }
static inline MA_SIMD float ma_sinf_fast(float x) { return ma__sinf_fast(x); }
static inline MA_SIMD float ma_cosf_fast(float x) { return ma__ftrig(x, 1); }
/* The accurate sin and cos equal the fast ones wherever those are valid, so a row that
   falls back gives the same bits for every argument in range: fused and unfused kernels
   agree whichever rows took the fallback. Beyond the range: full Payne-Hanek reduction. */
static inline MA_SIMD float ma_sinf(float x) { return ma__self(ma__absf(x) <= MA_TRIG_FAST_MAX, ma__sinf_fast(x), ma__sinf_full(x)); }
static inline MA_SIMD float ma_cosf(float x) { return ma__self(ma__absf(x) <= MA_TRIG_FAST_MAX, ma__ftrig(x, 1), ma__cosf_full(x)); }
static inline MA_SIMD int32_t ma_trig_big(float x) { return !(ma__absf(x) <= MA_TRIG_FAST_MAX); }
/* ---- end of metalarray math prelude ---- */
`;
