/**
 * The GPU renderer: one walker over the kernel IR for every GPU language, driven by a
 * {@link GpuDialect} table of what differs (CUDA C in `cuda.ts`, Metal Shading Language
 * in `msl.ts`; the interface in gpu-dialect.ts, the walker in gpu-walker.ts (built on the
 * C-family walker of c-walker.ts, shared with the C renderer), each kernel
 * family in its own gpu-*.ts file).
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
 *   zeroes the region after. A dialect with `orderedPasses` (Metal) sorts long lines in
 *   ordered dispatches instead: tiles over all blocks, then a merge pass per dispatch.
 * - `scatter`: every block computes a share of the base (grid-stride); the last block
 *   to finish (an atomic counter in scratch, as split reductions) applies the updates in
 *   index order: one thread per run of equal positions when positions never decrease,
 *   else one thread for all (deterministic; repeated positions combine as on the CPU).
 *   With `orderedPasses` (Metal) the base is one dispatch and the updates a second.
 * - `matmul`: {@link matmulKernel} picks the kernel from the dialect's capabilities and
 *   gpuLaunch takes its tile from MATMUL_TILES, so source and geometry agree. The
 *   scalar kernel: 128×128 output tiles per 256-thread block (8×8 per thread), K in
 *   steps of 8 through double-buffered shared memory, the epilogue per element, exact
 *   FMA. CUDA's tensor-core kernels (tf32, float16/bfloat16) keep that tile; Metal's
 *   SIMD-group matrix kernel has 64×64 tiles per 128-thread threadgroup (SG).
 */
import type { KernelIR, ReduceStmt } from './ir.js';
import type { GpuDialect, GpuLaunch, GpuStrategy } from './gpu-dialect.js';
import { flatVector, renderFlat } from './gpu-elementwise.js';
import { renderMatmul } from './gpu-matmul.js';
import { renderMatmulAsync32, renderMatmulTf32 } from './gpu-matmul-async.js';
import { renderMatmulMma16 } from './gpu-matmul-mma.js';
import { renderMatmulSimdgroup } from './gpu-matmul-simdgroup.js';
import { MATMUL_TILES, matmulKernel } from './gpu-matmul-tiles.js';
import { renderMatmulWgmma } from './gpu-matmul-wgmma.js';
import { contiguousReduce, renderBlocks, rowThreads, splittable } from './gpu-reduction.js';
import { renderScan } from './gpu-scan.js';
import { SCATTER_MAX_BLOCKS, SCATTER_PER_THREAD, renderScatter } from './gpu-scatter.js';
import { renderSort, sortLaunch } from './gpu-sort.js';
import {
  BLOCK_THREADS,
  FLAT_THREADS,
  GpuRenderer,
  MAX_BLOCKS,
  SPLIT_COUNTER_BYTES,
  SPLIT_MAX_OUTPUTS,
  SPLIT_MIN_PER_THREAD,
  SPLIT_TARGET_BLOCKS,
  ceilDiv,
} from './gpu-walker.js';

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

/**
 * Whether `dialect` renders `ir` as an ordered-pass kernel (GpuDialect.orderedPasses):
 * its scatters and sorts, which declare the pass index after their args words.
 *
 * @example
 * ```ts
 * const words = Math.max(1, ir.argWords) + (orderedPassKernel(dialect, ir) ? 1 : 0);
 * ```
 */
export function orderedPassKernel(dialect: GpuDialect, ir: KernelIR): boolean {
  const strategy = gpuStrategy(ir);
  return dialect.orderedPasses !== undefined && (strategy === 'scatter' || strategy === 'sort');
}

/** Renders one kernel of `ir` in `dialect` as a function called `name`. */
export function renderGpuKernel(dialect: GpuDialect, ir: KernelIR, name: string): string {
  const R = new GpuRenderer(dialect, ir);
  switch (gpuStrategy(ir)) {
    case 'matmul':
      return {
        scalar: () => renderMatmul(R, name),
        async32: () => renderMatmulAsync32(R, name),
        tf32: () => renderMatmulTf32(R, name),
        wgmma: () => renderMatmulWgmma(R, name),
        mma16: () => renderMatmulMma16(R, name),
        simdgroup: () => renderMatmulSimdgroup(R, name),
      }[matmulKernel(dialect, ir)]();
    case 'scan':
      return renderScan(R, name);
    case 'sort':
      return renderSort(R, name);
    case 'scatter':
      return renderScatter(R, name);
    case 'rows':
      return renderBlocks(R, name, false);
    case 'element':
      return renderBlocks(R, name, true);
    default:
      return renderFlat(R, name);
  }
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
