/**
 * Creation functions: from JS values, constants (lazy: a constant costs no memory
 * until a kernel writes it), and ndarray interop. Ranges (arange, linspace, eye) are
 * built with ops, so they live in src/ops/ranges.ts.
 */
import { checkArgCount } from '../core/arguments.js';
import ndarrayFactory from 'ndarray';
import type { NdArray, TypedArray as NdTypedArray } from 'ndarray';
import { ArgumentError, DTypeError, formatValue } from '../errors.js';
import { castNode, constNode } from '../core/build.js';
import { checkShape } from '../core/shape.js';
import { type AnyTypedArray, type DType, checkDType, isInteger } from '../core/dtype.js';
import type { DTypeOfTypedArray, NumberDTypeOf } from '../core/dtype-types.js';
import { backendFor, getBackendName } from '../runtime/registry.js';
import { MetalArray, leafFor } from './array.js';
import { dtypeOfTypedArray, exactInteger, flattenNested, isTypedArray, scalarFor, toStorage } from './convert.js';

/** Nested JS arrays of numbers or booleans (or bigints). */
export type NestedArray = number | boolean | bigint | readonly NestedArray[];

/** Nested JS arrays of numbers. */
export type NestedNumbers = number | readonly NestedNumbers[];
/** Nested JS arrays of booleans. */
export type NestedBooleans = boolean | readonly NestedBooleans[];
/** Nested JS arrays of bigints. */
export type NestedBigInts = bigint | readonly NestedBigInts[];

/** The live node of a `*Like` function's template array. */
function templateOf(op: string, a: unknown): MetalArray {
  if (!(a instanceof MetalArray)) throw new ArgumentError(`${op}: expected a MetalArray, got ${formatValue(a)}`);
  a.liveNode(op);
  return a;
}

/** @internal An array over a copy of raw storage bits (as `STORAGE_ARRAY[dtype]` holds them). */
export function fromStorageArray(storage: AnyTypedArray, shape: readonly number[], dtype: DType): MetalArray {
  const backend = backendFor(getBackendName());
  const buf = backend.alloc(storage.byteLength);
  try {
    if (storage.byteLength > 0) backend.write(buf, 0, storage);
  } catch (err) {
    buf.release();
    throw err;
  }
  return MetalArray.fromNode(leafFor(buf, shape, dtype));
}

/** `a` converted to `dtype`, as `astype` converts (a cast node; the same checks). */
function castArray(a: MetalArray, dtype: DType): MetalArray {
  const n = a.liveNode('array');
  if (dtype === 'float64' && n.backend === 'metal') throw new DTypeError('array: float64 is not supported on the metal backend');
  return MetalArray.fromNode(castNode(n, dtype));
}

/**
 * An array from a JS number or boolean, nested arrays, or a typed array (whose dtype it
 * keeps unless `dtype` is given). Without a dtype it is inferred as MLX does: numbers
 * that are all integers make int32 (int64 past int32's range), any fraction makes
 * float32, booleans make bool, bigints int64. So `ma.array([0, 2])` is int32 (it can
 * index), `ma.array([0, 2.5])` and `ma.array([0, 2], 'float32')` are float32. Converting to an integer dtype truncates toward zero (`1.9` → 1) and throws
 * `OverflowError` for a value the dtype cannot hold (out of range, NaN, ±Infinity), as
 * NumPy 2 does for Python ints; `astype` is the saturating conversion.
 *
 * @example
 * ```ts
 * ma.array([[1, 2], [3, 4]]);          // int32 [2, 2]
 * ma.array([1, 2.5]);                  // float32
 * ma.array([1, 2], 'float32');         // float32
 * ma.array([1.9, -1.9], 'int32');      // [1, -1]
 * ma.array([300], 'uint8');            // throws OverflowError: 300 is out of range for uint8
 * ```
 */
export function array<T extends DType>(values: NestedArray | AnyTypedArray | MetalArray, dtype: T): MetalArray<T>;
export function array<D extends DType>(values: MetalArray<D>): MetalArray<D>;
export function array<A extends AnyTypedArray>(values: A): MetalArray<DTypeOfTypedArray<A>>;
// Numbers are float32 today; integers become int32 when MLX's inference lands (issue 18 §1),
// so the type admits both.
export function array(values: NestedNumbers): MetalArray<'int32' | 'float32'>;
export function array(values: NestedBooleans): MetalArray<'bool'>;
export function array(values: NestedBigInts): MetalArray<'int64'>;
export function array(values: NestedArray | AnyTypedArray | MetalArray, dtype?: DType): MetalArray;
export function array(values: NestedArray | AnyTypedArray | MetalArray, dtype?: DType): MetalArray {
  checkArgCount('array', arguments.length, 2, 'array(values, dtype)');
  const d = dtype === undefined ? undefined : checkDType(dtype, 'array');
  if (values instanceof MetalArray) return d ? castArray(values, d) : MetalArray.fromNode(values.liveNode('array'));
  if (isTypedArray(values)) {
    const own = dtypeOfTypedArray(values);
    const target = d ?? own;
    if (target === own && !(values instanceof Uint8ClampedArray)) return fromStorageArray(values.slice(), [values.length], target);
    return fromStorageArray(toStorage(values as ArrayLike<number | bigint>, target, 'array'), [values.length], target);
  }
  const { shape, flat } = flattenNested(values, 'array');
  const target = d ?? inferredDType(flat);
  return fromStorageArray(toStorage(flat, target, 'array'), shape, target);
}

/**
 * The dtype of JS values without one, as MLX infers it: all booleans make bool; all
 * integers (numbers that are whole, booleans among them) make int32, or int64 when one
 * is outside int32's range or is a bigint; anything else (a fraction, NaN, Infinity, a
 * number past 2^53 such as 1e300, or no values at all) makes float32.
 */
function inferredDType(flat: readonly (number | boolean | bigint)[]): DType {
  if (flat.length === 0) return 'float32';
  let allBool = true;
  let anyBigint = false;
  let int32 = true;
  for (const v of flat) {
    if (typeof v === 'boolean') continue;
    allBool = false;
    if (typeof v === 'bigint') anyBigint = true;
    else if (!Number.isSafeInteger(v))
      return 'float32'; // a fraction, or past 2^53 where a number is no exact integer (1e300)
    else if (v < -2147483648 || v > 2147483647) int32 = false;
  }
  if (allBool) return 'bool';
  return anyBigint || !int32 ? 'int64' : 'int32';
}

/** `full` under the name of the calling function (for its error messages). */
function fullAs<T extends DType>(op: string, shape: number | readonly number[], value: number | boolean | bigint, dtype: DType | undefined): MetalArray<T> {
  const dims = checkShape(op, shape);
  if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint')
    throw new ArgumentError(`${op}: value must be a number, boolean or bigint, got ${typeof value}`);
  const d = dtype === undefined ? (typeof value === 'boolean' ? 'bool' : 'float32') : checkDType(dtype, op);
  const stored = isInteger(d) ? exactInteger(value, d, op) : scalarFor(value, d);
  return MetalArray.fromNode(constNode(stored, dims, d, getBackendName()));
}

/**
 * An array of `shape` filled with `value` (lazy: no memory until a kernel reads it).
 * Without a dtype, `value` picks it as `ma.array` does: a boolean makes bool, a whole
 * number int32 (int64 past int32's range, or a bigint), any other number float32. An
 * integer dtype takes `value` as `array` does: truncated toward zero, `OverflowError`
 * when it does not fit.
 *
 * @example
 * ```ts
 * console.log(ma.full([2], 7).dtype, ma.full([2], 0.5).dtype, ma.full([2], true).dtype); // int32 float32 bool
 * ma.full([2, 3], 7, 'float32'); // [[7, 7, 7], [7, 7, 7]] as float32
 * ma.full([2], 300, 'uint8');    // throws OverflowError: 300 is out of range for uint8
 * ```
 */
export function full<T extends DType>(shape: number | readonly number[], value: number | boolean | bigint, dtype: T): MetalArray<T>;
export function full(shape: number | readonly number[], value: boolean): MetalArray<'bool'>;
export function full(shape: number | readonly number[], value: bigint): MetalArray<'int64'>;
export function full<V extends number>(shape: number | readonly number[], value: V): MetalArray<NumberDTypeOf<V>>;
export function full(shape: number | readonly number[], value: number | boolean | bigint, dtype?: DType): MetalArray;
export function full(shape: number | readonly number[], value: number | boolean | bigint, dtype?: DType): MetalArray {
  checkArgCount('full', arguments.length, 3, 'full(shape, value, dtype)');
  if (dtype === undefined && (typeof value === 'number' || typeof value === 'bigint')) return fullAs('full', shape, value, inferredDType([value]));
  return fullAs('full', shape, value, dtype);
}

/**
 * An array of zeros.
 *
 * @example
 * ```ts
 * console.log(ma.zeros([2], 'int32').toString()); // array([0, 0])
 * ```
 */
export function zeros<T extends DType = 'float32'>(shape: number | readonly number[], dtype: T = 'float32' as T): MetalArray<T> {
  checkArgCount('zeros', arguments.length, 2, 'zeros(shape, dtype)');
  return fullAs('zeros', shape, 0, dtype);
}

/**
 * An array of ones.
 *
 * @example
 * ```ts
 * console.log(ma.ones([2, 2]).toString()); // array([[1., 1.],
 *                                          //        [1., 1.]])
 * ```
 */
export function ones<T extends DType = 'float32'>(shape: number | readonly number[], dtype: T = 'float32' as T): MetalArray<T> {
  checkArgCount('ones', arguments.length, 2, 'ones(shape, dtype)');
  return fullAs('ones', shape, 1, dtype);
}

/**
 * Zeros with the shape (and dtype, unless given) of `a`.
 *
 * @example
 * ```ts
 * console.log(ma.zerosLike(ma.arange(3)).toString()); // array([0, 0, 0])
 * ```
 */
export function zerosLike<D extends DType, T extends DType = D>(a: MetalArray<D>, dtype?: T): MetalArray<T> {
  checkArgCount('zerosLike', arguments.length, 2, 'zerosLike(a, dtype)');
  templateOf('zerosLike', a);
  return fullAs('zerosLike', a.shape, 0, dtype ?? a.dtype);
}

/**
 * Ones with the shape (and dtype, unless given) of `a`.
 *
 * @example
 * ```ts
 * console.log(ma.onesLike(ma.arange(3), 'float32').toString()); // array([1., 1., 1.])
 * ```
 */
export function onesLike<D extends DType, T extends DType = D>(a: MetalArray<D>, dtype?: T): MetalArray<T> {
  checkArgCount('onesLike', arguments.length, 2, 'onesLike(a, dtype)');
  templateOf('onesLike', a);
  return fullAs('onesLike', a.shape, 1, dtype ?? a.dtype);
}

/**
 * `value` with the shape (and dtype, unless given) of `a`; `OverflowError` when an
 * integer dtype cannot hold `value`, as `full`.
 *
 * @example
 * ```ts
 * ma.fullLike(ma.zeros([2], 'int8'), 100);  // int8 [100, 100]
 * ma.fullLike(ma.zeros([2], 'int8'), 200);  // throws OverflowError
 * ```
 */
export function fullLike<D extends DType, T extends DType = D>(a: MetalArray<D>, value: number | boolean | bigint, dtype?: T): MetalArray<T> {
  checkArgCount('fullLike', arguments.length, 3, 'fullLike(a, value, dtype)');
  templateOf('fullLike', a);
  return fullAs('fullLike', a.shape, value, dtype ?? a.dtype);
}

/**
 * An array from an `ndarray` view (copies its elements; dtype from its storage).
 *
 * @example
 * ```ts
 * import ndarray from 'ndarray';
 * const a = ma.fromNdarray(ndarray(new Float32Array([1, 2, 3, 4]), [2, 2]));
 * console.log(a.shape, a.dtype); // [ 2, 2 ] float32
 * ```
 */
export function fromNdarray(nd: NdArray, dtype?: DType): MetalArray {
  checkArgCount('fromNdarray', arguments.length, 2, 'fromNdarray(nd, dtype)');
  if (typeof nd !== 'object' || nd === null || !Array.isArray(nd.shape) || !nd.data || typeof nd.get !== 'function')
    throw new ArgumentError('fromNdarray: expected an ndarray');
  checkShape('fromNdarray', nd.shape);
  if (dtype !== undefined) checkDType(dtype, 'fromNdarray');
  const data = nd.data as unknown;
  const own: DType = isTypedArray(data) ? dtypeOfTypedArray(data) : 'float32';
  const d = dtype ?? own;
  const n = nd.shape.reduce((p: number, x: number) => p * x, 1);
  const flat: (number | bigint)[] = new Array(n);
  const idx = new Array<number>(nd.shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    flat[i] = nd.get(...idx) as number;
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k] < nd.shape[k]) break;
      idx[k] = 0;
    }
  }
  return fromStorageArray(toStorage(flat, d, 'fromNdarray'), nd.shape, d);
}

/**
 * A contiguous `ndarray` over a copy of the values (float16/bfloat16 as float32).
 *
 * @example
 * ```ts
 * const nd = ma.toNdarray(ma.arange(4).reshape(2, 2));
 * console.log(nd.shape, nd.get(1, 0)); // [ 2, 2 ] 2
 * ```
 */
export function toNdarray(a: MetalArray): NdArray {
  checkArgCount('toNdarray', arguments.length, 1, 'toNdarray(a)');
  templateOf('toNdarray', a);
  const values = a.toTypedArray();
  return ndarrayFactory(values as unknown as NdTypedArray, a.shape);
}
