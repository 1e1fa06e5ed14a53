/** The C matrix-product kernel: packed B panels, an MR×NR register tile, the epilogue per element. */
import { DTYPES } from '../core/dtype.js';
import { C_COMPUTE_TYPE, C_STORAGE_TYPE } from './ctypes.js';
import type { KernelIR } from './ir.js';
import { C, renderStmt, v } from './c-dialect.js';

/**
 * A matmul kernel. Each work item is a block of MR output rows of one batch. For each
 * block of NR columns, B's K×NR panel is packed contiguously once per chunk and batch;
 * an MR×NR register tile accumulates over K; then the epilogue runs per element of the
 * tile and stores. If the panel can't be allocated the same loops read B in place.
 */
export function renderCMatmulKernel(ir: KernelIR, name: string): string {
  const mm = ir.matmul as NonNullable<KernelIR['matmul']>;
  const d = mm.dtype;
  const CT = C_COMPUTE_TYPE[d];
  const ST = C_STORAGE_TYPE[d];
  const MR = mm.rowBlock;
  const NR = DTYPES[d].bytes === 8 ? 16 : 32;
  const r = ir.rank;
  const outType = C_STORAGE_TYPE[ir.buffers[0]];
  const conv = (x: string): string => (d === 'float16' ? `ma_h2f(${x})` : d === 'bfloat16' ? `ma_b2f(${x})` : `(${CT})(${x})`);
  const dimVar = (k: number): string => (k === r - 2 ? 'i' : k === r - 1 ? 'j' : `bi${k}`);
  const sA = mm.a.strides;
  const sB = mm.b.strides;
  const br = mm.batchRank;
  const res = v(ir.result);
  const outDtype = ir.buffers[0];
  const stored = outDtype === 'float16' ? `ma_f2h(${res})` : outDtype === 'bfloat16' ? `ma_f2b(${res})` : res;
  const L: string[] = [];
  L.push(`void ${name}(void *const *bufs, const int64_t *a, int64_t start, int64_t end) {`);
  L.push(`  ${outType} *restrict out = (${outType} *)bufs[0];`);
  L.push(`  const ${ST} *A = (const ${ST} *)bufs[${mm.a.buf}];`);
  L.push(`  const ${ST} *B = (const ${ST} *)bufs[${mm.b.buf}];`);
  L.push(`  const int64_t M = a[${mm.m}], N = a[${mm.n}], K = a[${mm.k}];`);
  L.push(`  const int64_t sAi = a[${sA[br]}], sAk = a[${sA[br + 1]}], sBk = a[${sB[br]}], sBj = a[${sB[br + 1]}];`);
  L.push(`  const int64_t mblocks = (M + ${MR - 1}) / ${MR};`);
  L.push('  if (start >= end || mblocks == 0) return;');
  L.push(`  ${CT} *panel = (${CT} *)malloc(sizeof(${CT}) * (size_t)(K > 0 ? K : 1) * ${NR});`);
  L.push('  for (int64_t w = start; w < end;) {');
  L.push('    const int64_t bflat = w / mblocks;');
  L.push('    const int64_t wend = (bflat + 1) * mblocks < end ? (bflat + 1) * mblocks : end;');
  L.push(`    int64_t oA = a[${mm.a.offset}], oB = a[${mm.b.offset}];`);
  if (br > 0) {
    L.push('    int64_t bt = bflat;');
    for (let k = br - 1; k >= 0; k--) {
      L.push(`    const int64_t bi${k} = bt % a[${mm.batchDims[k]}]; bt /= a[${mm.batchDims[k]}];`);
      L.push(`    oA += bi${k} * a[${sA[k]}]; oB += bi${k} * a[${sB[k]}];`);
    }
  }
  L.push('    const int64_t oOut = bflat * M * N;');
  L.push(`    for (int64_t j0 = 0; j0 < N; j0 += ${NR}) {`);
  L.push(`      const int64_t nj = N - j0 < ${NR} ? N - j0 : ${NR};`);
  L.push('      if (panel) {');
  L.push('        for (int64_t k = 0; k < K; k++)');
  L.push(`          for (int64_t jj = 0; jj < ${NR}; jj++) panel[k * ${NR} + jj] = jj < nj ? ${conv(`B[oB + k * sBk + (j0 + jj) * sBj]`)} : (${CT})0;`);
  L.push('      }');
  L.push('      for (int64_t wb = w; wb < wend; wb++) {');
  L.push(`        const int64_t i0 = (wb % mblocks) * ${MR};`);
  L.push(`        const ${ST} *arow[${MR}];`);
  L.push(`        for (int ii = 0; ii < ${MR}; ii++) arow[ii] = A + oA + (i0 + ii < M ? i0 + ii : M - 1) * sAi;`);
  L.push(`        ${CT} acc[${MR}][${NR}];`);
  L.push(`        for (int ii = 0; ii < ${MR}; ii++) for (int jj = 0; jj < ${NR}; jj++) acc[ii][jj] = 0;`);
  L.push('        if (panel) {');
  L.push('          for (int64_t k = 0; k < K; k++) {');
  L.push(`            const ${CT} *bk = panel + k * ${NR};`);
  L.push(`            _Pragma("GCC unroll 8") for (int ii = 0; ii < ${MR}; ii++) {`);
  L.push(`              const ${CT} av = ${conv('arow[ii][k * sAk]')};`);
  L.push(`              _Pragma("GCC unroll 32") for (int jj = 0; jj < ${NR}; jj++) acc[ii][jj] = ${C.fma(d, 'av', 'bk[jj]', 'acc[ii][jj]')};`);
  L.push('            }');
  L.push('          }');
  L.push('        } else {');
  L.push('          for (int64_t k = 0; k < K; k++)');
  L.push(`            for (int ii = 0; ii < ${MR}; ii++) {`);
  L.push(`              const ${CT} av = ${conv('arow[ii][k * sAk]')};`);
  L.push(`              for (int64_t jj = 0; jj < nj; jj++) acc[ii][jj] = ${C.fma(d, 'av', conv('B[oB + k * sBk + (j0 + jj) * sBj]'), 'acc[ii][jj]')};`);
  L.push('            }');
  L.push('        }');
  L.push(`        for (int ii = 0; ii < ${MR} && i0 + ii < M; ii++) {`);
  L.push('          const int64_t i = i0 + ii;');
  L.push('          for (int64_t jj = 0; jj < nj; jj++) {');
  L.push('            const int64_t j = j0 + jj;');
  for (const s of ir.stmts) L.push(`            ${renderStmt(s, dimVar).split('\n').join('\n            ')}`);
  L.push(`            out[oOut + i * N + j] = ${stored};`);
  L.push('          }');
  L.push('        }');
  L.push('      }');
  L.push('    }');
  L.push('    w = wend;');
  L.push('  }');
  L.push('  free(panel);');
  L.push('}');
  return L.join('\n');
}
