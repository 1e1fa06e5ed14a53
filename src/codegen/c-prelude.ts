/** The C prelude: types, half conversions, integer helpers and the vectorizable float math every C kernel is compiled with. */
import { C_MATH_PRELUDE } from './c-math.js';
import { C_COMPUTE_TYPE } from './ctypes.js';
import { erfinvText, f64ActivationHelpers, floatFloorDivision, halfConversions, intHelpers, type PreludeSpelling } from './prelude-text.js';

/** How the C prelude spells the shared prelude text (prelude-text.ts). */
const C_SPELLING: PreludeSpelling = {
  qual: 'static inline',
  asFloat: (bits) => `ma_bitsf(${bits})`,
  asBits: (f) => `ma_fbits(${f})`,
  rintf: 'rintf',
  wide: 'double',
  lib: '',
  cComments: true,
};

/** Shared C prelude: types, half conversions, integer helpers, float math. */
export const C_PRELUDE = `#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

/* Multiply-adds of matrix products: one rounding where the CPU has FMA. */
#if defined(__FMA__) || defined(__aarch64__)
#define MA_FMAF(x, y, z) fmaf(x, y, z)
#define MA_FMA(x, y, z) fma(x, y, z)
#else
#define MA_FMAF(x, y, z) ((x) * (y) + (z))
#define MA_FMA(x, y, z) ((x) * (y) + (z))
#endif

static inline double ma_argd(const int64_t *a, int64_t k) { double d; memcpy(&d, &a[k], 8); return d; }
static inline uint32_t ma_fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float ma_bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

${halfConversions(C_SPELLING)}

/* A gathered index: negative counts from the end once, then clamped into [0, n). */
static inline int64_t ma_gather_index(int64_t i, int64_t n) {
  i = i < 0 ? i + n : i;
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Zeros that off-segment gated loads read; segments are at most MA_BLOCK long. */
#define MA_BLOCK 1024
static const double ma_zero_block[MA_BLOCK];
/* Steps from x (moving by k per step) until lo <= x < hi changes truth value. */
static inline int64_t ma_gate_next(int64_t x, int64_t k, int64_t lo, int64_t hi) {
  if (k > 0) {
    if (x < lo) return (lo - x + k - 1) / k;
    if (x < hi) return (hi - x + k - 1) / k;
    return INT64_MAX;
  }
  if (k < 0) {
    if (x >= hi) return (x - hi) / -k + 1;
    if (x >= lo) return (x - lo) / -k + 1;
  }
  return INT64_MAX;
}

${floatFloorDivision(C_SPELLING)}
static inline double ma_logaddexp(double x, double y) {
  /* ln2 as HI + LO: x + HI is exact near x = -ln2, where the sum cancels to about 0. */
  if (x == y) return (x + 0x1.62e42fefa3800p-1) + 0x1.ef35793c7673p-45;
  double t = x - y;
  if (t > 0) return x + log1p(exp(-t));
  if (t <= 0) return y + log1p(exp(t));
  return t;
}
${f64ActivationHelpers('static inline', { exp: 'exp', erfc: 'erfc', fma: 'fma' })}
${erfinvText({ qual: 'static inline', F: 'double', nan: 'NAN', log: 'log', sqrt: 'sqrt', exp: 'exp', erf: 'erf', steps: 3, cComments: true })}

${intHelpers('static inline', C_COMPUTE_TYPE, 'double', true)}

${C_MATH_PRELUDE}
`;
