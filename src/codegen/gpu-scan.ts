/** The `scan` GPU kernel family: one thread per line along the last dim. */
import type { KernelIR, ReduceStmt } from './ir.js';
import { FLAT_THREADS, type GpuRenderer } from './gpu-walker.js';

/** A scan kernel: each thread folds whole lines in order, writing every prefix. */
export function renderScan(R: GpuRenderer, name: string): string {
  const ir = R.ir;
  const D = R.D;
  const W = D.int64;
  const spec = ir.scan as NonNullable<KernelIR['scan']>;
  const r = ir.rank;
  const outD = ir.buffers[0];
  const fold: ReduceStmt = { k: 'reduce', id: -1, op: spec.op, dtype: outD, result: outD, loops: [], body: [], value: ir.result, usesDims: true };
  const dimVar = (d: number): string => (d === r - 1 ? 'j' : `i${d}`);
  const fin = R.toStorage(outD, R.reduceFinal(fold, 'acc'));
  const L: string[] = [...R.head(name, FLAT_THREADS)];
  L.push(`  const ${W} lines = ${R.arg(0)};`);
  L.push(...R.dimsDecl(r, '  '));
  L.push(`  for (${W} line = (${W})${D.blockX} * ${D.blockDimX} + ${D.threadX}; line < lines; line += (${W})${D.gridDimX} * ${D.blockDimX}) {`);
  if (r > 1) L.push(...R.decode('line', r, dimVar, '    ', r - 2));
  L.push(`    ${R.accType(fold)} acc = ${R.reduceInit(fold)};`);
  L.push(`    for (${W} j = 0; j < n${r - 1}; j++) {`);
  for (const s of ir.stmts) L.push(`      ${R.stmt(s, dimVar, 'serial').split('\n').join('\n      ')}`);
  const combine = `      acc = ${R.reduceCombine(fold, 'acc', `v${ir.result}`)};`;
  const store = `      b0[line * n${r - 1} + j] = ${fin};`;
  L.push(...(spec.inclusive ? [combine, store] : [store, combine]));
  L.push('    }');
  L.push('  }');
  L.push('}');
  return L.join('\n');
}
