/**
 * Byte-level helpers the file formats share: copying element bytes out of a file into
 * an aligned buffer, byte-swapping big-endian data, Fortran order to C order, and
 * turning raw little-endian bytes into the storage array of a dtype.
 */
import { endianness } from 'node:os';
import { fromStorageArray } from '../array/creation.js';
import type { MetalArray } from '../array/array.js';
import { type AnyTypedArray, type DType, DTYPES, STORAGE_ARRAY } from '../core/dtype.js';
import { FileError } from '../errors.js';

/** Elements in a shape (1 for a 0-d shape). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Checks that every dimension is a non-negative safe integer and that the byte size fits. */
export function checkFileShape(path: string, what: string, shape: readonly unknown[], itemBytes: number): number[] {
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new FileError(path, `${what}: shape entries must be non-negative integers, got [${shape.map(String).join(', ')}]`);
    }
  }
  const dims = shape as number[];
  let bytes = itemBytes;
  for (const d of dims) bytes *= d;
  if (!Number.isSafeInteger(bytes)) throw new FileError(path, `${what}: shape [${dims.join(', ')}] is too large`);
  return dims;
}

/** Swaps the bytes of every `width`-byte element in place. */
export function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

type ElementView = Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

function elementView(bytes: Uint8Array, width: number): ElementView {
  const n = bytes.byteLength / width;
  if (width === 1) return bytes;
  if (width === 2) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  if (width === 4) return new Uint32Array(bytes.buffer, bytes.byteOffset, n);
  return new BigUint64Array(bytes.buffer, bytes.byteOffset, n);
}

/**
 * Fortran (column-major) element order → C (row-major) order, for elements of `width`
 * bytes. `bytes` must be aligned to `width` (a fresh copy is).
 */
export function fortranToC(bytes: Uint8Array, shape: readonly number[], width: number): Uint8Array {
  const n = elementCount(shape);
  const rank = shape.length;
  if (rank <= 1 || n === 0) return bytes;
  const out = new Uint8Array(bytes.byteLength);
  const src = elementView(bytes, width);
  const dst = elementView(out, width);
  // Fortran strides: the first axis is contiguous.
  const fStrides = new Array<number>(rank);
  let s = 1;
  for (let k = 0; k < rank; k++) {
    fStrides[k] = s;
    s *= shape[k];
  }
  const idx = new Array<number>(rank).fill(0);
  let f = 0;
  for (let c = 0; c < n; c++) {
    dst[c] = src[f];
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]++;
      f += fStrides[k];
      if (idx[k] < shape[k]) break;
      f -= fStrides[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** A fresh, aligned copy of `length` bytes of `file` from `offset`. */
export function copyBytes(file: Uint8Array, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(file.subarray(offset, offset + length));
  return out;
}

/**
 * Raw little-endian element bytes in C order (an aligned copy) → a MetalArray.
 * Bool bytes other than 0 become 1.
 */
export function arrayFromBytes(bytes: Uint8Array, shape: readonly number[], dtype: DType): MetalArray {
  if (endianness() !== 'LE') throw new FileError('(host)', 'reading files needs a little-endian host');
  if (dtype === 'bool') for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i] === 0 ? 0 : 1;
  const n = bytes.byteLength / DTYPES[dtype].bytes;
  const storage: AnyTypedArray = new STORAGE_ARRAY[dtype](bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
  return fromStorageArray(storage, shape, dtype);
}

/** The little-endian bytes of an array's logical contents (views are copied out in C order). */
export function bytesOfArray(array: MetalArray, op: string): Uint8Array {
  if (endianness() !== 'LE') throw new FileError('(host)', 'writing files needs a little-endian host');
  const raw = array.storageBits(op);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Sets `record[key]` as an own property, even for keys such as `__proto__`. */
export function setEntry<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Disposes every array of a partly built result (on an error halfway through a file). */
export function disposeAll(arrays: Record<string, MetalArray>): void {
  for (const a of Object.values(arrays)) a.dispose();
}
