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
import type { BufferRef } from '../graph/node.js';

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
 * what is live, what unevaluated arrays hold, the largest holders by op, and how to
 * free memory sooner. `isLive` tells the ledger which of its ids the pool still has.
 */
export function allocCollectingGarbage<T>(backend: string, nbytes: number, alloc: () => T, usage: () => PoolUsage, isLive?: (id: number) => boolean): T {
  try {
    return alloc();
  } catch (err) {
    if (!(err instanceof OutOfMemoryError)) throw err;
    // A request larger than the limit itself cannot fit however much the GC frees.
    if (nbytes > usage().memoryLimit || !collectGarbageNow()) throw withAdvice(err, backend, nbytes, usage(), isLive);
    try {
      return alloc();
    } catch (again) {
      if (again instanceof OutOfMemoryError) throw withAdvice(again, backend, nbytes, usage(), isLive);
      throw again;
    }
  }
}

const mib = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;

/** How many ops the out-of-memory message names. */
const TOP_HOLDERS = 5;

function withAdvice(err: OutOfMemoryError, backend: string, nbytes: number, u: PoolUsage, isLive?: (id: number) => boolean): OutOfMemoryError {
  const s = bufferLedger(backend).summarize(isLive);
  const holders = s.byOp
    .slice(0, TOP_HOLDERS)
    .map((h) => `${h.op} ${mib(h.bytes)} (${h.buffers} buffer${h.buffers === 1 ? '' : 's'})`)
    .join(', ');
  return new OutOfMemoryError(
    `${backend}: out of memory allocating ${mib(nbytes)} (${err.message}). ` +
      `Live: ${mib(u.activeBytes)} in ${u.activeBuffers} buffers, after a full garbage collection ` +
      `(so every one is held by a reachable array, an evaluated one or the input of an unevaluated one); ` +
      `of these, ${mib(s.lazyBytes)} are inputs of unevaluated arrays (memory().lazyBytes). ` +
      `Largest holders by op: ${holders || 'none'}. Cached for reuse: ${mib(u.cachedBytes)}. ` +
      `To free memory sooner: dispose() arrays you no longer need, run loop bodies in tidy(), ` +
      `eval() long lazy chains so their intermediates can go, or raise setMemoryLimit().`,
  );
}

/** Live bytes and buffers that results of one op hold (see BufferLedger). */
export interface OpHolding {
  /** The op whose result the buffers hold ('add', 'matmul', 'array (from JS data)', ...). */
  op: string;
  bytes: number;
  buffers: number;
}

/** What a ledger says about a pool's live buffers. */
export interface LedgerSummary {
  /** Bytes of live buffers that unevaluated arrays read (see BufferLedger). */
  lazyBytes: number;
  /** Live bytes per op, largest first. */
  byOp: OpHolding[];
}

/** Buffers the library allocated but no array holds yet (plan intermediates, staging). */
const UNLABELED = '(evaluation in progress)';

/** The native pool's id layout: the low 23 bits index its slot table (native/common/buffer_pool.h). */
const SLOT_MASK = 2 ** 23 - 1;

/**
 * A record of a backend's live buffers for diagnostics: per slot of the native pool's
 * id table, the id, its size, the op whose result it holds, and how many unevaluated
 * nodes read it. It holds numbers and interned strings only, never the buffers, so it
 * keeps nothing alive; a buffer the GC frees leaves a stale record that `summarize`
 * drops (the pool says the id is gone) or a new buffer in the slot overwrites.
 * Updating a record is a few typed-array writes (hot paths: allocation, evaluation).
 */
export class BufferLedger {
  private ids = new Int32Array(1024);
  private bytes = new Float64Array(1024);
  private readers = new Int32Array(1024);
  private madeBy: string[] = [];
  /** One past the highest slot ever recorded. */
  private end = 0;

  /** Records a new buffer (its slot's old record, if any, belonged to a freed one). */
  add(id: number, nbytes: number): void {
    const slot = id & SLOT_MASK;
    if (slot >= this.ids.length) this.grow(slot + 1);
    this.ids[slot] = id;
    this.bytes[slot] = nbytes;
    this.readers[slot] = 0;
    this.madeBy[slot] = UNLABELED;
    if (slot >= this.end) this.end = slot + 1;
  }

  /** Forgets a buffer freed by the library. */
  remove(id: number): void {
    const slot = id & SLOT_MASK;
    if (this.ids[slot] === id) this.ids[slot] = 0;
  }

  /** Names the op whose result the buffer holds (the first name given sticks). */
  label(id: number, op: string): void {
    const slot = id & SLOT_MASK;
    if (this.ids[slot] === id && this.madeBy[slot] === UNLABELED) this.madeBy[slot] = op;
  }

  /** Adds `n` (may be negative) to the unevaluated nodes reading the buffer. */
  addReaders(id: number, n: number): void {
    const slot = id & SLOT_MASK;
    if (this.ids[slot] === id) this.readers[slot] += n;
  }

  /**
   * Live bytes by op and the bytes unevaluated arrays read. `isLive` (the pool's answer
   * for an id) drops records of buffers the GC freed; without it every record counts.
   */
  summarize(isLive?: (id: number) => boolean): LedgerSummary {
    const byOp = new Map<string, OpHolding>();
    let lazyBytes = 0;
    for (let slot = 0; slot < this.end; slot++) {
      const id = this.ids[slot];
      if (id === 0) continue;
      if (isLive !== undefined && !isLive(id)) {
        this.ids[slot] = 0;
        continue;
      }
      const nbytes = this.bytes[slot];
      if (this.readers[slot] > 0) lazyBytes += nbytes;
      const op = this.madeBy[slot];
      const h = byOp.get(op);
      if (h === undefined) byOp.set(op, { op, bytes: nbytes, buffers: 1 });
      else {
        h.bytes += nbytes;
        h.buffers++;
      }
    }
    return { lazyBytes, byOp: [...byOp.values()].sort((a, b) => b.bytes - a.bytes) };
  }

  /** `summarize(isLive).lazyBytes` without the per-op table (memory() calls it; no allocation). */
  lazyBytes(isLive?: (id: number) => boolean): number {
    let lazy = 0;
    for (let slot = 0; slot < this.end; slot++) {
      const id = this.ids[slot];
      if (id === 0 || this.readers[slot] <= 0) continue;
      if (isLive !== undefined && !isLive(id)) {
        this.ids[slot] = 0;
        continue;
      }
      lazy += this.bytes[slot];
    }
    return lazy;
  }

  private grow(min: number): void {
    let n = this.ids.length;
    while (n < min) n *= 2;
    const ids = new Int32Array(n);
    ids.set(this.ids);
    const bytes = new Float64Array(n);
    bytes.set(this.bytes);
    const readers = new Int32Array(n);
    readers.set(this.readers);
    this.ids = ids;
    this.bytes = bytes;
    this.readers = readers;
  }
}

const ledgers = new Map<string, BufferLedger>();

/** The ledger of a backend's pool ('cpu', 'cuda', 'metal'). */
export function bufferLedger(backend: string): BufferLedger {
  let l = ledgers.get(backend);
  if (l === undefined) {
    l = new BufferLedger();
    ledgers.set(backend, l);
  }
  return l;
}

/** The opaque native owner of one pool buffer. */
export type NativeBufferHandle = object & { readonly __nativeBufferHandle?: never };

export class PoolBuffer implements BufferRef {
  holders = 0;
  private freed = false;
  private readonly ledger: BufferLedger;
  constructor(
    readonly backend: string,
    readonly id: number,
    readonly nbytes: number,
    private readonly handle: NativeBufferHandle,
    private readonly free: (handle: NativeBufferHandle) => void,
  ) {
    this.ledger = bufferLedger(backend);
    this.ledger.add(id, nbytes);
  }
  /** Whether the buffer went back to its pool through `release()`. */
  get released(): boolean {
    return this.freed;
  }
  label(op: string): void {
    this.ledger.label(this.id, op);
  }
  addReaders(n: number): void {
    this.ledger.addReaders(this.id, n);
  }
  /** Returns the block to its pool (a second call does nothing). */
  release(): void {
    if (this.freed) return;
    this.freed = true;
    this.ledger.remove(this.id);
    this.free(this.handle);
  }
}
