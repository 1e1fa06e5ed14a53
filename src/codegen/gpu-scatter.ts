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
 * On one block (Metal always: see msl.ts) the counter is not touched.
 */
export function renderScatter(R: GpuRenderer, name: string): string {
  const ir = R.ir;
  const D = R.D;
  const W = D.int64;
  const sc = ir.scatter as NonNullable<KernelIR['scatter']>;
  const r = ir.rank;
  const d = ir.buffers[0];
  const CT = R.ct(d);
  const ST = R.st(d);
  const dimVar = (k: number): string => (k === r - 1 ? 'j' : `i${k}`);
  const combined = (t: string, u: string): string => (sc.op === 'set' ? u : R.roundTo(d, R.opExpr(sc.op, d, [t, u])));
  const at = `b${sc.positions}`;
  const up = (k: string): string => R.fromStorage(d, `b${sc.updates}[${k}]`);
  const cur = (p: string): string => R.fromStorage(d, D.readCoherent(ST, 'b0', p));
  const L: string[] = [...R.head(name, BLOCK_THREADS)];
  L.push(`  ${D.shared('uint8_t', 'shflag', BLOCK_THREADS)}`);
  L.push(`  ${D.shared('int', 'shlast', 1)}`);
  L.push(`  const ${W} N = ${R.arg(0)};`);
  L.push(...R.dimsDecl(r, '  '));
  L.push(`  const ${W} count = ${R.arg(sc.count)};`);
  L.push(`  const unsigned tid = ${D.threadX}, nthr = ${D.blockDimX};`);
  L.push(`  for (${W} e = (${W})${D.blockX} * nthr + tid; e < N; e += (${W})${D.gridDimX} * nthr) {`);
  L.push(...R.decode('e', r, dimVar, '    '));
  for (const s of ir.stmts) L.push(`    ${R.stmt(s, dimVar, 'serial').split('\n').join('\n    ')}`);
  L.push(`    b0[e] = ${R.toStorage(d, `v${ir.result}`)};`);
  L.push('  }');
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
  L.push('  uint8_t down = 0;');
  L.push(`  for (${W} k = tid + 1; k < count; k += nthr) down |= (uint8_t)(${at}[k - 1] > ${at}[k]);`);
  L.push('  shflag[tid] = down;');
  L.push(`  ${D.barrier}`);
  L.push('  uint8_t unordered = 0;');
  L.push('  for (unsigned q = 0; q < nthr; q++) unordered |= shflag[q];');
  L.push('  if (!unordered) {');
  L.push(`    for (${W} k = tid; k < count; k += nthr) {`);
  L.push(`      const ${W} p = ${at}[k];`);
  L.push(`      if ((k > 0 && ${at}[k - 1] == p) || p < 0 || p >= N) continue; // not the head of its run`);
  L.push(`      ${CT} t = ${cur('p')};`);
  L.push(`      for (${W} k2 = k; k2 < count && ${at}[k2] == p; k2++) t = ${combined('t', up('k2'))};`);
  L.push(`      b0[p] = ${R.toStorage(d, 't')};`);
  L.push('    }');
  L.push('  } else if (tid == 0) {');
  L.push(`    for (${W} k = 0; k < count; k++) {`);
  L.push(`      const ${W} p = ${at}[k];`);
  L.push('      if (p < 0 || p >= N) continue;');
  L.push(`      b0[p] = ${R.toStorage(d, combined(cur('p'), up('k')))};`);
  L.push('    }');
  L.push('  }');
  L.push('}');
  return L.join('\n');
}
