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
 * what is live, what unevaluated arrays hold, the largest holders by op, and how to
 * free memory sooner (from the backend's BufferLedger).
 */
export function allocCollectingGarbage<T>(backend: string, nbytes: number, alloc: () => T, usage: () => PoolUsage): T {
  try {
    return alloc();
  } catch (err) {
    if (!(err instanceof OutOfMemoryError)) throw err;
    // A request larger than the limit itself cannot fit however much the GC frees.
    if (nbytes > usage().memoryLimit || !collectGarbageNow()) throw withAdvice(err, backend, nbytes, usage());
    try {
      return alloc();
    } catch (again) {
      if (again instanceof OutOfMemoryError) throw withAdvice(again, backend, nbytes, usage());
      throw again;
    }
  }
}

const mib = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;

/** How many ops the out-of-memory message names. */
const TOP_HOLDERS = 5;

function withAdvice(err: OutOfMemoryError, backend: string, nbytes: number, u: PoolUsage): OutOfMemoryError {
  const s = bufferLedger(backend).summarize();
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

/**
 * A record of a backend's live buffers for diagnostics: per record, the buffer's id,
 * size, the op whose result it holds, and how many unevaluated nodes read it. Each
 * PoolBuffer keeps the index of its record, so updates are a few typed-array writes
 * (hot paths: allocation, building nodes, evaluation). The ledger holds numbers and
 * interned strings only, never the buffers, so it keeps nothing alive. A buffer the GC
 * freed leaves a stale record: `summarize` and `lazyBytes` drop those (the pool says
 * the id is gone), and so does `add` whenever the records outgrow twice the live ones
 * of the last sweep, so their number stays bounded in a loop that never asks.
 */
export class BufferLedger {
  private ids = new Int32Array(1024);
  private bytes = new Float64Array(1024);
  private readers = new Int32Array(1024);
  private madeBy: string[] = [];
  /** Records handed out (live or stale), and the free ones below `end`. */
  private end = 0;
  private free: number[] = [];
  /** Sweep when `end - free.length` passes this. */
  private sweepAt = 4096;
  /** Whether the pool still has an id (set by the backend); without it nothing is swept. */
  isLive: ((id: number) => boolean) | undefined;

  /** Records held, live or stale (tests check that a loop of GC-freed arrays keeps this bounded). */
  get recordCount(): number {
    return this.end - this.free.length;
  }

  /** Records a new buffer; returns its record index. */
  add(id: number, nbytes: number): number {
    if (this.free.length === 0 && this.end >= this.sweepAt && this.isLive !== undefined) {
      this.sweep(this.isLive);
      this.sweepAt = Math.max(4096, 2 * (this.end - this.free.length));
    }
    let rec = this.free.pop();
    if (rec === undefined) {
      rec = this.end++;
      if (rec >= this.ids.length) this.grow(rec + 1);
    }
    this.ids[rec] = id;
    this.bytes[rec] = nbytes;
    this.readers[rec] = 0;
    this.madeBy[rec] = UNLABELED;
    return rec;
  }

  /** Forgets a buffer freed by the library. */
  remove(rec: number, id: number): void {
    if (this.ids[rec] !== id) return;
    this.ids[rec] = 0;
    this.free.push(rec);
  }

  /** Names the op whose result the buffer holds (the first name given sticks). */
  label(rec: number, id: number, op: string): void {
    if (this.ids[rec] === id && this.madeBy[rec] === UNLABELED) this.madeBy[rec] = op;
  }

  /** Adds `n` (may be negative) to the unevaluated nodes reading the buffer. */
  addReaders(rec: number, id: number, n: number): void {
    if (this.ids[rec] === id) this.readers[rec] += n;
  }

  /** Live bytes by op and the bytes unevaluated arrays read (stale records dropped first). */
  summarize(): LedgerSummary {
    if (this.isLive !== undefined) this.sweep(this.isLive);
    const byOp = new Map<string, OpHolding>();
    let lazyBytes = 0;
    for (let rec = 0; rec < this.end; rec++) {
      if (this.ids[rec] === 0) continue;
      const nbytes = this.bytes[rec];
      if (this.readers[rec] > 0) lazyBytes += nbytes;
      const op = this.madeBy[rec];
      const h = byOp.get(op);
      if (h === undefined) byOp.set(op, { op, bytes: nbytes, buffers: 1 });
      else {
        h.bytes += nbytes;
        h.buffers++;
      }
    }
    return { lazyBytes, byOp: [...byOp.values()].sort((a, b) => b.bytes - a.bytes) };
  }

  /** `summarize().lazyBytes` without the per-op table (memory() calls it; no allocation). */
  lazyBytes(): number {
    let lazy = 0;
    for (let rec = 0; rec < this.end; rec++) {
      const id = this.ids[rec];
      if (id === 0 || this.readers[rec] <= 0) continue;
      if (this.isLive !== undefined && !this.isLive(id)) {
        this.ids[rec] = 0;
        this.free.push(rec);
        continue;
      }
      lazy += this.bytes[rec];
    }
    return lazy;
  }

  /** Drops the records of buffers the pool no longer has (freed by the GC). */
  private sweep(isLive: (id: number) => boolean): void {
    for (let rec = 0; rec < this.end; rec++) {
      const id = this.ids[rec];
      if (id !== 0 && !isLive(id)) {
        this.ids[rec] = 0;
        this.free.push(rec);
      }
    }
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
  private readonly record: number;
  constructor(
    readonly backend: string,
    readonly id: number,
    readonly nbytes: number,
    private readonly handle: NativeBufferHandle,
    private readonly free: (handle: NativeBufferHandle) => void,
  ) {
    this.ledger = bufferLedger(backend);
    this.record = this.ledger.add(id, nbytes);
  }
  /** Whether the buffer went back to its pool through `release()`. */
  get released(): boolean {
    return this.freed;
  }
  label(op: string): void {
    this.ledger.label(this.record, this.id, op);
  }
  addReaders(n: number): void {
    this.ledger.addReaders(this.record, this.id, n);
  }
  /** Returns the block to its pool (a second call does nothing). */
  release(): void {
    if (this.freed) return;
    this.freed = true;
    this.ledger.remove(this.record, this.id);
    this.free(this.handle);
  }
}
