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
