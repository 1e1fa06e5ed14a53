/**
 * The CPU backend: C kernels compiled by the system compiler, loaded with dlopen and
 * run on the addon's thread pool over buffers from the native pool.
 */
import { type NativeBufferHandle, PoolBuffer, allocCollectingGarbage, bufferLedger } from '../pool-buffer.js';
import { renderCKernel } from '../../codegen/c.js';
import { C_PRELUDE } from '../../codegen/c-prelude.js';
import type { KernelIR } from '../../codegen/ir.js';
import { CompileError, OutOfMemoryError, ArgumentError, MetalArrayError } from '../../errors.js';
import { counters, debugLevel, debugLog } from '../../core/metrics.js';
import type { DType } from '../../core/dtype.js';
import type { BufferRef } from '../../core/node.js';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { Backend, DeviceInfo, KernelSource, MemoryStats, PreparedReplay } from '../backend.js';
import { type NativeAddon, VIEWS_UNPIN_IN_GC } from '../native.js';
import { markLoaded, readEntry, verifyEntry } from '../kernel-cache.js';
import { cachedKernel, compileBatch, compileMode, FULL_OPT, kernelCacheDirs, kernelName, upgradeCached } from './compiler.js';
import { startQueuedProcesses } from './background.js';
import { TCC_BUILDER_PREFIX } from './tcc.js';

/** How often pending background builds are checked for, at most. */
const POLL_MS = 20;
/** A background build not done by then has failed (its compiler has its own 120 s limit). */
const FULL_BUILD_GIVE_UP_MS = 180_000;

/** Turns the addon's coded errors into the library's typed errors. */
export function fromNativeError(err: unknown): Error {
  if (!(err instanceof Error)) return new MetalArrayError(String(err));
  const code = (err as Error & { code?: string }).code;
  if (code === 'ERR_MA_OOM') return new OutOfMemoryError(err.message);
  if (code === 'ERR_MA_BAD_ARGUMENT' || code === 'ERR_MA_BAD_BUFFER') return new ArgumentError(err.message);
  if (code === 'ERR_MA_DLOPEN' || code === 'ERR_MA_KERNEL') return new MetalArrayError(err.message);
  return err;
}

/** Calls into the addon, turning its coded errors into typed ones. */
function native<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNativeError(err);
  }
}

/** Whether the common pool still has buffer `id` (the buffer ledger's sweep, pool-buffer.ts). */
export function poolHasBuffer(addon: NativeAddon, id: number): boolean {
  try {
    addon.byteLength(id);
    return true;
  } catch {
    return false; // freed (by the GC): the pool rejects the stale id
  }
}

/** float32 lanes of the widest vector unit the kernels are compiled for (-march=native). */
function cpuSimdWidth(): number {
  if (process.arch === 'arm64') return 4; // NEON
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    return 4; // no /proc (macOS on x86): SSE is the floor
  }
  const has = (f: string): boolean => new RegExp(`\\b${f}\\b`).test(flags);
  return has('avx512f') ? 16 : has('avx') ? 8 : 4;
}

/** The pool's largest block (native/common/size_classes.h, kMaxBlockBytes). */
const POOL_MAX_BLOCK = 2 ** 48;

/** The CPU backend over the native addon. */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  private readonly kernelIds = new Map<string, number>();
  private readonly freeBuffer = (handle: NativeBufferHandle): void => this.native.releaseOwned(handle);
  private viewsAllowed = true;
  private blas: { path: string; gemmF32: number; gemmF64: number } | { reason: string } | undefined;

  constructor(private readonly native: NativeAddon) {
    bufferLedger('cpu').isLive = (id) => poolHasBuffer(native, id);
  }

  /** Loads the system BLAS on first use (METALARRAY_BLAS: 'off', or a library path). */
  private blasLibrary(): { path: string; gemmF32: number; gemmF64: number } | { reason: string } {
    if (this.blas === undefined) {
      const request = process.env.METALARRAY_BLAS ?? '';
      if (request === 'off') {
        this.blas = { reason: 'disabled by METALARRAY_BLAS=off' };
      } else {
        try {
          this.blas = this.native.loadBlas(request);
          if (debugLevel >= 1) debugLog(`BLAS: ${this.blas.path}`);
        } catch (err) {
          this.blas = { reason: (err as Error).message };
        }
      }
    }
    return this.blas;
  }

  libraryGemm(dtype: DType): number | undefined {
    const blas = this.blasLibrary();
    if (!('path' in blas)) return undefined;
    return dtype === 'float32' ? blas.gemmF32 : dtype === 'float64' ? blas.gemmF64 : undefined;
  }

  libraryName(): string | null {
    const blas = this.blasLibrary();
    return 'path' in blas ? blas.path : null;
  }

  libraryUnavailableReason(): string | null {
    const blas = this.blasLibrary();
    return 'reason' in blas ? blas.reason : null;
  }

  render(ir: KernelIR, name: string): string {
    return renderCKernel(ir, name);
  }

  kernelName(body: string): string {
    return kernelName(body, C_PRELUDE);
  }

  kernels(sources: readonly KernelSource[]): number[] {
    const missing: KernelSource[] = [];
    const belowFull: KernelSource[] = [];
    const belowFullIds: number[] = [];
    for (const k of sources) {
      if (this.kernelIds.has(k.name)) {
        counters.kernelCacheHits++;
        continue;
      }
      const cached = cachedKernel(k.name);
      if (cached) {
        try {
          const [id] = this.native.loadKernels(cached.path, [k.name]);
          markLoaded(cached);
          this.kernelIds.set(k.name, id);
          counters.kernelCacheHits++;
          if (cached.entry.opt < FULL_OPT && compileMode() === 'tiered') {
            belowFull.push(k);
            belowFullIds.push(id);
          }
          if (debugLevel >= 1)
            debugLog(`kernel ${k.name} (cpu): disk cache hit (${cached.entry.builder.startsWith(TCC_BUILDER_PREFIX) ? 'tcc' : `-O${cached.entry.opt}`})`);
          continue;
        } catch {
          // A verified object without the symbol (a foreign entry under this name): rebuild it.
        }
      }
      if (!missing.some((m) => m.name === k.name)) missing.push(k);
    }
    // Cached at -O1 by a process that exited before its -O3 rebuild finished.
    if (belowFull.length > 0 && upgradeCached(C_PRELUDE, belowFull)) {
      this.awaitFullBuild(
        belowFull.map((k) => k.name),
        belowFullIds,
      );
    }
    if (missing.length > 0) {
      counters.kernelCacheMisses += missing.length;
      const t0 = performance.now();
      let batch = compileBatch(C_PRELUDE, missing);
      const names = missing.map((k) => k.name);
      let ids: number[];
      try {
        ids = this.native.loadKernels(batch.path, names);
      } catch (err) {
        if (batch.tier !== 'tcc')
          throw new CompileError(`loading compiled kernels failed: ${(err as Error).message}`, missing.map((k) => k.source).join('\n'), '');
        // TinyCC's object would not load: the system compiler builds the batch instead.
        if (debugLevel >= 1) debugLog(`loading tcc's build of ${names.join(', ')} failed (${(err as Error).message}); compiling with the system compiler`);
        batch = compileBatch(C_PRELUDE, missing, true);
        try {
          ids = this.native.loadKernels(batch.path, names);
        } catch (retryErr) {
          throw new CompileError(`loading compiled kernels failed: ${(retryErr as Error).message}`, missing.map((k) => k.source).join('\n'), '');
        }
      }
      const ms = performance.now() - t0;
      counters.compileMs += ms;
      counters.kernelsCompiled += missing.length;
      missing.forEach((k, i) => {
        this.kernelIds.set(k.name, ids[i]);
      });
      if (batch.upgrading) this.awaitFullBuild(names, ids);
      if (debugLevel >= 1) {
        debugLog(`compiled ${missing.length} kernel(s) (cpu, ${batch.tier}) in ${ms.toFixed(1)} ms: ${names.join(', ')}`);
        if (debugLevel >= 2) for (const k of missing) debugLog(`source of ${k.name}:\n${k.source}`);
      }
    }
    return sources.map((k) => this.kernelIds.get(k.name) as number);
  }

  /** Kernels running -O1 code whose -O3 build is under way in the background. */
  private readonly pendingBuilds: { names: string[]; ids: number[]; since: number }[] = [];
  private nextPoll = 0;

  private awaitFullBuild(names: string[], ids: number[]): void {
    this.pendingBuilds.push({ names, ids, since: performance.now() });
  }

  /**
   * Swaps in the -O3 code of kernels whose background build has finished. Called at
   * every run, so a synchronous loop that never turns the event loop still gets the
   * faster code; costs one comparison when nothing is pending, a few small file reads
   * at most every POLL_MS otherwise.
   */
  pollFullBuilds(): void {
    if (this.pendingBuilds.length === 0) return;
    startQueuedProcesses(true); // builds queued START_DELAY_MS ago (background.ts)
    const now = performance.now();
    if (now < this.nextPoll) return;
    this.nextPoll = now + POLL_MS;
    const d = kernelCacheDirs();
    for (let i = this.pendingBuilds.length - 1; i >= 0; i--) {
      const p = this.pendingBuilds[i];
      const entry = readEntry(d.write, p.names[0]);
      const done = entry !== undefined && entry.opt >= FULL_OPT;
      if (done) {
        const hit = verifyEntry(d.write, entry);
        try {
          if (hit) {
            this.native.replaceKernels(hit.path, p.names, p.ids);
            counters.kernelsUpgraded += p.names.length;
            if (debugLevel >= 1) debugLog(`switched ${p.names.length} kernel(s) (cpu) to -O${entry.opt} code: ${p.names.join(', ')}`);
          }
        } catch {
          // A broken -O3 object: the kernels keep their working -O1 code.
        }
      }
      if (done || now - p.since > FULL_BUILD_GIVE_UP_MS) this.pendingBuilds.splice(i, 1);
    }
  }

  /** True while a background -O3 build is pending (tests and benchmarks wait on it). */
  fullBuildsPending(): boolean {
    startQueuedProcesses(false); // a caller waiting for the builds: start them now
    this.pollFullBuilds();
    return this.pendingBuilds.length > 0;
  }

  alloc(nbytes: number): BufferRef {
    const [id, handle] = allocCollectingGarbage(
      'cpu',
      nbytes,
      () => native(() => this.native.allocOwned(nbytes)),
      () => this.native.memoryStats(),
    );
    return new PoolBuffer('cpu', id, nbytes, handle, this.freeBuffer);
  }

  write(buffer: BufferRef, byteOffset: number, src: ArrayBufferView): void {
    native(() => this.native.write(buffer.id, byteOffset, src));
  }

  read(buffer: BufferRef, byteOffset: number, dst: ArrayBufferView): void {
    native(() => this.native.read(buffer.id, byteOffset, dst));
  }

  view(buffer: BufferRef): ArrayBuffer | null {
    if (!this.viewsAllowed) return null;
    try {
      return this.native.view(buffer.id, VIEWS_UNPIN_IN_GC);
    } catch (err) {
      const typed = fromNativeError(err);
      // Node built without external ArrayBuffers: read with a copy from now on.
      if (typed instanceof ArgumentError && /external ArrayBuffers/.test(typed.message)) {
        this.viewsAllowed = false;
        return null;
      }
      throw typed;
    }
  }

  run(commands: Int32Array, args: BigInt64Array): void {
    this.pollFullBuilds();
    try {
      this.native.runPlan(commands, args);
    } catch (err) {
      throw fromNativeError(err);
    }
  }

  prepareReplay(commands: Int32Array, args: BigInt64Array, patch: Int32Array): PreparedReplay {
    const addon = this.native;
    const handle = native(() => addon.replayCreate(commands, args, patch));
    return {
      run: (ids: Int32Array): void => {
        this.pollFullBuilds();
        try {
          addon.replayRun(handle, ids);
        } catch (err) {
          throw fromNativeError(err);
        }
      },
    };
  }

  runAsync(commands: Int32Array, args: BigInt64Array): Promise<void> {
    this.pollFullBuilds();
    return new Promise((resolve, reject) => {
      this.native.runPlanAsync(commands, args, (err) => (err ? reject(fromNativeError(err)) : resolve()));
    });
  }

  memory(): MemoryStats {
    const s = this.native.memoryStats();
    return { activeBytes: s.activeBytes, cachedBytes: s.cachedBytes, peakBytes: s.peakBytes, activeBuffers: s.activeBuffers };
  }

  clearCache(): void {
    native(() => this.native.clearCache());
  }
  setCacheLimit(bytes: number): void {
    native(() => this.native.setCacheLimit(bytes));
  }
  setMemoryLimit(bytes: number): void {
    native(() => this.native.setMemoryLimit(bytes));
  }

  deviceInfo(): DeviceInfo {
    return {
      backend: 'cpu',
      name: cpus()[0]?.model.trim() || `${process.arch} CPU`,
      memoryBytes: totalmem(),
      maxThreadsPerGroup: this.native.threadCount(),
      sharedMemoryBytes: 0,
      simdWidth: cpuSimdWidth(),
      maxBufferLength: POOL_MAX_BLOCK,
    };
  }
}
