/**
 * The CPU backend: C kernels compiled by the system compiler, loaded with dlopen and
 * run on the addon's thread pool over buffers from the native pool.
 */
import { type NativeBufferHandle, PoolBuffer, allocCollectingGarbage } from '../pool-buffer.js';
import { renderCKernel, C_PRELUDE } from '../../codegen/c.js';
import type { KernelIR } from '../../codegen/ir.js';
import { CompileError, OutOfMemoryError, ArgumentError, MetalArrayError } from '../../errors.js';
import { counters, debugLevel, debugLog } from '../../graph/metrics.js';
import type { DType } from '../../graph/dtype.js';
import type { BufferRef } from '../../graph/node.js';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { Backend, DeviceInfo, KernelSource, MemoryStats } from '../backend.js';
import { type NativeAddon, VIEWS_UNPIN_IN_GC } from '../native.js';
import { cachedKernelPath, compileBatch, dropCachedKernel, kernelName } from './compiler.js';

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

  constructor(private readonly native: NativeAddon) {}

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
    for (const k of sources) {
      if (this.kernelIds.has(k.name)) {
        counters.kernelCacheHits++;
        continue;
      }
      const cached = cachedKernelPath(k.name);
      if (cached) {
        try {
          const [id] = this.native.loadKernels(cached, [k.name]);
          this.kernelIds.set(k.name, id);
          counters.kernelCacheHits++;
          if (debugLevel >= 1) debugLog(`kernel ${k.name} (cpu): disk cache hit`);
          continue;
        } catch {
          dropCachedKernel(k.name); // corrupt or foreign entry: rebuild it
        }
      }
      if (!missing.some((m) => m.name === k.name)) missing.push(k);
    }
    if (missing.length > 0) {
      counters.kernelCacheMisses += missing.length;
      const t0 = performance.now();
      const path = compileBatch(C_PRELUDE, missing);
      let ids: number[];
      try {
        ids = this.native.loadKernels(
          path,
          missing.map((k) => k.name),
        );
      } catch (err) {
        throw new CompileError(`loading compiled kernels failed: ${(err as Error).message}`, missing.map((k) => k.source).join('\n'), '');
      }
      const ms = performance.now() - t0;
      counters.compileMs += ms;
      counters.kernelsCompiled += missing.length;
      missing.forEach((k, i) => {
        this.kernelIds.set(k.name, ids[i]);
      });
      if (debugLevel >= 1) {
        debugLog(`compiled ${missing.length} kernel(s) (cpu) in ${ms.toFixed(1)} ms: ${missing.map((k) => k.name).join(', ')}`);
        if (debugLevel >= 2) for (const k of missing) debugLog(`source of ${k.name}:\n${k.source}`);
      }
    }
    return sources.map((k) => this.kernelIds.get(k.name) as number);
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
    try {
      this.native.runPlan(commands, args);
    } catch (err) {
      throw fromNativeError(err);
    }
  }

  runAsync(commands: Int32Array, args: BigInt64Array): Promise<void> {
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
