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
export const SORT_SCRATCH_BUDGET = 256 * 1024 * 1024;
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
  const region = sortRegionBytes(spec, len);
  const blocks = Math.max(1, Math.min(lines, MAX_BLOCKS, Math.floor(SORT_SCRATCH_BUDGET / region)));
  return { grid: [blocks, 1, 1], block: [BLOCK_THREADS, 1, 1], sharedBytes: 0, scratchBytes: blocks * region };
}

/**
 * The launch of a sort in ordered passes ({@link renderSortPasses}): as sortLaunch for
 * lines of a tile or less; for longer lines, batches of lines sharing `scratchBudget`
 * bytes of scratch (one region each; at least one line per batch), each batch a
 * tile pass and log2(len / tile) merge passes, then one pass that zeroes the scratch:
 * the pass count is grid z (GpuDialect.orderedPasses). The grid has a threadgroup per
 * tile of a batch, or enough for a thread per merge chunk, whichever is more.
 *
 * @example
 * ```ts
 * const launch = sortPassesLaunch(ir, args, 256 * 1024 * 1024); // grid [x, 1, passes]
 * ```
 */
export function sortPassesLaunch(ir: KernelIR, args: readonly number[], scratchBudget: number): GpuLaunch {
  const spec = ir.sort as NonNullable<KernelIR['sort']>;
  const lines = args[0];
  const len = args[2 + ir.rank - 1];
  const tile = sortTile(spec);
  if (lines === 0 || len <= tile) return sortLaunch(ir, args);
  const region = sortRegionBytes(spec, len);
  const B = Math.min(lines, Math.max(1, Math.floor(scratchBudget / region)));
  let merges = 0;
  for (let w = tile; w < len; w *= 2) merges++;
  const passes = Math.ceil(lines / B) * (merges + 1) + 1;
  if (passes > SCRATCH_MAX) throw new Error(`${spec.indices ? 'argsort' : 'sort'}: ${lines} lines of ${len} elements take more passes than a launch can count`);
  const blocks = Math.min(MAX_BLOCKS, Math.max(B * ceilDiv(len, tile), ceilDiv(B * ceilDiv(len, SORT_CHUNK), BLOCK_THREADS)));
  return { grid: [blocks, 1, passes], block: [BLOCK_THREADS, 1, 1], sharedBytes: 0, scratchBytes: B * region };
}

/** Bytes of one long line's scratch region (two key halves, two int32 index halves for argsort), 8-aligned; throws past a launch's scratch. */
function sortRegionBytes(spec: NonNullable<KernelIR['sort']>, len: number): number {
  const region = Math.ceil(((spec.indices ? 8 * len : 0) + 2 * sortKeyBytes(spec) * len) / 8) * 8;
  if (region > SCRATCH_MAX) {
    throw new Error(
      `${spec.indices ? 'argsort' : 'sort'}: a line of ${len} elements needs ${region} bytes of GPU scratch, more than one launch can have (${SCRATCH_MAX})`,
    );
  }
  return region;
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
 * A dialect with ordered passes (Metal) merges long lines over many threadgroups
 * instead: {@link renderSortPasses}.
 */
export function renderSort(R: GpuRenderer, name: string): string {
  if (R.D.orderedPasses) return renderSortPasses(R, name, R.D.orderedPasses.sortScratchBytes);
  const ir = R.ir;
  const D = R.D;
  const W = D.int64;
  const spec = ir.sort as NonNullable<KernelIR['sort']>;
  const K = R.ct(spec.dtype);
  const tile = sortTile(spec);
  const idx = spec.indices;
  const L: string[] = [...R.head(name, BLOCK_THREADS)];
  L.push(...sortPrologue(R));
  L.push(`  ${D.ptr('uint8_t')}mine = scratch + (len > ${tile} ? (${W})${D.blockX} * region : 0);`);
  L.push(...regionPointers(R, '  '));
  L.push(`  for (${W} g = ${D.blockX}; g < groups; g += ${D.gridDimX}) {`);
  L.push(`    const ${W} line0 = g * G, gl = lines - line0 < G ? lines - line0 : G;`);
  L.push(`    const ${W} obase = line0 * len;`);
  L.push(`    for (${W} tb = 0; tb < len; tb += ${tile}) {`);
  L.push(...sortSegment(R, 'either'));
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
  L.push(`        for (${W} c0 = (${W})tid * ${SORT_CHUNK}; c0 < len; c0 += (${W})nthr * ${SORT_CHUNK}) {`);
  L.push(...mergeChunk(R));
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
 * A sort in ordered passes (GpuDialect.orderedPasses; Metal, which has no device-scope
 * fence). Lines of a tile or less are sorted as above, in the launch's one dispatch.
 * Longer lines go in batches of as many lines as share `scratchBudget` bytes of scratch
 * (one region per line, laid out as above); per batch, pass 0 sorts every tile of every
 * line of the batch in threadgroup memory, the tiles spread over all threadgroups, into
 * the first half of its line's region; each following pass is one merge-path pass over
 * every line of the batch (each thread merges SORT_CHUNK outputs of one line after one
 * co-rank search), the halves swapping, the last writing the output. A final pass
 * zeroes the scratch used. Every pass reads only what earlier dispatches wrote, so no
 * threadgroup waits for another. sortPassesLaunch counts the passes alike.
 */
export function renderSortPasses(R: GpuRenderer, name: string, scratchBudget: number): string {
  const ir = R.ir;
  const D = R.D;
  const W = D.int64;
  const spec = ir.sort as NonNullable<KernelIR['sort']>;
  const K = R.ct(spec.dtype);
  const tile = sortTile(spec);
  const idx = spec.indices;
  const L: string[] = [...R.head(name, BLOCK_THREADS, 1)];
  L.push(...sortPrologue(R));
  L.push(`  if (len <= ${tile}) {`);
  L.push(`    for (${W} g = ${D.blockX}; g < groups; g += ${D.gridDimX}) {`);
  L.push(`      const ${W} line0 = g * G, gl = lines - line0 < G ? lines - line0 : G;`);
  L.push(`      const ${W} obase = line0 * len, tb = 0;`);
  L.push(...sortSegment(R, 'output').map((x) => `  ${x}`));
  L.push('    }');
  L.push('    return;');
  L.push('  }');
  // Lines longer than a tile (only these launches take passes): the pass index says which
  // batch of lines and which step: 0 sorts tiles, 1..merges merge runs of tile << (step - 1).
  L.push(`  const ${W} pass = ${R.passIndex()};`);
  L.push(`  const ${W} perBatch = (${W})${scratchBudget} / region > 0 ? (${W})${scratchBudget} / region : 1;`);
  L.push(`  const ${W} B = lines < perBatch ? lines : perBatch;`);
  L.push(`  ${W} merges = 0;`);
  L.push(`  for (${W} w = ${tile}; w < len; w *= 2) merges++;`);
  L.push(`  const ${W} batch = pass / (merges + 1), step = pass % (merges + 1);`);
  L.push('  if (batch * B >= lines) {');
  L.push('    // The last pass: the scratch back to zero for the next launch.');
  L.push(`    for (${W} p = (${W})${D.blockX} * nthr + tid; p < B * region / 8; p += (${W})${D.gridDimX} * nthr) ((${D.ptr('uint64_t')})scratch)[p] = 0;`);
  L.push('    return;');
  L.push('  }');
  L.push(`  const ${W} first = batch * B, batchLines = lines - first < B ? lines - first : B;`);
  L.push('  if (step == 0) {');
  L.push(`    const ${W} tiles = (len + ${tile - 1}) / ${tile};`);
  L.push(`    for (${W} u = ${D.blockX}; u < batchLines * tiles; u += ${D.gridDimX}) {`);
  L.push(`      const ${W} line0 = first + u / tiles, gl = 1, tb = u % tiles * ${tile};`);
  L.push(`      ${D.ptr('uint8_t')}mine = scratch + u / tiles * region;`);
  L.push(...regionPointers(R, '      '));
  L.push(...sortSegment(R, 'scratch').map((x) => `  ${x}`));
  L.push('    }');
  L.push('    return;');
  L.push('  }');
  L.push(`  const ${W} w = (${W})${tile} << (step - 1);`);
  L.push('  const bool last = 2 * w >= len;');
  L.push(`  const ${W} chunks = (len + ${SORT_CHUNK - 1}) / ${SORT_CHUNK};`);
  L.push(`  for (${W} c = (${W})${D.blockX} * nthr + tid; c < batchLines * chunks; c += (${W})${D.gridDimX} * nthr) {`);
  L.push(`    const ${W} c0 = c % chunks * ${SORT_CHUNK}, obase = (first + c / chunks) * len;`);
  L.push(`    ${D.ptr('uint8_t')}mine = scratch + c / chunks * region;`);
  L.push(...regionPointers(R, '    '));
  // Pass 0 wrote the first half; odd steps read it, even steps the second.
  L.push(`    ${D.ptr(K)}gs = step % 2 == 1 ? gk0 : gk0 + len;`);
  L.push(`    ${D.ptr(K)}gd = step % 2 == 1 ? gk0 + len : gk0;`);
  if (idx) {
    L.push(`    ${D.ptr('int32_t')}gsi = step % 2 == 1 ? gi0 : gi0 + len;`);
    L.push(`    ${D.ptr('int32_t')}gdi = step % 2 == 1 ? gi0 + len : gi0;`);
  }
  L.push(...mergeChunk(R).map((x) => x.slice(6)));
  L.push('  }');
  L.push('}');
  return L.join('\n');
}

/** Sort kernels' shared tiles and sizes (lines, dims, len, tid, nthr, G, groups, region). */
function sortPrologue(R: GpuRenderer): string[] {
  const D = R.D;
  const W = D.int64;
  const spec = R.ir.sort as NonNullable<KernelIR['sort']>;
  const r = R.ir.rank;
  const K = R.ct(spec.dtype);
  const tile = sortTile(spec);
  const idx = spec.indices;
  const L: string[] = [];
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
  // A scratch region (used only by lines longer than a tile): two int32 index halves
  // (argsort), then two key halves; 8-byte aligned.
  L.push(`  const ${W} region = (${idx ? '8 * len + ' : ''}${2 * sortKeyBytes(spec)} * len + 7) / 8 * 8;`);
  return L;
}

/** The index and key halves of the scratch region at `mine`. */
function regionPointers(R: GpuRenderer, indent: string): string[] {
  const D = R.D;
  const spec = R.ir.sort as NonNullable<KernelIR['sort']>;
  const K = R.ct(spec.dtype);
  const L: string[] = [];
  if (spec.indices) L.push(`${indent}${D.ptr('int32_t')}gi0 = (${D.ptr('int32_t')})mine;`);
  L.push(`${indent}${D.ptr(K)}gk0 = (${D.ptr(K)})(mine${spec.indices ? ' + 8 * len' : ''});`);
  return L;
}

/**
 * One segment sorted in shared memory (`gl` whole lines from `line0`, or the tile at
 * `tb` of one longer line), then written: to the output at `obase` (whole lines) or to
 * the line's scratch region `gk0`/`gi0` (a tile of a longer line); `either` decides by
 * the line's length, the others are for kernels that know it.
 */
function sortSegment(R: GpuRenderer, to: 'either' | 'output' | 'scratch'): string[] {
  const ir = R.ir;
  const D = R.D;
  const W = D.int64;
  const spec = ir.sort as NonNullable<KernelIR['sort']>;
  const r = ir.rank;
  const K = R.ct(spec.dtype);
  const tile = sortTile(spec);
  const idx = spec.indices;
  const outD = ir.buffers[0];
  const dimVar = (d: number): string => (d === r - 1 ? 'j' : `i${d}`);
  const emit = (k: string, i: string): string => (idx ? `(${R.st(outD)})(${i})` : R.toStorage(outD, k));
  const L: string[] = [];
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
  const toOutput = `b0[obase + p] = ${emit('sk[p]', 'si[p]')};`;
  const toScratch = `gk0[tb + p] = sk[p];${idx ? ' gi0[tb + p] = (int32_t)(tb + si[p]);' : ''}`;
  L.push('      for (int p = tid; p < tn; p += nthr) {');
  if (to === 'either') {
    L.push(`        if (len <= ${tile}) ${toOutput}`);
    L.push(`        else { ${toScratch} }`);
  } else {
    L.push(`        ${to === 'output' ? toOutput : toScratch}`);
  }
  L.push('      }');
  // The next segment reuses the shared buffers (one-launch merges below also read
  // other threads' tiles from the scratch; ordered passes read them in a later dispatch).
  L.push(`      ${to === 'either' ? D.barrierAll : D.barrier}`);
  return L;
}

/**
 * Merge path: the thread's SORT_CHUNK consecutive outputs from `c0` of a pair of runs
 * of `w` >= a tile (so chunks never straddle pairs) of the line at `gs`/`gsi`, written
 * to `gd`/`gdi`, or to the output at `obase` in the `last` pass. One co-rank search
 * finds how many of A's elements precede the chunk: A[m] precedes B[k - 1 - m] unless
 * B's is strictly less (A first on ties: stable). Then a sequential merge: one read per
 * output.
 */
function mergeChunk(R: GpuRenderer): string[] {
  const W = R.D.int64;
  const spec = R.ir.sort as NonNullable<KernelIR['sort']>;
  const K = R.ct(spec.dtype);
  const idx = spec.indices;
  const outD = R.ir.buffers[0];
  const emit = (k: string, i: string): string => (idx ? `(${R.st(outD)})(${i})` : R.toStorage(outD, k));
  return [
    `          const ${W} lo = c0 / (2 * w) * (2 * w), k = c0 - lo;`,
    `          const ${W} nA = len - lo < w ? len - lo : w, nB = len - lo - nA < w ? len - lo - nA : w;`,
    `          const int cn = (int)(nA + nB - k < ${SORT_CHUNK} ? nA + nB - k : ${SORT_CHUNK});`,
    `          ${W} i = k > nB ? k - nB : 0, h = k < nA ? k : nA;`,
    '          while (i < h) {',
    `            const ${W} m = (i + h) >> 1;`,
    `            const ${K} am = gs[lo + m], bm = gs[lo + nA + k - 1 - m];`,
    `            if (!${sortLess(R, 'bm', 'am')}) i = m + 1; else h = m;`,
    '          }',
    `          ${W} jb = k - i;`,
    '          for (int e = 0; e < cn; e++) {',
    '            bool takeA = i < nA;',
    `            if (takeA && jb < nB) { const ${K} ai = gs[lo + i], bj = gs[lo + nA + jb]; takeA = !${sortLess(R, 'bj', 'ai')}; }`,
    `            const ${W} from = takeA ? lo + i++ : lo + nA + jb++, q = c0 + e;`,
    `            const ${K} x = gs[from];`,
    `            if (last) b0[obase + q] = ${emit('x', 'gsi[from]')};`,
    `            else { gd[q] = x;${idx ? ' gdi[q] = gsi[from];' : ''} }`,
    '          }',
  ];
}
