/**
 * The `rows` and `element` GPU kernel families: one block per row of the output
 * (reductions constant along the row computed once by the block), or one block per
 * output element (its reductions computed by the block, split over several blocks per
 * output when there are few outputs). See gpu.ts for the strategies.
 */
import type { KernelIR, ReduceStmt } from './ir.js';
import { BLOCK_THREADS, type GpuRenderer } from './gpu-walker.js';

/**
 * Whether a reduce reads its reduced axis with unit stride (so a block can sweep it
 * coalesced); a reduce that walks the output's inner dim contiguously instead (a column
 * sum) is better done one thread per output.
 */
export function contiguousReduce(s: ReduceStmt, inner: number): boolean {
  if (s.loops.length === 0) return false;
  const last = s.loops[s.loops.length - 1].loop;
  const loads = s.body.filter((b) => b.k === 'load');
  const unitLoop = loads.some((b) => b.k === 'load' && b.index.terms.some((t) => 'loop' in t.v && t.v.loop === last && t.coef === 'unit'));
  const unitInner = loads.some((b) => b.k === 'load' && b.index.terms.some((t) => 'dim' in t.v && t.v.dim === inner && t.coef === 'unit'));
  return unitLoop || !unitInner;
}

/** An `element` kernel whose one top-level reduction may be split over blocks (not argmax/argmin). */
export function splittable(ir: KernelIR): boolean {
  const reduces = ir.stmts.filter((s): s is ReduceStmt => s.k === 'reduce');
  return reduces.length === 1 && reduces[0].op !== 'argmax' && reduces[0].op !== 'argmin';
}

/**
 * Threads per block of a block-per-row kernel (which reads blockDim): about 8 elements
 * per thread, from 64 to BLOCK_THREADS. Short rows then pay less for the block-wide
 * reductions and more rows are resident at once: layer norm of 8192×1024 went from 1187
 * to about 1340 GB/s on the H100 (4 or 16 per thread measured lower, and 4096-wide
 * softmax rows are slower with fewer than 256 threads or with 512 or 1024).
 */
export function rowThreads(len: number): number {
  return Math.min(BLOCK_THREADS, Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, len / 8)))));
}

/** One block per row (`rows`) or per output element (`element`). */
export function renderBlocks(R: GpuRenderer, name: string, perElement: boolean): string {
  const ir = R.ir;
  const D = R.D;
  const W = D.int64;
  const r = ir.rank;
  const inner = r - 1;
  const outD = ir.buffers[0];
  const res = `v${ir.result}`;
  const dimVar = (d: number): string => (d === inner ? 'j' : `i${d}`);
  const L: string[] = [...R.head(name, BLOCK_THREADS)];
  const uniform = (k: number): boolean => perElement || !ir.inner[k];
  const split = perElement && splittable(ir);
  // The last-block flag of a one-pass split; a two-pass split needs none.
  const lastBlockFlag = split && !D.splitTwoPass;
  for (const [k, s] of ir.stmts.entries()) if (s.k === 'reduce' && uniform(k)) L.push(...R.sharedFor(s, lastBlockFlag).map((x) => `  ${x}`));
  // A two-pass fold dispatch has two blocks along z; the second has nothing to do.
  if (split && D.splitTwoPass) L.push(`  if (${D.blockZ} != 0) return;`);
  L.push(`  const ${W} N = ${R.arg(0)};`);
  L.push(...R.dimsDecl(r, '  '));
  const units = perElement ? 'N' : `(n${inner} > 0 ? N / n${inner} : 0)`;
  L.push(`  const ${W} units = ${units};`);
  L.push(`  for (${W} u = ${D.blockX}; u < units; u += ${D.gridDimX}) {`);
  if (perElement) L.push(...R.decode('u', r, dimVar, '    '));
  else if (r > 1) L.push(...R.decode('u', r, dimVar, '    ', r - 2));
  ir.stmts.forEach((s, k) => {
    if (!uniform(k)) return;
    const text = s.k === 'reduce' && split ? R.blockReduce(s, dimVar, true).join('\n') : R.stmt(s, dimVar, 'block');
    L.push(`    ${text.split('\n').join('\n    ')}`);
  });
  if (perElement) {
    L.push(`    if (${D.threadX} == 0) b0[u] = ${R.toStorage(outD, res)};`);
  } else {
    L.push(`    ${D.unrollBy(4)} for (${W} j = ${D.threadX}; j < n${inner}; j += ${D.blockDimX}) {`);
    ir.stmts.forEach((s, k) => {
      if (!uniform(k)) L.push(`      ${R.stmt(s, dimVar, 'serial').split('\n').join('\n      ')}`);
    });
    L.push(`      b0[u * n${inner} + j] = ${R.toStorage(outD, res)};`);
    L.push('    }');
  }
  L.push('  }');
  L.push('}');
  return L.join('\n');
}
