/**
 * Reference oracle: elementwise ops with NumPy broadcasting.
 *
 * Every op converts its operands to a computation dtype (dtypes.ts), computes each
 * element in float64 (floats) or exactly with bigints (integers; wrap-around by
 * BigInt.asIntN/asUintN), and rounds to the result dtype. For float16/bfloat16 the
 * inputs are exact float64 values, so one rounding of the float64 result is the
 * correctly rounded result, which is also what "compute in float32, round to the
 * dtype" gives for + - * / sqrt (the tolerance table covers the transcendentals).
 */
import {
  BINARY_OPS,
  type BinaryOp,
  binaryDTypes,
  COMPARISON_OPS,
  type DType,
  DTYPES,
  DTypeError,
  LOGICAL_BINARY_OPS,
  operandsDType,
  UNARY_OPS,
  type UnaryOp,
  unaryDTypes,
  type WeakScalar,
} from './dtypes.js';
import { broadcastShapes, flatBroadcast, fromFlat, type RefArray, sizeOf, toFlat } from './array.js';
import { castScalar, roundFloat, roundHalfEven, type Scalar, truthy, weakToDType, wrapInt } from './round.js';
import { erf as erfScalar, erfinv as erfinvScalar, gelu as geluScalar } from './special.js';

/** An operand: an array or a weakly typed JS value. */
export type Operand = RefArray | number | boolean;

function isArray(x: Operand): x is RefArray {
  return typeof x === 'object';
}

/**
 * A weak JS scalar as an element of the computation dtype: it first becomes the
 * promoted dtype of the operands (integers wrap: `uint8 / -1` divides by 255), then is
 * cast like any element of that dtype (e.g. to float32 for divide of integers).
 */
export function weakScalarIn(x: number | boolean, promoted: DType, compute: DType): Scalar {
  return castScalar(weakToDType(x, promoted), promoted, compute);
}

/** The operand's elements broadcast to `shape`, converted to dtype `to` (via `promoted` for JS scalars). */
function operandValues(x: Operand, shape: readonly number[], promoted: DType, to: DType): Scalar[] {
  if (isArray(x)) {
    const flat = flatBroadcast(x, shape);
    return x.dtype === to ? flat : flat.map((v) => castScalar(v, x.dtype, to));
  }
  return new Array<Scalar>(sizeOf(shape)).fill(weakScalarIn(x, promoted, to));
}

function operandShape(x: Operand): readonly number[] {
  return isArray(x) ? x.nd.shape : [];
}

function computationDType(operands: readonly Operand[]): DType {
  const arrays: DType[] = [];
  const scalars: WeakScalar[] = [];
  for (const o of operands) {
    if (isArray(o)) arrays.push(o.dtype);
    else scalars.push(o);
  }
  return operandsDType(arrays, scalars);
}

// ---------------------------------------------------------------------------------
// Scalar kernels
// ---------------------------------------------------------------------------------

function sigmoidScalar(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** x sigmoid(x); below -700 as (x e^(x/2)) e^(x/2), so no factor is subnormal while the result is normal (to -714.9). */
function siluScalar(x: number): number {
  if (x < -700) {
    const h = Math.exp(x / 2);
    return x * h * h;
  }
  return x * sigmoidScalar(x);
}

/**
 * Float unary ops in float64. gelu is the exact erf form 0.5*x*(1 + erf(x/sqrt 2)),
 * evaluated as 0.5*x*erfc(-x/sqrt 2) with the argument's rounding kept out of the tail
 * (special.ts gelu); at -Inf it is NaN, as the formula gives (-Inf * 0), which is also
 * what JAX returns.
 */
export function floatUnary(op: UnaryOp, x: number): number {
  switch (op) {
    case 'negative':
      return -x;
    case 'abs':
      return Math.abs(x);
    case 'sign':
      if (Number.isNaN(x) || x === 0) return x;
      return x > 0 ? 1 : -1;
    case 'square':
      return x * x;
    case 'sqrt':
      return Math.sqrt(x);
    case 'rsqrt':
      return 1 / Math.sqrt(x);
    case 'reciprocal':
      return 1 / x;
    case 'exp':
      return Math.exp(x);
    case 'exp2':
      return 2 ** x;
    case 'expm1':
      return Math.expm1(x);
    case 'log':
      return Math.log(x);
    case 'log2':
      return Math.log2(x);
    case 'log10':
      return Math.log10(x);
    case 'log1p':
      return Math.log1p(x);
    case 'sin':
      return Math.sin(x);
    case 'cos':
      return Math.cos(x);
    case 'tan':
      return Math.tan(x);
    case 'arcsin':
      return Math.asin(x);
    case 'arccos':
      return Math.acos(x);
    case 'arctan':
      return Math.atan(x);
    case 'sinh':
      return Math.sinh(x);
    case 'cosh':
      return Math.cosh(x);
    case 'tanh':
      return Math.tanh(x);
    case 'arcsinh':
      return Math.asinh(x);
    case 'arccosh':
      return Math.acosh(x);
    case 'arctanh':
      return Math.atanh(x);
    case 'erf':
      return erfScalar(x);
    case 'erfinv':
      return erfinvScalar(x);
    case 'sigmoid':
      return sigmoidScalar(x);
    case 'relu':
      // maximum(x, 0) as NumPy: (x >= 0 || isnan(x)) ? x : 0, so relu(-0) = -0.
      return Number.isNaN(x) || x >= 0 ? x : 0;
    case 'gelu':
      return geluScalar(x);
    case 'silu':
      return siluScalar(x);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'round':
      return roundHalfEven(x);
    case 'trunc':
      return Math.trunc(x);
    case 'isnan':
      return Number.isNaN(x) ? 1 : 0;
    case 'isinf':
      return x === Number.POSITIVE_INFINITY || x === Number.NEGATIVE_INFINITY ? 1 : 0;
    case 'isfinite':
      return Number.isFinite(x) ? 1 : 0;
    case 'logicalNot':
      return x === 0 ? 1 : 0;
    case 'bitwiseNot':
      throw new DTypeError('bitwiseNot on a float');
    case 'cbrt':
      return Math.cbrt(x);
    case 'signbit':
      // JS cannot see a NaN's sign bit: NaN counts as positive (the bounds accept either)
      return x < 0 || Object.is(x, -0) ? 1 : 0;
  }
}

function intUnary(op: UnaryOp, x: bigint, dtype: DType): Scalar {
  switch (op) {
    case 'negative':
      return wrapInt(-x, dtype);
    case 'abs':
      return wrapInt(x < 0n ? -x : x, dtype); // abs(INT_MIN) wraps to INT_MIN
    case 'sign':
      return wrapInt(x > 0n ? 1n : x < 0n ? -1n : 0n, dtype);
    case 'square':
      return wrapInt(x * x, dtype);
    case 'relu':
      return wrapInt(x > 0n ? x : 0n, dtype);
    case 'floor':
    case 'ceil':
    case 'round':
    case 'trunc':
      return wrapInt(x, dtype);
    case 'isnan':
    case 'isinf':
      return 0;
    case 'isfinite':
      return 1;
    case 'signbit':
      return x < 0n ? 1 : 0;
    case 'logicalNot':
      return x === 0n ? 1 : 0;
    case 'bitwiseNot':
      return wrapInt(~x, dtype);
    default:
      throw new Error(`intUnary: ${op} is not an integer op`);
  }
}

function boolUnary(op: UnaryOp, x: number): number {
  switch (op) {
    case 'square':
    case 'relu':
    case 'floor':
    case 'ceil':
    case 'round':
    case 'trunc':
      return x;
    case 'isnan':
    case 'isinf':
    case 'signbit':
      return 0;
    case 'isfinite':
      return 1;
    case 'logicalNot':
    case 'bitwiseNot':
      return x === 0 ? 1 : 0;
    default:
      throw new DTypeError(`${op} is not defined for bool`);
  }
}

/** NumPy's npy_divmod for floats: returns [floordiv, mod]. */
export function floatDivmod(a: number, b: number): [number, number] {
  const mod0 = a % b; // C fmod
  if (b === 0) return [a / b, mod0];
  let mod = mod0;
  let div = (a - mod) / b;
  if (mod !== 0) {
    if (b < 0 !== mod < 0) {
      mod += b;
      div -= 1;
    }
  } else {
    mod = b < 0 || Object.is(b, -0) ? -0 : 0; // copysign(0, b)
  }
  let floordiv: number;
  if (div !== 0) {
    floordiv = Math.floor(div);
    if (div - floordiv > 0.5) floordiv += 1;
  } else {
    const q = a / b;
    floordiv = q < 0 || Object.is(q, -0) ? -0 : 0; // copysign(0, a/b)
  }
  return [floordiv, mod];
}

/** C's pow(): like Math.pow except pow(1, y) = 1 and pow(-1, ±Inf) = 1 (JS gives NaN). */
export function cPow(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && !Number.isFinite(b) && !Number.isNaN(b)) return 1;
  return a ** b;
}

/** NumPy's logaddexp. */
export function logaddexpScalar(x: number, y: number): number {
  // ln2 as HI + LO (x + HI is exact near x = -ln2, where the sum cancels); handles infinities of the same sign.
  if (x === y) return x + 0.6931471805598903 + 5.497923018708371e-14;
  const d = x - y;
  if (d > 0) return x + Math.log1p(Math.exp(-d));
  if (d <= 0) return y + Math.log1p(Math.exp(d));
  return d; // NaN
}

export function floatBinary(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'subtract':
      return a - b;
    case 'multiply':
      return a * b;
    case 'divide':
      return a / b;
    case 'floorDivide':
      return floatDivmod(a, b)[0];
    case 'remainder':
      return floatDivmod(a, b)[1];
    case 'power':
      return cPow(a, b);
    case 'maximum':
      // NumPy: (a >= b || isnan(a)) ? a : b — propagates NaN from either side.
      return Number.isNaN(a) || a >= b ? a : b;
    case 'minimum':
      return Number.isNaN(a) || a <= b ? a : b;
    case 'arctan2':
      return Math.atan2(a, b);
    case 'logaddexp':
      return logaddexpScalar(a, b);
    case 'copysign': {
      const negative = b < 0 || Object.is(b, -0);
      return negative ? -Math.abs(a) : Math.abs(a);
    }
    case 'hypot':
      return Math.hypot(a, b);
    case 'fmod':
      return a % b; // JS % is C's fmod (exact, the dividend's sign)
    default:
      throw new DTypeError(`${op} is not defined for floats`);
  }
}

function intPower(base: bigint, exp: bigint, dtype: DType): Scalar {
  if (exp < 0n) {
    if (base === 1n) return wrapInt(1n, dtype);
    if (base === -1n) return wrapInt((exp & 1n) === 1n ? -1n : 1n, dtype);
    return wrapInt(0n, dtype);
  }
  const bits = DTYPES[dtype].bits;
  let result = 1n;
  let b = BigInt.asUintN(bits, base);
  let e = exp;
  while (e > 0n) {
    if ((e & 1n) === 1n) result = BigInt.asUintN(bits, result * b);
    b = BigInt.asUintN(bits, b * b);
    e >>= 1n;
  }
  return wrapInt(result, dtype);
}

function intBinary(op: BinaryOp, a: bigint, b: bigint, dtype: DType): Scalar {
  const bits = BigInt(DTYPES[dtype].bits);
  switch (op) {
    case 'add':
      return wrapInt(a + b, dtype);
    case 'subtract':
      return wrapInt(a - b, dtype);
    case 'multiply':
      return wrapInt(a * b, dtype);
    case 'floorDivide': {
      if (b === 0n) return wrapInt(0n, dtype);
      let q = a / b; // truncates toward zero
      if (a % b !== 0n && a < 0n !== b < 0n) q -= 1n;
      return wrapInt(q, dtype); // INT_MIN // -1 wraps to INT_MIN
    }
    case 'remainder': {
      if (b === 0n) return wrapInt(0n, dtype);
      let r = a % b; // sign of a
      if (r !== 0n && r < 0n !== b < 0n) r += b;
      return wrapInt(r, dtype);
    }
    case 'power':
      return intPower(a, b, dtype);
    case 'fmod':
      // C's %: truncated, the dividend's sign; x fmod 0 gives 0 (NumPy warns)
      return wrapInt(b === 0n ? 0n : a % b, dtype);
    case 'maximum':
      return wrapInt(a > b ? a : b, dtype);
    case 'minimum':
      return wrapInt(a < b ? a : b, dtype);
    case 'bitwiseAnd':
      return wrapInt(a & b, dtype);
    case 'bitwiseOr':
      return wrapInt(a | b, dtype);
    case 'bitwiseXor':
      return wrapInt(a ^ b, dtype);
    case 'leftShift':
      if (b < 0n || b >= bits) return wrapInt(0n, dtype);
      return wrapInt(a << b, dtype);
    case 'rightShift':
      if (b < 0n || b >= bits) return wrapInt(a < 0n ? -1n : 0n, dtype);
      return wrapInt(a >> b, dtype); // arithmetic for signed (a < 0), logical for unsigned
    default:
      throw new Error(`intBinary: ${op} is not an integer op`);
  }
}

function boolBinary(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add':
    case 'maximum':
    case 'bitwiseOr':
      return a || b ? 1 : 0;
    case 'multiply':
    case 'minimum':
    case 'bitwiseAnd':
      return a && b ? 1 : 0;
    case 'bitwiseXor':
      return a !== b ? 1 : 0;
    default:
      throw new DTypeError(`${op} is not defined for bool`);
  }
}

function compare(op: BinaryOp, a: Scalar, b: Scalar): boolean {
  switch (op) {
    case 'equal':
      return a === b; // NaN != NaN, -0 == 0
    case 'notEqual':
      return a !== b;
    case 'less':
      return a < b;
    case 'lessEqual':
      return a <= b;
    case 'greater':
      return a > b;
    case 'greaterEqual':
      return a >= b;
    default:
      throw new Error(`not a comparison: ${op}`);
  }
}

/** One element of a binary op; a and b are already in the computation dtype. */
export function binaryScalar(op: BinaryOp, compute: DType, result: DType, a: Scalar, b: Scalar): Scalar {
  if (COMPARISON_OPS.has(op)) return compare(op, a, b) ? 1 : 0;
  if (LOGICAL_BINARY_OPS.has(op)) {
    const x = truthy(a);
    const y = truthy(b);
    if (op === 'logicalAnd') return x && y ? 1 : 0;
    if (op === 'logicalOr') return x || y ? 1 : 0;
    return x !== y ? 1 : 0;
  }
  const kind = DTYPES[compute].kind;
  if (kind === 'float') return roundFloat(floatBinary(op, a as number, b as number), result);
  if (kind === 'bool') return boolBinary(op, a as number, b as number);
  return intBinary(op, BigInt(a), BigInt(b), compute);
}

/** One element of a unary op; x is already in the computation dtype. */
export function unaryScalar(op: UnaryOp, compute: DType, result: DType, x: Scalar): Scalar {
  const kind = DTYPES[compute].kind;
  if (kind === 'float') {
    const r = floatUnary(op, x as number);
    return result === 'bool' ? r : roundFloat(r, result);
  }
  if (kind === 'bool') return boolUnary(op, x as number);
  return intUnary(op, BigInt(x), compute);
}

// ---------------------------------------------------------------------------------
// Array-level ops
// ---------------------------------------------------------------------------------

function toArrayOperand(x: Operand): RefArray {
  if (isArray(x)) return x;
  return typeof x === 'boolean' ? fromFlat('bool', [], [x ? 1 : 0]) : fromFlat('float32', [], [Math.fround(x)]);
}

export function unary(op: UnaryOp, x: Operand): RefArray {
  const a = toArrayOperand(x);
  const { compute, result } = unaryDTypes(op, a.dtype);
  const vals = toFlat(a).map((v) => unaryScalar(op, compute, result, a.dtype === compute ? v : castScalar(v, a.dtype, compute)));
  return fromFlat(result, a.nd.shape, vals);
}

/**
 * The dtypes a binary op would use (throws DTypeError like the op): `promoted` is the
 * promotion of the operands (weak scalars included), `compute` what both are converted
 * to, `result` the output dtype.
 */
export function binaryResultDTypes(op: BinaryOp, a: Operand, b: Operand): { promoted: DType; compute: DType; result: DType } {
  const promoted = computationDType([a, b]);
  return { promoted, ...binaryDTypes(op, promoted) };
}

export function binary(op: BinaryOp, a: Operand, b: Operand): RefArray {
  const shape = broadcastShapes(operandShape(a), operandShape(b));
  const { promoted, compute, result } = binaryResultDTypes(op, a, b);
  const xa = operandValues(a, shape, promoted, compute);
  const xb = operandValues(b, shape, promoted, compute);
  const out = xa.map((x, i) => binaryScalar(op, compute, result, x, xb[i]));
  return fromFlat(result, shape, out);
}

export function astype(a: RefArray, dtype: DType): RefArray {
  return fromFlat(
    dtype,
    a.nd.shape,
    toFlat(a).map((v) => castScalar(v, a.dtype, dtype)),
  );
}

/** where(c, a, b): promote(a, b) with weak scalars; c by truthiness. */
export function where(c: Operand, a: Operand, b: Operand): RefArray {
  const shape = broadcastShapes(operandShape(c), operandShape(a), operandShape(b));
  const dtype = computationDType([a, b]);
  const cond = isArray(c) ? flatBroadcast(c, shape).map(truthy) : new Array<boolean>(sizeOf(shape)).fill(truthy(Number(c)));
  const xa = operandValues(a, shape, dtype, dtype);
  const xb = operandValues(b, shape, dtype, dtype);
  return fromFlat(
    dtype,
    shape,
    cond.map((t, i) => (t ? xa[i] : xb[i])),
  );
}

/** clip(a, lo, hi) = minimum(maximum(a, lo), hi); a null bound is skipped. */
export function clip(a: Operand, lo: Operand | null, hi: Operand | null): RefArray {
  let r: Operand = a;
  if (lo !== null) r = binary('maximum', r, lo);
  if (hi !== null) r = binary('minimum', r, hi);
  return toArrayOperand(r);
}

// Named wrappers: refOps.add(a, b), refOps.sin(x), ... --------------------------------

export const unaryOps = Object.fromEntries(UNARY_OPS.map((op) => [op, (x: Operand) => unary(op, x)])) as Record<UnaryOp, (x: Operand) => RefArray>;

export const binaryOps = Object.fromEntries(BINARY_OPS.map((op) => [op, (a: Operand, b: Operand) => binary(op, a, b)])) as Record<
  BinaryOp,
  (a: Operand, b: Operand) => RefArray
>;

export const {
  negative,
  abs,
  sign,
  square,
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
  relu,
  gelu,
  silu,
  floor,
  ceil,
  round,
  trunc,
  isnan,
  isinf,
  isfinite,
  logicalNot,
  bitwiseNot,
  cbrt,
  signbit,
} = unaryOps;

export const {
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
} = binaryOps;
