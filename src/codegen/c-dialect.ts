/**
 * C as a dialect of the C-family walker (c-walker.ts): the hooks C fills (args as `a[k]`,
 * buffers cast from `bufs`, C_OPS, `MA_FMA`, `ma_gather_index`, `|` in reduction steps),
 * the walker instance the C kernel shells share, and C's reductions: blocked loops of
 * independent accumulators that GCC vectorizes.
 */
import { DTYPES } from '../core/dtype.js';
import { C_COMPUTE_TYPE, C_STORAGE_TYPE, cClass } from './ctypes.js';
import type { ReduceStmt, Stmt } from './ir.js';
import { C_OPS, fillOpRow } from './op-expressions.js';
import { CFamilyWalker, type CFamilyDialect } from './c-walker.js';

/** How C fills the C-family walker's hooks. */
const C_LANG: CFamilyDialect = {
  name: 'cpu',
  computeType: C_COMPUTE_TYPE,
  wideAcc: 'double',
  int64: 'int64_t',
  or: '|',
  arg: (slot) => `a[${slot}]`,
  argDouble: (slot) => `ma_argd(a, ${slot})`,
  bufferElement: (buf, dtype, index) => `((const ${C_STORAGE_TYPE[dtype]} *)bufs[${buf}])[${index}]`,
  opExpr: (op, dtype, srcs, computeType) => fillOpRow(C_OPS[op], op, dtype, srcs, computeType, 'C'),
  fma: (cls) => (cls === 'f' ? 'MA_FMAF' : 'MA_FMA'),
  gatherIndex: (id, src, size) => `const int64_t v${id} = ma_gather_index((int64_t)v${src}, a[${size}]);`,
};

/** The C walker: reductions run in this thread, as blocked loops (renderReduce). */
class CWalker extends CFamilyWalker {
  reduce(s: ReduceStmt, dimVar: (d: number) => string): string[] {
    return renderReduce(s, dimVar);
  }
}

/** The walker every C kernel shell renders statements with (stateless). */
export const C = new CWalker(C_LANG);

/** The C name of SSA value `id`. */
export const v = (id: number): string => `v${id}`;

/** True for an op that has a fast, range-limited variant run speculatively. */
export function isFastTrig(s: Stmt): s is Extract<Stmt, { k: 'alu' }> {
  return s.k === 'alu' && (s.op === 'sin' || s.op === 'cos') && cClass(s.dtype) === 'f';
}

/** One statement in C; `fastTrig` renders float sin/cos with their fast, range-limited variants (the caller checks the range). */
export function renderStmt(s: Stmt, dimVar: (d: number) => string, fastTrig = false): string {
  if (fastTrig && isFastTrig(s)) {
    return `const ${C_COMPUTE_TYPE[s.result]} ${v(s.id)} = ${C.roundTo(s.result, `ma_${s.op}f_fast(${v(s.srcs[0])})`)};`;
  }
  return C.stmt(s, dimVar);
}

/** Accumulator lanes of a reduction: 16 floats fill a 512-bit vector and match the math clones. */
const LANES = 16;

/**
 * A reduction as nested loops. The innermost loop runs in blocks of LANES independent
 * accumulators (a blocked sum: more accurate than one running sum, and vectorizable
 * without reassociating); argmax/argmin keep one running best and its first index.
 */
function renderReduce(s: ReduceStmt, dimVar: (d: number) => string): string[] {
  const out: string[] = [];
  const body = (indent: string): string[] => s.body.map((b) => indent + renderStmt(b, dimVar).split('\n').join(`\n${indent}`));
  const loops = s.loops;
  const last = loops[loops.length - 1];
  const resultT = C_COMPUTE_TYPE[s.result];
  if (s.op === 'argmax' || s.op === 'argmin') {
    const T = C_COMPUTE_TYPE[s.dtype];
    const better = s.op === 'argmax' ? '>' : '<';
    const isFloatCls = DTYPES[s.dtype].kind === 'float';
    const cond = isFloatCls ? `(ri${s.id} == 0 || (x ${better} best) || (x != x && best == best))` : `(ri${s.id} == 0 || x ${better} best)`;
    out.push(`${resultT} ${v(s.id)};`);
    out.push('{');
    out.push(`  ${T} best = 0; int64_t bi = 0, ri${s.id} = 0;`);
    let ind = '  ';
    for (const l of loops) {
      out.push(`${ind}for (int64_t r${l.loop} = 0; r${l.loop} < a[${l.size}]; r${l.loop}++) {`);
      ind += '  ';
    }
    out.push(...body(ind));
    out.push(`${ind}const ${T} x = ${v(s.value)};`);
    out.push(`${ind}if ${cond} { best = x; bi = ri${s.id}; }`);
    out.push(`${ind}ri${s.id}++;`);
    for (let k = loops.length - 1; k >= 0; k--) {
      ind = ind.slice(2);
      out.push(`${ind}}`);
    }
    out.push(`  ${v(s.id)} = (${resultT})bi;`);
    out.push('}');
    return out;
  }
  const A = C.accType(s);
  const init = C.reduceInit(s);
  out.push(`${resultT} ${v(s.id)};`);
  out.push('{');
  out.push(`  ${A} acc[${LANES}] = {${new Array(LANES).fill(init).join(', ')}};`);
  let ind = '  ';
  for (const l of loops.slice(0, -1)) {
    out.push(`${ind}for (int64_t r${l.loop} = 0; r${l.loop} < a[${l.size}]; r${l.loop}++) {`);
    ind += '  ';
  }
  const n = `a[${last.size}]`;
  out.push(`${ind}int64_t rb = 0;`);
  out.push(`${ind}for (; rb + ${LANES} <= ${n}; rb += ${LANES}) {`);
  // Not unrolled: GCC's loop vectorizer can call the math SIMD clones, its straight-line
  // vectorizer (which would take the unrolled block) cannot.
  out.push(`${ind}  _Pragma("GCC unroll 1") for (int l = 0; l < ${LANES}; l++) {`);
  out.push(`${ind}    const int64_t r${last.loop} = rb + l;`);
  out.push(...body(`${ind}    `));
  out.push(`${ind}    acc[l] = ${C.reduceCombine(s, 'acc[l]', v(s.value))};`);
  out.push(`${ind}  }`);
  out.push(`${ind}}`);
  out.push(`${ind}for (; rb < ${n}; rb++) {`);
  out.push(`${ind}  const int64_t r${last.loop} = rb;`);
  out.push(...body(`${ind}  `));
  out.push(`${ind}  acc[0] = ${C.reduceCombine(s, 'acc[0]', v(s.value))};`);
  out.push(`${ind}}`);
  for (let k = loops.length - 2; k >= 0; k--) {
    ind = ind.slice(2);
    out.push(`${ind}}`);
  }
  // Pairwise fold of the lanes.
  for (let width = LANES / 2; width >= 1; width /= 2) {
    for (let l = 0; l < width; l++) out.push(`  acc[${l}] = ${C.reduceCombine(s, `acc[${l}]`, `acc[${l + width}]`)};`);
  }
  out.push(`  ${v(s.id)} = ${C.reduceFinal(s, 'acc[0]')};`);
  out.push('}');
  return out;
}
