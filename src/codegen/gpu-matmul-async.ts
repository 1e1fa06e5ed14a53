/**
 * The float32 matrix-product kernels fed by asynchronous copies (dialect.asyncCopy):
 * exact (async32) and TensorFloat-32 on warp tensor cores (tf32).
 */
import type { KernelIR } from './ir.js';
import type { GpuDialect } from './gpu-dialect.js';
import { matmulHead, scalarEpilogue } from './gpu-matmul.js';
import { MMA_COORDS, mmaAccumulators, mmaEpilogue, mmaStep } from './gpu-matmul-mma.js';
import { AS, AS_STAGE_FLOATS } from './gpu-matmul-tiles.js';
import { type GpuRenderer, indent } from './gpu-walker.js';

/**
 * The opening and K loop of a float32 product fed by asynchronous copies (tile AS):
 * the operands' tiles are copied into AS.STAGES shared buffers, AS.STAGES - 1 tiles
 * ahead of the one `body` reads (`Ac`, A as [m][k]; `Bc`, B as [k][n]). Operands with
 * unit inner strides and 16-byte aligned rows move in 16-byte copies; any others
 * element by element (threads consecutive along a unit stride where the operand has
 * one). Copies past M, N or K zero-fill, so edges need no branches in the product.
 * `accumulators` declares and zeroes the product's registers.
 */
function asyncOpen(R: GpuRenderer, name: string, coords: string, accumulators: string, body: string[]): string[] {
  const D = R.D;
  const W = D.int64;
  const mm = R.ir.matmul as NonNullable<KernelIR['matmul']>;
  const copy = D.asyncCopy as NonNullable<GpuDialect['asyncCopy']>;
  const { BM, BN, BK, threads, STAGES, LDA, LDB } = AS;
  const A = `b${mm.a.buf}`;
  const B = `b${mm.b.buf}`;
  const u = D.unroll;
  const L: string[] = [...R.head(name, threads), `  ${copy.dynamicShared('float', 'sm')}`, ...matmulHead(R)];
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
export function renderMatmulAsync32(R: GpuRenderer, name: string): string {
  const u = R.D.unroll;
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
    `          ${u} for (int jj = 0; jj < 8; jj++) acc[ii][jj] = ${R.fma('float32', 'av', 'bv[jj]', 'acc[ii][jj]')};`,
    '        }',
    '      }',
    '    }',
  ];
  const acc = `  float acc[8][8]; ${u} for (int ii = 0; ii < 8; ii++) { ${u} for (int jj = 0; jj < 8; jj++) acc[ii][jj] = 0.0f; }`;
  const L = asyncOpen(R, name, 'ty = tid / 16, tx = tid % 16', acc, body);
  scalarEpilogue(R, L);
  return L.join('\n');
}

/**
 * A float32 matrix product on TensorFloat-32 tensor cores fed by asynchronous copies
 * (tile AS): 8 warps of 64×32 (4×4 m16n8k8 products each); operands are rounded to
 * TF32 as the fragments are read (so the shared tiles are plain copies), float32
 * accumulation; the epilogue runs per output element.
 */
export function renderMatmulTf32(R: GpuRenderer, name: string): string {
  const { LDA, LDB, BK } = AS;
  const body = mmaStep(
    R,
    BK,
    8,
    'ks + t',
    4,
    (row, k) => `ma_tf32(Ac[(${row}) * ${LDA} + ${k}])`,
    (col, k) => `ma_tf32(Bc[(${k}) * ${LDB} + ${col}])`,
    'ma_mma_tf32',
  );
  const L = asyncOpen(R, name, MMA_COORDS, mmaAccumulators(R), body);
  mmaEpilogue(R, L);
  return L.join('\n');
}
