/**
 * The GPU renderer: one walker over the kernel IR for every GPU language, driven by a
 * {@link GpuDialect} table of what differs (CUDA C in `cuda.ts`, Metal Shading Language
 * in `msl.ts`).
 *
 * ## The dialect interface (keep stable: cuda.ts and msl.ts both implement it)
 *
 * A dialect gives:
 * - `computeType` / `storageType`: register and memory type names per dtype
 *   (float16/bfloat16 compute in float32 and are stored as 16-bit unsigned bits);
 *   `null` for a dtype the language lacks (Metal: float64), which makes the renderer
 *   throw a DTypeError-like `Error` naming the dtype;
 * - `wideAcc`: the accumulator type of float sums and products (`double` in CUDA;
 *   `float` where there is no double);
 * - `kernelHead(name, params, argWords, threads, argsInline)`: the text that opens a
 *   kernel, up to and including `{`. Params are the buffers in order (output first),
 *   each with its storage type and whether it is read-only; then the args blob
 *   `MaArgs<argWords>`, visible in the body as `a` (CUDA: a by-value parameter, or, when
 *   `argsInline` is false because the blob exceeds GPU_ARGS_INLINE_BYTES, a pointer to
 *   a device copy; Metal: a `constant` reference bound after the buffers). Buffer i is named `b{i}`. The dialect adds
 *   whatever the language needs to make the index expressions below valid (Metal:
 *   `[[thread_position_in_threadgroup]]`-style parameters);
 * - `threadX`, `blockX`, `blockDimX`, `gridDimX` (and `threadY`, `blockY`, `blockZ`):
 *   expressions for the thread's index in its block, the block's index in the grid, the
 *   block size and the grid size, as unsigned 32-bit values;
 * - `barrier`: a block-wide barrier over shared (threadgroup) memory;
 * - `shared(type, name, count)`: a declaration of a shared array inside the kernel body;
 * - `shuffleDown(expr, delta)`: the value of `expr` in lane `lane + delta` of the warp
 *   (SIMD group of 32); it must accept every accumulator type the renderer uses
 *   (the prelude overloads `ma_shfl_down` for that in CUDA);
 * - `math(fn, cls)`: the name of a libm-style function (`exp`, `log`, `sin`, ...) for
 *   float (`f`) or double (`d`) arguments;
 * - `argDouble(expr)`: reinterpret an int64 arg word as a double (float constants
 *   travel as doubles in the args blob);
 * - `ptr(type)`: a pointer type to `type` in device (global) memory, for vector
 *   accesses (Metal: `device type *`);
 * - `vectorType(bytes)`: an unsigned type of 1, 2, 4, 8 or 16 bytes used to move
 *   aligned groups of elements in one access (through a union with the elements);
 * - `unroll`: the pragma that fully unrolls the next loop;
 * - `prelude`: text compiled before every kernel. It must define `MaArgs<N>` (a struct
 *   with `W w[N]`), `INFINITY`, the fixed-width integer names (`int8_t` ... `uint64_t`),
 *   and these helpers, with the C prelude's semantics (src/codegen/c.ts): half and
 *   bfloat conversions `ma_h2f ma_f2h ma_rh ma_rh_d ma_b2f ma_f2b ma_rb ma_rb_d`;
 *   per integer dtype `ma_f2i_<dt> ma_shl_<dt> ma_shr_<dt> ma_floordiv_<dt> ma_rem_<dt>
 *   ma_pow_<dt>` ({@link gpuIntHelpers} renders them given a function qualifier);
 *   `ma_floordiv_d ma_rem_d ma_logaddexp ma_erfinv` on the widest float;
 *   `ma_shfl_down` overloads.
 *
 * ## Kernels and launch geometry
 *
 * {@link gpuStrategy} picks, from the IR alone (so one source serves every size), how
 * a kernel maps onto threads; {@link gpuLaunch} computes grid, block and shared bytes
 * for one launch from the bound args (sizes). Both live here so every dialect agrees.
 * - `flat`: one thread per group of V consecutive output elements (V×element ≤ 16
 *   bytes); within a row, loads that walk the inner dim with unit stride are moved in
 *   one 16-byte (or narrower) access where aligned; grid-stride loop.
 * - `rows`: one block per row of the output (every dim but the innermost); reductions
 *   that are constant along the row (softmax's max and sum, layer norm's moments) are
 *   computed once by the whole block (warp shuffles, then shared memory), then the
 *   block's threads sweep the row.
 * - `element`: one block per output element, its reductions computed by the block
 *   (row sums over a contiguous axis).
 * - `scan`: one thread per line along the last dim.
 * - `matmul`: 64×64 output tiles per 256-thread block (4×4 per thread), K in steps of
 *   16 through shared memory, the epilogue per element, exact FMA arithmetic.
 */
import { DTYPES, type DType } from '../graph/dtype.js';
import type { ReduceOp } from '../graph/node.js';
import type { GateClause, IndexExpr, KernelIR, ReduceStmt, Stmt } from './ir.js';

/** Dtype classes the op table distinguishes: bool, signed, unsigned, float32-computed, double. */
export type GpuCls = 'b' | 'i' | 'u' | 'f' | 'd';

/** A kernel parameter (a buffer). */
export interface GpuParam {
  /** Storage type of the elements. */
  readonly type: string;
  readonly readonly: boolean;
}

/** What differs between GPU languages (see the header comment for each member). */
export interface GpuDialect {
  readonly name: string;
  readonly computeType: Readonly<Record<DType, string | null>>;
  readonly storageType: Readonly<Record<DType, string | null>>;
  readonly wideAcc: string;
  /** The signed and unsigned 64-bit integer type names. */
  readonly int64: string;
  readonly uint64: string;
  kernelHead(name: string, params: readonly GpuParam[], argWords: number, threads: number, argsInline: boolean): string;
  readonly threadX: string;
  readonly threadY: string;
  readonly blockX: string;
  readonly blockY: string;
  readonly blockZ: string;
  readonly blockDimX: string;
  readonly gridDimX: string;
  readonly barrier: string;
  shared(type: string, name: string, count: number): string;
  shuffleDown(expr: string, delta: string): string;
  math(fn: string, cls: 'f' | 'd'): string;
  argDouble(expr: string): string;
  ptr(type: string): string;
  vectorType(bytes: number): string;
  readonly unroll: string;
  readonly prelude: string;
  /**
   * Optional: the product of the shared-memory tiles by the language's matrix units
   * (Metal: simdgroup_matrix), for float matmuls; absent or null keeps the per-thread
   * FMA product. `declare` follows the shared arrays, `step` replaces the product of one
   * BK-deep tile pair (after the barrier that publishes it), `finish` runs after the K
   * loop and must leave each thread's TM×TN outputs in `acc[ii][jj]` (thread `tid`
   * owns rows `tr * TM + ii` and columns `tc + jj * (BN / TN)` of the block's tile).
   */
  matmulTile?(tile: GpuTileShape): GpuMatmulTile | null;
  /**
   * Optional: a function folding a value over the SIMD group (warp) into every lane
   * with the semantics of reduceCombine (Metal: simd_sum ...), for a reduce op and
   * accumulator type; null keeps the shuffleDown loop.
   */
  simdReduce?(op: ReduceOp, accType: string): string | null;
}

/** The matmul tiling the walker uses (see matmulTile). */
export interface GpuTileShape {
  /** Compute type of the tiles in shared memory (`As[kk * (BM + 4) + row]`, `Bs[kk * (BN + 4) + col]`). */
  readonly ct: string;
  readonly BM: number;
  readonly BN: number;
  readonly BK: number;
  readonly TM: number;
  readonly TN: number;
  readonly threads: number;
}

/** Lines a dialect's matrix-unit product puts into the matmul kernel (see matmulTile). */
export interface GpuMatmulTile {
  readonly declare: readonly string[];
  readonly step: readonly string[];
  readonly finish: readonly string[];
}

/** How a kernel maps onto the GPU's threads. */
export type GpuStrategy = 'flat' | 'rows' | 'element' | 'scan' | 'matmul';

/** Grid, block and dynamic shared memory of one launch. */
export interface GpuLaunch {
  grid: [number, number, number];
  block: [number, number, number];
  sharedBytes: number;
}

/**
 * Largest args blob passed inline (by value); larger blobs (kernels with thousands of
 * constants) travel as a pointer to a device copy the runtime makes per launch. Part of
 * the launch contract (src/runtime/native.ts).
 */
export const GPU_ARGS_INLINE_BYTES = 4096;

/** Threads per block of the block-cooperative strategies. */
const BLOCK_THREADS = 256;
/** Threads per block of flat kernels. */
const FLAT_THREADS = 256;
/** Matmul tile: BM×BN outputs per block, BK deep, TM×TN per thread. */
const MM = { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4, threads: 256 } as const;
/** Grid-stride kernels never launch more blocks than this (they loop instead). */
const MAX_BLOCKS = 65535 * 4;

export function gpuCls(d: DType): GpuCls {
  const k = DTYPES[d].kind;
  if (k === 'bool') return 'b';
  if (k === 'int') return 'i';
  if (k === 'uint') return 'u';
  return d === 'float64' ? 'd' : 'f';
}

function wideInt(d: DType): string {
  return DTYPES[d].bits > 32 ? 'uint64_t' : 'uint32_t';
}

type Row = Partial<Record<GpuCls | 'int' | 'float' | 'all', string>>;

/**
 * Per-op expressions, shared by every dialect. `$0`, `$1` are operands, `T` the compute
 * type, `W` the unsigned type that wraps, `@fn(` a math function resolved by the dialect
 * for the class (float or double), `_N(` an integer helper of the dtype. float32 ops
 * whose single-precision GPU library function is not within 2 ulps are computed in
 * double and rounded once.
 */
const GPU_OPS: Record<string, Row> = {
  copy: { all: '$0' },
  negative: { int: '(T)((W)0 - (W)$0)', float: '(-$0)' },
  abs: { i: '($0 < 0 ? (T)((W)0 - (W)$0) : $0)', u: '$0', float: '@fabs($0)' },
  sign: { u: '(T)($0 > 0)', all: '($0 > 0 ? (T)1 : ($0 < 0 ? (T)-1 : $0))' },
  square: { b: '$0', int: '(T)((W)$0 * (W)$0)', float: '($0 * $0)' },
  relu: { i: '($0 > 0 ? $0 : (T)0)', u: '$0', b: '$0', float: '(($0 > 0 || $0 != $0) ? $0 : (T)0)' },
  floor: { float: '@floor($0)', all: '$0' },
  ceil: { float: '@ceil($0)', all: '$0' },
  round: { float: '@rint($0)', all: '$0' },
  trunc: { float: '@trunc($0)', all: '$0' },
  sqrt: { float: '@sqrt($0)' },
  rsqrt: { f: '(1.0f / @sqrt($0))', d: '(1.0 / @sqrt($0))' },
  reciprocal: { f: '(1.0f / $0)', d: '(1.0 / $0)' },
  exp: { float: '@exp($0)' },
  exp2: { float: '@exp2($0)' },
  expm1: { float: '@expm1($0)' },
  log: { float: '@log($0)' },
  log2: { float: '@log2($0)' },
  log10: { f: '(float)%log10((double)$0)', d: '@log10($0)' },
  log1p: { float: '@log1p($0)' },
  sin: { float: '@sin($0)' },
  cos: { float: '@cos($0)' },
  tan: { f: '(float)%tan((double)$0)', d: '@tan($0)' },
  arcsin: { f: '(float)%asin((double)$0)', d: '@asin($0)' },
  arccos: { f: '(float)%acos((double)$0)', d: '@acos($0)' },
  arctan: { f: '(float)%atan((double)$0)', d: '@atan($0)' },
  sinh: { f: '(float)%sinh((double)$0)', d: '@sinh($0)' },
  cosh: { f: '(float)%cosh((double)$0)', d: '@cosh($0)' },
  tanh: { float: '@tanh($0)' },
  arcsinh: { f: '(float)%asinh((double)$0)', d: '@asinh($0)' },
  arccosh: { f: '(float)%acosh((double)$0)', d: '@acosh($0)' },
  arctanh: { f: '(float)%atanh((double)$0)', d: '@atanh($0)' },
  erf: { float: '@erf($0)' },
  erfinv: { f: '(float)ma_erfinv((double)$0)', d: 'ma_erfinv($0)' },
  sigmoid: { f: '(1.0f / (1.0f + @exp(-$0)))', d: '(1.0 / (1.0 + @exp(-$0)))' },
  gelu: { f: '(0.5f * $0 * (1.0f + @erf($0 * 0.70710678118654752f)))', d: '(0.5 * $0 * (1.0 + @erf($0 * 0.70710678118654752440)))' },
  silu: { f: '($0 / (1.0f + @exp(-$0)))', d: '($0 / (1.0 + @exp(-$0)))' },
  isnan: { float: '(uint8_t)($0 != $0)', all: '(uint8_t)0' },
  isinf: { float: '(uint8_t)(@fabs($0) == INFINITY)', all: '(uint8_t)0' },
  isfinite: { float: '(uint8_t)(($0 - $0) == 0)', all: '(uint8_t)1' },
  logicalNot: { all: '(uint8_t)!$0' },
  bitwiseNot: { b: '(uint8_t)!$0', int: '(T)~$0' },
  add: { b: '(uint8_t)($0 | $1)', int: '(T)((W)$0 + (W)$1)', float: '($0 + $1)' },
  subtract: { int: '(T)((W)$0 - (W)$1)', float: '($0 - $1)' },
  multiply: { b: '(uint8_t)($0 & $1)', int: '(T)((W)$0 * (W)$1)', float: '($0 * $1)' },
  divide: { float: '($0 / $1)' },
  floorDivide: { int: 'ma_floordiv_N($0, $1)', f: '(float)ma_floordiv_d($0, $1)', d: 'ma_floordiv_d($0, $1)' },
  remainder: { int: 'ma_rem_N($0, $1)', f: '(float)ma_rem_d($0, $1)', d: 'ma_rem_d($0, $1)' },
  power: { int: 'ma_pow_N($0, $1)', f: '(float)%pow((double)$0, (double)$1)', d: '@pow($0, $1)' },
  maximum: { b: '(uint8_t)($0 | $1)', int: '($0 > $1 ? $0 : $1)', float: '(($0 > $1 || $0 != $0) ? $0 : $1)' },
  minimum: { b: '(uint8_t)($0 & $1)', int: '($0 < $1 ? $0 : $1)', float: '(($0 < $1 || $0 != $0) ? $0 : $1)' },
  arctan2: { f: '(float)%atan2((double)$0, (double)$1)', d: '@atan2($0, $1)' },
  logaddexp: { f: '(float)ma_logaddexp((double)$0, (double)$1)', d: 'ma_logaddexp($0, $1)' },
  equal: { all: '(uint8_t)($0 == $1)' },
  notEqual: { all: '(uint8_t)($0 != $1)' },
  less: { all: '(uint8_t)($0 < $1)' },
  lessEqual: { all: '(uint8_t)($0 <= $1)' },
  greater: { all: '(uint8_t)($0 > $1)' },
  greaterEqual: { all: '(uint8_t)($0 >= $1)' },
  logicalAnd: { all: '(uint8_t)($0 & $1)' },
  logicalOr: { all: '(uint8_t)($0 | $1)' },
  logicalXor: { all: '(uint8_t)($0 ^ $1)' },
  bitwiseAnd: { all: '(T)($0 & $1)' },
  bitwiseOr: { all: '(T)($0 | $1)' },
  bitwiseXor: { all: '(T)($0 ^ $1)' },
  leftShift: { int: 'ma_shl_N($0, $1)' },
  rightShift: { int: 'ma_shr_N($0, $1)' },
};

/** Renders kernels of one dialect. */
class GpuRenderer {
  constructor(
    private readonly D: GpuDialect,
    private readonly ir: KernelIR,
  ) {}

  ct(d: DType): string {
    const t = this.D.computeType[d];
    if (t === null) throw new Error(`dtype ${d} is not supported by the ${this.D.name} backend`);
    return t;
  }

  st(d: DType): string {
    const t = this.D.storageType[d];
    if (t === null) throw new Error(`dtype ${d} is not supported by the ${this.D.name} backend`);
    return t;
  }

  opExpr(op: string, dtype: DType, srcs: readonly string[]): string {
    const row = GPU_OPS[op];
    if (!row) throw new Error(`internal: no GPU expression for ${op}`);
    const c = gpuCls(dtype);
    const group = c === 'i' || c === 'u' ? 'int' : c === 'f' || c === 'd' ? 'float' : undefined;
    const tmpl = row[c] ?? (group ? row[group] : undefined) ?? row.all;
    if (tmpl === undefined) throw new Error(`internal: ${op} has no GPU expression for ${dtype}`);
    const mathCls = c === 'd' ? 'd' : 'f';
    // `(double)` steps use the dialect's widest float: a dialect without double (Metal) computes them in float.
    return tmpl
      .replace(/\$(\d)/g, (_, i: string) => srcs[Number(i)])
      .replace(/@(\w+)\(/g, (_, fn: string) => `${this.D.math(fn, mathCls)}(`)
      .replace(/%(\w+)\(/g, (_, fn: string) => `${this.D.math(fn, 'd')}(`)
      .replace(/\(double\)/g, `(${this.D.wideAcc})`)
      .replace(/\bT\b/g, this.ct(dtype))
      .replace(/\bW\b/g, wideInt(dtype))
      .replace(/_N\(/g, `_${dtype}(`);
  }

  roundTo(dtype: DType, expr: string): string {
    if (dtype === 'float16') return `ma_rh(${expr})`;
    if (dtype === 'bfloat16') return `ma_rb(${expr})`;
    return expr;
  }

  castExpr(from: DType, to: DType, x: string): string {
    const fc = gpuCls(from);
    const tc = gpuCls(to);
    if (tc === 'b') return `(uint8_t)(${x} != 0)`;
    if (tc === 'i' || tc === 'u') {
      if (fc === 'f' || fc === 'd') return `ma_f2i_${to}((${this.D.wideAcc})${x})`;
      return `(${this.ct(to)})${x}`;
    }
    if (to === 'float16' || to === 'bfloat16') {
      const fn = to === 'float16' ? 'ma_rh' : 'ma_rb';
      if (fc === 'f') return `${fn}(${x})`;
      return `${fn}_d((${this.D.wideAcc})${x})`;
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
    return `a.w[${slot}]`;
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
  stmt(s: Stmt, dimVar: (d: number) => string, reduceMode: 'serial' | 'block', loadOverride?: Map<number, string>): string {
    const W = this.D.int64;
    switch (s.k) {
      case 'rvar':
        return `const ${W} v${s.id} = ((${this.index(s.linear, dimVar)}) / ${this.arg(s.div)}) % ${this.arg(s.mod)};`;
      case 'load': {
        const ct = this.ct(s.dtype);
        const over = loadOverride?.get(s.id);
        const elem = over ?? `b${s.buf}[${this.index(s.index, dimVar)}]`;
        const conv = this.fromStorage(s.dtype, elem);
        const value = s.gate !== null && over === undefined ? `(v${s.gate} ? ${conv} : (${ct})0)` : conv;
        return `const ${ct} v${s.id} = ${value};`;
      }
      case 'arg': {
        const ct = this.ct(s.dtype);
        const c = gpuCls(s.dtype);
        const dbl = this.D.argDouble(this.arg(s.slot));
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
        return (reduceMode === 'block' ? this.blockReduce(s, dimVar) : this.serialReduce(s, dimVar)).join('\n');
      case 'mm':
        return `const ${this.ct(s.dtype)} v${s.id} = ${this.roundTo(s.dtype, `(${this.ct(s.dtype)})acc[ii][jj]`)};`;
    }
  }

  // ---- reductions ----

  accType(s: ReduceStmt): string {
    if ((s.op === 'sum' || s.op === 'prod') && DTYPES[s.dtype].kind === 'float') return this.D.wideAcc;
    if (s.op === 'any' || s.op === 'all') return 'uint8_t';
    return this.ct(s.dtype);
  }

  reduceInit(s: ReduceStmt): string {
    const c = gpuCls(s.dtype);
    const T = this.ct(s.dtype);
    const bits = DTYPES[s.dtype].bits;
    switch (s.op) {
      case 'sum':
      case 'any':
        return '0';
      case 'prod':
      case 'all':
        return '1';
      case 'max':
        return c === 'f' || c === 'd' ? '-INFINITY' : c === 'i' ? `((${T})((${wideInt(s.dtype)})1 << ${bits - 1}))` : '0';
      default:
        return c === 'f' || c === 'd' ? 'INFINITY' : c === 'i' ? `((${T})(((${wideInt(s.dtype)})1 << ${bits - 1}) - 1))` : c === 'b' ? '1' : `((${T})~(${T})0)`;
    }
  }

  reduceCombine(s: ReduceStmt, acc: string, x: string): string {
    const c = gpuCls(s.dtype);
    const isFloat = c === 'f' || c === 'd';
    const T = this.ct(s.dtype);
    const W = wideInt(s.dtype);
    const A = this.accType(s);
    switch (s.op) {
      case 'sum':
        return isFloat ? `(${acc} + (${A})${x})` : `(${T})((${W})${acc} + (${W})${x})`;
      case 'prod':
        return isFloat ? `(${acc} * (${A})${x})` : `(${T})((${W})${acc} * (${W})${x})`;
      case 'max':
        return isFloat ? `(((${x} > ${acc}) || (${x} != ${x})) ? ${x} : ${acc})` : `(${x} > ${acc} ? ${x} : ${acc})`;
      case 'min':
        return isFloat ? `(((${x} < ${acc}) || (${x} != ${x})) ? ${x} : ${acc})` : `(${x} < ${acc} ? ${x} : ${acc})`;
      case 'any':
        return `(uint8_t)(${acc} | (${x} != 0))`;
      default:
        return `(uint8_t)(${acc} & (${x} != 0))`;
    }
  }

  reduceFinal(s: ReduceStmt, acc: string): string {
    const resultT = this.ct(s.result);
    if (this.accType(s) !== this.D.wideAcc || this.D.wideAcc === resultT) return `(${resultT})${acc}`;
    return s.result === 'float16' ? `ma_rh_d(${acc})` : s.result === 'bfloat16' ? `ma_rb_d(${acc})` : `(${resultT})${acc}`;
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
  sharedFor(s: ReduceStmt): string[] {
    if (this.isArg(s)) return [this.D.shared(this.ct(s.dtype), `shv${s.id}`, 32), this.D.shared(this.D.int64, `shi${s.id}`, 32)];
    return [this.D.shared(this.accType(s), `sh${s.id}`, 32)];
  }

  /**
   * A reduction computed by the whole block: each thread folds a strided share of the
   * flat reduction range, then warps fold by shuffles and warp leaders through shared
   * memory; every thread gets the result. Every thread of the block must reach it.
   */
  blockReduce(s: ReduceStmt, dimVar: (d: number) => string): string[] {
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
    out.push(`  ${A} acc = ${this.reduceInit(s)};`);
    out.push(`  for (${W} f = ${tid}, tot = ${this.reduceTotal(s)}; f < tot; f += ${nthr}) {`);
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
    out.push(`  v${s.id} = ${this.reduceFinal(s, `sh${s.id}[0]`)};`);
    out.push(`  ${D.barrier}`);
    out.push('}');
    return out;
  }

  // ---- kernel shells ----

  head(name: string, threads: number): string[] {
    const params: GpuParam[] = this.ir.buffers.map((d, i) => ({ type: this.st(d), readonly: i > 0 }));
    const words = Math.max(1, this.ir.argWords);
    return [this.D.kernelHead(name, params, words, threads, words * 8 <= GPU_ARGS_INLINE_BYTES)];
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

  renderFlat(name: string): string {
    const ir = this.ir;
    const D = this.D;
    const W = D.int64;
    const r = ir.rank;
    const inner = r - 1;
    const outD = ir.buffers[0];
    const V = flatVector(ir);
    const L: string[] = [...this.head(name, FLAT_THREADS)];
    L.push(`  const ${W} N = ${this.arg(0)};`);
    L.push(...this.dimsDecl(r, '  '));
    L.push(`  const ${W} step = (${W})${D.gridDimX} * ${D.blockDimX} * ${V};`);
    L.push(`  for (${W} base = ((${W})${D.blockX} * ${D.blockDimX} + ${D.threadX}) * ${V}; base < N; base += step) {`);
    const res = `v${ir.result}`;
    if (V > 1) {
      const rowVar = (d: number): string => (d === inner ? 'j' : `i${d}`);
      const row0 = (d: number): string => (d === inner ? 'j0' : `i${d}`);
      L.push('    {');
      L.push(...this.decode('base', r, (d) => (d === inner ? 'j0' : `i${d}`), '      '));
      L.push(`      if (j0 + ${V} <= n${inner}) {`);
      // Row-invariant statements once; inner statements per element, unrolled.
      const hoisted: string[] = [];
      const perElem: string[] = [];
      const vecLoads = new Map<number, string>();
      const pre: string[] = [];
      ir.stmts.forEach((s, k) => {
        if (!ir.inner[k]) {
          hoisted.push(`        ${this.stmt(s, row0, 'serial').split('\n').join('\n        ')}`);
          return;
        }
        if (s.k === 'load' && s.gate === null && isUnitInner(s.index, inner, ir)) {
          const sty = this.st(s.dtype);
          const bytes = DTYPES[s.dtype].bytes * V;
          const VT = D.vectorType(bytes);
          pre.push(`        const ${W} x${s.id} = ${this.index(s.index, row0)};`);
          pre.push(`        union { ${VT} v; ${sty} e[${V}]; } t${s.id};`);
          pre.push(`        if ((x${s.id} & ${V - 1}) == 0) t${s.id}.v = *(${D.ptr(`const ${VT}`)})(b${s.buf} + x${s.id});`);
          pre.push(`        else { ${D.unroll} for (int e = 0; e < ${V}; e++) t${s.id}.e[e] = b${s.buf}[x${s.id} + e]; }`);
          vecLoads.set(s.id, `t${s.id}.e[e]`);
        }
        perElem.push(`          ${this.stmt(s, rowVar, 'serial', vecLoads).split('\n').join('\n          ')}`);
      });
      L.push(...hoisted, ...pre);
      const sty = this.st(outD);
      const OVT = D.vectorType(DTYPES[outD].bytes * V);
      L.push(`        union { ${OVT} v; ${sty} e[${V}]; } o;`);
      L.push(`        ${D.unroll} for (int e = 0; e < ${V}; e++) {`);
      L.push(`          const ${W} j = j0 + e;`);
      L.push(...perElem);
      L.push(`          o.e[e] = ${this.toStorage(outD, res)};`);
      L.push('        }');
      L.push(`        *(${D.ptr(OVT)})(b0 + base) = o.v;`);
      L.push('        continue;');
      L.push('      }');
      L.push('    }');
    }
    // Scalar path: each element decoded on its own.
    L.push(`    for (int e = 0; e < ${V} && base + e < N; e++) {`);
    const dimVar = (d: number): string => (d === inner ? 'j' : `i${d}`);
    L.push(...this.decode('base + e', r, dimVar, '      '));
    for (const s of ir.stmts) L.push(`      ${this.stmt(s, dimVar, 'serial').split('\n').join('\n      ')}`);
    L.push(`      b0[base + e] = ${this.toStorage(outD, res)};`);
    L.push('    }');
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }

  /** One block per row (`rows`) or per output element (`element`). */
  renderBlocks(name: string, perElement: boolean): string {
    const ir = this.ir;
    const D = this.D;
    const W = D.int64;
    const r = ir.rank;
    const inner = r - 1;
    const outD = ir.buffers[0];
    const res = `v${ir.result}`;
    const dimVar = (d: number): string => (d === inner ? 'j' : `i${d}`);
    const L: string[] = [...this.head(name, BLOCK_THREADS)];
    const uniform = (k: number): boolean => perElement || !ir.inner[k];
    for (const [k, s] of ir.stmts.entries()) if (s.k === 'reduce' && uniform(k)) L.push(...this.sharedFor(s).map((x) => `  ${x}`));
    L.push(`  const ${W} N = ${this.arg(0)};`);
    L.push(...this.dimsDecl(r, '  '));
    const units = perElement ? 'N' : `(n${inner} > 0 ? N / n${inner} : 0)`;
    L.push(`  const ${W} units = ${units};`);
    L.push(`  for (${W} u = ${D.blockX}; u < units; u += ${D.gridDimX}) {`);
    if (perElement) L.push(...this.decode('u', r, dimVar, '    '));
    else if (r > 1) L.push(...this.decode('u', r, dimVar, '    ', r - 2));
    ir.stmts.forEach((s, k) => {
      if (uniform(k)) L.push(`    ${this.stmt(s, dimVar, 'block').split('\n').join('\n    ')}`);
    });
    if (perElement) {
      L.push(`    if (${D.threadX} == 0) b0[u] = ${this.toStorage(outD, res)};`);
    } else {
      L.push(`    for (${W} j = ${D.threadX}; j < n${inner}; j += ${D.blockDimX}) {`);
      ir.stmts.forEach((s, k) => {
        if (!uniform(k)) L.push(`      ${this.stmt(s, dimVar, 'serial').split('\n').join('\n      ')}`);
      });
      L.push(`      b0[u * n${inner} + j] = ${this.toStorage(outD, res)};`);
      L.push('    }');
    }
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }

  renderScan(name: string): string {
    const ir = this.ir;
    const D = this.D;
    const W = D.int64;
    const spec = ir.scan as NonNullable<KernelIR['scan']>;
    const r = ir.rank;
    const outD = ir.buffers[0];
    const fold: ReduceStmt = { k: 'reduce', id: -1, op: spec.op, dtype: outD, result: outD, loops: [], body: [], value: ir.result, usesDims: true };
    const dimVar = (d: number): string => (d === r - 1 ? 'j' : `i${d}`);
    const fin = this.toStorage(outD, this.reduceFinal(fold, 'acc'));
    const L: string[] = [...this.head(name, FLAT_THREADS)];
    L.push(`  const ${W} lines = ${this.arg(0)};`);
    L.push(...this.dimsDecl(r, '  '));
    L.push(`  for (${W} line = (${W})${D.blockX} * ${D.blockDimX} + ${D.threadX}; line < lines; line += (${W})${D.gridDimX} * ${D.blockDimX}) {`);
    if (r > 1) L.push(...this.decode('line', r, dimVar, '    ', r - 2));
    L.push(`    ${this.accType(fold)} acc = ${this.reduceInit(fold)};`);
    L.push(`    for (${W} j = 0; j < n${r - 1}; j++) {`);
    for (const s of ir.stmts) L.push(`      ${this.stmt(s, dimVar, 'serial').split('\n').join('\n      ')}`);
    const combine = `      acc = ${this.reduceCombine(fold, 'acc', `v${ir.result}`)};`;
    const store = `      b0[line * n${r - 1} + j] = ${fin};`;
    L.push(...(spec.inclusive ? [combine, store] : [store, combine]));
    L.push('    }');
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }

  fma(d: DType, x: string, y: string, acc: string): string {
    const c = gpuCls(d);
    if (c === 'f') return `${this.D.math('fma', 'f')}(${x}, ${y}, ${acc})`;
    if (c === 'd') return `${this.D.math('fma', 'd')}(${x}, ${y}, ${acc})`;
    const Wd = wideInt(d);
    return `(${this.ct(d)})((${Wd})${acc} + (${Wd})${x} * (${Wd})${y})`;
  }

  /**
   * A tiled matrix product: each block computes a BM×BN tile of one batch, each thread
   * TM×TN outputs; A and B tiles pass through shared memory BK deep. Operands are read
   * through their strides (transposes and broadcasts cost nothing), converted to the
   * compute type once per tile load; the epilogue runs per output element.
   */
  renderMatmul(name: string): string {
    const ir = this.ir;
    const D = this.D;
    const W = D.int64;
    const mm = ir.matmul as NonNullable<KernelIR['matmul']>;
    const d = mm.dtype;
    const CT = this.ct(d);
    const r = ir.rank;
    const br = mm.batchRank;
    const sA = mm.a.strides;
    const sB = mm.b.strides;
    const { BM, BN, BK, TM, TN, threads } = MM;
    const outD = ir.buffers[0];
    const dimVar = (k: number): string => (k === r - 2 ? 'i' : k === r - 1 ? 'j' : `bi${k}`);
    const L: string[] = [...this.head(name, threads)];
    L.push(`  ${D.shared(CT, 'As', BK * (BM + 4))}`);
    L.push(`  ${D.shared(CT, 'Bs', BK * (BN + 4))}`);
    const tile = gpuCls(d) === 'f' ? (D.matmulTile?.({ ct: CT, ...MM }) ?? null) : null;
    if (tile) L.push(...tile.declare.map((x) => `  ${x}`));
    L.push(`  const ${W} M = ${this.arg(mm.m)}, N = ${this.arg(mm.n)}, K = ${this.arg(mm.k)};`);
    L.push(`  const ${W} sAi = ${this.arg(sA[br])}, sAk = ${this.arg(sA[br + 1])}, sBk = ${this.arg(sB[br])}, sBj = ${this.arg(sB[br + 1])};`);
    L.push(`  const ${W} bflat = ${D.blockZ};`);
    L.push(`  ${W} oA = ${this.arg(mm.a.offset)}, oB = ${this.arg(mm.b.offset)};`);
    if (br > 0) {
      L.push(`  ${W} bt = bflat;`);
      for (let k = br - 1; k >= 0; k--) {
        L.push(`  const ${W} bi${k} = bt % ${this.arg(mm.batchDims[k])}; bt /= ${this.arg(mm.batchDims[k])};`);
        L.push(`  oA += bi${k} * ${this.arg(sA[k])}; oB += bi${k} * ${this.arg(sB[k])};`);
      }
    }
    L.push(`  const ${W} row0 = (${W})${D.blockY} * ${BM}, col0 = (${W})${D.blockX} * ${BN};`);
    L.push(`  const unsigned tid = ${D.threadX};`);
    L.push(`  const unsigned tr = tid / ${BN / TN}, tc = tid % ${BN / TN};`);
    L.push(`  ${CT} acc[${TM}][${TN}];`);
    L.push(`  ${D.unroll} for (int ii = 0; ii < ${TM}; ii++) { ${D.unroll} for (int jj = 0; jj < ${TN}; jj++) acc[ii][jj] = 0; }`);
    L.push(`  for (${W} k0 = 0; k0 < K; k0 += ${BK}) {`);
    // Each thread loads (BM*BK)/threads elements of A and (BK*BN)/threads of B.
    L.push(`    for (unsigned q = tid; q < ${BM * BK}; q += ${threads}) {`);
    L.push(`      const unsigned ri = q / ${BK}, kk = q % ${BK};`);
    L.push(`      const ${W} gi = row0 + ri, gk = k0 + kk;`);
    L.push(`      As[kk * ${BM + 4} + ri] = (gi < M && gk < K) ? (${CT})${this.fromStorage(d, `b${mm.a.buf}[oA + gi * sAi + gk * sAk]`)} : (${CT})0;`);
    L.push('    }');
    L.push(`    for (unsigned q = tid; q < ${BK * BN}; q += ${threads}) {`);
    L.push(`      const unsigned kk = q / ${BN}, cj = q % ${BN};`);
    L.push(`      const ${W} gk = k0 + kk, gj = col0 + cj;`);
    L.push(`      Bs[kk * ${BN + 4} + cj] = (gk < K && gj < N) ? (${CT})${this.fromStorage(d, `b${mm.b.buf}[oB + gk * sBk + gj * sBj]`)} : (${CT})0;`);
    L.push('    }');
    L.push(`    ${D.barrier}`);
    if (tile) {
      L.push(...tile.step.map((x) => `    ${x}`));
    } else {
      L.push(`    ${D.unroll} for (int kk = 0; kk < ${BK}; kk++) {`);
      L.push(`      ${CT} av[${TM}], bv[${TN}];`);
      L.push(`      ${D.unroll} for (int ii = 0; ii < ${TM}; ii++) av[ii] = As[kk * ${BM + 4} + tr * ${TM} + ii];`);
      L.push(`      ${D.unroll} for (int jj = 0; jj < ${TN}; jj++) bv[jj] = Bs[kk * ${BN + 4} + tc + jj * ${BN / TN}];`);
      L.push(
        `      ${D.unroll} for (int ii = 0; ii < ${TM}; ii++) { ${D.unroll} for (int jj = 0; jj < ${TN}; jj++) acc[ii][jj] = ${this.fma(d, 'av[ii]', 'bv[jj]', 'acc[ii][jj]')}; }`,
      );
      L.push('    }');
    }
    L.push(`    ${D.barrier}`);
    L.push('  }');
    if (tile) L.push(...tile.finish.map((x) => `  ${x}`));
    L.push(`  ${D.unroll} for (int ii = 0; ii < ${TM}; ii++) {`);
    L.push(`    const ${W} i = row0 + tr * ${TM} + ii;`);
    L.push('    if (i >= M) continue;');
    L.push(`    ${D.unroll} for (int jj = 0; jj < ${TN}; jj++) {`);
    L.push(`      const ${W} j = col0 + tc + jj * ${BN / TN};`);
    L.push('      if (j >= N) continue;');
    for (const s of ir.stmts) L.push(`      ${this.stmt(s, dimVar, 'serial').split('\n').join('\n      ')}`);
    L.push(`      b0[bflat * M * N + i * N + j] = ${this.toStorage(outD, `v${ir.result}`)};`);
    L.push('    }');
    L.push('  }');
    L.push('}');
    return L.join('\n');
  }
}

/** True if the load's index is idx0 + j along the inner dim with every other term row-invariant. */
function isUnitInner(ix: IndexExpr, inner: number, ir: KernelIR): boolean {
  let unit = false;
  for (const t of ix.terms) {
    if ('dim' in t.v) {
      if (t.v.dim === inner) {
        if (t.coef !== 'unit' || unit) return false;
        unit = true;
      }
    } else if ('rvar' in t.v) {
      const id = t.v.rvar;
      const k = ir.stmts.findIndex((s) => s.k === 'rvar' && s.id === id);
      if (k < 0 || ir.inner[k]) return false;
    } else return false;
  }
  return unit;
}

/** Elements per thread of a flat kernel: as many as fit 16 bytes of the widest buffer (1..8). */
function flatVector(ir: KernelIR): number {
  const widest = Math.max(...ir.buffers.map((d) => DTYPES[d].bytes));
  return Math.max(1, Math.min(8, Math.floor(16 / widest)));
}

/**
 * Whether a reduce reads its reduced axis with unit stride (so a block can sweep it
 * coalesced); a reduce that walks the output's inner dim contiguously instead (a column
 * sum) is better done one thread per output.
 */
function contiguousReduce(s: ReduceStmt, inner: number): boolean {
  if (s.loops.length === 0) return false;
  const last = s.loops[s.loops.length - 1].loop;
  const loads = s.body.filter((b) => b.k === 'load');
  const unitLoop = loads.some((b) => b.k === 'load' && b.index.terms.some((t) => 'loop' in t.v && t.v.loop === last && t.coef === 'unit'));
  const unitInner = loads.some((b) => b.k === 'load' && b.index.terms.some((t) => 'dim' in t.v && t.v.dim === inner && t.coef === 'unit'));
  return unitLoop || !unitInner;
}

/** How a kernel maps onto threads; a function of the IR only, so it is fixed per source. */
export function gpuStrategy(ir: KernelIR): GpuStrategy {
  if (ir.kind === 'matmul') return 'matmul';
  if (ir.kind === 'scan') return 'scan';
  const inner = ir.rank - 1;
  const reduces = ir.stmts.map((s, k) => ({ s, k })).filter((x): x is { s: ReduceStmt; k: number } => x.s.k === 'reduce');
  if (reduces.length === 0) return 'flat';
  if (ir.kind === 'reduce') {
    const root = reduces.find((x) => x.s.id === ir.result) ?? reduces[reduces.length - 1];
    return contiguousReduce(root.s, inner) ? 'element' : 'flat';
  }
  // An elementwise kernel with reductions constant along its rows: one block per row.
  return reduces.some((x) => !ir.inner[x.k]) ? 'rows' : 'flat';
}

/** Renders one kernel of `ir` in `dialect` as a function called `name`. */
export function renderGpuKernel(dialect: GpuDialect, ir: KernelIR, name: string): string {
  const R = new GpuRenderer(dialect, ir);
  switch (gpuStrategy(ir)) {
    case 'matmul':
      return R.renderMatmul(name);
    case 'scan':
      return R.renderScan(name);
    case 'rows':
      return R.renderBlocks(name, false);
    case 'element':
      return R.renderBlocks(name, true);
    default:
      return R.renderFlat(name);
  }
}

function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/**
 * Grid, block and shared bytes of one launch of `ir`, from its bound args (`args[0]` is
 * the work count, `args[2..]` the output dims). Grid-stride kernels cap their grid at
 * MAX_BLOCKS and loop. A launch with no work gets a grid of 0 (the runtime skips it).
 */
export function gpuLaunch(ir: KernelIR, args: readonly number[]): GpuLaunch {
  const work = args[0];
  switch (gpuStrategy(ir)) {
    case 'matmul': {
      const mm = ir.matmul as NonNullable<KernelIR['matmul']>;
      const batch = mm.batchDims.reduce((p, s) => p * args[s], 1);
      const M = args[mm.m];
      const N = args[mm.n];
      const empty = M === 0 || N === 0 || batch === 0;
      return { grid: empty ? [0, 0, 0] : [ceilDiv(N, MM.BN), ceilDiv(M, MM.BM), batch], block: [MM.threads, 1, 1], sharedBytes: 0 };
    }
    case 'scan':
      return { grid: [Math.min(MAX_BLOCKS, ceilDiv(work, FLAT_THREADS)), 1, 1], block: [FLAT_THREADS, 1, 1], sharedBytes: 0 };
    case 'rows': {
      const inner = args[2 + ir.rank - 1];
      const rows = inner > 0 ? work / inner : 0;
      return { grid: [Math.min(MAX_BLOCKS, rows), 1, 1], block: [BLOCK_THREADS, 1, 1], sharedBytes: 0 };
    }
    case 'element':
      return { grid: [Math.min(MAX_BLOCKS, work), 1, 1], block: [BLOCK_THREADS, 1, 1], sharedBytes: 0 };
    default: {
      const V = flatVector(ir);
      return { grid: [Math.min(MAX_BLOCKS, ceilDiv(work, FLAT_THREADS * V)), 1, 1], block: [FLAT_THREADS, 1, 1], sharedBytes: 0 };
    }
  }
}

const INT_DTYPES: DType[] = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];

/**
 * The per-integer-dtype helpers (float→int conversion with saturation, shifts, floor
 * division, remainder, power) with C semantics, each function declared with `qual`
 * (e.g. `__device__ __forceinline__` or `inline`).
 */
export function gpuIntHelpers(qual: string, computeType: Readonly<Record<DType, string | null>>, wideFloat: string): string {
  const lines: string[] = [];
  for (const d of INT_DTYPES) {
    const T = computeType[d];
    if (T === null) continue;
    const W = wideInt(d);
    const info = DTYPES[d];
    const signed = info.kind === 'int';
    const bits = info.bits;
    const min = signed ? `((${T})((${W})1 << ${bits - 1}))` : '0';
    const max = signed ? `((${T})(((${W})1 << ${bits - 1}) - 1))` : `((${T})~(${T})0)`;
    const maxPlusOne = signed ? `${2 ** (bits - 1)}.0` : `${2 ** bits}.0`;
    const minD = signed ? `-${2 ** (bits - 1)}.0` : '0.0';
    lines.push(
      `${qual} ${T} ma_f2i_${d}(${wideFloat} x) { return x != x ? (${T})0 : x <= ${minD} ? ${min} : x >= ${maxPlusOne} ? ${max} : (${T})x; }`,
      `${qual} ${T} ma_shl_${d}(${T} x, ${T} s) { return (s < 0 || s >= ${bits}) ? (${T})0 : (${T})((${W})x << s); }`,
    );
    if (signed) {
      lines.push(
        `${qual} ${T} ma_shr_${d}(${T} x, ${T} s) { return (s < 0 || s >= ${bits}) ? (x < 0 ? (${T})-1 : (${T})0) : (${T})(x >> s); }`,
        `${qual} ${T} ma_floordiv_${d}(${T} x, ${T} y) { if (y == 0) return 0; if (x == ${min} && y == -1) return x; ${T} q = (${T})(x / y); if ((x % y != 0) && ((x < 0) != (y < 0))) q--; return q; }`,
        `${qual} ${T} ma_rem_${d}(${T} x, ${T} y) { if (y == 0 || y == -1) return 0; ${T} r = (${T})(x % y); if (r != 0 && ((r < 0) != (y < 0))) r = (${T})(r + y); return r; }`,
        `${qual} ${T} ma_pow_${d}(${T} x, ${T} y) { if (y < 0) return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0; ${W} r = 1, b = (${W})x; while (y) { if (y & 1) r *= b; b *= b; y >>= 1; } return (${T})r; }`,
      );
    } else {
      lines.push(
        `${qual} ${T} ma_shr_${d}(${T} x, ${T} s) { return (s >= ${bits}) ? (${T})0 : (${T})(x >> s); }`,
        `${qual} ${T} ma_floordiv_${d}(${T} x, ${T} y) { return y == 0 ? (${T})0 : (${T})(x / y); }`,
        `${qual} ${T} ma_rem_${d}(${T} x, ${T} y) { return y == 0 ? (${T})0 : (${T})(x % y); }`,
        `${qual} ${T} ma_pow_${d}(${T} x, ${T} y) { ${W} r = 1, b = x; while (y) { if (y & 1) r *= b; b *= b; y >>= 1; } return (${T})r; }`,
      );
    }
  }
  return lines.join('\n');
}
