/**
 * The matrix product on Metal SIMD-group matrices (dialect.simdgroupMatrix): 64×64 tiles
 * per 128-thread threadgroup, float32 fragments.
 */
import type { KernelIR } from './ir.js';
import type { SimdgroupMatrixOps } from './gpu-dialect.js';
import { matmulElement, matmulHead } from './gpu-matmul.js';
import { SG, SG_SHARED_FLOATS } from './gpu-matmul-tiles.js';
import type { GpuRenderer } from './gpu-walker.js';

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
export function renderMatmulSimdgroup(R: GpuRenderer, name: string): string {
  const ir = R.ir;
  const D = R.D;
  const S = D.simdgroupMatrix as SimdgroupMatrixOps;
  const W = D.int64;
  const mm = ir.matmul as NonNullable<KernelIR['matmul']>;
  const d = mm.dtype;
  const { BM, BN, BK, threads, LDA, LDB } = SG;
  const PER = (BM * BK) / threads; // elements of each operand tile a thread stages
  const FR = 4; // fragments per SIMD group along each of M and N (32 / 8)
  const L: string[] = [...R.head(name, threads)];
  L.push(`  ${D.shared('float', 'sm', SG_SHARED_FLOATS)}`);
  L.push(...matmulHead(R));
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
  L.push(`      As[ra * ${LDA} + ak] = (okKA && gi < M) ? (float)${R.fromStorage(d, `b${mm.a.buf}[baseA + gi * sAi + k0 * sAk]`)} : 0.0f;`);
  L.push(`      Bs[kb * ${LDB} + bj] = (okB && k0 + kb < K) ? (float)${R.fromStorage(d, `b${mm.b.buf}[baseB + (k0 + kb) * sBk]`)} : 0.0f;`);
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
  L.push(...matmulElement(R, 'Cs[e * 32 + lane]', '    '));
  L.push('  }');
  L.push('}');
  return L.join('\n');
}
