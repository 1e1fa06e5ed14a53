/**
 * Every per-op expression codegen reads, in one place: the C-family op rows (shared, C,
 * GPU), the math-function lists of the MSL and CUDA dialects, and the lookup that fills a
 * row for a dtype. Renderers read per-op expressions only from here.
 */
import type { DType } from '../core/dtype.js';
import type { ElementwiseOpName } from '../core/vocabulary.js';
import { type CCls, cClass, wrapType } from './ctypes.js';

/** An op's expressions: by exact class, then by 'int'/'float' group, then 'all'. */
export type OpRow = Partial<Record<CCls | 'int' | 'float' | 'all', string>>;

/**
 * The C dialect's row and the GPU dialects' row (CUDA and MSL) of every elementwise op,
 * keyed by the op vocabulary. The op blocks of src/ops/elementwise-ops.ts register
 * them (an op states its expressions next to its function, rule and cost); the
 * renderers read them here. Lookup order within a row: exact class, then int/float
 * group, then all.
 */
export const C_OPS: Partial<Record<ElementwiseOpName, OpRow>> & Readonly<Record<string, OpRow | undefined>> = {};
/**
 * Per-op GPU expressions, shared by every GPU dialect. `$0`, `$1` are operands, `T` the
 * compute type, `W` the unsigned type that wraps, `@fn(` a math function resolved by the
 * dialect for the class (float or double), `%fn(` its double-precision form, `_N(` an
 * integer helper of the dtype. float32 ops whose single-precision GPU library function
 * is not within 2 ulps are computed in double and rounded once.
 */
export const GPU_OPS: Partial<Record<ElementwiseOpName, OpRow>> & Readonly<Record<string, OpRow | undefined>> = {};

/** Registers an op's C and GPU rows (called once per op by its block in src/ops/). */
export function registerOpExpressions(op: ElementwiseOpName, c: OpRow, gpu: OpRow): void {
  if (C_OPS[op] !== undefined) throw new Error(`internal: expressions of ${op} registered twice`);
  C_OPS[op] = c;
  GPU_OPS[op] = gpu;
}

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

/** Functions Metal lacks, defined by the prelude. */
export const MSL_PRELUDE_MATH: Readonly<Record<string, string>> = { erf: 'ma_erf', expm1: 'ma_expm1', log1p: 'ma_log1p', cbrt: 'ma_cbrt', hypot: 'ma_hypot' };

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
export const CUDA_EXACT_MATH: ReadonlySet<string> = new Set(['sqrt', 'fabs', 'trunc', 'rint', 'floor', 'ceil', 'fma', 'copysign', 'fmod']);

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
  cbrt: 1,
  hypot: 2,
};
