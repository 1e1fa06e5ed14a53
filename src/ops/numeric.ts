/**
 * NumPy's comparison and math helpers built from the elementwise ops (issue 22 §3):
 * `isclose`, `allclose`, `arrayEqual`, `deg2rad`, `rad2deg`, `sinc`, `heaviside`,
 * `logaddexp2`, `ldexp`, `frexp`, `modf`, `nanToNum`. Each is a composition, so it fuses
 * like its parts and differentiates through them (no rules of its own). Integer inputs
 * compute in float32, as the library's `float` rule does (NumPy would use float64).
 */
import { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { scalarFor } from '../array/convert.js';
import { constNode } from '../core/build.js';
import { type DType, isFloat } from '../core/dtype.js';
import { promoteTypes } from '../core/promotion.js';
import { ArgumentError, formatValue } from '../errors.js';
import { astype, binary, unary, where } from './elementwise.js';
import { type ArrayLike, isScalar, nodeOf, operandNodes } from './operand.js';
import { reduceOp } from './reduce-core.js';

/** The operands as arrays (JS scalars take the dtype of the arrays around them). */
export function asArrays(op: string, xs: readonly ArrayLike[]): MetalArray[] {
  return operandNodes(op, xs).map((n) => MetalArray.fromNode(n));
}

/** The float dtype the operands compute in: their promoted dtype, float32 for integers and bool. */
export function floatDTypeOf(op: string, xs: readonly ArrayLike[]): DType {
  let d: DType | undefined;
  for (const x of xs) {
    if (isScalar(x)) continue;
    const xd = nodeOf(x as MetalArray, op).dtype; // a typed error for anything but an array
    d = d === undefined ? xd : promoteTypes(d, xd);
  }
  return d !== undefined && isFloat(d) ? d : 'float32';
}

/** The operands cast to their common float dtype. */
export function asFloats(op: string, xs: readonly ArrayLike[]): MetalArray[] {
  const d = floatDTypeOf(op, xs);
  return asArrays(op, xs).map((x) => (x.dtype === d ? x : astype(x, d)));
}

/** The largest finite value of a float dtype (nanToNum's default for +Inf). */
export function maxFinite(d: DType): number {
  switch (d) {
    case 'float16':
      return 65504;
    case 'bfloat16':
      return 3.3895313892515355e38;
    case 'float32':
      return 3.4028234663852886e38;
    default:
      return Number.MAX_VALUE;
  }
}

/** A 0-d constant of `dtype` on `like`'s backend (a weak JS scalar would take a default dtype). */
export function scalarLike(value: number | boolean, dtype: DType, like: MetalArray): MetalArray {
  return MetalArray.fromNode(constNode(scalarFor(value, dtype), [], dtype, like.backend));
}

function checkNumber(op: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number') throw new ArgumentError(`${op}: ${name} must be a number, got ${formatValue(v)}`);
  return v;
}

/** Options of `isclose`, `allclose` and `arrayEqual`. */
export interface CloseOptions {
  /** Relative tolerance (default 1e-5). */
  readonly rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  readonly atol?: number;
  /** Count NaN as equal to NaN (default false). */
  readonly equalNan?: boolean;
}

function iscloseOf(op: string, a: ArrayLike, b: ArrayLike, options: CloseOptions | undefined): MetalArray {
  const o = checkOptions(op, options, ['rtol', 'atol', 'equalNan']);
  const rtol = checkNumber(op, 'rtol', o.rtol, 1e-5);
  const atol = checkNumber(op, 'atol', o.atol, 1e-8);
  const [x, y] = asFloats(op, [a, b]);
  const within = binary('lessEqual', unary('abs', binary('subtract', x, y)), binary('add', atol, binary('multiply', rtol, unary('abs', y))));
  // Infinities are close only to themselves (their difference is NaN or Inf).
  const finite = binary('logicalAnd', unary('isfinite', x), unary('isfinite', y));
  const close = where(finite, within, binary('equal', x, y));
  if (o.equalNan !== true) return close;
  return binary('logicalOr', close, binary('logicalAnd', unary('isnan', x), unary('isnan', y)));
}

/**
 * Elementwise `|a - b| <= atol + rtol * |b|` (NumPy's `isclose`, not symmetric in a and
 * b); infinities are close only to an infinity of the same sign, NaN to nothing unless
 * `equalNan`. Broadcasts; returns bool.
 *
 * @example
 * ```ts
 * const a = ma.array([1, 1e10, NaN], 'float32');
 * const b = ma.array([1.000001, 1.0001e10, NaN], 'float32');
 * console.log(ma.isclose(a, b).tolist()); // [ true, false, false ]
 * console.log(ma.isclose(a, b, { rtol: 1e-3, equalNan: true }).tolist()); // [ true, true, true ]
 * ```
 */
export function isclose(a: ArrayLike, b: ArrayLike, options?: CloseOptions): MetalArray<'bool'> {
  checkArgCount('isclose', arguments.length, 3, 'isclose(a, b, { rtol, atol, equalNan })');
  return iscloseOf('isclose', a, b, options) as MetalArray<'bool'>;
}

/**
 * True (a 0-d bool array, lazy: read it with `.item()`) when every pair is `isclose`.
 * As MLX's `allclose`, it stays an array so it can be part of a larger graph.
 *
 * @example
 * ```ts
 * console.log(ma.allclose(ma.array([1, 2], 'float32'), ma.array([1, 2.000001], 'float32')).item()); // true
 * ```
 */
export function allclose(a: ArrayLike, b: ArrayLike, options?: CloseOptions): MetalArray<'bool'> {
  checkArgCount('allclose', arguments.length, 3, 'allclose(a, b, { rtol, atol, equalNan })');
  return reduceOp('all', iscloseOf('allclose', a, b, options), null, false, 'allclose') as MetalArray<'bool'>;
}

/**
 * True (a 0-d bool array) when `a` and `b` have the same shape and equal elements; NaN
 * equals NaN only with `{ equalNan: true }`. Arrays of different shapes give false
 * (no broadcasting, as NumPy's `array_equal`).
 *
 * @example
 * ```ts
 * console.log(ma.arrayEqual(ma.array([1, 2]), ma.array([1, 2])).item()); // true
 * console.log(ma.arrayEqual(ma.array([1, 2]), ma.array([[1, 2]])).item()); // false
 * ```
 */
export function arrayEqual(a: ArrayLike, b: ArrayLike, options?: { readonly equalNan?: boolean }): MetalArray<'bool'> {
  checkArgCount('arrayEqual', arguments.length, 3, 'arrayEqual(a, b, { equalNan })');
  const o = checkOptions('arrayEqual', options, ['equalNan']);
  const [x, y] = asArrays('arrayEqual', [a, b]);
  const sameShape = x.ndim === y.ndim && x.shape.every((d, k) => d === y.shape[k]);
  if (!sameShape) return scalarLike(false, 'bool', x) as MetalArray<'bool'>;
  let eq = binary('equal', x, y);
  if (o.equalNan === true && (isFloat(x.dtype) || isFloat(y.dtype))) {
    eq = binary('logicalOr', eq, binary('logicalAnd', unary('isnan', x), unary('isnan', y)));
  }
  return reduceOp('all', eq, null, false, 'arrayEqual') as MetalArray<'bool'>;
}

/**
 * Degrees to radians (`x * π / 180`); integers give float32.
 *
 * @example
 * ```ts
 * console.log(ma.deg2rad(ma.array([180], 'float64')).tolist()); // [ 3.141592653589793 ]
 * ```
 */
export function deg2rad(x: ArrayLike): MetalArray {
  checkArgCount('deg2rad', arguments.length, 1, 'deg2rad(x)');
  const [f] = asFloats('deg2rad', [x]);
  return binary('multiply', f, Math.PI / 180);
}

/**
 * Radians to degrees (`x * 180 / π`); integers give float32.
 *
 * @example
 * ```ts
 * console.log(ma.rad2deg(ma.array([Math.PI], 'float64')).tolist()); // [ 180 ]
 * ```
 */
export function rad2deg(x: ArrayLike): MetalArray {
  checkArgCount('rad2deg', arguments.length, 1, 'rad2deg(x)');
  const [f] = asFloats('rad2deg', [x]);
  return binary('multiply', f, 180 / Math.PI);
}

/**
 * The normalized sinc, `sin(πx) / (πx)`, 1 at 0 (with a finite gradient there).
 *
 * @example
 * ```ts
 * console.log(ma.sinc(ma.array([0, 0.5, 1], 'float64')).tolist()); // [ 1, 0.6366197723675814, 3.8981718325193755e-17 ]
 * ```
 */
export function sinc(x: ArrayLike): MetalArray {
  checkArgCount('sinc', arguments.length, 1, 'sinc(x)');
  const [f] = asFloats('sinc', [x]);
  const zero = binary('equal', f, 0);
  // The inner where keeps the unselected branch finite, so the gradient at 0 is not NaN.
  const px = binary('multiply', where(zero, 1, f), Math.PI);
  return where(zero, 1, binary('divide', unary('sin', px), px));
}

/**
 * The Heaviside step: 0 for `x < 0`, `h0` at `x == 0`, 1 for `x > 0`, NaN for NaN.
 *
 * @example
 * ```ts
 * console.log(ma.heaviside(ma.array([-1, 0, 2], 'float32'), 0.5).tolist()); // [ 0, 0.5, 1 ]
 * ```
 */
export function heaviside(x: ArrayLike, h0: ArrayLike): MetalArray {
  checkArgCount('heaviside', arguments.length, 2, 'heaviside(x, h0)');
  const [f, h] = asFloats('heaviside', [x, h0]);
  const step = where(binary('less', f, 0), 0, where(binary('greater', f, 0), 1, h));
  return where(unary('isnan', f), f, step);
}

/**
 * `log2(2^a + 2^b)` without overflow.
 *
 * @example
 * ```ts
 * console.log(ma.logaddexp2(ma.array([1, 1000], 'float64'), ma.array([1, 1000], 'float64')).tolist()); // [ 2, 1001 ]
 * ```
 */
export function logaddexp2(a: ArrayLike, b: ArrayLike): MetalArray {
  checkArgCount('logaddexp2', arguments.length, 2, 'logaddexp2(a, b)');
  const [x, y] = asFloats('logaddexp2', [a, b]);
  // NumPy's form: max + log2(1 + 2^-|x - y|), and x + 1 for equal inputs (equal infinities included).
  const spread = unary('exp2', unary('negative', unary('abs', binary('subtract', x, y))));
  const out = binary('add', binary('maximum', x, y), binary('multiply', unary('log1p', spread), Math.LOG2E));
  // At a tie, x/2 + y/2 + 1 is exact and splits the gradient evenly, as the smooth form does.
  const tie = binary('add', binary('add', binary('multiply', x, 0.5), binary('multiply', y, 0.5)), 1);
  return where(binary('equal', x, y), tie, out);
}

/**
 * `x * 2^e` (`e` integer). The power is applied in two halves, so a result in range is
 * exact even where `2^e` alone would overflow or underflow.
 *
 * @example
 * ```ts
 * console.log(ma.ldexp(ma.array([1, 3], 'float32'), ma.array([3, -1])).tolist()); // [ 8, 1.5 ]
 * ```
 */
export function ldexp(x: ArrayLike, e: ArrayLike): MetalArray {
  checkArgCount('ldexp', arguments.length, 2, 'ldexp(x, e)');
  const d = floatDTypeOf('ldexp', [x]);
  const [f] = asArrays('ldexp', [x]);
  const xf = f.dtype === d ? f : astype(f, d);
  const [ei] = asArrays('ldexp', [e]);
  const ef = astype(ei, d);
  const half = unary('trunc', binary('multiply', ef, 0.5));
  return binary('multiply', binary('multiply', xf, unary('exp2', half)), unary('exp2', binary('subtract', ef, half)));
}

/**
 * Splits `x` into mantissa and exponent, `x = m * 2^e` with `0.5 <= |m| < 1` (`m = x`,
 * `e = 0` for 0, ±Inf and NaN). The exponent is int32.
 *
 * @example
 * ```ts
 * const [m, e] = ma.frexp(ma.array([8, -0.75, 0], 'float32'));
 * console.log(m.tolist(), e.tolist()); // [ 0.5, -0.75, 0 ] [ 4, 0, 0 ]
 * ```
 */
export function frexp(x: ArrayLike): [MetalArray, MetalArray<'int32'>] {
  checkArgCount('frexp', arguments.length, 1, 'frexp(x)');
  const [f] = asFloats('frexp', [x]);
  const regular = binary('logicalAnd', unary('isfinite', f), binary('notEqual', f, 0));
  const safe = where(regular, f, 1);
  const e0 = binary('add', unary('floor', unary('log2', unary('abs', safe))), 1);
  // log2 can round across a power of two: scale in two halves (subnormals), then correct by one.
  const scale = (v: MetalArray, k: MetalArray): MetalArray => {
    const half = unary('trunc', binary('multiply', k, 0.5));
    return binary('multiply', binary('multiply', v, unary('exp2', unary('negative', half))), unary('exp2', binary('subtract', half, k)));
  };
  const m0 = scale(safe, e0);
  const high = binary('greaterEqual', unary('abs', m0), 1);
  const low = binary('less', unary('abs', m0), 0.5);
  const e1 = where(high, binary('add', e0, 1), where(low, binary('subtract', e0, 1), e0));
  const m1 = where(high, binary('multiply', m0, 0.5), where(low, binary('multiply', m0, 2), m0));
  return [where(regular, m1, f), astype(where(regular, e1, 0), 'int32')];
}

/**
 * The fractional and integral parts, both with the sign of `x` (`modf(-2.5)` is
 * `[-0.5, -2]`; ±Inf gives `[±0, ±Inf]`).
 *
 * @example
 * ```ts
 * const [frac, whole] = ma.modf(ma.array([3.25, -2.5], 'float32'));
 * console.log(frac.tolist(), whole.tolist()); // [ 0.25, -0.5 ] [ 3, -2 ]
 * ```
 */
export function modf(x: ArrayLike): [MetalArray, MetalArray] {
  checkArgCount('modf', arguments.length, 1, 'modf(x)');
  const [f] = asFloats('modf', [x]);
  const whole = unary('trunc', f);
  // x - trunc(x) is NaN for ±Inf; NumPy gives a zero with x's sign there.
  const frac = where(unary('isinf', f), binary('multiply', unary('sign', f), 0), binary('subtract', f, whole));
  return [frac, whole];
}

/** Options of `nanToNum`. */
export interface NanToNumOptions {
  /** The value for NaN (default 0). */
  readonly nan?: number;
  /** The value for +Inf (default: the dtype's largest finite value). */
  readonly posinf?: number;
  /** The value for -Inf (default: the dtype's most negative finite value). */
  readonly neginf?: number;
}

/**
 * NaN, +Inf and -Inf replaced by finite numbers (integer and bool arrays are returned as is).
 *
 * @example
 * ```ts
 * const x = ma.array([NaN, Infinity, -Infinity, 1], 'float32');
 * console.log(ma.nanToNum(x, { posinf: 9 }).tolist()); // [ 0, 9, -3.4028234663852886e+38, 1 ]
 * ```
 */
export function nanToNum(x: ArrayLike, options?: NanToNumOptions): MetalArray {
  checkArgCount('nanToNum', arguments.length, 2, 'nanToNum(x, { nan, posinf, neginf })');
  const o = checkOptions('nanToNum', options, ['nan', 'posinf', 'neginf']);
  const [a] = asArrays('nanToNum', [x]);
  if (!isFloat(a.dtype)) return a;
  const big = maxFinite(a.dtype);
  const nan = checkNumber('nanToNum', 'nan', o.nan, 0);
  const posinf = checkNumber('nanToNum', 'posinf', o.posinf, big);
  const neginf = checkNumber('nanToNum', 'neginf', o.neginf, -big);
  const inf = where(binary('greater', a, 0), scalarLike(posinf, a.dtype, a), scalarLike(neginf, a.dtype, a));
  return where(unary('isnan', a), nan, where(unary('isinf', a), inf, a));
}
