/**
 * Reference oracle: dtype table, promotion and result-dtype rules.
 *
 * Written from docs/semantics.md only (nothing here is imported from src/). Where the
 * doc is silent the choice follows NumPy and is noted in a comment.
 */

export type DType = 'bool' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'float16' | 'bfloat16' | 'float32' | 'float64';

export const ALL_DTYPES: readonly DType[] = [
  'bool',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float16',
  'bfloat16',
  'float32',
  'float64',
];

export type DTypeKind = 'bool' | 'int' | 'uint' | 'float';

/** IEEE-style binary format: explicit mantissa bits, min normal exponent, max exponent. */
export interface FloatFormat {
  mantissaBits: number;
  minExp: number;
  maxExp: number;
}

export interface DTypeInfo {
  name: DType;
  kind: DTypeKind;
  bits: number;
  /** True for int64/uint64: elements are held as bigint. */
  big: boolean;
  /** Integer range (bool: 0..1). Undefined for floats. */
  min?: bigint;
  max?: bigint;
  /** Float format. Undefined for integers and bool. */
  format?: FloatFormat;
}

function intInfo(name: DType, bits: number, signed: boolean): DTypeInfo {
  const b = BigInt(bits);
  return {
    name,
    kind: signed ? 'int' : 'uint',
    bits,
    big: bits === 64,
    min: signed ? -(1n << (b - 1n)) : 0n,
    max: signed ? (1n << (b - 1n)) - 1n : (1n << b) - 1n,
  };
}

function floatInfo(name: DType, bits: number, mantissaBits: number, minExp: number, maxExp: number): DTypeInfo {
  return { name, kind: 'float', bits, big: false, format: { mantissaBits, minExp, maxExp } };
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  bool: { name: 'bool', kind: 'bool', bits: 8, big: false, min: 0n, max: 1n },
  int8: intInfo('int8', 8, true),
  int16: intInfo('int16', 16, true),
  int32: intInfo('int32', 32, true),
  int64: intInfo('int64', 64, true),
  uint8: intInfo('uint8', 8, false),
  uint16: intInfo('uint16', 16, false),
  uint32: intInfo('uint32', 32, false),
  uint64: intInfo('uint64', 64, false),
  float16: floatInfo('float16', 16, 10, -14, 15),
  bfloat16: floatInfo('bfloat16', 16, 7, -126, 127),
  float32: floatInfo('float32', 32, 23, -126, 127),
  float64: floatInfo('float64', 64, 52, -1022, 1023),
};

export function isDType(s: string): s is DType {
  return Object.hasOwn(DTYPES, s);
}

export const isFloat = (d: DType): boolean => DTYPES[d].kind === 'float';
export const isBool = (d: DType): boolean => d === 'bool';
export const isInteger = (d: DType): boolean => DTYPES[d].kind === 'int' || DTYPES[d].kind === 'uint';
export const isSigned = (d: DType): boolean => DTYPES[d].kind === 'int';
export const isUnsigned = (d: DType): boolean => DTYPES[d].kind === 'uint';
export const isBig = (d: DType): boolean => DTYPES[d].big;

/** Thrown for dtype errors (operation not defined for a dtype). */
export class DTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DTypeError';
  }
}

/** Thrown for bad arguments that are neither shape nor dtype errors (a bad `ord`, an axis given to a 0-d scan). */
export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}

/** Thrown for shape errors (broadcast mismatch, bad reshape, bad index, ...). */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

function signedOfBits(bits: number): DType {
  switch (bits) {
    case 8:
      return 'int8';
    case 16:
      return 'int16';
    case 32:
      return 'int32';
    default:
      return 'int64';
  }
}

/**
 * promote(a, b) for two array dtypes (JAX/MLX lattice, as in docs/semantics.md):
 * same → same; bool with x → x; two ints of the same signedness → wider;
 * uN with iM → iM if M > N else the next signed width above N (u64 with any signed →
 * float32); int with float → the float; float16 with bfloat16 → float32, else wider.
 */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'bool') return b;
  if (b === 'bool') return a;
  const ia = DTYPES[a];
  const ib = DTYPES[b];
  if (ia.kind === 'float' && ib.kind === 'float') {
    if ((a === 'float16' && b === 'bfloat16') || (a === 'bfloat16' && b === 'float16')) return 'float32';
    return ia.bits >= ib.bits ? a : b;
  }
  if (ia.kind === 'float') return a;
  if (ib.kind === 'float') return b;
  if (ia.kind === ib.kind) return ia.bits >= ib.bits ? a : b;
  const u = ia.kind === 'uint' ? ia : ib;
  const s = ia.kind === 'uint' ? ib : ia;
  if (u.bits === 64) return 'float32';
  if (s.bits > u.bits) return s.name;
  return signedOfBits(u.bits * 2);
}

/** A JS value used as an operand: weakly typed. */
export type WeakScalar = number | boolean;

/**
 * Combines a (strong) array dtype with a weak JS scalar (docs/semantics.md):
 * float array → array dtype; integer array: integer-valued number → array dtype,
 * non-integer (incl. NaN/±Inf) → float32; bool array: integer-valued number → int32,
 * non-integer → float32, JS boolean → bool. A JS boolean never widens anything (bool
 * with x → x).
 */
export function weakPromote(a: DType, s: WeakScalar): DType {
  if (typeof s === 'boolean') return a;
  const integral = Number.isInteger(s);
  if (isFloat(a)) return a;
  if (isInteger(a)) return integral ? a : 'float32';
  return integral ? 'int32' : 'float32';
}

/**
 * The computation dtype of an n-ary op: promote all array dtypes, then fold in the
 * weak scalars. Only JS values: all booleans → bool; otherwise float32 (doc: "two JS
 * numbers in one op → float32"; a lone JS number given to a unary op is float32 too).
 */
export function operandsDType(arrayDTypes: readonly DType[], scalars: readonly WeakScalar[]): DType {
  if (arrayDTypes.length === 0) {
    return scalars.every((s) => typeof s === 'boolean') ? 'bool' : 'float32';
  }
  let d = arrayDTypes[0];
  for (let i = 1; i < arrayDTypes.length; i++) d = promote(d, arrayDTypes[i]);
  for (const s of scalars) d = weakPromote(d, s);
  return d;
}

// ---------------------------------------------------------------------------------
// Op tables
// ---------------------------------------------------------------------------------

export const UNARY_OPS = [
  'negative',
  'abs',
  'sign',
  'square',
  'sqrt',
  'rsqrt',
  'reciprocal',
  'exp',
  'exp2',
  'expm1',
  'log',
  'log2',
  'log10',
  'log1p',
  'sin',
  'cos',
  'tan',
  'arcsin',
  'arccos',
  'arctan',
  'sinh',
  'cosh',
  'tanh',
  'arcsinh',
  'arccosh',
  'arctanh',
  'erf',
  'erfinv',
  'sigmoid',
  'relu',
  'gelu',
  'silu',
  'floor',
  'ceil',
  'round',
  'trunc',
  'isnan',
  'isinf',
  'isfinite',
  'logicalNot',
  'bitwiseNot',
  'cbrt',
  'signbit',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

export const BINARY_OPS = [
  'add',
  'subtract',
  'multiply',
  'divide',
  'floorDivide',
  'remainder',
  'power',
  'maximum',
  'minimum',
  'arctan2',
  'logaddexp',
  'equal',
  'notEqual',
  'less',
  'lessEqual',
  'greater',
  'greaterEqual',
  'logicalAnd',
  'logicalOr',
  'logicalXor',
  'bitwiseAnd',
  'bitwiseOr',
  'bitwiseXor',
  'leftShift',
  'rightShift',
  'copysign',
  'hypot',
  'fmod',
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Unary ops whose result is float: integer/bool inputs give float32. */
export const FLOAT_UNARY: ReadonlySet<UnaryOp> = new Set<UnaryOp>([
  'sqrt',
  'rsqrt',
  'reciprocal',
  'exp',
  'exp2',
  'expm1',
  'log',
  'log2',
  'log10',
  'log1p',
  'sin',
  'cos',
  'tan',
  'arcsin',
  'arccos',
  'arctan',
  'sinh',
  'cosh',
  'tanh',
  'arcsinh',
  'arccosh',
  'arctanh',
  'erf',
  'erfinv',
  'sigmoid',
  'gelu',
  'silu',
  'cbrt',
]);

export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual']);
export const LOGICAL_BINARY_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['logicalAnd', 'logicalOr', 'logicalXor']);
export const BITWISE_BINARY_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['bitwiseAnd', 'bitwiseOr', 'bitwiseXor']);
export const SHIFT_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['leftShift', 'rightShift']);

/**
 * For a unary op: the dtype the input is converted to before computing, and the
 * result dtype. Throws DTypeError where the doc says so.
 */
export function unaryDTypes(op: UnaryOp, x: DType): { compute: DType; result: DType } {
  if (FLOAT_UNARY.has(op)) {
    const f = isFloat(x) ? x : 'float32';
    return { compute: f, result: f };
  }
  switch (op) {
    case 'negative':
      if (x === 'bool') throw new DTypeError('negative is not defined for bool');
      return { compute: x, result: x };
    case 'abs':
    case 'sign':
      if (x === 'bool') throw new DTypeError(`${op} is not defined for bool`);
      return { compute: x, result: x };
    case 'square':
    case 'relu':
    case 'floor':
    case 'ceil':
    case 'round':
    case 'trunc':
      return { compute: x, result: x };
    case 'isnan':
    case 'isinf':
    case 'isfinite':
    case 'logicalNot':
    case 'signbit':
      return { compute: x, result: 'bool' };
    case 'bitwiseNot':
      if (isFloat(x)) throw new DTypeError('bitwiseNot is not defined for floats');
      return { compute: x, result: x };
    default:
      throw new Error(`unhandled unary op ${op}`);
  }
}

/**
 * For a binary op whose operands promote to `c`: the dtype both operands are
 * converted to, and the result dtype.
 */
export function binaryDTypes(op: BinaryOp, c: DType): { compute: DType; result: DType } {
  if (COMPARISON_OPS.has(op) || LOGICAL_BINARY_OPS.has(op)) return { compute: c, result: 'bool' };
  switch (op) {
    case 'add':
    case 'multiply':
    case 'maximum':
    case 'minimum':
      return { compute: c, result: c };
    case 'subtract':
      if (c === 'bool') throw new DTypeError('subtract is not defined for bool');
      return { compute: c, result: c };
    case 'divide':
    case 'arctan2':
    case 'logaddexp':
    case 'copysign':
    case 'hypot': {
      const f = isFloat(c) ? c : 'float32';
      return { compute: f, result: f };
    }
    case 'power':
    // power of two bools: the doc only says "power of integers stays integer". NumPy's
    // power has no bool loop and gives int8, so we do the same.
    case 'floorDivide':
    case 'remainder':
    case 'fmod':
      if (c === 'bool') return { compute: 'int8', result: 'int8' };
      return { compute: c, result: c };
    case 'bitwiseAnd':
    case 'bitwiseOr':
    case 'bitwiseXor':
      if (isFloat(c)) throw new DTypeError(`${op} is not defined for floats`);
      return { compute: c, result: c };
    case 'leftShift':
    case 'rightShift':
      if (isFloat(c) || c === 'bool') throw new DTypeError(`${op} needs integer operands`);
      return { compute: c, result: c };
    default:
      throw new Error(`unhandled binary op ${op}`);
  }
}
