/**
 * Creation functions: from JS values, constants (lazy: a constant costs no memory
 * until a kernel writes it), ranges, identity matrices, and ndarray interop.
 */
import ndarrayFactory from 'ndarray';
import type { NdArray, TypedArray as NdTypedArray } from 'ndarray';
import { ArgumentError, OutOfMemoryError, ShapeError, formatValue } from '../errors.js';
import { constNode } from '../graph/build.js';
import { type AnyTypedArray, type DType, checkDType } from '../graph/dtype.js';
import { backendFor, getBackendName } from '../runtime/registry.js';
import { MetalArray, leafFor } from './array.js';
import { dtypeOfTypedArray, flattenNested, isTypedArray, scalarFor, toStorage } from './convert.js';
import { reshape } from '../ops/movement.js';
import { binary, where } from '../ops/elementwise.js';

/** Nested JS arrays of numbers or booleans (or bigints). */
export type NestedArray = number | boolean | bigint | readonly NestedArray[];

function checkShape(op: string, shape: unknown): number[] {
  const dims = typeof shape === 'number' ? [shape] : shape;
  if (!Array.isArray(dims)) throw new ArgumentError(`${op}: shape must be a number or an array of numbers, got ${formatValue(shape)}`);
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      throw new ShapeError(`${op}: shape entries must be non-negative integers, got ${formatValue(dims)}`);
    if (d > 2 ** 52) throw new ShapeError(`${op}: dimension ${d} is too large`);
  }
  return dims as number[];
}

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
 * keeps unless `dtype` is given). Numbers default to float32, booleans to bool.
 */
export function array(values: NestedArray | AnyTypedArray | MetalArray, dtype?: DType): MetalArray {
  const d = dtype === undefined ? undefined : checkDType(dtype, 'array');
  if (values instanceof MetalArray) return d ? values.astype(d) : MetalArray.fromNode(values.liveNode('array'));
  if (isTypedArray(values)) {
    const own = dtypeOfTypedArray(values);
    const target = d ?? own;
    if (target === own && !(values instanceof Uint8ClampedArray)) return fromStorageArray(values.slice(), [values.length], target);
    return fromStorageArray(toStorage(values as ArrayLike<number | bigint>, target), [values.length], target);
  }
  const { shape, flat } = flattenNested(values, 'array');
  let target = d;
  if (target === undefined) {
    if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) target = 'bool';
    else if (flat.length > 0 && flat.every((v) => typeof v === 'bigint')) target = 'int64';
    else target = 'float32';
  }
  return fromStorageArray(toStorage(flat, target), shape, target);
}

/** An array of `shape` filled with `value` (float32 by default; lazy). */
export function full(shape: number | readonly number[], value: number | boolean | bigint, dtype?: DType): MetalArray {
  const dims = checkShape('full', shape);
  if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint')
    throw new ArgumentError(`full: value must be a number, boolean or bigint, got ${typeof value}`);
  const d = dtype === undefined ? (typeof value === 'boolean' ? 'bool' : 'float32') : checkDType(dtype, 'full');
  return MetalArray.fromNode(constNode(scalarFor(value, d), dims, d, getBackendName()));
}

/** An array of zeros. */
export function zeros(shape: number | readonly number[], dtype: DType = 'float32'): MetalArray {
  return full(shape, 0, dtype);
}

/** An array of ones. */
export function ones(shape: number | readonly number[], dtype: DType = 'float32'): MetalArray {
  return full(shape, 1, dtype);
}

/** Zeros with the shape (and dtype, unless given) of `a`. */
export function zerosLike(a: MetalArray, dtype?: DType): MetalArray {
  templateOf('zerosLike', a);
  return full(a.shape, 0, dtype ?? a.dtype);
}

/** Ones with the shape (and dtype, unless given) of `a`. */
export function onesLike(a: MetalArray, dtype?: DType): MetalArray {
  templateOf('onesLike', a);
  return full(a.shape, 1, dtype ?? a.dtype);
}

/** `value` with the shape (and dtype, unless given) of `a`. */
export function fullLike(a: MetalArray, value: number | boolean | bigint, dtype?: DType): MetalArray {
  templateOf('fullLike', a);
  return full(a.shape, value, dtype ?? a.dtype);
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
  return fromStorageArray(toStorage(flat, d), nd.shape, d);
}

/** A contiguous `ndarray` over a copy of the values (float16/bfloat16 as float32). */
export function toNdarray(a: MetalArray): NdArray {
  templateOf('toNdarray', a);
  const values = a.toTypedArray();
  return ndarrayFactory(values as unknown as NdTypedArray, a.shape);
}
