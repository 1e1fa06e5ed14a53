/**
 * Creation functions: from JS values, constants (lazy: a constant costs no memory
 * until a kernel writes it), ranges, identity matrices, and ndarray interop.
 */
import ndarrayFactory from 'ndarray';
import type { NdArray, TypedArray as NdTypedArray } from 'ndarray';
import { ArgumentError, OutOfMemoryError, formatValue } from '../errors.js';
import { constNode } from '../graph/build.js';
import { checkShape } from '../graph/shape.js';
import { type AnyTypedArray, type DType, checkDType, isInteger } from '../graph/dtype.js';
import { backendFor, getBackendName } from '../runtime/registry.js';
import { MetalArray, leafFor } from './array.js';
import { dtypeOfTypedArray, exactInteger, flattenNested, isTypedArray, scalarFor, toStorage } from './convert.js';
import { reshape } from '../ops/movement.js';
import { binary, where } from '../ops/elementwise.js';

/** Nested JS arrays of numbers or booleans (or bigints). */
export type NestedArray = number | boolean | bigint | readonly NestedArray[];

/** A host Float64Array of n elements, or OutOfMemoryError when the host cannot make one. */
function hostValues(op: string, n: number): Float64Array {
  try {
    return new Float64Array(n);
  } catch {
    throw new OutOfMemoryError(`${op}: cannot allocate ${n} values on the host`);
  }
}

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

/**
 * An array from a JS number or boolean, nested arrays, or a typed array (whose dtype it
 * keeps unless `dtype` is given). Numbers default to float32, booleans to bool, bigints
 * to int64. Converting to an integer dtype truncates toward zero (`1.9` → 1) and throws
 * `OverflowError` for a value the dtype cannot hold (out of range, NaN, ±Infinity), as
 * NumPy 2 does for Python ints; `astype` is the saturating conversion.
 *
 * @example
 * ```ts
 * ma.array([[1, 2], [3, 4]]);          // float32 [2, 2]
 * ma.array([1.9, -1.9], 'int32');      // [1, -1]
 * ma.array([300], 'uint8');            // throws OverflowError: 300 is out of range for uint8
 * ```
 */
export function array(values: NestedArray | AnyTypedArray | MetalArray, dtype?: DType): MetalArray {
  const d = dtype === undefined ? undefined : checkDType(dtype, 'array');
  if (values instanceof MetalArray) return d ? values.astype(d) : MetalArray.fromNode(values.liveNode('array'));
  if (isTypedArray(values)) {
    const own = dtypeOfTypedArray(values);
    const target = d ?? own;
    if (target === own && !(values instanceof Uint8ClampedArray)) return fromStorageArray(values.slice(), [values.length], target);
    return fromStorageArray(toStorage(values as ArrayLike<number | bigint>, target, 'array'), [values.length], target);
  }
  const { shape, flat } = flattenNested(values, 'array');
  let target = d;
  if (target === undefined) {
    if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) target = 'bool';
    else if (flat.length > 0 && flat.every((v) => typeof v === 'bigint')) target = 'int64';
    else target = 'float32';
  }
  return fromStorageArray(toStorage(flat, target, 'array'), shape, target);
}

/** `full` under the name of the calling function (for its error messages). */
function fullAs(op: string, shape: number | readonly number[], value: number | boolean | bigint, dtype: DType | undefined): MetalArray {
  const dims = checkShape(op, shape);
  if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint')
    throw new ArgumentError(`${op}: value must be a number, boolean or bigint, got ${typeof value}`);
  const d = dtype === undefined ? (typeof value === 'boolean' ? 'bool' : 'float32') : checkDType(dtype, op);
  const stored = isInteger(d) ? exactInteger(value, d, op) : scalarFor(value, d);
  return MetalArray.fromNode(constNode(stored, dims, d, getBackendName()));
}

/**
 * An array of `shape` filled with `value` (float32 by default, bool for a boolean;
 * lazy: no memory until a kernel reads it). An integer dtype takes `value` as `array`
 * does: truncated toward zero, `OverflowError` when it does not fit.
 *
 * @example
 * ```ts
 * ma.full([2, 3], 7, 'int32');   // [[7, 7, 7], [7, 7, 7]]
 * ma.full([2], 300, 'uint8');    // throws OverflowError: 300 is out of range for uint8
 * ```
 */
export function full(shape: number | readonly number[], value: number | boolean | bigint, dtype?: DType): MetalArray {
  return fullAs('full', shape, value, dtype);
}

/** An array of zeros. */
export function zeros(shape: number | readonly number[], dtype: DType = 'float32'): MetalArray {
  return fullAs('zeros', shape, 0, dtype);
}

/** An array of ones. */
export function ones(shape: number | readonly number[], dtype: DType = 'float32'): MetalArray {
  return fullAs('ones', shape, 1, dtype);
}

/** Zeros with the shape (and dtype, unless given) of `a`. */
export function zerosLike(a: MetalArray, dtype?: DType): MetalArray {
  templateOf('zerosLike', a);
  return fullAs('zerosLike', a.shape, 0, dtype ?? a.dtype);
}

/** Ones with the shape (and dtype, unless given) of `a`. */
export function onesLike(a: MetalArray, dtype?: DType): MetalArray {
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
export function fullLike(a: MetalArray, value: number | boolean | bigint, dtype?: DType): MetalArray {
  templateOf('fullLike', a);
  return fullAs('fullLike', a.shape, value, dtype ?? a.dtype);
}

/** The index ramp 0, 1, ..., n-1 as a small leaf. */
function ramp(n: number, dtype: DType): MetalArray {
  const idx = hostValues('eye', n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return array(idx, dtype);
}

/**
 * Evenly spaced values in [start, stop) (NumPy's arange). With one argument it is the
 * stop. Integer arguments give int32 unless `dtype` says otherwise; others float32.
 */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): MetalArray {
  let lo = start;
  let hi = stop;
  if (hi === undefined) {
    hi = lo;
    lo = 0;
  }
  for (const [name, v] of [
    ['start', lo],
    ['stop', hi],
    ['step', step],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`arange: ${name} must be a finite number, got ${formatValue(v)}`);
  }
  if (step === 0) throw new ArgumentError('arange: step cannot be zero');
  const d = dtype === undefined ? ([lo, hi, step].every(Number.isInteger) ? 'int32' : 'float32') : checkDType(dtype, 'arange');
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const values = hostValues('arange', n);
  for (let i = 0; i < n; i++) values[i] = lo + i * step;
  return array(values, d);
}

/** `num` evenly spaced values from start to stop (inclusive unless `endpoint` is false). */
export function linspace(start: number, stop: number, num = 50, endpoint = true, dtype: DType = 'float32'): MetalArray {
  if (typeof num !== 'number' || !Number.isInteger(num) || num < 0)
    throw new ArgumentError(`linspace: num must be a non-negative integer, got ${formatValue(num)}`);
  for (const [name, v] of [
    ['start', start],
    ['stop', stop],
  ] as const) {
    if (typeof v !== 'number') throw new ArgumentError(`linspace: ${name} must be a number, got ${formatValue(v)}`);
  }
  const d = checkDType(dtype, 'linspace');
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  const values = hostValues('linspace', num);
  for (let i = 0; i < num; i++) values[i] = start + i * step;
  if (endpoint && num > 1) values[num - 1] = stop;
  return array(values, d);
}

/** An n×m matrix with ones on diagonal k (a fused comparison of two index ramps). */
export function eye(n: number, m?: number, k = 0, dtype: DType = 'float32'): MetalArray {
  const cols = m ?? n;
  checkShape('eye', [n, cols]);
  if (typeof k !== 'number' || !Number.isInteger(k)) throw new ArgumentError(`eye: k must be an integer, got ${formatValue(k)}`);
  const d = checkDType(dtype, 'eye');
  const rows = reshape(ramp(n, 'int32'), [n, 1]);
  const colsR = reshape(ramp(cols, 'int32'), [1, cols]);
  const onDiag = binary('equal', binary('subtract', colsR, rows), k);
  return where(
    onDiag,
    MetalArray.fromNode(constNode(scalarFor(1, d), [], d, getBackendName())),
    MetalArray.fromNode(constNode(scalarFor(0, d), [], d, getBackendName())),
  );
}

/** The n×n identity matrix. */
export function identity(n: number, dtype: DType = 'float32'): MetalArray {
  return eye(n, n, 0, dtype);
}

/** An array from an `ndarray` view (copies its elements; dtype from its storage). */
export function fromNdarray(nd: NdArray, dtype?: DType): MetalArray {
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

/** A contiguous `ndarray` over a copy of the values (float16/bfloat16 as float32). */
export function toNdarray(a: MetalArray): NdArray {
  templateOf('toNdarray', a);
  const values = a.toTypedArray();
  return ndarrayFactory(values as unknown as NdTypedArray, a.shape);
}
