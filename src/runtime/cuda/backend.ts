/**
 * The CUDA backend: CUDA C kernels (src/codegen/cuda.ts) compiled by NVRTC for the
 * device's own compute capability, cubins cached on disk, launched on one stream over
 * device memory from the addon's CUDA pool (native/cuda). Launch geometry comes from
 * src/codegen/gpu.ts per kernel and size (the GPU launch contract in ../native.ts).
 */
import { type NativeBufferHandle, PoolBuffer, allocCollectingGarbage, bufferLedger } from '../pool-buffer.js';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CUDA_DIALECT, CUDA_PRELUDE, cudaDialectFor, renderCudaKernel } from '../../codegen/cuda.js';
import { gpuLaunch } from '../../codegen/gpu.js';
import type { GpuDialect } from '../../codegen/gpu-dialect.js';
import type { KernelIR } from '../../codegen/ir.js';
import { BackendUnavailableError, CompileError, GpuError } from '../../errors.js';
import { counters, debugLevel, debugLog } from '../../core/metrics.js';
import type { BufferRef } from '../../core/node.js';
import type { Backend, DeviceGraph, KernelSource, MemoryStats } from '../backend.js';
import { fromNativeError } from '../cpu/backend.js';
import type { NativeAddon } from '../native.js';
import { cacheRoot, findVerified, type KernelCacheDirs, openCacheDirs, storeEntry, storeObject } from '../kernel-cache.js';

/** METALARRAY_CUDA_GRAPHS=0: compile's replays launch kernel by kernel instead of as one CUDA graph. */
const GRAPHS_OFF = process.env.METALARRAY_CUDA_GRAPHS === '0';

/** The destination of the buffer ledger's liveness probe. */
const NO_BYTES = new Uint8Array(0);

/** Turns the addon's coded errors into typed ones (GPU codes first, then the common ones). */
function fromCudaError(err: unknown): Error {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'ERR_MA_GPU' && err instanceof Error) return new GpuError(err.message);
  return fromNativeError(err);
}

function native<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromCudaError(err);
  }
}

let cacheDirs: KernelCacheDirs | undefined;

/**
 * The cubin cache of an architecture (the same verified layout as the cpu cache,
 * ../kernel-cache.ts): read-only caches are read, misses go to a private directory.
 */
function cubinCacheDirs(arch: string): KernelCacheDirs {
  cacheDirs ??= openCacheDirs(join(cacheRoot(), 'cuda', arch));
  return cacheDirs;
}

/** The whole program NVRTC compiles for one rendered kernel: the prelude, then the kernel. */
export function cudaProgramText(kernelSource: string): string {
  return `${CUDA_PRELUDE}\n${kernelSource}\n`;
}

/**
 * Renders kernels as CUDA C in `dialect` (the device's own on a GPU machine, the
 * sm_80-class one elsewhere); compiles and runs them only where CUDA is (see
 * {@link CudaBackend}).
 */
export class CudaRenderer {
  readonly name = 'cuda';
  /** NVRTC and Metal's compiler take superlinear time in a kernel's length (a 1000-op chain: 2.6 s in NVRTC, 250 ops: 0.17 s). */
  readonly maxKernelOps = 256;

  constructor(protected readonly dialect: GpuDialect = CUDA_DIALECT) {}

  render(ir: KernelIR, name: string): string {
    return renderCudaKernel(ir, name, this.dialect);
  }

  kernelName(body: string): string {
    return `k_${createHash('sha256').update('cuda\n').update(CUDA_PRELUDE).update(body).digest('hex').slice(0, 24)}`;
  }

  launchWords(ir: KernelIR, args: readonly number[]): number[] {
    const g = gpuLaunch(ir, args, this.dialect);
    return [...g.grid, ...g.block, g.sharedBytes, Math.max(1, ir.argWords) * 8, g.scratchBytes];
  }
}

/** The CUDA backend over the addon's CUDA runtime. */
export class CudaBackend extends CudaRenderer implements Backend {
  private readonly kernelIds = new Map<string, number>();
  private readonly freeBuffer = (handle: NativeBufferHandle): void => this.native.releaseOwned(handle);
  readonly arch: string;

  constructor(private readonly native: NativeAddon) {
    const why = native.cudaProbe();
    if (why) throw new BackendUnavailableError(`backend "cuda" is unavailable: ${why}`);
    const info = native.cudaDeviceInfo();
    const { dialect, arch } = cudaDialectFor(info.major, info.minor);
    super(dialect);
    this.arch = arch;
    // A zero-byte read checks the id only: no copy, no stream sync.
    bufferLedger('cuda').isLive = (id) => {
      try {
        native.cudaRead(id, 0, NO_BYTES);
        return true;
      } catch {
        return false; // freed (by the GC): the runtime rejects the stale id
      }
    };
  }

  kernels(sources: readonly KernelSource[]): number[] {
    for (const k of sources) {
      if (this.kernelIds.has(k.name)) {
        counters.kernelCacheHits++;
        continue;
      }
      const dirs = cubinCacheDirs(this.arch);
      const builder = `nvrtc-${this.arch}`;
      // Verified before loading: the bytes hashed are the bytes handed to the driver.
      const hit = findVerified(dirs.read, k.name, (e) => e.builder === builder, dirs.write);
      if (hit) {
        try {
          const [id] = this.native.cudaLoadModule(hit.bytes as Buffer, [k.name]); // read: bytes were not skipped
          this.kernelIds.set(k.name, id);
          counters.kernelCacheHits++;
          if (debugLevel >= 1) debugLog(`kernel ${k.name} (cuda): disk cache hit`);
          continue;
        } catch {
          // A verified cubin without this kernel (a foreign entry under its name): rebuild it.
        }
      }
      counters.kernelCacheMisses++;
      const t0 = performance.now();
      const full = cudaProgramText(k.source);
      let cubin: Uint8Array;
      try {
        cubin = this.native.cudaCompile(k.name, full, this.arch);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ERR_MA_COMPILE') throw new CompileError(`NVRTC failed to compile kernel ${k.name} for ${this.arch}`, k.source, (err as Error).message);
        throw fromCudaError(err);
      }
      const [id] = native(() => this.native.cudaLoadModule(cubin, [k.name]));
      this.kernelIds.set(k.name, id);
      const ms = performance.now() - t0;
      counters.compileMs += ms;
      counters.kernelsCompiled++;
      try {
        const stored = storeObject(dirs.write, cubin, 'cubin');
        storeEntry(dirs.write, k.name, { object: stored.object, sha256: stored.sha256, builder, opt: 3 });
      } catch {
        // The disk cache is an optimization; the kernel is loaded either way.
      }
      if (debugLevel >= 1) {
        debugLog(`compiled kernel ${k.name} (cuda, ${this.arch}) in ${ms.toFixed(1)} ms`);
        if (debugLevel >= 2) debugLog(`source of ${k.name}:\n${k.source}`);
      }
    }
    return sources.map((k) => this.kernelIds.get(k.name) as number);
  }

  alloc(nbytes: number): BufferRef {
    const [id, handle] = allocCollectingGarbage(
      'cuda',
      nbytes,
      () => native(() => this.native.cudaAllocOwned(nbytes)),
      () => native(() => this.native.cudaMemoryStats()),
    );
    return new PoolBuffer('cuda', id, nbytes, handle, this.freeBuffer);
  }

  write(buffer: BufferRef, byteOffset: number, src: ArrayBufferView): void {
    native(() => this.native.cudaWrite(buffer.id, byteOffset, src));
  }

  read(buffer: BufferRef, byteOffset: number, dst: ArrayBufferView): void {
    native(() => this.native.cudaRead(buffer.id, byteOffset, dst));
  }

  run(commands: Int32Array, args: BigInt64Array): void {
    native(() => this.native.cudaRunPlan(commands, args));
  }

  runAsync(commands: Int32Array, args: BigInt64Array): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.native.cudaRunPlanAsync(commands, args, (err) => (err ? reject(fromCudaError(err)) : resolve()));
      } catch (err) {
        reject(fromCudaError(err));
      }
    });
  }

  /** Runs a bound plan `reps` times and returns the device time of each run in ms (benchmarks). */
  time(commands: Int32Array, args: BigInt64Array, reps: number): Float64Array {
    return native(() => this.native.cudaTimePlan(commands, args, reps));
  }

  /** Null where the driver lacks graphs or METALARRAY_CUDA_GRAPHS=0 (compile then replays launch by launch). */
  recordGraph(commands: Int32Array, args: BigInt64Array): DeviceGraph | null {
    if (GRAPHS_OFF || native(() => this.native.cudaGraphSupport()) !== '') return null;
    const addon = this.native;
    let id = native(() => addon.cudaGraphCreate(commands, args));
    return {
      replay(before: Int32Array, after: Int32Array): void {
        native(() => addon.cudaGraphReplay(id, before, after));
        counters.graphLaunches++;
      },
      release(): void {
        if (id !== 0) native(() => addon.cudaGraphDestroy(id));
        id = 0;
      },
    };
  }

  timeRun(commands: Int32Array, args: BigInt64Array): number {
    return this.time(commands, args, 1)[0];
  }

  memory(): MemoryStats {
    const s = native(() => this.native.cudaMemoryStats());
    return { activeBytes: s.activeBytes, cachedBytes: s.cachedBytes, peakBytes: s.peakBytes, activeBuffers: s.activeBuffers };
  }

  clearCache(): void {
    native(() => this.native.cudaClearCache());
  }
  setCacheLimit(bytes: number): void {
    native(() => this.native.cudaSetCacheLimit(bytes));
  }
  setMemoryLimit(bytes: number): void {
    native(() => this.native.cudaSetMemoryLimit(bytes));
  }
}

/** Why CUDA can't run here, or ''. */
export function cudaUnavailableReason(addon: NativeAddon | undefined, addonError: string): string {
  if (!addon) return `the native addon failed to load: ${addonError}`;
  if (typeof addon.cudaProbe !== 'function') return 'the native addon was built without the CUDA runtime';
  try {
    return addon.cudaProbe();
  } catch (err) {
    return `probing CUDA failed: ${(err as Error).message}`;
  }
}
