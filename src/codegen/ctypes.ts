/**
 * The C-family type of each dtype, shared by the C, CUDA and MSL renderers: the type a
 * kernel computes in (half types widen to float) and the type it stores (half types as
 * their 16-bit patterns).
 */
import type { DType } from '../graph/dtype.js';

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
