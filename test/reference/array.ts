/**
 * Reference oracle: the RefArray type (a dtype plus an `ndarray` strided view),
 * element access, broadcasting helpers, and creation functions.
 *
 * Storage: Float64Array for bool, integers up to 32 bits and all floats (every value is
 * exact in float64); BigInt64Array for int64 and BigUint64Array for uint64.
 */
import ndarray from 'ndarray';
import { DTYPES, type DType, isDType, ShapeError } from './dtypes.js';
import { castScalar, fromJS, type Scalar } from './round.js';

export type RefData = Float64Array<ArrayBuffer> | BigInt64Array<ArrayBuffer> | BigUint64Array<ArrayBuffer>;

export interface RefArray {
  dtype: DType;
  nd: ndarray.NdArray<RefData>;
}

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function allocData(dtype: DType, n: number): RefData {
  if (dtype === 'int64') return new BigInt64Array(n);
  if (dtype === 'uint64') return new BigUint64Array(n);
  return new Float64Array(n);
}

/** A view on `data` (no copy). */
export function makeView(dtype: DType, data: RefData, shape: Shape, strides: Shape, offset: number): RefArray {
  return { dtype, nd: ndarray(data, [...shape], [...strides], offset) };
}

export function shapeOf(a: RefArray): number[] {
  return [...a.nd.shape];
}

export function stridesOf(a: RefArray): number[] {
  return [...a.nd.stride];
}

/** Builds a contiguous array from row-major elements (already of the dtype). */
export function fromFlat(dtype: DType, shape: Shape, values: readonly Scalar[]): RefArray {
  const n = sizeOf(shape);
  if (values.length !== n) throw new ShapeError(`fromFlat: ${values.length} values for shape [${shape}]`);
  const data = allocData(dtype, n);
  const big = DTYPES[dtype].big;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (big !== (typeof v === 'bigint')) throw new Error(`fromFlat: element ${String(v)} does not match ${dtype}`);
    data[i] = v;
  }
  return makeView(dtype, data, shape, contiguousStrides(shape), 0);
}

/** Calls fn(flatIndex, dataOffset) for every element of a strided view in row-major order. */
export function forEachOffset(shape: Shape, strides: Shape, offset: number, fn: (i: number, off: number) => void): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let off = offset;
  for (let i = 0; i < n; i++) {
    fn(i, off);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** Row-major flat list of the elements (numbers, or bigints for int64/uint64). */
export function toFlat(a: RefArray): Scalar[] {
  const out = new Array<Scalar>(sizeOf(a.nd.shape));
  const data = a.nd.data;
  forEachOffset(a.nd.shape, a.nd.stride, a.nd.offset, (i, off) => {
    out[i] = data[off];
  });
  return out;
}

/** A contiguous copy. */
export function copy(a: RefArray): RefArray {
  return fromFlat(a.dtype, a.nd.shape, toFlat(a));
}

/** The element at a multi-index. */
export function getAt(a: RefArray, index: readonly number[]): Scalar {
  let off = a.nd.offset;
  for (let d = 0; d < index.length; d++) off += index[d] * a.nd.stride[d];
  return a.nd.data[off];
}

// ---------------------------------------------------------------------------------
// Broadcasting
// ---------------------------------------------------------------------------------

/** NumPy broadcasting of shapes; ShapeError on mismatch. */
export function broadcastShapes(...shapes: Shape[]): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = nd - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new ShapeError(`shapes ${shapes.map((x) => `[${x}]`).join(', ')} cannot be broadcast together`);
      }
    }
  }
  return out;
}

/** Strides of `a` viewed with the (broadcast) shape `to`: 0 on broadcast axes. */
export function broadcastStrides(a: RefArray, to: Shape): number[] {
  const s = a.nd.shape;
  const st = a.nd.stride;
  const k = to.length - s.length;
  if (k < 0) throw new ShapeError(`cannot broadcast [${s}] to [${to}]`);
  const out = new Array<number>(to.length).fill(0);
  for (let i = 0; i < s.length; i++) {
    if (s[i] === to[k + i]) out[k + i] = s[i] === 1 ? 0 : st[i];
    else if (s[i] === 1) out[k + i] = 0;
    else throw new ShapeError(`cannot broadcast [${s}] to [${to}]`);
  }
  return out;
}

/** Elements of `a` broadcast to `to`, row-major. */
export function flatBroadcast(a: RefArray, to: Shape): Scalar[] {
  const out = new Array<Scalar>(sizeOf(to));
  const data = a.nd.data;
  forEachOffset(to, broadcastStrides(a, to), a.nd.offset, (i, off) => {
    out[i] = data[off];
  });
  return out;
}

// ---------------------------------------------------------------------------------
// Creation
// ---------------------------------------------------------------------------------

export type TypedArrayInput =
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export type NestedInput = number | boolean | bigint | readonly NestedInput[];

export function typedArrayDType(t: TypedArrayInput): DType {
  if (t instanceof Int8Array) return 'int8';
  if (t instanceof Int16Array) return 'int16';
  if (t instanceof Int32Array) return 'int32';
  if (t instanceof BigInt64Array) return 'int64';
  if (t instanceof Uint8Array || t instanceof Uint8ClampedArray) return 'uint8';
  if (t instanceof Uint16Array) return 'uint16';
  if (t instanceof Uint32Array) return 'uint32';
  if (t instanceof BigUint64Array) return 'uint64';
  if (t instanceof Float32Array) return 'float32';
  return 'float64';
}

function isTypedArray(v: unknown): v is TypedArrayInput {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function nestedShape(v: NestedInput): number[] {
  const shape: number[] = [];
  let cur: NestedInput = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flattenNested(v: NestedInput, shape: Shape, depth: number, out: (number | boolean | bigint)[]): void {
  if (depth === shape.length) {
    if (Array.isArray(v)) throw new ShapeError('ragged nested array');
    out.push(v as number | boolean | bigint);
    return;
  }
  if (!Array.isArray(v) || v.length !== shape[depth]) throw new ShapeError('ragged nested array');
  for (const e of v) flattenNested(e, shape, depth + 1, out);
}

/**
 * array(values, dtype?): a typed array gives its own dtype (and is 1-D); nested JS
 * numbers give float32, all-boolean input gives bool, bigints give int64 (our choice).
 * Values are converted with astype semantics from the source (typed arrays) or from
 * float64 (JS numbers).
 */
export function array(values: NestedInput | TypedArrayInput, dtype?: DType): RefArray {
  if (dtype !== undefined && !isDType(dtype)) throw new Error(`unknown dtype ${String(dtype)}`);
  if (isTypedArray(values)) {
    const src = typedArrayDType(values);
    const to = dtype ?? src;
    const out: Scalar[] = [];
    for (let i = 0; i < values.length; i++) out.push(castScalar(values[i], src, to));
    return fromFlat(to, [values.length], out);
  }
  const shape = nestedShape(values);
  const flat: (number | boolean | bigint)[] = [];
  flattenNested(values, shape, 0, flat);
  let to: DType;
  if (dtype !== undefined) to = dtype;
  else if (flat.length > 0 && flat.every((x) => typeof x === 'boolean')) to = 'bool';
  else if (flat.length > 0 && flat.every((x) => typeof x === 'bigint')) to = 'int64';
  else to = 'float32';
  return fromFlat(
    to,
    shape,
    flat.map((x) => fromJS(x, to)),
  );
}

export function full(shape: Shape, value: number | boolean | bigint, dtype?: DType): RefArray {
  const to = dtype ?? (typeof value === 'boolean' ? 'bool' : typeof value === 'bigint' ? 'int64' : 'float32');
  const v = fromJS(value, to);
  return fromFlat(to, shape, new Array<Scalar>(sizeOf(shape)).fill(v));
}

export function zeros(shape: Shape, dtype: DType = 'float32'): RefArray {
  return full(shape, 0, dtype);
}

export function ones(shape: Shape, dtype: DType = 'float32'): RefArray {
  return full(shape, 1, dtype);
}

/**
 * arange(stop) / arange(start, stop, step?, dtype?): integer arguments and no dtype →
 * int32, otherwise float32. Length ceil((stop - start) / step); element i is
 * start + i*step computed in float64, then converted to the dtype.
 */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): RefArray {
  let lo = start;
  let hi = stop;
  if (hi === undefined) {
    hi = lo;
    lo = 0;
  }
  if (step === 0) throw new ShapeError('arange: step must not be zero');
  const to = dtype ?? ([lo, hi, step].every(Number.isInteger) ? 'int32' : 'float32');
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const out: Scalar[] = [];
  for (let i = 0; i < n; i++) out.push(fromJS(lo + i * step, to));
  return fromFlat(to, [n], out);
}

/**
 * linspace(start, stop, num, endpoint = true, dtype = float32), as NumPy: step =
 * (stop - start) / (endpoint ? num - 1 : num); element i = start + i*step in float64;
 * with endpoint and num > 1 the last element is exactly stop.
 */
export function linspace(start: number, stop: number, num: number, endpoint = true, dtype: DType = 'float32'): RefArray {
  if (!Number.isInteger(num) || num < 0) throw new ShapeError(`linspace: bad num ${num}`);
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  const out: Scalar[] = [];
  for (let i = 0; i < num; i++) {
    const v = endpoint && num > 1 && i === num - 1 ? stop : start + i * step;
    out.push(fromJS(v, dtype));
  }
  return fromFlat(dtype, [num], out);
}

/** eye(n, m = n, k = 0, dtype = float32): ones where column - row = k. */
export function eye(n: number, m: number = n, k = 0, dtype: DType = 'float32'): RefArray {
  const out: Scalar[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out.push(fromJS(j - i === k ? 1 : 0, dtype));
  return fromFlat(dtype, [n, m], out);
}

export function identity(n: number, dtype: DType = 'float32'): RefArray {
  return eye(n, n, 0, dtype);
}
