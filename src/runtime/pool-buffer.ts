/**
 * A buffer of a backend's native pool, named by its id and owned by a native handle.
 *
 * The handle (an opaque Node-API external, native/common/buffer_handle.h) frees the
 * buffer inside the garbage collection that finds it unreachable, so memory that user
 * code drops without `dispose()` comes back even in a synchronous loop. `release()`
 * frees it sooner; the handle then remembers it, so nothing is freed twice.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OutOfMemoryError } from '../errors.js';
import type { BufferRef } from '../core/node.js';

let fullGc: (() => void) | null | undefined;

/**
 * Runs a full garbage collection now, synchronously; false where V8 refuses. Buffers
 * whose arrays are unreachable come back to the pool during it (their finalizers run
 * inside the GC).
 */
export function collectGarbageNow(): boolean {
  if (fullGc === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    try {
      if (exposed !== undefined) fullGc = exposed;
      else {
        // Exposes gc() to a fresh context only; the flag changes nothing else.
        setFlagsFromString('--expose-gc');
        fullGc = runInNewContext('gc') as () => void;
      }
    } catch {
      fullGc = null;
    }
  }
  if (fullGc === null) return false;
  fullGc();
  return true;
}

/** What a pool says about itself in an out-of-memory message. */
export interface PoolUsage {
  activeBytes: number;
  activeBuffers: number;
  cachedBytes: number;
  /** The pool's memory limit (Infinity: none). */
  memoryLimit: number;
}

const MiB = 2 ** 20;

/**
 * Allocates with one retry after a full GC: V8 may not have collected unreachable arrays
 * yet when the pool hits its limit. A second failure throws OutOfMemoryError saying
 * what is live and how to free memory sooner.
 */
export function allocCollectingGarbage<T>(op: string, nbytes: number, alloc: () => T, usage: () => PoolUsage): T {
  try {
    return alloc();
  } catch (err) {
    if (!(err instanceof OutOfMemoryError)) throw err;
    // A request larger than the limit itself cannot fit however much the GC frees.
    if (nbytes > usage().memoryLimit || !collectGarbageNow()) throw withAdvice(err, op, nbytes, usage());
    try {
      return alloc();
    } catch (again) {
      if (again instanceof OutOfMemoryError) throw withAdvice(again, op, nbytes, usage());
      throw again;
    }
  }
}

function withAdvice(err: OutOfMemoryError, op: string, nbytes: number, u: PoolUsage): OutOfMemoryError {
  const mib = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;
  return new OutOfMemoryError(
    `${op}: out of memory allocating ${mib(nbytes)} (${err.message}). ` +
      `Live: ${mib(u.activeBytes)} in ${u.activeBuffers} buffers, after a full garbage collection ` +
      `(so every one is held by a reachable array, an evaluated one or the input of an unevaluated one); ` +
      `cached for reuse: ${mib(u.cachedBytes)}. To free memory sooner: dispose() arrays you no longer need, ` +
      `run loop bodies in tidy(), eval() long lazy chains so their intermediates can go, or raise setMemoryLimit().`,
  );
}

/** The opaque native owner of one pool buffer. */
export type NativeBufferHandle = object & { readonly __nativeBufferHandle?: never };

export class PoolBuffer implements BufferRef {
  holders = 0;
  private freed = false;
  constructor(
    readonly backend: string,
    readonly id: number,
    readonly nbytes: number,
    private readonly handle: NativeBufferHandle,
    private readonly free: (handle: NativeBufferHandle) => void,
  ) {}
  /** Whether the buffer went back to its pool through `release()`. */
  get released(): boolean {
    return this.freed;
  }
  /** Returns the block to its pool (a second call does nothing). */
  release(): void {
    if (this.freed) return;
    this.freed = true;
    this.free(this.handle);
  }
}
