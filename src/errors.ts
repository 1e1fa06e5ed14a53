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

/** A bad argument that is neither a shape nor a dtype problem (wrong type, NaN size...). */
export class ArgumentError extends MetalArrayError {
  override name = 'ArgumentError';
}

/** A GPU driver call or kernel launch failed; the message names the call, the error and, for a launch, the kernel, grid and block. */
export class GpuError extends MetalArrayError {
  override name = 'GpuError';
}
