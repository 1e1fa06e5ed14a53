/**
 * Accuracy, special values and auto-vectorization of the C math prelude (src/codegen/c-math.ts).
 *
 * A C harness is compiled with the system `cc -O3 -march=native` (and again with -ffp-contract=off
 * -std=c11, as the CPU backend builds kernels) and run:
 * it sweeps every 2^11-th float bit pattern (with a pseudo-random offset inside each block, ~2.1 M
 * points per function) plus special values and their neighbours, and reports the max error of each
 * ma_* function in ULPs against the double-precision libm function. The evaluation loops are the
 * vectorized ones, so the SIMD code path is what gets measured. A second compile checks with
 * -fopt-info-vec (GCC) or -Rpass=loop-vectorize (clang) that a plain loop over each function is
 * vectorized.
 */
import { findCompiler as backendCompiler } from '../../src/runtime/cpu/compiler.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { C_MATH_FUNCTIONS, C_MATH_PRELUDE, type CMathFunction } from '../../src/codegen/c-math.js';

/** Max error allowed per function, in ULPs over the whole float domain (the prelude's contract). */
const ULP_TARGET: Record<CMathFunction, number> = {
  ma_expf: 2,
  ma_exp2f: 2,
  ma_expm1f: 2,
  ma_logf: 2,
  ma_log2f: 2,
  ma_log10f: 2,
  ma_log1pf: 2,
  ma_sinf: 2,
  ma_cosf: 2,
  ma_tanf: 2,
  ma_tanhf: 2,
  ma_sigmoidf: 2,
  ma_siluf: 2,
  ma_erff: 2,
  ma_geluf: 1,
  ma_sinhf: 2,
  ma_coshf: 2,
};

/** log2 of the bit-pattern stride of the sweep: 2^32 / 2^11 = 2.1 M points per function. */
const LOG2_STRIDE = 11;

type Compiler = { ok: true; clang: boolean } | { ok: false; reason: string };

function findCompiler(): Compiler {
  const r = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    return { ok: false, reason: `no working C compiler "cc" on PATH (${r.error?.message ?? `exit ${r.status}`})` };
  }
  return { ok: true, clang: /clang/i.test(r.stdout) };
}

function run(cmd: string, args: string[], cwd: string): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}:\n${r.stderr}${r.stdout}`);
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The accuracy/special-value harness. Appended after the includes and the prelude. */
const HARNESS_C = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*ma_batch_fn)(float *restrict, const float *restrict, int);
typedef double (*ma_ref_fn)(double);

/* The loops that get vectorized: every evaluation goes through them. */
#define MA_BATCH(name)                                                          \
  static void batch_##name(float *restrict o, const float *restrict x, int n) { \
    for (int i = 0; i < n; i++) o[i] = name(x[i]);                              \
  }
MA_BATCH(ma_expf)
MA_BATCH(ma_exp2f)
MA_BATCH(ma_expm1f)
MA_BATCH(ma_logf)
MA_BATCH(ma_log2f)
MA_BATCH(ma_log10f)
MA_BATCH(ma_log1pf)
MA_BATCH(ma_sinf)
MA_BATCH(ma_cosf)
MA_BATCH(ma_tanf)
MA_BATCH(ma_tanhf)
MA_BATCH(ma_sigmoidf)
MA_BATCH(ma_siluf)
MA_BATCH(ma_erff)
MA_BATCH(ma_geluf)
MA_BATCH(ma_sinhf)
MA_BATCH(ma_coshf)

static double ref_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double ref_silu(double x) { return x / (1.0 + exp(-x)); }
/* x Phi(x). x/sqrt2 rounds in double, which moves erfc by 2 z^2 2^-53 relative: below 2^-44 for
   every x whose gelu is not 0 in float. -Inf gives NaN (-Inf * 0), as the library's. */
static double ref_gelu(double x) { return 0.5 * x * erfc(-x * 0.70710678118654752440); }

typedef struct {
  const char *name;
  ma_batch_fn fn;
  ma_ref_fn ref;
} ma_case;

static const ma_case CASES[] = {
    {"ma_expf", batch_ma_expf, exp},         {"ma_exp2f", batch_ma_exp2f, exp2},
    {"ma_expm1f", batch_ma_expm1f, expm1},   {"ma_logf", batch_ma_logf, log},
    {"ma_log2f", batch_ma_log2f, log2},      {"ma_log10f", batch_ma_log10f, log10},
    {"ma_log1pf", batch_ma_log1pf, log1p},   {"ma_sinf", batch_ma_sinf, sin},
    {"ma_cosf", batch_ma_cosf, cos},         {"ma_tanf", batch_ma_tanf, tan},
    {"ma_tanhf", batch_ma_tanhf, tanh},      {"ma_sigmoidf", batch_ma_sigmoidf, ref_sigmoid},
    {"ma_siluf", batch_ma_siluf, ref_silu},
    {"ma_erff", batch_ma_erff, erf},         {"ma_geluf", batch_ma_geluf, ref_gelu},
    {"ma_sinhf", batch_ma_sinhf, sinh},
    {"ma_coshf", batch_ma_coshf, cosh},
};

static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* Error of got in float ULPs at the exact value ref (the ULP of the binade ref lies in; 2^-149
 * below 2^-126; Inf counts as 2^128). A NaN mismatch, a missed infinity or a zero of the wrong
 * sign is a failure, reported as 1e9. */
static double ulp_error(float got, double ref) {
  const double BAD = 1e9;
  if (isnan(ref)) return isnan(got) ? 0.0 : BAD;
  if (isnan(got)) return BAD;
  float rf = (float)ref;
  if (isinf(rf) && got == rf) return 0.0;
  if (isinf(ref)) return BAD;
  if (got == 0.0f && ref == 0.0 && !signbit(got) != !signbit(ref)) return BAD;
  double g = isinf(got) ? copysign(0x1p128, (double)got) : (double)got;
  double a = fabs(ref), ulp;
  if (a < 0x1p-126) {
    ulp = 0x1p-149;
  } else {
    int e;
    frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    ulp = ldexp(1.0, e - 24);
    if (ulp > 0x1p104) ulp = 0x1p104;
  }
  return fabs(g - ref) / ulp;
}

/* Inputs where functions change behaviour (overflow/underflow/saturation thresholds, reduction
 * boundaries, large trig arguments); each is also tried negated and at +-1, +-2 ULP. */
static const uint32_t SPECIAL_BITS[] = {
    0x00000000u, 0x00000001u, 0x00000002u, 0x007fffffu, 0x00800000u, 0x00800001u, 0x3f800000u,
    0x7f7fffffu, 0x7f800000u, 0x7fc00000u, 0x7fa00001u, 0x7fffffffu, 0x33800000u, 0x34000000u,
    0x39800000u, 0x3e8a3d71u, 0x3f000000u, 0x3f400000u, 0x40000000u, 0x40800000u,
    0x42b17218u, /* 88.7228: expf/expm1f overflow */
    0x42aeac50u, /* 87.3365: expf(-x) = FLT_MIN */
    0x42cff1b5u, /* 103.97: last nonzero expf(-x) */
    0x42ce8ed0u, /* 103.28: expf(-x) = 2^-149 */
    0x42fe0000u, 0x43000000u, 0x43150000u, 0x43160000u, 0x43170000u, /* 127, 128, 149, 150, 151 */
    0x42b2d4fcu, /* 89.4159: sinh/cosh overflow */
    0x4110406bu, /* 9.0157: tanh -> 1 */
    0x418aa123u, /* 17.33: expm1(-x) -> -1, sigmoid -> 1 */
    0x407b0000u, /* 3.92: erf -> 1 */
    0x3f000000u, 0x40b33333u, 0x41000000u, /* 0.5, 5.6, 8: gelu's pieces */
    0x41533333u, 0x41666666u, 0x41700000u, /* 13.2, 14.4, 15: gelu underflows to subnormals, to -0 */
    0x3f3504f3u, 0x3fb504f3u, /* sqrt(1/2), sqrt(2): log reduction boundaries */
    0x3f490fdbu, 0x3fc90fdbu, 0x40490fdbu, 0x40c90fdbu, /* pi/4, pi/2, pi, 2pi */
    0x461c4000u, 0x47c35000u, 0x4b800000u, 0x501502f9u, 0x5a0e1bcau, 0x7e967699u, /* 1e4 .. 1e38 */
    0x5922aa0au, 0x6c9d81d0u, 0x7d3a3d54u, 0x4e7e0000u,
};

static void run_case(const ma_case *c, int log2stride, uint64_t first, uint64_t end) {
  enum { N = 4096 };
  static float xs[N], ys[N];
  const uint64_t stride = (uint64_t)1 << log2stride;
  const size_t nspecial = sizeof SPECIAL_BITS / sizeof SPECIAL_BITS[0];
  double maxerr = 0.0, worst_ref = 0.0;
  float worst_x = 0.0f, worst_got = 0.0f;
  unsigned long long points = 0, failures = 0;
  uint64_t i = first;
  size_t si = 0;
  for (;;) {
    int n = 0;
    for (; n < N && si < nspecial * 10; si++) {
      uint32_t b = SPECIAL_BITS[si / 10];
      int k = (int)(si % 10), d = k / 2 - 2;
      if ((int64_t)b + d >= 0) xs[n++] = from_bits((b + (uint32_t)d) | ((k & 1) ? 0x80000000u : 0u));
    }
    for (; n < N && i < end; i += stride) {
      uint64_t off = ((i >> log2stride) * 0x9E3779B97F4A7C15ull >> 40) & (stride - 1);
      xs[n++] = from_bits((uint32_t)(i + off));
    }
    if (n == 0) break;
    c->fn(ys, xs, n);
    for (int k = 0; k < n; k++) {
      double ref = c->ref((double)xs[k]);
      double e = ulp_error(ys[k], ref);
      points++;
      if (e >= 1e9) failures++;
      if (e > maxerr) {
        maxerr = e;
        worst_x = xs[k];
        worst_got = ys[k];
        worst_ref = ref;
      }
    }
  }
  printf("{\"fn\":\"%s\",\"maxUlp\":%.4f,\"points\":%llu,\"failures\":%llu,\"worstX\":\"%a (0x%08x)\","
         "\"got\":\"%a\",\"ref\":\"%a\"}\n",
         c->name, maxerr, points, failures, (double)worst_x, to_bits(worst_x), (double)worst_got,
         worst_ref);
}

/* Results that must be exact (bit for bit, NaN as any NaN): IEEE special cases. */
typedef struct {
  const char *name;
  ma_batch_fn fn;
  float in, want;
} ma_exact;

#define MIN_SUB 0x1p-149f
static const ma_exact EXACT[] = {
    {"ma_expf", batch_ma_expf, -0.0f, 1.0f},          {"ma_expf", batch_ma_expf, INFINITY, INFINITY},
    {"ma_expf", batch_ma_expf, -INFINITY, 0.0f},      {"ma_expf", batch_ma_expf, NAN, NAN},
    {"ma_expf", batch_ma_expf, 89.0f, INFINITY},      {"ma_expf", batch_ma_expf, -104.0f, 0.0f},
    {"ma_exp2f", batch_ma_exp2f, 0.0f, 1.0f},         {"ma_exp2f", batch_ma_exp2f, 10.0f, 1024.0f},
    {"ma_exp2f", batch_ma_exp2f, -149.0f, MIN_SUB},   {"ma_exp2f", batch_ma_exp2f, -150.0f, 0.0f},
    {"ma_exp2f", batch_ma_exp2f, -140.0f, 0x1p-140f}, {"ma_exp2f", batch_ma_exp2f, 127.0f, 0x1p127f},
    {"ma_exp2f", batch_ma_exp2f, 128.0f, INFINITY},   {"ma_exp2f", batch_ma_exp2f, -INFINITY, 0.0f},
    {"ma_exp2f", batch_ma_exp2f, NAN, NAN},           {"ma_expm1f", batch_ma_expm1f, -0.0f, -0.0f},
    {"ma_expm1f", batch_ma_expm1f, 0.0f, 0.0f},       {"ma_expm1f", batch_ma_expm1f, -INFINITY, -1.0f},
    {"ma_expm1f", batch_ma_expm1f, INFINITY, INFINITY}, {"ma_expm1f", batch_ma_expm1f, -100.0f, -1.0f},
    {"ma_expm1f", batch_ma_expm1f, 100.0f, INFINITY}, {"ma_expm1f", batch_ma_expm1f, MIN_SUB, MIN_SUB},
    {"ma_expm1f", batch_ma_expm1f, NAN, NAN},         {"ma_logf", batch_ma_logf, 1.0f, 0.0f},
    {"ma_logf", batch_ma_logf, 0.0f, -INFINITY},      {"ma_logf", batch_ma_logf, -0.0f, -INFINITY},
    {"ma_logf", batch_ma_logf, -1.0f, NAN},           {"ma_logf", batch_ma_logf, -INFINITY, NAN},
    {"ma_logf", batch_ma_logf, INFINITY, INFINITY},   {"ma_logf", batch_ma_logf, NAN, NAN},
    {"ma_log2f", batch_ma_log2f, 1.0f, 0.0f},         {"ma_log2f", batch_ma_log2f, 8.0f, 3.0f},
    {"ma_log2f", batch_ma_log2f, MIN_SUB, -149.0f},   {"ma_log2f", batch_ma_log2f, 0x1p-130f, -130.0f},
    {"ma_log2f", batch_ma_log2f, 0x1p127f, 127.0f},   {"ma_log2f", batch_ma_log2f, 0.0f, -INFINITY},
    {"ma_log2f", batch_ma_log2f, -MIN_SUB, NAN},      {"ma_log2f", batch_ma_log2f, INFINITY, INFINITY},
    {"ma_log10f", batch_ma_log10f, 1.0f, 0.0f},       {"ma_log10f", batch_ma_log10f, 10.0f, 1.0f},
    {"ma_log10f", batch_ma_log10f, -0.0f, -INFINITY}, {"ma_log10f", batch_ma_log10f, -2.0f, NAN},
    {"ma_log10f", batch_ma_log10f, INFINITY, INFINITY}, {"ma_log10f", batch_ma_log10f, NAN, NAN},
    {"ma_log1pf", batch_ma_log1pf, -0.0f, -0.0f},     {"ma_log1pf", batch_ma_log1pf, 0.0f, 0.0f},
    {"ma_log1pf", batch_ma_log1pf, -1.0f, -INFINITY}, {"ma_log1pf", batch_ma_log1pf, -2.0f, NAN},
    {"ma_log1pf", batch_ma_log1pf, -INFINITY, NAN},   {"ma_log1pf", batch_ma_log1pf, INFINITY, INFINITY},
    {"ma_log1pf", batch_ma_log1pf, -MIN_SUB, -MIN_SUB}, {"ma_log1pf", batch_ma_log1pf, NAN, NAN},
    {"ma_sinf", batch_ma_sinf, -0.0f, -0.0f},         {"ma_sinf", batch_ma_sinf, MIN_SUB, MIN_SUB},
    {"ma_sinf", batch_ma_sinf, -MIN_SUB, -MIN_SUB},   {"ma_sinf", batch_ma_sinf, INFINITY, NAN},
    {"ma_sinf", batch_ma_sinf, -INFINITY, NAN},       {"ma_sinf", batch_ma_sinf, NAN, NAN},
    {"ma_cosf", batch_ma_cosf, 0.0f, 1.0f},           {"ma_cosf", batch_ma_cosf, -0.0f, 1.0f},
    {"ma_cosf", batch_ma_cosf, INFINITY, NAN},        {"ma_cosf", batch_ma_cosf, NAN, NAN},
    {"ma_tanf", batch_ma_tanf, -0.0f, -0.0f},         {"ma_tanf", batch_ma_tanf, -MIN_SUB, -MIN_SUB},
    {"ma_tanf", batch_ma_tanf, -INFINITY, NAN},       {"ma_tanf", batch_ma_tanf, NAN, NAN},
    {"ma_tanhf", batch_ma_tanhf, -0.0f, -0.0f},       {"ma_tanhf", batch_ma_tanhf, 0.0f, 0.0f},
    {"ma_tanhf", batch_ma_tanhf, INFINITY, 1.0f},     {"ma_tanhf", batch_ma_tanhf, -INFINITY, -1.0f},
    {"ma_tanhf", batch_ma_tanhf, -20.0f, -1.0f},      {"ma_tanhf", batch_ma_tanhf, -MIN_SUB, -MIN_SUB},
    {"ma_tanhf", batch_ma_tanhf, NAN, NAN},           {"ma_sigmoidf", batch_ma_sigmoidf, 0.0f, 0.5f},
    {"ma_sigmoidf", batch_ma_sigmoidf, -0.0f, 0.5f},  {"ma_sigmoidf", batch_ma_sigmoidf, INFINITY, 1.0f},
    {"ma_sigmoidf", batch_ma_sigmoidf, -INFINITY, 0.0f}, {"ma_sigmoidf", batch_ma_sigmoidf, -200.0f, 0.0f},
    {"ma_sigmoidf", batch_ma_sigmoidf, 200.0f, 1.0f}, {"ma_sigmoidf", batch_ma_sigmoidf, NAN, NAN},
    {"ma_siluf", batch_ma_siluf, 0.0f, 0.0f},          {"ma_siluf", batch_ma_siluf, -0.0f, -0.0f},
    {"ma_siluf", batch_ma_siluf, INFINITY, INFINITY},  {"ma_siluf", batch_ma_siluf, -INFINITY, NAN},
    {"ma_siluf", batch_ma_siluf, -200.0f, -0.0f},      {"ma_siluf", batch_ma_siluf, 200.0f, 200.0f},
    {"ma_siluf", batch_ma_siluf, -91.0f, -2.7431120890987385e-38f}, {"ma_siluf", batch_ma_siluf, NAN, NAN},
    {"ma_erff", batch_ma_erff, -0.0f, -0.0f},         {"ma_erff", batch_ma_erff, 0.0f, 0.0f},
    {"ma_erff", batch_ma_erff, INFINITY, 1.0f},       {"ma_erff", batch_ma_erff, -INFINITY, -1.0f},
    {"ma_erff", batch_ma_erff, -5.0f, -1.0f},         {"ma_erff", batch_ma_erff, NAN, NAN},
    {"ma_geluf", batch_ma_geluf, -0.0f, -0.0f},       {"ma_geluf", batch_ma_geluf, 0.0f, 0.0f},
    {"ma_geluf", batch_ma_geluf, INFINITY, INFINITY}, {"ma_geluf", batch_ma_geluf, -INFINITY, NAN},
    {"ma_geluf", batch_ma_geluf, -20.0f, -0.0f},      {"ma_geluf", batch_ma_geluf, 20.0f, 20.0f},
    {"ma_geluf", batch_ma_geluf, -MIN_SUB, -0.0f}, {"ma_geluf", batch_ma_geluf, NAN, NAN},
    {"ma_geluf", batch_ma_geluf, 0x1p-140f, 0x1p-141f}, {"ma_geluf", batch_ma_geluf, 0x1.fffffep127f, 0x1.fffffep127f},
    {"ma_sinhf", batch_ma_sinhf, -0.0f, -0.0f},       {"ma_sinhf", batch_ma_sinhf, INFINITY, INFINITY},
    {"ma_sinhf", batch_ma_sinhf, -INFINITY, -INFINITY}, {"ma_sinhf", batch_ma_sinhf, -100.0f, -INFINITY},
    {"ma_sinhf", batch_ma_sinhf, -MIN_SUB, -MIN_SUB}, {"ma_sinhf", batch_ma_sinhf, NAN, NAN},
    {"ma_coshf", batch_ma_coshf, -0.0f, 1.0f},        {"ma_coshf", batch_ma_coshf, -INFINITY, INFINITY},
    {"ma_coshf", batch_ma_coshf, 100.0f, INFINITY},   {"ma_coshf", batch_ma_coshf, NAN, NAN},
};

static void run_exact(void) {
  const size_t n = sizeof EXACT / sizeof EXACT[0];
  printf("{\"exactChecked\":%zu,\"exactFailures\":[", n);
  int first = 1;
  for (size_t k = 0; k < n; k++) {
    float got;
    EXACT[k].fn(&got, &EXACT[k].in, 1);
    int ok = isnan(EXACT[k].want) ? isnan(got) : to_bits(got) == to_bits(EXACT[k].want);
    if (!ok) {
      printf("%s\"%s(%a) = %a, want %a\"", first ? "" : ",", EXACT[k].name, (double)EXACT[k].in,
             (double)got, (double)EXACT[k].want);
      first = 0;
    }
  }
  printf("]}\n");
}

/* argv: [log2 stride = 11] [first bit pattern = 0] [end bit pattern = 2^32]. A stride of 0
 * ("accuracy 0") checks all 2^32 inputs, which takes minutes; split the range to parallelize. */
int main(int argc, char **argv) {
  int log2stride = argc > 1 ? atoi(argv[1]) : 11;
  uint64_t first = argc > 2 ? strtoull(argv[2], 0, 0) : 0;
  uint64_t end = argc > 3 ? strtoull(argv[3], 0, 0) : (uint64_t)1 << 32;
  for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) run_case(&CASES[c], log2stride, first, end);
  run_exact();
  return 0;
}
`;

interface AccuracyLine {
  fn: string;
  maxUlp: number;
  points: number;
  failures: number;
  worstX: string;
  got: string;
  ref: string;
}

interface ExactLine {
  exactChecked: number;
  exactFailures: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isAccuracyLine(v: unknown): v is AccuracyLine {
  return (
    isRecord(v) &&
    typeof v.fn === 'string' &&
    typeof v.maxUlp === 'number' &&
    typeof v.points === 'number' &&
    typeof v.failures === 'number' &&
    typeof v.worstX === 'string' &&
    typeof v.got === 'string' &&
    typeof v.ref === 'string'
  );
}

function isExactLine(v: unknown): v is ExactLine {
  return isRecord(v) && typeof v.exactChecked === 'number' && Array.isArray(v.exactFailures) && v.exactFailures.every((s) => typeof s === 'string');
}

const compiler = findCompiler();
if (!compiler.ok) console.warn(`c-math tests skipped: ${compiler.reason}`);
const suiteName = compiler.ok ? 'C math prelude' : `C math prelude (skipped: ${compiler.reason})`;

/**
 * The accuracy harness is built twice: with plain `-O3 -march=native` (GCC then contracts a*b+c
 * into FMA where it likes), and with FMA contraction off and strict C11, as the CPU backend
 * compiles kernels. The prelude must compile and meet its targets under both.
 */
const ACCURACY_BUILDS: { name: string; flags: string[] }[] = [
  { name: '-O3 -march=native', flags: ['-O3', '-march=native'] },
  { name: '-O3 -march=native -ffp-contract=off -std=c11', flags: ['-O3', '-march=native', '-ffp-contract=off', '-std=c11'] },
];

describe.skipIf(!compiler.ok)(suiteName, () => {
  let dir = '';
  /** build name -> function -> result */
  const accuracy = new Map<string, Map<string, AccuracyLine>>();
  const exact = new Map<string, ExactLine>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'metalarray-cmath-'));
    writeFileSync(join(dir, 'ma_math.h'), C_MATH_PRELUDE);
    writeFileSync(join(dir, 'accuracy.c'), `#include <stdint.h>\n#include <math.h>\n#include "ma_math.h"\n${HARNESS_C}`);
    ACCURACY_BUILDS.forEach((build, i) => {
      const exe = `accuracy${i}`;
      run('cc', [...build.flags, '-o', exe, 'accuracy.c', '-lm'], dir);
      const { stdout } = run(join(dir, exe), [String(LOG2_STRIDE)], dir);
      const byFn = new Map<string, AccuracyLine>();
      for (const line of stdout.split('\n')) {
        if (line.trim() === '') continue;
        const v: unknown = JSON.parse(line);
        if (isAccuracyLine(v)) byFn.set(v.fn, v);
        else if (isExactLine(v)) exact.set(build.name, v);
        else throw new Error(`unexpected harness output: ${line}`);
      }
      accuracy.set(build.name, byFn);
    });
  }, 180_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it.each(C_MATH_FUNCTIONS)('%s is within its ULP target over the float range', (fn) => {
    for (const build of ACCURACY_BUILDS) {
      const r = accuracy.get(build.name)?.get(fn);
      expect(r, `no harness result for ${fn} (${build.name})`).toBeDefined();
      if (r === undefined) continue;
      const detail = `${fn} [${build.name}]: max ${r.maxUlp} ULP at x = ${r.worstX} (got ${r.got}, exact ${r.ref}), ${r.failures} special-value failures in ${r.points} points`;
      expect(r.points, detail).toBeGreaterThan(2_000_000);
      expect(r.failures, detail).toBe(0);
      expect(r.maxUlp, detail).toBeLessThanOrEqual(ULP_TARGET[fn]);
    }
  });

  it('gets the IEEE special cases exactly right (NaN, +-Inf, signed zeros, saturation)', () => {
    for (const build of ACCURACY_BUILDS) {
      const e = exact.get(build.name);
      expect(e, `no special-case result (${build.name})`).toBeDefined();
      expect(e?.exactChecked ?? 0).toBeGreaterThan(90);
      expect(e?.exactFailures ?? ['missing'], build.name).toEqual([]);
    }
  });

  it('auto-vectorizes a plain loop over each function at -O3 -march=native', () => {
    // Loop i sits on line FIRST_LOOP_LINE + i of vec.c.
    const FIRST_LOOP_LINE = 4;
    const loops = C_MATH_FUNCTIONS.map((fn) => `void f_${fn}(float* o, const float* x, long n){ for(long i=0;i<n;i++) o[i]=${fn}(x[i]); }`);
    writeFileSync(join(dir, 'vec.c'), `#include <stdint.h>\n#include <math.h>\n#include "ma_math.h"\n${loops.join('\n')}\n`);
    const report = compiler.ok && compiler.clang ? ['-Rpass=loop-vectorize'] : ['-fopt-info-vec-optimized'];
    // Exactly the flags the CPU backend compiles kernels with (GCC on x86 adds
    // -mprefer-vector-width=512 so loops match the functions' SIMD clones).
    const flags = (backendCompiler()?.flags ?? ['-O3', '-march=native']).filter((f) => f !== '-w' && f !== '-shared');
    const { stdout, stderr } = run('cc', [...flags, ...report, '-c', '-o', 'vec.o', 'vec.c'], dir);
    const vectorized = new Set<string>();
    for (const line of `${stderr}\n${stdout}`.split('\n')) {
      const m = /vec\.c:(\d+):\d+: (?:optimized: loop vectorized|remark: vectorized loop)/.exec(line);
      if (m) {
        const fn = C_MATH_FUNCTIONS[Number(m[1]) - FIRST_LOOP_LINE];
        if (fn !== undefined) vectorized.add(fn);
      }
    }
    const missing = C_MATH_FUNCTIONS.filter((fn) => !vectorized.has(fn));
    expect(missing, `loops not vectorized; compiler report:\n${stderr}`).toEqual([]);
  }, 60_000);
});
