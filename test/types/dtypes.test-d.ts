/**
 * Type tests: the public types carry the dtype (issue 18 §2). Checked by the compiler,
 * not run: `npm run typecheck` (part of `npm test`, tsconfig.json includes test/)
 * compiles this file, and every `expectTypeOf(...).toEqualTypeOf<...>()` that does not
 * hold is a compile error, so a change that widens a return type to `any` or loses the
 * dtype fails CI. vitest does not collect it as a run-time test (*.test-d.ts).
 */
import { expectTypeOf } from 'vitest';
import * as ma from '../../src/index.js';
import type { MetalArray } from '../../src/index.js';

declare const f32: MetalArray<'float32'>;
declare const f16: MetalArray<'float16'>;
declare const i32: MetalArray<'int32'>;
declare const u8: MetalArray<'uint8'>;
declare const i64: MetalArray<'int64'>;
declare const b: MetalArray<'bool'>;
declare const unknownDType: MetalArray;
declare const count: number;

// Creation functions infer D from the dtype argument; float32 by default.
expectTypeOf(ma.zeros([2, 3], 'int32')).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.zeros([2, 3])).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.ones(4, 'float16')).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.full([2], 7, 'uint8')).toEqualTypeOf<MetalArray<'uint8'>>();
expectTypeOf(ma.full([2], true)).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(ma.zerosLike(i32)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.onesLike(i32, 'float64')).toEqualTypeOf<MetalArray<'float64'>>();
expectTypeOf(ma.fullLike(u8, 3)).toEqualTypeOf<MetalArray<'uint8'>>();
expectTypeOf(ma.array([1, 2], 'int8')).toEqualTypeOf<MetalArray<'int8'>>();
expectTypeOf(ma.array([true, false])).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(ma.array([1n, 2n])).toEqualTypeOf<MetalArray<'int64'>>();
expectTypeOf(ma.array([[1, 2]])).toEqualTypeOf<MetalArray<'int32' | 'float32'>>();
expectTypeOf(ma.array(i32)).toEqualTypeOf<MetalArray<'int32'>>();
// Typed-array inputs give their dtype.
expectTypeOf(ma.array(new Float32Array(2))).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.array(new Int32Array(2))).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.array(new Uint8Array(2))).toEqualTypeOf<MetalArray<'uint8'>>();
expectTypeOf(ma.array(new Uint8ClampedArray(2))).toEqualTypeOf<MetalArray<'uint8'>>();
expectTypeOf(ma.array(new BigInt64Array(2))).toEqualTypeOf<MetalArray<'int64'>>();
expectTypeOf(ma.array(new Float64Array(2))).toEqualTypeOf<MetalArray<'float64'>>();
expectTypeOf(ma.linspace(0, 1, { num: 5 })).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.linspace(0, 1, { num: 5, dtype: 'float64' })).toEqualTypeOf<MetalArray<'float64'>>();
expectTypeOf(ma.arange(0, 4, { dtype: 'int16' })).toEqualTypeOf<MetalArray<'int16'>>();
expectTypeOf(ma.eye(3, { dtype: 'int32' })).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.identity(3)).toEqualTypeOf<MetalArray<'float32'>>();

// Reading: the dtype, the typed array and the scalar of D.
expectTypeOf(i32.dtype).toEqualTypeOf<'int32'>();
expectTypeOf(f32.toTypedArray()).toEqualTypeOf<Float32Array>();
expectTypeOf(f16.toTypedArray()).toEqualTypeOf<Float32Array>();
expectTypeOf(i32.toTypedArray()).toEqualTypeOf<Int32Array>();
expectTypeOf(u8.toTypedArray()).toEqualTypeOf<Uint8Array>();
expectTypeOf(i64.toTypedArray()).toEqualTypeOf<BigInt64Array>();
expectTypeOf(b.toTypedArray()).toEqualTypeOf<Uint8Array>();
expectTypeOf(f32.data()).toEqualTypeOf<Promise<Float32Array>>();
expectTypeOf(f32.item()).toEqualTypeOf<number>();
expectTypeOf(i64.item()).toEqualTypeOf<bigint>();
expectTypeOf(b.item()).toEqualTypeOf<boolean>();
expectTypeOf(unknownDType.item()).toEqualTypeOf<number | bigint | boolean>();

// Unary ops follow their rule: 'same' keeps D, 'float' gives the float of D, predicates bool.
expectTypeOf(ma.abs(i32)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.negative(f16)).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.exp(f16)).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.sqrt(i32)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.isnan(f32)).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(ma.logicalNot(i32)).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(i32.square()).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(u8.tanh()).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(f32.isfinite()).toEqualTypeOf<MetalArray<'bool'>>();

// Binary ops on one dtype keep it; comparisons give bool; division gives a float.
expectTypeOf(ma.add(f32, f32)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(i32.multiply(i32)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.divide(i32, i32)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.floorDivide(b, b)).toEqualTypeOf<MetalArray<'int8'>>();
expectTypeOf(ma.less(f32, f32)).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(f32.equal(i32)).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(ma.logicalAnd(b, i32)).toEqualTypeOf<MetalArray<'bool'>>();
// JS scalars promote weakly: a float array keeps its dtype, an integral literal keeps an integer's.
expectTypeOf(f16.add(1.5)).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(i32.multiply(2)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.subtract(1, u8)).toEqualTypeOf<MetalArray<'uint8'>>();
expectTypeOf(i32.multiply(0.5)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(i32.add(count)).toEqualTypeOf<MetalArray<'int32' | 'float32'>>();
expectTypeOf(i64.add(3n)).toEqualTypeOf<MetalArray<'int64'>>();
expectTypeOf(b.add(true)).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(ma.where(b, f32, f32)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.where(b, f32, 0)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.clip(f32, 0, null)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(i32.clip(0, 10)).toEqualTypeOf<MetalArray<'int32'>>();
// Promotion beyond the type system: DType, never any.
expectTypeOf(ma.add(f32, i32)).toEqualTypeOf<MetalArray>();
expectTypeOf(ma.add(f32, i32)).not.toBeAny();
expectTypeOf(ma.add(3, 4)).toEqualTypeOf<MetalArray>();
expectTypeOf(unknownDType.add(1)).toEqualTypeOf<MetalArray>();
expectTypeOf(ma.sqrt(unknownDType)).toEqualTypeOf<MetalArray>();
expectTypeOf(f32.matmul(f32)).toEqualTypeOf<MetalArray<'float32'>>();

// Conversions and views keep or set D.
expectTypeOf(f32.astype('float16')).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.astype(i32, 'bool')).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(i32.reshape(2, 2)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(i32.T).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(i32.slice(0)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(i32.transpose().flatten().squeeze()).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(f32.split(2)).toEqualTypeOf<MetalArray<'float32'>[]>();
expectTypeOf(f32.argsort()).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(f32.to('cpu')).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(f32.eval()).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf([...f32]).toEqualTypeOf<MetalArray<'float32'>[]>();

// Reductions: accumulation of narrow integers, options objects, the dtype option.
expectTypeOf(ma.sum(u8)).toEqualTypeOf<MetalArray<'uint32'>>();
expectTypeOf(ma.sum(b, { axis: 0 })).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.sum(i64, 0, true)).toEqualTypeOf<MetalArray<'int64'>>();
expectTypeOf(ma.sum(u8, { dtype: 'float64' })).toEqualTypeOf<MetalArray<'float64'>>();
expectTypeOf(u8.sum({ axis: 1, keepdims: true })).toEqualTypeOf<MetalArray<'uint32'>>();
expectTypeOf(u8.prod({ dtype: 'uint8' })).toEqualTypeOf<MetalArray<'uint8'>>();
expectTypeOf(ma.prod(i32)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.max(f16, { axis: 0 })).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(u8.min()).toEqualTypeOf<MetalArray<'uint8'>>();
expectTypeOf(ma.argmax(f32, { axis: 1 })).toEqualTypeOf<MetalArray<'int32' | 'int64'>>();
expectTypeOf(ma.any(f32)).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(f32.all({ axis: 0 })).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(ma.mean(i32)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.mean(i32, { dtype: 'float64' })).toEqualTypeOf<MetalArray<'float64'>>();
expectTypeOf(f16.mean({ axis: 0 })).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.var(i32, { ddof: 1 })).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(f16.std()).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.logsumexp(f32, { axis: -1 })).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.softmax(f16, { axis: -1 })).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(i32.logSoftmax()).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.norm(f32, { ord: 1 })).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.countNonzero(f32)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.sum(unknownDType)).toEqualTypeOf<MetalArray>();
expectTypeOf(ma.mean(unknownDType)).toEqualTypeOf<MetalArray>();

// Scans.
expectTypeOf(ma.cumsum(u8)).toEqualTypeOf<MetalArray<'uint32'>>();
expectTypeOf(ma.cumsum(i32, { axis: 0, reverse: true })).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.cumprod(b, { dtype: 'int64' })).toEqualTypeOf<MetalArray<'int64'>>();
expectTypeOf(i32.cumsum(0, false, true)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(u8.cumprod({ axis: 0 })).toEqualTypeOf<MetalArray<'uint32'>>();
expectTypeOf(f16.cummax({ axis: 0 })).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.cummin(u8)).toEqualTypeOf<MetalArray<'uint8'>>();

// A variable of a known dtype can take a wider array only through an annotation.
let anyArray: MetalArray = f32;
anyArray = i32;
expectTypeOf(anyArray).toEqualTypeOf<MetalArray>();
// @ts-expect-error: an int32 array is not a float32 array
const wrong: MetalArray<'float32'> = i32;
void wrong;
// @ts-expect-error: an unknown option key is a compile error as well as a run-time ArgumentError
ma.sum(f32, { axes: 0 });
// @ts-expect-error: arrays come from the creation functions and ops, not a public constructor
new ma.MetalArray();

// full infers its dtype from the value as ma.array does.
expectTypeOf(ma.full([2], 7)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.full([2], 0.5)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.full([2], count)).toEqualTypeOf<MetalArray<'int32' | 'float32'>>();
expectTypeOf(ma.full([2], 7n)).toEqualTypeOf<MetalArray<'int64'>>();
expectTypeOf(ma.full([2], 7, 'float64')).toEqualTypeOf<MetalArray<'float64'>>();

// Random: keys are uint32; draws take their dtype from the options (float32, int32 by default).
const rkey = ma.random.key(0);
expectTypeOf(rkey).toEqualTypeOf<MetalArray<'uint32'>>();
expectTypeOf(ma.random.split(rkey, 3)).toEqualTypeOf<MetalArray<'uint32'>>();
expectTypeOf(ma.random.foldIn(rkey, 1)).toEqualTypeOf<MetalArray<'uint32'>>();
expectTypeOf(ma.random.bits(rkey, [2])).toEqualTypeOf<MetalArray<'uint32'>>();
expectTypeOf(ma.random.uniform(rkey, [2])).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.random.uniform(rkey, [2], { low: -1, high: 1 })).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.random.uniform(rkey, [2], { dtype: 'float64' })).toEqualTypeOf<MetalArray<'float64'>>();
expectTypeOf(ma.random.uniform(rkey, [2], 'float16', 0, 1)).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.random.normal(rkey, [2])).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.random.normal(rkey, [2], { dtype: 'bfloat16', loc: 1 })).toEqualTypeOf<MetalArray<'bfloat16'>>();
expectTypeOf(ma.random.truncatedNormal(rkey, [2], { lower: -1, upper: 1 })).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.random.truncatedNormal(rkey, -1, 1, [2], 'float64')).toEqualTypeOf<MetalArray<'float64'>>();
expectTypeOf(ma.random.randint(rkey, [2], { low: 0, high: 6 })).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.random.randint(rkey, [2], { low: 0, high: 6, dtype: 'uint8' })).toEqualTypeOf<MetalArray<'uint8'>>();
expectTypeOf(ma.random.randint(rkey, [2], 0, 6, 'int64')).toEqualTypeOf<MetalArray<'int64'>>();
expectTypeOf(ma.random.bernoulli(rkey, 0.5, [2])).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(ma.random.categorical(rkey, f32)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.random.permutation(rkey, 5)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.random.permutation(rkey, f16)).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.random.threefry2x32(rkey, 0, 1)).toEqualTypeOf<[MetalArray<'uint32'>, MetalArray<'uint32'>]>();

// Indexing keeps the dtype; nonzero gives int32 indices.
expectTypeOf(ma.take(i64, Int32Array.of(0))).toEqualTypeOf<MetalArray<'int64'>>();
expectTypeOf(ma.takeAlongAxis(f16, i32, 0)).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.slice(u8, 0, '1:')).toEqualTypeOf<MetalArray<'uint8'>>();
expectTypeOf(ma.tril(f32)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.triu(i32, 1)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.roll(b, 1)).toEqualTypeOf<MetalArray<'bool'>>();
expectTypeOf(ma.tile(u8, [2, 2])).toEqualTypeOf<MetalArray<'uint8'>>();
expectTypeOf(ma.repeat(i64, 2)).toEqualTypeOf<MetalArray<'int64'>>();
expectTypeOf(ma.pad(f32, 1)).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.putAlongAxis(i32, i32, 0, 0)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.nonzero(b)).toEqualTypeOf<MetalArray<'int32'>[]>();
expectTypeOf(ma.take(unknownDType, Int32Array.of(0))).toEqualTypeOf<MetalArray>();

// Joins keep a shared dtype; mixed dtypes promote at run time, so the type is any dtype.
expectTypeOf(ma.concatenate([f32, f32])).toEqualTypeOf<MetalArray<'float32'>>();
expectTypeOf(ma.stack([i32, i32], 1)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.concatenate([f32, i32])).toEqualTypeOf<MetalArray>();
expectTypeOf(ma.split(u8, 2)).toEqualTypeOf<MetalArray<'uint8'>[]>();

// Sorting keeps the dtype; indices are int32.
expectTypeOf(ma.sort(f16)).toEqualTypeOf<MetalArray<'float16'>>();
expectTypeOf(ma.sort(unknownDType)).toEqualTypeOf<MetalArray>();
expectTypeOf(ma.argsort(f32)).toEqualTypeOf<MetalArray<'int32'>>();
expectTypeOf(ma.topk(i64, 2)).toEqualTypeOf<[MetalArray<'int64'>, MetalArray<'int32'>]>();
