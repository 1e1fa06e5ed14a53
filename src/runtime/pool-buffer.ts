/**
 * A buffer of a backend's native pool, named by its id and owned by a native handle.
 *
 * The handle (an opaque Node-API external, native/common/buffer_handle.h) frees the
 * buffer inside the garbage collection that finds it unreachable, so memory that user
 * code drops without `dispose()` comes back even in a synchronous loop. `release()`
 * frees it sooner; the handle then remembers it, so nothing is freed twice.
 */
import type { BufferRef } from '../graph/node.js';

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
