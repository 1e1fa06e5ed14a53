/**
 * The library's typed errors. Every layer throws these (never bare `Error`), so users
 * can `catch (e) { if (e instanceof ShapeError) ... }`. Messages name the op and the
 * shapes or dtypes involved.
 */

/** Base class of every error the library throws on purpose. */
export class MetalArrayError extends Error {
  override name = 'MetalArrayError';
}

/** Shapes that do not broadcast, a bad axis, a bad reshape or slice. */
export class ShapeError extends MetalArrayError {
  override name = 'ShapeError';
}

/** A dtype an op does not accept, or an unknown dtype name. */
export class DTypeError extends MetalArrayError {
  override name = 'DTypeError';
}

/** A backend that was asked for but cannot run here; the message says why. */
export class BackendUnavailableError extends MetalArrayError {
  override name = 'BackendUnavailableError';
}

/** Arrays of different backends in one op, or a backend mismatch in a plan. */
export class BackendMismatchError extends MetalArrayError {
  override name = 'BackendMismatchError';
}

/** A kernel failed to compile; `source` and `log` say what and why. */
export class CompileError extends MetalArrayError {
  override name = 'CompileError';
  /** The kernel source that failed. */
  readonly source: string;
  /** The compiler's output. */
  readonly log: string;
  constructor(message: string, source: string, log: string) {
    super(`${message}\n${log}`);
    this.source = source;
    this.log = log;
  }
}

/** An array used after `dispose()`. */
export class DisposedError extends MetalArrayError {
  override name = 'DisposedError';
}

/** An allocation beyond the memory limit or beyond what the device has. */
export class OutOfMemoryError extends MetalArrayError {
  override name = 'OutOfMemoryError';
}

/**
 * A JS number, bigint or list element that does not fit the integer dtype it is
 * converted to (out of range, NaN or ±Infinity), as NumPy 2 raises for Python ints.
 * The message names the value and the dtype. `astype` saturates instead.
 */
export class OverflowError extends MetalArrayError {
  override name = 'OverflowError';
}

/** A bad argument that is neither a shape nor a dtype problem (wrong type, NaN size...). */
export class ArgumentError extends MetalArrayError {
  override name = 'ArgumentError';
}

/** A GPU driver call or kernel launch failed; the message names the call, the error and, for a launch, the kernel, grid and block. */
export class GpuError extends MetalArrayError {
  override name = 'GpuError';
}

/**
 * An index outside its axis in a checked index mode (`mode: 'raise'` of a gather or a
 * scatter); the message names the index, the axis and its size.
 */
export class IndexError extends MetalArrayError {
  override name = 'IndexError';
}

/**
 * A file that cannot be read or written as asked: it cannot be opened or written
 * (`cause` holds Node's error), it is malformed or truncated (`.npy`, `.npz`,
 * safetensors), or its format cannot hold the dtype. `path` names the file.
 */
export class FileError extends MetalArrayError {
  override name = 'FileError';
  /** The file the problem is in. */
  readonly path: string;
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`${path}: ${problem}`, options);
    this.path = path;
  }
}

/**
 * A short description of any value for an error message. It never throws: junk
 * arguments (symbols, bigints, objects without a prototype, cyclic arrays) must give
 * the typed error the caller meant, not a TypeError from building its message.
 */
export function formatValue(x: unknown, depth = 0): string {
  try {
    if (typeof x === 'string') return JSON.stringify(x.length > 60 ? `${x.slice(0, 60)}...` : x);
    if (typeof x === 'bigint') return `${x.toString()}n`;
    if (typeof x === 'symbol') return x.toString();
    if (typeof x === 'function') return 'a function';
    if (x === null || typeof x !== 'object') return String(x);
    if (Array.isArray(x)) {
      if (depth > 2) return '[...]';
      const shown = x.slice(0, 8).map((v) => formatValue(v, depth + 1));
      return `[${shown.join(', ')}${x.length > 8 ? ', ...' : ''}]`;
    }
    const ctor = (x as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof ctor === 'string' && ctor !== 'Object' ? `a ${ctor}` : 'an object';
  } catch {
    return 'an unprintable value';
  }
}

/**
 * A gradient (reverse or forward mode) was asked through an op that has no rule for it
 * (`at().multiply` scatters, a custom kernel outside `customVjp`, forward mode through a
 * `customVjp` function); the message names the op and how to get around it.
 */
export class NotDifferentiableError extends MetalArrayError {
  override name = 'NotDifferentiableError';
}

/**
 * A transformation (vmap) met something it cannot map: a node kind without a batching
 * rule, or a mapped value that the function evaluated or read while being traced.
 */
export class BatchingError extends MetalArrayError {
  override name = 'BatchingError';
}

/**
 * A distributed collective failed (src/distributed): the engine (MPI, NCCL) reported an
 * error, or the group can no longer be used after an earlier timeout.
 */
export class DistributedError extends MetalArrayError {
  override name = 'DistributedError';
}

/**
 * A collective did not complete within the group's timeout (`init({ timeoutMs })`,
 * `METALARRAY_DISTRIBUTED_TIMEOUT_MS`): a peer died, hangs, or never made the call. The
 * group is unusable afterwards (the engine may still own the buffers); exit the process.
 */
export class CollectiveTimeoutError extends DistributedError {
  override name = 'CollectiveTimeoutError';
}

/**
 * The ranks of a group made different collective calls at the same point (another op,
 * dtype, shape or root); the message lists what each rank called. Raised on every rank.
 */
export class CollectiveMismatchError extends DistributedError {
  override name = 'CollectiveMismatchError';
}

/**
 * A function traced by `compile` read a value that depends on its inputs (`item`,
 * `toTypedArray`, `tolist`, `toString`, `eval`, a host-computed op such as
 * `random.split` of an argument key, or auto-evaluation of a very deep graph); the
 * message names the compiled function and the call. Compiled functions must stay lazy.
 */
export class CompileTraceError extends MetalArrayError {
  override name = 'CompileTraceError';
}

/**
 * A linear-algebra routine failed on its input as NumPy's `LinAlgError` does: a
 * singular matrix in `inv`/`solve`, a matrix that is not positive definite in
 * `cholesky`, an iteration that did not converge. `batchIndex` names the matrix of a
 * batch (its index in the flattened leading axes; null for a single matrix).
 */
export class LinAlgError extends MetalArrayError {
  override name = 'LinAlgError';
  /** The failing matrix's index in the flattened leading (batch) axes; null for a single matrix. */
  readonly batchIndex: number | null;
  constructor(message: string, batchIndex: number | null = null) {
    super(message);
    this.batchIndex = batchIndex;
  }
}
