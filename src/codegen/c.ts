/**
 * The C renderer: kernel IR → C99 for the CPU backend, a dialect of the C-family walker
 * (c-walker.ts): C fills the walker's hooks (args as `a[k]`, buffers cast from `bufs`,
 * C_OPS from op-expressions.ts, `MA_FMA`) and adds its kernel shells — chunked nested
 * loops with hoisting and gate segments, blocked vectorizable reductions, scans, sorts,
 * matmuls, scatter (scan, sort and matmul in c-scan.ts, c-sort.ts, c-matmul.ts; the
 * walker instance and reductions in c-dialect.ts; the prelude in c-prelude.ts).
 */
import { C_COMPUTE_TYPE, C_STORAGE_TYPE } from './ctypes.js';
import type { IndexExpr, KernelIR, ReduceStmt, Stmt } from './ir.js';
import { C, isFastTrig, renderStmt, v } from './c-dialect.js';
import { renderCMatmulKernel } from './c-matmul.js';
import { renderCScanKernel } from './c-scan.js';
import { renderCSortKernel } from './c-sort.js';

/**
 * A reduction whose reduced axis is strided while the output's innermost dim is
 * contiguous (a column sum) is better run with the loops swapped: stream rows, keep a
 * block of output accumulators. Returns that reduce, or null when the plain order is best.
 */
function columnReduce(ir: KernelIR, level: ReadonlyMap<number, string>, inner: number): ReduceStmt | null {
  const elemReduces = ir.stmts.filter((s): s is ReduceStmt => s.k === 'reduce' && level.get(s.id) === 'elem');
  if (elemReduces.length !== 1) return null;
  const s = elemReduces[0];
  if (s.op === 'argmax' || s.op === 'argmin' || s.loops.length === 0) return null;
  if (externalDeps(s).some((d) => level.get(d) === 'elem')) return null;
  if (s.body.some((b) => b.k === 'reduce')) return null;
  const lastLoop = s.loops[s.loops.length - 1].loop;
  const loads = s.body.filter((b) => b.k === 'load');
  const unitOnInner = loads.some((b) => b.k === 'load' && b.index.terms.some((t) => 'dim' in t.v && t.v.dim === inner && t.coef === 'unit'));
  const unitOnLoop = loads.some((b) => b.k === 'load' && b.index.terms.some((t) => 'loop' in t.v && t.v.loop === lastLoop && t.coef === 'unit'));
  return unitOnInner && !unitOnLoop ? s : null;
}

/** SSA values a reduce's body reads from outside it. */
function externalDeps(s: ReduceStmt): number[] {
  const defined = new Set<number>();
  const used: number[] = [];
  const visit = (st: Stmt): void => {
    if ('id' in st) defined.add(st.id);
    const srcs =
      st.k === 'alu' || st.k === 'where' ? st.srcs : st.k === 'cast' || st.k === 'gidx' ? [st.src] : st.k === 'load' && st.gate !== null ? [st.gate] : [];
    used.push(...srcs);
    if (st.k === 'reduce') for (const b of st.body) visit(b);
  };
  for (const b of s.body) visit(b);
  // The folded value itself may come from outside (a reduction of a broadcast value).
  used.push(s.value);
  return used.filter((x) => !defined.has(x));
}

/** True if an index expression has a term on the innermost loop dim. */
function hasInnerTerm(ix: IndexExpr, inner: number): boolean {
  return ix.terms.some((t) => 'dim' in t.v && t.v.dim === inner);
}

/** The index without its innermost-dim term, and that term's coefficient. */
function splitInner(ix: IndexExpr, inner: number, dimVar: (d: number) => string): { rest: string; coef: string } {
  const innerTerm = ix.terms.find((t) => 'dim' in t.v && t.v.dim === inner);
  const rest = C.index({ base: ix.base, terms: ix.terms.filter((t) => t !== innerTerm) }, dimVar);
  const coef = !innerTerm || innerTerm.coef === 'unit' ? '1' : `a[${innerTerm.coef}]`;
  return { rest, coef };
}

/**
 * Renders one elementwise kernel as a C function named `name`.
 *
 * The chunk [start, end) of flat output indices is walked as nested loops: the
 * innermost dim is a plain counted loop (vectorizable), statements that don't depend
 * on it are hoisted out of it, and the outer dims advance with a carry.
 *
 * Gates that vary along the innermost dim (concatenation along it) would make that
 * loop branchy. Instead each row is cut into segments over which every gate is
 * constant; gates are evaluated once per segment, and a gated load that is off in a
 * segment reads a block of zeros instead, so the loop body stays branch-free.
 */
export function renderCKernel(ir: KernelIR, name: string): string {
  if (ir.kind === 'matmul') return renderCMatmulKernel(ir, name);
  if (ir.kind === 'scan') return renderCScanKernel(ir, name);
  if (ir.kind === 'sort') return renderCSortKernel(ir, name);
  const r = ir.rank;
  const inner = r - 1;
  const outType = C_STORAGE_TYPE[ir.buffers[0]];
  const dimVar = (d: number): string => (d === inner ? 'j' : `i${d}`);
  const segDimVar = (d: number): string => (d === inner ? 'jb' : `i${d}`);
  const byId = new Map<number, Stmt>();
  for (const s of ir.stmts) if ('id' in s) byId.set(s.id, s);

  // Classify: once per chunk, once per row, once per segment, or per element.
  const level = new Map<number, 'once' | 'row' | 'seg' | 'elem'>();
  const depsOf = (s: Stmt): number[] => {
    switch (s.k) {
      case 'alu':
      case 'where':
        return [...s.srcs];
      case 'cast':
        return [s.src];
      case 'load':
        return s.gate === null ? [] : [s.gate];
      case 'gidx':
        return [s.src];
      case 'reduce':
        return externalDeps(s);
      default:
        return [];
    }
  };
  const rank = { once: 0, row: 1, seg: 2, elem: 3 } as const;
  // Gates affine in the loop dims can be cut into segments; one read through a reshape
  // index (div/mod) is evaluated per element instead.
  const segmentable = (s: Stmt): boolean => s.k === 'gate' && s.clause.index.terms.every((t) => 'dim' in t.v);
  const innerGates = ir.stmts.filter((s, k) => s.k === 'gate' && ir.inner[k] && segmentable(s));
  const segmented = innerGates.length > 0;
  ir.stmts.forEach((s, k) => {
    const deps = depsOf(s).map((d) => level.get(d) as keyof typeof rank);
    const depLevel = deps.reduce<keyof typeof rank>((m, d) => (rank[d] > rank[m] ? d : m), 'once');
    let own: keyof typeof rank;
    if (s.k === 'arg') own = 'once';
    else if (s.k === 'load' || s.k === 'index') own = s.index.terms.length === 0 ? 'once' : hasInnerTerm(s.index, inner) || ir.inner[k] ? 'elem' : 'row';
    else if (s.k === 'gate') own = ir.inner[k] ? (segmented && segmentable(s) ? 'seg' : 'elem') : 'row';
    else if (s.k === 'rvar') own = ir.inner[k] ? 'elem' : 'row';
    else if (s.k === 'reduce') own = ir.inner[k] ? 'elem' : s.usesDims ? 'row' : 'once';
    else own = 'once';
    let lv = rank[own] > rank[depLevel] ? own : depLevel;
    // A load gated per segment but otherwise per element stays per element (redirected below).
    if (s.k === 'load' && lv === 'seg' && hasInnerTerm(s.index, inner)) lv = 'elem';
    if (!segmented && lv === 'seg') lv = 'elem';
    level.set('id' in s ? s.id : -1, lv);
  });

  const colReduce = segmented ? null : columnReduce(ir, level, inner);
  const once: string[] = [];
  const row: string[] = [];
  const seg: string[] = [];
  const body: string[] = [];
  // The same body with fast sin/cos, and the arguments whose range decides if it holds.
  const bodyFast: string[] = [];
  const trigArgs: string[] = [];
  for (const s of ir.stmts) {
    if (s === colReduce) continue; // rendered with its loops swapped, below
    const lv = level.get(s.id) as keyof typeof rank;
    if (lv === 'once') once.push(`  ${renderStmt(s, dimVar)}`);
    else if (lv === 'row') row.push(`    ${renderStmt(s, dimVar)}`);
    else if (lv === 'seg') seg.push(`        ${renderStmt(s, segDimVar)}`);
    else if (
      segmented &&
      s.k === 'load' &&
      s.gate !== null &&
      level.get(s.gate) !== 'elem' &&
      hasInnerTerm(s.index, inner) &&
      !s.index.terms.some((t) => 'rvar' in t.v)
    ) {
      // Branch-free gated load: off-segments read zeros (the block is at most MA_BLOCK long).
      const { rest, coef } = splitInner(s.index, inner, segDimVar);
      const st = C_STORAGE_TYPE[s.dtype];
      const g = v(s.gate);
      seg.push(`        const ${st} *q${s.id} = ${g} ? (const ${st} *)bufs[${s.buf}] : (const ${st} *)ma_zero_block;`);
      seg.push(`        const int64_t k${s.id} = ${g} ? ${coef} : 0;`);
      seg.push(`        const int64_t f${s.id} = ${g} ? ${rest} : (${coef === '1' ? '-jb' : '0'});`);
      const elem = coef === '1' ? `q${s.id}[f${s.id} + j]` : `q${s.id}[f${s.id} + j * k${s.id}]`;
      const conv = s.dtype === 'float16' ? `ma_h2f(${elem})` : s.dtype === 'bfloat16' ? `ma_b2f(${elem})` : elem;
      body.push(`          const ${C_COMPUTE_TYPE[s.dtype]} ${v(s.id)} = ${conv};`);
    } else {
      body.push(`${segmented ? '    ' : ''}      ${renderStmt(s, dimVar)}`);
      bodyFast.push(`      ${renderStmt(s, dimVar, true)}`);
      if (isFastTrig(s)) trigArgs.push(`ma_trig_big(${v(s.srcs[0])})`);
    }
  }

  const lines: string[] = [];
  lines.push(`void ${name}(void *const *bufs, const int64_t *a, int64_t start, int64_t end) {`);
  lines.push(`  ${outType} *restrict out = (${outType} *)bufs[0];`);
  lines.push('  if (start >= end) return;');
  for (let d = 0; d < r; d++) lines.push(`  const int64_t n${d} = a[${2 + d}];`);
  for (let d = 0; d < r; d++) lines.push(`  int64_t i${d};`);
  lines.push('  {');
  lines.push('    int64_t t = start;');
  for (let d = r - 1; d > 0; d--) lines.push(`    i${d} = t % n${d}; t /= n${d};`);
  lines.push('    i0 = t;');
  lines.push('  }');
  lines.push(...once);
  lines.push('  int64_t pos = start;');
  lines.push('  while (pos < end) {');
  lines.push(`    int64_t count = n${inner} - i${inner};`);
  lines.push('    if (count > end - pos) count = end - pos;');
  lines.push(...row);
  lines.push(`    ${outType} *restrict o = out + pos - i${inner};`);
  const res = v(ir.result);
  const outDtype = ir.buffers[0];
  const stored = outDtype === 'float16' ? `ma_f2h(${res})` : outDtype === 'bfloat16' ? `ma_f2b(${res})` : res;
  if (segmented) {
    lines.push(`    for (int64_t jb = i${inner}, je = i${inner} + count; jb < je;) {`);
    lines.push('      int64_t jn = je - jb > MA_BLOCK ? jb + MA_BLOCK : je;');
    lines.push('      {');
    for (const g of innerGates) {
      if (g.k !== 'gate') continue;
      const { rest, coef } = splitInner(g.clause.index, inner, segDimVar);
      lines.push(`        const int64_t d${g.id} = ma_gate_next(${rest} + jb * ${coef}, ${coef}, a[${g.clause.lo}], a[${g.clause.hi}]);`);
      lines.push(`        if (d${g.id} < jn - jb) jn = jb + d${g.id};`);
    }
    lines.push(...seg);
    lines.push('        for (int64_t j = jb; j < jn; j++) {');
    lines.push(...body);
    lines.push(`          o[j] = ${stored};`);
    lines.push('        }');
    lines.push('      }');
    lines.push('      jb = jn;');
    lines.push('    }');
  } else if (colReduce) {
    const s = colReduce;
    const A = C.accType(s);
    lines.push(`    for (int64_t jb = i${inner}, je = i${inner} + count; jb < je; jb += MA_BLOCK) {`);
    lines.push('      const int64_t jn = je - jb > MA_BLOCK ? jb + MA_BLOCK : je;');
    lines.push(`      ${A} cacc[MA_BLOCK];`);
    lines.push(`      for (int64_t j = jb; j < jn; j++) cacc[j - jb] = ${C.reduceInit(s)};`);
    let ind = '      ';
    for (const l of s.loops) {
      lines.push(`${ind}for (int64_t r${l.loop} = 0; r${l.loop} < a[${l.size}]; r${l.loop}++) {`);
      ind += '  ';
    }
    lines.push(`${ind}for (int64_t j = jb; j < jn; j++) {`);
    for (const b of s.body) lines.push(`${ind}  ${renderStmt(b, dimVar).split('\n').join(`\n${ind}  `)}`);
    lines.push(`${ind}  cacc[j - jb] = ${C.reduceCombine(s, 'cacc[j - jb]', v(s.value))};`);
    lines.push(`${ind}}`);
    for (let k = s.loops.length - 1; k >= 0; k--) {
      ind = ind.slice(2);
      lines.push(`${ind}}`);
    }
    lines.push('      for (int64_t j = jb; j < jn; j++) {');
    lines.push(`        const ${C_COMPUTE_TYPE[s.result]} ${v(s.id)} = ${C.reduceFinal(s, 'cacc[j - jb]')};`);
    lines.push(...body);
    lines.push(`        o[j] = ${stored};`);
    lines.push('      }');
    lines.push('    }');
  } else if (trigArgs.length > 0) {
    // Speculate: fast sin/cos for the row; if any argument was out of their range (or
    // NaN/Inf), redo the row with the accurate full-range functions.
    lines.push('    int32_t big = 0; // int32 like the floats: one vector width for the loop');
    lines.push(`    for (int64_t j = i${inner}; j < i${inner} + count; j++) {`);
    lines.push(...bodyFast);
    lines.push(`      big |= ${trigArgs.join(' | ')};`);
    lines.push(`      o[j] = ${stored};`);
    lines.push('    }');
    lines.push('    if (big) {');
    lines.push(`      for (int64_t j = i${inner}; j < i${inner} + count; j++) {`);
    lines.push(...body.map((l) => `  ${l}`));
    lines.push(`        o[j] = ${stored};`);
    lines.push('      }');
    lines.push('    }');
  } else {
    lines.push(`    for (int64_t j = i${inner}; j < i${inner} + count; j++) {`);
    lines.push(...body);
    lines.push(`      o[j] = ${stored};`);
    lines.push('    }');
  }
  lines.push('    pos += count;');
  if (r > 1) {
    lines.push(`    i${inner} = 0;`);
    for (let d = inner - 1; d >= 0; d--) {
      lines.push(`    if (++i${d} < n${d}) continue;`);
      if (d > 0) lines.push(`    i${d} = 0;`);
    }
  }
  lines.push('  }');
  if (ir.scatter) lines.push(...scatterUpdates(ir));
  lines.push('}');
  return lines.join('\n');
}

/** A scatter kernel's second phase (its single chunk starts at 0): the updates, in order. */
function scatterUpdates(ir: KernelIR): string[] {
  const sc = ir.scatter as NonNullable<KernelIR['scatter']>;
  const d = ir.buffers[0];
  const ST = C_STORAGE_TYPE[d];
  const CT = C_COMPUTE_TYPE[d];
  const load = (x: string) => (d === 'float16' ? `ma_h2f(${x})` : d === 'bfloat16' ? `ma_b2f(${x})` : x);
  const store = (x: string) => (d === 'float16' ? `ma_f2h(${x})` : d === 'bfloat16' ? `ma_f2b(${x})` : x);
  const combined = sc.op === 'set' ? 'u' : C.roundTo(d, C.opExpr(sc.op, d, ['t', 'u']));
  return [
    '  if (start == 0) {',
    `    const int64_t *restrict at = (const int64_t *)bufs[${sc.positions}];`,
    `    const ${ST} *restrict up = (const ${ST} *)bufs[${sc.updates}];`,
    `    for (int64_t k = 0; k < a[${sc.count}]; k++) {`,
    // A position outside [0, N) is an update the index mode drops (the op layer marks it -1).
    '      const int64_t p = at[k];',
    '      if (p < 0 || p >= a[0]) continue;',
    `      const ${CT} u = ${load('up[k]')};`,
    `      const ${CT} t = ${load('out[p]')};`,
    '      (void)t;',
    `      out[p] = ${store(combined)};`,
    '    }',
    '  }',
  ];
}
