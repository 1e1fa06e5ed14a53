/**
 * The contract between the TypeScript runtime and the native addon
 * (`build/Release/metalarray.node`, built from `native/` by node-gyp).
 *
 * Buffers are named by small integer ids (never raw pointers) so the hot path passes
 * plain numbers and typed arrays across N-API. Errors thrown by the addon are plain
 * `Error`s carrying a `code` (see {@link NativeErrorCode}); the backend adapters
 * (`src/runtime/cpu/backend.ts`) turn them into the library's typed errors.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBufferHandle } from './pool-buffer.js';

/** Error codes the addon sets on the errors it throws. */
export type NativeErrorCode =
  | 'ERR_MA_OOM' // allocation failed after emptying the cache; message names the size and usage
  | 'ERR_MA_BAD_BUFFER' // unknown or already-freed buffer id
  | 'ERR_MA_BAD_ARGUMENT' // malformed argument (wrong type, out of range)
  | 'ERR_MA_DLOPEN' // dlopen/dlsym failed; message has dlerror()
  | 'ERR_MA_KERNEL' // bad kernel id or malformed plan
  | 'ERR_MA_GPU' // a GPU driver call failed; message names the call, the driver's error and, for a launch, the kernel, grid and block
  | 'ERR_MA_COMPILE'; // a GPU compiler (NVRTC) rejected a kernel; message holds its log

/** Pool statistics, in bytes and buffer counts. */
export interface NativeMemoryStats {
  activeBytes: number;
  cachedBytes: number;
  peakBytes: number;
  activeBuffers: number;
  cachedBuffers: number;
  cacheLimit: number;
  memoryLimit: number;
}

/**
 * A plan is a flat list of commands in an Int32Array, executed in order:
 *
 *   [kernelId, argOffset, nBufs, bufId_0, ..., bufId_{nBufs-1}]   (repeated)
 *
 * `argOffset` is a byte offset into the `args` block (8-byte aligned). The kernel is
 * called with `args + argOffset`. The first int64 at that offset is the kernel's total
 * work count N (elements or rows); the second int64 is the grain: the smallest number
 * of work items worth handing to one thread (so small kernels run inline on the calling
 * thread). The runtime splits [0, N) into contiguous chunks of at least `grain` items,
 * at most one per worker, and calls
 *
 *   void kernel(void *const *bufs, const int64_t *args, int64_t start, int64_t end)
 *
 * for each chunk; it returns only after every chunk of every command has finished.
 */
export interface NativeAddon extends NativeCuda {
  /** Allocates `nbytes` (>= 0; 0 gives a valid empty buffer) from the pool; returns its id. */
  alloc(nbytes: number): number;
  /** Returns a buffer to the pool (kept in the size-class cache up to the cache limit). */
  free(id: number): void;
  /**
   * Allocates like `alloc` and returns the id with its owner: an opaque handle that
   * frees the buffer inside the garbage collection that finds it unreachable (a
   * Node-API basic finalizer), unless `releaseOwned` freed it first. The bytes are
   * reported to V8 as external memory while held.
   */
  allocOwned(nbytes: number): [number, NativeBufferHandle];
  /** Frees a handle's buffer now (a second call does nothing). Works for cudaAllocOwned handles too. */
  releaseOwned(handle: NativeBufferHandle): void;
  /** Bytes this JS environment has reported to V8 for live handles. */
  externalBytes(): number;
  /**
   * An ArrayBuffer over the buffer's memory, without a copy. It pins the block: a free
   * meanwhile invalidates the id, and the memory returns to the pool only once the
   * ArrayBuffer is collected: inside that GC with `unpinInGc` (safe only where JS cannot
   * move an ArrayBuffer's memory: see VIEWS_UNPIN_IN_GC), else when Node frees the
   * backing store, a tick later. Throws ERR_MA_BAD_ARGUMENT where Node forbids external
   * ArrayBuffers.
   */
  view(id: number, unpinInGc: boolean): ArrayBuffer;
  /** Byte size the buffer was allocated with. */
  byteLength(id: number): number;
  /** Copies `src` into the buffer starting at `byteOffset`. */
  write(id: number, byteOffset: number, src: ArrayBufferView): void;
  /** Copies `dst.byteLength` bytes from the buffer starting at `byteOffset` into `dst`. */
  read(id: number, byteOffset: number, dst: ArrayBufferView): void;
  /** Pool statistics. */
  memoryStats(): NativeMemoryStats;
  /** Frees every cached (not active) block. */
  clearCache(): void;
  /** Bounds the bytes kept in the cache; evicts least recently freed blocks beyond it. */
  setCacheLimit(bytes: number): void;
  /** Bounds active bytes; an allocation beyond it throws ERR_MA_OOM (after emptying the cache). */
  setMemoryLimit(bytes: number): void;
  /** Resets peakBytes to the current activeBytes. */
  resetPeak(): void;

  /**
   * dlopen()s a shared object and resolves the named kernel symbols.
   * Returns one kernel id per symbol, in order. The library stays loaded for the
   * life of the process.
   */
  loadKernels(path: string, symbols: string[]): number[];
  /**
   * dlopen()s an optimized build of already loaded kernels and points each id at the
   * symbol of the same position (an atomic swap; the old code stays loaded).
   */
  replaceKernels(path: string, symbols: string[], ids: number[]): void;
  /**
   * Loads the system BLAS once (`request` '' tries the platform's optimized libraries:
   * OpenBLAS, MKL, BLIS on Linux, Accelerate on macOS; otherwise exactly that path) and
   * returns the kernel ids of its float32 and float64 gemm. Their args are documented in
   * native/cpu/blas.h. Throws ERR_MA_DLOPEN naming every candidate tried.
   */
  loadBlas(request: string): { path: string; gemmF32: number; gemmF64: number };
  /**
   * Loads LAPACK once per process (`request` '' tries libopenblas.so.0, libopenblas.so,
   * liblapack.so.3, MKL; otherwise exactly that path) and returns the kernel ids of its
   * routines per dtype, in the order of `LapackKernel` (native/cpu/lapack.h, which also
   * documents their args). Throws ERR_MA_DLOPEN naming every candidate tried.
   */
  loadLapack(request: string): { path: string; float32: number[]; float64: number[] };
  /** Runs a plan synchronously on the thread pool (see the interface doc). */
  runPlan(commands: Int32Array, args: BigInt64Array): void;
  /**
   * Runs a plan on a background thread; the callback is called on the JS thread with
   * `null` or an Error when every kernel has finished. The caller keeps `commands`,
   * `args` and every buffer alive until then.
   */
  runPlanAsync(commands: Int32Array, args: BigInt64Array, done: (err: Error | null) => void): void;
  /** Number of worker threads the pool uses (hardware concurrency by default). */
  threadCount(): number;
  /**
   * Copies and validates a plan once for compile's replays; `patch` holds the command word
   * positions of the buffer ids each `replayRun` replaces. Returns an opaque handle (freed by GC).
   */
  replayCreate(commands: Int32Array, args: BigInt64Array, patch: Int32Array): NativeReplayHandle;
  /** Runs a `replayCreate` plan synchronously with `ids` (one per patch position) in its patched words. */
  replayRun(handle: NativeReplayHandle, ids: Int32Array): void;
}

/** A native plan prepared once for replays (see NativeAddon.replayCreate). */
export interface NativeReplayHandle {
  readonly __nativeReplay: never;
}

/**
 * The GPU launch contract, shared by the CUDA runtime (native/cuda) and the Metal
 * runtime. A GPU plan is the CPU plan's command list with the launch geometry appended
 * to every command, computed in TypeScript per launch from the bound sizes
 * (`gpuLaunch` in src/codegen/gpu.ts):
 *
 *   [kernelId, argOffset, nBufs, bufId_0, ..., bufId_{nBufs-1},
 *    gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, argBytes, scratchBytes]
 *
 * The kernel's parameters are the nBufs buffers' device addresses in order (output
 * first), then the runtime's scratch buffer (at least `scratchBytes` of device memory,
 * all zero when the kernel starts; kernels that use it leave it zeroed), then the args
 * blob by value: `argBytes` bytes (int64 words) starting at byte
 * `argOffset` of `args`; the kernel declares it as `MaArgs<argBytes / 8>` (CUDA: a
 * by-value struct parameter; Metal: bytes set at buffer index nBufs). `sharedBytes` is
 * dynamic shared (threadgroup) memory. A blob larger than GPU_ARGS_INLINE_BYTES (4096,
 * src/codegen/gpu.ts) is passed instead as a pointer to a device copy of it that the
 * runtime makes for the launch. A command whose grid has a 0 dimension is
 * skipped. Metal only: a command with scratchBytes > 0 and gridY > 1 (a split
 * reduction) is dispatched again over grid (gridX, 1, 2) to fold the partials
 * (native/metal/metal_runtime.h). Commands run in order on one stream (command queue); `run` returns when
 * all finished, `runAsync` calls back then without blocking the JS thread.
 */
export const GPU_LAUNCH_WORDS = 9;

/** One compile-only NVRTC run (cudaCheckCompile). */
export interface NvrtcCheckResult {
  ok: boolean;
  /** NVRTC's result string when not ok. */
  error: string;
  log: string;
  /** The cubin's size for a real arch (sm_80: ptxas ran); 0 for a virtual one. */
  cubinBytes: number;
  /** The PTX for a virtual arch (compute_80: NVRTC stops before ptxas); '' for a real one. */
  ptx: string;
  /** NVRTC's version, "major.minor". */
  nvrtc: string;
}

/** The CUDA part of the addon (native/cuda); present in every build, usable only where CUDA is. */
export interface NativeCuda {
  /** '' if the driver, NVRTC and a device are usable, else why not (loads them on first call). */
  cudaProbe(): string;
  /** The device: name, compute capability, multiprocessor count, NVRTC version. */
  cudaDeviceInfo(): { name: string; major: number; minor: number; multiprocessors: number; nvrtc: string };
  /** Device memory from the CUDA pool (cuMemAlloc; freed blocks cached by size class). */
  cudaAlloc(nbytes: number): number;
  cudaFree(id: number): void;
  /** `cudaAlloc` with a GC-visible owner; see `allocOwned`. */
  cudaAllocOwned(nbytes: number): [number, NativeBufferHandle];
  cudaWrite(id: number, byteOffset: number, src: ArrayBufferView): void;
  cudaRead(id: number, byteOffset: number, dst: ArrayBufferView): void;
  cudaMemoryStats(): NativeMemoryStats;
  cudaClearCache(): void;
  cudaSetCacheLimit(bytes: number): void;
  cudaSetMemoryLimit(bytes: number): void;
  /** Compiles one CUDA C source with NVRTC for `arch` (e.g. 'sm_90'); returns the cubin. Throws ERR_MA_COMPILE with the log. */
  cudaCompile(name: string, source: string, arch: string): Uint8Array;
  /** Why NVRTC can't be loaded here, or '' (needs no driver or device; METALARRAY_NVRTC_LIBRARY names the library). */
  cudaNvrtcProbe(): string;
  /**
   * Compiles one kernel with the runtime's NVRTC options for `arch`, without a device; a compile error is `ok: false`,
   * not a throw. A virtual arch (compute_80) stops at PTX, a real one (sm_80) runs ptxas to a cubin.
   */
  cudaCheckCompile(name: string, source: string, arch: string): NvrtcCheckResult;
  /** Loads a cubin and resolves the named kernels; returns one kernel id per name. */
  cudaLoadModule(image: Uint8Array, names: string[]): number[];
  /** Runs a GPU plan (see GPU_LAUNCH_WORDS) and waits for it. */
  cudaRunPlan(commands: Int32Array, args: BigInt64Array): void;
  /** Launches a GPU plan and calls `done` on the JS thread once the stream has finished it. */
  cudaRunPlanAsync(commands: Int32Array, args: BigInt64Array, done: (err: Error | null) => void): void;
  /** Runs a plan `reps` times, timing each with CUDA events; returns milliseconds per run. */
  cudaTimePlan(commands: Int32Array, args: BigInt64Array, reps: number): Float64Array;
  /** '' where CUDA graphs can be used, else why not. */
  cudaGraphSupport(): string;
  /** Validates a GPU plan and records its launches once as a CUDA graph; returns the graph id. */
  cudaGraphCreate(commands: Int32Array, args: BigInt64Array): number;
  /** Copies the (source, destination) buffer pairs of `before`, launches the graph once, copies `after`'s pairs, waits. */
  cudaGraphReplay(id: number, before: Int32Array, after: Int32Array): void;
  /** Frees a graph once the stream has finished it; false for an unknown id. */
  cudaGraphDestroy(id: number): boolean;
}

/**
 * Whether a zero-copy view may give its memory back inside the GC that collects it.
 * Only where no `ArrayBuffer.prototype.transfer` exists (Node 20): that method moves an
 * ArrayBuffer's memory into a new object, which would outlive the collected one.
 */
export const VIEWS_UNPIN_IN_GC = !('transfer' in ArrayBuffer.prototype);

let cached: NativeAddon | undefined;
let loadError: Error | undefined;

function findAddon(): string | undefined {
  // A separately built addon (CI's AddressSanitizer build, .ci/run) replaces the default.
  const override = process.env.METALARRAY_ADDON;
  if (override) return existsSync(override) ? override : undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const sub of ['build/Release/metalarray.node', 'build/Debug/metalarray.node']) {
      const candidate = join(dir, sub);
      if (existsSync(candidate)) return candidate;
    }
    dir = dirname(dir);
  }
  return undefined;
}

/** Loads the addon once; returns undefined (and remembers why) if it cannot be loaded. */
export function loadNative(): NativeAddon | undefined {
  if (cached || loadError) return cached;
  const path = findAddon();
  if (!path) {
    loadError = new Error(
      process.env.METALARRAY_ADDON
        ? `native addon METALARRAY_ADDON=${process.env.METALARRAY_ADDON} not found`
        : 'native addon build/Release/metalarray.node not found (run `npm install` or `npm run build`)',
    );
    return undefined;
  }
  try {
    cached = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    loadError = err instanceof Error ? err : new Error(String(err));
  }
  return cached;
}

/** Why the addon could not be loaded, if it could not. */
export function nativeLoadError(): Error | undefined {
  loadNative();
  return loadError;
}
