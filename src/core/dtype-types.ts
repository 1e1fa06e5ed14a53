/**
 * Type-level dtype rules: what the TypeScript compiler knows of an array's dtype. They
 * mirror the run-time rules (src/core/op-table.ts, src/core/promotion.ts) where those
 * are decidable from the operand types alone; where they are not (two different
 * dtypes, a JS number of unknown value against an integer array), the result widens to
 * a union or to `DType`, never to `any`. Types only: nothing here exists at run time.
 */
import type { DType } from './dtype.js';
import type { DTypeRule } from './op-table.js';

/** The float dtypes. */
export type FloatDType = 'float16' | 'bfloat16' | 'float32' | 'float64';
/** The signed integer dtypes. */
export type SignedIntDType = 'int8' | 'int16' | 'int32' | 'int64';
/** The unsigned integer dtypes. */
export type UnsignedIntDType = 'uint8' | 'uint16' | 'uint32' | 'uint64';
/** The integer dtypes. */
export type IntDType = SignedIntDType | UnsignedIntDType;

/**
 * The typed array `toTypedArray()` returns for each dtype: float16 and bfloat16 widen
 * to Float32Array, bool is a Uint8Array of 0/1, 64-bit integers are bigint arrays.
 */
export interface TypedArrayByDType {
  bool: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  float16: Float32Array;
  bfloat16: Float32Array;
  float32: Float32Array;
  float64: Float64Array;
}

/** The typed array of dtype `D` (a union of them for a union of dtypes). */
export type TypedArrayOf<D extends DType> = TypedArrayByDType[D];

/** The JS value of one element of dtype `D`: boolean for bool, bigint for 64-bit integers, else number. */
export type ScalarOf<D extends DType> = D extends 'bool' ? boolean : D extends 'int64' | 'uint64' ? bigint : number;

/** The dtype an `ma.array(typedArray)` gets from the typed array's class. */
export type DTypeOfTypedArray<T> = T extends Float32Array
  ? 'float32'
  : T extends Float64Array
    ? 'float64'
    : T extends Int8Array
      ? 'int8'
      : T extends Int16Array
        ? 'int16'
        : T extends Int32Array
          ? 'int32'
          : T extends BigInt64Array
            ? 'int64'
            : T extends Uint8Array | Uint8ClampedArray
              ? 'uint8'
              : T extends Uint16Array
                ? 'uint16'
                : T extends Uint32Array
                  ? 'uint32'
                  : T extends BigUint64Array
                    ? 'uint64'
                    : DType;

/**
 * `R` unless `D` is every dtype (an array whose dtype the compiler does not know):
 * then `DType`, so `let x = ma.sum(y)` can later hold any array.
 */
export type KnownOr<D extends DType, R extends DType> = DType extends D ? DType : R;

/** The float dtype an op on `D` computes in: floats keep theirs, others give float32 (the 'float' rule). */
export type FloatOf<D extends DType> = KnownOr<D, D extends FloatDType ? D : 'float32'>;

/**
 * The dtype sum, prod, cumsum and cumprod accumulate in and return (MLX and JAX): bool
 * and integers narrower than 32 bits widen to int32 (unsigned ones to uint32).
 */
export type AccumulationOf<D extends DType> = KnownOr<D, D extends 'bool' | 'int8' | 'int16' ? 'int32' : D extends 'uint8' | 'uint16' ? 'uint32' : D>;

/** True when `T` is a union of several members. */
export type IsUnion<T, All = T> = T extends unknown ? ([All] extends [T] ? false : true) : never;

/**
 * The promoted dtype of two array operands as far as types can tell: the dtype itself
 * when both are the same single dtype, otherwise `DType` (the run-time promotion
 * decides).
 */
export type PromoteOf<A extends DType, B extends DType> = [A] extends [B] ? ([B] extends [A] ? (true extends IsUnion<A> ? DType : A) : DType) : DType;

/** A JS scalar operand (weakly typed: it takes the array's dtype where it fits). */
export type WeakScalar = number | bigint | boolean;

/** True for a number literal type written without a fraction or exponent (an integral value). */
export type IsIntegralLiteral<S extends number> = number extends S ? false : `${S}` extends `${string}.${string}` | `${string}e${string}` ? false : true;

/**
 * The dtype an array of `A` and a weak JS scalar `S` promote to (src/core/promotion.ts's
 * weakScalarDType): a boolean or a float array keeps `A`; a bigint or an integral
 * number literal keeps an integer `A` (bool gives int32); a fractional literal gives
 * float32; a `number` of unknown value gives `A` or float32.
 */
export type WeakPromoteOf<A extends DType, S extends WeakScalar> = DType extends A
  ? DType
  : S extends boolean
    ? A
    : A extends FloatDType
      ? A
      : S extends bigint
        ? A extends 'bool'
          ? 'int32'
          : A
        : S extends number
          ? IsIntegralLiteral<S> extends true
            ? A extends 'bool'
              ? 'int32'
              : A
            : number extends S
              ? (A extends 'bool' ? 'int32' : A) | 'float32'
              : 'float32'
          : DType;

/** The dtype of `clip(a, lo, hi)` for an array of `A` and JS scalar (or null) bounds. */
export type ClipOf<A extends DType, L extends WeakScalar | null, H extends WeakScalar | null> = BoundOf<BoundOf<A, L>, H>;
/** The dtype of an array of `A` after one `clip` bound `B` (a JS scalar, or null for none). */
export type BoundOf<A extends DType, B extends WeakScalar | null> = [B] extends [null] ? A : WeakPromoteOf<A, Exclude<B, null>>;

/** The result dtype of an elementwise op of rule `R` whose operands promote to `P`. */
export type RuleResultOf<R extends DTypeRule, P extends DType> = R extends 'float'
  ? FloatOf<P>
  : R extends 'compare' | 'logical' | 'predicate'
    ? 'bool'
    : R extends 'intDiv'
      ? KnownOr<P, P extends 'bool' ? 'int8' : P>
      : P;

/**
 * The dtype `ma.full(shape, value)` infers from a JS number, as `ma.array` does: a whole
 * number literal int32, a fractional one float32, a `number` of unknown value either.
 * (A whole number past int32's range makes int64 at run time; its literal type says int32.)
 */
export type NumberDTypeOf<V extends number> = number extends V ? 'int32' | 'float32' : IsIntegralLiteral<V> extends true ? 'int32' : 'float32';

/** The dtype of a join (concatenate, stack) of arrays of `D`: `D` when they share one, any dtype when they differ (promoted at run time). */
export type SameDTypeOf<D extends DType> = true extends IsUnion<D> ? DType : D;
