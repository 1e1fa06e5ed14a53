/**
 * The C-family walker: what the C (cpu), CUDA and MSL renderers write alike — statements
 * (loads, args, ALU ops, casts, selects, gates, gathered indices), index and gate
 * expressions, half-precision rounding and storage conversions, reduction accumulators
 * and the multiply-add of matrix products — written once over a {@link CFamilyDialect} of
 * small hooks. The C renderer (c.ts) and the GPU walker (gpu-walker.ts, for CUDA and
 * MSL) extend it with their kernel shells and their own way of running a reduction.
 */
import { DTYPES, type DType } from '../core/dtype.js';
import { cClass, reduceIdentity, reduceStep, wrapType } from './ctypes.js';
import type { GateClause, IndexExpr, ReduceStmt, Stmt } from './ir.js';

/** What differs between the C-family languages where the walker renders statements. */
export interface CFamilyDialect {
  /** The backend's name, for errors. */
  readonly name: string;
  /** The type each dtype computes in; null for one the language lacks (Metal: float64). */
  readonly computeType: Readonly<Record<DType, string | null>>;
  /** The widest float: float sums and products accumulate in it, float→int casts go through it. */
  readonly wideAcc: string;
  /** The signed 64-bit integer type (index arithmetic). */
  readonly int64: string;
  /** How a reduction joins its two NaN tests: C's bitwise `|` keeps lanes branch-free; C++ dialects compare to bools. */
  readonly or: '|' | '||';
  /** The int64 arg word `slot`. */
  arg(slot: number): string;
  /** The arg word `slot` read as a double (float constants travel as double bits). */
  argDouble(slot: number): string;
  /** Element `index` of buffer `buf` (elements of `dtype`'s storage type). */
  bufferElement(buf: number, dtype: DType, index: string): string;
  /** The expression of op `op` on `srcs` computed in `dtype` (op-expressions.ts). */
  opExpr(op: string, dtype: DType, srcs: readonly string[], computeType: string): string;
  /** The fused multiply-add function for float (`f`) or double (`d`) arguments. */
  fma(cls: 'f' | 'd'): string;
  /** The statement defining gathered index `v{id}` from value `v{src}` and the axis size in arg `size`: negative counts from the end once, then clamped into [0, n). */
  gatherIndex(id: number, src: number, size: number): string;
}

/** Renders statements and reduction steps in one C-family dialect; subclasses run reductions. */
export abstract class CFamilyWalker {
  /** Where a matmul epilogue reads the product of its element. */
  mmValue = 'acc[ii][jj]';

  constructor(readonly lang: CFamilyDialect) {}

  /** A reduce statement (its accumulation loops and result), as this renderer runs it. */
  abstract reduce(s: ReduceStmt, dimVar: (d: number) => string, mode: 'serial' | 'block'): string[];

  /** The compute type of `d`; a dtype the language lacks is refused. */
  ct(d: DType): string {
    const t = this.lang.computeType[d];
    if (t === null) throw new Error(`dtype ${d} is not supported by the ${this.lang.name} backend`);
    return t;
  }

  opExpr(op: string, dtype: DType, srcs: readonly string[]): string {
    return this.lang.opExpr(op, dtype, srcs, this.ct(dtype));
  }

  /** Rounds a float32 compute value to the storage precision of a half dtype. */
  roundTo(dtype: DType, expr: string): string {
    if (dtype === 'float16') return `ma_rh(${expr})`;
    if (dtype === 'bfloat16') return `ma_rb(${expr})`;
    return expr;
  }

  castExpr(from: DType, to: DType, x: string): string {
    const fc = cClass(from);
    const tc = cClass(to);
    if (tc === 'b') return `(uint8_t)(${x} != 0)`;
    if (tc === 'i' || tc === 'u') {
      if (fc === 'f' || fc === 'd') return `ma_f2i_${to}((${this.lang.wideAcc})${x})`;
      return `(${this.ct(to)})${x}`;
    }
    if (to === 'float16' || to === 'bfloat16') {
      const fn = to === 'float16' ? 'ma_rh' : 'ma_rb';
      if (fc === 'f') return `${fn}(${x})`;
      return `${fn}_d((${this.lang.wideAcc})${x})`;
    }
    return `(${this.ct(to)})${x}`;
  }

  /** Storage value → compute value. */
  fromStorage(d: DType, x: string): string {
    return d === 'float16' ? `ma_h2f(${x})` : d === 'bfloat16' ? `ma_b2f(${x})` : x;
  }

  /** Compute value → storage value. */
  toStorage(d: DType, x: string): string {
    return d === 'float16' ? `ma_f2h(${x})` : d === 'bfloat16' ? `ma_f2b(${x})` : x;
  }

  arg(slot: number): string {
    return this.lang.arg(slot);
  }

  index(ix: IndexExpr, dimVar: (d: number) => string): string {
    const parts: string[] = [];
    if (ix.base >= 0) parts.push(this.arg(ix.base));
    for (const t of ix.terms) {
      const name = 'dim' in t.v ? dimVar(t.v.dim) : 'rvar' in t.v ? `v${t.v.rvar}` : `r${t.v.loop}`;
      parts.push(t.coef === 'unit' ? name : `${name} * ${this.arg(t.coef)}`);
    }
    return parts.length ? parts.join(' + ') : '0';
  }

  clause(c: GateClause, dimVar: (d: number) => string): string {
    const ix = this.index(c.index, dimVar);
    return `(uint8_t)((${ix}) >= ${this.arg(c.lo)} && (${ix}) < ${this.arg(c.hi)})`;
  }

  /**
   * One statement. `reduceMode` says how a reduce renders: sequentially in this thread,
   * or cooperatively by the whole block (every thread must then reach it).
   */
  stmt(s: Stmt, dimVar: (d: number) => string, reduceMode: 'serial' | 'block' = 'serial', loadOverride?: ReadonlyMap<number, string>): string {
    const W = this.lang.int64;
    switch (s.k) {
      case 'rvar':
        return `const ${W} v${s.id} = ((${this.index(s.linear, dimVar)}) / ${this.arg(s.div)}) % ${this.arg(s.mod)};`;
      case 'load': {
        const ct = this.ct(s.dtype);
        const over = loadOverride?.get(s.id);
        const elem = over ?? this.lang.bufferElement(s.buf, s.dtype, this.index(s.index, dimVar));
        const conv = this.fromStorage(s.dtype, elem);
        const value = s.gate !== null && over === undefined ? `(v${s.gate} ? ${conv} : (${ct})0)` : conv;
        return `const ${ct} v${s.id} = ${value};`;
      }
      case 'arg': {
        const ct = this.ct(s.dtype);
        const c = cClass(s.dtype);
        const dbl = this.lang.argDouble(s.slot);
        const value =
          s.dtype === 'float16'
            ? `ma_rh_d(${dbl})`
            : s.dtype === 'bfloat16'
              ? `ma_rb_d(${dbl})`
              : c === 'f' || c === 'd'
                ? `(${ct})${dbl}`
                : `(${ct})${this.arg(s.slot)}`;
        return `const ${ct} v${s.id} = ${value};`;
      }
      case 'alu': {
        const expr = this.opExpr(
          s.op,
          s.dtype,
          s.srcs.map((x) => `v${x}`),
        );
        return `const ${this.ct(s.result)} v${s.id} = ${s.result === s.dtype ? this.roundTo(s.result, expr) : expr};`;
      }
      case 'cast':
        return `const ${this.ct(s.to)} v${s.id} = ${this.castExpr(s.from, s.to, `v${s.src}`)};`;
      case 'where':
        return `const ${this.ct(s.dtype)} v${s.id} = v${s.srcs[0]} ? v${s.srcs[1]} : v${s.srcs[2]};`;
      case 'gate':
        return `const uint8_t v${s.id} = ${this.clause(s.clause, dimVar)};`;
      case 'reduce':
        return this.reduce(s, dimVar, reduceMode).join('\n');
      case 'mm':
        return `const ${this.ct(s.dtype)} v${s.id} = ${this.roundTo(s.dtype, `(${this.ct(s.dtype)})${this.mmValue}`)};`;
      case 'index':
        return `const ${this.ct(s.dtype)} v${s.id} = (${this.ct(s.dtype)})(${this.index(s.index, dimVar)});`;
      case 'gidx':
        return this.lang.gatherIndex(s.id, s.src, s.size);
    }
  }

  /** The accumulator type of a reduction: the widest float for float sums and products (accuracy), else the compute type. */
  accType(s: ReduceStmt): string {
    if ((s.op === 'sum' || s.op === 'prod') && DTYPES[s.dtype].kind === 'float') return this.lang.wideAcc;
    if (s.op === 'any' || s.op === 'all') return 'uint8_t';
    return this.ct(s.dtype);
  }

  reduceInit(s: ReduceStmt): string {
    return reduceIdentity(s.op, s.dtype, this.ct(s.dtype));
  }

  /** acc ⊕ x for each reduce op (x already in the accumulator's type for sums). */
  reduceCombine(s: ReduceStmt, acc: string, x: string): string {
    return reduceStep(s.op, s.dtype, this.ct(s.dtype), this.accType(s), acc, x, this.lang.or);
  }

  /** The accumulator converted to the reduction's result type. */
  reduceFinal(s: ReduceStmt, acc: string): string {
    const resultT = this.ct(s.result);
    if (this.accType(s) !== this.lang.wideAcc || this.lang.wideAcc === resultT) return `(${resultT})${acc}`;
    return s.result === 'float16' ? `ma_rh_d(${acc})` : s.result === 'bfloat16' ? `ma_rb_d(${acc})` : `(${resultT})${acc}`;
  }

  /** acc + x * y in the compute type of `d` (integers wrap; floats use one rounding). */
  fma(d: DType, x: string, y: string, acc: string): string {
    const c = cClass(d);
    if (c === 'f' || c === 'd') return `${this.lang.fma(c)}(${x}, ${y}, ${acc})`;
    const Wd = wrapType(d);
    return `(${this.ct(d)})((${Wd})${acc} + (${Wd})${x} * (${Wd})${y})`;
  }
}
