/**
 * The shared GPU walker: kernel IR statements, casts, index and gate expressions and
 * reductions (serial, and block-cooperative with optional split over blocks) rendered in
 * a {@link GpuDialect}; each kernel family (gpu-elementwise.ts, gpu-reduction.ts,
 * gpu-scan.ts, gpu-sort.ts, gpu-scatter.ts, gpu-matmul*.ts) renders its kernel shell
 * with it. gpu.ts picks the family and computes launches.
 */
import { DTYPES, type DType } from '../core/dtype.js';
import { cClass } from './ctypes.js';
import type { KernelIR, ReduceStmt } from './ir.js';
import { fillOpRow, GPU_OPS } from './op-expressions.js';
import { type CFamilyDialect, CFamilyWalker } from './c-walker.js';
import { GPU_ARGS_INLINE_BYTES, type GpuDialect, type GpuParam } from './gpu-dialect.js';

/** Threads per block of the block-cooperative strategies. */
export const BLOCK_THREADS = 256;
/** Threads per block of flat kernels. */
export const FLAT_THREADS = 256;

/** Grid-stride kernels never launch more blocks than this (they loop instead). */
export const MAX_BLOCKS = 65535 * 4;

/** Blocks a split reduction aims for in all (a few waves of a large GPU). */
export const SPLIT_TARGET_BLOCKS = 2048;
/** Outputs a split reduction may have (fewer than SPLIT_TARGET_BLOCKS / 2)... */
export const SPLIT_MAX_OUTPUTS = SPLIT_TARGET_BLOCKS / 2;
/** ...so their counters fit the scratch's first bytes. */
export const SPLIT_COUNTER_BYTES = SPLIT_MAX_OUTPUTS * 4;
/** Elements each thread of a split reduction should fold at least. */
export const SPLIT_MIN_PER_THREAD = 8;

/** `lines`, each prefixed with `by`. */
export function indent(lines: readonly string[], by: string): string[] {
  return lines.map((x) => by + x);
}

/** ⌈a / b⌉. */
export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/** How the GPU languages fill the C-family walker's hooks (one per dialect). */
const FAMILY = new WeakMap<GpuDialect, CFamilyDialect>();

function gpuFamily(D: GpuDialect): CFamilyDialect {
  let lang = FAMILY.get(D);
  if (lang) return lang;
  const W = D.int64;
  const arg = (slot: number): string => `a.w[${slot}]`;
  lang = {
    name: D.name,
    computeType: D.computeType,
    wideAcc: D.wideAcc,
    int64: W,
    or: '||',
    arg,
    argDouble: (slot) => D.argDouble(arg(slot)),
    bufferElement: (buf, _dtype, index) => `b${buf}[${index}]`,
    opExpr: (op, dtype, srcs, computeType) => {
      const mathCls = cClass(dtype) === 'd' ? 'd' : 'f';
      // `(double)` steps use the dialect's widest float: a dialect without double (Metal) computes them in float.
      return fillOpRow(GPU_OPS[op], op, dtype, srcs, computeType, 'GPU')
        .replace(/@(\w+)\(/g, (_, fn: string) => `${D.math(fn, mathCls)}(`)
        .replace(/%(\w+)\(/g, (_, fn: string) => `${D.math(fn, 'd')}(`)
        .replace(/\(double\)/g, `(${D.wideAcc})`);
    },
    fma: (cls) => D.math('fma', cls),
    gatherIndex: (id, src, size) => {
      const n = arg(size);
      return [
        `const ${W} v${id}w = (${W})v${src} < 0 ? (${W})v${src} + ${n} : (${W})v${src};`,
        `const ${W} v${id} = v${id}w < 0 ? (${W})0 : v${id}w >= ${n} ? ${n} - 1 : v${id}w;`,
      ].join('\n');
    },
  };
  FAMILY.set(D, lang);
  return lang;
}

/** Renders kernels of one GPU dialect: the C-family walker plus block-cooperative reductions and kernel shells. */
export class GpuRenderer extends CFamilyWalker {
  constructor(
    readonly D: GpuDialect,
    readonly ir: KernelIR,
  ) {
    super(gpuFamily(D));
  }

  reduce(s: ReduceStmt, dimVar: (d: number) => string, mode: 'serial' | 'block'): string[] {
    return mode === 'block' ? this.blockReduce(s, dimVar) : this.serialReduce(s, dimVar);
  }

  st(d: DType): string {
    const t = this.D.storageType[d];
    if (t === null) throw new Error(`dtype ${d} is not supported by the ${this.D.name} backend`);
    return t;
  }

  private body(s: ReduceStmt, dimVar: (d: number) => string, indent: string): string[] {
    return s.body.map((b) => indent + this.stmt(b, dimVar, 'serial').split('\n').join(`\n${indent}`));
  }

  /** Total reduction size as an expression (product of loop sizes). */
  private reduceTotal(s: ReduceStmt): string {
    return s.loops.map((l) => `(${this.D.int64})${this.arg(l.size)}`).join(' * ') || '1';
  }

  /** Decodes a flat reduction index `f` into the reduce's loop vars (last loop fastest). */
  private decodeLoops(s: ReduceStmt, f: string, indent: string): string[] {
    const W = this.D.int64;
    const out: string[] = [`${indent}${W} rt${s.id} = ${f};`];
    for (let k = s.loops.length - 1; k >= 0; k--) {
      const l = s.loops[k];
      if (k === 0) out.push(`${indent}const ${W} r${l.loop} = rt${s.id};`);
      else out.push(`${indent}const ${W} r${l.loop} = rt${s.id} % ${this.arg(l.size)}; rt${s.id} /= ${this.arg(l.size)};`);
    }
    return out;
  }

  private isArg(s: ReduceStmt): boolean {
    return s.op === 'argmax' || s.op === 'argmin';
  }

  /** "x is a better candidate than best" for argmax/argmin (first NaN wins; ties keep the earlier). */
  private argBetter(s: ReduceStmt, x: string, xi: string, best: string, bi: string): string {
    const better = s.op === 'argmax' ? '>' : '<';
    if (DTYPES[s.dtype].kind === 'float') {
      return `((${x} != ${x}) ? ((${best} == ${best}) || ${xi} < ${bi}) : ((${best} == ${best}) && ((${x} ${better} ${best}) || (${x} == ${best} && ${xi} < ${bi}))))`;
    }
    return `((${x} ${better} ${best}) || (${x} == ${best} && ${xi} < ${bi}))`;
  }

  /** A reduction computed by this thread alone. */
  serialReduce(s: ReduceStmt, dimVar: (d: number) => string): string[] {
    const W = this.D.int64;
    const out: string[] = [];
    const resultT = this.ct(s.result);
    out.push(`${resultT} v${s.id};`);
    out.push('{');
    if (this.isArg(s)) {
      const T = this.ct(s.dtype);
      out.push(`  ${T} best = 0; ${W} bi = -1;`);
      out.push(`  for (${W} f = 0, tot = ${this.reduceTotal(s)}; f < tot; f++) {`);
      out.push(...this.decodeLoops(s, 'f', '    '));
      out.push(...this.body(s, dimVar, '    '));
      out.push(`    const ${T} x = v${s.value};`);
      out.push(`    if (bi < 0 || ${this.argBetter(s, 'x', 'f', 'best', 'bi')}) { best = x; bi = f; }`);
      out.push('  }');
      out.push(`  v${s.id} = (${resultT})(bi < 0 ? 0 : bi);`);
      out.push('}');
      return out;
    }
    const A = this.accType(s);
    out.push(`  ${A} acc = ${this.reduceInit(s)};`);
    let ind = '  ';
    for (const l of s.loops) {
      out.push(`${ind}for (${W} r${l.loop} = 0; r${l.loop} < ${this.arg(l.size)}; r${l.loop}++) {`);
      ind += '  ';
    }
    out.push(...this.body(s, dimVar, ind));
    out.push(`${ind}acc = ${this.reduceCombine(s, 'acc', `v${s.value}`)};`);
    for (let k = s.loops.length - 1; k >= 0; k--) {
      ind = ind.slice(2);
      out.push(`${ind}}`);
    }
    out.push(`  v${s.id} = ${this.reduceFinal(s, 'acc')};`);
    out.push('}');
    return out;
  }

  /** Shared arrays each block-cooperative reduce uses (declared once at kernel top). */
  sharedFor(s: ReduceStmt, split = false): string[] {
    if (this.isArg(s)) return [this.D.shared(this.ct(s.dtype), `shv${s.id}`, 32), this.D.shared(this.D.int64, `shi${s.id}`, 32)];
    const out = [this.D.shared(this.accType(s), `sh${s.id}`, 32)];
    if (split) out.push(this.D.shared('int', `shl${s.id}`, 1));
    return out;
  }

  /**
   * A reduction computed by the whole block: each thread folds a strided share of the
   * flat reduction range, then warps fold by shuffles and warp leaders through shared
   * memory; every thread gets the result. Every thread of the block must reach it.
   */
  blockReduce(s: ReduceStmt, dimVar: (d: number) => string, split = false): string[] {
    const D = this.D;
    const W = D.int64;
    const out: string[] = [];
    const resultT = this.ct(s.result);
    const tid = `(${W})${D.threadX}`;
    const nthr = `(${W})${D.blockDimX}`;
    out.push(`${resultT} v${s.id};`);
    out.push('{');
    out.push(`  const unsigned lane = ${D.threadX} & 31u, warp = ${D.threadX} >> 5, nwarps = (${D.blockDimX} + 31u) >> 5;`);
    if (this.isArg(s)) {
      const T = this.ct(s.dtype);
      out.push(`  ${T} best = 0; ${W} bi = -1;`);
      out.push(`  for (${W} f = ${tid}, tot = ${this.reduceTotal(s)}; f < tot; f += ${nthr}) {`);
      out.push(...this.decodeLoops(s, 'f', '    '));
      out.push(...this.body(s, dimVar, '    '));
      out.push(`    const ${T} x = v${s.value};`);
      out.push(`    if (bi < 0 || ${this.argBetter(s, 'x', 'f', 'best', 'bi')}) { best = x; bi = f; }`);
      out.push('  }');
      // Empty candidates carry bi = -1 and never win.
      const fold = (indent: string): string[] => [
        `${indent}for (int d = 16; d > 0; d >>= 1) {`,
        `${indent}  const ${T} ob = ${D.shuffleDown('best', 'd')};`,
        `${indent}  const ${W} oi = ${D.shuffleDown('bi', 'd')};`,
        `${indent}  if (oi >= 0 && (bi < 0 || ${this.argBetter(s, 'ob', 'oi', 'best', 'bi')})) { best = ob; bi = oi; }`,
        `${indent}}`,
      ];
      out.push(...fold('  '));
      out.push(`  if (lane == 0) { shv${s.id}[warp] = best; shi${s.id}[warp] = bi; }`);
      out.push(`  ${D.barrier}`);
      out.push('  if (warp == 0) {');
      out.push(`    best = lane < nwarps ? shv${s.id}[lane] : (${T})0; bi = lane < nwarps ? shi${s.id}[lane] : (${W})-1;`);
      out.push(...fold('    '));
      out.push(`    if (lane == 0) shi${s.id}[0] = bi;`);
      out.push('  }');
      out.push(`  ${D.barrier}`);
      out.push(`  v${s.id} = (${resultT})(shi${s.id}[0] < 0 ? 0 : shi${s.id}[0]);`);
      out.push(`  ${D.barrier}`);
      out.push('}');
      return out;
    }
    const A = this.accType(s);
    const twoPass = split ? D.splitTwoPass : undefined;
    out.push(`  ${A} acc = ${this.reduceInit(s)};`);
    if (twoPass) {
      // Counters at the start of the scratch, partials after (as below). In the fold
      // dispatch count[u] holds how many partials the first dispatch wrote; the fold
      // then reads no input (its range is empty).
      out.push(`  ${D.ptr('uint32_t')}count = (${D.ptr('uint32_t')})scratch;`);
      out.push(`  ${D.ptr(A)}part = (${D.ptr(A)})(scratch + ${SPLIT_COUNTER_BYTES});`);
      out.push(`  const unsigned nparts = (${twoPass.foldPass}) ? count[u] : 0u;`);
    }
    if (split) {
      // This block's share of the range: chunk blockIdx.y of gridDim.y.
      out.push(`  const ${W} tot = ${this.reduceTotal(s)}, chunk = (tot + ${D.gridDimY} - 1) / ${D.gridDimY};`);
      const end = 'lo + chunk < tot ? lo + chunk : tot';
      out.push(`  const ${W} lo = chunk * ${D.blockY}, hi = ${twoPass ? `nparts != 0 ? lo : (${end})` : end};`);
      out.push(`  ${D.unrollBy(4)} for (${W} f = lo + ${tid}; f < hi; f += ${nthr}) {`);
    } else out.push(`  ${D.unrollBy(4)} for (${W} f = ${tid}, tot = ${this.reduceTotal(s)}; f < tot; f += ${nthr}) {`);
    out.push(...this.decodeLoops(s, 'f', '    '));
    out.push(...this.body(s, dimVar, '    '));
    out.push(`    acc = ${this.reduceCombine(s, 'acc', `v${s.value}`)};`);
    out.push('  }');
    const simd = D.simdReduce?.(s.op, A) ?? null;
    const fold = (indent: string): string[] => [
      simd
        ? `${indent}acc = ${simd}(acc);`
        : `${indent}for (int d = 16; d > 0; d >>= 1) { const ${A} o = ${D.shuffleDown('acc', 'd')}; acc = ${this.reduceCombine(s, 'acc', 'o')}; }`,
    ];
    out.push(...fold('  '));
    out.push(`  if (lane == 0) sh${s.id}[warp] = acc;`);
    out.push(`  ${D.barrier}`);
    out.push('  if (warp == 0) {');
    out.push(`    acc = lane < nwarps ? sh${s.id}[lane] : (${A})${this.reduceInit(s)};`);
    out.push(...fold('    '));
    out.push(`    if (lane == 0) sh${s.id}[0] = acc;`);
    out.push('  }');
    out.push(`  ${D.barrier}`);
    if (twoPass) {
      const gy = D.gridDimY;
      out.push(`  if (${gy} > 1) {`);
      out.push("    // First dispatch: this block's partial, in a fixed slot; the fold dispatch folds them.");
      out.push(`    if (${D.threadX} == 0) {`);
      out.push(`      part[u * ${gy} + ${D.blockY}] = sh${s.id}[0];`);
      out.push(`      if (${D.blockY} == 0) count[u] = ${gy};`);
      out.push('    }');
      out.push(`    ${D.barrier}`);
      out.push('    continue;');
      out.push('  }');
      out.push('  if (nparts != 0) {');
      out.push(`    if (${D.threadX} == 0) {`);
      out.push(`      ${A} t = ${this.reduceInit(s)};`);
      out.push('      for (unsigned q = 0; q < nparts; q++) {');
      out.push(`        t = ${this.reduceCombine(s, 't', 'part[u * nparts + q]')};`);
      out.push(`        part[u * nparts + q] = (${A})0;`);
      out.push('      }');
      out.push(`      sh${s.id}[0] = t;`);
      out.push('      count[u] = 0; // the scratch is left all zero, as the launch contract asks');
      out.push('    }');
      out.push(`    ${D.barrier}`);
      out.push('  }');
    } else if (split) {
      const gy = D.gridDimY;
      out.push(`  if (${gy} > 1) {`);
      // Counters live in a fixed region at the start of the scratch (always zero between
      // launches); partials after it, so no kernel's partials overlap another's counters.
      out.push(`    ${D.ptr('uint32_t')}count = (${D.ptr('uint32_t')})scratch;`);
      out.push(`    ${D.ptr(A)}part = (${D.ptr(A)})(scratch + ${SPLIT_COUNTER_BYTES});`);
      out.push(`    if (${D.threadX} == 0) {`);
      out.push(`      part[u * ${gy} + ${D.blockY}] = sh${s.id}[0];`);
      out.push(`      ${D.fence}`);
      out.push(`      shl${s.id}[0] = ${D.atomicIncrement(`count + u`)} == ${gy} - 1;`);
      out.push('    }');
      out.push(`    ${D.barrier}`);
      out.push(`    if (!shl${s.id}[0]) continue; // not the last block of this output`);
      out.push(`    if (${D.threadX} == 0) {`);
      out.push(`      ${D.fence}`);
      out.push(`      ${A} t = ${this.reduceInit(s)};`);
      out.push(`      for (unsigned q = 0; q < ${gy}; q++) t = ${this.reduceCombine(s, 't', D.readCoherent(A, 'part', `u * ${gy} + q`))};`);
      out.push(`      sh${s.id}[0] = t;`);
      out.push('      count[u] = 0; // ready for the next launch');
      out.push('    }');
      out.push(`    ${D.barrier}`);
      out.push('  }');
    }
    out.push(`  v${s.id} = ${this.reduceFinal(s, `sh${s.id}[0]`)};`);
    out.push(`  ${D.barrier}`);
    out.push('}');
    return out;
  }

  // ---- kernel shells ----

  /** The kernel's opening; `extraWords` args words beyond the IR's (an ordered-pass kernel's pass index). */
  head(name: string, threads: number, extraWords = 0): string[] {
    const params: GpuParam[] = this.ir.buffers.map((d, i) => ({ name: `b${i}`, type: this.st(d), readonly: i > 0 }));
    params.push({ name: 'scratch', type: 'uint8_t', readonly: false });
    const words = Math.max(1, this.ir.argWords) + extraWords;
    return [this.D.kernelHead(name, params, words, threads, words * 8 <= GPU_ARGS_INLINE_BYTES)];
  }

  /** The pass index of an ordered-pass kernel (GpuDialect.orderedPasses): the word after the args. */
  passIndex(): string {
    return this.arg(Math.max(1, this.ir.argWords));
  }

  /** Output dim decode of a flat index into i0..i{r-1} (names from dimVar). */
  decode(flat: string, rank: number, dimVar: (d: number) => string, indent: string, from = rank - 1): string[] {
    const W = this.D.int64;
    const out = [`${indent}${W} t_ = ${flat};`];
    for (let d = from; d >= 0; d--) {
      if (d === 0) out.push(`${indent}const ${W} ${dimVar(d)} = t_;`);
      else out.push(`${indent}const ${W} ${dimVar(d)} = t_ % n${d}; t_ /= n${d};`);
    }
    return out;
  }

  dimsDecl(rank: number, indent: string): string[] {
    const W = this.D.int64;
    const out: string[] = [];
    for (let d = 0; d < rank; d++) out.push(`${indent}const ${W} n${d} = ${this.arg(2 + d)};`);
    return out;
  }

  topReduces(): ReduceStmt[] {
    return this.ir.stmts.filter((s): s is ReduceStmt => s.k === 'reduce');
  }
}
