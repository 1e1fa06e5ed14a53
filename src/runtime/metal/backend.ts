/**
 * The Metal backend: MSL kernels (src/codegen/msl.ts) compiled by Metal at run time
 * (`newLibraryWithSource`), run by the addon's Objective-C++ runtime (native/metal,
 * macOS only) on buffers from the common native pool, shared with the GPU in place.
 *
 * Off macOS, MetalRenderer still renders and names kernels (the registry's planner), so
 * `kernelSources(x, 'metal')` and `explain` work on any machine.
 */
import { type NativeBufferHandle, PoolBuffer, allocCollectingGarbage, bufferLedger } from '../pool-buffer.js';
import { createHash } from 'node:crypto';
import { gpuLaunch, gpuStrategy } from '../../codegen/gpu.js';
import { sortPassesLaunch } from '../../codegen/gpu-sort.js';
import type { GpuDialect } from '../../codegen/gpu-dialect.js';
import { MSL_DIALECT, MSL_PRELUDE, mslDialect, renderMslKernel } from '../../codegen/msl.js';
import type { KernelIR } from '../../codegen/ir.js';
import { ArgumentError, BackendUnavailableError, CompileError, GpuError, OutOfMemoryError } from '../../errors.js';
import { counters, debugLevel, debugLog } from '../../core/metrics.js';
import type { BufferRef } from '../../core/node.js';
import type { Backend, DeviceInfo, KernelSource, MemoryStats } from '../backend.js';
import { fromNativeError, poolHasBuffer } from '../cpu/backend.js';
import { type NativeAddon, VIEWS_UNPIN_IN_GC } from '../native.js';
import { findOfflineMetalCompiler, type OfflineMetalCompiler, offlineMetallib } from './offline-compiler.js';
import { MetalArchiveCache, type MetalPipelineStats, metalCacheIdentity, osRelease, pipelineLimitFromEnv } from './pipeline-cache.js';

/** What native/metal/metal_api.mm reports (see metal_runtime.h). */
export interface NativeMetalDeviceInfo {
  name: string;
  family: string;
  memoryBytes: number;
  maxBufferLength: number;
  maxThreadsPerGroup: number;
  sharedMemoryBytes: number;
  simdWidth: number;
  unifiedMemory: boolean;
  simdgroupMatrix: boolean;
  bfloat: boolean;
  languageVersion: string;
}

/** The addon's Metal entry points, present in macOS builds only. */
export interface NativeMetalAddon {
  metalDeviceInfo(): NativeMetalDeviceInfo;
  /** Compiles one library; returns a kernel id per function name (ERR_MA_COMPILE with Metal's log). */
  metalCompile(source: string, names: string[]): number[];
  /**
   * Loads the offline compiler's metallib of `source` (verified by the caller); a kernel
   * id per function name. `source` rebuilds an evicted pipeline if the file is gone.
   */
  metalLoadLibrary(metallibPath: string, source: string, names: string[]): number[];
  /** Runs a GPU plan (command format in native/metal/metal_runtime.h), waits, and returns its GPU time in ms. */
  metalRunPlan(commands: Int32Array, args: BigInt64Array): number;
  /** Runs a GPU plan; `done` is called on the JS thread from Metal's completion handler. */
  metalRunPlanAsync(commands: Int32Array, args: BigInt64Array, done: (err: Error | null) => void): void;
  /** Opens the binary archive at `path` ('' for an empty one); '' or why Metal could not read the file. */
  metalOpenArchive(path: string): string;
  /** Serializes the binary archive to `path`; false when nothing was added since the last write. */
  metalSaveArchive(path: string): boolean;
  /** Bounds the pipelines held in memory (least recently launched evicted first). */
  metalSetPipelineLimit(limit: number): void;
  metalPipelineStats(): MetalPipelineStats;
}

/** The addon with its Metal entry points, if this build has them. */
export function metalAddon(native: NativeAddon | undefined): (NativeAddon & NativeMetalAddon) | undefined {
  return native && typeof (native as Partial<NativeMetalAddon>).metalDeviceInfo === 'function' ? (native as NativeAddon & NativeMetalAddon) : undefined;
}

/** Turns the addon's coded errors into typed ones (ERR_MA_GPU: a failed launch or device). */
function fromMetalError(err: unknown): Error {
  if (err instanceof Error && (err as Error & { code?: string }).code === 'ERR_MA_GPU') return new GpuError(err.message);
  return fromNativeError(err);
}

/** What the Metal backend shares with planning on machines without Metal: MSL and launch words. */
export class MetalRenderer {
  readonly name = 'metal';
  /** NVRTC and Metal's compiler take superlinear time in a kernel's length (a 1000-op chain: 2.6 s in NVRTC, 250 ops: 0.17 s). */
  readonly maxKernelOps = 256;

  /**
   * The MSL dialect kernels are rendered in. Planning without a device assumes SIMD-group
   * matrices, which every Apple silicon GPU (Apple7+) has; the backend asks its device.
   */
  protected get dialect(): GpuDialect {
    return MSL_DIALECT;
  }

  render(ir: KernelIR, name: string): string {
    return renderMslKernel(ir, name, this.dialect);
  }

  kernelName(body: string): string {
    return `k_${createHash('sha256').update('metal\n').update(MSL_PRELUDE).update(body).digest('hex').slice(0, 24)}`;
  }

  /**
   * Grid (threadgroups), threadgroup size, threadgroup memory, args bytes and scratch
   * bytes (GPU_LAUNCH_WORDS in src/runtime/native.ts). A launch with scratch bytes and
   * more than one threadgroup along y is a split reduction: the runtime follows it by
   * the fold dispatch (the dialect's splitTwoPass). A launch with scratch bytes, grid y
   * 1 and grid z P > 1 is an ordered-pass kernel (the dialect's orderedPasses): the
   * runtime dispatches it P times over grid (x, 1, 1), the pass index after the args
   * (native/metal/metal_runtime.h). A scatter takes two passes (its base over every
   * threadgroup, then the updates; the scratch word counts position pairs that
   * decrease); a sort of lines longer than a tile takes sortPassesLaunch's. Neither
   * needs a device-scope fence, which MSL 3.1 does not have.
   */
  launchWords(ir: KernelIR, args: readonly number[]): number[] {
    const dialect = this.dialect;
    const strategy = gpuStrategy(ir);
    const passes = dialect.orderedPasses;
    let g = strategy === 'sort' && passes ? sortPassesLaunch(ir, args, passes.sortScratchBytes) : gpuLaunch(ir, args, dialect);
    if (strategy === 'scatter' && passes && g.grid[0] > 0) g = { ...g, grid: [g.grid[0], 1, 2], scratchBytes: 4 };
    return [...g.grid, ...g.block, g.sharedBytes, ir.argWords * 8, g.scratchBytes];
  }
}

/** The Metal backend over the addon's Objective-C++ runtime (macOS builds). */
export class MetalBackend extends MetalRenderer implements Backend {
  private readonly kernelIds = new Map<string, number>();
  private info: NativeMetalDeviceInfo | undefined;
  private archive: MetalArchiveCache | undefined;
  /** Metal's offline compiler where installed; false when absent or after it failed; undefined until looked up. */
  private offline: OfflineMetalCompiler | false | undefined;

  constructor(private readonly native: (NativeAddon & NativeMetalAddon) | undefined) {
    super();
    if (!native) throw new BackendUnavailableError('backend "metal" is unavailable: the native addon has no Metal runtime');
  }

  /**
   * The disk cache of this device's pipelines (./pipeline-cache.ts), opened before the
   * first compile; METALARRAY_METAL_PIPELINES bounds the pipelines held in memory.
   */
  private pipelineCache(): MetalArchiveCache {
    if (this.archive) return this.archive;
    const native = this.device();
    const info = this.deviceInfo();
    const limit = pipelineLimitFromEnv(process.env.METALARRAY_METAL_PIPELINES);
    const archive = new MetalArchiveCache(
      native,
      metalCacheIdentity({ deviceName: info.name, gpuFamily: info.gpuFamily ?? '', languageVersion: info.languageVersion ?? '', osRelease: osRelease() }),
    );
    try {
      if (limit !== undefined) native.metalSetPipelineLimit(limit);
      const opened = archive.open();
      if (debugLevel >= 1) debugLog(`metal pipeline archive: ${opened.path ?? 'empty'}${opened.note ? ` (${opened.note})` : ''}`);
    } catch (err) {
      throw fromMetalError(err);
    }
    this.archive = archive;
    return archive;
  }

  /**
   * What the pipeline cache did in this process: pipelines compiled for the GPU, taken
   * from the disk archive, evicted from memory, held now.
   *
   * @example
   * const stats = (backendFor('metal') as MetalBackend).pipelineStats();
   * console.log(stats.loaded, 'pipelines came from the disk cache');
   */
  pipelineStats(): MetalPipelineStats {
    try {
      return this.device().metalPipelineStats();
    } catch (err) {
      throw fromMetalError(err);
    }
  }

  /**
   * Bounds the pipelines held in memory (default 512, or METALARRAY_METAL_PIPELINES);
   * the least recently launched beyond it are dropped and rebuilt, from the disk
   * archive, when they run again.
   *
   * @example
   * (backendFor('metal') as MetalBackend).setPipelineLimit(128);
   */
  setPipelineLimit(limit: number): void {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new ArgumentError(`setPipelineLimit: limit must be a whole number of at least 1 (got ${limit})`);
    try {
      this.device().metalSetPipelineLimit(limit);
    } catch (err) {
      throw fromMetalError(err);
    }
  }

  /** Writes the disk archive now if pipelines were added (otherwise it is written every 32 additions and at exit). */
  flushPipelineCache(): boolean {
    try {
      return this.archive?.save() ?? false;
    } catch (err) {
      throw fromMetalError(err);
    }
  }

  /** SIMD-group matrix products only where this device compiled the probe kernel. */
  protected override get dialect(): GpuDialect {
    return mslDialect(this.deviceInfo().simdgroupMatrix === true);
  }

  private device(): NativeAddon & NativeMetalAddon {
    return this.native as NativeAddon & NativeMetalAddon;
  }

  /**
   * Compiles what is missing: with Metal's offline compiler where installed (each
   * kernel's metallib from the disk cache, or compiled and stored there;
   * ./offline-compiler.ts), else all missing kernels in one library from source.
   */
  kernels(sources: readonly KernelSource[]): number[] {
    const missing = sources.filter((k, i) => !this.kernelIds.has(k.name) && sources.findIndex((o) => o.name === k.name) === i);
    counters.kernelCacheHits += sources.length - missing.length;
    if (missing.length > 0) {
      const archive = this.pipelineCache();
      if (this.offline === undefined) this.offline = findOfflineMetalCompiler() ?? false;
      const rest = this.offline ? missing.filter((k) => !this.loadOffline(k, archive)) : missing;
      if (rest.length > 0) this.compileSources(rest);
      archive.afterCompile();
    }
    return sources.map((k) => this.kernelIds.get(k.name) as number);
  }

  /**
   * Loads kernel `k` from the offline compiler's metallib (cached or made now); false
   * when the offline compiler failed, which then stays unused for this process (the
   * source is compiled at run time instead, and reports its own errors).
   */
  private loadOffline(k: KernelSource, archive: MetalArchiveCache): boolean {
    const compiler = this.offline as OfflineMetalCompiler;
    const source = `${MSL_PRELUDE}\n${k.source}\n`;
    const t0 = performance.now();
    let made: { path: string; cached: boolean };
    try {
      made = offlineMetallib(compiler, archive.dirs, k.name, source);
    } catch (err) {
      this.offline = false;
      if (debugLevel >= 1) debugLog(`metal offline compiler failed on ${k.name}; compiling at run time from now on: ${(err as Error).message}`);
      return false;
    }
    let ids: number[];
    try {
      ids = this.device().metalLoadLibrary(made.path, source, [k.name]);
    } catch (err) {
      throw this.compileFailure([k], source, err);
    }
    this.kernelIds.set(k.name, ids[0]);
    const ms = performance.now() - t0;
    if (made.cached) {
      counters.kernelCacheHits++;
    } else {
      counters.kernelCacheMisses++;
      counters.kernelsCompiled++;
      counters.compileMs += ms;
    }
    if (debugLevel >= 1) debugLog(`kernel ${k.name} (metal): metallib ${made.cached ? 'from the disk cache' : `compiled offline in ${ms.toFixed(1)} ms`}`);
    return true;
  }

  /** Compiles `missing` from source in one library (Metal's run-time compiler). */
  private compileSources(missing: readonly KernelSource[]): void {
    counters.kernelCacheMisses += missing.length;
    const source = `${MSL_PRELUDE}\n${missing.map((k) => k.source).join('\n\n')}\n`;
    const t0 = performance.now();
    let ids: number[];
    try {
      ids = this.device().metalCompile(
        source,
        missing.map((k) => k.name),
      );
    } catch (err) {
      throw this.compileFailure(missing, source, err);
    }
    const ms = performance.now() - t0;
    counters.compileMs += ms;
    counters.kernelsCompiled += missing.length;
    missing.forEach((k, i) => {
      this.kernelIds.set(k.name, ids[i]);
    });
    if (debugLevel >= 1) debugLog(`compiled ${missing.length} kernel(s) (metal) in ${ms.toFixed(1)} ms: ${missing.map((k) => k.name).join(', ')}`);
  }

  /** The typed error of a failed compile or load of `kernels`. */
  private compileFailure(kernels: readonly KernelSource[], source: string, err: unknown): Error {
    const e = err as Error & { code?: string };
    if (e.code === 'ERR_MA_COMPILE') return new CompileError(`Metal could not compile kernel(s) ${kernels.map((k) => k.name).join(', ')}`, source, e.message);
    return fromMetalError(err);
  }

  alloc(nbytes: number): BufferRef {
    const native = this.device();
    const limit = this.deviceInfo().maxBufferLength;
    if (nbytes > limit) {
      throw new OutOfMemoryError(`metal: a buffer of ${nbytes} bytes exceeds this device's maxBufferLength of ${limit} bytes`);
    }
    const allocate = (): [number, NativeBufferHandle] => {
      try {
        return native.allocOwned(nbytes);
      } catch (err) {
        throw fromMetalError(err);
      }
    };
    bufferLedger('metal').isLive ??= (buffer) => poolHasBuffer(native, buffer);
    const [id, handle] = allocCollectingGarbage('metal', nbytes, allocate, () => native.memoryStats());
    return new PoolBuffer('metal', id, nbytes, handle, (h) => native.releaseOwned(h));
  }

  write(buffer: BufferRef, byteOffset: number, src: ArrayBufferView): void {
    try {
      this.device().write(buffer.id, byteOffset, src);
    } catch (err) {
      throw fromMetalError(err);
    }
  }

  read(buffer: BufferRef, byteOffset: number, dst: ArrayBufferView): void {
    try {
      this.device().read(buffer.id, byteOffset, dst);
    } catch (err) {
      throw fromMetalError(err);
    }
  }

  /** Shared-storage buffers: the pool block is the buffer, so a view needs no copy. */
  view(buffer: BufferRef): ArrayBuffer | null {
    try {
      return this.device().view(buffer.id, VIEWS_UNPIN_IN_GC);
    } catch (err) {
      throw fromMetalError(err);
    }
  }

  run(commands: Int32Array, args: BigInt64Array): void {
    try {
      this.device().metalRunPlan(commands, args);
    } catch (err) {
      throw fromMetalError(err);
    }
  }

  timeRun(commands: Int32Array, args: BigInt64Array): number {
    try {
      return this.device().metalRunPlan(commands, args);
    } catch (err) {
      throw fromMetalError(err);
    }
  }

  runAsync(commands: Int32Array, args: BigInt64Array): Promise<void> {
    const native = this.device();
    return new Promise((resolve, reject) => {
      try {
        native.metalRunPlanAsync(commands, args, (err) => (err ? reject(fromMetalError(err)) : resolve()));
      } catch (err) {
        reject(fromMetalError(err));
      }
    });
  }

  memory(): MemoryStats {
    const s = this.device().memoryStats();
    return { activeBytes: s.activeBytes, cachedBytes: s.cachedBytes, peakBytes: s.peakBytes, activeBuffers: s.activeBuffers };
  }
  clearCache(): void {
    this.device().clearCache();
  }
  setCacheLimit(bytes: number): void {
    this.device().setCacheLimit(bytes);
  }
  setMemoryLimit(bytes: number): void {
    this.device().setMemoryLimit(bytes);
  }

  deviceInfo(): DeviceInfo {
    if (!this.info) {
      try {
        this.info = this.device().metalDeviceInfo();
      } catch (err) {
        const e = err as Error & { code?: string };
        if (e.code === 'ERR_MA_GPU') throw new BackendUnavailableError(`backend "metal" is unavailable: ${e.message}`);
        throw fromMetalError(err);
      }
    }
    const d = this.info;
    return {
      backend: 'metal',
      name: d.name,
      memoryBytes: d.memoryBytes,
      maxThreadsPerGroup: d.maxThreadsPerGroup,
      sharedMemoryBytes: d.sharedMemoryBytes,
      simdWidth: d.simdWidth,
      maxBufferLength: d.maxBufferLength,
      unifiedMemory: d.unifiedMemory,
      gpuFamily: d.family,
      simdgroupMatrix: d.simdgroupMatrix,
      bfloat: d.bfloat,
      languageVersion: d.languageVersion,
    };
  }
}
