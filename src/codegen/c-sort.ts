/**
 * The C sort kernel: per line, radix sort of order-preserving unsigned keys (rank sort
 * for short lines), insertion sort in place when scratch can't be allocated.
 */
import type { DType } from '../core/dtype.js';
import { C_COMPUTE_TYPE, C_STORAGE_TYPE, cClass } from './ctypes.js';
import type { KernelIR } from './ir.js';
import { renderStmt, v } from './c-dialect.js';

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
export function renderCSortKernel(ir: KernelIR, name: string): string {
  const spec = ir.sort as NonNullable<KernelIR['sort']>;
  const r = ir.rank;
  const CT = C_COMPUTE_TYPE[spec.dtype];
  const outType = C_STORAGE_TYPE[ir.buffers[0]];
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
