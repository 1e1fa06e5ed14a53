/**
 * The `scatter` GPU kernel family: every block computes a share of the base; the last
 * block to finish applies the updates in index order.
 */
import type { KernelIR } from './ir.js';
import { BLOCK_THREADS, type GpuRenderer } from './gpu-walker.js';

/** Base elements each thread of a scatter computes at least... */
export const SCATTER_PER_THREAD = 8;
/** ...over at most this many blocks (a few waves of a large GPU; more would only queue). */
export const SCATTER_MAX_BLOCKS = 4096;

/**
 * A scatter kernel. The base (the kernel's statements: the array under the updates,
 * with its fused producers) is computed at every output element by a grid-stride loop
 * over all blocks; the last block to finish (an atomic counter in the scratch buffer,
 * fenced like a split reduction's, reset after) applies the updates, so they see the
 * whole base. Updates apply in index order, so repeated positions combine exactly as on
 * the CPU (every add in order, the last set wins) and results never depend on timing:
 * when the positions never decrease (an `at()` of slices with positive steps), each
 * run of equal positions is one thread's, folded in order, runs in parallel; otherwise
 * one thread applies them all. Positions come from the op layer (an iota through the
 * index); one outside [0, N) is an update the index mode drops (marked -1), skipped.
 * On one block the counter is not touched. A dialect with ordered passes (Metal) runs
 * it as two dispatches instead: {@link renderScatterPasses}.
 */
export function renderScatter(R: GpuRenderer, name: string): string {
  if (R.D.orderedPasses) return renderScatterPasses(R, name);
  const D = R.D;
  const W = D.int64;
  const L: string[] = [...R.head(name, BLOCK_THREADS)];
  L.push(`  ${D.shared('uint8_t', 'shflag', BLOCK_THREADS)}`);
  L.push(`  ${D.shared('int', 'shlast', 1)}`);
  L.push(...scatterPrologue(R));
  L.push(...scatterBase(R));
  L.push(`  if (${D.gridDimX} > 1) {`);
  // Release this block's base, count it in; only the last block goes on (acquiring all).
  L.push(`    ${D.fence}`);
  L.push(`    ${D.barrierAll}`);
  L.push(`    if (tid == 0) shlast[0] = ${D.atomicIncrement(`(${D.ptr('uint32_t')})scratch`)} == ${D.gridDimX} - 1;`);
  L.push(`    ${D.barrierAll}`);
  L.push('    if (!shlast[0]) return;');
  L.push(`    ${D.fence}`);
  L.push(`    if (tid == 0) *(${D.ptr('uint32_t')})scratch = 0; // ready for the next launch`);
  L.push('  }');
  L.push(`  ${D.barrierAll}`);
  // Do the positions never decrease? Each thread checks its pairs; all read every flag.
  const at = `b${(R.ir.scatter as NonNullable<KernelIR['scatter']>).positions}`;
  L.push('  uint8_t down = 0;');
  L.push(`  for (${W} k = tid + 1; k < count; k += nthr) down |= (uint8_t)(${at}[k - 1] > ${at}[k]);`);
  L.push('  shflag[tid] = down;');
  L.push(`  ${D.barrier}`);
  L.push('  uint8_t unordered = 0;');
  L.push('  for (unsigned q = 0; q < nthr; q++) unordered |= shflag[q];');
  L.push(...scatterUpdates(R));
  L.push('}');
  return L.join('\n');
}

/**
 * A scatter in two ordered passes (GpuDialect.orderedPasses; Metal, which has no
 * device-scope fence to hand the base from many threadgroups to the last one). Pass 0:
 * every threadgroup computes its share of the base (grid-stride, as above) and checks
 * its share of the position pairs, counting a decrease into the scratch's first word
 * (an atomic add: any order gives the same zero or nonzero). Pass 1: the dispatch
 * boundary has made the whole base and the count visible; threadgroup 0 reads the count,
 * zeroes the word for the next launch, and applies the updates in index order as above.
 */
export function renderScatterPasses(R: GpuRenderer, name: string): string {
  const D = R.D;
  const W = D.int64;
  const at = `b${(R.ir.scatter as NonNullable<KernelIR['scatter']>).positions}`;
  const L: string[] = [...R.head(name, BLOCK_THREADS, 1)];
  L.push(...scatterPrologue(R));
  L.push(`  if (${R.passIndex()} == 0) {`);
  L.push(...scatterBase(R).map((x) => `  ${x}`));
  L.push('    uint8_t down = 0;');
  L.push(`    for (${W} k = (${W})${D.blockX} * nthr + tid + 1; k < count; k += (${W})${D.gridDimX} * nthr) down |= (uint8_t)(${at}[k - 1] > ${at}[k]);`);
  L.push(`    if (down) ${D.atomicIncrement(`(${D.ptr('uint32_t')})scratch`)};`);
  L.push('    return;');
  L.push('  }');
  L.push(`  if (${D.blockX} != 0) return;`);
  L.push(`  const bool unordered = ${D.readCoherent('uint32_t', 'scratch', '0')} != 0;`);
  // Every thread has read the count before it is cleared for the next launch.
  L.push(`  ${D.barrierAll}`);
  L.push(`  if (tid == 0) *(${D.ptr('uint32_t')})scratch = 0;`);
  L.push(...scatterUpdates(R));
  L.push('}');
  return L.join('\n');
}

/** The sizes every scatter kernel reads: N, the dims, the update count, the thread ids. */
function scatterPrologue(R: GpuRenderer): string[] {
  const D = R.D;
  const W = D.int64;
  const sc = R.ir.scatter as NonNullable<KernelIR['scatter']>;
  return [
    `  const ${W} N = ${R.arg(0)};`,
    ...R.dimsDecl(R.ir.rank, '  '),
    `  const ${W} count = ${R.arg(sc.count)};`,
    `  const unsigned tid = ${D.threadX}, nthr = ${D.blockDimX};`,
  ];
}

/** The base at every output element, a grid-stride loop over all blocks. */
function scatterBase(R: GpuRenderer): string[] {
  const ir = R.ir;
  const D = R.D;
  const W = D.int64;
  const r = ir.rank;
  const dimVar = (k: number): string => (k === r - 1 ? 'j' : `i${k}`);
  const L: string[] = [];
  L.push(`  for (${W} e = (${W})${D.blockX} * nthr + tid; e < N; e += (${W})${D.gridDimX} * nthr) {`);
  L.push(...R.decode('e', r, dimVar, '    '));
  for (const s of ir.stmts) L.push(`    ${R.stmt(s, dimVar, 'serial').split('\n').join('\n    ')}`);
  L.push(`    b0[e] = ${R.toStorage(ir.buffers[0], `v${ir.result}`)};`);
  L.push('  }');
  return L;
}

/**
 * The updates in index order, given `unordered` (some position decreases): one thread
 * per run of equal positions, or thread 0 for all.
 */
function scatterUpdates(R: GpuRenderer): string[] {
  const D = R.D;
  const W = D.int64;
  const sc = R.ir.scatter as NonNullable<KernelIR['scatter']>;
  const d = R.ir.buffers[0];
  const CT = R.ct(d);
  const ST = R.st(d);
  const combined = (t: string, u: string): string => (sc.op === 'set' ? u : R.roundTo(d, R.opExpr(sc.op, d, [t, u])));
  const at = `b${sc.positions}`;
  const up = (k: string): string => R.fromStorage(d, `b${sc.updates}[${k}]`);
  const cur = (p: string): string => R.fromStorage(d, D.readCoherent(ST, 'b0', p));
  return [
    '  if (!unordered) {',
    `    for (${W} k = tid; k < count; k += nthr) {`,
    `      const ${W} p = ${at}[k];`,
    `      if ((k > 0 && ${at}[k - 1] == p) || p < 0 || p >= N) continue; // not the head of its run`,
    `      ${CT} t = ${cur('p')};`,
    `      for (${W} k2 = k; k2 < count && ${at}[k2] == p; k2++) t = ${combined('t', up('k2'))};`,
    `      b0[p] = ${R.toStorage(d, 't')};`,
    '    }',
    '  } else if (tid == 0) {',
    `    for (${W} k = 0; k < count; k++) {`,
    `      const ${W} p = ${at}[k];`,
    '      if (p < 0 || p >= N) continue;',
    `      b0[p] = ${R.toStorage(d, combined(cur('p'), up('k')))};`,
    '    }',
    '  }',
  ];
}
