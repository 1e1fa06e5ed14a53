/**
 * The `sort` GPU kernel family: one block per line along the last dim, or per group of
 * short lines that fill a tile together; tiles sort in shared memory, longer lines merge
 * their tiles in the scratch buffer (see gpu.ts for the strategy), and the launch
 * geometry of sorts.
 */
import { DTYPES } from '../core/dtype.js';
import type { KernelIR } from './ir.js';
import type { GpuLaunch } from './gpu-dialect.js';
import { BLOCK_THREADS, type GpuRenderer, MAX_BLOCKS, ceilDiv } from './gpu-walker.js';

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
export function sortLaunch(ir: KernelIR, args: readonly number[]): GpuLaunch {
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

/**
 * "x sorts before y" in the key's compute type: ascending, NaN after everything
 * (NaN ties with NaN), -0 equal to 0 (IEEE comparison). Only a strict order is ever
 * asked, so equal keys keep their positions: the merges below are stable by rank.
 */
function sortLess(R: GpuRenderer, x: string, y: string): string {
  const spec = R.ir.sort as NonNullable<KernelIR['sort']>;
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
function mergeStep(R: GpuRenderer, I: string, src: string, p: string, w: string, s0: string, s1: string, place: string[], indent: string): string[] {
  const K = R.ct((R.ir.sort as NonNullable<KernelIR['sort']>).dtype);
  return [
    `const ${I} lo = ${s0} + (${p} - ${s0}) / (2 * ${w}) * (2 * ${w});`,
    `const ${I} mid = lo + ${w} < ${s1} ? lo + ${w} : ${s1}, hi = lo + 2 * ${w} < ${s1} ? lo + 2 * ${w} : ${s1};`,
    `const ${K} x = ${src}[${p}];`,
    `${I} q;`,
    `if (${p} < mid) {`,
    `  ${I} l = mid, h = hi;`,
    `  while (l < h) { const ${I} m = (l + h) >> 1; if (${sortLess(R, `${src}[m]`, 'x')}) l = m + 1; else h = m; }`,
    `  q = ${p} + (l - mid);`,
    '} else {',
    `  ${I} l = lo, h = mid;`,
    `  while (l < h) { const ${I} m = (l + h) >> 1; if (${sortLess(R, 'x', `${src}[m]`)}) h = m; else l = m + 1; }`,
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
export function renderSort(R: GpuRenderer, name: string): string {
  const ir = R.ir;
  const D = R.D;
  const W = D.int64;
  const spec = ir.sort as NonNullable<KernelIR['sort']>;
  const r = ir.rank;
  const K = R.ct(spec.dtype);
  const KB = sortKeyBytes(spec);
  const tile = sortTile(spec);
  const idx = spec.indices;
  const outD = ir.buffers[0];
  const dimVar = (d: number): string => (d === r - 1 ? 'j' : `i${d}`);
  const emit = (k: string, i: string): string => (idx ? `(${R.st(outD)})(${i})` : R.toStorage(outD, k));
  const L: string[] = [...R.head(name, BLOCK_THREADS)];
  L.push(`  ${D.shared(K, 'sk0', tile)}`);
  L.push(`  ${D.shared(K, 'sk1', tile)}`);
  if (idx) {
    L.push(`  ${D.shared('uint16_t', 'si0', tile)}`);
    L.push(`  ${D.shared('uint16_t', 'si1', tile)}`);
  }
  L.push(`  const ${W} lines = ${R.arg(0)};`);
  L.push(...R.dimsDecl(r, '  '));
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
  if (r > 1) L.push(...R.decode('line', r, dimVar, '        ', r - 2));
  for (const s of ir.stmts) L.push(`        ${R.stmt(s, dimVar, 'serial').split('\n').join('\n        ')}`);
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
  L.push(`          while (m > q0 && ${sortLess(R, 'x', 'sk0[m - 1]')}) { sk0[m] = sk0[m - 1];${idx ? ' si0[m] = si0[m - 1];' : ''} m--; }`);
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
  L.push(...mergeStep(R, 'int', 'sk', 'p', 'w', 's0', 's0 + seg', [`dk[q] = x;${idx ? ' di[q] = si[p];' : ''}`], '          '));
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
  L.push(`            if (!${sortLess(R, 'bm', 'am')}) i = m + 1; else h = m;`);
  L.push('          }');
  L.push(`          ${W} jb = k - i;`);
  L.push('          for (int e = 0; e < cn; e++) {');
  L.push('            bool takeA = i < nA;');
  L.push(`            if (takeA && jb < nB) { const ${K} ai = gs[lo + i], bj = gs[lo + nA + jb]; takeA = !${sortLess(R, 'bj', 'ai')}; }`);
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
