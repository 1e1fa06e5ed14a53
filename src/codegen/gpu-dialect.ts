/**
 * The GPU dialect interface: what the shared GPU walker (gpu-walker.ts and the kernel
 * families, gpu-*.ts) asks of a GPU language.
 *
 * ## The dialect interface (keep stable: cuda.ts and msl.ts both implement it)
 *
 * A dialect gives:
 * - `computeType` / `storageType`: register and memory type names per dtype
 *   (float16/bfloat16 compute in float32 and are stored as 16-bit unsigned bits);
 *   `null` for a dtype the language lacks (Metal: float64), which makes the renderer
 *   throw a DTypeError-like `Error` naming the dtype;
 * - `wideAcc`: the accumulator type of float sums and products (`double` in CUDA;
 *   `float` where there is no double);
 * - `kernelHead(name, params, argWords, threads, argsInline)`: the text that opens a
 *   kernel, up to and including `{`. Params are the buffers in order (output first),
 *   each with its name, storage type and whether it is read-only (the last is the
 *   runtime's zero-initialized `scratch` buffer of bytes); then the args blob
 *   `MaArgs<argWords>`, visible in the body as `a` (CUDA: a by-value parameter, or, when
 *   `argsInline` is false because the blob exceeds GPU_ARGS_INLINE_BYTES, a pointer to
 *   a device copy; Metal: a `constant` reference bound after the buffers). Buffer i is named `b{i}`. The dialect adds
 *   whatever the language needs to make the index expressions below valid (Metal:
 *   `[[thread_position_in_threadgroup]]`-style parameters);
 * - `threadX`, `blockX`, `blockDimX`, `gridDimX` (and `threadY`, `blockY`, `blockZ`):
 *   expressions for the thread's index in its block, the block's index in the grid, the
 *   block size and the grid size, as unsigned 32-bit values;
 * - `barrier`: a block-wide barrier over shared (threadgroup) memory; `barrierAll`: one
 *   that also orders the block's device-memory accesses (CUDA: `__syncthreads()` does
 *   both; Metal: `mem_device | mem_threadgroup`), where threads of a block hand values
 *   through device memory (long sorts in the scratch buffer, scatter's base); `fence`,
 *   `atomicIncrement(ptr)` and `readCoherent(type, base, index)`: what split
 *   reductions need to hand partial results between blocks through the scratch buffer;
 * - `shared(type, name, count)`: a declaration of a shared array inside the kernel body;
 * - `shuffleDown(expr, delta)`: the value of `expr` in lane `lane + delta` of the warp
 *   (SIMD group of 32); it must accept every accumulator type the renderer uses
 *   (the prelude overloads `ma_shfl_down` for that in CUDA);
 * - `math(fn, cls)`: the name of a libm-style function (`exp`, `log`, `sin`, ...) for
 *   float (`f`) or double (`d`) arguments;
 * - `argDouble(expr)`: reinterpret an int64 arg word as a double (float constants
 *   travel as doubles in the args blob);
 * - `ptr(type)`: a pointer type to `type` in device (global) memory, for vector
 *   accesses (Metal: `device type *`);
 * - `vectorType(bytes)`: an unsigned type of 1, 2, 4, 8 or 16 bytes used to move
 *   aligned groups of elements in one access (through a union with the elements);
 * - `unroll`: the pragma that fully unrolls the next loop; `unrollBy(n)` unrolls n times;
 * - `sharedPtr(type)`: a pointer type into shared memory; `vec4(type)`: the 4-wide vector
 *   of a compute type (fields x, y, z, w), or null (then tiles are read element-wise);
 * - `prelude`: text compiled before every kernel. It must define `MaArgs<N>` (a struct
 *   with `W w[N]`), `INFINITY`, the fixed-width integer names (`int8_t` ... `uint64_t`),
 *   and these helpers, with the C prelude's semantics (src/codegen/c.ts): half and
 *   bfloat conversions `ma_h2f ma_f2h ma_rh ma_rh_d ma_b2f ma_f2b ma_rb ma_rb_d`;
 *   per integer dtype `ma_f2i_<dt> ma_shl_<dt> ma_shr_<dt> ma_floordiv_<dt> ma_rem_<dt>
 *   ma_pow_<dt>` (`intHelpers` in prelude-text.ts renders them given a function qualifier);
 *   `ma_floordiv_d ma_rem_d ma_logaddexp ma_erfinv` on the widest float;
 *   `ma_sigmoid_f ma_silu_f ma_gelu_f` on float, and `ma_sigmoid_d ma_silu_d ma_gelu_d`
 *   on double where the language has it;
 *   `ma_shfl_down` overloads.
 *
 */
import type { DType } from '../core/dtype.js';
import type { ReduceOp } from '../core/node.js';

/** A kernel parameter (a buffer). */
export interface GpuParam {
  readonly name: string;
  /** Storage type of the elements. */
  readonly type: string;
  readonly readonly: boolean;
}

/** What differs between GPU languages (see the header comment for each member). */
export interface GpuDialect {
  readonly name: string;
  readonly computeType: Readonly<Record<DType, string | null>>;
  readonly storageType: Readonly<Record<DType, string | null>>;
  readonly wideAcc: string;
  /** The signed and unsigned 64-bit integer type names. */
  readonly int64: string;
  readonly uint64: string;
  kernelHead(name: string, params: readonly GpuParam[], argWords: number, threads: number, argsInline: boolean): string;
  readonly threadX: string;
  readonly threadY: string;
  readonly blockX: string;
  readonly blockY: string;
  readonly blockZ: string;
  readonly blockDimX: string;
  readonly gridDimX: string;
  readonly gridDimY: string;
  readonly barrier: string;
  /**
   * A block-wide barrier that also orders device-memory accesses among the block's
   * threads (sorts that merge in the scratch buffer, a scatter's base before its
   * updates). CUDA's `__syncthreads()` does both; Metal's barrier names the address
   * spaces it orders.
   */
  readonly barrierAll: string;
  /** Makes this thread's device-memory writes visible to other blocks before what follows. */
  readonly fence: string;
  /** Atomically adds 1 to the uint32 at `ptr` (device memory); the value before. */
  atomicIncrement(ptr: string): string;
  /** Reads `base[index]` (device memory, element type `type`) bypassing stale caches. */
  readCoherent(type: string, base: string, index: string): string;
  shared(type: string, name: string, count: number): string;
  shuffleDown(expr: string, delta: string): string;
  math(fn: string, cls: 'f' | 'd'): string;
  argDouble(expr: string): string;
  ptr(type: string): string;
  vectorType(bytes: number): string;
  readonly unroll: string;
  /** The pragma that unrolls the next loop `n` times (several loads in flight). */
  unrollBy(n: number): string;
  /** A pointer type to `type` in shared (threadgroup) memory, for vector reads of tiles. */
  sharedPtr(type: string): string;
  /** The 4-wide vector type of a compute type (`float4`), or null where there is none. */
  vec4(type: string): string | null;
  readonly prelude: string;
  /**
   * TensorFloat-32 warp matrix products (CUDA: mma.sync m16n8k8), used for float32
   * matmuls under setMatmulPrecision('tf32') where asyncCopy is present too. The prelude then defines
   * `uint32_t ma_tf32(float)` (round to TF32 bits) and
   * `void ma_mma_tf32(float c[4], const uint32_t a[4], const uint32_t b[2])` with the
   * PTX fragment layout of m16n8k8 (g = lane / 4, t = lane % 4: a = A[g][t], A[g+8][t],
   * A[g][t+4], A[g+8][t+4]; b = B[t][g], B[t+4][g]; c = C[g][2t], C[g][2t+1],
   * C[g+8][2t], C[g+8][2t+1]). Absent: tf32 matmuls run the exact kernel.
   */
  readonly tensorCoresTf32?: boolean;
  /**
   * Optional: asynchronous copies from device to shared memory (CUDA: cp.async), which
   * the float32 product kernels pipeline several tiles deep. The prelude then defines
   * `ma_cp16(dst, src, bytes)` and `ma_cp4(dst, src, bytes)` (copy 16 or 4 bytes from
   * device memory to shared memory, zero-filling what is past `bytes`, which is either
   * the full size or 0), `ma_cp_commit()` (closes a group of copies) and
   * `ma_cp_wait<N>()` (waits until at most N groups are pending); `dynamicShared` declares
   * the block's dynamic shared memory (sized per launch: GpuLaunch.sharedBytes). Absent:
   * float32 products run the scalar kernel, and tensorCoresTf32 is unused.
   */
  readonly asyncCopy?: { dynamicShared(type: string, name: string): string };
  /**
   * Optional: warpgroup TF32 products from shared memory (CUDA sm_90a: wgmma.mma_async
   * m64n256k8), used for float32 matmuls under setMatmulPrecision('tf32') in place of
   * tensorCoresTf32; asyncCopy must be present too. The prelude then defines
   * `ma_wgmma_tf32(float d[128], const uint32_t a[4], uint64_t desc)` (the warpgroup's
   * 64×256 D += A·B: A as TF32 fragments in registers, laid out per warp of 16 rows as
   * for tensorCoresTf32; B from shared memory through `desc`), `ma_wg_desc(addr)` (the
   * descriptor of a K-major operand in the 128-byte swizzle at shared address `addr`, 1024-byte
   * aligned per 8 rows of 128 bytes), `ma_shared_addr(ptr)`, `ma_wg_fence()`,
   * `ma_wg_commit()`, `ma_wg_wait0()`, `ma_fence_async_shared()` (makes copies into
   * shared memory visible to the warpgroup products), `ma_cp16s`/`ma_cp4s(dst, src,
   * bytes)` (asynchronous copies to a shared address), `ma_cp_wait_all()`, the mbarrier
   * helpers `ma_mb_init(bar, count)`, `ma_mb_arrive(bar)`, `ma_mb_arrive_copies(bar)`
   * (arrives when the thread's copies land) and `ma_mb_wait(bar, parity)`, and
   * `ma_wg_shrink()`/`ma_wg_grow()` (a copying warpgroup hands registers to two
   * multiplying ones in a 384-thread block).
   */
  readonly warpgroupTf32?: boolean;
  /**
   * float16/bfloat16 warp matrix products (CUDA: mma.sync m16n8k16, float32 accumulation)
   * for every float16 and bfloat16 matmul. The prelude then defines
   * `void ma_mma_f16(float c[4], const uint32_t a[4], const uint32_t b[2])` and
   * `ma_mma_bf16` with the PTX fragment layout of m16n8k16 (each register two
   * consecutive k, the lower k in the low half: a = A[g][2t..], A[g+8][2t..],
   * A[g][2t+8..], A[g+8][2t+8..]; b = B[2t..][g], B[2t+8..][g]; c as for tf32).
   */
  readonly tensorCores16?: boolean;
  /**
   * Optional: 8×8 SIMD-group matrix products over float32 fragments (Metal:
   * `simdgroup_float8x8`), used for float32, float16 and bfloat16 matmuls (operands are
   * converted to float as they are staged in shared memory; float32 accumulation).
   * Absent: those matmuls run the scalar kernel. See {@link SimdgroupMatrixOps}.
   */
  readonly simdgroupMatrix?: SimdgroupMatrixOps;
  /**
   * Optional: split reductions in two dispatches instead of handing partials to the
   * last block through an atomic counter and device fences (for a language without
   * device-scope fences: Metal before MSL 3.2). The runtime follows every launch that
   * has a scratch buffer and a grid of more than one block along y (a split reduction)
   * by a fold dispatch of the same kernel over grid (x, 1, 2); `foldPass` is a boolean
   * expression true in that dispatch. Dispatches are ordered, so the fold sees every
   * partial without fences. See `GpuRenderer.blockReduce` (gpu-walker.ts).
   */
  readonly splitTwoPass?: { readonly foldPass: string };
  /**
   * Optional: ordered passes for the kernels whose threadgroups hand values to one
   * another (a scatter's base before its updates; the merges of sort lines longer than
   * a tile), in place of an atomic counter and device fences (for a language without
   * device-scope fences: Metal before MSL 3.2). Such a kernel (`orderedPassKernel` in
   * gpu.ts) declares one args word more than its IR has, the pass index. Its launch asks
   * for P > 1 passes as grid z, with grid y 1 and scratch bytes: the runtime dispatches
   * it P times over grid (x, 1, 1), in order within one encoder, each time with the args
   * block followed by the pass index (0..P-1). Dispatches in order see each other's
   * writes, so no pass needs a fence. A single dispatch (grid z 1) gets a pass word of 0,
   * but a kernel reads it only on the paths that take passes. `sortScratchBytes` bounds the scratch
   * that one batch of long sort lines shares (more lines take more batches of passes).
   */
  readonly orderedPasses?: { readonly sortScratchBytes: number };
  /**
   * Optional: a function folding a value over the SIMD group (warp) into every lane
   * with the semantics of reduceCombine (Metal: simd_sum ...), for a reduce op and
   * accumulator type; null keeps the shuffleDown loop.
   */
  simdReduce?(op: ReduceOp, accType: string): string | null;
}

/**
 * The spellings of 8×8 SIMD-group matrix operations. Every function is collective: all
 * 32 lanes of the SIMD group must call it with the same arguments (uniform control
 * flow). Fragments hold float32; `src`/`dst` point into shared (threadgroup) memory,
 * row-major with `stride` elements per row.
 */
export interface SimdgroupMatrixOps {
  /** Declares fragment `name` filled with zeros (a full statement). */
  zero(name: string): string;
  /** Declares fragment `name` without a value (a full statement). */
  decl(name: string): string;
  /** Loads fragment `dst` from the 8×8 block at `src` (a full statement). */
  load(dst: string, src: string, stride: number): string;
  /** `acc = a × b + acc` (a full statement). */
  mma(acc: string, a: string, b: string): string;
  /** Stores fragment `src` to the 8×8 block at `dst` (a full statement). */
  store(src: string, dst: string, stride: number): string;
  /**
   * A barrier over the SIMD group that orders its shared-memory accesses: a fragment's
   * elements are written by whichever lanes hold them, so a lane reads what others
   * stored only after it.
   */
  readonly barrier: string;
}

/** How a kernel maps onto the GPU's threads. */
export type GpuStrategy = 'flat' | 'rows' | 'element' | 'scan' | 'matmul' | 'sort' | 'scatter';

/** Grid, block and dynamic shared memory of one launch. */
export interface GpuLaunch {
  grid: [number, number, number];
  block: [number, number, number];
  sharedBytes: number;
  /** Bytes of the zero-initialized scratch buffer the kernel may use (split reductions). */
  scratchBytes: number;
}

/**
 * Largest args blob passed inline (by value); larger blobs (kernels with thousands of
 * constants) travel as a pointer to a device copy the runtime makes per launch. Part of
 * the launch contract (src/runtime/native.ts).
 */
export const GPU_ARGS_INLINE_BYTES = 4096;

/** Unsigned types that move 1..16 bytes in one access (CUDA and MSL both have uint2/uint4). */
const VECTOR_TYPES: Readonly<Record<number, string>> = { 1: 'uint8_t', 2: 'uint16_t', 4: 'uint32_t', 8: 'uint2', 16: 'uint4' };

/**
 * The dialect members CUDA C and MSL spell alike: the prelude's `ma_shfl_down`
 * overloads, vector access types, unroll pragmas and `float4`. A dialect spreads them.
 *
 * @example
 * ```ts
 * const dialect: GpuDialect = { ...GPU_COMMON_SPELLINGS, name: 'cuda', ... };
 * ```
 */
export const GPU_COMMON_SPELLINGS: Pick<GpuDialect, 'shuffleDown' | 'vectorType' | 'unroll' | 'unrollBy' | 'vec4'> = {
  shuffleDown: (expr, delta) => `ma_shfl_down(${expr}, ${delta})`,
  vectorType: (bytes) => {
    const t = VECTOR_TYPES[bytes];
    if (!t) throw new Error(`internal: no ${bytes}-byte vector type`);
    return t;
  },
  unroll: '_Pragma("unroll")',
  unrollBy: (n) => `_Pragma("unroll ${n}")`,
  vec4: (type) => (type === 'float' ? 'float4' : null),
};
