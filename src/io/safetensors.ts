/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`),
 * then the tensors' bytes, little-endian and C order, offsets relative to the end of
 * the header.
 *
 * Writing: `__metadata__` first (when given), then the tensors in the order given,
 * packed back to back from offset 0; the JSON has no spaces and is padded with spaces
 * so the data starts on an 8-byte boundary. Reading checks what the reference
 * implementation checks: a known dtype, non-negative integer shapes, offsets that
 * match the shape and tile the data area without gaps or overlaps.
 */
import type { MetalArray } from '../array/array.js';
import { FileError } from '../errors.js';
import { type DType, DTYPES } from '../core/dtype.js';
import { arrayFromBytes, bytesOfArray, checkFileShape, copyBytes, disposeAll, elementCount, setEntry } from './layout.js';

const CODE_OF_DTYPE: Readonly<Record<DType, string>> = {
  bool: 'BOOL',
  int8: 'I8',
  int16: 'I16',
  int32: 'I32',
  int64: 'I64',
  uint8: 'U8',
  uint16: 'U16',
  uint32: 'U32',
  uint64: 'U64',
  float16: 'F16',
  bfloat16: 'BF16',
  float32: 'F32',
  float64: 'F64',
};
const DTYPE_OF_CODE = new Map<string, DType>(Object.entries(CODE_OF_DTYPE).map(([d, c]) => [c, d as DType]));
/** The reference implementation refuses headers over 100 MB. */
const MAX_HEADER = 100_000_000;

/** What `loadSafetensors` returns. */
export interface SafetensorsContents {
  /** The tensors by name, in file order. */
  arrays: Record<string, MetalArray>;
  /** The `__metadata__` string map ({} when the file has none). */
  metadata: Record<string, string>;
}

/** Encodes named arrays (and optional string metadata) as a safetensors image. */
export function encodeSafetensors(
  arrays: Readonly<Record<string, MetalArray>>,
  metadata: Readonly<Record<string, string>> | undefined,
  path: string,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new FileError(path, `safetensors metadata values must be strings; '${k}' is ${typeof v}`);
    }
    header.__metadata__ = { ...metadata };
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, array] of Object.entries(arrays)) {
    if (name === '__metadata__') throw new FileError(path, "'__metadata__' is reserved and cannot name a tensor");
    const bytes = bytesOfArray(array, 'saveSafetensors');
    header[name] = { dtype: CODE_OF_DTYPE[array.dtype], shape: array.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Decodes a safetensors image. */
export function decodeSafetensors(file: Uint8Array, path: string): SafetensorsContents {
  const bad = (what: string): never => {
    throw new FileError(path, `malformed safetensors file: ${what}`);
  };
  if (file.length < 8) bad(`${file.length} bytes is too short for the 8-byte header length`);
  const n = new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) bad(`the header length ${n} is over the 100 MB limit`);
  const headerLen = Number(n);
  if (8 + headerLen > file.length) bad(`the header claims ${headerLen} bytes, the file has ${file.length - 8} after the length`);
  let parsed: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + headerLen));
    if (!text.startsWith('{')) bad("the header does not start with '{'");
    parsed = JSON.parse(text);
  } catch (err) {
    if (err instanceof FileError) throw err;
    return bad(`the header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(parsed)) return bad('the header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = file.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isPlainObject(info)) bad('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') bad(`__metadata__ value '${k}' is not a string`);
        setEntry(metadata, k, v as string);
      }
      continue;
    }
    if (!isPlainObject(info)) return bad(`tensor '${name}' is not an object`);
    const code = info.dtype;
    const dtype = typeof code === 'string' ? DTYPE_OF_CODE.get(code) : undefined;
    if (dtype === undefined) return bad(`tensor '${name}' has unsupported dtype ${JSON.stringify(code)}`);
    if (!Array.isArray(info.shape)) return bad(`tensor '${name}' has no shape array`);
    const shape = checkFileShape(path, `tensor '${name}'`, info.shape, DTYPES[dtype].bytes);
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
      return bad(`tensor '${name}' data_offsets must be two non-negative integers`);
    }
    const [begin, end] = offsets as number[];
    const need = elementCount(shape) * DTYPES[dtype].bytes;
    if (end < begin || end - begin !== need) bad(`tensor '${name}' (${dtype} [${shape.join(', ')}], ${need} bytes) has data_offsets [${begin}, ${end}]`);
    if (end > dataLen) bad(`tensor '${name}' data_offsets [${begin}, ${end}] lie past the end of the data (${dataLen} bytes; truncated?)`);
    entries.push({ name, dtype, shape, begin, end });
  }
  // The tensors must tile the data area exactly: no gaps, no overlaps, nothing after.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of sorted) {
    if (e.begin !== expected) bad(`tensor '${e.name}' starts at ${e.begin}, expected ${expected} (overlapping or missing data)`);
    expected = e.end;
  }
  if (expected !== dataLen) bad(`the data area is ${dataLen} bytes but the tensors cover ${expected}`);
  const arrays: Record<string, MetalArray> = {};
  try {
    for (const e of entries) setEntry(arrays, e.name, arrayFromBytes(copyBytes(file, dataStart + e.begin, e.end - e.begin), e.shape, e.dtype));
  } catch (err) {
    disposeAll(arrays);
    throw err;
  }
  return { arrays, metadata };
}
