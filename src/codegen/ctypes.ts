/**
 * The C-family type of each dtype, shared by the C, CUDA and MSL renderers: the type a
 * kernel computes in (half types widen to float) and the type it stores (half types as
 * their 16-bit patterns).
 */
import { DTYPES, type DType } from '../core/dtype.js';

/** The type values of each dtype are computed in. */
export const C_COMPUTE_TYPE: Readonly<Record<DType, string>> = {
  bool: 'uint8_t',
  int8: 'int8_t',
  int16: 'int16_t',
  int32: 'int32_t',
  int64: 'int64_t',
  uint8: 'uint8_t',
  uint16: 'uint16_t',
  uint32: 'uint32_t',
  uint64: 'uint64_t',
  float16: 'float',
  bfloat16: 'float',
  float32: 'float',
  float64: 'double',
};

/** The type elements of each dtype are stored as. */
export const C_STORAGE_TYPE: Readonly<Record<DType, string>> = { ...C_COMPUTE_TYPE, float16: 'uint16_t', bfloat16: 'uint16_t' };

/** The class of a dtype an op row is chosen by: bool, signed, unsigned, float32-computed, double. */
export type CCls = 'b' | 'i' | 'u' | 'f' | 'd';

/** The op-row class of a dtype (float16/bfloat16 compute as float32: 'f'). */
export function cClass(d: DType): CCls {
  const k = DTYPES[d].kind;
  if (k === 'bool') return 'b';
  if (k === 'int') return 'i';
  if (k === 'uint') return 'u';
  return d === 'float64' ? 'd' : 'f';
}

/** The unsigned type integer arithmetic of `d` wraps in (no signed-overflow UB). */
export function wrapType(d: DType): string {
  return DTYPES[d].bits > 32 ? 'uint64_t' : 'uint32_t';
}

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

/** The identity a reduction's accumulator starts from (`T` is the dtype's compute type). */
export function reduceIdentity(op: string, dtype: DType, T: string): string {
  const c = cClass(dtype);
  const bits = DTYPES[dtype].bits;
  const W = wrapType(dtype);
  switch (op) {
    case 'sum':
    case 'any':
      return '0';
    case 'prod':
    case 'all':
      return '1';
    case 'max':
      return c === 'f' || c === 'd' ? '-INFINITY' : c === 'i' ? `((${T})((${W})1 << ${bits - 1}))` : '0';
    default:
      return c === 'f' || c === 'd' ? 'INFINITY' : c === 'i' ? `((${T})(((${W})1 << ${bits - 1}) - 1))` : c === 'b' ? '1' : `((${T})~(${T})0)`;
  }
}

/**
 * acc ⊕ x for a reduction: float sums and products in the accumulator type `accFloat`,
 * integers wrapping; NaN propagates through max/min (a NaN x wins, a NaN acc stays).
 * `or` joins the two tests: C uses a bitwise `|` so the lanes stay branch-free; C++
 * dialects (CUDA, MSL) use `||`, as their comparisons are bools.
 */
export function reduceStep(op: string, dtype: DType, T: string, accFloat: string, acc: string, x: string, or: '|' | '||'): string {
  const c = cClass(dtype);
  const isFloat = c === 'f' || c === 'd';
  const W = wrapType(dtype);
  switch (op) {
    case 'sum':
      return isFloat ? `(${acc} + (${accFloat})${x})` : `(${T})((${W})${acc} + (${W})${x})`;
    case 'prod':
      return isFloat ? `(${acc} * (${accFloat})${x})` : `(${T})((${W})${acc} * (${W})${x})`;
    case 'max':
      return isFloat ? `(((${x} > ${acc}) ${or} (${x} != ${x})) ? ${x} : ${acc})` : `(${x} > ${acc} ? ${x} : ${acc})`;
    case 'min':
      return isFloat ? `(((${x} < ${acc}) ${or} (${x} != ${x})) ? ${x} : ${acc})` : `(${x} < ${acc} ? ${x} : ${acc})`;
    case 'any':
      return `(uint8_t)(${acc} | (${x} != 0))`;
    default:
      return `(uint8_t)(${acc} & (${x} != 0))`;
  }
}
