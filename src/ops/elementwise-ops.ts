/**
 * The elementwise ops, one block each: the function (`ma.tanh(x)`, `ma.add(a, b)`), its
 * dtype rule and cost, and its expressions for the C-family renderers (`c` for the C
 * dialect, `gpu` for CUDA and MSL, `both` when they agree). Each block registers its
 * rows into the tables the lower layers own (src/core/op-table.ts,
 * src/codegen/op-expressions.ts), as JAX's primitives do; the lists at the end are
 * mapped types over the op vocabulary (src/core/vocabulary.ts), so `tsc` rejects an op
 * without a block. Each function accepts MetalArrays or JS numbers; see
 * docs/semantics.md for dtypes and edge cases, docs/adding-an-op.md to add one.
 */
import { MetalArray } from '../array/array.js';
import { array, type NestedArray } from '../array/creation.js';
import { checkArgCount } from '../core/arguments.js';
import { DTYPES } from '../core/dtype.js';
import type { BinaryOp, UnaryOp } from '../core/vocabulary.js';
import { ArgumentError, formatValue } from '../errors.js';
import type { DTypeRule } from '../core/op-table.js';
import {
  type BinaryFunction,
  binaryOp as registerBinary,
  CHEAP,
  DIV,
  defineInternalOp,
  type OpDefinition,
  TRANSCENDENTAL,
  type UnaryFunction,
  unaryOp as registerUnary,
} from './define-op.js';
import { astype, binary, where } from './elementwise.js';
import type { ArrayLike } from './operand.js';

/** What a derivative returns: one partial per input (a number for a constant). */
type Terms = readonly (MetalArray | number)[];

/** 1 where `mask` holds, else 0, in `like`'s dtype (relu's derivative). */
function indicator(mask: MetalArray, like: MetalArray): MetalArray {
  return astype(mask, like.dtype);
}

/**
 * The derivatives of maximum/minimum: 1 to the operand that wins, 0 to the other, and
 * ties split evenly (0.5 each), as JAX does.
 */
function tieSplit(aWins: MetalArray, bWins: MetalArray, like: MetalArray): MetalArray[] {
  const a = indicator(aWins, like);
  const b = indicator(bWins, like);
  const tie = multiply(subtract(subtract(1, a), b), 0.5);
  return [add(a, tie), add(b, tie)];
}

/**
 * `fn` with a check that it got at most `arity` arguments (`ma.exp(x, 2)` throws
 * ArgumentError instead of dropping the 2). A `function` reads `arguments.length`, which
 * costs no allocation on the hot path; `fn`'s own type is kept.
 */
function withArity<F extends (...args: never[]) => unknown>(name: string, arity: number, usage: string, fn: F): F {
  return function (this: unknown): unknown {
    const count = arguments.length;
    if (count > arity) checkArgCount(name, count, arity, usage);
    return fn.apply(this, arguments as unknown as Parameters<F>);
  } as F;
}

/** Registers a unary op block (src/ops/define-op.ts) and returns its function, arity-checked. */
function unaryOp<R extends DTypeRule>(name: UnaryOp, def: OpDefinition<R>): UnaryFunction<R> {
  return withArity(name, 1, `${name}(x)`, registerUnary(name, def));
}

/** Registers a binary op block and returns its function, arity-checked. */
function binaryOp<R extends DTypeRule>(name: BinaryOp, def: OpDefinition<R>): BinaryFunction<R> {
  return withArity(name, 2, `${name}(a, b)`, registerBinary(name, def));
}

defineInternalOp('copy', {
  arity: 1,
  rule: 'same',
  derivative: (): Terms => [1],
  cost: 0,
  both: { all: '$0' },
});

/**
 * Elementwise `-x` (integers wrap).
 *
 * @example
 * ```ts
 * console.log(ma.negative(ma.array([1, -2])).tolist()); // [ -1, 2 ]
 * ```
 */
export const negative = unaryOp('negative', {
  rule: 'same',
  derivative: (): Terms => [-1],
  cost: CHEAP,
  rejects: ['bool'],
  both: { int: '(T)((W)0 - (W)$0)', float: '(-$0)' },
});

/**
 * Elementwise absolute value (`abs(INT_MIN)` wraps to INT_MIN).
 *
 * @example
 * ```ts
 * console.log(ma.abs(ma.array([-2, 0, 3])).tolist()); // [ 2, 0, 3 ]
 * ```
 */
export const abs = unaryOp('abs', {
  rule: 'same',
  derivative: ([x]): Terms => [sign(x)],
  cost: CHEAP,
  rejects: ['bool'],
  c: { i: '($0 < 0 ? (T)((W)0 - (W)$0) : $0)', u: '$0', f: 'fabsf($0)', d: 'fabs($0)' },
  gpu: { i: '($0 < 0 ? (T)((W)0 - (W)$0) : $0)', u: '$0', float: '@fabs($0)' },
});

/**
 * Elementwise sign: -1, 0 or 1 (NaN stays NaN).
 *
 * @example
 * ```ts
 * console.log(ma.sign(ma.array([-3, 0, 2])).tolist()); // [ -1, 0, 1 ]
 * ```
 */
export const sign = unaryOp('sign', {
  rule: 'same',
  derivative: 'zero',
  cost: CHEAP,
  rejects: ['bool'],
  both: { u: '(T)($0 > 0)', all: '($0 > 0 ? (T)1 : ($0 < 0 ? (T)-1 : $0))' },
});

/**
 * Elementwise `x * x`.
 *
 * @example
 * ```ts
 * console.log(ma.square(ma.array([-3, 2])).tolist()); // [ 9, 4 ]
 * ```
 */
export const square = unaryOp('square', {
  rule: 'same',
  derivative: ([x]): Terms => [multiply(x, 2)],
  cost: CHEAP,
  both: { b: '$0', int: '(T)((W)$0 * (W)$0)', float: '($0 * $0)' },
});

/**
 * Elementwise `max(x, 0)` (NaN propagates).
 *
 * @example
 * ```ts
 * console.log(ma.relu(ma.array([-1, 0, 2], 'float32')).tolist()); // [ 0, 0, 2 ]
 * ```
 */
export const relu = unaryOp('relu', {
  rule: 'same',
  derivative: ([x]): Terms => [indicator(greater(x, 0), x)],
  cost: CHEAP,
  both: { i: '($0 > 0 ? $0 : (T)0)', u: '$0', b: '$0', float: '(($0 > 0 || $0 != $0) ? $0 : (T)0)' },
});

/**
 * Elementwise floor.
 *
 * @example
 * ```ts
 * console.log(ma.floor(ma.array([-1.5, 0.2, 2], 'float32')).tolist()); // [ -2, 0, 2 ]
 * ```
 */
export const floor = unaryOp('floor', {
  rule: 'same',
  derivative: 'zero',
  cost: CHEAP,
  c: { f: 'floorf($0)', d: 'floor($0)', all: '$0' },
  gpu: { float: '@floor($0)', all: '$0' },
});

/**
 * Elementwise ceiling.
 *
 * @example
 * ```ts
 * console.log(ma.ceil(ma.array([-1.5, 0.2, 2], 'float32')).tolist()); // [ -1, 1, 2 ]
 * ```
 */
export const ceil = unaryOp('ceil', {
  rule: 'same',
  derivative: 'zero',
  cost: CHEAP,
  c: { f: 'ceilf($0)', d: 'ceil($0)', all: '$0' },
  gpu: { float: '@ceil($0)', all: '$0' },
});

/** Elementwise rounding to an integer, half to even (the op behind `round`). */
const roundToInteger = registerUnary('round', {
  rule: 'same',
  derivative: 'zero',
  cost: CHEAP,
  c: { f: 'rintf($0)', d: 'rint($0)', all: '$0' },
  gpu: { float: '@rint($0)', all: '$0' },
});

/** Integers rounded to a multiple of `unit` (a power of ten), half to even, exactly (in int64, uint64 for uint64). */
function roundIntegerTo(x: MetalArray, unit: number): MetalArray {
  const wide = x.dtype === 'uint64' ? x : astype(x, 'int64');
  // |x| < 2^64 < unit / 2 past 10^19: everything rounds to 0 (the half case cannot happen).
  if (unit > 1e19) return astype(binary('multiply', wide, 0), x.dtype);
  const q = BigInt(unit);
  const rest = binary('remainder', wide, q); // in [0, unit): the sign of the divisor
  const down = binary('subtract', wide, rest);
  const twice = binary('multiply', rest, 2n);
  const oddMultiple = binary('equal', binary('bitwiseAnd', binary('floorDivide', down, q), 1n), 1n);
  const up = binary('logicalOr', binary('greater', twice, q), binary('logicalAnd', binary('equal', twice, q), oddMultiple));
  return astype(where(up, binary('add', down, q), down), x.dtype);
}

/**
 * Elementwise rounding to `decimals` decimal places (default 0), half to even, as
 * NumPy's `round`: a negative `decimals` rounds to tens, hundreds... Floats are scaled
 * by 10^decimals, rounded and scaled back in their own dtype (NumPy's method, so
 * `round(2.675, 2)` is 2.67 or 2.68 as the scaled float falls); integers are unchanged
 * for `decimals >= 0` and rounded exactly otherwise (`round(ma.array([15, 25]), -1)` is
 * [20, 20]). The dtype is kept.
 *
 * @example
 * ```ts
 * console.log(ma.round(ma.array([0.5, 1.5, 2.5])).tolist()); // [ 0, 2, 2 ]
 * console.log(ma.round(ma.array([1.2345, -0.125]), 2).toString()); // array([ 1.23, -0.12])
 * console.log(ma.round(ma.array([15, 25, 1234]), -1).tolist()); // [ 20, 20, 1230 ]
 * ```
 */
export function round(x: ArrayLike, decimals = 0): MetalArray {
  const count = arguments.length;
  if (count > 2) checkArgCount('round', count, 2, 'round(x, decimals)');
  if (decimals === 0) return roundToInteger(x);
  if (!Number.isSafeInteger(decimals)) throw new ArgumentError(`round: decimals must be an integer, got ${formatValue(decimals)}`);
  const a = x instanceof MetalArray ? x : array(x as NestedArray); // a JS number: int32 if whole, else float32
  const kind = DTYPES[a.dtype].kind;
  if (kind === 'bool') return roundToInteger(a); // the op's own error or result for bool
  if (kind !== 'float') return decimals > 0 ? a : roundIntegerTo(a, 10 ** -decimals);
  const scale = 10 ** Math.abs(decimals);
  return decimals > 0
    ? binary('divide', roundToInteger(binary('multiply', a, scale)), scale)
    : binary('multiply', roundToInteger(binary('divide', a, scale)), scale);
}

/**
 * Elementwise rounding toward zero.
 *
 * @example
 * ```ts
 * console.log(ma.trunc(ma.array([-1.7, 1.7], 'float32')).tolist()); // [ -1, 1 ]
 * ```
 */
export const trunc = unaryOp('trunc', {
  rule: 'same',
  derivative: 'zero',
  cost: CHEAP,
  c: { f: 'truncf($0)', d: 'trunc($0)', all: '$0' },
  gpu: { float: '@trunc($0)', all: '$0' },
});

/**
 * Elementwise square root.
 *
 * @example
 * ```ts
 * console.log(ma.sqrt(ma.array([1, 4, 9], 'float32')).tolist()); // [ 1, 2, 3 ]
 * ```
 */
export const sqrt = unaryOp('sqrt', {
  rule: 'float',
  derivative: (_, out): Terms => [divide(0.5, out)],
  cost: DIV,
  c: { f: 'sqrtf($0)', d: 'sqrt($0)' },
  gpu: { float: '@sqrt($0)' },
});

/**
 * Elementwise `1 / sqrt(x)`.
 *
 * @example
 * ```ts
 * console.log(ma.rsqrt(ma.array([1, 4], 'float32')).tolist()); // [ 1, 0.5 ]
 * ```
 */
export const rsqrt = unaryOp('rsqrt', {
  rule: 'float',
  derivative: ([x], out): Terms => [multiply(divide(out, x), -0.5)],
  cost: DIV,
  c: { f: '(1.0f / sqrtf($0))', d: '(1.0 / sqrt($0))' },
  gpu: { f: '(1.0f / @sqrt($0))', d: '(1.0 / @sqrt($0))' },
});

/**
 * Elementwise `1 / x`.
 *
 * @example
 * ```ts
 * console.log(ma.reciprocal(ma.array([2, 4], 'float32')).tolist()); // [ 0.5, 0.25 ]
 * ```
 */
export const reciprocal = unaryOp('reciprocal', {
  rule: 'float',
  derivative: (_, out): Terms => [negative(square(out))],
  cost: DIV,
  both: { f: '(1.0f / $0)', d: '(1.0 / $0)' },
});

/**
 * Elementwise `e^x`.
 *
 * @example
 * ```ts
 * console.log(ma.exp(ma.array([0, 1], 'float32')).tolist()); // [ 1, 2.7182817459106445 ]
 * ```
 */
export const exp = unaryOp('exp', {
  rule: 'float',
  derivative: (_, out): Terms => [out],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_expf($0)', d: 'exp($0)' },
  gpu: { float: '@exp($0)' },
});

/**
 * Elementwise `2^x`.
 *
 * @example
 * ```ts
 * console.log(ma.exp2(ma.array([0, 3, -1], 'float32')).tolist()); // [ 1, 8, 0.5 ]
 * ```
 */
export const exp2 = unaryOp('exp2', {
  rule: 'float',
  derivative: (_, out): Terms => [multiply(out, Math.LN2)],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_exp2f($0)', d: 'exp2($0)' },
  gpu: { float: '@exp2($0)' },
});

/**
 * Elementwise `e^x - 1`, accurate near 0.
 *
 * @example
 * ```ts
 * console.log(ma.expm1(ma.array([0, 1e-6], 'float32')).tolist()); // [ 0, 0.0000010000004522225936 ]
 * ```
 */
export const expm1 = unaryOp('expm1', {
  rule: 'float',
  derivative: (_, out): Terms => [add(out, 1)],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_expm1f($0)', d: 'expm1($0)' },
  gpu: { float: '@expm1($0)' },
});

/**
 * Elementwise natural logarithm.
 *
 * @example
 * ```ts
 * console.log(ma.log(ma.array([1, Math.E], 'float32')).tolist()); // [ 0, 0.9999999403953552 ]
 * ```
 */
export const log = unaryOp('log', {
  rule: 'float',
  derivative: ([x]): Terms => [reciprocal(x)],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_logf($0)', d: 'log($0)' },
  gpu: { float: '@log($0)' },
});

/**
 * Elementwise base-2 logarithm.
 *
 * @example
 * ```ts
 * console.log(ma.log2(ma.array([1, 8], 'float32')).tolist()); // [ 0, 3 ]
 * ```
 */
export const log2 = unaryOp('log2', {
  rule: 'float',
  derivative: ([x]): Terms => [reciprocal(multiply(x, Math.LN2))],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_log2f($0)', d: 'log2($0)' },
  gpu: { float: '@log2($0)' },
});

/**
 * Elementwise base-10 logarithm.
 *
 * @example
 * ```ts
 * console.log(ma.log10(ma.array([1, 100], 'float32')).tolist()); // [ 0, 2 ]
 * ```
 */
export const log10 = unaryOp('log10', {
  rule: 'float',
  derivative: ([x]): Terms => [reciprocal(multiply(x, Math.LN10))],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_log10f($0)', d: 'log10($0)' },
  gpu: { f: '(float)%log10((double)$0)', d: '@log10($0)' },
});

/**
 * Elementwise `log(1 + x)`, accurate near 0.
 *
 * @example
 * ```ts
 * console.log(ma.log1p(ma.array([0, 1e-6], 'float32')).tolist()); // [ 0, 9.999995427278918e-7 ]
 * ```
 */
export const log1p = unaryOp('log1p', {
  rule: 'float',
  derivative: ([x]): Terms => [reciprocal(add(x, 1))],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_log1pf($0)', d: 'log1p($0)' },
  gpu: { float: '@log1p($0)' },
});

/**
 * Elementwise sine.
 *
 * @example
 * ```ts
 * console.log(ma.sin(ma.array([0, Math.PI / 2], 'float32')).tolist()); // [ 0, 1 ]
 * ```
 */
export const sin = unaryOp('sin', {
  rule: 'float',
  derivative: ([x]): Terms => [cos(x)],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_sinf($0)', d: 'sin($0)' },
  gpu: { float: '@sin($0)' },
});

/**
 * Elementwise cosine.
 *
 * @example
 * ```ts
 * console.log(ma.cos(ma.array([0, Math.PI], 'float32')).tolist()); // [ 1, -1 ]
 * ```
 */
export const cos = unaryOp('cos', {
  rule: 'float',
  derivative: ([x]): Terms => [negative(sin(x))],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_cosf($0)', d: 'cos($0)' },
  gpu: { float: '@cos($0)' },
});

/**
 * Elementwise tangent.
 *
 * @example
 * ```ts
 * console.log(ma.tan(ma.array([0, Math.PI / 4], 'float32')).tolist()); // [ 0, 1 ]
 * ```
 */
export const tan = unaryOp('tan', {
  rule: 'float',
  derivative: (_, out): Terms => [add(square(out), 1)],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_tanf($0)', d: 'tan($0)' },
  gpu: { f: '(float)%tan((double)$0)', d: '@tan($0)' },
});

/**
 * Elementwise inverse sine.
 *
 * @example
 * ```ts
 * console.log(ma.arcsin(ma.array([0, 1], 'float32')).tolist()); // [ 0, 1.5707963705062866 ]
 * ```
 */
export const arcsin = unaryOp('arcsin', {
  rule: 'float',
  derivative: ([x]): Terms => [rsqrt(subtract(1, square(x)))],
  cost: TRANSCENDENTAL,
  c: { f: 'asinf($0)', d: 'asin($0)' },
  gpu: { f: '(float)%asin((double)$0)', d: '@asin($0)' },
});

/**
 * Elementwise inverse cosine.
 *
 * @example
 * ```ts
 * console.log(ma.arccos(ma.array([1, 0, -1], 'float32')).tolist()); // [ 0, 1.5707963705062866, 3.1415927410125732 ]
 * ```
 */
export const arccos = unaryOp('arccos', {
  rule: 'float',
  derivative: ([x]): Terms => [negative(rsqrt(subtract(1, square(x))))],
  cost: TRANSCENDENTAL,
  c: { f: 'acosf($0)', d: 'acos($0)' },
  gpu: { f: '(float)%acos((double)$0)', d: '@acos($0)' },
});

/**
 * Elementwise inverse tangent.
 *
 * @example
 * ```ts
 * console.log(ma.arctan(ma.array([0, 1], 'float32')).tolist()); // [ 0, 0.7853981852531433 ]
 * ```
 */
export const arctan = unaryOp('arctan', {
  rule: 'float',
  derivative: ([x]): Terms => [reciprocal(add(square(x), 1))],
  cost: TRANSCENDENTAL,
  c: { f: 'atanf($0)', d: 'atan($0)' },
  gpu: { f: '(float)%atan((double)$0)', d: '@atan($0)' },
});

/**
 * Elementwise hyperbolic sine.
 *
 * @example
 * ```ts
 * console.log(ma.sinh(ma.array([0, 1], 'float32')).tolist()); // [ 0, 1.175201177597046 ]
 * ```
 */
export const sinh = unaryOp('sinh', {
  rule: 'float',
  derivative: ([x]): Terms => [cosh(x)],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_sinhf($0)', d: 'sinh($0)' },
  gpu: { f: '(float)%sinh((double)$0)', d: '@sinh($0)' },
});

/**
 * Elementwise hyperbolic cosine.
 *
 * @example
 * ```ts
 * console.log(ma.cosh(ma.array([0, 1], 'float32')).tolist()); // [ 1, 1.5430806875228882 ]
 * ```
 */
export const cosh = unaryOp('cosh', {
  rule: 'float',
  derivative: ([x]): Terms => [sinh(x)],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_coshf($0)', d: 'cosh($0)' },
  gpu: { f: '(float)%cosh((double)$0)', d: '@cosh($0)' },
});

/**
 * Elementwise hyperbolic tangent.
 *
 * @example
 * ```ts
 * console.log(ma.tanh(ma.array([0, 1], 'float32')).tolist()); // [ 0, 0.7615941762924194 ]
 * ```
 */
export const tanh = unaryOp('tanh', {
  rule: 'float',
  derivative: (_, out): Terms => [subtract(1, square(out))],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_tanhf($0)', d: 'tanh($0)' },
  gpu: { float: '@tanh($0)' },
});

/**
 * Elementwise inverse hyperbolic sine.
 *
 * @example
 * ```ts
 * console.log(ma.arcsinh(ma.array([0, 1], 'float32')).tolist()); // [ 0, 0.8813735842704773 ]
 * ```
 */
export const arcsinh = unaryOp('arcsinh', {
  rule: 'float',
  derivative: ([x]): Terms => [rsqrt(add(square(x), 1))],
  cost: TRANSCENDENTAL,
  c: { f: 'asinhf($0)', d: 'asinh($0)' },
  gpu: { f: '(float)%asinh((double)$0)', d: '@asinh($0)' },
});

/**
 * Elementwise inverse hyperbolic cosine.
 *
 * @example
 * ```ts
 * console.log(ma.arccosh(ma.array([1, 2], 'float32')).tolist()); // [ 0, 1.316957950592041 ]
 * ```
 */
export const arccosh = unaryOp('arccosh', {
  rule: 'float',
  derivative: ([x]): Terms => [rsqrt(subtract(square(x), 1))],
  cost: TRANSCENDENTAL,
  c: { f: 'acoshf($0)', d: 'acosh($0)' },
  gpu: { f: '(float)%acosh((double)$0)', d: '@acosh($0)' },
});

/**
 * Elementwise inverse hyperbolic tangent.
 *
 * @example
 * ```ts
 * console.log(ma.arctanh(ma.array([0, 0.5], 'float32')).tolist()); // [ 0, 0.5493061542510986 ]
 * ```
 */
export const arctanh = unaryOp('arctanh', {
  rule: 'float',
  derivative: ([x]): Terms => [reciprocal(subtract(1, square(x)))],
  cost: TRANSCENDENTAL,
  c: { f: 'atanhf($0)', d: 'atanh($0)' },
  gpu: { f: '(float)%atanh((double)$0)', d: '@atanh($0)' },
});

/**
 * Elementwise error function.
 *
 * @example
 * ```ts
 * console.log(ma.erf(ma.array([0, 1], 'float32')).tolist()); // [ 0, 0.8427007794380188 ]
 * ```
 */
export const erf = unaryOp('erf', {
  rule: 'float',
  derivative: ([x]): Terms => [multiply(exp(negative(square(x))), 2 / Math.sqrt(Math.PI))],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_erff($0)', d: 'erf($0)' },
  gpu: { float: '@erf($0)' },
});

/**
 * Elementwise inverse error function.
 *
 * @example
 * ```ts
 * console.log(ma.erfinv(ma.array([0, 0.5], 'float32')).tolist()); // [ 0, 0.4769362807273865 ]
 * ```
 */
export const erfinv = unaryOp('erfinv', {
  rule: 'float',
  derivative: (_, out): Terms => [multiply(exp(square(out)), Math.sqrt(Math.PI) / 2)],
  cost: TRANSCENDENTAL,
  both: { f: '(float)ma_erfinv((double)$0)', d: 'ma_erfinv($0)' },
});

// sigmoid, gelu and silu call prelude helpers, accurate in the tails (see the dialects'
// preludes): e^-x overflows for x < -88.7 in float while silu(-89) = -2e-37 is still
// normal, and 1 + erf(x/sqrt2) cancels for x < 0 (gelu(-5) was 4% off, gelu(-7) 0).

/**
 * Elementwise logistic sigmoid `1 / (1 + e^-x)`.
 *
 * @example
 * ```ts
 * console.log(ma.sigmoid(ma.array([0, 2], 'float32')).tolist()); // [ 0.5, 0.8807970881462097 ]
 * ```
 */
export const sigmoid = unaryOp('sigmoid', {
  rule: 'float',
  derivative: (_, out): Terms => [multiply(out, subtract(1, out))],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_sigmoidf($0)', d: 'ma_sigmoid_d($0)' },
  gpu: { f: 'ma_sigmoid_f($0)', d: 'ma_sigmoid_d($0)' },
});

/**
 * Elementwise GELU, exact form `0.5 x (1 + erf(x / sqrt 2))`.
 *
 * @example
 * ```ts
 * console.log(ma.gelu(ma.array([-1, 0, 1], 'float32')).tolist()); // [ -0.15865525603294373, 0, 0.8413447737693787 ]
 * ```
 */
export const gelu = unaryOp('gelu', {
  rule: 'float',
  derivative: ([x]): Terms => [
    add(multiply(add(erf(multiply(x, Math.SQRT1_2)), 1), 0.5), multiply(x, multiply(exp(multiply(square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI)))),
  ],
  cost: TRANSCENDENTAL,
  c: { f: 'ma_geluf($0)', d: 'ma_gelu_d($0)' },
  gpu: { f: 'ma_gelu_f($0)', d: 'ma_gelu_d($0)' },
});

/**
 * Elementwise SiLU `x * sigmoid(x)`.
 *
 * @example
 * ```ts
 * console.log(ma.silu(ma.array([0, 1], 'float32')).tolist()); // [ 0, 0.7310585975646973 ]
 * ```
 */
export const silu = unaryOp('silu', {
  rule: 'float',
  derivative: ([x]): Terms => {
    const s = sigmoid(x);
    return [multiply(s, add(multiply(x, subtract(1, s)), 1))];
  },
  cost: TRANSCENDENTAL,
  c: { f: 'ma_siluf($0)', d: 'ma_silu_d($0)' },
  gpu: { f: 'ma_silu_f($0)', d: 'ma_silu_d($0)' },
});

/**
 * Elementwise NaN test (bool).
 *
 * @example
 * ```ts
 * console.log(ma.isnan(ma.array([1, Infinity, NaN], 'float32')).tolist()); // [ false, false, true ]
 * ```
 */
export const isnan = unaryOp('isnan', {
  rule: 'predicate',
  derivative: 'zero',
  cost: CHEAP,
  both: { float: '(uint8_t)($0 != $0)', all: '(uint8_t)0' },
});

/**
 * Elementwise ±Inf test (bool).
 *
 * @example
 * ```ts
 * console.log(ma.isinf(ma.array([1, -Infinity, NaN], 'float32')).tolist()); // [ false, true, false ]
 * ```
 */
export const isinf = unaryOp('isinf', {
  rule: 'predicate',
  derivative: 'zero',
  cost: CHEAP,
  c: { f: '(uint8_t)(fabsf($0) == INFINITY)', d: '(uint8_t)(fabs($0) == INFINITY)', all: '(uint8_t)0' },
  gpu: { float: '(uint8_t)(@fabs($0) == INFINITY)', all: '(uint8_t)0' },
});

/**
 * Elementwise finiteness test (bool).
 *
 * @example
 * ```ts
 * console.log(ma.isfinite(ma.array([1, Infinity, NaN], 'float32')).tolist()); // [ true, false, false ]
 * ```
 */
export const isfinite = unaryOp('isfinite', {
  rule: 'predicate',
  derivative: 'zero',
  cost: CHEAP,
  both: { float: '(uint8_t)(($0 - $0) == 0)', all: '(uint8_t)1' },
});

/**
 * Elementwise logical not (bool).
 *
 * @example
 * ```ts
 * console.log(ma.logicalNot(ma.array([0, 2])).tolist()); // [ true, false ]
 * ```
 */
export const logicalNot = unaryOp('logicalNot', {
  rule: 'logical',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(uint8_t)!$0' },
});

/**
 * Elementwise bitwise not (integers and bool).
 *
 * @example
 * ```ts
 * console.log(ma.bitwiseNot(ma.array([0, 5])).tolist()); // [ -1, -6 ]
 * console.log(ma.bitwiseNot(ma.array([true, false])).tolist()); // [ false, true ]
 * ```
 */
export const bitwiseNot = unaryOp('bitwiseNot', {
  rule: 'bitwise',
  derivative: 'zero',
  cost: CHEAP,
  both: { b: '(uint8_t)!$0', int: '(T)~$0' },
});

/**
 * Elementwise `a + b` with broadcasting (integers wrap).
 *
 * @example
 * ```ts
 * console.log(ma.add(ma.array([1, 2]), ma.array([10, 20])).tolist()); // [ 11, 22 ]
 * console.log(ma.add(ma.array([1.5, 2], 'float32'), 1).toString()); // array([2.5, 3. ])
 * ```
 */
export const add = binaryOp('add', {
  rule: 'arith',
  derivative: (): Terms => [1, 1],
  cost: CHEAP,
  both: { b: '(uint8_t)($0 | $1)', int: '(T)((W)$0 + (W)$1)', float: '($0 + $1)' },
});

/**
 * Elementwise `a - b`.
 *
 * @example
 * ```ts
 * console.log(ma.subtract(ma.array([5, 7]), ma.array([1, 2])).tolist()); // [ 4, 5 ]
 * ```
 */
export const subtract = binaryOp('subtract', {
  rule: 'arithNoBool',
  derivative: (): Terms => [1, -1],
  cost: CHEAP,
  both: { int: '(T)((W)$0 - (W)$1)', float: '($0 - $1)' },
});

/**
 * Elementwise `a * b`.
 *
 * @example
 * ```ts
 * console.log(ma.multiply(ma.array([1, 2]), ma.array([3, 4])).tolist()); // [ 3, 8 ]
 * ```
 */
export const multiply = binaryOp('multiply', {
  rule: 'arith',
  derivative: ([a, b]): Terms => [b, a],
  cost: CHEAP,
  both: { b: '(uint8_t)($0 & $1)', int: '(T)((W)$0 * (W)$1)', float: '($0 * $1)' },
});

/**
 * Elementwise true division (integers give float32).
 *
 * @example
 * ```ts
 * console.log(ma.divide(ma.array([1, 3]), ma.array([2, 4])).tolist()); // [ 0.5, 0.75 ]
 * ```
 */
export const divide = binaryOp('divide', {
  rule: 'float',
  derivative: ([, b], out): Terms => [reciprocal(b), negative(divide(out, b))],
  cost: DIV,
  both: { float: '($0 / $1)' },
});

/**
 * Elementwise floor division (integer division by zero gives 0).
 *
 * @example
 * ```ts
 * console.log(ma.floorDivide(ma.array([7, -7]), ma.array([2, 2])).tolist()); // [ 3, -4 ]
 * ```
 */
export const floorDivide = binaryOp('floorDivide', {
  rule: 'intDiv',
  derivative: 'zero',
  cost: DIV,
  both: { int: 'ma_floordiv_N($0, $1)', f: '(float)ma_floordiv_d($0, $1)', d: 'ma_floordiv_d($0, $1)' },
});

/**
 * Elementwise remainder with the sign of the divisor (integer `x % 0` gives 0).
 *
 * @example
 * ```ts
 * console.log(ma.remainder(ma.array([7, -7]), ma.array([3, 3])).tolist()); // [ 1, 2 ]
 * ```
 */
export const remainder = binaryOp('remainder', {
  rule: 'intDiv',
  derivative: ([a, b]): Terms => [1, negative(floorDivide(a, b))],
  cost: DIV,
  both: { int: 'ma_rem_N($0, $1)', f: '(float)ma_rem_d($0, $1)', d: 'ma_rem_d($0, $1)' },
});

/**
 * Elementwise `a ** b`.
 *
 * @example
 * ```ts
 * console.log(ma.power(ma.array([2, 3]), ma.array([3, 2])).tolist()); // [ 8, 9 ]
 * console.log(ma.power(ma.array([4, 9], 'float32'), 0.5).tolist()); // [ 2, 3 ]
 * ```
 */
export const power = binaryOp('power', {
  rule: 'intDiv',
  derivative: ([a, b], out): Terms => [where(equal(b, 0), 0, multiply(b, power(a, subtract(b, 1)))), where(equal(a, 0), 0, multiply(log(a), out))],
  cost: TRANSCENDENTAL,
  c: { int: 'ma_pow_N($0, $1)', f: 'powf($0, $1)', d: 'pow($0, $1)' },
  gpu: { int: 'ma_pow_N($0, $1)', f: '(float)%pow((double)$0, (double)$1)', d: '@pow($0, $1)' },
});

// maximum and minimum: NaN-propagating; in C as mask blends, since GCC turns a ternary
// max feeding a ternary min (clip) into control flow it cannot vectorize under
// -fno-trapping-math.

/**
 * Elementwise maximum (NaN propagates).
 *
 * @example
 * ```ts
 * console.log(ma.maximum(ma.array([1, 5]), ma.array([3, 2])).tolist()); // [ 3, 5 ]
 * ```
 */
export const maximum = binaryOp('maximum', {
  rule: 'arith',
  derivative: ([a, b]): Terms => tieSplit(greater(a, b), greater(b, a), a),
  cost: CHEAP,
  c: { b: '(uint8_t)($0 | $1)', int: '($0 > $1 ? $0 : $1)', f: 'ma__self(($0 > $1) | ($0 != $0), $0, $1)', d: 'ma__seld(($0 > $1) | ($0 != $0), $0, $1)' },
  gpu: { b: '(uint8_t)($0 | $1)', int: '($0 > $1 ? $0 : $1)', float: '(($0 > $1 || $0 != $0) ? $0 : $1)' },
});

/**
 * Elementwise minimum (NaN propagates).
 *
 * @example
 * ```ts
 * console.log(ma.minimum(ma.array([1, 5]), ma.array([3, 2])).tolist()); // [ 1, 2 ]
 * ```
 */
export const minimum = binaryOp('minimum', {
  rule: 'arith',
  derivative: ([a, b]): Terms => tieSplit(less(a, b), less(b, a), a),
  cost: CHEAP,
  c: { b: '(uint8_t)($0 & $1)', int: '($0 < $1 ? $0 : $1)', f: 'ma__self(($0 < $1) | ($0 != $0), $0, $1)', d: 'ma__seld(($0 < $1) | ($0 != $0), $0, $1)' },
  gpu: { b: '(uint8_t)($0 & $1)', int: '($0 < $1 ? $0 : $1)', float: '(($0 < $1 || $0 != $0) ? $0 : $1)' },
});

/**
 * Elementwise `atan2(a, b)`.
 *
 * @example
 * ```ts
 * console.log(ma.arctan2(ma.array([1, 1, -1], 'float32'), ma.array([1, -1, -1], 'float32')).tolist()); // [ 0.7853981852531433, 2.356194496154785, -2.356194496154785 ]
 * ```
 */
export const arctan2 = binaryOp('arctan2', {
  rule: 'float',
  derivative: ([a, b]): Terms => {
    const r = add(square(a), square(b));
    return [divide(b, r), negative(divide(a, r))];
  },
  cost: TRANSCENDENTAL,
  c: { f: 'atan2f($0, $1)', d: 'atan2($0, $1)' },
  gpu: { f: '(float)%atan2((double)$0, (double)$1)', d: '@atan2($0, $1)' },
});

/**
 * Elementwise `log(e^a + e^b)`, without overflow.
 *
 * @example
 * ```ts
 * console.log(ma.logaddexp(ma.array([0, 100], 'float32'), ma.array([0, 100], 'float32')).tolist()); // [ 0.6931471824645996, 100.69314575195312 ]
 * ```
 */
export const logaddexp = binaryOp('logaddexp', {
  rule: 'float',
  derivative: ([a, b], out): Terms => [exp(subtract(a, out)), exp(subtract(b, out))],
  cost: TRANSCENDENTAL,
  both: { f: '(float)ma_logaddexp((double)$0, (double)$1)', d: 'ma_logaddexp($0, $1)' },
});

/**
 * Elementwise `a == b` (bool).
 *
 * @example
 * ```ts
 * console.log(ma.equal(ma.array([1, 2, 3]), ma.array([1, 0, 3])).tolist()); // [ true, false, true ]
 * ```
 */
export const equal = binaryOp('equal', {
  rule: 'compare',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(uint8_t)($0 == $1)' },
});

/**
 * Elementwise `a != b` (bool).
 *
 * @example
 * ```ts
 * console.log(ma.notEqual(ma.array([1, 2, 3]), ma.array([1, 0, 3])).tolist()); // [ false, true, false ]
 * ```
 */
export const notEqual = binaryOp('notEqual', {
  rule: 'compare',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(uint8_t)($0 != $1)' },
});

/**
 * Elementwise `a < b` (bool).
 *
 * @example
 * ```ts
 * console.log(ma.less(ma.array([1, 2, 3]), 2).tolist()); // [ true, false, false ]
 * ```
 */
export const less = binaryOp('less', {
  rule: 'compare',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(uint8_t)($0 < $1)' },
});

/**
 * Elementwise `a <= b` (bool).
 *
 * @example
 * ```ts
 * console.log(ma.lessEqual(ma.array([1, 2, 3]), 2).tolist()); // [ true, true, false ]
 * ```
 */
export const lessEqual = binaryOp('lessEqual', {
  rule: 'compare',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(uint8_t)($0 <= $1)' },
});

/**
 * Elementwise `a > b` (bool).
 *
 * @example
 * ```ts
 * console.log(ma.greater(ma.array([1, 2, 3]), 2).tolist()); // [ false, false, true ]
 * ```
 */
export const greater = binaryOp('greater', {
  rule: 'compare',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(uint8_t)($0 > $1)' },
});

/**
 * Elementwise `a >= b` (bool).
 *
 * @example
 * ```ts
 * console.log(ma.greaterEqual(ma.array([1, 2, 3]), 2).tolist()); // [ false, true, true ]
 * ```
 */
export const greaterEqual = binaryOp('greaterEqual', {
  rule: 'compare',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(uint8_t)($0 >= $1)' },
});

/**
 * Elementwise logical and (bool).
 *
 * @example
 * ```ts
 * console.log(ma.logicalAnd(ma.array([true, true, false]), ma.array([true, false, false])).tolist()); // [ true, false, false ]
 * ```
 */
export const logicalAnd = binaryOp('logicalAnd', {
  rule: 'logical',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(uint8_t)($0 & $1)' },
});

/**
 * Elementwise logical or (bool).
 *
 * @example
 * ```ts
 * console.log(ma.logicalOr(ma.array([true, true, false]), ma.array([true, false, false])).tolist()); // [ true, true, false ]
 * ```
 */
export const logicalOr = binaryOp('logicalOr', {
  rule: 'logical',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(uint8_t)($0 | $1)' },
});

/**
 * Elementwise logical xor (bool).
 *
 * @example
 * ```ts
 * console.log(ma.logicalXor(ma.array([true, true, false]), ma.array([true, false, false])).tolist()); // [ false, true, false ]
 * ```
 */
export const logicalXor = binaryOp('logicalXor', {
  rule: 'logical',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(uint8_t)($0 ^ $1)' },
});

/**
 * Elementwise bitwise and.
 *
 * @example
 * ```ts
 * console.log(ma.bitwiseAnd(ma.array([12, 10]), ma.array([10, 6])).tolist()); // [ 8, 2 ]
 * ```
 */
export const bitwiseAnd = binaryOp('bitwiseAnd', {
  rule: 'bitwise',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(T)($0 & $1)' },
});

/**
 * Elementwise bitwise or.
 *
 * @example
 * ```ts
 * console.log(ma.bitwiseOr(ma.array([12, 10]), ma.array([10, 6])).tolist()); // [ 14, 14 ]
 * ```
 */
export const bitwiseOr = binaryOp('bitwiseOr', {
  rule: 'bitwise',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(T)($0 | $1)' },
});

/**
 * Elementwise bitwise xor.
 *
 * @example
 * ```ts
 * console.log(ma.bitwiseXor(ma.array([12, 10]), ma.array([10, 6])).tolist()); // [ 6, 12 ]
 * ```
 */
export const bitwiseXor = binaryOp('bitwiseXor', {
  rule: 'bitwise',
  derivative: 'zero',
  cost: CHEAP,
  both: { all: '(T)($0 ^ $1)' },
});

/**
 * Elementwise `a << b` (shifts outside [0, bits) give 0).
 *
 * @example
 * ```ts
 * console.log(ma.leftShift(ma.array([1, 3]), ma.array([2, 4])).tolist()); // [ 4, 48 ]
 * ```
 */
export const leftShift = binaryOp('leftShift', {
  rule: 'shift',
  derivative: 'zero',
  cost: CHEAP,
  both: { int: 'ma_shl_N($0, $1)' },
});

/**
 * Elementwise `a >> b`, arithmetic for signed types.
 *
 * @example
 * ```ts
 * console.log(ma.rightShift(ma.array([16, -16]), ma.array([2, 2])).tolist()); // [ 4, -4 ]
 * ```
 */
export const rightShift = binaryOp('rightShift', {
  rule: 'shift',
  derivative: 'zero',
  cost: CHEAP,
  both: { int: 'ma_shr_N($0, $1)' },
});

// NumPy's math functions (issue 22 §3): cbrt, signbit, copysign, hypot, fmod.

/**
 * Elementwise cube root (negative inputs give negative roots; integers compute in float32).
 *
 * @example
 * ```ts
 * console.log(ma.cbrt(ma.array([8, -27, 2], 'float32')).tolist()); // [ 2, -3, 1.2599210739135742 ]
 * ```
 */
export const cbrt = unaryOp('cbrt', {
  rule: 'float',
  derivative: (_, out): Terms => [divide(1, multiply(3, square(out)))],
  cost: TRANSCENDENTAL,
  c: { f: 'cbrtf($0)', d: 'cbrt($0)' },
  gpu: { float: '@cbrt($0)' },
});

/**
 * Elementwise sign bit (bool): true for negative numbers, -0, -Inf and NaNs with the
 * sign bit set; false for unsigned integers and bool.
 *
 * @example
 * ```ts
 * console.log(ma.signbit(ma.array([-1, -0, 0, 2], 'float32')).tolist()); // [ true, true, false, false ]
 * ```
 */
export const signbit = unaryOp('signbit', {
  rule: 'predicate',
  derivative: 'zero',
  cost: CHEAP,
  // copysign, not C's signbit macro: every dialect (and TinyCC's headers) has it.
  c: { f: '(uint8_t)(copysignf(1.0f, $0) < 0.0f)', d: '(uint8_t)(copysign(1.0, $0) < 0.0)', i: '(uint8_t)($0 < 0)', all: '(uint8_t)0' },
  gpu: { f: '(uint8_t)(@copysign(1.0f, $0) < 0.0f)', d: '(uint8_t)(@copysign(1.0, $0) < 0.0)', i: '(uint8_t)($0 < 0)', all: '(uint8_t)0' },
});

/**
 * Elementwise `|a|` with the sign of `b` (its sign bit: -0 and negative NaNs count as negative).
 *
 * @example
 * ```ts
 * console.log(ma.copysign(ma.array([1, 2, -3], 'float32'), ma.array([-1, -0, 5], 'float32')).tolist()); // [ -1, -2, 3 ]
 * ```
 */
export const copysign = binaryOp('copysign', {
  rule: 'float',
  derivative: ([a, b]): Terms => [where(equal(signbit(a), signbit(b)), 1, -1), 0],
  cost: CHEAP,
  c: { f: 'copysignf($0, $1)', d: 'copysign($0, $1)' },
  gpu: { float: '@copysign($0, $1)' },
});

/**
 * Elementwise `sqrt(a² + b²)` without intermediate overflow or underflow (Inf when either is ±Inf, even with NaN).
 *
 * @example
 * ```ts
 * console.log(ma.hypot(ma.array([3, 1e300], 'float64'), ma.array([4, 1e300], 'float64')).tolist()); // [ 5, 1.4142135623730952e+300 ]
 * ```
 */
export const hypot = binaryOp('hypot', {
  rule: 'float',
  derivative: ([a, b], out): Terms => [where(equal(out, 0), 0, divide(a, out)), where(equal(out, 0), 0, divide(b, out))],
  cost: TRANSCENDENTAL,
  c: { f: 'hypotf($0, $1)', d: 'hypot($0, $1)' },
  gpu: { float: '@hypot($0, $1)' },
});

/**
 * Elementwise C remainder `a - trunc(a / b) * b`, with the sign of the dividend (NumPy's
 * `fmod`; `remainder` takes the divisor's sign). Exact for floats; integer `x fmod 0` gives 0.
 *
 * @example
 * ```ts
 * console.log(ma.fmod(ma.array([7, -7, 7]), ma.array([3, 3, -3])).tolist()); // [ 1, -1, 1 ]
 * console.log(ma.fmod(ma.array([5.5, -5.5], 'float32'), 2).tolist()); // [ 1.5, -1.5 ]
 * ```
 */
export const fmod = binaryOp('fmod', {
  rule: 'intDiv',
  derivative: ([a, b]): Terms => [1, negative(trunc(divide(a, b)))],
  cost: DIV,
  c: { i: '(($1 == 0 || $1 == -1) ? (T)0 : (T)($0 % $1))', u: '($1 == 0 ? (T)0 : (T)($0 % $1))', f: 'fmodf($0, $1)', d: 'fmod($0, $1)' },
  gpu: { i: '(($1 == 0 || $1 == -1) ? (T)0 : (T)($0 % $1))', u: '($1 == 0 ? (T)0 : (T)($0 % $1))', float: '@fmod($0, $1)' },
});

// The functions by op name, checked against mapped types over the vocabulary: tsc
// rejects an op of core/vocabulary.ts without a block here (or a block not in the
// vocabulary). The methods (a.tanh(), a.add(b)) are installed from the vocabulary by
// methods.ts.
const unaryFunctions = {
  negative,
  abs,
  sign,
  square,
  relu,
  floor,
  ceil,
  round,
  trunc,
  sqrt,
  rsqrt,
  reciprocal,
  exp,
  exp2,
  expm1,
  log,
  log2,
  log10,
  log1p,
  sin,
  cos,
  tan,
  arcsin,
  arccos,
  arctan,
  sinh,
  cosh,
  tanh,
  arcsinh,
  arccosh,
  arctanh,
  erf,
  erfinv,
  sigmoid,
  gelu,
  silu,
  isnan,
  isinf,
  isfinite,
  logicalNot,
  bitwiseNot,
  cbrt,
  signbit,
} satisfies { readonly [K in UnaryOp]: (x: ArrayLike) => MetalArray };

const binaryFunctions = {
  add,
  subtract,
  multiply,
  divide,
  floorDivide,
  remainder,
  power,
  maximum,
  minimum,
  arctan2,
  logaddexp,
  equal,
  notEqual,
  less,
  lessEqual,
  greater,
  greaterEqual,
  logicalAnd,
  logicalOr,
  logicalXor,
  bitwiseAnd,
  bitwiseOr,
  bitwiseXor,
  leftShift,
  rightShift,
  copysign,
  hypot,
  fmod,
} satisfies { readonly [K in BinaryOp]: (a: ArrayLike, b: ArrayLike) => MetalArray };

void unaryFunctions;
void binaryFunctions;
