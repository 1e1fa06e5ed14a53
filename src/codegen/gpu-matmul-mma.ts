/**
 * Warp matrix-product fragments (mma.sync: accumulators, one k-step, the epilogue) and
 * the float16/bfloat16 tensor-core kernel built on them (dialect.tensorCores16).
 */
import type { KernelIR } from './ir.js';
import { matmulElement, mmKLoop, mmOpen } from './gpu-matmul.js';
import type { GpuRenderer } from './gpu-walker.js';

/**
 * One step of a tensor-core product over shared buffer `cur`: per `kstep` of the tile,
 * each warp reads its fragments (m16n8 products: A at rows m0 and m0 + 8 of k0 and
 * k0 + half, B at k0 and k0 + half of column n0, through `readA(row, k)` and
 * `readB(col, k)`) and runs 4×4 products `fn(acc[mt][nt], a, b)`.
 */
export function mmaStep(
  R: GpuRenderer,
  BK: number,
  kstep: number,
  k0: string,
  half: number,
  readA: (row: string, k: string) => string,
  readB: (col: string, k: string) => string,
  fn: string,
): string[] {
  const u = R.D.unroll;
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
export function mmaAccumulators(R: GpuRenderer): string {
  const u = R.D.unroll;
  return `  float acc[4][4][4]; ${u} for (int x = 0; x < 4; x++) { ${u} for (int y = 0; y < 4; y++) { ${u} for (int z = 0; z < 4; z++) acc[x][y][z] = 0.0f; } }`;
}

/** The close of a tensor-core product: the epilogue per element of the m16n8 accumulator fragments. */
export function mmaEpilogue(R: GpuRenderer, L: string[]): void {
  const W = R.D.int64;
  const unroll = R.D.unroll;
  L.push(`  ${unroll} for (int mt = 0; mt < 4; mt++) {`);
  L.push(`    ${unroll} for (int nt = 0; nt < 4; nt++) {`);
  L.push(`      ${unroll} for (int rr = 0; rr < 4; rr++) {`);
  L.push(`        const ${W} i = row0 + wm * 64 + mt * 16 + g + (rr >= 2 ? 8 : 0);`);
  L.push(`        const ${W} j = col0 + wn * 32 + nt * 8 + 2 * t + (rr & 1);`);
  L.push('        if (i >= M || j >= N) continue;');
  L.push(...matmulElement(R, 'acc[mt][nt][rr]', '        '));
  L.push('      }');
  L.push('    }');
  L.push('  }');
  L.push('}');
}

/** A tensor-core kernel's thread coordinates: its warp (wm, wn) and the lane's group g and thread t in it. */
export const MMA_COORDS = 'lane = tid & 31u, warp = tid >> 5, g = lane >> 2, t = lane & 3u, wm = warp >> 2, wn = warp & 3u';

/**
 * A float16 or bfloat16 matrix product on tensor cores (mma.sync m16n8k16, float32
 * accumulation): 128×128 tiles per 256-thread block, 8 warps of 64×32, K in steps of
 * 32 through double-buffered shared memory that holds both tiles k-contiguous (A as
 * [m][k], B as [n][k], rows padded to 40 halves so fragment reads hit distinct banks),
 * so each fragment register is one 32-bit read of two consecutive k; the epilogue runs
 * per output element on the float32 accumulators, rounded to the dtype as the scalar
 * kernel rounds them.
 */
export function renderMatmulMma16(R: GpuRenderer, name: string): string {
  const D = R.D;
  const mm = R.ir.matmul as NonNullable<KernelIR['matmul']>;
  const BK = 32;
  const LD = 40; // halves per padded row: 20 words, so rows g = 0..7 start 20 banks apart
  const PER = (128 * BK) / 256;
  const L = mmOpen(R, name, [D.shared('uint16_t', 'As', 2 * 128 * LD), D.shared('uint16_t', 'Bs', 2 * 128 * LD)], MMA_COORDS, BK, PER);
  const store = (buf: string): string[] => [
    `    ${D.unroll} for (int e = 0; e < ${PER}; e++) {`,
    '      const unsigned q = tid + 256 * e;',
    `      As[(${buf} * 128 + q / ${BK}) * ${LD} + q % ${BK}] = ra[e];`,
    `      Bs[(${buf} * 128 + q % 128) * ${LD} + q / 128] = rb[e];`,
    '    }',
  ];
  // Two consecutive halves of a k-contiguous row as one fragment register (lower k in the low bits).
  const pair = (base: string, row: string, k: string): string => `*(${D.sharedPtr('const uint32_t')})(${base} + (${row}) * ${LD} + ${k})`;
  L.push(mmaAccumulators(R), `  uint16_t ra[${PER}], rb[${PER}];`);
  const body = [
    `    ${D.sharedPtr('const uint16_t')}Ac = As + cur * ${128 * LD};`,
    `    ${D.sharedPtr('const uint16_t')}Bc = Bs + cur * ${128 * LD};`,
    ...mmaStep(
      R,
      BK,
      16,
      'ks + 2 * t',
      8,
      (row, k) => pair('Ac', row, k),
      (col, k) => pair('Bc', col, k),
      mm.dtype === 'bfloat16' ? 'ma_mma_bf16' : 'ma_mma_f16',
    ),
  ];
  mmKLoop(R, L, BK, PER, (raw) => raw, '(uint16_t)0', store, body);
  mmaEpilogue(R, L);
  return L.join('\n');
}
