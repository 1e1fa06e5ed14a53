/**
 * The dtype vocabulary shared by every layer: names, sizes, kinds and storage.
 * Promotion rules (user-level semantics) live in `src/core/promotion.ts`.
 */
import { DTypeError, formatValue } from '../errors.js';

/** Every element type the library knows. */
export type DType = 'bool' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'float16' | 'bfloat16' | 'float32' | 'float64';

/** Coarse category of a dtype. */
export type DTypeKind = 'bool' | 'int' | 'uint' | 'float';

/** One row of the dtype table. */
export interface DTypeInfo {
  readonly name: DType;
  /** Small integer used in structural hashes. */
  readonly id: number;
  readonly kind: DTypeKind;
  /** Bytes per element in memory. */
  readonly bytes: number;
  /** Value bits (8 for bool). */
  readonly bits: number;
  /** Smallest and largest value of integer kinds (bigint so 64-bit types are exact). */
  readonly min: bigint;
  readonly max: bigint;
}

function row(name: DType, id: number, kind: DTypeKind, bytes: number): DTypeInfo {
  const bits = bytes * 8;
  let min = 0n;
  let max = 0n;
  if (kind === 'int') {
    min = -(1n << BigInt(bits - 1));
    max = (1n << BigInt(bits - 1)) - 1n;
  } else if (kind === 'uint') {
    max = (1n << BigInt(bits)) - 1n;
  } else if (kind === 'bool') {
    max = 1n;
  }
  return { name, id, kind, bytes, bits, min, max };
}

/** The dtype table, keyed by name. */
export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  bool: row('bool', 0, 'bool', 1),
  int8: row('int8', 1, 'int', 1),
  int16: row('int16', 2, 'int', 2),
  int32: row('int32', 3, 'int', 4),
  int64: row('int64', 4, 'int', 8),
  uint8: row('uint8', 5, 'uint', 1),
  uint16: row('uint16', 6, 'uint', 2),
  uint32: row('uint32', 7, 'uint', 4),
  uint64: row('uint64', 8, 'uint', 8),
  float16: row('float16', 9, 'float', 2),
  bfloat16: row('bfloat16', 10, 'float', 2),
  float32: row('float32', 11, 'float', 4),
  float64: row('float64', 12, 'float', 8),
};

/** All dtype names in table order. */
export const DTYPE_NAMES: readonly DType[] = Object.keys(DTYPES) as DType[];

/** True for the name of a known dtype. */
export function isDType(name: unknown): name is DType {
  return typeof name === 'string' && Object.hasOwn(DTYPES, name);
}

/** Validates a user-supplied dtype name. */
export function checkDType(name: unknown, op: string): DType {
  if (!isDType(name)) {
    throw new DTypeError(`${op}: unknown dtype ${formatValue(name)}; expected one of ${DTYPE_NAMES.join(', ')}`);
  }
  return name;
}

export const isFloat = (d: DType): boolean => DTYPES[d].kind === 'float';
export const isInteger = (d: DType): boolean => DTYPES[d].kind === 'int' || DTYPES[d].kind === 'uint';
export const isSigned = (d: DType): boolean => DTYPES[d].kind === 'int';
/** float16 and bfloat16: stored in 16 bits, computed in float32. */
export const isHalf = (d: DType): boolean => d === 'float16' || d === 'bfloat16';
/** int64 and uint64: read back as bigint. */
export const isWide = (d: DType): boolean => d === 'int64' || d === 'uint64';

/** The typed array `toTypedArray()` returns for each dtype. */
export type TypedArrayFor<D extends DType> = D extends 'float64'
  ? Float64Array
  : D extends 'float32' | 'float16' | 'bfloat16'
    ? Float32Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'uint64'
        ? BigUint64Array
        : D extends 'int32'
          ? Int32Array
          : D extends 'uint32'
            ? Uint32Array
            : D extends 'int16'
              ? Int16Array
              : D extends 'uint16'
                ? Uint16Array
                : D extends 'int8'
                  ? Int8Array
                  : Uint8Array;

/** Any typed array the library reads or writes. */
export type AnyTypedArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | BigInt64Array
  | BigUint64Array;

type TypedArrayCtor = { new (length: number): AnyTypedArray; new (buffer: ArrayBuffer, byteOffset?: number, length?: number): AnyTypedArray };

/** Constructor of the typed array that holds the raw bits of a dtype in memory. */
export const STORAGE_ARRAY: Readonly<Record<DType, TypedArrayCtor>> = {
  bool: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
};
