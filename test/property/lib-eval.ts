/**
 * Evaluating graphs (graphs.ts) with the library. Every call goes through a typed table
 * so the harness type-checks against the real API.
 */
import * as ma from '../../src/index.js';
import type { BinaryOp, DType, Scalar, SliceSpec, UnaryOp } from '../reference/index.js';
import * as R from '../reference/index.js';
import { type Arg, type CombiningNode, isScalar, type LeafNode, type Node, type ReduceNode, type ReduceOp, topoOrder, type ViewSpec } from './graphs.js';

export type MA = ReturnType<typeof ma.array>;
export type Operand = MA | number;

/** ma.op(x) for every unary op (x may be a JS number). */
export const UNARY_FN: Readonly<Record<UnaryOp, (x: Operand) => MA>> = {
  negative: (x) => ma.negative(x),
  abs: (x) => ma.abs(x),
  sign: (x) => ma.sign(x),
  square: (x) => ma.square(x),
  sqrt: (x) => ma.sqrt(x),
  rsqrt: (x) => ma.rsqrt(x),
  reciprocal: (x) => ma.reciprocal(x),
  exp: (x) => ma.exp(x),
  exp2: (x) => ma.exp2(x),
  expm1: (x) => ma.expm1(x),
  log: (x) => ma.log(x),
  log2: (x) => ma.log2(x),
  log10: (x) => ma.log10(x),
  log1p: (x) => ma.log1p(x),
  sin: (x) => ma.sin(x),
  cos: (x) => ma.cos(x),
  tan: (x) => ma.tan(x),
  arcsin: (x) => ma.arcsin(x),
  arccos: (x) => ma.arccos(x),
  arctan: (x) => ma.arctan(x),
  sinh: (x) => ma.sinh(x),
  cosh: (x) => ma.cosh(x),
  tanh: (x) => ma.tanh(x),
  arcsinh: (x) => ma.arcsinh(x),
  arccosh: (x) => ma.arccosh(x),
  arctanh: (x) => ma.arctanh(x),
  erf: (x) => ma.erf(x),
  erfinv: (x) => ma.erfinv(x),
  sigmoid: (x) => ma.sigmoid(x),
  relu: (x) => ma.relu(x),
  gelu: (x) => ma.gelu(x),
  silu: (x) => ma.silu(x),
  floor: (x) => ma.floor(x),
  ceil: (x) => ma.ceil(x),
  round: (x) => ma.round(x),
  trunc: (x) => ma.trunc(x),
  isnan: (x) => ma.isnan(x),
  isinf: (x) => ma.isinf(x),
  isfinite: (x) => ma.isfinite(x),
  logicalNot: (x) => ma.logicalNot(x),
  bitwiseNot: (x) => ma.bitwiseNot(x),
  cbrt: (x) => ma.cbrt(x),
  signbit: (x) => ma.signbit(x),
};

/** x.op() for every unary op. */
export const UNARY_METHOD: Readonly<Record<UnaryOp, (x: MA) => MA>> = {
  negative: (x) => x.negative(),
  abs: (x) => x.abs(),
  sign: (x) => x.sign(),
  square: (x) => x.square(),
  sqrt: (x) => x.sqrt(),
  rsqrt: (x) => x.rsqrt(),
  reciprocal: (x) => x.reciprocal(),
  exp: (x) => x.exp(),
  exp2: (x) => x.exp2(),
  expm1: (x) => x.expm1(),
  log: (x) => x.log(),
  log2: (x) => x.log2(),
  log10: (x) => x.log10(),
  log1p: (x) => x.log1p(),
  sin: (x) => x.sin(),
  cos: (x) => x.cos(),
  tan: (x) => x.tan(),
  arcsin: (x) => x.arcsin(),
  arccos: (x) => x.arccos(),
  arctan: (x) => x.arctan(),
  sinh: (x) => x.sinh(),
  cosh: (x) => x.cosh(),
  tanh: (x) => x.tanh(),
  arcsinh: (x) => x.arcsinh(),
  arccosh: (x) => x.arccosh(),
  arctanh: (x) => x.arctanh(),
  erf: (x) => x.erf(),
  erfinv: (x) => x.erfinv(),
  sigmoid: (x) => x.sigmoid(),
  relu: (x) => x.relu(),
  gelu: (x) => x.gelu(),
  silu: (x) => x.silu(),
  floor: (x) => x.floor(),
  ceil: (x) => x.ceil(),
  round: (x) => x.round(),
  trunc: (x) => x.trunc(),
  isnan: (x) => x.isnan(),
  isinf: (x) => x.isinf(),
  isfinite: (x) => x.isfinite(),
  logicalNot: (x) => x.logicalNot(),
  bitwiseNot: (x) => x.bitwiseNot(),
  cbrt: (x) => x.cbrt(),
  signbit: (x) => x.signbit(),
};

/** ma.op(a, b) for every binary op. */
export const BINARY_FN: Readonly<Record<BinaryOp, (a: Operand, b: Operand) => MA>> = {
  add: (a, b) => ma.add(a, b),
  subtract: (a, b) => ma.subtract(a, b),
  multiply: (a, b) => ma.multiply(a, b),
  divide: (a, b) => ma.divide(a, b),
  floorDivide: (a, b) => ma.floorDivide(a, b),
  remainder: (a, b) => ma.remainder(a, b),
  power: (a, b) => ma.power(a, b),
  maximum: (a, b) => ma.maximum(a, b),
  minimum: (a, b) => ma.minimum(a, b),
  arctan2: (a, b) => ma.arctan2(a, b),
  logaddexp: (a, b) => ma.logaddexp(a, b),
  equal: (a, b) => ma.equal(a, b),
  notEqual: (a, b) => ma.notEqual(a, b),
  less: (a, b) => ma.less(a, b),
  lessEqual: (a, b) => ma.lessEqual(a, b),
  greater: (a, b) => ma.greater(a, b),
  greaterEqual: (a, b) => ma.greaterEqual(a, b),
  logicalAnd: (a, b) => ma.logicalAnd(a, b),
  logicalOr: (a, b) => ma.logicalOr(a, b),
  logicalXor: (a, b) => ma.logicalXor(a, b),
  bitwiseAnd: (a, b) => ma.bitwiseAnd(a, b),
  bitwiseOr: (a, b) => ma.bitwiseOr(a, b),
  bitwiseXor: (a, b) => ma.bitwiseXor(a, b),
  leftShift: (a, b) => ma.leftShift(a, b),
  rightShift: (a, b) => ma.rightShift(a, b),
  copysign: (a, b) => ma.copysign(a, b),
  hypot: (a, b) => ma.hypot(a, b),
  fmod: (a, b) => ma.fmod(a, b),
};

/** a.op(b) for every binary op. */
export const BINARY_METHOD: Readonly<Record<BinaryOp, (a: MA, b: Operand) => MA>> = {
  add: (a, b) => a.add(b),
  subtract: (a, b) => a.subtract(b),
  multiply: (a, b) => a.multiply(b),
  divide: (a, b) => a.divide(b),
  floorDivide: (a, b) => a.floorDivide(b),
  remainder: (a, b) => a.remainder(b),
  power: (a, b) => a.power(b),
  maximum: (a, b) => a.maximum(b),
  minimum: (a, b) => a.minimum(b),
  arctan2: (a, b) => a.arctan2(b),
  logaddexp: (a, b) => a.logaddexp(b),
  equal: (a, b) => a.equal(b),
  notEqual: (a, b) => a.notEqual(b),
  less: (a, b) => a.less(b),
  lessEqual: (a, b) => a.lessEqual(b),
  greater: (a, b) => a.greater(b),
  greaterEqual: (a, b) => a.greaterEqual(b),
  logicalAnd: (a, b) => a.logicalAnd(b),
  logicalOr: (a, b) => a.logicalOr(b),
  logicalXor: (a, b) => a.logicalXor(b),
  bitwiseAnd: (a, b) => a.bitwiseAnd(b),
  bitwiseOr: (a, b) => a.bitwiseOr(b),
  bitwiseXor: (a, b) => a.bitwiseXor(b),
  leftShift: (a, b) => a.leftShift(b),
  rightShift: (a, b) => a.rightShift(b),
  copysign: (a, b) => a.copysign(b),
  hypot: (a, b) => a.hypot(b),
  fmod: (a, b) => a.fmod(b),
};

/** A typed array holding `values` for ma.array(typed, dtype). */
export function typedArrayOf(dtype: DType, values: readonly Scalar[]): ma.AnyTypedArray {
  const nums = () => values.map((v) => Number(v));
  switch (dtype) {
    case 'bool':
    case 'uint8':
      return Uint8Array.from(nums());
    case 'int8':
      return Int8Array.from(nums());
    case 'int16':
      return Int16Array.from(nums());
    case 'int32':
      return Int32Array.from(nums());
    case 'uint16':
      return Uint16Array.from(nums());
    case 'uint32':
      return Uint32Array.from(nums());
    case 'int64':
      return BigInt64Array.from(values.map((v) => BigInt(v)));
    case 'uint64':
      return BigUint64Array.from(values.map((v) => BigInt(v)));
    case 'float64':
      return Float64Array.from(nums());
    default:
      return Float32Array.from(nums()); // float16, bfloat16, float32: exact in float32
  }
}

type Nested = number | boolean | Nested[];

function nestedOf(values: readonly Scalar[], shape: readonly number[], dtype: DType): Nested {
  const el = (x: Scalar): Nested => (dtype === 'bool' ? x !== 0 : Number(x));
  if (shape.length === 0) return el(values[0]);
  const inner = R.sizeOf(shape.slice(1));
  const out: Nested[] = [];
  for (let i = 0; i < shape[0]; i++) out.push(nestedOf(values.slice(i * inner, (i + 1) * inner), shape.slice(1), dtype));
  return out;
}

export function makeLeaf(n: LeafNode, created: MA[]): MA {
  if (n.form === 'nested') {
    const a = ma.array(nestedOf(n.values, n.shape, n.dtype), n.dtype);
    created.push(a);
    return a;
  }
  const flat = ma.array(typedArrayOf(n.dtype, n.values), n.dtype);
  created.push(flat);
  const a = flat.reshape([...n.shape]);
  created.push(a);
  return a;
}

type LibSliceSpec = number | null | string | ma.SliceRange;

function libSpecs(specs: readonly SliceSpec[]): LibSliceSpec[] {
  return specs.map((s) => {
    if (s === null || typeof s === 'number' || typeof s === 'string') return s;
    const [a = null, b = null, c = null] = s;
    return ma.range(a, b, c);
  });
}

export function applyViewLib(v: ViewSpec, x: MA): MA {
  switch (v.op) {
    case 'reshape':
      return v.spread ? x.reshape(...v.shape) : x.reshape(v.shape);
    case 'transpose':
      return v.axes === null ? x.transpose() : x.transpose(v.axes);
    case 'swapaxes':
      return ma.swapaxes(x, v.i, v.j);
    case 'moveaxis':
      return ma.moveaxis(x, v.src, v.dst);
    case 'broadcastTo':
      return ma.broadcastTo(x, v.shape);
    case 'expandDims':
      return ma.expandDims(x, v.axis);
    case 'squeeze':
      return v.axis === null ? ma.squeeze(x) : ma.squeeze(x, v.axis);
    case 'flatten':
      return x.flatten();
    case 'flip':
      return v.axis === null ? ma.flip(x) : ma.flip(x, v.axis);
    case 'slice':
      return x.slice(...libSpecs(v.specs));
  }
}

/**
 * Builds the graph with the library (lazily: nothing is evaluated here). Every array
 * created is pushed to `created` so the caller can dispose them.
 */
export function buildLib(root: Node, created: MA[], leaves?: ReadonlyMap<Node, MA>): MA {
  const memo = new Map<Node, MA>();
  const keep = (a: MA): MA => {
    created.push(a);
    return a;
  };
  const arg = (a: Arg): Operand => (isScalar(a) ? a.value : (memo.get(a) as MA));
  for (const n of topoOrder(root)) {
    let r: MA;
    switch (n.kind) {
      case 'leaf':
        // `leaves` stands arrays in for some leaves (vmap's property test maps them).
        r = leaves?.get(n) ?? makeLeaf(n, created);
        break;
      case 'unary': {
        const x = memo.get(n.x) as MA;
        r = keep(n.method ? UNARY_METHOD[n.op](x) : UNARY_FN[n.op](x));
        break;
      }
      case 'binary': {
        const a = arg(n.a);
        const b = arg(n.b);
        r = keep(n.method && typeof a !== 'number' ? BINARY_METHOD[n.op](a, b) : BINARY_FN[n.op](a, b));
        break;
      }
      case 'where':
        r = keep(ma.where(memo.get(n.c) as MA, arg(n.a), arg(n.b)));
        break;
      case 'clip':
        r = keep(ma.clip(memo.get(n.x) as MA, n.lo ? arg(n.lo) : null, n.hi ? arg(n.hi) : null));
        break;
      case 'cast':
        r = keep((memo.get(n.x) as MA).astype(n.dtype));
        break;
      case 'view':
        r = keep(applyViewLib(n.view, memo.get(n.x) as MA));
        break;
      case 'concatenate':
      case 'stack': {
        const xs = n.xs.map((x) => memo.get(x) as MA);
        const f = n.kind === 'concatenate' ? ma.concatenate : ma.stack;
        r = keep(n.axis === null ? f(xs) : f(xs, n.axis));
        break;
      }
      case 'split': {
        const x = memo.get(n.x) as MA;
        const parts = n.axis === null ? ma.split(x, n.sections) : ma.split(x, n.sections, n.axis);
        created.push(...parts);
        r = parts[n.part];
        break;
      }
      default:
        r = combineLib(n, (x) => memo.get(x) as MA, created);
        break;
    }
    memo.set(n, r);
  }
  return memo.get(root) as MA;
}

type AxesReduce = Exclude<ReduceOp, 'argmax' | 'argmin' | 'var' | 'std' | 'norm' | 'countNonzero'>;
const AXES_FN: Readonly<Record<AxesReduce, (x: MA, axis: R.Axes, keepdims: boolean) => MA>> = {
  sum: (x, a, k) => ma.sum(x, a, k),
  prod: (x, a, k) => ma.prod(x, a, k),
  max: (x, a, k) => ma.max(x, a, k),
  min: (x, a, k) => ma.min(x, a, k),
  mean: (x, a, k) => ma.mean(x, a, k),
  any: (x, a, k) => ma.any(x, a, k),
  all: (x, a, k) => ma.all(x, a, k),
  logsumexp: (x, a, k) => ma.logsumexp(x, a, k),
};
const AXES_METHOD: Readonly<Record<AxesReduce, (x: MA, axis: R.Axes, keepdims: boolean) => MA>> = {
  sum: (x, a, k) => x.sum(a, k),
  prod: (x, a, k) => x.prod(a, k),
  max: (x, a, k) => x.max(a, k),
  min: (x, a, k) => x.min(a, k),
  mean: (x, a, k) => x.mean(a, k),
  any: (x, a, k) => x.any(a, k),
  all: (x, a, k) => x.all(a, k),
  logsumexp: (x, a, k) => x.logsumexp(a, k),
};
const SCAN_FN: Readonly<Record<R.ScanOp, (x: MA, axis: number | null, reverse: boolean, inclusive: boolean) => MA>> = {
  cumsum: (x, a, r, i) => ma.cumsum(x, a, r, i),
  cumprod: (x, a, r, i) => ma.cumprod(x, a, r, i),
  cummax: (x, a, r, i) => ma.cummax(x, a, r, i),
  cummin: (x, a, r, i) => ma.cummin(x, a, r, i),
};

function reduceLib(n: ReduceNode, x: MA): MA {
  const { axis, keepdims, method } = n;
  switch (n.op) {
    case 'argmax':
    case 'argmin': {
      const ax = axis === null || axis === undefined ? null : typeof axis === 'number' ? axis : axis[0];
      if (n.op === 'argmax') return method ? x.argmax(ax ?? undefined, keepdims) : ma.argmax(x, ax ?? undefined, keepdims);
      return method ? x.argmin(ax ?? undefined, keepdims) : ma.argmin(x, ax ?? undefined, keepdims);
    }
    case 'var':
      return method ? x.var(axis, keepdims, n.ddof) : ma.var(x, axis, keepdims, n.ddof);
    case 'std':
      return method ? x.std(axis, keepdims, n.ddof) : ma.std(x, axis, keepdims, n.ddof);
    case 'norm':
      return ma.norm(x, n.ord, axis, keepdims);
    case 'countNonzero':
      return ma.countNonzero(x, axis, keepdims);
    default:
      return method ? AXES_METHOD[n.op](x, axis, keepdims) : AXES_FN[n.op](x, axis, keepdims);
  }
}

/** The library call of a combining node (reduction, softmax, scan, product, gather). */
export function combineLib(n: CombiningNode, get: (x: Node) => MA, created: MA[]): MA {
  let r: MA;
  switch (n.kind) {
    case 'reduce':
      r = reduceLib(n, get(n.x));
      break;
    case 'softmax':
      r = n.op === 'softmax' ? ma.softmax(get(n.x), n.axis) : ma.logSoftmax(get(n.x), n.axis);
      break;
    case 'scan':
      r = SCAN_FN[n.op](get(n.x), n.axis, n.reverse, n.inclusive);
      break;
    case 'matmul':
      r = ma.matmul(get(n.a), get(n.b));
      break;
    case 'take': {
      const flat = ma.array(Int32Array.from(n.indices), 'int32');
      const idx = flat.reshape([...n.indexShape]);
      created.push(flat, idx);
      r = ma.take(get(n.x), idx, n.axis);
      break;
    }
  }
  created.push(r);
  return r;
}

/** Row-major elements of an evaluated array (bigints for int64/uint64). */
export function libFlat(a: MA): Scalar[] {
  const t = a.toTypedArray();
  const out: Scalar[] = [];
  for (let i = 0; i < t.length; i++) out.push(t[i]);
  return out;
}

/** The raw result bytes, with every NaN made canonical (for bit-equality checks). */
export function libBits(a: MA): string {
  const t = a.toTypedArray();
  const parts: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const v = t[i];
    if (typeof v === 'number' && Number.isNaN(v)) parts.push('NaN');
    else if (typeof v === 'number' && Object.is(v, -0)) parts.push('-0');
    else parts.push(String(v));
  }
  return parts.join(',');
}

export function disposeAll(created: MA[]): void {
  for (const a of new Set(created)) {
    try {
      a.dispose();
    } catch {
      // disposing twice or a view of a disposed array is not what these tests check
    }
  }
  created.length = 0;
}

export { ma };
