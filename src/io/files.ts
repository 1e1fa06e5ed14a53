/**
 * The public file functions: `save`/`savez`/`saveSafetensors` write, `load` reads any
 * of the three formats (it looks at the file's first bytes, as `np.load` does), and
 * `loadSafetensors` also returns the metadata.
 *
 * Every save replaces its file atomically (a flushed temporary renamed over the
 * target): a crash, a kill or a full disk leaves the old file or the complete new one.
 */
import { checkArgCount } from '../core/arguments.js';
import { readFileSync } from 'node:fs';
import { MetalArray } from '../array/array.js';
import { ArgumentError, FileError } from '../errors.js';
import { decodeNpy, encodeNpy } from './npy.js';
import { type SafetensorsContents, decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { disposeAll, setEntry } from './layout.js';
import { readZip, writeZip } from './zip.js';
import { writeFileAtomic } from './atomic.js';

export type { SafetensorsContents } from './safetensors.js';

function checkPath(op: string, path: unknown): string {
  if (typeof path !== 'string' || path.length === 0)
    throw new ArgumentError(`${op}: path must be a non-empty string, got ${path === null ? 'null' : typeof path}`);
  return path;
}

function checkArray(op: string, what: string, a: unknown): MetalArray {
  if (!(a instanceof MetalArray)) throw new ArgumentError(`${op}: ${what} must be a MetalArray, got ${a === null ? 'null' : typeof a}`);
  a.liveNode(op); // DisposedError for a disposed array
  return a;
}

function checkArrays(op: string, arrays: unknown): Record<string, MetalArray> {
  if (typeof arrays !== 'object' || arrays === null || Array.isArray(arrays) || arrays instanceof MetalArray) {
    throw new ArgumentError(`${op}: expected an object mapping names to arrays, e.g. { weight: w }`);
  }
  for (const [name, a] of Object.entries(arrays)) {
    if (name.length === 0) throw new ArgumentError(`${op}: array names must be non-empty`);
    checkArray(op, `'${name}'`, a);
  }
  return arrays as Record<string, MetalArray>;
}

function withExtension(path: string, ext: string): string {
  return path.endsWith(ext) ? path : `${path}${ext}`;
}

function readWhole(path: string): Uint8Array {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new FileError(path, `cannot read the file: ${(err as Error).message}`, { cause: err });
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Writes one array to a NumPy `.npy` file (little-endian, C order; a view is written as
 * its logical contents). Like `np.save`, `.npy` is appended to `path` when missing.
 * bfloat16 cannot be written (NumPy has no such type): a `FileError` says so.
 *
 * @param path - the file to write (created or replaced atomically: see `writeFileAtomic`)
 * @param array - the array to write; it is evaluated first
 * @returns the path written (with the extension)
 * @throws ArgumentError for a bad path or a non-array; DisposedError; FileError for bfloat16 or a failed write (full disk, no permission), the old file kept
 *
 * @example
 * ```ts
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * const path = ma.save(join(tmpdir(), 'example'), ma.arange(3)); // np.load reads it
 * console.log(path.endsWith('example.npy')); // true
 * ```
 */
export function save(path: string, array: MetalArray): string {
  checkArgCount('save', arguments.length, 2, 'save(path, array)');
  const file = withExtension(checkPath('save', path), '.npy');
  const a = checkArray('save', 'array', array);
  writeFileAtomic(file, encodeNpy(a, file));
  return file;
}

/**
 * Writes named arrays to an uncompressed NumPy `.npz` archive (a zip of `.npy` files,
 * `<name>.npy` each), readable by `np.load`. `.npz` is appended to `path` when missing.
 *
 * @param path - the file to write (created or replaced atomically: see `writeFileAtomic`)
 * @param arrays - the arrays by name, e.g. `{ weight: w, bias: b }`
 * @returns the path written (with the extension)
 * @throws ArgumentError for bad arguments; FileError for bfloat16 arrays or a failed write, the old file kept
 *
 * @example
 * ```ts
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * const path = ma.savez(join(tmpdir(), 'example'), { w: ma.ones([2, 2]), b: ma.zeros([2]) });
 * console.log(Object.keys(ma.load(path)).sort()); // [ 'b', 'w' ]
 * ```
 */
export function savez(path: string, arrays: Readonly<Record<string, MetalArray>>): string {
  checkArgCount('savez', arguments.length, 2, 'savez(path, arrays)');
  const file = withExtension(checkPath('savez', path), '.npz');
  const named = checkArrays('savez', arrays);
  const entries = Object.entries(named).map(([name, a]) => ({ name: `${name}.npy`, data: encodeNpy(a, `${file} (array '${name}')`) }));
  writeFileAtomic(file, writeZip(entries, file));
  return file;
}

/**
 * Writes named arrays (every dtype, bfloat16 included) and optional string metadata
 * to a safetensors file. `.safetensors` is appended to `path` when missing.
 *
 * @param path - the file to write (created or replaced atomically: see `writeFileAtomic`)
 * @param arrays - the tensors by name, written in this order
 * @param metadata - the `__metadata__` string map (omitted from the file when empty)
 * @returns the path written (with the extension)
 * @throws ArgumentError for bad arguments; FileError for non-string metadata or a failed write, the old file kept
 *
 * @example
 * ```ts
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * const path = join(tmpdir(), 'example.safetensors');
 * ma.saveSafetensors(path, { w: ma.ones([2], 'bfloat16') }, { step: '10' });
 * console.log(ma.loadSafetensors(path).metadata); // { step: '10' }
 * ```
 */
export function saveSafetensors(path: string, arrays: Readonly<Record<string, MetalArray>>, metadata?: Readonly<Record<string, string>>): string {
  checkArgCount('saveSafetensors', arguments.length, 3, 'saveSafetensors(path, arrays, metadata)');
  const file = withExtension(checkPath('saveSafetensors', path), '.safetensors');
  const named = checkArrays('saveSafetensors', arrays);
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
    throw new ArgumentError('saveSafetensors: metadata must be an object of strings');
  }
  writeFileAtomic(file, encodeSafetensors(named, metadata, file));
  return file;
}

/**
 * Reads a safetensors file: the tensors by name and the `__metadata__` map.
 *
 * @param path - the file to read
 * @throws FileError naming the file and the problem for a malformed file
 *
 * @example
 * ```ts
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * const path = join(tmpdir(), 'example.safetensors');
 * ma.saveSafetensors(path, { w: ma.ones([2], 'bfloat16') });
 * const { arrays } = ma.loadSafetensors(path);
 * console.log(arrays.w.dtype); // bfloat16
 * ```
 */
export function loadSafetensors(path: string): SafetensorsContents {
  checkArgCount('loadSafetensors', arguments.length, 1, 'loadSafetensors(path)');
  const file = checkPath('loadSafetensors', path);
  return decodeSafetensors(readWhole(file), file);
}

function decodeNpz(bytes: Uint8Array, path: string): Record<string, MetalArray> {
  const out: Record<string, MetalArray> = {};
  try {
    for (const e of readZip(bytes, path)) {
      const name = e.name.endsWith('.npy') ? e.name.slice(0, -4) : e.name;
      setEntry(out, name, decodeNpy(e.data, `${path} (entry '${e.name}')`));
    }
  } catch (err) {
    disposeAll(out);
    throw err;
  }
  return out;
}

/**
 * Reads a `.npy`, `.npz` or safetensors file, recognised by its first bytes (as
 * `np.load` does), whatever its extension. A `.npy` file gives one array; `.npz` and
 * safetensors give the arrays by name (use `loadSafetensors` for the metadata too).
 * The TypeScript return type follows the extension, so a `.npy` name over an archive
 * (or the reverse) is a `FileError`.
 * Little- and big-endian data, C and Fortran order, 0-d and empty arrays are read;
 * the result is always a contiguous array.
 *
 * @param path - the file to read
 * @throws FileError naming the file and the problem for a malformed file or a
 *   dtype the library lacks (complex, strings, structured), or a file that cannot be
 *   opened (Node's error as `cause`)
 *
 * @example
 * ```ts
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * const path = ma.save(join(tmpdir(), 'example'), ma.arange(3));
 * console.log(ma.load(path).toString()); // array([0, 1, 2])
 * ```
 */
export function load(path: `${string}.npy`): MetalArray;
export function load(path: `${string}.npz` | `${string}.safetensors`): Record<string, MetalArray>;
export function load(path: string): MetalArray | Record<string, MetalArray>;
export function load(path: string): MetalArray | Record<string, MetalArray> {
  checkArgCount('load', arguments.length, 1, 'load(path)');
  const file = checkPath('load', path);
  const bytes = readWhole(file);
  let kind: 'npy' | 'npz' | 'safetensors';
  if (bytes.length >= 6 && bytes[0] === 0x93 && String.fromCharCode(...bytes.subarray(1, 6)) === 'NUMPY') kind = 'npy';
  else if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5)) kind = 'npz';
  else if (bytes.length >= 9 && bytes[8] === 0x7b) kind = 'safetensors';
  else throw new FileError(file, 'not a .npy, .npz or safetensors file (unrecognised first bytes)');
  // The TypeScript return type follows the extension, so the contents must agree with it.
  const lower = file.toLowerCase();
  const claimed = lower.endsWith('.npy') ? 'npy' : lower.endsWith('.npz') ? 'npz' : lower.endsWith('.safetensors') ? 'safetensors' : undefined;
  if (claimed !== undefined && (claimed === 'npy') !== (kind === 'npy')) {
    throw new FileError(
      file,
      `the name says .${claimed} but the file holds ${kind === 'npy' ? 'a .npy array' : kind === 'npz' ? 'a zip (.npz) archive' : 'safetensors'}`,
    );
  }
  if (kind === 'npy') return decodeNpy(bytes, file);
  if (kind === 'npz') return decodeNpz(bytes, file);
  return decodeSafetensors(bytes, file).arrays;
}
