/**
 * The C renderer: kernel IR → C99 for the CPU backend.
 *
 * Op expressions are a table keyed by op and dtype class; `$0`, `$1` are operands
 * (always plain SSA names), `T` the compute type, `W` the unsigned type wide enough
 * to do integer arithmetic without C's undefined signed overflow.
 */
import { DTYPES, type DType } from '../core/dtype.js';
import { C_MATH_PRELUDE, f64ActivationHelpers } from './c-math.js';
import { C_COMPUTE_TYPE, C_STORAGE_TYPE, cClass, reduceIdentity, reduceStep, wrapType } from './ctypes.js';
import type { GateClause, IndexExpr, KernelIR, ReduceStmt, Stmt } from './ir.js';
import { C_OPS, fillOpRow } from './op-expressions.js';

/** Dtype classes the expression table distinguishes. */

const COMPUTE_TYPE = C_COMPUTE_TYPE;

const STORAGE_TYPE = C_STORAGE_TYPE;

function opExpr(op: string, dtype: DType, srcs: readonly string[]): string {
  return fillOpRow(C_OPS[op], op, dtype, srcs, COMPUTE_TYPE[dtype], 'C');
}

/** Rounds a float32 compute value to the storage precision of a half dtype. */
function roundTo(dtype: DType, expr: string): string {
  if (dtype === 'float16') return `ma_rh(${expr})`;
  if (dtype === 'bfloat16') return `ma_rb(${expr})`;
  return expr;
}

function castExpr(from: DType, to: DType, x: string): string {
  const fc = cClass(from);
  const tc = cClass(to);
  if (tc === 'b') return `(uint8_t)(${x} != 0)`;
  if (tc === 'i' || tc === 'u') {
    if (fc === 'f' || fc === 'd') return `ma_f2i_${to}((double)${x})`;
    return `(${COMPUTE_TYPE[to]})${x}`;
  }
  // to a float
  if (to === 'float16' || to === 'bfloat16') {
    const fn = to === 'float16' ? 'ma_rh' : 'ma_rb';
    if (fc === 'f') return `${fn}(${x})`;
    return `${fn}_d((double)${x})`;
  }
  return `(${COMPUTE_TYPE[to]})${x}`;
}

const v = (id: number): string => `v${id}`;

function renderIndex(ix: IndexExpr, dimVar: (d: number) => string): string {
  const parts: string[] = [];
  if (ix.base >= 0) parts.push(`a[${ix.base}]`);
  for (const t of ix.terms) {
    const name = 'dim' in t.v ? dimVar(t.v.dim) : 'rvar' in t.v ? v(t.v.rvar) : `r${t.v.loop}`;
    parts.push(t.coef === 'unit' ? name : `${name} * a[${t.coef}]`);
  }
  return parts.length ? parts.join(' + ') : '0';
}

function renderClause(c: GateClause, dimVar: (d: number) => string): string {
  const ix = renderIndex(c.index, dimVar);
  return `(uint8_t)((${ix}) >= a[${c.lo}] && (${ix}) < a[${c.hi}])`;
}

/** True for an op that has a fast, range-limited variant run speculatively. */
function isFastTrig(s: Stmt): s is Extract<Stmt, { k: 'alu' }> {
  return s.k === 'alu' && (s.op === 'sin' || s.op === 'cos') && cClass(s.dtype) === 'f';
}

function renderStmt(s: Stmt, dimVar: (d: number) => string, fastTrig = false): string {
  if (fastTrig && isFastTrig(s)) {
    return `const ${COMPUTE_TYPE[s.result]} ${v(s.id)} = ${roundTo(s.result, `ma_${s.op}f_fast(${v(s.srcs[0])})`)};`;
  }
  switch (s.k) {
    case 'rvar':
      return `const int64_t ${v(s.id)} = ((${renderIndex(s.linear, dimVar)}) / a[${s.div}]) % a[${s.mod}];`;
    case 'load': {
      const ct = COMPUTE_TYPE[s.dtype];
      const elem = `((const ${STORAGE_TYPE[s.dtype]} *)bufs[${s.buf}])[${renderIndex(s.index, dimVar)}]`;
      const conv = s.dtype === 'float16' ? `ma_h2f(${elem})` : s.dtype === 'bfloat16' ? `ma_b2f(${elem})` : elem;
      const value = s.gate !== null ? `(${v(s.gate)} ? ${conv} : (${ct})0)` : conv;
      return `const ${ct} ${v(s.id)} = ${value};`;
    }
    case 'gidx':
      return `const int64_t ${v(s.id)} = ma_gather_index((int64_t)${v(s.src)}, a[${s.size}]);`;
    case 'index':
      return `const ${COMPUTE_TYPE[s.dtype]} ${v(s.id)} = (${COMPUTE_TYPE[s.dtype]})(${renderIndex(s.index, dimVar)});`;
    case 'arg': {
      const ct = COMPUTE_TYPE[s.dtype];
      const c = cClass(s.dtype);
      const arg = `ma_argd(a, ${s.slot})`;
      const value =
        s.dtype === 'float16'
          ? `ma_rh_d(${arg})`
          : s.dtype === 'bfloat16'
            ? `ma_rb_d(${arg})`
            : c === 'f' || c === 'd'
              ? `(${ct})${arg}`
              : `(${ct})a[${s.slot}]`;
      return `const ${ct} ${v(s.id)} = ${value};`;
    }
    case 'alu': {
      const expr = opExpr(
        s.op,
        s.dtype,
        s.srcs.map((x) => v(x)),
      );
      return `const ${COMPUTE_TYPE[s.result]} ${v(s.id)} = ${s.result === s.dtype ? roundTo(s.result, expr) : expr};`;
    }
    case 'cast':
      return `const ${COMPUTE_TYPE[s.to]} ${v(s.id)} = ${castExpr(s.from, s.to, v(s.src))};`;
    case 'where':
      return `const ${COMPUTE_TYPE[s.dtype]} ${v(s.id)} = ${v(s.srcs[0])} ? ${v(s.srcs[1])} : ${v(s.srcs[2])};`;
    case 'gate':
      return `const uint8_t ${v(s.id)} = ${renderClause(s.clause, dimVar)};`;
    case 'reduce':
      return renderReduce(s, dimVar).join('\n');
    case 'mm':
      return `const ${COMPUTE_TYPE[s.dtype]} ${v(s.id)} = ${roundTo(s.dtype, `(${COMPUTE_TYPE[s.dtype]})acc[ii][jj]`)};`;
  }
}

/**
 * A scan kernel: each work item is one line along the last dim, folded in order with
 * the reductions' accumulators (double for float sums and products).
 */
function renderCScanKernel(ir: KernelIR, name: string): string {
  const spec = ir.scan as NonNullable<KernelIR['scan']>;
  const r = ir.rank;
  const outDtype = ir.buffers[0];
  const outType = STORAGE_TYPE[outDtype];
  // The fold's helpers are shared with reductions; they read only op and dtypes.
  const fold: ReduceStmt = { k: 'reduce', id: -1, op: spec.op, dtype: outDtype, result: outDtype, loops: [], body: [], value: ir.result, usesDims: true };
  const dimVar = (d: number): string => (d === r - 1 ? 'j' : `i${d}`);
  const fin = reduceFinal(fold, 'acc');
  const store = outDtype === 'float16' ? `ma_f2h(${fin})` : outDtype === 'bfloat16' ? `ma_f2b(${fin})` : fin;
  const L: string[] = [];
  L.push(`void ${name}(void *const *bufs, const int64_t *a, int64_t start, int64_t end) {`);
  L.push(`  ${outType} *restrict out = (${outType} *)bufs[0];`);
  for (let d = 0; d < r; d++) L.push(`  const int64_t n${d} = a[${2 + d}];`);
  L.push(`  for (int64_t line = start; line < end; line++) {`);
  L.push('    int64_t t = line;');
  for (let d = r - 2; d >= 0; d--) L.push(`    const int64_t i${d} = t % n${d}; t /= n${d};`);
  L.push(`    ${accType(fold)} acc = ${reduceInit(fold)};`);
  L.push(`    for (int64_t j = 0; j < n${r - 1}; j++) {`);
  for (const s of ir.stmts) L.push(`      ${renderStmt(s, dimVar).split('\n').join('\n      ')}`);
  if (spec.inclusive) {
    L.push(`      acc = ${reduceCombine(fold, 'acc', v(ir.result))};`);
    L.push(`      out[line * n${r - 1} + j] = ${store};`);
  } else {
    L.push(`      out[line * n${r - 1} + j] = ${store};`);
    L.push(`      acc = ${reduceCombine(fold, 'acc', v(ir.result))};`);
  }
  L.push('    }');
  L.push('  }');
  L.push('}');
  return L.join('\n');
}

/**
 * Order-preserving unsigned sort keys per dtype: an unsigned compare of keys orders the
 * values as the sort must (ascending, -0 equal to 0, every NaN last and equal to every
 * other NaN), so a radix sort over key bytes is a stable sort of the values. `key`
 * renders the key of a compute-type value `x`; float keys call the kernel's own helper.
 */
const SORT_KEY: Readonly<Record<DType, { type: string; bytes: number; key: (x: string, helper: string) => string }>> = {
  bool: { type: 'uint8_t', bytes: 1, key: (x) => `(uint8_t)(${x})` },
  uint8: { type: 'uint8_t', bytes: 1, key: (x) => `(uint8_t)(${x})` },
  uint16: { type: 'uint16_t', bytes: 2, key: (x) => `(uint16_t)(${x})` },
  uint32: { type: 'uint32_t', bytes: 4, key: (x) => `(uint32_t)(${x})` },
  uint64: { type: 'uint64_t', bytes: 8, key: (x) => `(uint64_t)(${x})` },
  // signed: flipping the sign bit maps [min, max] onto [0, 2^bits) in order
  int8: { type: 'uint8_t', bytes: 1, key: (x) => `(uint8_t)((uint8_t)(${x}) ^ 0x80u)` },
  int16: { type: 'uint16_t', bytes: 2, key: (x) => `(uint16_t)((uint16_t)(${x}) ^ 0x8000u)` },
  int32: { type: 'uint32_t', bytes: 4, key: (x) => `((uint32_t)(${x}) ^ 0x80000000u)` },
  int64: { type: 'uint64_t', bytes: 8, key: (x) => `((uint64_t)(${x}) ^ 0x8000000000000000ull)` },
  // float16/bfloat16 values are exact in float: the low 13 (16) bits of their float32
  // keys are the same within a sign (all 0s, or all 1s once flipped), so dropping them
  // keeps the order and saves radix passes
  float16: { type: 'uint32_t', bytes: 3, key: (x, h) => `(${h}(${x}) >> 13)` },
  bfloat16: { type: 'uint16_t', bytes: 2, key: (x, h) => `(uint16_t)(${h}(${x}) >> 16)` },
  float32: { type: 'uint32_t', bytes: 4, key: (x, h) => `${h}(${x})` },
  float64: { type: 'uint64_t', bytes: 8, key: (x, h) => `${h}(${x})` },
};

/**
 * Lines up to this long are sorted by rank (each element counts the keys below it and
 * the equal ones before it): n^2 compares, but branch-free and vectorized, which beats
 * a radix sort's fixed histogram cost on short lines (measured crossover near 96 for
 * 32-bit keys).
 */
const SORT_RANK_MAX = 64;

/**
 * The float key helper of a sort kernel: the IEEE bits with -0 made +0, then negatives'
 * bits all flipped and positives' sign bit set (the usual order-preserving map), and
 * every NaN the largest key. Branch-free, so the key loop vectorizes.
 */
function sortKeyHelper(name: string, dtype: DType): string[] {
  const wide = dtype === 'float64';
  const [F, U, I, top, sign] = wide
    ? ['double', 'uint64_t', 'int64_t', '0xFFFFFFFFFFFFFFFFull', '0x8000000000000000ull']
    : ['float', 'uint32_t', 'int32_t', '0xFFFFFFFFu', '0x80000000u'];
  return [
    `static inline ${U} ${name}_key(${F} x) {`,
    `  ${U} u; memcpy(&u, &x, sizeof u);`,
    `  u = x == 0 ? 0 : u;`,
    `  u ^= (${U})((${I})u >> ${wide ? 63 : 31}) | ${sign};`,
    `  return x != x ? ${top} : u;`,
    '}',
  ];
}

/**
 * A sort kernel: each work item is one line along the last dim. The line's values are
 * computed once into a scratch array, with unsigned keys that order as the values do
 * (SORT_KEY). Long lines are LSD radix-sorted as (key, position) pairs by key bytes
 * (stable by construction; a byte that is the same in every key is skipped), short ones
 * placed by rank (SORT_RANK_MAX); the output is the values in that order (read back by
 * position, so -0 and NaN payloads come out as they went in) or the positions. If the
 * scratch can't be allocated the line is insertion-sorted in the output itself,
 * recomputing values: slower, never wrong.
 */
function renderCSortKernel(ir: KernelIR, name: string): string {
  const spec = ir.sort as NonNullable<KernelIR['sort']>;
  const r = ir.rank;
  const CT = COMPUTE_TYPE[spec.dtype];
  const outType = STORAGE_TYPE[ir.buffers[0]];
  const K = SORT_KEY[spec.dtype];
  const isF = cClass(spec.dtype) === 'f' || cClass(spec.dtype) === 'd';
  const less = (x: string, y: string) => (isF ? `((${x} < ${y}) | ((${y} != ${y}) & (${x} == ${x})))` : `(${x} < ${y})`);
  const store = (x: string) => (spec.dtype === 'float16' ? `ma_f2h(${x})` : spec.dtype === 'bfloat16' ? `ma_f2b(${x})` : x);
  const load = (x: string) => (spec.dtype === 'float16' ? `ma_h2f(${x})` : spec.dtype === 'bfloat16' ? `ma_b2f(${x})` : x);
  const dims = Array.from({ length: r - 1 }, (_, d) => `int64_t i${d}`).join(', ');
  const dimArgs = Array.from({ length: r - 1 }, (_, d) => `i${d}`).join(', ');
  const dimVar = (d: number): string => (d === r - 1 ? 'j' : `i${d}`);
  const pair = `${name}_pair`;
  const L: string[] = [];
  if (isF) L.push(...sortKeyHelper(name, spec.dtype));
  // A key and its line position move together: one copy per element per pass.
  L.push(`typedef struct { ${K.type} k; uint32_t i; } ${pair};`);
  L.push(`static inline ${CT} ${name}_value(void *const *bufs, const int64_t *a${dims ? `, ${dims}` : ''}, int64_t j) {`);
  for (const s of ir.stmts) L.push(`  ${renderStmt(s, dimVar).split('\n').join('\n  ')}`);
  L.push(`  return ${v(ir.result)};`);
  L.push('}');
  const value = (j: string) => `${name}_value(bufs, a${dimArgs ? `, ${dimArgs}` : ''}, ${j})`;
  L.push(`void ${name}(void *const *bufs, const int64_t *a, int64_t start, int64_t end) {`);
  L.push(`  ${outType} *restrict out = (${outType} *)bufs[0];`);
  for (let d = 0; d < r; d++) L.push(`  const int64_t n${d} = a[${2 + d}];`);
  L.push(`  const int64_t len = n${r - 1};`);
  // Positions are 32-bit (argsort gives int32): a longer line takes the fallback.
  L.push('  const int fits = len <= (int64_t)UINT32_MAX;');
  const scratch = (type: string, count: string, when: string) => `${when} ? (${type} *)malloc((size_t)(${count}) * sizeof(${type})) : NULL`;
  // Values are kept for the output (argsort needs only the keys).
  if (spec.indices) L.push(`  ${CT} *const vals = NULL;`);
  else L.push(`  ${CT} *vals = ${scratch(CT, 'len', 'fits && len > 0')};`);
  L.push(`  ${K.type} *keys = ${scratch(K.type, 'len', 'fits && len > 0')};`);
  L.push(`  ${pair} *pairs = ${scratch(pair, '2 * len', `fits && len > ${SORT_RANK_MAX}`)};`);
  L.push(`  uint32_t hist[${K.bytes}][256];`);
  L.push('  for (int64_t line = start; line < end; line++) {');
  L.push('    int64_t t = line;');
  for (let d = r - 2; d >= 0; d--) L.push(`    const int64_t i${d} = t % n${d}; t /= n${d};`);
  L.push(`    ${outType} *o = out + line * len;`);
  const emit = (i: string) => (spec.indices ? `(${outType})${i}` : store(`vals[${i}]`));
  L.push(`    if (len == 0) continue;`);
  L.push(`    if (${spec.indices ? '' : 'vals != NULL && '}keys != NULL && (len <= ${SORT_RANK_MAX} || pairs != NULL)) {`);
  L.push('      for (int64_t j = 0; j < len; j++) {');
  L.push(`        const ${CT} x = ${value('j')};`);
  if (!spec.indices) L.push('        vals[j] = x;');
  L.push(`        keys[j] = ${K.key('x', `${name}_key`)};`);
  L.push('      }');
  L.push(`      if (len <= ${SORT_RANK_MAX}) {`);
  // 32-bit counters keep the compare loop in wide vector lanes.
  L.push('        const uint32_t n = (uint32_t)len;');
  L.push('        for (uint32_t i = 0; i < n; i++) {');
  L.push(`          const ${K.type} ki = keys[i]; uint32_t rank = 0;`);
  L.push('          for (uint32_t j = 0; j < n; j++) rank += (keys[j] < ki) | ((keys[j] == ki) & (j < i));');
  L.push(`          o[rank] = ${emit('i')};`);
  L.push('        }');
  L.push('      } else {');
  L.push(`        ${pair} *src = pairs, *dst = pairs + len;`);
  L.push('        memset(hist, 0, sizeof hist);');
  L.push('        for (int64_t j = 0; j < len; j++) {');
  L.push(`          const ${K.type} k = keys[j];`);
  L.push('          src[j].k = k; src[j].i = (uint32_t)j;');
  for (let b = 0; b < K.bytes; b++) L.push(`          hist[${b}][(k >> ${8 * b}) & 255]++;`);
  L.push('        }');
  L.push(`        for (int b = 0; b < ${K.bytes}; b++) {`);
  // A byte shared by every key leaves the order as it is: skip its pass.
  L.push('          if (hist[b][(src[0].k >> (8 * b)) & 255] == (uint32_t)len) continue;');
  L.push('          uint32_t pos[256], sum = 0;');
  L.push('          for (int d = 0; d < 256; d++) { pos[d] = sum; sum += hist[b][d]; }');
  L.push(`          for (int64_t j = 0; j < len; j++) { const ${pair} e = src[j]; dst[pos[(e.k >> (8 * b)) & 255]++] = e; }`);
  L.push(`          ${pair} *tp = src; src = dst; dst = tp;`);
  L.push('        }');
  L.push(`        for (int64_t j = 0; j < len; j++) o[j] = ${emit('src[j].i')};`);
  L.push('      }');
  L.push('    } else {');
  if (spec.indices) {
    L.push(`      for (int64_t j = 0; j < len; j++) {`);
    L.push(`        ${CT} x = ${value('j')}; int64_t p = j;`);
    L.push(`        while (p > 0) { ${CT} y = ${value('(int64_t)o[p - 1]')}; if (!${less('x', 'y')}) break; o[p] = o[p - 1]; p--; }`);
    L.push(`        o[p] = (${outType})j;`);
    L.push('      }');
  } else {
    L.push(`      for (int64_t j = 0; j < len; j++) {`);
    L.push(`        ${CT} x = ${value('j')}; int64_t p = j;`);
    L.push(`        while (p > 0) { ${CT} y = ${load('o[p - 1]')}; if (!${less('x', 'y')}) break; o[p] = o[p - 1]; p--; }`);
    L.push(`        o[p] = ${store('x')};`);
    L.push('      }');
  }
  L.push('    }');
  L.push('  }');
  L.push('  free(vals);');
  L.push('  free(keys);');
  L.push('  free(pairs);');
  L.push('}');
  return L.join('\n');
}

/** acc + x * y in the compute type of `d` (integers wrap; floats use a real FMA where the CPU has one). */
function fmaExpr(d: DType, x: string, y: string, acc: string): string {
  const c = cClass(d);
  if (c === 'f') return `MA_FMAF(${x}, ${y}, ${acc})`;
  if (c === 'd') return `MA_FMA(${x}, ${y}, ${acc})`;
  const W = wrapType(d);
  return `(${COMPUTE_TYPE[d]})((${W})${acc} + (${W})${x} * (${W})${y})`;
}

/**
 * A matmul kernel. Each work item is a block of MR output rows of one batch. For each
 * block of NR columns, B's K×NR panel is packed contiguously once per chunk and batch;
 * an MR×NR register tile accumulates over K; then the epilogue runs per element of the
 * tile and stores. If the panel can't be allocated the same loops read B in place.
 */
function renderCMatmulKernel(ir: KernelIR, name: string): string {
  const mm = ir.matmul as NonNullable<KernelIR['matmul']>;
  const d = mm.dtype;
  const CT = COMPUTE_TYPE[d];
  const ST = STORAGE_TYPE[d];
  const MR = mm.rowBlock;
  const NR = DTYPES[d].bytes === 8 ? 16 : 32;
  const r = ir.rank;
  const outType = STORAGE_TYPE[ir.buffers[0]];
  const conv = (x: string): string => (d === 'float16' ? `ma_h2f(${x})` : d === 'bfloat16' ? `ma_b2f(${x})` : `(${CT})(${x})`);
  const dimVar = (k: number): string => (k === r - 2 ? 'i' : k === r - 1 ? 'j' : `bi${k}`);
  const sA = mm.a.strides;
  const sB = mm.b.strides;
  const br = mm.batchRank;
  const res = v(ir.result);
  const outDtype = ir.buffers[0];
  const stored = outDtype === 'float16' ? `ma_f2h(${res})` : outDtype === 'bfloat16' ? `ma_f2b(${res})` : res;
  const L: string[] = [];
  L.push(`void ${name}(void *const *bufs, const int64_t *a, int64_t start, int64_t end) {`);
  L.push(`  ${outType} *restrict out = (${outType} *)bufs[0];`);
  L.push(`  const ${ST} *A = (const ${ST} *)bufs[${mm.a.buf}];`);
  L.push(`  const ${ST} *B = (const ${ST} *)bufs[${mm.b.buf}];`);
  L.push(`  const int64_t M = a[${mm.m}], N = a[${mm.n}], K = a[${mm.k}];`);
  L.push(`  const int64_t sAi = a[${sA[br]}], sAk = a[${sA[br + 1]}], sBk = a[${sB[br]}], sBj = a[${sB[br + 1]}];`);
  L.push(`  const int64_t mblocks = (M + ${MR - 1}) / ${MR};`);
  L.push('  if (start >= end || mblocks == 0) return;');
  L.push(`  ${CT} *panel = (${CT} *)malloc(sizeof(${CT}) * (size_t)(K > 0 ? K : 1) * ${NR});`);
  L.push('  for (int64_t w = start; w < end;) {');
  L.push('    const int64_t bflat = w / mblocks;');
  L.push('    const int64_t wend = (bflat + 1) * mblocks < end ? (bflat + 1) * mblocks : end;');
  L.push(`    int64_t oA = a[${mm.a.offset}], oB = a[${mm.b.offset}];`);
  if (br > 0) {
    L.push('    int64_t bt = bflat;');
    for (let k = br - 1; k >= 0; k--) {
      L.push(`    const int64_t bi${k} = bt % a[${mm.batchDims[k]}]; bt /= a[${mm.batchDims[k]}];`);
      L.push(`    oA += bi${k} * a[${sA[k]}]; oB += bi${k} * a[${sB[k]}];`);
    }
  }
  L.push('    const int64_t oOut = bflat * M * N;');
  L.push(`    for (int64_t j0 = 0; j0 < N; j0 += ${NR}) {`);
  L.push(`      const int64_t nj = N - j0 < ${NR} ? N - j0 : ${NR};`);
  L.push('      if (panel) {');
  L.push('        for (int64_t k = 0; k < K; k++)');
  L.push(`          for (int64_t jj = 0; jj < ${NR}; jj++) panel[k * ${NR} + jj] = jj < nj ? ${conv(`B[oB + k * sBk + (j0 + jj) * sBj]`)} : (${CT})0;`);
  L.push('      }');
  L.push('      for (int64_t wb = w; wb < wend; wb++) {');
  L.push(`        const int64_t i0 = (wb % mblocks) * ${MR};`);
  L.push(`        const ${ST} *arow[${MR}];`);
  L.push(`        for (int ii = 0; ii < ${MR}; ii++) arow[ii] = A + oA + (i0 + ii < M ? i0 + ii : M - 1) * sAi;`);
  L.push(`        ${CT} acc[${MR}][${NR}];`);
  L.push(`        for (int ii = 0; ii < ${MR}; ii++) for (int jj = 0; jj < ${NR}; jj++) acc[ii][jj] = 0;`);
  L.push('        if (panel) {');
  L.push('          for (int64_t k = 0; k < K; k++) {');
  L.push(`            const ${CT} *bk = panel + k * ${NR};`);
  L.push(`            _Pragma("GCC unroll 8") for (int ii = 0; ii < ${MR}; ii++) {`);
  L.push(`              const ${CT} av = ${conv('arow[ii][k * sAk]')};`);
  L.push(`              _Pragma("GCC unroll 32") for (int jj = 0; jj < ${NR}; jj++) acc[ii][jj] = ${fmaExpr(d, 'av', 'bk[jj]', 'acc[ii][jj]')};`);
  L.push('            }');
  L.push('          }');
  L.push('        } else {');
  L.push('          for (int64_t k = 0; k < K; k++)');
  L.push(`            for (int ii = 0; ii < ${MR}; ii++) {`);
  L.push(`              const ${CT} av = ${conv('arow[ii][k * sAk]')};`);
  L.push(`              for (int64_t jj = 0; jj < nj; jj++) acc[ii][jj] = ${fmaExpr(d, 'av', conv('B[oB + k * sBk + (j0 + jj) * sBj]'), 'acc[ii][jj]')};`);
  L.push('            }');
  L.push('        }');
  L.push(`        for (int ii = 0; ii < ${MR} && i0 + ii < M; ii++) {`);
  L.push('          const int64_t i = i0 + ii;');
  L.push('          for (int64_t jj = 0; jj < nj; jj++) {');
  L.push('            const int64_t j = j0 + jj;');
  for (const s of ir.stmts) L.push(`            ${renderStmt(s, dimVar).split('\n').join('\n            ')}`);
  L.push(`            out[oOut + i * N + j] = ${stored};`);
  L.push('          }');
  L.push('        }');
  L.push('      }');
  L.push('    }');
  L.push('    w = wend;');
  L.push('  }');
  L.push('  free(panel);');
  L.push('}');
  return L.join('\n');
}

/** The accumulator type of a reduction: double for float sums and products (accuracy), else the compute type. */
function accType(s: ReduceStmt): string {
  if ((s.op === 'sum' || s.op === 'prod') && DTYPES[s.dtype].kind === 'float') return 'double';
  if (s.op === 'any' || s.op === 'all') return 'uint8_t';
  return COMPUTE_TYPE[s.dtype];
}

function reduceInit(s: ReduceStmt): string {
  return reduceIdentity(s.op, s.dtype, COMPUTE_TYPE[s.dtype]);
}

/** acc ⊕ x for each reduce op (x already in the accumulator's type for sums). */
function reduceCombine(s: ReduceStmt, acc: string, x: string): string {
  return reduceStep(s.op, s.dtype, COMPUTE_TYPE[s.dtype], 'double', acc, x, '|');
}

/** The accumulator converted to the reduction's result type. */
function reduceFinal(s: ReduceStmt, acc: string): string {
  const resultT = COMPUTE_TYPE[s.result];
  if (accType(s) !== 'double' || s.result === 'float64') return `(${resultT})${acc}`;
  return s.result === 'float16' ? `ma_rh_d(${acc})` : s.result === 'bfloat16' ? `ma_rb_d(${acc})` : `(float)${acc}`;
}

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
  const resultT = COMPUTE_TYPE[s.result];
  if (s.op === 'argmax' || s.op === 'argmin') {
    const T = COMPUTE_TYPE[s.dtype];
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
  const A = accType(s);
  const init = reduceInit(s);
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
  out.push(`${ind}    acc[l] = ${reduceCombine(s, 'acc[l]', v(s.value))};`);
  out.push(`${ind}  }`);
  out.push(`${ind}}`);
  out.push(`${ind}for (; rb < ${n}; rb++) {`);
  out.push(`${ind}  const int64_t r${last.loop} = rb;`);
  out.push(...body(`${ind}  `));
  out.push(`${ind}  acc[0] = ${reduceCombine(s, 'acc[0]', v(s.value))};`);
  out.push(`${ind}}`);
  for (let k = loops.length - 2; k >= 0; k--) {
    ind = ind.slice(2);
    out.push(`${ind}}`);
  }
  // Pairwise fold of the lanes.
  for (let width = LANES / 2; width >= 1; width /= 2) {
    for (let l = 0; l < width; l++) out.push(`  acc[${l}] = ${reduceCombine(s, `acc[${l}]`, `acc[${l + width}]`)};`);
  }
  out.push(`  ${v(s.id)} = ${reduceFinal(s, 'acc[0]')};`);
  out.push('}');
  return out;
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
  const rest = renderIndex({ base: ix.base, terms: ix.terms.filter((t) => t !== innerTerm) }, dimVar);
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
  const outType = STORAGE_TYPE[ir.buffers[0]];
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
      const st = STORAGE_TYPE[s.dtype];
      const g = v(s.gate);
      seg.push(`        const ${st} *q${s.id} = ${g} ? (const ${st} *)bufs[${s.buf}] : (const ${st} *)ma_zero_block;`);
      seg.push(`        const int64_t k${s.id} = ${g} ? ${coef} : 0;`);
      seg.push(`        const int64_t f${s.id} = ${g} ? ${rest} : (${coef === '1' ? '-jb' : '0'});`);
      const elem = coef === '1' ? `q${s.id}[f${s.id} + j]` : `q${s.id}[f${s.id} + j * k${s.id}]`;
      const conv = s.dtype === 'float16' ? `ma_h2f(${elem})` : s.dtype === 'bfloat16' ? `ma_b2f(${elem})` : elem;
      body.push(`          const ${COMPUTE_TYPE[s.dtype]} ${v(s.id)} = ${conv};`);
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
    const A = accType(s);
    lines.push(`    for (int64_t jb = i${inner}, je = i${inner} + count; jb < je; jb += MA_BLOCK) {`);
    lines.push('      const int64_t jn = je - jb > MA_BLOCK ? jb + MA_BLOCK : je;');
    lines.push(`      ${A} cacc[MA_BLOCK];`);
    lines.push(`      for (int64_t j = jb; j < jn; j++) cacc[j - jb] = ${reduceInit(s)};`);
    let ind = '      ';
    for (const l of s.loops) {
      lines.push(`${ind}for (int64_t r${l.loop} = 0; r${l.loop} < a[${l.size}]; r${l.loop}++) {`);
      ind += '  ';
    }
    lines.push(`${ind}for (int64_t j = jb; j < jn; j++) {`);
    for (const b of s.body) lines.push(`${ind}  ${renderStmt(b, dimVar).split('\n').join(`\n${ind}  `)}`);
    lines.push(`${ind}  cacc[j - jb] = ${reduceCombine(s, 'cacc[j - jb]', v(s.value))};`);
    lines.push(`${ind}}`);
    for (let k = s.loops.length - 1; k >= 0; k--) {
      ind = ind.slice(2);
      lines.push(`${ind}}`);
    }
    lines.push('      for (int64_t j = jb; j < jn; j++) {');
    lines.push(`        const ${COMPUTE_TYPE[s.result]} ${v(s.id)} = ${reduceFinal(s, 'cacc[j - jb]')};`);
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
  const ST = STORAGE_TYPE[d];
  const CT = COMPUTE_TYPE[d];
  const load = (x: string) => (d === 'float16' ? `ma_h2f(${x})` : d === 'bfloat16' ? `ma_b2f(${x})` : x);
  const store = (x: string) => (d === 'float16' ? `ma_f2h(${x})` : d === 'bfloat16' ? `ma_f2b(${x})` : x);
  const combined = sc.op === 'set' ? 'u' : roundTo(d, opExpr(sc.op, d, ['t', 'u']));
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

const INT_DTYPES: DType[] = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];

function intHelpers(d: DType): string {
  const T = COMPUTE_TYPE[d];
  const W = wrapType(d);
  const info = DTYPES[d];
  const signed = info.kind === 'int';
  const bits = info.bits;
  const min = signed ? `((${T})((${W})1 << ${bits - 1}))` : '0';
  const max = signed ? `((${T})(((${W})1 << ${bits - 1}) - 1))` : `((${T})~(${T})0)`;
  const maxPlusOne = signed ? `${2 ** (bits - 1)}.0` : `${2 ** bits}.0`;
  const minD = signed ? `-${2 ** (bits - 1)}.0` : '0.0';
  // The in-range conversion must not be a plain fix_trunc when signed: with
  // -fno-trapping-math GCC folds (float)(int)x into trunc(x), which keeps -0 for
  // x in (-1, 0) where the integer is 0. A narrowing from int64 (or, for int64, an
  // explicit zero for |x| < 1) breaks that pattern; unsigned targets clamp x <= 0 to 0.
  const inRange = !signed ? `(${T})x` : bits < 64 ? `(${T})(int64_t)x` : `((x > -1.0) & (x < 1.0)) ? (${T})0 : (${T})x`;
  const lines = [
    `static inline ${T} ma_f2i_${d}(double x) { return x != x ? (${T})0 : x <= ${minD} ? ${min} : x >= ${maxPlusOne} ? ${max} : ${inRange}; }`,
    `static inline ${T} ma_shl_${d}(${T} x, ${T} s) { return (s < 0 || s >= ${bits}) ? (${T})0 : (${T})((${W})x << s); }`,
  ];
  if (signed) {
    lines.push(
      `static inline ${T} ma_shr_${d}(${T} x, ${T} s) { return (s < 0 || s >= ${bits}) ? (x < 0 ? (${T})-1 : (${T})0) : (${T})(x >> s); }`,
      `static inline ${T} ma_floordiv_${d}(${T} x, ${T} y) { if (y == 0) return 0; if (x == ${min} && y == -1) return x; ${T} q = (${T})(x / y); if ((x % y != 0) && ((x < 0) != (y < 0))) q--; return q; }`,
      `static inline ${T} ma_rem_${d}(${T} x, ${T} y) { if (y == 0 || y == -1) return 0; ${T} r = (${T})(x % y); if (r != 0 && ((r < 0) != (y < 0))) r = (${T})(r + y); return r; }`,
      `static inline ${T} ma_pow_${d}(${T} x, ${T} y) { if (y < 0) return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0; ${W} r = 1, b = (${W})x; while (y) { if (y & 1) r *= b; b *= b; y >>= 1; } return (${T})r; }`,
    );
  } else {
    lines.push(
      `static inline ${T} ma_shr_${d}(${T} x, ${T} s) { return (s >= ${bits}) ? (${T})0 : (${T})(x >> s); }`,
      `static inline ${T} ma_floordiv_${d}(${T} x, ${T} y) { return y == 0 ? (${T})0 : (${T})(x / y); }`,
      `static inline ${T} ma_rem_${d}(${T} x, ${T} y) { return y == 0 ? (${T})0 : (${T})(x % y); }`,
      `static inline ${T} ma_pow_${d}(${T} x, ${T} y) { ${W} r = 1, b = x; while (y) { if (y & 1) r *= b; b *= b; y >>= 1; } return (${T})r; }`,
    );
  }
  return lines.join('\n');
}

/** Shared C prelude: types, half conversions, integer helpers, float math. */
export const C_PRELUDE = `#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

/* Multiply-adds of matrix products: one rounding where the CPU has FMA. */
#if defined(__FMA__) || defined(__aarch64__)
#define MA_FMAF(x, y, z) fmaf(x, y, z)
#define MA_FMA(x, y, z) fma(x, y, z)
#else
#define MA_FMAF(x, y, z) ((x) * (y) + (z))
#define MA_FMA(x, y, z) ((x) * (y) + (z))
#endif

static inline double ma_argd(const int64_t *a, int64_t k) { double d; memcpy(&d, &a[k], 8); return d; }
static inline uint32_t ma_fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float ma_bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* float16: IEEE binary16, round to nearest even, subnormals kept. */
static inline float ma_h2f(uint16_t h) {
  uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1f) return ma_bitsf(s | 0x7f800000u | (m << 13));
  if (e == 0) { float f = (float)m * 5.9604644775390625e-8f; return s ? -f : f; }
  return ma_bitsf(s | ((e + 112u) << 23) | (m << 13));
}
static inline uint16_t ma_f2h(float f) {
  uint32_t u = ma_fbits(f), s = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(s | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) return (uint16_t)(s | 0x7c00u);
  if (a < 0x38800000u) {
    /* subnormal or zero: scale so the half ulp is an integer step, round to even. */
    float t = ma_bitsf(a) * 16777216.0f; /* 2^24 */
    return (uint16_t)(s | (uint32_t)rintf(t));
  }
  uint32_t r = a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u;
  return (uint16_t)(s | (r >> 13));
}
static inline float ma_rh(float f) { return ma_h2f(ma_f2h(f)); }
static inline float ma_rh_d(double d) {
  /* Round a double to half directly (no double rounding through float). */
  double a = fabs(d);
  if (a != a || a >= 65520.0 || a < 6.103515625e-05) {
    if (a != a) return (float)d;
    if (a >= 65520.0) return d < 0 ? -INFINITY : INFINITY;
    return (float)(rint(d * 16777216.0) / 16777216.0);
  }
  int e; frexp(a, &e);
  double q = ldexp(1.0, e - 11);
  return (float)(rint(d / q) * q);
}
static inline float ma_b2f(uint16_t b) { return ma_bitsf((uint32_t)b << 16); }
static inline uint16_t ma_f2b(float f) {
  uint32_t u = ma_fbits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
static inline float ma_rb(float f) { return ma_b2f(ma_f2b(f)); }
static inline float ma_rb_d(double d) {
  double a = fabs(d);
  if (a != a) return (float)d;
  if (a >= 3.3961775292304e+38) return d < 0 ? -INFINITY : INFINITY;
  if (a < 1.1754943508222875e-38) return (float)(rint(d * 0x1p133) / 0x1p133);
  int e; frexp(a, &e);
  double q = ldexp(1.0, e - 8);
  return (float)(rint(d / q) * q);
}

/* A gathered index: negative counts from the end once, then clamped into [0, n). */
static inline int64_t ma_gather_index(int64_t i, int64_t n) {
  i = i < 0 ? i + n : i;
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Zeros that off-segment gated loads read; segments are at most MA_BLOCK long. */
#define MA_BLOCK 1024
static const double ma_zero_block[MA_BLOCK];
/* Steps from x (moving by k per step) until lo <= x < hi changes truth value. */
static inline int64_t ma_gate_next(int64_t x, int64_t k, int64_t lo, int64_t hi) {
  if (k > 0) {
    if (x < lo) return (lo - x + k - 1) / k;
    if (x < hi) return (hi - x + k - 1) / k;
    return INT64_MAX;
  }
  if (k < 0) {
    if (x >= hi) return (x - hi) / -k + 1;
    if (x >= lo) return (x - lo) / -k + 1;
  }
  return INT64_MAX;
}

static inline double ma_floordiv_d(double a, double b) {
  if (b == 0) return a / b;
  double mod = fmod(a, b), div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
  if (div != 0) { double f = floor(div); if (div - f > 0.5) f += 1.0; return f; }
  return copysign(0.0, a / b);
}
static inline double ma_rem_d(double a, double b) {
  if (b == 0) return fmod(a, b);
  double mod = fmod(a, b);
  if (mod != 0) { if ((b < 0) != (mod < 0)) mod += b; }
  else mod = copysign(0.0, b);
  return mod;
}
static inline double ma_logaddexp(double x, double y) {
  /* ln2 as HI + LO: x + HI is exact near x = -ln2, where the sum cancels to about 0. */
  if (x == y) return (x + 0x1.62e42fefa3800p-1) + 0x1.ef35793c7673p-45;
  double t = x - y;
  if (t > 0) return x + log1p(exp(-t));
  if (t <= 0) return y + log1p(exp(t));
  return t;
}
${f64ActivationHelpers('static inline', { exp: 'exp', erfc: 'erfc', fma: 'fma' })}
static inline double ma_erfinv(double y) {
  if (!(y > -1.0 && y < 1.0)) return y == 1.0 ? INFINITY : y == -1.0 ? -INFINITY : NAN;
  if (y == 0) return y;
  /* Initial guess from a log-based approximation, then Newton steps on erf. */
  double w = -log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    x = 2.81022636e-08; x = 3.43273939e-07 + x * w; x = -3.5233877e-06 + x * w; x = -4.39150654e-06 + x * w;
    x = 0.00021858087 + x * w; x = -0.00125372503 + x * w; x = -0.00417768164 + x * w; x = 0.246640727 + x * w;
    x = 1.50140941 + x * w;
  } else {
    w = sqrt(w) - 3.0;
    x = -0.000200214257; x = 0.000100950558 + x * w; x = 0.00134934322 + x * w; x = -0.00367342844 + x * w;
    x = 0.00573950773 + x * w; x = -0.0076224613 + x * w; x = 0.00943887047 + x * w; x = 1.00167406 + x * w;
    x = 2.83297682 + x * w;
  }
  x *= y;
  for (int k = 0; k < 3; k++) {
    double err = erf(x) - y;
    x -= err / (1.1283791670955126 * exp(-x * x));
  }
  return x;
}

${INT_DTYPES.map(intHelpers).join('\n')}

${C_MATH_PRELUDE}
`;
