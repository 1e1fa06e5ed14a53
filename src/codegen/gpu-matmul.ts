import type { KernelIR } from './ir.js';
import { MM } from './gpu-matmul-tiles.js';
import type { GpuRenderer } from './gpu-walker.js';

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
export function renderMatmul(R: GpuRenderer, name: string): string {
  const D = R.D;
  const mm = R.ir.matmul as NonNullable<KernelIR['matmul']>;
  const d = mm.dtype;
  const CT = R.ct(d);
  const { BM, BN, BK, threads } = MM;
  const PER = (BM * BK) / threads; // elements of each operand tile a thread loads
  // A is stored transposed ([k][m]). (Padding its rows to spread the transposing stores
  // over the banks measured slower on the H100: 30.8 against 35.4 TFLOP/s at 4096.)
  const LDA = BM;
  const L = mmOpen(R, name, [D.shared(CT, 'As', 2 * BK * LDA), D.shared(CT, 'Bs', 2 * BK * BN)], 'ty = tid / 16, tx = tid % 16', BK, PER);
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
    `      ${D.unroll} for (int ii = 0; ii < 8; ii++) { ${D.unroll} for (int jj = 0; jj < 8; jj++) acc[ii][jj] = ${R.fma(d, 'av[ii]', 'bv[jj]', 'acc[ii][jj]')}; }`,
  );
  body.push('    }');
  mmKLoop(R, L, BK, PER, (raw) => `(${CT})${R.fromStorage(d, raw)}`, `(${CT})0`, store, body);
  scalarEpilogue(R, L);
  return L.join('\n');
}

/**
 * The close of a product kernel whose thread (ty, tx) of a 16×16 layout holds acc[8][8]
 * for rows {ty*4..+3, 64+ty*4..+3} and columns {tx*4..+3, 64+tx*4..+3} of the tile: the
 * epilogue per element.
 */
export function scalarEpilogue(R: GpuRenderer, L: string[]): void {
  const D = R.D;
  const W = D.int64;
  L.push(`  ${D.unroll} for (int ii = 0; ii < 8; ii++) {`);
  L.push(`    const ${W} i = row0 + (ii < 4 ? ty * 4 + ii : 64 + ty * 4 + ii - 4);`);
  L.push('    if (i >= M) continue;');
  L.push(`    ${D.unroll} for (int jj = 0; jj < 8; jj++) {`);
  L.push(`      const ${W} j = col0 + (jj < 4 ? tx * 4 + jj : 64 + tx * 4 + jj - 4);`);
  L.push('      if (j >= N) continue;');
  L.push(...matmulElement(R, 'acc[ii][jj]', '      '));
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
export function mmOpen(R: GpuRenderer, name: string, shared: string[], coords: string, BK: number, PER: number): string[] {
  const D = R.D;
  const W = D.int64;
  const { BM, BN, threads } = MM;
  const L: string[] = [...R.head(name, threads), ...shared.map((x) => `  ${x}`), ...matmulHead(R)];
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
export function mmKLoop(
  R: GpuRenderer,
  L: string[],
  BK: number,
  PER: number,
  conv: (raw: string) => string,
  zero: string,
  store: (buf: string) => string[],
  body: string[],
): void {
  const D = R.D;
  const W = D.int64;
  const mm = R.ir.matmul as NonNullable<KernelIR['matmul']>;
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
 * The fused epilogue of one product element (i, j) of batch bflat, whose accumulated
 * value is `value`: the kernel's statements, then the store, each line prefixed with `by`.
 */
export function matmulElement(R: GpuRenderer, value: string, by: string): string[] {
  const ir = R.ir;
  const r = ir.rank;
  const dimVar = (k: number): string => (k === r - 2 ? 'i' : k === r - 1 ? 'j' : `bi${k}`);
  R.mmValue = value;
  const L = ir.stmts.map((st) => `${by}${R.stmt(st, dimVar, 'serial').split('\n').join(`\n${by}`)}`);
  L.push(`${by}b0[bflat * M * N + i * N + j] = ${R.toStorage(ir.buffers[0], `v${ir.result}`)};`);
  return L;
}

/**
 * The opening of every matmul kernel: M, N, K, the operands' row and k strides, the
 * batch index (blockZ) decoded into bi0.. and the operands' offsets for it.
 */
export function matmulHead(R: GpuRenderer): string[] {
  const D = R.D;
  const W = D.int64;
  const mm = R.ir.matmul as NonNullable<KernelIR['matmul']>;
  const br = mm.batchRank;
  const sA = mm.a.strides;
  const sB = mm.b.strides;
  const L: string[] = [];
  L.push(`  const ${W} M = ${R.arg(mm.m)}, N = ${R.arg(mm.n)}, K = ${R.arg(mm.k)};`);
  L.push(`  const ${W} sAi = ${R.arg(sA[br])}, sAk = ${R.arg(sA[br + 1])}, sBk = ${R.arg(sB[br])}, sBj = ${R.arg(sB[br + 1])};`);
  L.push(`  const ${W} bflat = ${D.blockZ};`);
  L.push(`  ${W} oA = ${R.arg(mm.a.offset)}, oB = ${R.arg(mm.b.offset)};`);
  if (br > 0) {
    L.push(`  ${W} bt = bflat;`);
    for (let k = br - 1; k >= 0; k--) {
      L.push(`  const ${W} bi${k} = bt % ${R.arg(mm.batchDims[k])}; bt /= ${R.arg(mm.batchDims[k])};`);
      L.push(`  oA += bi${k} * ${R.arg(sA[k])}; oB += bi${k} * ${R.arg(sB[k])};`);
    }
  }
  return L;
}
