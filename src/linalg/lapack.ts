/**
 * The bridge to the run-time LAPACK (native/cpu/lapack.h): loading it, checking and
 * promoting matrix inputs, running one batched routine over pool buffers, and turning
 * LAPACK's INFO codes into `LinAlgError`s.
 *
 * A routine runs when its function is called: its inputs are evaluated (made dense
 * leaves) and its outputs are fresh leaves, so everything after it is lazy and fuses as
 * usual. The outputs carry differentiation rules (see `withRules`).
 */
import { checkArgCount } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import { leafNode } from '../core/build.js';
import { DTYPES, type DType } from '../core/dtype.js';
import type { BufferRef } from '../core/node.js';
import { ArgumentError, BackendUnavailableError, DTypeError, LinAlgError, ShapeError, formatValue } from '../errors.js';
import { array, type NestedArray } from '../array/creation.js';
import { loadNative } from '../runtime/native.js';
import { backendFor } from '../runtime/registry.js';
import { attachCustomRule } from '../transforms/autodiff.js';
import '../ops/methods.js';

/** What the linalg functions take: an array, or nested JS lists (read as `ma.array` reads them). */
export type MatrixLike = MetalArray | NestedArray;

/** `a` as an array (lists through `ma.array`). */
export function toArray(a: MatrixLike, op: string): MetalArray {
  if (a instanceof MetalArray) return a;
  if (!Array.isArray(a)) throw new ArgumentError(`linalg.${op}: expected an array or nested lists, got ${formatValue(a)}`);
  return array(a);
}

/** The dtypes LAPACK runs in. */
export type LinalgDType = 'float32' | 'float64';

/** Kernel indices, in the order of `LapackKernel` in native/cpu/lapack.h. */
export const K = { lu: 0, inv: 1, solve: 2, det: 3, cholesky: 4, trsolve: 5, qr: 6, svd: 7, eigh: 8, eig: 9, lstsq: 10 } as const;

let library: { path: string; float32: number[]; float64: number[] } | Error | undefined;

/** What to install when no LAPACK loads. */
const INSTALL_HINT =
  'install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread; it ships LAPACK) or reference LAPACK (liblapack3), or set METALARRAY_LAPACK_LIBRARY to a LAPACK shared library';

function lapack(op: string): { path: string; float32: number[]; float64: number[] } {
  if (library === undefined) {
    const native = loadNative();
    if (native === undefined) library = new Error('the native addon is not built');
    else {
      try {
        library = native.loadLapack(process.env.METALARRAY_LAPACK_LIBRARY ?? '');
      } catch (err) {
        library = err as Error;
      }
    }
  }
  if (library instanceof Error) throw new BackendUnavailableError(`linalg.${op}: no LAPACK library could be loaded: ${library.message}; ${INSTALL_HINT}`);
  return library;
}

/**
 * The LAPACK library in use, as dlopen was given it (loading it on first use; set
 * `METALARRAY_LAPACK_LIBRARY` to choose one). Throws `BackendUnavailableError` when none loads.
 *
 * @example
 * ```ts
 * console.log(typeof ma.linalg.lapackLibraryPath()); // string
 * ```
 */
export function lapackLibraryPath(): string {
  checkArgCount('linalg.lapackLibraryPath', arguments.length, 0, 'linalg.lapackLibraryPath()');
  return lapack('lapackLibraryPath').path;
}

/**
 * `a` as a floating array LAPACK can take, as NumPy promotes: float64 stays, float32
 * stays, float16/bfloat16 compute in float32, integers and bool in float64.
 */
export function asLinalgFloat(op: string, a: MatrixLike): MetalArray<LinalgDType> {
  const x = toArray(a, op);
  const kind = DTYPES[x.dtype].kind;
  if (x.dtype === 'float64' || x.dtype === 'float32') return x as MetalArray<LinalgDType>;
  if (kind === 'float') return x.astype('float32');
  if (kind === 'int' || kind === 'uint' || kind === 'bool') return x.astype('float64');
  throw new DTypeError(`linalg.${op}: unsupported dtype ${x.dtype}`);
}

/** Checks that `a` is a stack of matrices ([..., M, N], rank ≥ 2). */
export function checkMatrix(op: string, a: MetalArray, name = 'a'): void {
  if (a.ndim < 2) throw new ShapeError(`linalg.${op}: ${name} must be a matrix or a stack of them (at least 2 dims), got shape [${a.shape.join(', ')}]`);
}

/** Checks that `a` is a stack of square matrices, naming both dims if not. */
export function checkSquare(op: string, a: MetalArray, name = 'a'): number {
  checkMatrix(op, a, name);
  const m = a.shape[a.ndim - 2];
  const n = a.shape[a.ndim - 1];
  if (m !== n) throw new ShapeError(`linalg.${op}: ${name} must be square in its last two dims, got ${m} x ${n} (shape [${a.shape.join(', ')}])`);
  return n;
}

/** The number of matrices in a stack of shape [..., M, N]. */
export function batchCount(shape: readonly number[], core = 2): number {
  let b = 1;
  for (let i = 0; i < shape.length - core; i++) b *= shape[i];
  return b;
}

/** One output of a routine. */
export interface RoutineOutput {
  shape: readonly number[];
  dtype: DType;
}

/** The cpu thread pool's size, read once. */
let poolThreads: number | undefined;

/** Matrices at most this size split a batch over the thread pool; larger ones let LAPACK thread itself. */
const SPLIT_BATCH_MAX_DIM = 96;

/**
 * Runs LAPACK routine `kernel` on `inputs` (same float dtype) over `batches` matrices
 * of dimension `dim` and returns fresh outputs. Args after the first two words are
 * `words` (see native/cpu/lapack.h).
 */
export function runRoutine(
  op: string,
  kernel: number,
  dtype: LinalgDType,
  inputs: readonly MetalArray[],
  outputs: readonly RoutineOutput[],
  words: readonly (number | bigint)[],
  batches: number,
  dim: number,
): MetalArray[] {
  const id = lapack(op)[dtype][kernel];
  const home = inputs[0]?.backend ?? 'cpu';
  if (home !== 'cpu') {
    // LAPACK runs on the host: a GPU array goes through a cpu copy and its results come
    // back (on Metal the host reads the unified memory; on CUDA it is a transfer).
    const local = inputs.map((x) => x.to('cpu'));
    try {
      const results = runRoutine(op, kernel, dtype, local, outputs, words, batches, dim);
      const moved = results.map((r) => r.to(home));
      for (const r of results) r.dispose();
      return moved;
    } finally {
      for (const x of local) x.dispose();
    }
  }
  const backend = backendFor('cpu');
  const held: { node: { buffer: unknown }; release(): void }[] = [];
  try {
    for (const x of inputs) held.push(x.denseLeaf(`linalg.${op}`));
    const results = outputs.map((o) => {
      const size = o.shape.reduce((p, d) => p * d, 1);
      const buffer: BufferRef = backend.alloc(size * DTYPES[o.dtype].bytes);
      return MetalArray.fromNode(leafNode(buffer, o.shape, o.dtype));
    });
    if (batches > 0) {
      const bufIds = [...held.map((h) => (h.node.buffer as BufferRef).id), ...results.map((r) => (r.liveNode(`linalg.${op}`).buffer as BufferRef).id)];
      poolThreads ??= backend.deviceInfo?.().maxThreadsPerGroup ?? 1; // deviceInfo() is slow: read once
      const threads = poolThreads;
      const grain = dim <= SPLIT_BATCH_MAX_DIM ? Math.max(1, Math.ceil(batches / Math.max(1, threads))) : batches;
      const commands = Int32Array.from([id, 0, bufIds.length, ...bufIds]);
      const args = BigInt64Array.from([BigInt(batches), BigInt(grain), ...words.map((w) => BigInt(w))]);
      backend.run(commands, args);
    }
    return results;
  } finally {
    for (const h of held) h.release();
  }
}

/** A double's bits as an int64 word (lstsq's rcond). */
export function doubleBits(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x, true);
  return view.getBigInt64(0, true);
}

/** The batch index as NumPy-style coordinates of the leading axes, for messages. */
function batchPlace(batchShape: readonly number[], b: number): string {
  if (batchShape.length === 0) return '';
  const idx: number[] = [];
  let rest = b;
  for (let i = batchShape.length - 1; i >= 0; i--) {
    idx.unshift(rest % batchShape[i]);
    rest = Math.floor(rest / batchShape[i]);
  }
  return ` (batch element ${b}, index [${idx.join(', ')}])`;
}

/**
 * Reads LAPACK's INFO per matrix (an int32 array, disposed here) and throws a
 * `LinAlgError` for the first failing matrix, with `describe(info)` as the reason.
 */
export function checkInfo(op: string, info: MetalArray, batchShape: readonly number[], describe: (code: number) => string): void {
  const codes = info.toTypedArray() as Int32Array;
  info.dispose();
  for (let b = 0; b < codes.length; b++) {
    const code = codes[b];
    if (code === 0) continue;
    if (code === -1000) throw new LinAlgError(`linalg.${op}: out of memory for LAPACK's workspace${batchPlace(batchShape, b)}`, batchShape.length ? b : null);
    if (code < 0) throw new Error(`internal: linalg.${op}: LAPACK rejected argument ${-code}`);
    throw new LinAlgError(`linalg.${op}: ${describe(code)}${batchPlace(batchShape, b)}`, batchShape.length ? b : null);
  }
}

/** The differentiation rule of one output of a routine (JAX's rules; see gradients.ts). */
export interface OutputRule {
  /** Cotangents of the inputs from this output's cotangent. */
  vjp(cotangent: MetalArray): readonly (MetalArray | null)[];
  /** This output's tangent from the inputs' tangents (null: zero). */
  jvp(tangents: readonly (MetalArray | null)[]): MetalArray;
}

/**
 * Attaches differentiation rules to fresh routine outputs: the reverse and forward walks
 * of `grad`/`jvp` then step from `output` straight to `inputs` (the arrays the user
 * passed, before promotion). A rule per output is exact: a VJP is linear in the output
 * cotangents, so the walks' sum over outputs is the joint VJP.
 */
export function withRules(op: string, output: MetalArray, inputs: readonly MetalArray[], rule: OutputRule): MetalArray {
  if (DTYPES[output.dtype].kind !== 'float') return output;
  attachCustomRule([output.liveNode(`linalg.${op}`)], {
    name: `linalg.${op}`,
    args: inputs.map((x) => x.liveNode(`linalg.${op}`)),
    vjp: ([ct]) => rule.vjp(ct),
    jvp: (ts) => [rule.jvp(ts)],
  });
  return output;
}

/** Rejects a non-finite or negative tolerance-like option. */
export function checkNumber(op: string, name: string, v: unknown, { allowNull = true } = {}): number | null {
  if ((v === undefined || v === null) && allowNull) return null;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ArgumentError(`linalg.${op}: ${name} must be a number, got ${formatValue(v)}`);
  return v;
}
