/**
 * The NumPy `.npy` format (versions 1.0, 2.0 and 3.0): a magic string, a version, a
 * header length, a Python dict literal `{'descr': ..., 'fortran_order': ..., 'shape': ...}`
 * padded so the data starts on a 64-byte boundary, then the raw elements.
 *
 * Reading accepts little- and big-endian data, C and Fortran order, 0-d and empty
 * arrays. Writing produces version 1.0 (2.0 when the header is too long for 1.0),
 * little-endian, C order. NumPy has no bfloat16, so a bfloat16 array cannot be
 * written to `.npy`/`.npz` (a `FileError` says to use safetensors or
 * `astype('float32')`).
 */
import type { MetalArray } from '../array/array.js';
import { FileError } from '../errors.js';
import { type DType, DTYPES } from '../core/dtype.js';
import { arrayFromBytes, bytesOfArray, checkFileShape, copyBytes, elementCount, fortranToC, swapBytes } from './layout.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;

/** NumPy's type code for each dtype the format can hold (without the byte-order mark). */
const NPY_CODE: Partial<Record<DType, string>> = {
  bool: 'b1',
  int8: 'i1',
  int16: 'i2',
  int32: 'i4',
  int64: 'i8',
  uint8: 'u1',
  uint16: 'u2',
  uint32: 'u4',
  uint64: 'u8',
  float16: 'f2',
  float32: 'f4',
  float64: 'f8',
};

const DTYPE_OF_CODE = new Map<string, DType>(Object.entries(NPY_CODE).map(([d, c]) => [c as string, d as DType]));

/** The `descr` string NumPy writes for `dtype` ('<f4', '|b1'...). */
export function npyDescr(dtype: DType, path: string): string {
  const code = NPY_CODE[dtype];
  if (code === undefined) {
    throw new FileError(path, `.npy has no ${dtype} type (NumPy has no bfloat16); save it with saveSafetensors, or astype('float32') first`);
  }
  return DTYPES[dtype].bytes === 1 ? `|${code}` : `<${code}`;
}

// ---- header (a Python literal) ----

type PyValue = string | boolean | number | PyValue[] | Map<string, PyValue>;

class PyLiteralParser {
  #pos = 0;
  constructor(
    readonly text: string,
    readonly path: string,
  ) {}

  fail(what: string): never {
    throw new FileError(this.path, `malformed .npy header (${what} at character ${this.#pos}): ${JSON.stringify(this.text.slice(0, 200))}`);
  }

  #skipSpace(): void {
    while (this.#pos < this.text.length && /\s/.test(this.text[this.#pos])) this.#pos++;
  }

  #peek(): string {
    this.#skipSpace();
    return this.text[this.#pos] ?? '';
  }

  #expect(ch: string): void {
    if (this.#peek() !== ch) this.fail(`expected '${ch}'`);
    this.#pos++;
  }

  parseAll(): PyValue {
    const v = this.value();
    if (this.#peek() !== '') this.fail('unexpected text after the dict');
    return v;
  }

  value(): PyValue {
    const c = this.#peek();
    if (c === '{') return this.#dict();
    if (c === '(' || c === '[') return this.#sequence(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.#string();
    if (/[0-9-]/.test(c)) return this.#integer();
    for (const [word, v] of [
      ['True', true],
      ['False', false],
    ] as const) {
      if (this.text.startsWith(word, this.#pos)) {
        this.#pos += word.length;
        return v;
      }
    }
    return this.fail('expected a value');
  }

  #dict(): Map<string, PyValue> {
    this.#expect('{');
    const out = new Map<string, PyValue>();
    while (this.#peek() !== '}') {
      const key = this.value();
      if (typeof key !== 'string') this.fail('dict keys must be strings');
      this.#expect(':');
      if (out.has(key)) this.fail(`duplicate key '${key}'`);
      out.set(key, this.value());
      if (this.#peek() === ',') this.#pos++;
      else if (this.#peek() !== '}') this.fail("expected ',' or '}'");
    }
    this.#pos++;
    return out;
  }

  #sequence(close: string): PyValue[] {
    this.#pos++;
    const out: PyValue[] = [];
    while (this.#peek() !== close) {
      out.push(this.value());
      if (this.#peek() === ',') this.#pos++;
      else if (this.#peek() !== close) this.fail(`expected ',' or '${close}'`);
    }
    this.#pos++;
    return out;
  }

  #string(): string {
    const quote = this.text[this.#pos++];
    const start = this.#pos;
    while (this.#pos < this.text.length && this.text[this.#pos] !== quote) {
      if (this.text[this.#pos] === '\\') this.fail('escapes are not supported in header strings');
      this.#pos++;
    }
    if (this.#pos >= this.text.length) this.fail('unterminated string');
    return this.text.slice(start, this.#pos++);
  }

  #integer(): number {
    const m = /^-?[0-9]+L?/.exec(this.text.slice(this.#pos));
    if (!m) return this.fail('expected an integer');
    this.#pos += m[0].length;
    const v = Number(m[0].replace('L', ''));
    if (!Number.isSafeInteger(v)) this.fail(`integer ${m[0]} is out of range`);
    return v;
  }
}

/** What a `.npy` header says. */
export interface NpyHeader {
  dtype: DType;
  bigEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data from the start of the file. */
  dataOffset: number;
}

function parseDescr(descr: PyValue, path: string): { dtype: DType; bigEndian: boolean } {
  if (typeof descr !== 'string') throw new FileError(path, 'structured .npy dtypes (a list descr) are not supported');
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const dtype = m ? DTYPE_OF_CODE.get(`${m[2]}${m[3]}`) : undefined;
  if (!m || dtype === undefined) {
    throw new FileError(path, `unsupported .npy dtype '${descr}'; supported: bool, int8-64, uint8-64, float16, float32, float64`);
  }
  return { dtype, bigEndian: m[1] === '>' && DTYPES[dtype].bytes > 1 };
}

/** Parses and checks the header of a `.npy` image. */
export function readNpyHeader(file: Uint8Array, path: string): NpyHeader {
  if (file.length < 10 || MAGIC.some((b, i) => file[i] !== b)) throw new FileError(path, 'not a .npy file (bad magic string)');
  const major = file[6];
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (file.length < 12) throw new FileError(path, 'truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new FileError(path, `unsupported .npy format version ${major}.${file[7]}`);
  }
  if (start + headerLen > file.length) throw new FileError(path, `truncated .npy header: it claims ${headerLen} bytes, the file has ${file.length - start}`);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(file.subarray(start, start + headerLen));
  } catch {
    throw new FileError(path, 'the .npy header is not valid text');
  }
  const dict = new PyLiteralParser(text, path).parseAll();
  if (!(dict instanceof Map)) throw new FileError(path, 'the .npy header is not a dict');
  const keys = [...dict.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape')
    throw new FileError(path, `the .npy header must have exactly the keys descr, fortran_order, shape; found ${keys || 'none'}`);
  const { dtype, bigEndian } = parseDescr(dict.get('descr') as PyValue, path);
  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') throw new FileError(path, 'the .npy header: fortran_order must be True or False');
  const shapeValue = dict.get('shape');
  if (!Array.isArray(shapeValue)) throw new FileError(path, 'the .npy header: shape must be a tuple');
  const shape = checkFileShape(path, '.npy header', shapeValue, DTYPES[dtype].bytes);
  return { dtype, bigEndian, fortranOrder: fortran, shape, dataOffset: start + headerLen };
}

/** Decodes a whole `.npy` image into an array. */
export function decodeNpy(file: Uint8Array, path: string): MetalArray {
  const h = readNpyHeader(file, path);
  const width = DTYPES[h.dtype].bytes;
  const need = elementCount(h.shape) * width;
  const have = file.length - h.dataOffset;
  if (have < need) throw new FileError(path, `truncated .npy data: shape [${h.shape.join(', ')}] of ${h.dtype} needs ${need} bytes, the file has ${have}`);
  if (have > need)
    throw new FileError(path, `${have - need} unexpected bytes after the .npy data (shape [${h.shape.join(', ')}] of ${h.dtype} is ${need} bytes)`);
  let bytes = copyBytes(file, h.dataOffset, need);
  if (h.bigEndian) swapBytes(bytes, width);
  if (h.fortranOrder) bytes = fortranToC(bytes, h.shape, width);
  return arrayFromBytes(bytes, h.shape, h.dtype);
}

function pyTuple(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** Encodes an array's logical contents as a `.npy` image. */
export function encodeNpy(array: MetalArray, path: string): Uint8Array {
  const dtype = array.dtype;
  const shape = array.shape;
  const descr = npyDescr(dtype, path);
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pyTuple(shape)}, }`;
  const data = bytesOfArray(array, 'save');
  // Header text ends with '\n'; pad with spaces so the data starts on a 64-byte boundary.
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / ALIGN) * ALIGN;
  let major = 1;
  if (total - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / ALIGN) * ALIGN;
  }
  const headerLen = total - prefix;
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  const text = `${dict}${' '.repeat(headerLen - dict.length - 1)}\n`;
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i);
  out.set(data, total);
  return out;
}
