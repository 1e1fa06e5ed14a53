/**
 * Every per-op expression codegen reads, in one place: the C-family op rows (shared, C,
 * GPU), the math-function lists of the MSL and CUDA dialects, and the lookup that fills a
 * row for a dtype. Renderers read per-op expressions only from here.
 */
import type { DType } from '../core/dtype.js';
import { type CCls, cClass, wrapType } from './ctypes.js';

/** An op's expressions: by exact class, then by 'int'/'float' group, then 'all'. */
export type OpRow = Partial<Record<CCls | 'int' | 'float' | 'all', string>>;

/**
 * The op rows the C and GPU renderers write alike (integer ops that wrap, comparisons,
 * bitwise and logical ops, and the float ops whose C and CUDA/MSL forms agree); each
 * renderer's table spreads these and adds its own math rows.
 */
export const SHARED_OPS: Readonly<Record<string, OpRow>> = {
  copy: { all: '$0' },
  negative: { int: '(T)((W)0 - (W)$0)', float: '(-$0)' },
  sign: { u: '(T)($0 > 0)', all: '($0 > 0 ? (T)1 : ($0 < 0 ? (T)-1 : $0))' },
  square: { b: '$0', int: '(T)((W)$0 * (W)$0)', float: '($0 * $0)' },
  relu: { i: '($0 > 0 ? $0 : (T)0)', u: '$0', b: '$0', float: '(($0 > 0 || $0 != $0) ? $0 : (T)0)' },
  reciprocal: { f: '(1.0f / $0)', d: '(1.0 / $0)' },
  erfinv: { f: '(float)ma_erfinv((double)$0)', d: 'ma_erfinv($0)' },
  isnan: { float: '(uint8_t)($0 != $0)', all: '(uint8_t)0' },
  isfinite: { float: '(uint8_t)(($0 - $0) == 0)', all: '(uint8_t)1' },
  logicalNot: { all: '(uint8_t)!$0' },
  bitwiseNot: { b: '(uint8_t)!$0', int: '(T)~$0' },
  add: { b: '(uint8_t)($0 | $1)', int: '(T)((W)$0 + (W)$1)', float: '($0 + $1)' },
  subtract: { int: '(T)((W)$0 - (W)$1)', float: '($0 - $1)' },
  multiply: { b: '(uint8_t)($0 & $1)', int: '(T)((W)$0 * (W)$1)', float: '($0 * $1)' },
  divide: { float: '($0 / $1)' },
  floorDivide: { int: 'ma_floordiv_N($0, $1)', f: '(float)ma_floordiv_d($0, $1)', d: 'ma_floordiv_d($0, $1)' },
  remainder: { int: 'ma_rem_N($0, $1)', f: '(float)ma_rem_d($0, $1)', d: 'ma_rem_d($0, $1)' },
  logaddexp: { f: '(float)ma_logaddexp((double)$0, (double)$1)', d: 'ma_logaddexp($0, $1)' },
  equal: { all: '(uint8_t)($0 == $1)' },
  notEqual: { all: '(uint8_t)($0 != $1)' },
  less: { all: '(uint8_t)($0 < $1)' },
  lessEqual: { all: '(uint8_t)($0 <= $1)' },
  greater: { all: '(uint8_t)($0 > $1)' },
  greaterEqual: { all: '(uint8_t)($0 >= $1)' },
  logicalAnd: { all: '(uint8_t)($0 & $1)' },
  logicalOr: { all: '(uint8_t)($0 | $1)' },
  logicalXor: { all: '(uint8_t)($0 ^ $1)' },
  bitwiseAnd: { all: '(T)($0 & $1)' },
  bitwiseOr: { all: '(T)($0 | $1)' },
  bitwiseXor: { all: '(T)($0 ^ $1)' },
  leftShift: { int: 'ma_shl_N($0, $1)' },
  rightShift: { int: 'ma_shr_N($0, $1)' },
};

/**
 * The row's expression for `dtype` with its operands and types filled in: `$0`, `$1` the
 * operands, `T` the compute type, `W` the wrapping type, `_N(` the dtype's integer helper.
 * Renderers resolve their own markers (math functions) on the result.
 */
export function fillOpRow(row: OpRow | undefined, op: string, dtype: DType, srcs: readonly string[], computeType: string, lang: string): string {
  if (!row) throw new Error(`internal: no ${lang} expression for ${op}`);
  const c = cClass(dtype);
  const group = c === 'i' || c === 'u' ? 'int' : c === 'f' || c === 'd' ? 'float' : undefined;
  const tmpl = row[c] ?? (group ? row[group] : undefined) ?? row.all;
  if (tmpl === undefined) throw new Error(`internal: ${op} has no ${lang} expression for ${dtype}`);
  return tmpl
    .replace(/\$(\d)/g, (_, i: string) => srcs[Number(i)])
    .replace(/\bT\b/g, computeType)
    .replace(/\bW\b/g, wrapType(dtype))
    .replace(/_N\(/g, `_${dtype}(`);
}

/** Per-op C expressions. Lookup order: exact class, then int/float group, then all. */
export const C_OPS: Record<string, OpRow> = {
  ...SHARED_OPS,
  abs: { i: '($0 < 0 ? (T)((W)0 - (W)$0) : $0)', u: '$0', f: 'fabsf($0)', d: 'fabs($0)' },
  floor: { f: 'floorf($0)', d: 'floor($0)', all: '$0' },
  ceil: { f: 'ceilf($0)', d: 'ceil($0)', all: '$0' },
  round: { f: 'rintf($0)', d: 'rint($0)', all: '$0' },
  trunc: { f: 'truncf($0)', d: 'trunc($0)', all: '$0' },
  sqrt: { f: 'sqrtf($0)', d: 'sqrt($0)' },
  rsqrt: { f: '(1.0f / sqrtf($0))', d: '(1.0 / sqrt($0))' },
  exp: { f: 'ma_expf($0)', d: 'exp($0)' },
  exp2: { f: 'ma_exp2f($0)', d: 'exp2($0)' },
  expm1: { f: 'ma_expm1f($0)', d: 'expm1($0)' },
  log: { f: 'ma_logf($0)', d: 'log($0)' },
  log2: { f: 'ma_log2f($0)', d: 'log2($0)' },
  log10: { f: 'ma_log10f($0)', d: 'log10($0)' },
  log1p: { f: 'ma_log1pf($0)', d: 'log1p($0)' },
  sin: { f: 'ma_sinf($0)', d: 'sin($0)' },
  cos: { f: 'ma_cosf($0)', d: 'cos($0)' },
  tan: { f: 'ma_tanf($0)', d: 'tan($0)' },
  arcsin: { f: 'asinf($0)', d: 'asin($0)' },
  arccos: { f: 'acosf($0)', d: 'acos($0)' },
  arctan: { f: 'atanf($0)', d: 'atan($0)' },
  sinh: { f: 'ma_sinhf($0)', d: 'sinh($0)' },
  cosh: { f: 'ma_coshf($0)', d: 'cosh($0)' },
  tanh: { f: 'ma_tanhf($0)', d: 'tanh($0)' },
  arcsinh: { f: 'asinhf($0)', d: 'asinh($0)' },
  arccosh: { f: 'acoshf($0)', d: 'acosh($0)' },
  arctanh: { f: 'atanhf($0)', d: 'atanh($0)' },
  erf: { f: 'ma_erff($0)', d: 'erf($0)' },
  sigmoid: { f: 'ma_sigmoidf($0)', d: 'ma_sigmoid_d($0)' },
  gelu: { f: 'ma_geluf($0)', d: 'ma_gelu_d($0)' },
  silu: { f: 'ma_siluf($0)', d: 'ma_silu_d($0)' },
  isinf: { f: '(uint8_t)(fabsf($0) == INFINITY)', d: '(uint8_t)(fabs($0) == INFINITY)', all: '(uint8_t)0' },
  power: { int: 'ma_pow_N($0, $1)', f: 'powf($0, $1)', d: 'pow($0, $1)' },
  // NaN-propagating, as mask blends: GCC turns a ternary max feeding a ternary min (clip)
  // into control flow it cannot vectorize under -fno-trapping-math.
  maximum: {
    b: '(uint8_t)($0 | $1)',
    int: '($0 > $1 ? $0 : $1)',
    f: 'ma__self(($0 > $1) | ($0 != $0), $0, $1)',
    d: 'ma__seld(($0 > $1) | ($0 != $0), $0, $1)',
  },
  minimum: {
    b: '(uint8_t)($0 & $1)',
    int: '($0 < $1 ? $0 : $1)',
    f: 'ma__self(($0 < $1) | ($0 != $0), $0, $1)',
    d: 'ma__seld(($0 < $1) | ($0 != $0), $0, $1)',
  },
  arctan2: { f: 'atan2f($0, $1)', d: 'atan2($0, $1)' },
};

/**
 * Per-op expressions, shared by every dialect. `$0`, `$1` are operands, `T` the compute
 * type, `W` the unsigned type that wraps, `@fn(` a math function resolved by the dialect
 * for the class (float or double), `_N(` an integer helper of the dtype. float32 ops
 * whose single-precision GPU library function is not within 2 ulps are computed in
 * double and rounded once.
 */
export const GPU_OPS: Record<string, OpRow> = {
  ...SHARED_OPS,
  abs: { i: '($0 < 0 ? (T)((W)0 - (W)$0) : $0)', u: '$0', float: '@fabs($0)' },
  floor: { float: '@floor($0)', all: '$0' },
  ceil: { float: '@ceil($0)', all: '$0' },
  round: { float: '@rint($0)', all: '$0' },
  trunc: { float: '@trunc($0)', all: '$0' },
  sqrt: { float: '@sqrt($0)' },
  rsqrt: { f: '(1.0f / @sqrt($0))', d: '(1.0 / @sqrt($0))' },
  exp: { float: '@exp($0)' },
  exp2: { float: '@exp2($0)' },
  expm1: { float: '@expm1($0)' },
  log: { float: '@log($0)' },
  log2: { float: '@log2($0)' },
  log10: { f: '(float)%log10((double)$0)', d: '@log10($0)' },
  log1p: { float: '@log1p($0)' },
  sin: { float: '@sin($0)' },
  cos: { float: '@cos($0)' },
  tan: { f: '(float)%tan((double)$0)', d: '@tan($0)' },
  arcsin: { f: '(float)%asin((double)$0)', d: '@asin($0)' },
  arccos: { f: '(float)%acos((double)$0)', d: '@acos($0)' },
  arctan: { f: '(float)%atan((double)$0)', d: '@atan($0)' },
  sinh: { f: '(float)%sinh((double)$0)', d: '@sinh($0)' },
  cosh: { f: '(float)%cosh((double)$0)', d: '@cosh($0)' },
  tanh: { float: '@tanh($0)' },
  arcsinh: { f: '(float)%asinh((double)$0)', d: '@asinh($0)' },
  arccosh: { f: '(float)%acosh((double)$0)', d: '@acosh($0)' },
  arctanh: { f: '(float)%atanh((double)$0)', d: '@atanh($0)' },
  erf: { float: '@erf($0)' },
  // Prelude helpers, accurate in the tails (see the dialects' preludes): e^-x overflows
  // for x < -88.7 in float while silu(-89) = -2e-37 is still normal, and
  // 1 + erf(x/sqrt2) cancels for x < 0 (gelu(-5) was 4% off, gelu(-7) 0).
  sigmoid: { f: 'ma_sigmoid_f($0)', d: 'ma_sigmoid_d($0)' },
  gelu: { f: 'ma_gelu_f($0)', d: 'ma_gelu_d($0)' },
  silu: { f: 'ma_silu_f($0)', d: 'ma_silu_d($0)' },
  isinf: { float: '(uint8_t)(@fabs($0) == INFINITY)', all: '(uint8_t)0' },
  power: { int: 'ma_pow_N($0, $1)', f: '(float)%pow((double)$0, (double)$1)', d: '@pow($0, $1)' },
  maximum: { b: '(uint8_t)($0 | $1)', int: '($0 > $1 ? $0 : $1)', float: '(($0 > $1 || $0 != $0) ? $0 : $1)' },
  minimum: { b: '(uint8_t)($0 & $1)', int: '($0 < $1 ? $0 : $1)', float: '(($0 < $1 || $0 != $0) ? $0 : $1)' },
  arctan2: { f: '(float)%atan2((double)$0, (double)$1)', d: '@atan2($0, $1)' },
};

/** Functions Metal lacks, defined by the prelude. */
export const MSL_PRELUDE_MATH: Readonly<Record<string, string>> = { erf: 'ma_erf', expm1: 'ma_expm1', log1p: 'ma_log1p' };

/** Functions whose `metal::precise` variant is used (never the fast one). */
export const MSL_PRECISE_MATH = new Set([
  'exp',
  'exp2',
  'log',
  'log2',
  'log10',
  'sin',
  'cos',
  'tan',
  'asin',
  'acos',
  'atan',
  'atan2',
  'sinh',
  'cosh',
  'tanh',
  'asinh',
  'acosh',
  'atanh',
  'pow',
  'sqrt',
]);

/**
 * SIMD-group folds Metal has, by reduce op and accumulator type. Left out on purpose:
 * float max/min (Metal's do not promise NaN propagation, which the library's do),
 * signed integer sums and products (the walker wraps them through unsigned
 * arithmetic), 64-bit and 8-bit accumulators (no SIMD-group form); those keep the
 * simd_shuffle_down loop.
 */
export const MSL_SIMD_REDUCE: Readonly<Record<string, string>> = {
  'sum float': 'simd_sum',
  'sum uint32_t': 'simd_sum',
  'prod float': 'simd_product',
  'max int32_t': 'simd_max',
  'max uint32_t': 'simd_max',
  'min int32_t': 'simd_min',
  'min uint32_t': 'simd_min',
};

/** Math functions CUDA computes exactly or rounds as IEEE prescribes: a value folded at compile time has the run-time bits. */
export const CUDA_EXACT_MATH: ReadonlySet<string> = new Set(['sqrt', 'fabs', 'trunc', 'rint', 'floor', 'ceil', 'fma']);

/** CUDA's approximate math functions the GPU ops call, with their arity. */
export const CUDA_APPROX_MATH: Readonly<Record<string, number>> = {
  exp: 1,
  exp2: 1,
  expm1: 1,
  log: 1,
  log2: 1,
  log10: 1,
  log1p: 1,
  sin: 1,
  cos: 1,
  tan: 1,
  asin: 1,
  acos: 1,
  atan: 1,
  sinh: 1,
  cosh: 1,
  tanh: 1,
  asinh: 1,
  acosh: 1,
  atanh: 1,
  erf: 1,
  erfc: 1,
  pow: 2,
  atan2: 2,
};
