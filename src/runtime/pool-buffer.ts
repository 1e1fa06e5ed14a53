/** A buffer of a backend's native pool, named by its id; released once. */
import type { BufferRef } from '../graph/node.js';

export class PoolBuffer implements BufferRef {
  holders = 0;
  private freed = false;
  constructor(
    readonly backend: string,
    readonly id: number,
    readonly nbytes: number,
    private readonly free: (id: number) => void,
  ) {}
  /** Returns the block to its pool (a second call does nothing). */
  release(): void {
    if (this.freed) return;
    this.freed = true;
    this.free(this.id);
  }
}
