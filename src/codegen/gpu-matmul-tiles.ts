/**
 * The GPU matrix-product kernels' tiles, and which kernel a dialect renders for a
 * matmul ({@link matmulKernel}): source and launch geometry (gpu.ts) read both from here.
 */
import type { DType } from '../core/dtype.js';
import type { KernelIR } from './ir.js';
import type { GpuDialect } from './gpu-dialect.js';

/** Matmul tile: BM×BN outputs per block, BK deep, TM×TN per thread. */
export const MM = { BM: 128, BN: 128, BK: 8, threads: 256 } as const;
/**
 * The SIMD-group matrix tile: 64×64 outputs per 128-thread block (4 SIMD groups in 2×2,
 * each 32×32 = 4×4 fragments of 8×8), K in steps of 32 through shared memory. A is
 * staged [64][32 + 4] and B [32][64 + 4] (rows padded by 16 bytes against bank
 * conflicts): (64·36 + 32·68)·4 = 17,920 bytes of float, reused after the K loop as
 * each SIMD group's 32×32 block of results for the epilogue (4·1024·4 = 16,384 bytes).
 * Metal allows 32 KB of threadgroup memory per threadgroup.
 */
export const SG = { BM: 64, BN: 64, BK: 32, threads: 128, LDA: 36, LDB: 68 } as const;
/** Floats of the SIMD-group matmul's shared array: the larger of the tiles and the results. */
export const SG_SHARED_FLOATS = Math.max(SG.BM * SG.LDA + SG.BK * SG.LDB, (SG.threads / 32) * 32 * 32);

/**
 * The float32 product kernels fed by asynchronous copies (exact and TF32): 128×128
 * tiles, 256 threads, K in steps of 32 through STAGES shared buffers of A as [m][k]
 * (rows padded to LDA floats) and B as [k][n] (rows of LDB): padding keeps the
 * 16-byte row starts and spreads the fragment reads over the banks.
 */
export const AS = { BM: 128, BN: 128, BK: 32, threads: 256, STAGES: 3, LDA: 36, LDB: 136 } as const;
/** Floats of one of AS's shared buffers. */
export const AS_STAGE_FLOATS = AS.BM * AS.LDA + AS.BK * AS.LDB;

/**
 * The TF32 product on warpgroup instructions (dialect.warpgroupTf32): 256×128 tiles (m ×
 * n) per block of three warpgroups, two that multiply and one that copies, K in steps of
 * 32 through STAGES stages. A's tile is stored as the products' shared-memory operand: BM
 * rows × 128 bytes (k contiguous), 16-byte chunk c of row r at chunk c ^ (r % 8). B's tile
 * is [k][n] with n at n ^ 8·(k % 4), or, when B's k is contiguous, [n][k] with chunk c of
 * row n at c ^ (n / 2 % 8): dense, with fragment reads on distinct banks.
 */
export const WG = { BM: 256, BN: 128, BK: 32, threads: 384, STAGES: 4 } as const;
/** Bytes of A's tile in one stage of WG (a multiple of 1024, the swizzle's period). */
export const WG_A_BYTES = WG.BM * WG.BK * 4;
/** Bytes of B's tile in one stage of WG. */
export const WG_B_BYTES = WG.BN * WG.BK * 4;
/**
 * Dynamic shared bytes of WG: the stages of A, then those of B, then two mbarriers per
 * stage (filled, emptied), plus 1024 for aligning the first stage.
 */
const WG_SHARED_BYTES = WG.STAGES * (WG_A_BYTES + WG_B_BYTES + 16) + 1024;

/** The matrix-product kernels the walker renders, and each one's block tile and dynamic shared bytes. */
export type MatmulKernel = 'scalar' | 'async32' | 'tf32' | 'wgmma' | 'mma16' | 'simdgroup';
export const MATMUL_TILES: Readonly<Record<MatmulKernel, { BM: number; BN: number; threads: number; sharedBytes: number }>> = {
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
