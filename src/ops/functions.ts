/**
 * The elementwise ops as functions: `ma.add(a, b)`, `ma.exp(x)`. Each accepts
 * MetalArrays or JS numbers; see docs/semantics.md for dtypes and edge cases.
 */
import type { MetalArray } from '../array/array.js';
import { binary, unary } from './elementwise.js';
import type { ArrayLike } from './operand.js';

/** Elementwise `-x` (integers wrap). */
export const negative = (x: ArrayLike): MetalArray => unary('negative', x);

/** Elementwise absolute value (`abs(INT_MIN)` wraps to INT_MIN). */
export const abs = (x: ArrayLike): MetalArray => unary('abs', x);

/** Elementwise sign: -1, 0 or 1 (NaN stays NaN). */
export const sign = (x: ArrayLike): MetalArray => unary('sign', x);

/** Elementwise `x * x`. */
export const square = (x: ArrayLike): MetalArray => unary('square', x);

/** Elementwise square root. */
export const sqrt = (x: ArrayLike): MetalArray => unary('sqrt', x);

/** Elementwise `1 / sqrt(x)`. */
export const rsqrt = (x: ArrayLike): MetalArray => unary('rsqrt', x);

/** Elementwise `1 / x`. */
export const reciprocal = (x: ArrayLike): MetalArray => unary('reciprocal', x);

/** Elementwise `e^x`. */
export const exp = (x: ArrayLike): MetalArray => unary('exp', x);

/** Elementwise `2^x`. */
export const exp2 = (x: ArrayLike): MetalArray => unary('exp2', x);

/** Elementwise `e^x - 1`, accurate near 0. */
export const expm1 = (x: ArrayLike): MetalArray => unary('expm1', x);

/** Elementwise natural logarithm. */
export const log = (x: ArrayLike): MetalArray => unary('log', x);

/** Elementwise base-2 logarithm. */
export const log2 = (x: ArrayLike): MetalArray => unary('log2', x);

/** Elementwise base-10 logarithm. */
export const log10 = (x: ArrayLike): MetalArray => unary('log10', x);

/** Elementwise `log(1 + x)`, accurate near 0. */
export const log1p = (x: ArrayLike): MetalArray => unary('log1p', x);

/** Elementwise sine. */
export const sin = (x: ArrayLike): MetalArray => unary('sin', x);

/** Elementwise cosine. */
export const cos = (x: ArrayLike): MetalArray => unary('cos', x);

/** Elementwise tangent. */
export const tan = (x: ArrayLike): MetalArray => unary('tan', x);

/** Elementwise inverse sine. */
export const arcsin = (x: ArrayLike): MetalArray => unary('arcsin', x);

/** Elementwise inverse cosine. */
export const arccos = (x: ArrayLike): MetalArray => unary('arccos', x);

/** Elementwise inverse tangent. */
export const arctan = (x: ArrayLike): MetalArray => unary('arctan', x);

/** Elementwise hyperbolic sine. */
export const sinh = (x: ArrayLike): MetalArray => unary('sinh', x);

/** Elementwise hyperbolic cosine. */
export const cosh = (x: ArrayLike): MetalArray => unary('cosh', x);

/** Elementwise hyperbolic tangent. */
export const tanh = (x: ArrayLike): MetalArray => unary('tanh', x);

/** Elementwise inverse hyperbolic sine. */
export const arcsinh = (x: ArrayLike): MetalArray => unary('arcsinh', x);

/** Elementwise inverse hyperbolic cosine. */
export const arccosh = (x: ArrayLike): MetalArray => unary('arccosh', x);

/** Elementwise inverse hyperbolic tangent. */
export const arctanh = (x: ArrayLike): MetalArray => unary('arctanh', x);

/** Elementwise error function. */
export const erf = (x: ArrayLike): MetalArray => unary('erf', x);

/** Elementwise inverse error function. */
export const erfinv = (x: ArrayLike): MetalArray => unary('erfinv', x);

/** Elementwise logistic sigmoid `1 / (1 + e^-x)`. */
export const sigmoid = (x: ArrayLike): MetalArray => unary('sigmoid', x);

/** Elementwise `max(x, 0)` (NaN propagates). */
export const relu = (x: ArrayLike): MetalArray => unary('relu', x);

/** Elementwise GELU, exact form `0.5 x (1 + erf(x / sqrt 2))`. */
export const gelu = (x: ArrayLike): MetalArray => unary('gelu', x);

/** Elementwise SiLU `x * sigmoid(x)`. */
export const silu = (x: ArrayLike): MetalArray => unary('silu', x);

/** Elementwise floor. */
export const floor = (x: ArrayLike): MetalArray => unary('floor', x);

/** Elementwise ceiling. */
export const ceil = (x: ArrayLike): MetalArray => unary('ceil', x);

/** Elementwise rounding, half to even. */
export const round = (x: ArrayLike): MetalArray => unary('round', x);

/** Elementwise rounding toward zero. */
export const trunc = (x: ArrayLike): MetalArray => unary('trunc', x);

/** Elementwise NaN test (bool). */
export const isnan = (x: ArrayLike): MetalArray => unary('isnan', x);

/** Elementwise ±Inf test (bool). */
export const isinf = (x: ArrayLike): MetalArray => unary('isinf', x);

/** Elementwise finiteness test (bool). */
export const isfinite = (x: ArrayLike): MetalArray => unary('isfinite', x);

/** Elementwise logical not (bool). */
export const logicalNot = (x: ArrayLike): MetalArray => unary('logicalNot', x);

/** Elementwise bitwise not (integers and bool). */
export const bitwiseNot = (x: ArrayLike): MetalArray => unary('bitwiseNot', x);

/** Elementwise `a + b` with broadcasting (integers wrap). */
export const add = (a: ArrayLike, b: ArrayLike): MetalArray => binary('add', a, b);

/** Elementwise `a - b`. */
export const subtract = (a: ArrayLike, b: ArrayLike): MetalArray => binary('subtract', a, b);

/** Elementwise `a * b`. */
export const multiply = (a: ArrayLike, b: ArrayLike): MetalArray => binary('multiply', a, b);

/** Elementwise true division (integers give float32). */
export const divide = (a: ArrayLike, b: ArrayLike): MetalArray => binary('divide', a, b);

/** Elementwise floor division (integer division by zero gives 0). */
export const floorDivide = (a: ArrayLike, b: ArrayLike): MetalArray => binary('floorDivide', a, b);

/** Elementwise remainder with the sign of the divisor (integer `x % 0` gives 0). */
export const remainder = (a: ArrayLike, b: ArrayLike): MetalArray => binary('remainder', a, b);

/** Elementwise `a ** b`. */
export const power = (a: ArrayLike, b: ArrayLike): MetalArray => binary('power', a, b);

/** Elementwise maximum (NaN propagates). */
export const maximum = (a: ArrayLike, b: ArrayLike): MetalArray => binary('maximum', a, b);

/** Elementwise minimum (NaN propagates). */
export const minimum = (a: ArrayLike, b: ArrayLike): MetalArray => binary('minimum', a, b);

/** Elementwise `atan2(a, b)`. */
export const arctan2 = (a: ArrayLike, b: ArrayLike): MetalArray => binary('arctan2', a, b);

/** Elementwise `log(e^a + e^b)`, without overflow. */
export const logaddexp = (a: ArrayLike, b: ArrayLike): MetalArray => binary('logaddexp', a, b);

/** Elementwise `a == b` (bool). */
export const equal = (a: ArrayLike, b: ArrayLike): MetalArray => binary('equal', a, b);

/** Elementwise `a != b` (bool). */
export const notEqual = (a: ArrayLike, b: ArrayLike): MetalArray => binary('notEqual', a, b);

/** Elementwise `a < b` (bool). */
export const less = (a: ArrayLike, b: ArrayLike): MetalArray => binary('less', a, b);

/** Elementwise `a <= b` (bool). */
export const lessEqual = (a: ArrayLike, b: ArrayLike): MetalArray => binary('lessEqual', a, b);

/** Elementwise `a > b` (bool). */
export const greater = (a: ArrayLike, b: ArrayLike): MetalArray => binary('greater', a, b);

/** Elementwise `a >= b` (bool). */
export const greaterEqual = (a: ArrayLike, b: ArrayLike): MetalArray => binary('greaterEqual', a, b);

/** Elementwise logical and (bool). */
export const logicalAnd = (a: ArrayLike, b: ArrayLike): MetalArray => binary('logicalAnd', a, b);

/** Elementwise logical or (bool). */
export const logicalOr = (a: ArrayLike, b: ArrayLike): MetalArray => binary('logicalOr', a, b);

/** Elementwise logical xor (bool). */
export const logicalXor = (a: ArrayLike, b: ArrayLike): MetalArray => binary('logicalXor', a, b);

/** Elementwise bitwise and. */
export const bitwiseAnd = (a: ArrayLike, b: ArrayLike): MetalArray => binary('bitwiseAnd', a, b);

/** Elementwise bitwise or. */
export const bitwiseOr = (a: ArrayLike, b: ArrayLike): MetalArray => binary('bitwiseOr', a, b);

/** Elementwise bitwise xor. */
export const bitwiseXor = (a: ArrayLike, b: ArrayLike): MetalArray => binary('bitwiseXor', a, b);

/** Elementwise `a << b` (shifts outside [0, bits) give 0). */
export const leftShift = (a: ArrayLike, b: ArrayLike): MetalArray => binary('leftShift', a, b);

/** Elementwise `a >> b`, arithmetic for signed types. */
export const rightShift = (a: ArrayLike, b: ArrayLike): MetalArray => binary('rightShift', a, b);
