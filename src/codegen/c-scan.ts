/** The C scan kernel: one line along the last dim per work item, folded in order. */
import { C_STORAGE_TYPE } from './ctypes.js';
import type { KernelIR, ReduceStmt } from './ir.js';
import { C, renderStmt, v } from './c-dialect.js';

/**
 * A scan kernel: each work item is one line along the last dim, folded in order with
 * the reductions' accumulators (double for float sums and products).
 */
export function renderCScanKernel(ir: KernelIR, name: string): string {
  const spec = ir.scan as NonNullable<KernelIR['scan']>;
  const r = ir.rank;
  const outDtype = ir.buffers[0];
  const outType = C_STORAGE_TYPE[outDtype];
  // The fold's helpers are shared with reductions; they read only op and dtypes.
  const fold: ReduceStmt = { k: 'reduce', id: -1, op: spec.op, dtype: outDtype, result: outDtype, loops: [], body: [], value: ir.result, usesDims: true };
  const dimVar = (d: number): string => (d === r - 1 ? 'j' : `i${d}`);
  const fin = C.reduceFinal(fold, 'acc');
  const store = outDtype === 'float16' ? `ma_f2h(${fin})` : outDtype === 'bfloat16' ? `ma_f2b(${fin})` : fin;
  const L: string[] = [];
  L.push(`void ${name}(void *const *bufs, const int64_t *a, int64_t start, int64_t end) {`);
  L.push(`  ${outType} *restrict out = (${outType} *)bufs[0];`);
  for (let d = 0; d < r; d++) L.push(`  const int64_t n${d} = a[${2 + d}];`);
  L.push(`  for (int64_t line = start; line < end; line++) {`);
  L.push('    int64_t t = line;');
  for (let d = r - 2; d >= 0; d--) L.push(`    const int64_t i${d} = t % n${d}; t /= n${d};`);
  L.push(`    ${C.accType(fold)} acc = ${C.reduceInit(fold)};`);
  L.push(`    for (int64_t j = 0; j < n${r - 1}; j++) {`);
  for (const s of ir.stmts) L.push(`      ${renderStmt(s, dimVar).split('\n').join('\n      ')}`);
  if (spec.inclusive) {
    L.push(`      acc = ${C.reduceCombine(fold, 'acc', v(ir.result))};`);
    L.push(`      out[line * n${r - 1} + j] = ${store};`);
  } else {
    L.push(`      out[line * n${r - 1} + j] = ${store};`);
    L.push(`      acc = ${C.reduceCombine(fold, 'acc', v(ir.result))};`);
  }
  L.push('    }');
  L.push('  }');
  L.push('}');
  return L.join('\n');
}
