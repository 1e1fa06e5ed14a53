/**
 * The TensorFloat-32 matrix product on Hopper warpgroup instructions
 * (dialect.warpgroupTf32): two multiplying warpgroups and one copying warpgroup.
 */
import type { KernelIR } from './ir.js';
import type { GpuDialect } from './gpu-dialect.js';
import { matmulElement, matmulHead } from './gpu-matmul.js';
import { WG, WG_A_BYTES, WG_B_BYTES } from './gpu-matmul-tiles.js';
import { type GpuRenderer, indent } from './gpu-walker.js';

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
export function renderMatmulWgmma(R: GpuRenderer, name: string): string {
  const D = R.D;
  const W = D.int64;
  const mm = R.ir.matmul as NonNullable<KernelIR['matmul']>;
  const copy = D.asyncCopy as NonNullable<GpuDialect['asyncCopy']>;
  const { BM, BN, BK, threads, STAGES } = WG;
  const A = `b${mm.a.buf}`;
  const B = `b${mm.b.buf}`;
  const u = D.unroll;
  const L: string[] = [...R.head(name, threads), `  ${copy.dynamicShared('float', 'sm')}`, ...matmulHead(R)];
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
  L.push(...indent(wgmmaCopier(R, A, B), '    '));
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
  L.push(...matmulElement(R, 'd[4 * jj + rr]', '      '));
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
function wgmmaCopier(R: GpuRenderer, A: string, B: string): string[] {
  const D = R.D;
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
