/**
 * The Backend interface every runtime implements (cpu now; metal and cuda later),
 * and the registry that selects one.
 */
import type { KernelIR } from '../codegen/ir.js';
import type { DType } from '../core/dtype.js';
import type { BufferRef } from '../core/node.js';

/** Pool statistics in bytes and buffers. */
export interface MemoryStats {
  activeBytes: number;
  cachedBytes: number;
  peakBytes: number;
  activeBuffers: number;
}

/** A kernel ready for compilation: its symbol name and full source. */
export interface KernelSource {
  name: string;
  source: string;
}

/**
 * What a backend's device is and can do (`deviceInfo()`). Sizes in bytes. Fields that
 * only one backend has are optional.
 */
export interface DeviceInfo {
  backend: string;
  name: string;
  /** Memory the backend may use (Metal: recommendedMaxWorkingSetSize; cpu: physical RAM). */
  memoryBytes: number;
  /** Most threads in one threadgroup/block (cpu: worker threads). */
  maxThreadsPerGroup: number;
  /** Threadgroup/shared memory per group (cpu: 0, it has none). */
  sharedMemoryBytes: number;
  /** Threads that run in lockstep (a SIMD group or warp; cpu: float32 lanes of its vector loops). */
  simdWidth: number;
  /** Largest single buffer. */
  maxBufferLength: number;
  /** Metal: whether the GPU and CPU share memory. */
  unifiedMemory?: boolean;
  /** Metal: the highest GPU family the device reports (apple9 ... mac2). */
  gpuFamily?: string;
  /** Metal: whether a simdgroup_matrix probe kernel compiled. */
  simdgroupMatrix?: boolean;
  /** Metal: whether a bfloat probe kernel compiled. */
  bfloat?: boolean;
  /** Metal: the MSL version kernels are compiled for. */
  languageVersion?: string;
}

/** What the executor needs from a backend. */
export interface Backend {
  readonly name: string;
  /** Most compute ops fused into one kernel (GPU run-time compilers slow down superlinearly); unlimited when absent. */
  readonly maxKernelOps?: number;
  /** Renders one kernel's IR in the backend's language, as a function called `name`. */
  render(ir: KernelIR, name: string): string;
  /** A symbol name unique to a rendered kernel body (a hash of it and the toolchain). */
  kernelName(body: string): string;
  /**
   * The kernel id of a library matrix product for `dtype` (the system BLAS on the CPU),
   * or undefined where there is none; its args are described in native/cpu/blas.h.
   */
  libraryGemm?(dtype: DType): number | undefined;
  /** What runs library products (e.g. the BLAS's file name), or null where there is none. */
  libraryName?(): string | null;
  /** Why there is no library for products, or null where there is one. */
  libraryUnavailableReason?(): string | null;
  /** Returns kernel ids for the named kernels, compiling (in one batch) those not cached. */
  kernels(sources: readonly KernelSource[]): number[];
  /** Allocates a buffer (throws OutOfMemoryError). */
  alloc(nbytes: number): BufferRef;
  write(buffer: BufferRef, byteOffset: number, src: ArrayBufferView): void;
  read(buffer: BufferRef, byteOffset: number, dst: ArrayBufferView): void;
  /**
   * Host-visible memory only (cpu, Metal's shared buffers): an ArrayBuffer over the
   * buffer's memory, no copy. It pins the memory while it lives, so freeing the buffer
   * meanwhile never leaves it dangling. Absent, or null, where reads must copy.
   */
  view?(buffer: BufferRef): ArrayBuffer | null;
  /** Runs a plan's commands (see src/runtime/native.ts for the encoding). */
  run(commands: Int32Array, args: BigInt64Array): void;
  runAsync(commands: Int32Array, args: BigInt64Array): Promise<void>;
  /** GPU backends: runs a plan once and returns its device time in milliseconds. */
  timeRun?(commands: Int32Array, args: BigInt64Array): number;
  memory(): MemoryStats;
  clearCache(): void;
  setCacheLimit(bytes: number): void;
  setMemoryLimit(bytes: number): void;
  /**
   * GPU backends: the launch words appended to a kernel's command (see GPU_LAUNCH_WORDS
   * in src/runtime/native.ts), from its IR and its args at plan time. CPU: absent.
   */
  launchWords?(ir: KernelIR, args: readonly number[]): number[];
  /** The device this backend runs on (throws BackendUnavailableError where it cannot run). */
  deviceInfo?(): DeviceInfo;
  /**
   * GPU backends with device graphs (CUDA): records a plan's launches once as a graph over
   * the buffers its commands name (the caller keeps them alive until `release`). Null
   * where graphs are unavailable; absent on backends without them.
   */
  recordGraph?(commands: Int32Array, args: BigInt64Array): DeviceGraph | null;
  /**
   * CPU: validates a plan once for repeated runs in which only the buffer ids at the
   * command word positions `patch` change (compile's replays). Absent where each run
   * goes through `run`.
   */
  prepareReplay?(commands: Int32Array, args: BigInt64Array, patch: Int32Array): PreparedReplay;
}

/** A plan validated once (see Backend.prepareReplay). */
export interface PreparedReplay {
  /** Runs the plan synchronously with `ids` (one per patch position) as its patched buffer ids. */
  run(ids: Int32Array): void;
}

/** A plan recorded once as a device graph (see Backend.recordGraph). */
export interface DeviceGraph {
  /**
   * Copies each (source id, destination id) pair of `before` (the destination's bytes),
   * launches the graph once, copies the pairs of `after`, and waits for the device.
   */
  replay(before: Int32Array, after: Int32Array): void;
  /** Frees the graph. */
  release(): void;
}
