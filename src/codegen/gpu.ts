/**
 * The GPU renderer: one walker over the kernel IR for every GPU language, driven by a
 * {@link GpuDialect} table of what differs (CUDA C in `cuda.ts`, Metal Shading Language
 * in `msl.ts`).
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
 *   ma_pow_<dt>` ({@link gpuIntHelpers} renders them given a function qualifier);
 *   `ma_floordiv_d ma_rem_d ma_logaddexp ma_erfinv` on the widest float;
 *   `ma_sigmoid_f ma_silu_f ma_gelu_f` on float, and `ma_sigmoid_d ma_silu_d ma_gelu_d`
 *   on double where the language has it;
 *   `ma_shfl_down` overloads.
 *
 * ## Kernels and launch geometry
 *
 * {@link gpuStrategy} picks, from the IR alone (so one source serves every size), how
 * a kernel maps onto threads; {@link gpuLaunch} computes grid, block and shared bytes
 * for one launch from the bound args (sizes). Both live here so every dialect agrees.
 * - `flat`: one thread per group of V consecutive output elements (V×element ≤ 16
 *   bytes); within a row, loads that walk the inner dim with unit stride are moved in
 *   one 16-byte (or narrower) access where aligned; grid-stride loop.
 * - `rows`: one block per row of the output (every dim but the innermost); reductions
 *   that are constant along the row (softmax's max and sum, layer norm's moments) are
 *   computed once by the whole block (warp shuffles, then shared memory), then the
 *   block's threads sweep the row.
 * - `element`: one block per output element, its reductions computed by the block
 *   (row sums over a contiguous axis). With few outputs (a full sum) the reduction is
 *   split over gridDim.y blocks per output: each writes a partial to the scratch
 *   buffer, and the last to finish (an atomic counter, reset after) folds the partials
 *   in a fixed order, so results do not depend on timing. A dialect with
 *   `splitTwoPass` (Metal) folds them in a second dispatch of the kernel instead.
 * - `scan`: one thread per line along the last dim.
 * - `sort`: one block per line along the last dim, or per group of short lines that fill
 *   a tile together (stable, ascending, NaN last). Tiles of up to {@link sortTile}
 *   elements (2 key buffers, plus 2 uint16 position buffers for argsort, within Metal's
 *   32 KB of threadgroup memory) sort in shared memory: runs of 8 by insertion, one
 *   thread each, then merge passes where every thread places its element by binary
 *   search in the partner run. A longer line merges its sorted tiles in the block's
 *   region of the scratch buffer by merge path (ping-pong halves; each thread merges 16
 *   consecutive outputs after one co-rank search; the last pass writes the output) and
 *   zeroes the region after.
 * - `scatter`: every block computes a share of the base (grid-stride); the last block
 *   to finish (an atomic counter in scratch, as split reductions) applies the updates in
 *   index order: one thread per run of equal positions when positions never decrease,
 *   else one thread for all (deterministic; repeated positions combine as on the CPU).
 * - `matmul`: {@link matmulKernel} picks the kernel from the dialect's capabilities and
 *   gpuLaunch takes its tile from MATMUL_TILES, so source and geometry agree. The
 *   scalar kernel: 128×128 output tiles per 256-thread block (8×8 per thread), K in
 *   steps of 8 through double-buffered shared memory, the epilogue per element, exact
 *   FMA. CUDA's tensor-core kernels (tf32, float16/bfloat16) keep that tile; Metal's
 *   SIMD-group matrix kernel has 64×64 tiles per 128-thread threadgroup (SG).
 */
import { DTYPES, type DType } from '../core/dtype.js';
import type { ReduceOp } from '../core/node.js';
import { cClass, reduceIdentity, reduceStep, wrapType } from './ctypes.js';
import type { GateClause, IndexExpr, KernelIR, ReduceStmt, Stmt } from './ir.js';
import { fillOpRow, GPU_OPS } from './op-expressions.js';

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
   * partial without fences. See {@link GpuRenderer.blockReduce}.
   */
  readonly splitTwoPass?: { readonly foldPass: string };
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

/** Threads per block of the block-cooperative strategies. */
const BLOCK_THREADS = 256;
/** Threads per block of flat kernels. */
const FLAT_THREADS = 256;
/** Matmul tile: BM×BN outputs per block, BK deep, TM×TN per thread. */
const MM = { BM: 128, BN: 128, BK: 8, threads: 256 } as const;
/**
 * The SIMD-group matrix tile: 64×64 outputs per 128-thread block (4 SIMD groups in 2×2,
 * each 32×32 = 4×4 fragments of 8×8), K in steps of 32 through shared memory. A is
 * staged [64][32 + 4] and B [32][64 + 4] (rows padded by 16 bytes against bank
 * conflicts): (64·36 + 32·68)·4 = 17,920 bytes of float, reused after the K loop as
 * each SIMD group's 32×32 block of results for the epilogue (4·1024·4 = 16,384 bytes).
 * Metal allows 32 KB of threadgroup memory per threadgroup.
 */
const SG = { BM: 64, BN: 64, BK: 32, threads: 128, LDA: 36, LDB: 68 } as const;
/** Floats of the SIMD-group matmul's shared array: the larger of the tiles and the results. */
const SG_SHARED_FLOATS = Math.max(SG.BM * SG.LDA + SG.BK * SG.LDB, (SG.threads / 32) * 32 * 32);

/**
 * The float32 product kernels fed by asynchronous copies (exact and TF32): 128×128
 * tiles, 256 threads, K in steps of 32 through STAGES shared buffers of A as [m][k]
 * (rows padded to LDA floats) and B as [k][n] (rows of LDB): padding keeps the
 * 16-byte row starts and spreads the fragment reads over the banks.
 */
const AS = { BM: 128, BN: 128, BK: 32, threads: 256, STAGES: 3, LDA: 36, LDB: 136 } as const;
/** Floats of one of AS's shared buffers. */
const AS_STAGE_FLOATS = AS.BM * AS.LDA + AS.BK * AS.LDB;

/**
 * The TF32 product on warpgroup instructions (dialect.warpgroupTf32): 256×128 tiles (m ×
 * n) per block of three warpgroups, two that multiply and one that copies, K in steps of
 * 32 through STAGES stages. A's tile is stored as the products' shared-memory operand: BM
 * rows × 128 bytes (k contiguous), 16-byte chunk c of row r at chunk c ^ (r % 8). B's tile
 * is [k][n] with n at n ^ 8·(k % 4), or, when B's k is contiguous, [n][k] with chunk c of
 * row n at c ^ (n / 2 % 8): dense, with fragment reads on distinct banks.
 */
const WG = { BM: 256, BN: 128, BK: 32, threads: 384, STAGES: 4 } as const;
/** Bytes of A's tile in one stage of WG (a multiple of 1024, the swizzle's period). */
const WG_A_BYTES = WG.BM * WG.BK * 4;
/** Bytes of B's tile in one stage of WG. */
const WG_B_BYTES = WG.BN * WG.BK * 4;
/**
 * Dynamic shared bytes of WG: the stages of A, then those of B, then two mbarriers per
 * stage (filled, emptied), plus 1024 for aligning the first stage.
 */
const WG_SHARED_BYTES = WG.STAGES * (WG_A_BYTES + WG_B_BYTES + 16) + 1024;

/** The matrix-product kernels the walker renders, and each one's block tile and dynamic shared bytes. */
type MatmulKernel = 'scalar' | 'async32' | 'tf32' | 'wgmma' | 'mma16' | 'simdgroup';
const MATMUL_TILES: Readonly<Record<MatmulKernel, { BM: number; BN: number; threads: number; sharedBytes: number }>> = {
  scalar: { ...MM, sharedBytes: 0 },
  async32: { ...AS, sharedBytes: AS.STAGES * AS_STAGE_FLOATS * 4 },
  tf32: { ...AS, sharedBytes: AS.STAGES * AS_STAGE_FLOATS * 4 },
  // 1024 bytes more than the stages: the kernel aligns its first stage up to 1024.
  wgmma: { ...WG, sharedBytes: WG_SHARED_BYTES },
  mma16: { ...MM, sharedBytes: 0 },
  simdgroup: { ...SG, sharedBytes: 0 },
};

/** Operand dtypes the SIMD-group kernel takes (converted to float32 in shared memory). */
const SIMDGROUP_DTYPES: ReadonlySet<DType> = new Set<DType>(['float32', 'float16', 'bfloat16']);

/**
 * Which matmul kernel `dialect` renders for `ir`: a function of both, so that the
 * source and its launch geometry (gpuLaunch) always agree.
 */
export function matmulKernel(dialect: GpuDialect, ir: KernelIR): MatmulKernel {
  const mm = ir.matmul as NonNullable<KernelIR['matmul']>;
  if (mm.dtype === 'float32' && dialect.asyncCopy) {
    if (mm.precision !== 'tf32') return 'async32';
    return dialect.warpgroupTf32 ? 'wgmma' : dialect.tensorCoresTf32 ? 'tf32' : 'async32';
  }
  if ((mm.dtype === 'float16' || mm.dtype === 'bfloat16') && dialect.tensorCores16) return 'mma16';
  if (dialect.simdgroupMatrix && SIMDGROUP_DTYPES.has(mm.dtype)) return 'simdgroup';
  return 'scalar';
}
/** Grid-stride kernels never launch more blocks than this (they loop instead). */
const MAX_BLOCKS = 65535 * 4;

/** Renders kernels of one dialect. */
class GpuRenderer {
  /** Where a matmul epilogue reads the product of its element. */
  mmValue = 'acc[ii][jj]';

  constructor(
    private readonly D: GpuDialect,
    private readonly ir: KernelIR,
  ) {}

  ct(d: DType): string {
    const t = this.D.computeType[d];
    if (t === null) throw new Error(`dtype ${d} is not supported by the ${this.D.name} backend`);
    return t;
  }

  st(d: DType): string {
    const t = this.D.storageType[d];
    if (t === null) throw new Error(`dtype ${d} is not supported by the ${this.D.name} backend`);
    return t;
  }

  opExpr(op: string, dtype: DType, srcs: readonly string[]): string {
    const mathCls = cClass(dtype) === 'd' ? 'd' : 'f';
    // `(double)` steps use the dialect's widest float: a dialect without double (Metal) computes them in float.
    return fillOpRow(GPU_OPS[op], op, dtype, srcs, this.ct(dtype), 'GPU')
      .replace(/@(\w+)\(/g, (_, fn: string) => `${this.D.math(fn, mathCls)}(`)
      .replace(/%(\w+)\(/g, (_, fn: string) => `${this.D.math(fn, 'd')}(`)
      .replace(/\(double\)/g, `(${this.D.wideAcc})`);
  }

  roundTo(dtype: DType, expr: string): string {
    if (dtype === 'float16') return `ma_rh(${expr})`;
    if (dtype === 'bfloat16') return `ma_rb(${expr})`;
    return expr;
  }

  castExpr(from: DType, to: DType, x: string): string {
    const fc = cClass(from);
    const tc = cClass(to);
    if (tc === 'b') return `(uint8_t)(${x} != 0)`;
    if (tc === 'i' || tc === 'u') {
      if (fc === 'f' || fc === 'd') return `ma_f2i_${to}((${this.D.wideAcc})${x})`;
      return `(${this.ct(to)})${x}`;
    }
    if (to === 'float16' || to === 'bfloat16') {
      const fn = to === 'float16' ? 'ma_rh' : 'ma_rb';
      if (fc === 'f') return `${fn}(${x})`;
      return `${fn}_d((${this.D.wideAcc})${x})`;
    }
    return `(${this.ct(to)})${x}`;
  }

  /** Storage value → compute value. */
  fromStorage(d: DType, x: string): string {
    return d === 'float16' ? `ma_h2f(${x})` : d === 'bfloat16' ? `ma_b2f(${x})` : x;
  }

  /** Compute value → storage value. */
  toStorage(d: DType, x: string): string {
    return d === 'float16' ? `ma_f2h(${x})` : d === 'bfloat16' ? `ma_f2b(${x})` : x;
  }

  arg(slot: number): string {
    return `a.w[${slot}]`;
  }

  index(ix: IndexExpr, dimVar: (d: number) => string): string {
    const parts: string[] = [];
    if (ix.base >= 0) parts.push(this.arg(ix.base));
    for (const t of ix.terms) {
      const name = 'dim' in t.v ? dimVar(t.v.dim) : 'rvar' in t.v ? `v${t.v.rvar}` : `r${t.v.loop}`;
      parts.push(t.coef === 'unit' ? name : `${name} * ${this.arg(t.coef)}`);
    }
    return parts.length ? parts.join(' + ') : '0';
  }

  clause(c: GateClause, dimVar: (d: number) => string): string {
    const ix = this.index(c.index, dimVar);
    return `(uint8_t)((${ix}) >= ${this.arg(c.lo)} && (${ix}) < ${this.arg(c.hi)})`;
  }

  /**
   * One statement. `reduceMode` says how a reduce renders: sequentially in this thread,
   * or cooperatively by the whole block (every thread must then reach it).
   */
  stmt(s: Stmt, dimVar: (d: number) => string, reduceMode: 'serial' | 'block', loadOverride?: Map<number, string>): string {
    const W = this.D.int64;
    switch (s.k) {
      case 'rvar':
        return `const ${W} v${s.id} = ((${this.index(s.linear, dimVar)}) / ${this.arg(s.div)}) % ${this.arg(s.mod)};`;
      case 'load': {
        const ct = this.ct(s.dtype);
        const over = loadOverride?.get(s.id);
        const elem = over ?? `b${s.buf}[${this.index(s.index, dimVar)}]`;
        const conv = this.fromStorage(s.dtype, elem);
        const value = s.gate !== null && over === undefined ? `(v${s.gate} ? ${conv} : (${ct})0)` : conv;
        return `const ${ct} v${s.id} = ${value};`;
      }
      case 'arg': {
        const ct = this.ct(s.dtype);
        const c = cClass(s.dtype);
        const dbl = this.D.argDouble(this.arg(s.slot));
        const value =
          s.dtype === 'float16'
            ? `ma_rh_d(${dbl})`
            : s.dtype === 'bfloat16'
              ? `ma_rb_d(${dbl})`
              : c === 'f' || c === 'd'
                ? `(${ct})${dbl}`
                : `(${ct})${this.arg(s.slot)}`;
        return `const ${ct} v${s.id} = ${value};`;
      }
      case 'alu': {
        const expr = this.opExpr(
          s.op,
          s.dtype,
          s.srcs.map((x) => `v${x}`),
        );
        return `const ${this.ct(s.result)} v${s.id} = ${s.result === s.dtype ? this.roundTo(s.result, expr) : expr};`;
      }
      case 'cast':
        return `const ${this.ct(s.to)} v${s.id} = ${this.castExpr(s.from, s.to, `v${s.src}`)};`;
      case 'where':
        return `const ${this.ct(s.dtype)} v${s.id} = v${s.srcs[0]} ? v${s.srcs[1]} : v${s.srcs[2]};`;
      case 'gate':
        return `const uint8_t v${s.id} = ${this.clause(s.clause, dimVar)};`;
      case 'reduce':
        return (reduceMode === 'block' ? this.blockReduce(s, dimVar) : this.serialReduce(s, dimVar)).join('\n');
      case 'mm':
        return `const ${this.ct(s.dtype)} v${s.id} = ${this.roundTo(s.dtype, `(${this.ct(s.dtype)})${this.mmValue}`)};`;
      case 'index':
        return `const ${this.ct(s.dtype)} v${s.id} = (${this.ct(s.dtype)})(${this.index(s.index, dimVar)});`;
      case 'gidx': {
        // A gathered index: negative counts from the end once, then clamped into [0, n).
        const n = this.arg(s.size);
        return [
          `const ${W} v${s.id}w = (${W})v${s.src} < 0 ? (${W})v${s.src} + ${n} : (${W})v${s.src};`,
          `const ${W} v${s.id} = v${s.id}w < 0 ? (${W})0 : v${s.id}w >= ${n} ? ${n} - 1 : v${s.id}w;`,
        ].join('\n');
      }
    }
  }

  // ---- reductions ----

  accType(s: ReduceStmt): string {
    if ((s.op === 'sum' || s.op === 'prod') && DTYPES[s.dtype].kind === 'float') return this.D.wideAcc;
    if (s.op === 'any' || s.op === 'all') return 'uint8_t';
    return this.ct(s.dtype);
  }

  reduceInit(s: ReduceStmt): string {
    return reduceIdentity(s.op, s.dtype, this.ct(s.dtype));
  }

  reduceCombine(s: ReduceStmt, acc: string, x: string): string {
    return reduceStep(s.op, s.dtype, this.ct(s.dtype), this.accType(s), acc, x, '||');
  }

  reduceFinal(s: ReduceStmt, acc: string): string {
    const resultT = this.ct(s.result);
    if (this.accType(s) !== this.D.wideAcc || this.D.wideAcc === resultT) return `(${resultT})${acc}`;
    return s.result === 'float16' ? `ma_rh_d(${acc})` : s.result === 'bfloat16' ? `ma_rb_d(${acc})` : `(${resultT})${acc}`;
  }

  private body(s: ReduceStmt, dimVar: (d: number) => string, indent: string): string[] {
    return s.body.map((b) => indent + this.stmt(b, dimVar, 'serial').split('\n').join(`\n${indent}`));
  }

  /** Total reduction size as an expression (product of loop sizes). */
  private reduceTotal(s: ReduceStmt): string {
    return s.loops.map((l) => `(${this.D.int64})${this.arg(l.size)}`).join(' * ') || '1';
  }

  /** Decodes a flat reduction index `f` into the reduce's loop vars (last loop fastest). */
  private decodeLoops(s: ReduceStmt, f: string, indent: string): string[] {
    const W = this.D.int64;
    const out: string[] = [`${indent}${W} rt${s.id} = ${f};`];
    for (let k = s.loops.length - 1; k >= 0; k--) {
      const l = s.loops[k];
      if (k === 0) out.push(`${indent}const ${W} r${l.loop} = rt${s.id};`);
      else out.push(`${indent}const ${W} r${l.loop} = rt${s.id} % ${this.arg(l.size)}; rt${s.id} /= ${this.arg(l.size)};`);
    }
    return out;
  }

  private isArg(s: ReduceStmt): boolean {
    return s.op === 'argmax' || s.op === 'argmin';
  }

  /** "x is a better candidate than best" for argmax/argmin (first NaN wins; ties keep the earlier). */
  private argBetter(s: ReduceStmt, x: string, xi: string, best: string, bi: string): string {
    const better = s.op === 'argmax' ? '>' : '<';
    if (DTYPES[s.dtype].kind === 'float') {
      return `((${x} != ${x}) ? ((${best} == ${best}) || ${xi} < ${bi}) : ((${best} == ${best}) && ((${x} ${better} ${best}) || (${x} == ${best} && ${xi} < ${bi}))))`;
    }
    return `((${x} ${better} ${best}) || (${x} == ${best} && ${xi} < ${bi}))`;
  }

  /** A reduction computed by this thread alone. */
  serialReduce(s: ReduceStmt, dimVar: (d: number) => string): string[] {
    const W = this.D.int64;
    const out: string[] = [];
    const resultT = this.ct(s.result);
    out.push(`${resultT} v${s.id};`);
    out.push('{');
    if (this.isArg(s)) {
      const T = this.ct(s.dtype);
      out.push(`  ${T} best = 0; ${W} bi = -1;`);
      out.push(`  for (${W} f = 0, tot = ${this.reduceTotal(s)}; f < tot; f++) {`);
      out.push(...this.decodeLoops(s, 'f', '    '));
      out.push(...this.body(s, dimVar, '    '));
      out.push(`    const ${T} x = v${s.value};`);
      out.push(`    if (bi < 0 || ${this.argBetter(s, 'x', 'f', 'best', 'bi')}) { best = x; bi = f; }`);
      out.push('  }');
      out.push(`  v${s.id} = (${resultT})(bi < 0 ? 0 : bi);`);
      out.push('}');
      return out;
    }
    const A = this.accType(s);
    out.push(`  ${A} acc = ${this.reduceInit(s)};`);
    let ind = '  ';
    for (const l of s.loops) {
      out.push(`${ind}for (${W} r${l.loop} = 0; r${l.loop} < ${this.arg(l.size)}; r${l.loop}++) {`);
      ind += '  ';
    }
    out.push(...this.body(s, dimVar, ind));
    out.push(`${ind}acc = ${this.reduceCombine(s, 'acc', `v${s.value}`)};`);
    for (let k = s.loops.length - 1; k >= 0; k--) {
      ind = ind.slice(2);
      out.push(`${ind}}`);
    }
    out.push(`  v${s.id} = ${this.reduceFinal(s, 'acc')};`);
    out.push('}');
    return out;
  }

  /** Shared arrays each block-cooperative reduce uses (declared once at kernel top). */
  sharedFor(s: ReduceStmt, split = false): string[] {
    if (this.isArg(s)) return [this.D.shared(this.ct(s.dtype), `shv${s.id}`, 32), this.D.shared(this.D.int64, `shi${s.id}`, 32)];
    const out = [this.D.shared(this.accType(s), `sh${s.id}`, 32)];
    if (split) out.push(this.D.shared('int', `shl${s.id}`, 1));
    return out;
  }

  /**
   * A reduction computed by the whole block: each thread folds a strided share of the
   * flat reduction range, then warps fold by shuffles and warp leaders through shared
   * memory; every thread gets the result. Every thread of the block must reach it.
   */
  blockReduce(s: ReduceStmt, dimVar: (d: number) => string, split = false): string[] {
    const D = this.D;
    const W = D.int64;
    const out: string[] = [];
    const resultT = this.ct(s.result);
    const tid = `(${W})${D.threadX}`;
    const nthr = `(${W})${D.blockDimX}`;
    out.push(`${resultT} v${s.id};`);
    out.push('{');
    out.push(`  const unsigned lane = ${D.threadX} & 31u, warp = ${D.threadX} >> 5, nwarps = (${D.blockDimX} + 31u) >> 5;`);
    if (this.isArg(s)) {
      const T = this.ct(s.dtype);
      out.push(`  ${T} best = 0; ${W} bi = -1;`);
      out.push(`  for (${W} f = ${tid}, tot = ${this.reduceTotal(s)}; f < tot; f += ${nthr}) {`);
      out.push(...this.decodeLoops(s, 'f', '    '));
      out.push(...this.body(s, dimVar, '    '));
      out.push(`    const ${T} x = v${s.value};`);
      out.push(`    if (bi < 0 || ${this.argBetter(s, 'x', 'f', 'best', 'bi')}) { best = x; bi = f; }`);
      out.push('  }');
      // Empty candidates carry bi = -1 and never win.
      const fold = (indent: string): string[] => [
        `${indent}for (int d = 16; d > 0; d >>= 1) {`,
        `${indent}  const ${T} ob = ${D.shuffleDown('best', 'd')};`,
        `${indent}  const ${W} oi = ${D.shuffleDown('bi', 'd')};`,
        `${indent}  if (oi >= 0 && (bi < 0 || ${this.argBetter(s, 'ob', 'oi', 'best', 'bi')})) { best = ob; bi = oi; }`,
        `${indent}}`,
      ];
      out.push(...fold('  '));
      out.push(`  if (lane == 0) { shv${s.id}[warp] = best; shi${s.id}[warp] = bi; }`);
      out.push(`  ${D.barrier}`);
      out.push('  if (warp == 0) {');
      out.push(`    best = lane < nwarps ? shv${s.id}[lane] : (${T})0; bi = lane < nwarps ? shi${s.id}[lane] : (${W})-1;`);
      out.push(...fold('    '));
      out.push(`    if (lane == 0) shi${s.id}[0] = bi;`);
      out.push('  }');
      out.push(`  ${D.barrier}`);
      out.push(`  v${s.id} = (${resultT})(shi${s.id}[0] < 0 ? 0 : shi${s.id}[0]);`);
      out.push(`  ${D.barrier}`);
      out.push('}');
      return out;
    }
    const A = this.accType(s);
    const twoPass = split ? D.splitTwoPass : undefined;
    out.push(`  ${A} acc = ${this.reduceInit(s)};`);
    if (twoPass) {
      // Counters at the start of the scratch, partials after (as below). In the fold
      // dispatch count[u] holds how many partials the first dispatch wrote; the fold
      // then reads no input (its range is empty).
      out.push(`  ${D.ptr('uint32_t')}count = (${D.ptr('uint32_t')})scratch;`);
      out.push(`  ${D.ptr(A)}part = (${D.ptr(A)})(scratch + ${SPLIT_COUNTER_BYTES});`);
      out.push(`  const unsigned nparts = (${twoPass.foldPass}) ? count[u] : 0u;`);
    }
    if (split) {
      // This block's share of the range: chunk blockIdx.y of gridDim.y.
      out.push(`  const ${W} tot = ${this.reduceTotal(s)}, chunk = (tot + ${D.gridDimY} - 1) / ${D.gridDimY};`);
      const end = 'lo + chunk < tot ? lo + chunk : tot';
      out.push(`  const ${W} lo = chunk * ${D.blockY}, hi = ${twoPass ? `nparts != 0 ? lo : (${end})` : end};`);
      out.push(`  ${D.unrollBy(4)} for (${W} f = lo + ${tid}; f < hi; f += ${nthr}) {`);
    } else out.push(`  ${D.unrollBy(4)} for (${W} f = ${tid}, tot = ${this.reduceTotal(s)}; f < tot; f += ${nthr}) {`);
    out.push(...this.decodeLoops(s, 'f', '    '));
    out.push(...this.body(s, dimVar, '    '));
    out.push(`    acc = ${this.reduceCombine(s, 'acc', `v${s.value}`)};`);
    out.push('  }');
    const simd = D.simdReduce?.(s.op, A) ?? null;
    const fold = (indent: string): string[] => [
      simd
        ? `${indent}acc = ${simd}(acc);`
        : `${indent}for (int d = 16; d > 0; d >>= 1) { const ${A} o = ${D.shuffleDown('acc', 'd')}; acc = ${this.reduceCombine(s, 'acc', 'o')}; }`,
    ];
    out.push(...fold('  '));
    out.push(`  if (lane == 0) sh${s.id}[warp] = acc;`);
    out.push(`  ${D.barrier}`);
    out.push('  if (warp == 0) {');
    out.push(`    acc = lane < nwarps ? sh${s.id}[lane] : (${A})${this.reduceInit(s)};`);
    out.push(...fold('    '));
    out.push(`    if (lane == 0) sh${s.id}[0] = acc;`);
    out.push('  }');
    out.push(`  ${D.barrier}`);
    if (twoPass) {
      const gy = D.gridDimY;
      out.push(`  if (${gy} > 1) {`);
      out.push("    // First dispatch: this block's partial, in a fixed slot; the fold dispatch folds them.");
      out.push(`    if (${D.threadX} == 0) {`);
      out.push(`      part[u * ${gy} + ${D.blockY}] = sh${s.id}[0];`);
      out.push(`      if (${D.blockY} == 0) count[u] = ${gy};`);
      out.push('    }');
      out.push(`    ${D.barrier}`);
      out.push('    continue;');
      out.push('  }');
      out.push('  if (nparts != 0) {');
      out.push(`    if (${D.threadX} == 0) {`);
      out.push(`      ${A} t = ${this.reduceInit(s)};`);
      out.push('      for (unsigned q = 0; q < nparts; q++) {');
      out.push(`        t = ${this.reduceCombine(s, 't', 'part[u * nparts + q]')};`);
      out.push(`        part[u * nparts + q] = (${A})0;`);
      out.push('      }');
      out.push(`      sh${s.id}[0] = t;`);
      out.push('      count[u] = 0; // the scratch is left all zero, as the launch contract asks');
      out.push('    }');
      out.push(`    ${D.barrier}`);
      out.push('  }');
    } else if (split) {
      const gy = D.gridDimY;
      out.push(`  if (${gy} > 1) {`);
      // Counters live in a fixed region at the start of the scratch (always zero between
      // launches); partials after it, so no kernel's partials overlap another's counters.
      out.push(`    ${D.ptr('uint32_t')}count = (${D.ptr('uint32_t')})scratch;`);
      out.push(`    ${D.ptr(A)}part = (${D.ptr(A)})(scratch + ${SPLIT_COUNTER_BYTES});`);
      out.push(`    if (${D.threadX} == 0) {`);
      out.push(`      part[u * ${gy} + ${D.blockY}] = sh${s.id}[0];`);
      out.push(`      ${D.fence}`);
      out.push(`      shl${s.id}[0] = ${D.atomicIncrement(`count + u`)} == ${gy} - 1;`);
      out.push('    }');
      out.push(`    ${D.barrier}`);
      out.push(`    if (!shl${s.id}[0]) continue; // not the last block of this output`);
      out.push(`    if (${D.threadX} == 0) {`);
      out.push(`      ${D.fence}`);
      out.push(`      ${A} t = ${this.reduceInit(s)};`);
      out.push(`      for (unsigned q = 0; q < ${gy}; q++) t = ${this.reduceCombine(s, 't', D.readCoherent(A, 'part', `u * ${gy} + q`))};`);
      out.push(`      sh${s.id}[0] = t;`);
      out.push('      count[u] = 0; // ready for the next launch');
      out.push('    }');
      out.push(`    ${D.barrier}`);
      out.push('  }');
    }
    out.push(`  v${s.id} = ${this.reduceFinal(s, `sh${s.id}[0]`)};`);
    out.push(`  ${D.barrier}`);
    out.push('}');
    return out;
  }

  // ---- kernel shells ----

  head(name: string, threads: number): string[] {
    const params: GpuParam[] = this.ir.buffers.map((d, i) => ({ name: `b${i}`, type: this.st(d), readonly: i > 0 }));
    params.push({ name: 'scratch', type: 'uint8_t', readonly: false });
    const words = Math.max(1, this.ir.argWords);
    return [this.D.kernelHead(name, params, words, threads, words * 8 <= GPU_ARGS_INLINE_BYTES)];
  }

  /** Output dim decode of a flat index into i0..i{r-1} (names from dimVar). */
  decode(flat: string, rank: number, dimVar: (d: number) => string, indent: string, from = rank - 1): string[] {
    const W = this.D.int64;
    const out = [`${indent}${W} t_ = ${flat};`];
    for (let d = from; d >= 0; d--) {
      if (d === 0) out.push(`${indent}const ${W} ${dimVar(d)} = t_;`);
      else out.push(`${indent}const ${W} ${dimVar(d)} = t_ % n${d}; t_ /= n${d};`);
    }
    return out;
  }

  dimsDecl(rank: number, indent: string): string[] {
    const W = this.D.int64;
    const out: string[] = [];
    for (let d = 0; d < rank; d++) out.push(`${indent}const ${W} n${d} = ${this.arg(2 + d)};`);
    return out;
  }

  topReduces(): ReduceStmt[] {
    return this.ir.stmts.filter((s): s is ReduceStmt => s.k === 'reduce');
  }

  renderFlat(name: string): string {
    const ir = this.ir;
    const D = this.D;
    const W = D.int64;
    const r = ir.rank;
    const inner = r - 1;
    const outD = ir.buffers[0];
    const V = flatVector(ir);
    const L: string[] = [...this.head(name, FLAT_THREADS)];
    L.push(`  const ${W} N = ${this.arg(0)};`);
    L.push(...this.dimsDecl(r, '  '));
    L.push(`  const ${W} step = (${W})${D.gridDimX} * ${D.blockDimX} * ${V};`);
    L.push(`  for (${W} base = ((${W})${D.blockX} * ${D.blockDimX} + ${D.threadX}) * ${V}; base < N; base += step) {`);
    const res = `v${ir.result}`;
    if (V > 1) {
      const rowVar = (d: number): string => (d === inner ? 'j' : `i${d}`);
      const row0 = (d: number): string => (d === inner ? 'j0' : `i${d}`);
      L.push('    {');
      L.push(...this.decode('base', r, (d) => (d === inner ? 'j0' : `i${d}`), '      '));
      L.push(`      if (j0 + ${V} <= n${inner}) {`);
      // Row-invariant statements once; inner statements per element, unrolled.
      const hoisted: string[] = [];
      const perElem: string[] = [];
      const vecLoads = new Map<number, string>();
      const pre: string[] = [];
      ir.stmts.forEach((s, k) => {
        if (!ir.inner[k]) {
          hoisted.push(`        ${this.stmt(s, row0, 'serial').split('\n').join('\n        ')}`);
          return;
        }
        if (s.k === 'load' && s.gate === null && isUnitInner(s.index, inner, ir)) {
          const sty = this.st(s.dtype);
          const bytes = DTYPES[s.dtype].bytes * V;
          const VT = D.vectorType(bytes);
          pre.push(`        const ${W} x${s.id} = ${this.index(s.index, row0)};`);
          pre.push(`        union { ${VT} v; ${sty} e[${V}]; } t${s.id};`);
          pre.push(`        if ((x${s.id} & ${V - 1}) == 0) t${s.id}.v = *(${D.ptr(`const ${VT}`)})(b${s.buf} + x${s.id});`);
          pre.push(`        else { ${D.unroll} for (int e = 0; e < ${V}; e++) t${s.id}.e[e] = b${s.buf}[x${s.id} + e]; }`);
          vecLoads.set(s.id, `t${s.id}.e[e]`);
        }
        perElem.push(`          ${this.stmt(s, rowVar, 'serial', vecLoads).split('\n').join('\n          ')}`);
      });
      L.push(...hoisted, ...pre);
      const sty = this.st(outD);
      const OVT = D.vectorType(DTYPES[outD].bytes * V);
      L.push(`        union { ${OVT} v; ${sty} e[${V}]; } o;`);
      L.push(`        ${D.unroll} for (int e = 0; e < ${V}; e++) {`);
      L.push(`          const ${W} j = j0 + e;`);
      L.push(...perElem);
      L.push(`          o.e[e] = ${this.toStorage(outD, res)};`);
      L.push('        }');
      L.push(`        *(${D.ptr(OVT)})(b0 + base) = o.v;`);
      L.push('        continue;');
      L.push('      }');
      L.push('    }');
    }
    // Scalar path: each element decoded on its own.
    L.push(`    for (int e = 0; e < ${V} && base + e < N; e++) {`);
    const dimVar = (d: number): string => (d === inner ? 'j' : `i${d}`);
    L.push(...this.decode('base + e', r, dimVar, '      '));
    for (const s of ir.stmts) L.push(`      ${this.stmt(s, dimVar, 'serial').split('\n').join('\n      ')}`);
    L.push(`      b0[base + e] = ${this.toStorage(outD, res)};`);
    L.push('    }');
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }

  /** One block per row (`rows`) or per output element (`element`). */
  renderBlocks(name: string, perElement: boolean): string {
    const ir = this.ir;
    const D = this.D;
    const W = D.int64;
    const r = ir.rank;
    const inner = r - 1;
    const outD = ir.buffers[0];
    const res = `v${ir.result}`;
    const dimVar = (d: number): string => (d === inner ? 'j' : `i${d}`);
    const L: string[] = [...this.head(name, BLOCK_THREADS)];
    const uniform = (k: number): boolean => perElement || !ir.inner[k];
    const split = perElement && splittable(ir);
    // The last-block flag of a one-pass split; a two-pass split needs none.
    const lastBlockFlag = split && !D.splitTwoPass;
    for (const [k, s] of ir.stmts.entries()) if (s.k === 'reduce' && uniform(k)) L.push(...this.sharedFor(s, lastBlockFlag).map((x) => `  ${x}`));
    // A two-pass fold dispatch has two blocks along z; the second has nothing to do.
    if (split && D.splitTwoPass) L.push(`  if (${D.blockZ} != 0) return;`);
    L.push(`  const ${W} N = ${this.arg(0)};`);
    L.push(...this.dimsDecl(r, '  '));
    const units = perElement ? 'N' : `(n${inner} > 0 ? N / n${inner} : 0)`;
    L.push(`  const ${W} units = ${units};`);
    L.push(`  for (${W} u = ${D.blockX}; u < units; u += ${D.gridDimX}) {`);
    if (perElement) L.push(...this.decode('u', r, dimVar, '    '));
    else if (r > 1) L.push(...this.decode('u', r, dimVar, '    ', r - 2));
    ir.stmts.forEach((s, k) => {
      if (!uniform(k)) return;
      const text = s.k === 'reduce' && split ? this.blockReduce(s, dimVar, true).join('\n') : this.stmt(s, dimVar, 'block');
      L.push(`    ${text.split('\n').join('\n    ')}`);
    });
    if (perElement) {
      L.push(`    if (${D.threadX} == 0) b0[u] = ${this.toStorage(outD, res)};`);
    } else {
      L.push(`    ${D.unrollBy(4)} for (${W} j = ${D.threadX}; j < n${inner}; j += ${D.blockDimX}) {`);
      ir.stmts.forEach((s, k) => {
        if (!uniform(k)) L.push(`      ${this.stmt(s, dimVar, 'serial').split('\n').join('\n      ')}`);
      });
      L.push(`      b0[u * n${inner} + j] = ${this.toStorage(outD, res)};`);
      L.push('    }');
    }
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }

  renderScan(name: string): string {
    const ir = this.ir;
    const D = this.D;
    const W = D.int64;
    const spec = ir.scan as NonNullable<KernelIR['scan']>;
    const r = ir.rank;
    const outD = ir.buffers[0];
    const fold: ReduceStmt = { k: 'reduce', id: -1, op: spec.op, dtype: outD, result: outD, loops: [], body: [], value: ir.result, usesDims: true };
    const dimVar = (d: number): string => (d === r - 1 ? 'j' : `i${d}`);
    const fin = this.toStorage(outD, this.reduceFinal(fold, 'acc'));
    const L: string[] = [...this.head(name, FLAT_THREADS)];
    L.push(`  const ${W} lines = ${this.arg(0)};`);
    L.push(...this.dimsDecl(r, '  '));
    L.push(`  for (${W} line = (${W})${D.blockX} * ${D.blockDimX} + ${D.threadX}; line < lines; line += (${W})${D.gridDimX} * ${D.blockDimX}) {`);
    if (r > 1) L.push(...this.decode('line', r, dimVar, '    ', r - 2));
    L.push(`    ${this.accType(fold)} acc = ${this.reduceInit(fold)};`);
    L.push(`    for (${W} j = 0; j < n${r - 1}; j++) {`);
    for (const s of ir.stmts) L.push(`      ${this.stmt(s, dimVar, 'serial').split('\n').join('\n      ')}`);
    const combine = `      acc = ${this.reduceCombine(fold, 'acc', `v${ir.result}`)};`;
    const store = `      b0[line * n${r - 1} + j] = ${fin};`;
    L.push(...(spec.inclusive ? [combine, store] : [store, combine]));
    L.push('    }');
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }

  /**
   * "x sorts before y" in the key's compute type: ascending, NaN after everything
   * (NaN ties with NaN), -0 equal to 0 (IEEE comparison). Only a strict order is ever
   * asked, so equal keys keep their positions: the merges below are stable by rank.
   */
  sortLess(x: string, y: string): string {
    const spec = this.ir.sort as NonNullable<KernelIR['sort']>;
    return DTYPES[spec.dtype].kind === 'float' ? `(${x} < ${y} || (${y} != ${y} && ${x} == ${x}))` : `(${x} < ${y})`;
  }

  /**
   * One step of a bottom-up merge pass over a segment [`s0`, `s1`) of keys sorted in
   * runs of `w` (pairs of runs A = [lo, mid), B = [mid, hi) from the segment's start),
   * for the element at `p` of `src`: its place in the merged pair is its rank within its
   * run plus the number of elements of the other run that go before it: for an element
   * of A, the elements of B strictly less (lower bound); for one of B, the elements of A
   * not greater (upper bound). Every element is placed independently (no thread waits
   * for another) and ties keep A first: stable. Declares `q`, the destination, then runs
   * `place`.
   */
  mergeStep(I: string, src: string, p: string, w: string, s0: string, s1: string, place: string[], indent: string): string[] {
    const K = this.ct((this.ir.sort as NonNullable<KernelIR['sort']>).dtype);
    return [
      `const ${I} lo = ${s0} + (${p} - ${s0}) / (2 * ${w}) * (2 * ${w});`,
      `const ${I} mid = lo + ${w} < ${s1} ? lo + ${w} : ${s1}, hi = lo + 2 * ${w} < ${s1} ? lo + 2 * ${w} : ${s1};`,
      `const ${K} x = ${src}[${p}];`,
      `${I} q;`,
      `if (${p} < mid) {`,
      `  ${I} l = mid, h = hi;`,
      `  while (l < h) { const ${I} m = (l + h) >> 1; if (${this.sortLess(`${src}[m]`, 'x')}) l = m + 1; else h = m; }`,
      `  q = ${p} + (l - mid);`,
      '} else {',
      `  ${I} l = lo, h = mid;`,
      `  while (l < h) { const ${I} m = (l + h) >> 1; if (${this.sortLess('x', `${src}[m]`)}) h = m; else l = m + 1; }`,
      `  q = (${p} - mid) + l;`,
      '}',
      ...place,
    ].map((x) => `${indent}${x}`);
  }

  /**
   * A sort kernel: one block per line along the last dim, or per group of lines when
   * several fit one tile (a block-stride loop over groups). The line's values are
   * computed by the kernel's statements (its fused producers) at each element and sorted
   * as keys of the compute type, with their positions when the output is the indices
   * (argsort). A tile of `sortTile` elements (per dtype, to fit Metal's 32 KB of
   * threadgroup memory) holds `G` whole lines of one tile or less, or a part of a longer
   * line, each a segment; each segment is sorted in shared memory: runs of SORT_RUN by
   * one thread each (insertion sort), then merge passes (mergeStep) between two shared
   * buffers. Short lines are written from there. A longer line's sorted tiles go to this
   * block's region of the scratch buffer, are merged there pass by pass (merge path,
   * ping-pong between two halves), the last pass writing the output; the region is
   * zeroed again after (the launch contract: scratch is all zero between launches).
   */
  renderSort(name: string): string {
    const ir = this.ir;
    const D = this.D;
    const W = D.int64;
    const spec = ir.sort as NonNullable<KernelIR['sort']>;
    const r = ir.rank;
    const K = this.ct(spec.dtype);
    const KB = sortKeyBytes(spec);
    const tile = sortTile(spec);
    const idx = spec.indices;
    const outD = ir.buffers[0];
    const dimVar = (d: number): string => (d === r - 1 ? 'j' : `i${d}`);
    const emit = (k: string, i: string): string => (idx ? `(${this.st(outD)})(${i})` : this.toStorage(outD, k));
    const L: string[] = [...this.head(name, BLOCK_THREADS)];
    L.push(`  ${D.shared(K, 'sk0', tile)}`);
    L.push(`  ${D.shared(K, 'sk1', tile)}`);
    if (idx) {
      L.push(`  ${D.shared('uint16_t', 'si0', tile)}`);
      L.push(`  ${D.shared('uint16_t', 'si1', tile)}`);
    }
    L.push(`  const ${W} lines = ${this.arg(0)};`);
    L.push(...this.dimsDecl(r, '  '));
    L.push(`  const ${W} len = n${r - 1};`);
    L.push(`  const int tid = (int)${D.threadX}, nthr = (int)${D.blockDimX};`);
    // Lines per group: as many whole lines as fill a tile (sortLaunch sizes the grid alike).
    L.push(`  const ${W} G = len > 0 && len <= ${tile} ? ${tile} / len : 1;`);
    L.push(`  const ${W} groups = (lines + G - 1) / G;`);
    // This block's scratch region (used only by lines longer than a tile): two int32
    // index halves (argsort), then two key halves; 8-byte aligned.
    L.push(`  const ${W} region = (${idx ? '8 * len + ' : ''}${2 * KB} * len + 7) / 8 * 8;`);
    L.push(`  ${D.ptr('uint8_t')}mine = scratch + (len > ${tile} ? (${W})${D.blockX} * region : 0);`);
    if (idx) L.push(`  ${D.ptr('int32_t')}gi0 = (${D.ptr('int32_t')})mine;`);
    L.push(`  ${D.ptr(K)}gk0 = (${D.ptr(K)})(mine${idx ? ' + 8 * len' : ''});`);
    L.push(`  for (${W} g = ${D.blockX}; g < groups; g += ${D.gridDimX}) {`);
    L.push(`    const ${W} line0 = g * G, gl = lines - line0 < G ? lines - line0 : G;`);
    L.push(`    const ${W} obase = line0 * len;`);
    L.push(`    for (${W} tb = 0; tb < len; tb += ${tile}) {`);
    // A segment is a whole line (G lines of len <= tile, tb = 0) or one tile of a long line (gl = 1).
    L.push(`      const int seg = (int)(len - tb < ${tile} ? len - tb : ${tile}), tn = (int)gl * seg;`);
    L.push('      for (int p = tid; p < tn; p += nthr) {');
    L.push(`        const ${W} line = line0 + p / seg, j = tb + p % seg;`);
    if (r > 1) L.push(...this.decode('line', r, dimVar, '        ', r - 2));
    for (const s of ir.stmts) L.push(`        ${this.stmt(s, dimVar, 'serial').split('\n').join('\n        ')}`);
    L.push(`        sk0[p] = v${ir.result};`);
    if (idx) L.push('        si0[p] = (uint16_t)(p % seg);');
    L.push('      }');
    L.push(`      ${D.barrier}`);
    L.push(`      const int rps = (seg + ${SORT_RUN - 1}) / ${SORT_RUN};`);
    L.push('      for (int rr = tid; rr < (int)gl * rps; rr += nthr) {');
    L.push(`        const int s0 = rr / rps * seg, q0 = s0 + rr % rps * ${SORT_RUN}, q1 = q0 + ${SORT_RUN} < s0 + seg ? q0 + ${SORT_RUN} : s0 + seg;`);
    L.push('        for (int k = q0 + 1; k < q1; k++) {');
    L.push(`          const ${K} x = sk0[k];${idx ? ' const uint16_t xi = si0[k];' : ''}`);
    L.push('          int m = k;');
    L.push(`          while (m > q0 && ${this.sortLess('x', 'sk0[m - 1]')}) { sk0[m] = sk0[m - 1];${idx ? ' si0[m] = si0[m - 1];' : ''} m--; }`);
    L.push(`          sk0[m] = x;${idx ? ' si0[m] = xi;' : ''}`);
    L.push('        }');
    L.push('      }');
    L.push(`      ${D.barrier}`);
    L.push(`      ${D.sharedPtr(K)}sk = sk0;`);
    L.push(`      ${D.sharedPtr(K)}dk = sk1;`);
    if (idx) {
      L.push(`      ${D.sharedPtr('uint16_t')}si = si0;`);
      L.push(`      ${D.sharedPtr('uint16_t')}di = si1;`);
    }
    L.push(`      for (int w = ${SORT_RUN}; w < seg; w *= 2) {`);
    L.push('        for (int p = tid; p < tn; p += nthr) {');
    L.push('          const int s0 = p / seg * seg;');
    L.push(...this.mergeStep('int', 'sk', 'p', 'w', 's0', 's0 + seg', [`dk[q] = x;${idx ? ' di[q] = si[p];' : ''}`], '          '));
    L.push('        }');
    L.push(`        ${D.barrier}`);
    L.push(`        { ${D.sharedPtr(K)}t = sk; sk = dk; dk = t; }`);
    if (idx) L.push(`        { ${D.sharedPtr('uint16_t')}t = si; si = di; di = t; }`);
    L.push('      }');
    // Whole lines are contiguous in the output: the group's tile is one run of it.
    L.push('      for (int p = tid; p < tn; p += nthr) {');
    L.push(`        if (len <= ${tile}) b0[obase + p] = ${emit('sk[p]', 'si[p]')};`);
    L.push(`        else { gk0[tb + p] = sk[p];${idx ? ' gi0[tb + p] = (int32_t)(tb + si[p]);' : ''} }`);
    L.push('      }');
    // The next tile reuses the shared buffers; the merges below read other threads' tiles.
    L.push(`      ${D.barrierAll}`);
    L.push('    }');
    L.push(`    if (len > ${tile}) {`);
    L.push(`      ${D.ptr(K)}gs = gk0;`);
    L.push(`      ${D.ptr(K)}gd = gk0 + len;`);
    if (idx) {
      L.push(`      ${D.ptr('int32_t')}gsi = gi0;`);
      L.push(`      ${D.ptr('int32_t')}gdi = gi0 + len;`);
    }
    L.push(`      for (${W} w = ${tile}; w < len; w *= 2) {`);
    L.push('        const bool last = 2 * w >= len;');
    // Merge path: each thread writes SORT_CHUNK consecutive outputs of a pair (runs of
    // w >= a tile, so chunks never straddle pairs). One co-rank search finds how many of
    // A's elements precede the chunk: A[m] precedes B[k - 1 - m] unless B's is strictly
    // less (A first on ties: stable). Then a sequential merge: one read per output.
    L.push(`        for (${W} c0 = (${W})tid * ${SORT_CHUNK}; c0 < len; c0 += (${W})nthr * ${SORT_CHUNK}) {`);
    L.push(`          const ${W} lo = c0 / (2 * w) * (2 * w), k = c0 - lo;`);
    L.push(`          const ${W} nA = len - lo < w ? len - lo : w, nB = len - lo - nA < w ? len - lo - nA : w;`);
    L.push(`          const int cn = (int)(nA + nB - k < ${SORT_CHUNK} ? nA + nB - k : ${SORT_CHUNK});`);
    L.push(`          ${W} i = k > nB ? k - nB : 0, h = k < nA ? k : nA;`);
    L.push('          while (i < h) {');
    L.push(`            const ${W} m = (i + h) >> 1;`);
    L.push(`            const ${K} am = gs[lo + m], bm = gs[lo + nA + k - 1 - m];`);
    L.push(`            if (!${this.sortLess('bm', 'am')}) i = m + 1; else h = m;`);
    L.push('          }');
    L.push(`          ${W} jb = k - i;`);
    L.push('          for (int e = 0; e < cn; e++) {');
    L.push('            bool takeA = i < nA;');
    L.push(`            if (takeA && jb < nB) { const ${K} ai = gs[lo + i], bj = gs[lo + nA + jb]; takeA = !${this.sortLess('bj', 'ai')}; }`);
    L.push(`            const ${W} from = takeA ? lo + i++ : lo + nA + jb++, q = c0 + e;`);
    L.push(`            const ${K} x = gs[from];`);
    L.push(`            if (last) b0[obase + q] = ${emit('x', 'gsi[from]')};`);
    L.push(`            else { gd[q] = x;${idx ? ' gdi[q] = gsi[from];' : ''} }`);
    L.push('          }');
    L.push('        }');
    L.push(`        ${D.barrierAll}`);
    L.push(`        { ${D.ptr(K)}t = gs; gs = gd; gd = t; }`);
    if (idx) L.push(`        { ${D.ptr('int32_t')}t = gsi; gsi = gdi; gdi = t; }`);
    L.push('      }');
    // Every read of the region is behind the last barrier: zero it for the next user.
    L.push(`      for (${W} p = tid; p < 2 * len; p += nthr) { gk0[p] = (${K})0;${idx ? ' gi0[p] = 0;' : ''} }`);
    L.push(`      ${D.barrierAll}`);
    L.push('    }');
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }

  /**
   * A scatter kernel. The base (the kernel's statements: the array under the updates,
   * with its fused producers) is computed at every output element by a grid-stride loop
   * over all blocks; the last block to finish (an atomic counter in the scratch buffer,
   * fenced like a split reduction's, reset after) applies the updates, so they see the
   * whole base. Updates apply in index order, so repeated positions combine exactly as on
   * the CPU (every add in order, the last set wins) and results never depend on timing:
   * when the positions never decrease (an `at()` of slices with positive steps), each
   * run of equal positions is one thread's, folded in order, runs in parallel; otherwise
   * one thread applies them all. Positions come from the op layer (an iota through the
   * index); one outside [0, N) is an update the index mode drops (marked -1), skipped.
   * On one block (Metal always: see msl.ts) the counter is not touched.
   */
  renderScatter(name: string): string {
    const ir = this.ir;
    const D = this.D;
    const W = D.int64;
    const sc = ir.scatter as NonNullable<KernelIR['scatter']>;
    const r = ir.rank;
    const d = ir.buffers[0];
    const CT = this.ct(d);
    const ST = this.st(d);
    const dimVar = (k: number): string => (k === r - 1 ? 'j' : `i${k}`);
    const combined = (t: string, u: string): string => (sc.op === 'set' ? u : this.roundTo(d, this.opExpr(sc.op, d, [t, u])));
    const at = `b${sc.positions}`;
    const up = (k: string): string => this.fromStorage(d, `b${sc.updates}[${k}]`);
    const cur = (p: string): string => this.fromStorage(d, D.readCoherent(ST, 'b0', p));
    const L: string[] = [...this.head(name, BLOCK_THREADS)];
    L.push(`  ${D.shared('uint8_t', 'shflag', BLOCK_THREADS)}`);
    L.push(`  ${D.shared('int', 'shlast', 1)}`);
    L.push(`  const ${W} N = ${this.arg(0)};`);
    L.push(...this.dimsDecl(r, '  '));
    L.push(`  const ${W} count = ${this.arg(sc.count)};`);
    L.push(`  const unsigned tid = ${D.threadX}, nthr = ${D.blockDimX};`);
    L.push(`  for (${W} e = (${W})${D.blockX} * nthr + tid; e < N; e += (${W})${D.gridDimX} * nthr) {`);
    L.push(...this.decode('e', r, dimVar, '    '));
    for (const s of ir.stmts) L.push(`    ${this.stmt(s, dimVar, 'serial').split('\n').join('\n    ')}`);
    L.push(`    b0[e] = ${this.toStorage(d, `v${ir.result}`)};`);
    L.push('  }');
    L.push(`  if (${D.gridDimX} > 1) {`);
    // Release this block's base, count it in; only the last block goes on (acquiring all).
    L.push(`    ${D.fence}`);
    L.push(`    ${D.barrierAll}`);
    L.push(`    if (tid == 0) shlast[0] = ${D.atomicIncrement(`(${D.ptr('uint32_t')})scratch`)} == ${D.gridDimX} - 1;`);
    L.push(`    ${D.barrierAll}`);
    L.push('    if (!shlast[0]) return;');
    L.push(`    ${D.fence}`);
    L.push(`    if (tid == 0) *(${D.ptr('uint32_t')})scratch = 0; // ready for the next launch`);
    L.push('  }');
    L.push(`  ${D.barrierAll}`);
    // Do the positions never decrease? Each thread checks its pairs; all read every flag.
    L.push('  uint8_t down = 0;');
    L.push(`  for (${W} k = tid + 1; k < count; k += nthr) down |= (uint8_t)(${at}[k - 1] > ${at}[k]);`);
    L.push('  shflag[tid] = down;');
    L.push(`  ${D.barrier}`);
    L.push('  uint8_t unordered = 0;');
    L.push('  for (unsigned q = 0; q < nthr; q++) unordered |= shflag[q];');
    L.push('  if (!unordered) {');
    L.push(`    for (${W} k = tid; k < count; k += nthr) {`);
    L.push(`      const ${W} p = ${at}[k];`);
    L.push(`      if ((k > 0 && ${at}[k - 1] == p) || p < 0 || p >= N) continue; // not the head of its run`);
    L.push(`      ${CT} t = ${cur('p')};`);
    L.push(`      for (${W} k2 = k; k2 < count && ${at}[k2] == p; k2++) t = ${combined('t', up('k2'))};`);
    L.push(`      b0[p] = ${this.toStorage(d, 't')};`);
    L.push('    }');
    L.push('  } else if (tid == 0) {');
    L.push(`    for (${W} k = 0; k < count; k++) {`);
    L.push(`      const ${W} p = ${at}[k];`);
    L.push('      if (p < 0 || p >= N) continue;');
    L.push(`      b0[p] = ${this.toStorage(d, combined(cur('p'), up('k')))};`);
    L.push('    }');
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }

  fma(d: DType, x: string, y: string, acc: string): string {
    const c = cClass(d);
    if (c === 'f') return `${this.D.math('fma', 'f')}(${x}, ${y}, ${acc})`;
    if (c === 'd') return `${this.D.math('fma', 'd')}(${x}, ${y}, ${acc})`;
    const Wd = wrapType(d);
    return `(${this.ct(d)})((${Wd})${acc} + (${Wd})${x} * (${Wd})${y})`;
  }

  /**
   * A tiled matrix product. Each 256-thread block computes a 128×128 tile of one batch;
   * thread (ty, tx) of a 16×16 layout owns rows {ty*4..+3, 64+ty*4..+3} and columns
   * {tx*4..+3, 64+tx*4..+3} (8×8 accumulators), so its shared-memory reads are 4
   * consecutive elements (one 16-byte access for float) without bank conflicts. A and B
   * pass through shared memory 8 deep (A stored k-major), the next tiles prefetched into
   * registers while the current ones are used. Operands are read through their strides
   * (transposes and broadcasts cost nothing) and converted to the compute type on load;
   * exact FMA arithmetic; the epilogue runs per output element.
   */
  renderMatmul(name: string): string {
    const D = this.D;
    const mm = this.ir.matmul as NonNullable<KernelIR['matmul']>;
    const d = mm.dtype;
    const CT = this.ct(d);
    const { BM, BN, BK, threads } = MM;
    const PER = (BM * BK) / threads; // elements of each operand tile a thread loads
    // A is stored transposed ([k][m]). (Padding its rows to spread the transposing stores
    // over the banks measured slower on the H100: 30.8 against 35.4 TFLOP/s at 4096.)
    const LDA = BM;
    const L = this.mmOpen(name, [D.shared(CT, 'As', 2 * BK * LDA), D.shared(CT, 'Bs', 2 * BK * BN)], 'ty = tid / 16, tx = tid % 16', BK, PER);
    const store = (buf: string): string[] => [
      `    ${D.unroll} for (int e = 0; e < ${PER}; e++) {`,
      `      const unsigned q = tid + ${threads} * e;`,
      `      As[${buf} * ${BK * LDA} + (q % ${BK}) * ${LDA} + q / ${BK}] = ra[e];`,
      `      Bs[${buf} * ${BK * BN} + (q / ${BN}) * ${BN} + q % ${BN}] = rb[e];`,
      '    }',
    ];
    L.push(`  ${CT} acc[8][8];`);
    L.push(`  ${D.unroll} for (int ii = 0; ii < 8; ii++) { ${D.unroll} for (int jj = 0; jj < 8; jj++) acc[ii][jj] = 0; }`);
    L.push(`  ${CT} ra[${PER}], rb[${PER}];`);
    const body = [
      `    ${D.sharedPtr(`const ${CT}`)}Ac = As + cur * ${BK * LDA};`,
      `    ${D.sharedPtr(`const ${CT}`)}Bc = Bs + cur * ${BK * BN};`,
      `    ${D.unroll} for (int kk = 0; kk < ${BK}; kk++) {`,
      `      ${CT} av[8], bv[8];`,
    ];
    const V4 = D.vec4(CT);
    if (V4) {
      // 16-byte shared-memory reads: offsets are multiples of 4 elements, tiles 16-byte aligned.
      const rd = (dst: string, base: string, off: string, at: number): string =>
        `{ const ${V4} t4 = *(${D.sharedPtr(`const ${V4}`)})(${base} + ${off}); ${dst}[${at}] = t4.x; ${dst}[${at + 1}] = t4.y; ${dst}[${at + 2}] = t4.z; ${dst}[${at + 3}] = t4.w; }`;
      body.push(`      ${rd('av', 'Ac', `kk * ${LDA} + ty * 4`, 0)}`);
      body.push(`      ${rd('av', 'Ac', `kk * ${LDA} + 64 + ty * 4`, 4)}`);
      body.push(`      ${rd('bv', 'Bc', `kk * ${BN} + tx * 4`, 0)}`);
      body.push(`      ${rd('bv', 'Bc', `kk * ${BN} + 64 + tx * 4`, 4)}`);
    } else {
      body.push(`      ${D.unroll} for (int q = 0; q < 4; q++) { av[q] = Ac[kk * ${LDA} + ty * 4 + q]; av[4 + q] = Ac[kk * ${LDA} + 64 + ty * 4 + q]; }`);
      body.push(`      ${D.unroll} for (int q = 0; q < 4; q++) { bv[q] = Bc[kk * ${BN} + tx * 4 + q]; bv[4 + q] = Bc[kk * ${BN} + 64 + tx * 4 + q]; }`);
    }
    body.push(
      `      ${D.unroll} for (int ii = 0; ii < 8; ii++) { ${D.unroll} for (int jj = 0; jj < 8; jj++) acc[ii][jj] = ${this.fma(d, 'av[ii]', 'bv[jj]', 'acc[ii][jj]')}; }`,
    );
    body.push('    }');
    this.mmKLoop(L, BK, PER, (raw) => `(${CT})${this.fromStorage(d, raw)}`, `(${CT})0`, store, body);
    this.scalarEpilogue(L);
    return L.join('\n');
  }

  /**
   * The close of a product kernel whose thread (ty, tx) of a 16×16 layout holds acc[8][8]
   * for rows {ty*4..+3, 64+ty*4..+3} and columns {tx*4..+3, 64+tx*4..+3} of the tile: the
   * epilogue per element.
   */
  private scalarEpilogue(L: string[]): void {
    const D = this.D;
    const W = D.int64;
    L.push(`  ${D.unroll} for (int ii = 0; ii < 8; ii++) {`);
    L.push(`    const ${W} i = row0 + (ii < 4 ? ty * 4 + ii : 64 + ty * 4 + ii - 4);`);
    L.push('    if (i >= M) continue;');
    L.push(`    ${D.unroll} for (int jj = 0; jj < 8; jj++) {`);
    L.push(`      const ${W} j = col0 + (jj < 4 ? tx * 4 + jj : 64 + tx * 4 + jj - 4);`);
    L.push('      if (j >= N) continue;');
    L.push(...this.matmulElement('acc[ii][jj]', '      '));
    L.push('    }');
    L.push('  }');
    L.push('}');
  }

  /**
   * The opening of a 128×128-tile product kernel (256 threads): the shared arrays, sizes,
   * strides and the batch's operand offsets, the block's first row and column, the
   * thread's `coords` (declared after `tid`), and each thread's loader addresses for PER
   * elements of a BK-deep tile of A (element q = tid + 256e at row q / BK, k q % BK) and
   * of B (k q / 128, column q % 128), computed once. Rows of A past M and columns of B
   * past N read row (column) 0 instead: they only reach accumulators that are never
   * stored, so only k past K needs zeros (see mmKLoop).
   */
  private mmOpen(name: string, shared: string[], coords: string, BK: number, PER: number): string[] {
    const D = this.D;
    const W = D.int64;
    const { BM, BN, threads } = MM;
    const L: string[] = [...this.head(name, threads), ...shared.map((x) => `  ${x}`), ...this.matmulHead()];
    L.push(`  const ${W} row0 = (${W})${D.blockY} * ${BM}, col0 = (${W})${D.blockX} * ${BN};`);
    L.push(`  const unsigned tid = ${D.threadX}, ${coords};`);
    L.push(`  ${W} pA[${PER}], pB[${PER}]; unsigned lkA[${PER}], lkB[${PER}];`);
    L.push(`  ${D.unroll} for (int e = 0; e < ${PER}; e++) {`);
    L.push(`    const unsigned q = tid + ${threads} * e;`);
    L.push(`    const ${W} gi = row0 + q / ${BK}, gj = col0 + q % ${BN};`);
    L.push(`    lkA[e] = q % ${BK}; lkB[e] = q / ${BN};`);
    L.push(`    pA[e] = oA + (gi < M ? gi : 0) * sAi + (${W})lkA[e] * sAk;`);
    L.push(`    pB[e] = oB + (${W})lkB[e] * sBk + (gj < N ? gj : 0) * sBj;`);
    L.push('  }');
    return L;
  }

  /**
   * The K loop of a product kernel, double-buffered through shared memory: the first
   * tile is loaded into the registers ra/rb (`conv` of each stored element, `zero` past
   * K) and stored (`store(buf)`); then per tile the next one is loaded into registers
   * (k bounds checked only when it is the last), `body` runs on shared buffer `cur`, and
   * the registers go to the other buffer, last read before the previous barrier, ahead
   * of one barrier.
   */
  private mmKLoop(L: string[], BK: number, PER: number, conv: (raw: string) => string, zero: string, store: (buf: string) => string[], body: string[]): void {
    const D = this.D;
    const W = D.int64;
    const mm = this.ir.matmul as NonNullable<KernelIR['matmul']>;
    const one = (buf: number, p: string, lk: string, kbase: string, stride: string, checked: boolean): string => {
      const v = conv(`b${buf}[${p} + ${kbase} * ${stride}]`);
      return checked ? `(${kbase} + ${lk} < K) ? ${v} : ${zero}` : v;
    };
    const loads = (kbase: string, checked: boolean): string[] => [
      `      ${D.unroll} for (int e = 0; e < ${PER}; e++) {`,
      `        ra[e] = ${one(mm.a.buf, 'pA[e]', 'lkA[e]', kbase, 'sAk', checked)};`,
      `        rb[e] = ${one(mm.b.buf, 'pB[e]', 'lkB[e]', kbase, 'sBk', checked)};`,
      '      }',
    ];
    L.push('  {');
    L.push(...loads(`(${W})0`, true), ...store('0').map((x) => `  ${x}`));
    L.push('  }');
    L.push(`  ${D.barrier}`);
    L.push(`  const ${W} tiles = (K + ${BK - 1}) / ${BK};`);
    L.push(`  for (${W} kt = 0; kt < tiles; kt++) {`);
    L.push('    const unsigned cur = (unsigned)(kt & 1);');
    L.push('    const bool more = kt + 1 < tiles;');
    L.push(`    if (more && (kt + 2) * ${BK} <= K) {`);
    L.push(...loads(`(kt + 1) * ${BK}`, false));
    L.push('    } else if (more) {');
    L.push(...loads(`(kt + 1) * ${BK}`, true));
    L.push('    }');
    L.push(...body);
    L.push('    if (more) {');
    L.push(...store('(cur ^ 1u)').map((x) => `  ${x}`));
    L.push('    }');
    L.push(`    ${D.barrier}`);
    L.push('  }');
  }

  /**
   * One step of a tensor-core product over shared buffer `cur`: per `kstep` of the tile,
   * each warp reads its fragments (m16n8 products: A at rows m0 and m0 + 8 of k0 and
   * k0 + half, B at k0 and k0 + half of column n0, through `readA(row, k)` and
   * `readB(col, k)`) and runs 4×4 products `fn(acc[mt][nt], a, b)`.
   */
  private mmaStep(
    BK: number,
    kstep: number,
    k0: string,
    half: number,
    readA: (row: string, k: string) => string,
    readB: (col: string, k: string) => string,
    fn: string,
  ): string[] {
    const u = this.D.unroll;
    return [
      `    ${u} for (int ks = 0; ks < ${BK}; ks += ${kstep}) {`,
      '      uint32_t af[4][4], bf[4][2];',
      `      ${u} for (int mt = 0; mt < 4; mt++) {`,
      '        const unsigned m0 = wm * 64 + mt * 16 + g;',
      `        af[mt][0] = ${readA('m0', k0)};`,
      `        af[mt][1] = ${readA('m0 + 8', k0)};`,
      `        af[mt][2] = ${readA('m0', `${k0} + ${half}`)};`,
      `        af[mt][3] = ${readA('m0 + 8', `${k0} + ${half}`)};`,
      '      }',
      `      ${u} for (int nt = 0; nt < 4; nt++) {`,
      '        const unsigned n0 = wn * 32 + nt * 8 + g;',
      `        bf[nt][0] = ${readB('n0', k0)};`,
      `        bf[nt][1] = ${readB('n0', `${k0} + ${half}`)};`,
      '      }',
      `      ${u} for (int mt = 0; mt < 4; mt++) { ${u} for (int nt = 0; nt < 4; nt++) ${fn}(acc[mt][nt], af[mt], bf[nt]); }`,
      '    }',
    ];
  }

  /** Float32 accumulators of a tensor-core product, zeroed: 4×4 m16n8 fragments per warp. */
  private mmaAccumulators(): string {
    const u = this.D.unroll;
    return `  float acc[4][4][4]; ${u} for (int x = 0; x < 4; x++) { ${u} for (int y = 0; y < 4; y++) { ${u} for (int z = 0; z < 4; z++) acc[x][y][z] = 0.0f; } }`;
  }

  /**
   * The fused epilogue of one product element (i, j) of batch bflat, whose accumulated
   * value is `value`: the kernel's statements, then the store, each line prefixed with `by`.
   */
  private matmulElement(value: string, by: string): string[] {
    const ir = this.ir;
    const r = ir.rank;
    const dimVar = (k: number): string => (k === r - 2 ? 'i' : k === r - 1 ? 'j' : `bi${k}`);
    this.mmValue = value;
    const L = ir.stmts.map((st) => `${by}${this.stmt(st, dimVar, 'serial').split('\n').join(`\n${by}`)}`);
    L.push(`${by}b0[bflat * M * N + i * N + j] = ${this.toStorage(ir.buffers[0], `v${ir.result}`)};`);
    return L;
  }

  /** The close of a tensor-core product: the epilogue per element of the m16n8 accumulator fragments. */
  private mmaEpilogue(L: string[]): void {
    const W = this.D.int64;
    const unroll = this.D.unroll;
    L.push(`  ${unroll} for (int mt = 0; mt < 4; mt++) {`);
    L.push(`    ${unroll} for (int nt = 0; nt < 4; nt++) {`);
    L.push(`      ${unroll} for (int rr = 0; rr < 4; rr++) {`);
    L.push(`        const ${W} i = row0 + wm * 64 + mt * 16 + g + (rr >= 2 ? 8 : 0);`);
    L.push(`        const ${W} j = col0 + wn * 32 + nt * 8 + 2 * t + (rr & 1);`);
    L.push('        if (i >= M || j >= N) continue;');
    L.push(...this.matmulElement('acc[mt][nt][rr]', '        '));
    L.push('      }');
    L.push('    }');
    L.push('  }');
    L.push('}');
  }

  /** A tensor-core kernel's thread coordinates: its warp (wm, wn) and the lane's group g and thread t in it. */
  private static readonly MMA_COORDS = 'lane = tid & 31u, warp = tid >> 5, g = lane >> 2, t = lane & 3u, wm = warp >> 2, wn = warp & 3u';

  /**
   * The opening and K loop of a float32 product fed by asynchronous copies (tile AS):
   * the operands' tiles are copied into AS.STAGES shared buffers, AS.STAGES - 1 tiles
   * ahead of the one `body` reads (`Ac`, A as [m][k]; `Bc`, B as [k][n]). Operands with
   * unit inner strides and 16-byte aligned rows move in 16-byte copies; any others
   * element by element (threads consecutive along a unit stride where the operand has
   * one). Copies past M, N or K zero-fill, so edges need no branches in the product.
   * `accumulators` declares and zeroes the product's registers.
   */
  private asyncOpen(name: string, coords: string, accumulators: string, body: string[]): string[] {
    const D = this.D;
    const W = D.int64;
    const mm = this.ir.matmul as NonNullable<KernelIR['matmul']>;
    const copy = D.asyncCopy as NonNullable<GpuDialect['asyncCopy']>;
    const { BM, BN, BK, threads, STAGES, LDA, LDB } = AS;
    const A = `b${mm.a.buf}`;
    const B = `b${mm.b.buf}`;
    const u = D.unroll;
    const L: string[] = [...this.head(name, threads), `  ${copy.dynamicShared('float', 'sm')}`, ...this.matmulHead()];
    L.push(`  const ${W} row0 = (${W})${D.blockY} * ${BM}, col0 = (${W})${D.blockX} * ${BN};`);
    L.push(`  const unsigned tid = ${D.threadX}, ${coords};`, accumulators);
    L.push(
      `  const bool vec = sAk == 1 && sBj == 1 && ((sAi | sBk | oA | oB | K | N) & 3) == 0 && (((unsigned long long)${A} | (unsigned long long)${B}) & 15) == 0;`,
    );
    L.push('  const bool aAlongK = sAk == 1 || sAi != 1, bAlongN = sBj == 1 || sBk != 1;');
    L.push(`  const ${W} tiles = (K + ${BK - 1}) / ${BK};`);
    // 16-byte copies: thread tid moves chunk (tid % 8) of A's rows tid / 8 + 32e and
    // chunk (tid % 32) of B's k-rows tid / 32 + 8e: one base pointer per operand.
    const rowsA = threads / (BK / 4);
    const rowsB = threads / (BN / 4);
    L.push(`  const unsigned rA0 = tid / ${BK / 4}, kA = (tid % ${BK / 4}) * 4, kB0 = tid / ${BN / 4}, nB = (tid % ${BN / 4}) * 4;`);
    L.push(`  const ${W} rA = row0 + rA0, cB = col0 + nB, stepA = ${rowsA} * sAi;`);
    L.push(`  const float *pA = ${A} + (oA + (rA < M ? rA : 0) * sAi + kA), *pB = ${B} + (oB + (cB < N ? cB : 0) + kB0 * sBk);`);
    const load = (stage: string, kt: string): string[] => [
      '{',
      `  float *As_ = sm + (${stage}) * ${AS_STAGE_FLOATS}, *Bs_ = As_ + ${BM * LDA};`,
      `  const ${W} kb = (${kt}) * ${BK};`,
      '  if (vec) {',
      `    ${u} for (int e = 0; e < ${BM / rowsA}; e++) {`,
      `      const bool ok = rA + ${rowsA} * e < M && kb + kA < K;`,
      `      ma_cp16(As_ + (rA0 + ${rowsA} * e) * ${LDA} + kA, ok ? pA + (e * stepA + kb) : ${A}, ok ? 16 : 0);`,
      '    }',
      `    ${u} for (int e = 0; e < ${BK / rowsB}; e++) {`,
      `      const bool ok = kb + kB0 + ${rowsB} * e < K && cB < N;`,
      `      ma_cp16(Bs_ + (kB0 + ${rowsB} * e) * ${LDB} + nB, ok ? pB + (kb + ${rowsB} * e) * sBk : ${B}, ok ? 16 : 0);`,
      '    }',
      '  } else {',
      // The fallback stays rolled: unrolled, its addresses would be kept live across the K loop.
      `    ${D.unrollBy(1)} for (int e = 0; e < ${(BM * BK) / threads}; e++) {`,
      `      const unsigned c = tid + ${threads} * e, r = aAlongK ? c / ${BK} : c % ${BM}, k = aAlongK ? c % ${BK} : c / ${BM};`,
      `      const ${W} gi = row0 + r, gk = kb + k;`,
      '      const bool ok = gi < M && gk < K;',
      `      ma_cp4(As_ + r * ${LDA} + k, ok ? ${A} + (oA + gi * sAi + gk * sAk) : ${A}, ok ? 4 : 0);`,
      `      const unsigned kr = bAlongN ? c / ${BN} : c % ${BK}, n = bAlongN ? c % ${BN} : c / ${BK};`,
      `      const ${W} gk2 = kb + kr, gj = col0 + n;`,
      '      const bool ok2 = gk2 < K && gj < N;',
      `      ma_cp4(Bs_ + kr * ${LDB} + n, ok2 ? ${B} + (oB + gk2 * sBk + gj * sBj) : ${B}, ok2 ? 4 : 0);`,
      '    }',
      '  }',
      '}',
    ];
    L.push(`  ${u} for (int s = 0; s < ${STAGES - 1}; s++) {`);
    L.push('    if (s < tiles)', ...indent(load('s', 's'), '    '));
    L.push('    ma_cp_commit();');
    L.push('  }');
    L.push(`  for (${W} kt = 0; kt < tiles; kt++) {`);
    L.push(`    ma_cp_wait<${STAGES - 2}>();`);
    L.push(`    ${D.barrier}`);
    L.push(`    const ${W} nx = kt + ${STAGES - 1};`);
    L.push('    if (nx < tiles)', ...indent(load(`(unsigned)(nx % ${STAGES})`, 'nx'), '    '));
    L.push('    ma_cp_commit();');
    L.push(`    const float *Ac = sm + (unsigned)(kt % ${STAGES}) * ${AS_STAGE_FLOATS}, *Bc = Ac + ${BM * LDA};`);
    L.push(...body);
    L.push('  }');
    return L;
  }

  /**
   * An exact float32 matrix product fed by asynchronous copies (tile AS): thread
   * (ty, tx) of a 16×16 layout accumulates 8×8 elements (rows {ty*4.., 64+ty*4..},
   * columns {tx*4.., 64+tx*4..}) with fused multiply-adds, reading A four k at a time
   * and B four columns at a time (16-byte shared-memory reads); the epilogue runs per
   * output element.
   */
  renderMatmulAsync32(name: string): string {
    const u = this.D.unroll;
    const { LDA, LDB, BK } = AS;
    const body = [
      `    ${u} for (int k4 = 0; k4 < ${BK}; k4 += 4) {`,
      '      float4 a4[8];',
      `      ${u} for (int ii = 0; ii < 8; ii++) a4[ii] = *(const float4 *)(Ac + (ii < 4 ? ty * 4 + ii : 60 + ty * 4 + ii) * ${LDA} + k4);`,
      `      ${u} for (int kq = 0; kq < 4; kq++) {`,
      `        const float4 p = *(const float4 *)(Bc + (k4 + kq) * ${LDB} + tx * 4), q = *(const float4 *)(Bc + (k4 + kq) * ${LDB} + 64 + tx * 4);`,
      '        const float bv[8] = {p.x, p.y, p.z, p.w, q.x, q.y, q.z, q.w};',
      `        ${u} for (int ii = 0; ii < 8; ii++) {`,
      '          const float av = kq == 0 ? a4[ii].x : kq == 1 ? a4[ii].y : kq == 2 ? a4[ii].z : a4[ii].w;',
      `          ${u} for (int jj = 0; jj < 8; jj++) acc[ii][jj] = ${this.fma('float32', 'av', 'bv[jj]', 'acc[ii][jj]')};`,
      '        }',
      '      }',
      '    }',
    ];
    const acc = `  float acc[8][8]; ${u} for (int ii = 0; ii < 8; ii++) { ${u} for (int jj = 0; jj < 8; jj++) acc[ii][jj] = 0.0f; }`;
    const L = this.asyncOpen(name, 'ty = tid / 16, tx = tid % 16', acc, body);
    this.scalarEpilogue(L);
    return L.join('\n');
  }

  /**
   * A float32 matrix product on TensorFloat-32 tensor cores fed by asynchronous copies
   * (tile AS): 8 warps of 64×32 (4×4 m16n8k8 products each); operands are rounded to
   * TF32 as the fragments are read (so the shared tiles are plain copies), float32
   * accumulation; the epilogue runs per output element.
   */
  renderMatmulTf32(name: string): string {
    const { LDA, LDB, BK } = AS;
    const body = this.mmaStep(
      BK,
      8,
      'ks + t',
      4,
      (row, k) => `ma_tf32(Ac[(${row}) * ${LDA} + ${k}])`,
      (col, k) => `ma_tf32(Bc[(${k}) * ${LDB} + ${col}])`,
      'ma_mma_tf32',
    );
    const L = this.asyncOpen(name, GpuRenderer.MMA_COORDS, this.mmaAccumulators(), body);
    this.mmaEpilogue(L);
    return L.join('\n');
  }

  /**
   * A float32 matrix product on TF32 warpgroup instructions (tile WG): it computes
   * Cᵀ = Bᵀ·Aᵀ, so that A's tile is the products' shared-memory operand, which the
   * hardware reads at TF32 precision (the low 13 bits of each float ignored), and B's
   * tile is read into registers as fragments rounded to nearest TF32. The block's third
   * warpgroup copies tiles into STAGES stages with asynchronous copies, each stage's
   * completion counted on its "filled" mbarrier; the other two multiply, each waiting for
   * its stage and releasing it on its "emptied" mbarrier, so copies, fragment reads and
   * products of different stages overlap and the two multiplying warpgroups drift apart
   * instead of meeting at a block barrier. The copying warpgroup gives registers to the
   * multiplying ones (setmaxnreg). Warpgroup w owns columns w·64.. of the tile; thread
   * (warp wi, g, t) holds rows (our m) 8·jj + 2t + (rr & 1) and columns (our n)
   * w·64 + wi·16 + 2g + (rr ≥ 2) in d[4·jj + rr]: fragment rows g and g + 8 are adjacent
   * columns, so a [k][n] tile gives both in one 8-byte read. Each operand is copied in
   * 16-byte pieces where its rows allow (A with k contiguous; B with n contiguous, or with
   * k contiguous, as in `x @ w.T`, then staged as [n][k]), element by element otherwise,
   * zero-filled past the edges; float32 accumulation; the epilogue runs per output element.
   */
  renderMatmulWgmma(name: string): string {
    const D = this.D;
    const W = D.int64;
    const mm = this.ir.matmul as NonNullable<KernelIR['matmul']>;
    const copy = D.asyncCopy as NonNullable<GpuDialect['asyncCopy']>;
    const { BM, BN, BK, threads, STAGES } = WG;
    const A = `b${mm.a.buf}`;
    const B = `b${mm.b.buf}`;
    const u = D.unroll;
    const L: string[] = [...this.head(name, threads), `  ${copy.dynamicShared('float', 'sm')}`, ...this.matmulHead()];
    L.push(`  const ${W} row0 = (${W})${D.blockY} * ${BM}, col0 = (${W})${D.blockX} * ${BN};`);
    L.push(`  const unsigned tid = ${D.threadX}, lane = tid & 31u;`);
    L.push('  const uint32_t raw = ma_shared_addr(sm), base = (raw + 1023u) & ~1023u;');
    L.push(`  const uint32_t bbase = base + ${STAGES * WG_A_BYTES}, filled = bbase + ${STAGES * WG_B_BYTES}, emptied = filled + ${8 * STAGES};`);
    // Each operand moves in 16-byte copies where its rows allow (A: k contiguous; B: n
    // contiguous, or k contiguous as in `x @ w.T`, then staged as [n][k]), else element by element.
    const aligned = (p: string): string => `((unsigned long long)${p} & 15) == 0`;
    L.push(`  const bool vecA = sAk == 1 && ((sAi | oA | K) & 3) == 0 && ${aligned(A)};`);
    L.push(`  const bool vecBn = sBj == 1 && ((sBk | oB | N) & 3) == 0 && ${aligned(B)};`);
    L.push(`  const bool vecBk = !vecBn && sBk == 1 && ((sBj | oB | K) & 3) == 0 && ${aligned(B)};`);
    L.push(`  const ${W} tiles = (K + ${BK - 1}) / ${BK};`);
    // Every copying thread arrives on "filled" (when its copies land), every multiplying thread on "emptied".
    L.push(`  if (tid == 0) ${u} for (int s = 0; s < ${STAGES}; s++) { ma_mb_init(filled + 8 * s, 128); ma_mb_init(emptied + 8 * s, 256); }`);
    L.push(`  ${D.barrier}`);
    L.push('  if (__shfl_sync(0xffffffffu, tid >> 7, 0) == 2) {');
    L.push(...indent(this.wgmmaCopier(A, B), '    '));
    L.push('    return;', '  }');
    L.push('  ma_wg_grow();');
    L.push('  const unsigned wg = tid >> 7, wi = (tid >> 5) & 3u, g = lane >> 2, t = lane & 3u, nb = wg * 64 + wi * 16 + 2 * g;');
    L.push(`  float d[${BM / 2}];`, `  ${u} for (int x = 0; x < ${BM / 2}; x++) d[x] = 0.0f;`);
    // Fragment (k, n) of a [k][n] stage at n ^ 8·(k % 4), the same for k = t and t + 4; of an [n][k] stage, chunk k / 4 of row n at (k / 4) ^ g.
    L.push('  const unsigned kn = t * 128 + (nb ^ (t << 3));');
    L.push(`  const float *bs = (const float *)((const unsigned char *)sm + (bbase - raw));`);
    L.push(`  for (${W} kt = 0; kt < tiles; kt++) {`);
    L.push(`    const unsigned s = (unsigned)(kt % ${STAGES});`);
    L.push(`    ma_mb_wait(filled + 8 * s, (unsigned)(kt / ${STAGES}) & 1u);`);
    L.push('    ma_fence_async_shared();');
    L.push(`    const float *Bc = bs + s * ${BN * BK};`);
    L.push(`    uint32_t af[${BK / 8}][4];`);
    L.push('    if (vecBk) {');
    L.push(`      ${u} for (int j = 0; j < ${BK / 8}; j++) {`);
    L.push('        const float *f = Bc + nb * 32 + t;');
    L.push('        const unsigned lo = ((2 * j) ^ g) << 2, hi = ((2 * j + 1) ^ g) << 2;');
    L.push('        af[j][0] = ma_tf32(f[lo]); af[j][1] = ma_tf32(f[32 + lo]); af[j][2] = ma_tf32(f[hi]); af[j][3] = ma_tf32(f[32 + hi]);');
    L.push('      }');
    L.push('    } else {');
    L.push(`      ${u} for (int j = 0; j < ${BK / 8}; j++) {`);
    L.push('        const float2 lo = *(const float2 *)(Bc + kn + j * 1024), hi = *(const float2 *)(Bc + kn + j * 1024 + 512);');
    L.push('        af[j][0] = ma_tf32(lo.x); af[j][1] = ma_tf32(lo.y); af[j][2] = ma_tf32(hi.x); af[j][3] = ma_tf32(hi.y);');
    L.push('      }');
    L.push('    }');
    L.push('    ma_wg_fence();');
    L.push(`    ${u} for (int j = 0; j < ${BK / 8}; j++) ma_wgmma_tf32(d, af[j], ma_wg_desc(base + s * ${WG_A_BYTES} + j * 32));`);
    L.push('    ma_wg_commit();');
    // Waiting for every product before the fragments are rewritten keeps ptxas from serializing them.
    L.push('    ma_wg_wait0();');
    // Every thread releases its own fragment reads of the stage.
    L.push('    ma_mb_arrive(emptied + 8 * s);');
    L.push('  }');
    L.push(`  ${u} for (int jj = 0; jj < ${BM / 8}; jj++) {`);
    L.push(`    ${u} for (int rr = 0; rr < 4; rr++) {`);
    L.push(`      const ${W} i = row0 + 8 * jj + 2 * t + (rr & 1), j = col0 + nb + (rr >> 1);`);
    L.push('      if (i >= M || j >= N) continue;');
    L.push(...this.matmulElement('d[4 * jj + rr]', '      '));
    L.push('    }');
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }

  /**
   * The copying warpgroup of renderMatmulWgmma: it hands its registers to the multiplying
   * warpgroups, then for each K step waits until the stage's previous tile has been
   * multiplied, copies A's and B's tiles into it (thread p of 128 moves the same chunk of
   * every 16th row, so each copy's addresses are the first one's plus constants) and
   * arrives on the stage's "filled" mbarrier when its copies land.
   */
  private wgmmaCopier(A: string, B: string): string[] {
    const D = this.D;
    const W = D.int64;
    const u = D.unroll;
    const { BM, BN, BK, STAGES } = WG;
    const L: string[] = ['ma_wg_shrink();'];
    // 16-byte copies: A's rows rA + 16e, chunk kc; B [k][n]: k-rows kB + 4e, columns nB..nB + 3; B [n][k]: n-rows rA + 16e, chunk kc.
    L.push('const unsigned p = tid - 256, rA = p >> 3, kc = p & 7u, kB = p >> 5, nB = (p & 31u) * 4;');
    L.push(`const ${W} gA = row0 + rA, gBn = col0 + nB, gBk = col0 + rA;`);
    L.push(`const float *pA = ${A} + (oA + (gA < M ? gA : 0) * sAi + kc * 4);`);
    L.push(`const float *pBn = ${B} + (oB + (gBn < N ? gBn : 0) + kB * sBk);`);
    L.push(`const float *pBk = ${B} + (oB + (gBk < N ? gBk : 0) * sBj + kc * 4);`);
    L.push('const uint32_t dA = rA * 128 + ((kc ^ (rA & 7u)) << 4), dBn = (kB * 128 + (nB ^ (kB << 3))) * 4, dBk = rA * 128 + ((kc ^ ((rA >> 1) & 7u)) << 4);');
    L.push('const bool aAlongK = sAk == 1 || sAi != 1, bAlongN = sBj == 1 || sBk != 1;');
    L.push(`for (${W} kt = 0; kt < tiles; kt++) {`);
    L.push(`  const unsigned s = (unsigned)(kt % ${STAGES});`);
    L.push(`  if (kt >= ${STAGES}) ma_mb_wait(emptied + 8 * s, (unsigned)(kt / ${STAGES} - 1) & 1u);`);
    L.push(`  const uint32_t As_ = base + s * ${WG_A_BYTES}, Bs_ = bbase + s * ${WG_B_BYTES};`);
    L.push(`  const ${W} kb = kt * ${BK};`);
    // 16-byte copies of rows r + 16e whose k is contiguous (A, and B staged as [n][k]): chunk kc of each.
    const kRows = (dst: string, rows: number, row: string, bound: string, src: string, stride: string): string[] => [
      '    const bool okK = kb + kc * 4 < K;',
      `    ${u} for (int e = 0; e < ${rows / 16}; e++) {`,
      `      const bool ok = okK && ${row} + 16 * e < ${bound};`,
      `      ma_cp16s(${dst} + e * 2048, ok ? ${src} + (16 * e * ${stride} + kb) : ${src}, ok ? 16 : 0);`,
      '    }',
    ];
    L.push('  if (vecA) {', ...kRows('As_ + dA', BM, 'gA', 'M', 'pA', 'sAi'), '  } else {');
    // The fallbacks stay rolled: unrolled, their addresses would be kept live across the K loop.
    L.push(`    ${D.unrollBy(1)} for (int e = 0; e < ${(BM * BK) / 128}; e++) {`);
    L.push(`      const unsigned c = p + 128 * e, r = aAlongK ? c / ${BK} : c % ${BM}, k = aAlongK ? c % ${BK} : c / ${BM};`);
    L.push(`      const ${W} gi = row0 + r, gk = kb + k;`);
    L.push('      const bool ok = gi < M && gk < K;');
    L.push(`      ma_cp4s(As_ + r * 128 + (((k >> 2) ^ (r & 7u)) << 4) + (k & 3u) * 4, ok ? ${A} + (oA + gi * sAi + gk * sAk) : ${A}, ok ? 4 : 0);`);
    L.push('    }');
    L.push('  }');
    L.push('  if (vecBn) {');
    L.push('    const bool okN = gBn < N;');
    L.push(`    ${u} for (int e = 0; e < ${BK / 4}; e++) {`);
    L.push('      const bool ok = okN && kb + kB + 4 * e < K;');
    L.push('      ma_cp16s(Bs_ + dBn + e * 2048, ok ? pBn + (kb + 4 * e) * sBk : pBn, ok ? 16 : 0);');
    L.push('    }');
    L.push('  } else if (vecBk) {', ...kRows('Bs_ + dBk', BN, 'gBk', 'N', 'pBk', 'sBj'), '  } else {');
    L.push(`    ${D.unrollBy(1)} for (int e = 0; e < ${(BN * BK) / 128}; e++) {`);
    L.push(`      const unsigned c = p + 128 * e, kr = bAlongN ? c / ${BN} : c % ${BK}, n = bAlongN ? c % ${BN} : c / ${BK};`);
    L.push(`      const ${W} gk = kb + kr, gj = col0 + n;`);
    L.push('      const bool ok = gk < K && gj < N;');
    L.push(`      ma_cp4s(Bs_ + (kr * ${BN} + (n ^ ((kr & 3u) << 3))) * 4, ok ? ${B} + (oB + gk * sBk + gj * sBj) : ${B}, ok ? 4 : 0);`);
    L.push('    }');
    L.push('  }');
    L.push('  ma_mb_arrive_copies(filled + 8 * s);');
    L.push('}');
    // Copies still in flight when the thread exits would land unobserved; wait for them.
    L.push('ma_cp_wait_all();');
    return L;
  }

  /**
   * A float16 or bfloat16 matrix product on tensor cores (mma.sync m16n8k16, float32
   * accumulation): 128×128 tiles per 256-thread block, 8 warps of 64×32, K in steps of
   * 32 through double-buffered shared memory that holds both tiles k-contiguous (A as
   * [m][k], B as [n][k], rows padded to 40 halves so fragment reads hit distinct banks),
   * so each fragment register is one 32-bit read of two consecutive k; the epilogue runs
   * per output element on the float32 accumulators, rounded to the dtype as the scalar
   * kernel rounds them.
   */
  renderMatmulMma16(name: string): string {
    const D = this.D;
    const mm = this.ir.matmul as NonNullable<KernelIR['matmul']>;
    const BK = 32;
    const LD = 40; // halves per padded row: 20 words, so rows g = 0..7 start 20 banks apart
    const PER = (128 * BK) / 256;
    const L = this.mmOpen(name, [D.shared('uint16_t', 'As', 2 * 128 * LD), D.shared('uint16_t', 'Bs', 2 * 128 * LD)], GpuRenderer.MMA_COORDS, BK, PER);
    const store = (buf: string): string[] => [
      `    ${D.unroll} for (int e = 0; e < ${PER}; e++) {`,
      '      const unsigned q = tid + 256 * e;',
      `      As[(${buf} * 128 + q / ${BK}) * ${LD} + q % ${BK}] = ra[e];`,
      `      Bs[(${buf} * 128 + q % 128) * ${LD} + q / 128] = rb[e];`,
      '    }',
    ];
    // Two consecutive halves of a k-contiguous row as one fragment register (lower k in the low bits).
    const pair = (base: string, row: string, k: string): string => `*(${D.sharedPtr('const uint32_t')})(${base} + (${row}) * ${LD} + ${k})`;
    L.push(this.mmaAccumulators(), `  uint16_t ra[${PER}], rb[${PER}];`);
    const body = [
      `    ${D.sharedPtr('const uint16_t')}Ac = As + cur * ${128 * LD};`,
      `    ${D.sharedPtr('const uint16_t')}Bc = Bs + cur * ${128 * LD};`,
      ...this.mmaStep(
        BK,
        16,
        'ks + 2 * t',
        8,
        (row, k) => pair('Ac', row, k),
        (col, k) => pair('Bc', col, k),
        mm.dtype === 'bfloat16' ? 'ma_mma_bf16' : 'ma_mma_f16',
      ),
    ];
    this.mmKLoop(L, BK, PER, (raw) => raw, '(uint16_t)0', store, body);
    this.mmaEpilogue(L);
    return L.join('\n');
  }

  /**
   * The opening of every matmul kernel: M, N, K, the operands' row and k strides, the
   * batch index (blockZ) decoded into bi0.. and the operands' offsets for it.
   */
  matmulHead(): string[] {
    const D = this.D;
    const W = D.int64;
    const mm = this.ir.matmul as NonNullable<KernelIR['matmul']>;
    const br = mm.batchRank;
    const sA = mm.a.strides;
    const sB = mm.b.strides;
    const L: string[] = [];
    L.push(`  const ${W} M = ${this.arg(mm.m)}, N = ${this.arg(mm.n)}, K = ${this.arg(mm.k)};`);
    L.push(`  const ${W} sAi = ${this.arg(sA[br])}, sAk = ${this.arg(sA[br + 1])}, sBk = ${this.arg(sB[br])}, sBj = ${this.arg(sB[br + 1])};`);
    L.push(`  const ${W} bflat = ${D.blockZ};`);
    L.push(`  ${W} oA = ${this.arg(mm.a.offset)}, oB = ${this.arg(mm.b.offset)};`);
    if (br > 0) {
      L.push(`  ${W} bt = bflat;`);
      for (let k = br - 1; k >= 0; k--) {
        L.push(`  const ${W} bi${k} = bt % ${this.arg(mm.batchDims[k])}; bt /= ${this.arg(mm.batchDims[k])};`);
        L.push(`  oA += bi${k} * ${this.arg(sA[k])}; oB += bi${k} * ${this.arg(sB[k])};`);
      }
    }
    return L;
  }

  /**
   * A float32, float16 or bfloat16 matrix product on 8×8 SIMD-group matrices
   * (dialect.simdgroupMatrix; tile in SG). Each 128-thread block computes a 64×64 tile of
   * one batch; SIMD group sg owns the 32×32 quarter (sg >> 1, sg & 1) as 4×4 float32
   * fragments. Per step of 32 along K, the block stages A [64][32] and B [32][64] in
   * shared memory, converted to float and zero-filled past M, N and K (so edges need no
   * branches in the product), read through the operands' strides (transposes, broadcasts
   * and batches cost nothing); each SIMD group then loads 4 A and 4 B fragments per 8 of
   * K and multiply-accumulates 16 products. After the loop each SIMD group stores its
   * fragments to its own 32×32 block of the (reused) shared array, and its lanes apply
   * the epilogue per element, lane = column, so the output writes are coalesced.
   * Accumulation is float32; the sum order is the hardware's.
   */
  renderMatmulSimdgroup(name: string): string {
    const ir = this.ir;
    const D = this.D;
    const S = D.simdgroupMatrix as SimdgroupMatrixOps;
    const W = D.int64;
    const mm = ir.matmul as NonNullable<KernelIR['matmul']>;
    const d = mm.dtype;
    const { BM, BN, BK, threads, LDA, LDB } = SG;
    const PER = (BM * BK) / threads; // elements of each operand tile a thread stages
    const FR = 4; // fragments per SIMD group along each of M and N (32 / 8)
    const L: string[] = [...this.head(name, threads)];
    L.push(`  ${D.shared('float', 'sm', SG_SHARED_FLOATS)}`);
    L.push(...this.matmulHead());
    L.push(`  const ${W} row0 = (${W})${D.blockY} * ${BM}, col0 = (${W})${D.blockX} * ${BN};`);
    L.push(`  const unsigned tid = ${D.threadX}, sg = tid >> 5, lane = tid & 31u, wm = sg >> 1, wn = sg & 1u;`);
    L.push(`  ${D.sharedPtr('float')}As = sm;`);
    L.push(`  ${D.sharedPtr('float')}Bs = sm + ${BM * LDA};`);
    // Staging: each thread keeps one k column of A (tid % BK) and one column of B
    // (tid % BN) and walks rows in steps of threads / BK and threads / BN, so consecutive
    // threads read consecutive elements of row-major operands; nothing is precomputed
    // per element (registers stay for the fragments).
    const aStep = threads / BK;
    const bStep = threads / BN;
    L.push(`  const unsigned ak = tid % ${BK}, ar = tid / ${BK}, bj = tid % ${BN}, bk = tid / ${BN};`);
    L.push(`  const ${W} gjB = col0 + bj;`);
    L.push('  const bool okB = gjB < N;');
    L.push(`  const ${W} baseA = oA + (${W})ak * sAk, baseB = oB + (okB ? gjB : 0) * sBj;`);
    const frags: string[] = [];
    for (let x = 0; x < FR; x++) for (let y = 0; y < FR; y++) frags.push(`  ${S.zero(`acc${x}${y}`)}`);
    L.push(...frags);
    L.push(`  for (${W} k0 = 0; k0 < K; k0 += ${BK}) {`);
    L.push(`    const bool okKA = k0 + ak < K;`);
    L.push(`    ${D.unroll} for (unsigned e = 0; e < ${PER}; e++) {`);
    // Past M, N or K the tile holds zeros, so the products need no edge branches.
    L.push(`      const unsigned ra = ar + ${aStep} * e, kb = bk + ${bStep} * e;`);
    L.push(`      const ${W} gi = row0 + ra;`);
    L.push(`      As[ra * ${LDA} + ak] = (okKA && gi < M) ? (float)${this.fromStorage(d, `b${mm.a.buf}[baseA + gi * sAi + k0 * sAk]`)} : 0.0f;`);
    L.push(`      Bs[kb * ${LDB} + bj] = (okB && k0 + kb < K) ? (float)${this.fromStorage(d, `b${mm.b.buf}[baseB + (k0 + kb) * sBk]`)} : 0.0f;`);
    L.push('    }');
    L.push(`    ${D.barrier}`);
    L.push(`    for (unsigned kk = 0; kk < ${BK}; kk += 8) {`);
    for (let x = 0; x < FR; x++) L.push(`      ${S.decl(`fa${x}`)} ${S.load(`fa${x}`, `As + (wm * 32 + ${x * 8}) * ${LDA} + kk`, LDA)}`);
    for (let y = 0; y < FR; y++) L.push(`      ${S.decl(`fb${y}`)} ${S.load(`fb${y}`, `Bs + kk * ${LDB} + wn * 32 + ${y * 8}`, LDB)}`);
    for (let x = 0; x < FR; x++) for (let y = 0; y < FR; y++) L.push(`      ${S.mma(`acc${x}${y}`, `fa${x}`, `fb${y}`)}`);
    L.push('    }');
    // Every SIMD group is done with the tiles before the next step (or the epilogue) overwrites them.
    L.push(`    ${D.barrier}`);
    L.push('  }');
    L.push(`  ${D.sharedPtr('float')}Cs = sm + sg * 1024;`);
    for (let x = 0; x < FR; x++) for (let y = 0; y < FR; y++) L.push(`  ${S.store(`acc${x}${y}`, `Cs + ${x * 8 * 32 + y * 8}`, 32)}`);
    L.push(`  ${S.barrier}`);
    L.push('  for (unsigned e = 0; e < 32; e++) {');
    L.push(`    const ${W} i = row0 + wm * 32 + e, j = col0 + wn * 32 + lane;`);
    L.push('    if (i >= M || j >= N) continue;');
    L.push(...this.matmulElement('Cs[e * 32 + lane]', '    '));
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }
}

/** True if the load's index is idx0 + j along the inner dim with every other term row-invariant. */
function isUnitInner(ix: IndexExpr, inner: number, ir: KernelIR): boolean {
  let unit = false;
  for (const t of ix.terms) {
    if ('dim' in t.v) {
      if (t.v.dim === inner) {
        if (t.coef !== 'unit' || unit) return false;
        unit = true;
      }
    } else if ('rvar' in t.v) {
      const id = t.v.rvar;
      const k = ir.stmts.findIndex((s) => s.k === 'rvar' && s.id === id);
      if (k < 0 || ir.inner[k]) return false;
    } else return false;
  }
  return unit;
}

/**
 * Statements above which a flat kernel has no vector path (it would be a second copy
 * of the body, unrolled V times): NVRTC's time grows with the source, and a chain of
 * thousands of ops is bound by its arithmetic, not by 16-byte accesses.
 */
const VECTOR_PATH_MAX_STMTS = 256;

/** Elements per thread of a flat kernel: as many as fit 16 bytes of the widest buffer (1..8). */
function flatVector(ir: KernelIR): number {
  if (ir.stmts.length > VECTOR_PATH_MAX_STMTS) return 1;
  const widest = Math.max(...ir.buffers.map((d) => DTYPES[d].bytes));
  return Math.max(1, Math.min(8, Math.floor(16 / widest)));
}

/**
 * Whether a reduce reads its reduced axis with unit stride (so a block can sweep it
 * coalesced); a reduce that walks the output's inner dim contiguously instead (a column
 * sum) is better done one thread per output.
 */
function contiguousReduce(s: ReduceStmt, inner: number): boolean {
  if (s.loops.length === 0) return false;
  const last = s.loops[s.loops.length - 1].loop;
  const loads = s.body.filter((b) => b.k === 'load');
  const unitLoop = loads.some((b) => b.k === 'load' && b.index.terms.some((t) => 'loop' in t.v && t.v.loop === last && t.coef === 'unit'));
  const unitInner = loads.some((b) => b.k === 'load' && b.index.terms.some((t) => 'dim' in t.v && t.v.dim === inner && t.coef === 'unit'));
  return unitLoop || !unitInner;
}

/** An `element` kernel whose one top-level reduction may be split over blocks (not argmax/argmin). */
function splittable(ir: KernelIR): boolean {
  const reduces = ir.stmts.filter((s): s is ReduceStmt => s.k === 'reduce');
  return reduces.length === 1 && reduces[0].op !== 'argmax' && reduces[0].op !== 'argmin';
}

/** Blocks a split reduction aims for in all (a few waves of a large GPU). */
const SPLIT_TARGET_BLOCKS = 2048;
/** Outputs a split reduction may have (fewer than SPLIT_TARGET_BLOCKS / 2)... */
const SPLIT_MAX_OUTPUTS = SPLIT_TARGET_BLOCKS / 2;
/** ...so their counters fit the scratch's first bytes. */
const SPLIT_COUNTER_BYTES = SPLIT_MAX_OUTPUTS * 4;
/** Elements each thread of a split reduction should fold at least. */
const SPLIT_MIN_PER_THREAD = 8;

/** Base elements each thread of a scatter computes at least... */
const SCATTER_PER_THREAD = 8;
/** ...over at most this many blocks (a few waves of a large GPU; more would only queue). */
const SCATTER_MAX_BLOCKS = 4096;

/** Elements one thread insertion-sorts before a sort's merge passes. */
const SORT_RUN = 8;
/** Outputs one thread merges sequentially in a pass over the scratch (a power of two below any tile). */
const SORT_CHUNK = 16;
/** Threadgroup memory a sort may use: Metal's limit per threadgroup. */
const SORT_SHARED_BYTES = 32768;
/** Elements a sort tile holds at most (16 per thread of a 256-thread block). */
const SORT_TILE_MAX = 4096;
/** Scratch bytes the blocks of a long-line sort share at most (fewer blocks, more lines each, beyond). */
const SORT_SCRATCH_BUDGET = 256 * 1024 * 1024;
/** The launch words carry scratch bytes as an int32. */
const SCRATCH_MAX = 2 ** 31 - 1;

/** Bytes of a sort key in shared and scratch memory (its compute type). */
function sortKeyBytes(spec: NonNullable<KernelIR['sort']>): number {
  const info = DTYPES[spec.dtype];
  return info.kind === 'float' && info.bytes < 4 ? 4 : info.bytes;
}

/**
 * Elements of a sort tile: the largest power of two whose two key buffers (and two
 * uint16 position buffers, for argsort) fit SORT_SHARED_BYTES. float32: 4096 values or
 * 2048 with indices; 64-bit keys: 2048 or 1024; 1- and 2-byte keys: 4096.
 */
export function sortTile(spec: NonNullable<KernelIR['sort']>): number {
  const perElement = 2 * (sortKeyBytes(spec) + (spec.indices ? 2 : 0));
  return Math.min(SORT_TILE_MAX, 2 ** Math.floor(Math.log2(SORT_SHARED_BYTES / perElement)));
}

/**
 * A sort's launch: one block per line, or per group of lines that fill a tile together
 * (grid-stride beyond MAX_BLOCKS). Lines of one tile sort in shared memory: the block is
 * as small as keeps SORT_RUN elements per thread (32..256 threads). A longer line needs
 * its block's scratch region (two key and index halves); blocks are capped so all
 * regions fit SORT_SCRATCH_BUDGET.
 */
function sortLaunch(ir: KernelIR, args: readonly number[]): GpuLaunch {
  const spec = ir.sort as NonNullable<KernelIR['sort']>;
  const lines = args[0];
  const len = args[2 + ir.rank - 1];
  const tile = sortTile(spec);
  if (lines === 0 || len === 0) return { grid: [0, 0, 0], block: [BLOCK_THREADS, 1, 1], sharedBytes: 0, scratchBytes: 0 };
  if (len <= tile) {
    // Whole lines per block: as many as fill a tile (the kernel computes the same G).
    const G = Math.floor(tile / len);
    const threads = Math.min(BLOCK_THREADS, Math.max(32, 2 ** Math.ceil(Math.log2(Math.ceil((Math.min(G, lines) * len) / SORT_RUN)))));
    return { grid: [Math.min(MAX_BLOCKS, ceilDiv(lines, G)), 1, 1], block: [threads, 1, 1], sharedBytes: 0, scratchBytes: 0 };
  }
  const region = Math.ceil(((spec.indices ? 8 * len : 0) + 2 * sortKeyBytes(spec) * len) / 8) * 8;
  if (region > SCRATCH_MAX) {
    throw new Error(
      `${spec.indices ? 'argsort' : 'sort'}: a line of ${len} elements needs ${region} bytes of GPU scratch, more than one launch can have (${SCRATCH_MAX})`,
    );
  }
  const blocks = Math.max(1, Math.min(lines, MAX_BLOCKS, Math.floor(SORT_SCRATCH_BUDGET / region)));
  return { grid: [blocks, 1, 1], block: [BLOCK_THREADS, 1, 1], sharedBytes: 0, scratchBytes: blocks * region };
}

/** How a kernel maps onto threads; a function of the IR only, so it is fixed per source. */
export function gpuStrategy(ir: KernelIR): GpuStrategy {
  if (ir.kind === 'matmul') return 'matmul';
  if (ir.kind === 'scan') return 'scan';
  if (ir.kind === 'sort') return 'sort';
  if (ir.kind === 'scatter') return 'scatter';
  const inner = ir.rank - 1;
  const reduces = ir.stmts.map((s, k) => ({ s, k })).filter((x): x is { s: ReduceStmt; k: number } => x.s.k === 'reduce');
  if (reduces.length === 0) return 'flat';
  if (ir.kind === 'reduce') {
    const root = reduces.find((x) => x.s.id === ir.result) ?? reduces[reduces.length - 1];
    return contiguousReduce(root.s, inner) ? 'element' : 'flat';
  }
  // An elementwise kernel with reductions constant along its rows: one block per row.
  return reduces.some((x) => !ir.inner[x.k]) ? 'rows' : 'flat';
}

/** Renders one kernel of `ir` in `dialect` as a function called `name`. */
export function renderGpuKernel(dialect: GpuDialect, ir: KernelIR, name: string): string {
  const R = new GpuRenderer(dialect, ir);
  switch (gpuStrategy(ir)) {
    case 'matmul':
      return {
        scalar: () => R.renderMatmul(name),
        async32: () => R.renderMatmulAsync32(name),
        tf32: () => R.renderMatmulTf32(name),
        wgmma: () => R.renderMatmulWgmma(name),
        mma16: () => R.renderMatmulMma16(name),
        simdgroup: () => R.renderMatmulSimdgroup(name),
      }[matmulKernel(dialect, ir)]();
    case 'scan':
      return R.renderScan(name);
    case 'sort':
      return R.renderSort(name);
    case 'scatter':
      return R.renderScatter(name);
    case 'rows':
      return R.renderBlocks(name, false);
    case 'element':
      return R.renderBlocks(name, true);
    default:
      return R.renderFlat(name);
  }
}

/**
 * Threads per block of a block-per-row kernel (which reads blockDim): about 8 elements
 * per thread, from 64 to BLOCK_THREADS. Short rows then pay less for the block-wide
 * reductions and more rows are resident at once: layer norm of 8192×1024 went from 1187
 * to about 1340 GB/s on the H100 (4 or 16 per thread measured lower, and 4096-wide
 * softmax rows are slower with fewer than 256 threads or with 512 or 1024).
 */
function rowThreads(len: number): number {
  return Math.min(BLOCK_THREADS, Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, len / 8)))));
}

/** `lines`, each prefixed with `by`. */
function indent(lines: readonly string[], by: string): string[] {
  return lines.map((x) => by + x);
}

function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/**
 * Grid, block and shared bytes of one launch of `ir` as `dialect` renders it, from its
 * bound args (`args[0]` is the work count, `args[2..]` the output dims). Grid-stride
 * kernels cap their grid at MAX_BLOCKS and loop. A launch with no work gets a grid of 0
 * (the runtime skips it).
 */
export function gpuLaunch(ir: KernelIR, args: readonly number[], dialect: GpuDialect): GpuLaunch {
  const work = args[0];
  switch (gpuStrategy(ir)) {
    case 'matmul': {
      const mm = ir.matmul as NonNullable<KernelIR['matmul']>;
      const batch = mm.batchDims.reduce((p, s) => p * args[s], 1);
      const M = args[mm.m];
      const N = args[mm.n];
      const empty = M === 0 || N === 0 || batch === 0;
      const t = MATMUL_TILES[matmulKernel(dialect, ir)];
      return { grid: empty ? [0, 0, 0] : [ceilDiv(N, t.BN), ceilDiv(M, t.BM), batch], block: [t.threads, 1, 1], sharedBytes: t.sharedBytes, scratchBytes: 0 };
    }
    case 'scan':
      return { grid: [Math.min(MAX_BLOCKS, ceilDiv(work, FLAT_THREADS)), 1, 1], block: [FLAT_THREADS, 1, 1], sharedBytes: 0, scratchBytes: 0 };
    case 'sort':
      return sortLaunch(ir, args);
    case 'scatter': {
      // The base over every block (a few elements per thread); the last block applies the
      // updates, counted in through the scratch's first word (renderScatter).
      const blocks = work > 0 ? Math.max(1, Math.min(SCATTER_MAX_BLOCKS, ceilDiv(work, BLOCK_THREADS * SCATTER_PER_THREAD))) : 0;
      return { grid: [blocks, 1, 1], block: [BLOCK_THREADS, 1, 1], sharedBytes: 0, scratchBytes: blocks > 1 ? 4 : 0 };
    }
    case 'rows': {
      const inner = args[2 + ir.rank - 1];
      const rows = inner > 0 ? work / inner : 0;
      return { grid: [Math.min(MAX_BLOCKS, rows), 1, 1], block: [rowThreads(inner), 1, 1], sharedBytes: 0, scratchBytes: 0 };
    }
    case 'element': {
      let splits = 1;
      if (splittable(ir) && work > 0 && work < SPLIT_MAX_OUTPUTS) {
        const s = ir.stmts.find((x): x is ReduceStmt => x.k === 'reduce') as ReduceStmt;
        const total = s.loops.reduce((p, l) => p * args[l.size], 1);
        splits = Math.max(1, Math.min(Math.floor(SPLIT_TARGET_BLOCKS / work), Math.floor(total / (BLOCK_THREADS * SPLIT_MIN_PER_THREAD)), 65535));
      }
      const scratchBytes = splits > 1 ? SPLIT_COUNTER_BYTES + work * splits * 8 : 0;
      return { grid: [Math.min(MAX_BLOCKS, work), splits, 1], block: [BLOCK_THREADS, 1, 1], sharedBytes: 0, scratchBytes };
    }
    default: {
      const V = flatVector(ir);
      return { grid: [Math.min(MAX_BLOCKS, ceilDiv(work, FLAT_THREADS * V)), 1, 1], block: [FLAT_THREADS, 1, 1], sharedBytes: 0, scratchBytes: 0 };
    }
  }
}

const INT_DTYPES: DType[] = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];

/**
 * The per-integer-dtype helpers (float→int conversion with saturation, shifts, floor
 * division, remainder, power) with C semantics, each function declared with `qual`
 * (e.g. `__device__ __forceinline__` or `inline`).
 */
export function gpuIntHelpers(qual: string, computeType: Readonly<Record<DType, string | null>>, wideFloat: string): string {
  const lines: string[] = [];
  for (const d of INT_DTYPES) {
    const T = computeType[d];
    if (T === null) continue;
    const W = wrapType(d);
    const info = DTYPES[d];
    const signed = info.kind === 'int';
    const bits = info.bits;
    const min = signed ? `((${T})((${W})1 << ${bits - 1}))` : '0';
    const max = signed ? `((${T})(((${W})1 << ${bits - 1}) - 1))` : `((${T})~(${T})0)`;
    const maxPlusOne = signed ? `${2 ** (bits - 1)}.0` : `${2 ** bits}.0`;
    const minD = signed ? `-${2 ** (bits - 1)}.0` : '0.0';
    lines.push(
      `${qual} ${T} ma_f2i_${d}(${wideFloat} x) { return x != x ? (${T})0 : x <= ${minD} ? ${min} : x >= ${maxPlusOne} ? ${max} : (${T})x; }`,
      `${qual} ${T} ma_shl_${d}(${T} x, ${T} s) { return (s < 0 || s >= ${bits}) ? (${T})0 : (${T})((${W})x << s); }`,
    );
    if (signed) {
      lines.push(
        `${qual} ${T} ma_shr_${d}(${T} x, ${T} s) { return (s < 0 || s >= ${bits}) ? (x < 0 ? (${T})-1 : (${T})0) : (${T})(x >> s); }`,
        `${qual} ${T} ma_floordiv_${d}(${T} x, ${T} y) { if (y == 0) return 0; if (x == ${min} && y == -1) return x; ${T} q = (${T})(x / y); if ((x % y != 0) && ((x < 0) != (y < 0))) q--; return q; }`,
        `${qual} ${T} ma_rem_${d}(${T} x, ${T} y) { if (y == 0 || y == -1) return 0; ${T} r = (${T})(x % y); if (r != 0 && ((r < 0) != (y < 0))) r = (${T})(r + y); return r; }`,
        `${qual} ${T} ma_pow_${d}(${T} x, ${T} y) { if (y < 0) return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0; ${W} r = 1, b = (${W})x; while (y) { if (y & 1) r *= b; b *= b; y >>= 1; } return (${T})r; }`,
      );
    } else {
      lines.push(
        `${qual} ${T} ma_shr_${d}(${T} x, ${T} s) { return (s >= ${bits}) ? (${T})0 : (${T})(x >> s); }`,
        `${qual} ${T} ma_floordiv_${d}(${T} x, ${T} y) { return y == 0 ? (${T})0 : (${T})(x / y); }`,
        `${qual} ${T} ma_rem_${d}(${T} x, ${T} y) { return y == 0 ? (${T})0 : (${T})(x % y); }`,
        `${qual} ${T} ma_pow_${d}(${T} x, ${T} y) { ${W} r = 1, b = x; while (y) { if (y & 1) r *= b; b *= b; y >>= 1; } return (${T})r; }`,
      );
    }
  }
  return lines.join('\n');
}
