/**
 * Random expression graphs for the property tests: an AST, a generator (driven by
 * fast-check), the oracle's evaluation of the AST, and a printer that turns a graph
 * into a standalone TypeScript reproduction using the library API.
 *
 * This module does not import the library (lib-eval.ts does), so the harness can be
 * tested on its own (harness.test.ts).
 */
import fc from 'fast-check';
import * as R from '../reference/index.js';
import type { BinaryOp, DType, RefArray, Scalar, SliceSpec, UnaryOp } from '../reference/index.js';
import { BACKEND_DTYPES } from '../support/backend.js';
import { buildCombining, buildRoot, NEEDS_AXIS, type Want } from './graph-combine.js';

// ---------------------------------------------------------------------------------
// AST
// ---------------------------------------------------------------------------------

interface Typed {
  /** Result dtype and shape (as the oracle computes them). */
  dtype: DType;
  shape: number[];
}

export interface LeafNode extends Typed {
  kind: 'leaf';
  /** Row-major values, already of the dtype (bigints for int64/uint64). */
  values: Scalar[];
  /** 'typed': ma.array(TypedArray, dtype).reshape(shape); 'nested': ma.array(nested JS arrays, dtype). */
  form: 'typed' | 'nested';
}

/** A weakly typed JS number operand (only as an argument of binary/where/clip). */
export interface ScalarNode {
  kind: 'scalar';
  value: number;
}

export interface UnaryNode extends Typed {
  kind: 'unary';
  op: UnaryOp;
  x: Node;
  /** ma.op(x) or x.op() */
  method: boolean;
}

export interface BinaryNode extends Typed {
  kind: 'binary';
  op: BinaryOp;
  a: Arg;
  b: Arg;
  /** a.op(b) (only when a is an array) or ma.op(a, b) */
  method: boolean;
}

export interface WhereNode extends Typed {
  kind: 'where';
  c: Node;
  a: Arg;
  b: Arg;
}

export interface ClipNode extends Typed {
  kind: 'clip';
  x: Node;
  lo: Arg | null;
  hi: Arg | null;
}

export interface CastNode extends Typed {
  kind: 'cast';
  x: Node;
}

export type ViewSpec =
  | { op: 'reshape'; shape: number[]; spread: boolean }
  | { op: 'transpose'; axes: number[] | null }
  | { op: 'swapaxes'; i: number; j: number }
  | { op: 'moveaxis'; src: number; dst: number }
  | { op: 'broadcastTo'; shape: number[] }
  | { op: 'expandDims'; axis: number }
  | { op: 'squeeze'; axis: number | null }
  | { op: 'flatten' }
  | { op: 'flip'; axis: number | null }
  | { op: 'slice'; specs: SliceSpec[] };

export interface ViewNode extends Typed {
  kind: 'view';
  view: ViewSpec;
  x: Node;
}

export interface JoinNode extends Typed {
  kind: 'concatenate' | 'stack';
  xs: Node[];
  /** null: the axis argument is left out (default 0). */
  axis: number | null;
}

/** split(x, sections, axis)[part] */
export interface SplitNode extends Typed {
  kind: 'split';
  x: Node;
  sections: number | number[];
  axis: number | null;
  part: number;
}

/** The reductions a graph node can hold (softmax/logSoftmax keep the shape: SoftmaxNode). */
export type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'mean' | 'any' | 'all' | 'logsumexp' | 'var' | 'std' | 'countNonzero' | 'norm' | 'argmax' | 'argmin';

export { REDUCE_OPS } from './graph-combine.js';

/** A reduction anywhere in the graph: ma.op(x, axis, keepdims) (var/std: ddof; norm: ord). */
export interface ReduceNode extends Typed {
  kind: 'reduce';
  op: ReduceOp;
  x: Node;
  /** argmax/argmin: one axis or null. */
  axis: R.Axes;
  keepdims: boolean;
  ddof: number;
  ord: R.NormOrd;
  /** x.op(...) instead of ma.op(x, ...) (not for countNonzero and norm). */
  method: boolean;
}

export interface SoftmaxNode extends Typed {
  kind: 'softmax';
  op: 'softmax' | 'logSoftmax';
  x: Node;
  axis: number | number[];
}

export interface ScanNode extends Typed {
  kind: 'scan';
  op: R.ScanOp;
  x: Node;
  /** null: over the flattened array. */
  axis: number | null;
  reverse: boolean;
  inclusive: boolean;
}

export interface MatmulNode extends Typed {
  kind: 'matmul';
  a: Node;
  b: Node;
}

/** ma.take(x, indices, axis) with constant in-range (possibly negative) indices. */
export interface TakeNode extends Typed {
  kind: 'take';
  x: Node;
  indices: number[];
  indexShape: number[];
  axis: number;
}

/** Nodes that combine elements (reductions, scans, products, gathers). */
export type CombiningNode = ReduceNode | SoftmaxNode | ScanNode | MatmulNode | TakeNode;

export type Node = LeafNode | UnaryNode | BinaryNode | WhereNode | ClipNode | CastNode | ViewNode | JoinNode | SplitNode | CombiningNode;
export type Arg = Node | ScalarNode;

export function isScalar(a: Arg): a is ScalarNode {
  return a.kind === 'scalar';
}

// ---------------------------------------------------------------------------------
// Oracle evaluation
// ---------------------------------------------------------------------------------

export type RefValue = RefArray | number;

/** Applies a view spec with the oracle (any dtype: also used for bound arrays). */
export function applyView(v: ViewSpec, a: RefArray): RefArray {
  switch (v.op) {
    case 'reshape':
      return R.reshape(a, v.shape);
    case 'transpose':
      return R.transpose(a, v.axes ?? undefined);
    case 'swapaxes':
      return R.swapaxes(a, v.i, v.j);
    case 'moveaxis':
      return R.moveaxis(a, v.src, v.dst);
    case 'broadcastTo':
      return R.broadcastTo(a, v.shape);
    case 'expandDims':
      return R.expandDims(a, v.axis);
    case 'squeeze':
      return R.squeeze(a, v.axis ?? undefined);
    case 'flatten':
      return R.flatten(a);
    case 'flip':
      return R.flip(a, v.axis ?? undefined);
    case 'slice':
      return R.slice(a, ...v.specs);
  }
}

export function leafRef(n: LeafNode): RefArray {
  return R.fromFlat(n.dtype, n.shape, n.values);
}

/**
 * A hook that may replace the values of an elementwise result (used by the harness
 * self-test to imitate a library that is within tolerance but not bit-equal).
 * `args` are the operands broadcast to the result and converted to `compute`.
 */
export type Perturb = (op: string, compute: DType, result: RefArray, args: Scalar[][]) => RefArray;

/** Evaluates a graph with the oracle. Shared nodes are evaluated once. */
export function evalRef(root: Node, perturb?: Perturb, memo: Map<Node, RefArray> = new Map()): RefArray {
  const argVal = (a: Arg): R.Operand => (isScalar(a) ? a.value : go(a));
  const operandsIn = (ops: R.Operand[], promoted: DType, compute: DType, shape: readonly number[]): Scalar[][] =>
    ops.map((o) =>
      typeof o === 'object'
        ? R.flatBroadcast(o, shape).map((x) => R.castScalar(x, o.dtype, compute))
        : new Array<Scalar>(R.sizeOf(shape)).fill(R.weakScalarIn(o, promoted, compute)),
    );
  const binaryOp = (op: BinaryOp, a: R.Operand, b: R.Operand): RefArray => {
    const r = R.binary(op, a, b);
    if (!perturb) return r;
    const { promoted, compute } = R.binaryResultDTypes(op, a, b);
    return perturb(op, compute, r, operandsIn([a, b], promoted, compute, r.nd.shape));
  };
  const go = (n: Node): RefArray => {
    const hit = memo.get(n);
    if (hit) return hit;
    let r: RefArray;
    switch (n.kind) {
      case 'leaf':
        r = leafRef(n);
        break;
      case 'unary': {
        const x = go(n.x);
        r = R.unary(n.op, x);
        if (perturb) {
          const { compute } = R.unaryDTypes(n.op, x.dtype);
          r = perturb(n.op, compute, r, operandsIn([x], x.dtype, compute, x.nd.shape));
        }
        break;
      }
      case 'binary':
        r = binaryOp(n.op, argVal(n.a), argVal(n.b));
        break;
      case 'where':
        r = R.where(go(n.c), argVal(n.a), argVal(n.b));
        break;
      case 'clip': {
        // clip = minimum(maximum(x, lo), hi), as the doc defines it
        let cur: RefArray = go(n.x);
        if (n.lo !== null) cur = binaryOp('maximum', cur, argVal(n.lo));
        if (n.hi !== null) cur = binaryOp('minimum', cur, argVal(n.hi));
        r = cur;
        break;
      }
      case 'cast':
        r = R.astype(go(n.x), n.dtype);
        break;
      case 'view':
        r = applyView(n.view, go(n.x));
        break;
      case 'concatenate':
        r = R.concatenate(n.xs.map(go), n.axis ?? 0);
        break;
      case 'stack':
        r = R.stack(n.xs.map(go), n.axis ?? 0);
        break;
      case 'split':
        r = R.split(go(n.x), n.sections, n.axis ?? 0)[n.part];
        break;
      default:
        r = combineRef(n, go);
        break;
    }
    memo.set(n, r);
    return r;
  };
  return go(root);
}

/** The oracle's value of a combining node, given the values of its operands. */
export function combineRef(n: CombiningNode, go: (x: Node) => RefArray): RefArray {
  switch (n.kind) {
    case 'reduce':
      return reduceRef(n, go(n.x));
    case 'softmax':
      return n.op === 'softmax' ? R.softmax(go(n.x), n.axis) : R.logSoftmax(go(n.x), n.axis);
    case 'scan':
      return R.scan(n.op, go(n.x), n.axis, n.reverse, n.inclusive);
    case 'matmul':
      return R.matmul(go(n.a), go(n.b));
    case 'take':
      return R.indexing.take(go(n.x), indexRef(n), n.axis);
  }
}

/** The oracle's reduction `op` of `x` with the node's arguments. */
export function reduceRef(n: Pick<ReduceNode, 'op' | 'axis' | 'keepdims' | 'ddof' | 'ord'>, x: RefArray): RefArray {
  switch (n.op) {
    case 'argmax':
    case 'argmin': {
      const axis = n.axis === null || n.axis === undefined ? null : typeof n.axis === 'number' ? n.axis : n.axis[0];
      return n.op === 'argmax' ? R.argmax(x, axis, n.keepdims) : R.argmin(x, axis, n.keepdims);
    }
    case 'var':
      return R.var(x, n.axis, n.keepdims, n.ddof);
    case 'std':
      return R.std(x, n.axis, n.keepdims, n.ddof);
    case 'norm':
      return R.norm(x, n.ord, n.axis, n.keepdims);
    default:
      return REF_AXES_REDUCE[n.op](x, n.axis, n.keepdims);
  }
}

const REF_AXES_REDUCE: Readonly<
  Record<Exclude<ReduceOp, 'argmax' | 'argmin' | 'var' | 'std' | 'norm'>, (x: RefArray, axis: R.Axes, keepdims: boolean) => RefArray>
> = {
  sum: R.sum,
  prod: R.prod,
  max: R.max,
  min: R.min,
  mean: R.mean,
  any: R.any,
  all: R.all,
  logsumexp: R.logsumexp,
  countNonzero: R.countNonzero,
};

export function indexRef(n: TakeNode): RefArray {
  return R.fromFlat('int32', n.indexShape, n.indices);
}

/** All distinct nodes in evaluation order (children first). */
export function topoOrder(root: Node): Node[] {
  const seen = new Set<Node>();
  const out: Node[] = [];
  const visit = (n: Arg): void => {
    if (isScalar(n) || seen.has(n)) return;
    seen.add(n);
    for (const c of children(n)) visit(c);
    out.push(n);
  };
  visit(root);
  return out;
}

export function children(n: Node): Arg[] {
  switch (n.kind) {
    case 'leaf':
      return [];
    case 'unary':
    case 'cast':
    case 'view':
    case 'split':
    case 'reduce':
    case 'softmax':
    case 'scan':
    case 'take':
      return [n.x];
    case 'matmul':
      return [n.a, n.b];
    case 'binary':
      return [n.a, n.b];
    case 'where':
      return [n.c, n.a, n.b];
    case 'clip':
      return [n.x, ...(n.lo ? [n.lo] : []), ...(n.hi ? [n.hi] : [])];
    case 'concatenate':
    case 'stack':
      return n.xs;
  }
}

/** Op names used in a graph (for tolerance lookup and reporting). */
export function opsUsed(root: Node): string[] {
  const ops = new Set<string>();
  for (const n of topoOrder(root)) {
    if (n.kind === 'unary' || n.kind === 'binary' || n.kind === 'reduce' || n.kind === 'softmax' || n.kind === 'scan') ops.add(n.op);
    else if (n.kind === 'view') ops.add(n.view.op);
    else if (n.kind !== 'leaf') ops.add(n.kind);
  }
  return [...ops];
}

export function depthOf(root: Arg): number {
  if (isScalar(root)) return 0;
  const cs = children(root);
  return 1 + (cs.length === 0 ? 0 : Math.max(...cs.map(depthOf)));
}

// ---------------------------------------------------------------------------------
// Random values
// ---------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG for leaf values. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randInt(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

function randBig(rng: () => number, bits: number, signed: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(randInt(rng, 0, 0xffff));
  return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
}

/** Special float values of a dtype (all representable). */
export function floatSpecials(dtype: DType): number[] {
  const fmt = R.DTYPES[dtype].format;
  if (!fmt) return [];
  const max = R.maxFinite(dtype);
  const minNormal = R.pow2(fmt.minExp);
  const minSub = R.ulp(0, dtype);
  return [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, max, -max, minNormal, -minNormal, minSub, -minSub, 1, -1];
}

export interface ValueProfile {
  /** Relative weights of the value classes. */
  special: number;
  small: number;
  moderate: number;
  wide: number;
}

export const DEFAULT_PROFILE: ValueProfile = { special: 12, small: 25, moderate: 38, wide: 25 };

/** One random value of a dtype (representable; bigint for 64-bit ints). */
export function randomValue(rng: () => number, dtype: DType, profile: ValueProfile = DEFAULT_PROFILE): Scalar {
  const info = R.DTYPES[dtype];
  if (info.kind === 'bool') return rng() < 0.5 ? 1 : 0;
  if (info.kind === 'int' || info.kind === 'uint') {
    const min = info.min ?? 0n;
    const max = info.max ?? 0n;
    const u = rng() * 100;
    let v: bigint;
    if (u < 25) {
      const edges = [min, max, min + 1n, max - 1n, 0n, 1n, info.kind === 'int' ? -1n : 2n];
      v = edges[randInt(rng, 0, edges.length - 1)];
    } else if (u < 60) {
      v = BigInt(randInt(rng, info.kind === 'int' ? -6 : 0, 6));
    } else if (u < 80) {
      v = BigInt(randInt(rng, info.kind === 'int' ? -300 : 0, 300));
    } else {
      v = randBig(rng, info.bits, info.kind === 'int');
    }
    if (v < min) v = min;
    if (v > max) v = max;
    return info.big ? v : Number(v);
  }
  const fmt = info.format;
  if (!fmt) throw new Error('unreachable');
  const total = profile.special + profile.small + profile.moderate + profile.wide;
  let u = rng() * total;
  let x: number;
  if ((u -= profile.special) < 0) {
    const sp = floatSpecials(dtype);
    x = sp[randInt(rng, 0, sp.length - 1)];
  } else if ((u -= profile.small) < 0) {
    x = randInt(rng, -16, 16) / 2; // includes .5 ties for round
  } else if ((u -= profile.moderate) < 0) {
    x = (rng() * 2 - 1) * 4;
  } else {
    const e = randInt(rng, fmt.minExp - fmt.mantissaBits, fmt.maxExp);
    const m = 1 + rng();
    x = (rng() < 0.5 ? -1 : 1) * m * 2 ** e;
  }
  return R.roundFloat(x, dtype);
}

export function randomValues(seed: number, dtype: DType, n: number, profile?: ValueProfile): Scalar[] {
  const rng = prng(seed);
  const out: Scalar[] = [];
  for (let i = 0; i < n; i++) out.push(randomValue(rng, dtype, profile));
  return out;
}

// ---------------------------------------------------------------------------------
// Random choices: fast-check's gen() or a seeded PRNG behind one interface
// ---------------------------------------------------------------------------------

export interface Draw {
  /** Integer in [min, max]; fast-check shrinks toward min, so list simple choices first. */
  int(min: number, max: number): number;
}

/**
 * A uniform integer in [min, max]. fast-check biases `fc.integer` toward small values
 * (a nominal 8% `chance` came out at 29-38%, and half the drawn arrays were empty);
 * `noBias` keeps the draws uniform while shrinking still moves toward `min`. One
 * factory, so fc.gen() caches one arbitrary per range.
 */
const uniformInteger = (min: number, max: number): fc.Arbitrary<number> => fc.noBias(fc.integer({ min, max }));

export function drawFromGen(g: fc.GeneratorValue): Draw {
  return { int: (min, max) => (min === max ? min : g(uniformInteger, min, max)) };
}

export function drawFromSeed(seed: number): Draw {
  const rng = prng(seed);
  return { int: (min, max) => randInt(rng, min, max) };
}

export function pick<T>(d: Draw, xs: readonly T[]): T {
  return xs[d.int(0, xs.length - 1)];
}

export function chance(d: Draw, percent: number): boolean {
  return d.int(0, 99) < percent;
}

export function weighted<T>(d: Draw, items: readonly (readonly [number, T])[]): T {
  const total = items.reduce((s, [w]) => s + w, 0);
  let u = d.int(0, total - 1);
  for (const [w, v] of items) {
    if (u < w) return v;
    u -= w;
  }
  return items[items.length - 1][1];
}

// ---------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------

/**
 * Dimension sizes of ordinary shapes with their weights: mostly small, some past the
 * 16-byte vector widths (4 floats, 2 doubles, 8 halves, 16 bytes) and odd sizes that
 * leave remainders.
 */
export const DIM_WEIGHTS: readonly (readonly [number, number])[] = [
  [24, 1],
  [16, 2],
  [14, 3],
  [8, 4],
  [8, 5],
  [6, 7],
  [5, 8],
  [4, 9],
  [4, 16],
  [3, 17],
  [3, 33],
  [2, 64],
];

/** Sizes of the one long axis of a large shape: past the matmul tile (128) and past 1024-element rows. */
export const LARGE_DIMS = [129, 200, 257, 513, 1025, 1031, 1100, 1500, 2049] as const;

/** Percent of drawn shapes that get one long axis (LARGE_DIMS, clamped to the element budget). */
export const LARGE_SHAPE_PERCENT = 10;

/** Default element budget of a drawn shape. */
export const SHAPE_BUDGET = 2100;

/** One dimension of at most `limit` (>= 1) elements. */
export function drawDim(d: Draw, limit = Number.MAX_SAFE_INTEGER): number {
  const s = weighted(d, DIM_WEIGHTS);
  return s <= limit ? s : d.int(1, Math.max(1, limit));
}

/**
 * A random shape of rank minRank..maxRank. `emptyPercent` percent of the shapes hold one
 * zero dim (the rest have none), LARGE_SHAPE_PERCENT percent have one long axis, and the
 * element count stays within `budget` (a long axis is clamped to it).
 */
export function drawShape(d: Draw, minRank = 0, maxRank = 4, emptyPercent = 4, budget = SHAPE_BUDGET): number[] {
  const rank = d.int(minRank, maxRank);
  if (rank === 0) return [];
  const shape = new Array<number>(rank).fill(1);
  const order = shuffle(
    d,
    shape.map((_, i) => i),
  );
  let left = budget;
  let k = 0;
  if (chance(d, LARGE_SHAPE_PERCENT)) {
    const big = Math.max(1, Math.min(pick(d, LARGE_DIMS), budget));
    shape[order[0]] = big;
    left = Math.floor(budget / big);
    k = 1;
  }
  for (; k < rank; k++) {
    const s = drawDim(d, Math.max(1, left));
    shape[order[k]] = s;
    left = Math.floor(left / s);
  }
  if (chance(d, emptyPercent)) shape[d.int(0, rank - 1)] = 0;
  return shape;
}

/** A shape that broadcasts to `shape` (leading dims dropped, some dims set to 1). */
export function drawBroadcastable(d: Draw, shape: readonly number[]): number[] {
  if (chance(d, 30)) return [...shape];
  const drop = d.int(0, shape.length);
  return shape.slice(drop).map((s) => (chance(d, 35) ? 1 : s));
}

/** Two shapes that broadcast together (either side may have the 1s). */
export function drawBroadcastPair(d: Draw, maxRank = 4): [number[], number[]] {
  const out = drawShape(d, 0, maxRank);
  const a = drawBroadcastable(d, out);
  const b = drawBroadcastable(d, out);
  // make sure the pair broadcasts to `out` on at least one side
  return chance(d, 50) ? [out, b] : [a, out];
}

const factorCache = new Map<number, number[]>();
function primeFactors(n: number): number[] {
  const hit = factorCache.get(n);
  if (hit) return hit;
  const out: number[] = [];
  let m = n;
  for (let p = 2; p * p <= m; p++) {
    while (m % p === 0) {
      out.push(p);
      m /= p;
    }
  }
  if (m > 1) out.push(m);
  factorCache.set(n, out);
  return out;
}

/** A random shape with `size` elements (rank 0..4). */
export function drawShapeOfSize(d: Draw, size: number): number[] {
  if (size === 0) {
    const rank = d.int(1, 3);
    const s = Array.from({ length: rank }, () => pick(d, [1, 2, 3]));
    s[d.int(0, rank - 1)] = 0;
    return s;
  }
  if (size === 1 && chance(d, 30)) return [];
  const rank = d.int(1, 4);
  const dims = new Array<number>(rank).fill(1);
  for (const p of primeFactors(size)) dims[d.int(0, rank - 1)] *= p;
  return dims;
}

// ---------------------------------------------------------------------------------
// Dtype helpers for the generator
// ---------------------------------------------------------------------------------

function argDType(a: Arg): DType | number {
  return isScalar(a) ? a.value : a.dtype;
}

/** The result dtype of a binary op on these args, or null if it is a DTypeError. */
export function binaryResult(op: BinaryOp, a: Arg, b: Arg): DType | null {
  const arrays: DType[] = [];
  const scalars: number[] = [];
  for (const x of [a, b]) {
    const t = argDType(x);
    if (typeof t === 'number') scalars.push(t);
    else arrays.push(t);
  }
  try {
    return R.binaryDTypes(op, R.operandsDType(arrays, scalars)).result;
  } catch (e) {
    if (e instanceof R.DTypeError) return null;
    throw e;
  }
}

export function unaryResult(op: UnaryOp, x: DType): DType | null {
  try {
    return R.unaryDTypes(op, x).result;
  } catch (e) {
    if (e instanceof R.DTypeError) return null;
    throw e;
  }
}

function whereResult(a: Arg, b: Arg): DType {
  const arrays: DType[] = [];
  const scalars: number[] = [];
  for (const x of [a, b]) {
    const t = argDType(x);
    if (typeof t === 'number') scalars.push(t);
    else arrays.push(t);
  }
  return R.operandsDType(arrays, scalars);
}

// ---------------------------------------------------------------------------------
// Graph generator
// ---------------------------------------------------------------------------------

export interface GraphOptions {
  /** Longest path from root to a leaf (the generator aims for a random depth up to this). */
  maxDepth: number;
  /** Upper bound on the number of op nodes. */
  maxNodes: number;
  /** Dtypes for leaves and casts. */
  dtypes: readonly DType[];
  unaryOps: readonly UnaryOp[];
  binaryOps: readonly BinaryOp[];
  /** Relative weights of node kinds. */
  weights: {
    unary: number;
    binary: number;
    where: number;
    clip: number;
    cast: number;
    view: number;
    concatenate: number;
    stack: number;
    split: number;
    /** Reductions (sum ... argmin), anywhere in the graph: see graph-combine.ts. */
    reduce: number;
    softmax: number;
    scan: number;
    matmul: number;
    take: number;
  };
  /** Percent chance that a binary/where/clip operand is a JS number. */
  scalarPercent: number;
  /** Percent chance that a side operand reuses an existing node of the same shape (a DAG). */
  sharePercent: number;
  /** Max elements of any intermediate. */
  maxElements: number;
  profile: ValueProfile;
}

export const DEFAULT_GRAPH_OPTIONS: GraphOptions = {
  maxDepth: 20,
  maxNodes: 28,
  dtypes: BACKEND_DTYPES,
  unaryOps: R.UNARY_OPS,
  binaryOps: R.BINARY_OPS,
  weights: {
    unary: 30,
    binary: 30,
    where: 6,
    clip: 3,
    cast: 8,
    view: 20,
    concatenate: 4,
    stack: 2,
    split: 2,
    reduce: 0,
    softmax: 0,
    scan: 0,
    matmul: 0,
    take: 0,
  },
  scalarPercent: 25,
  sharePercent: 10,
  maxElements: SHAPE_BUDGET,
  profile: DEFAULT_PROFILE,
};

/** Weak JS operands: small, wrapping, not representable in 16-bit floats, special. */
const SCALARS = [2, -1, 0, 1, 3, 0.5, -2.5, 7, 300, -129, 1.5, 0.1, 1 / 3, 65536, 70000, 1e-8, 2 ** 31, 1e10, Number.NaN, Number.POSITIVE_INFINITY, -0];

export class Builder {
  nodes = 0;
  pool = new Map<string, Node[]>();
  constructor(
    readonly d: Draw,
    readonly o: GraphOptions,
  ) {}

  remember(n: Node): Node {
    const key = n.shape.join(',');
    const list = this.pool.get(key) ?? [];
    list.push(n);
    this.pool.set(key, list);
    return n;
  }

  leaf(shape: number[], dtype?: DType): LeafNode {
    const dt = dtype ?? pick(this.d, this.o.dtypes);
    const seed = this.d.int(0, 0x7fffffff);
    const values = randomValues(seed, dt, R.sizeOf(shape), this.o.profile);
    // nested JS arrays cannot express a zero-size shape such as [0, 3], and 64-bit values
    // are given as bigints in typed arrays
    const nestedOk = !R.isBig(dt) && values.length > 0;
    const form = nestedOk && chance(this.d, 25) ? 'nested' : 'typed';
    const n: LeafNode = { kind: 'leaf', dtype: dt, shape: [...shape], values, form };
    this.remember(n);
    return n;
  }

  scalarFor(): ScalarNode {
    return { kind: 'scalar', value: pick(this.d, SCALARS) };
  }

  /** A side operand: small subtree, shared node, or leaf. */
  side(shape: number[]): Node {
    const shared = this.pool.get(shape.join(','));
    if (shared && shared.length > 0 && chance(this.d, this.o.sharePercent)) return pick(this.d, shared);
    return this.build(shape, chance(this.d, 50) ? 0 : this.d.int(1, 2));
  }

  arg(shape: number[], allowScalar: boolean): Arg {
    if (allowScalar && chance(this.d, this.o.scalarPercent)) return this.scalarFor();
    return this.side(drawBroadcastable(this.d, shape));
  }

  build(shape: number[], depth: number): Node {
    if (depth <= 0 || this.nodes >= this.o.maxNodes) return this.leaf(shape);
    this.nodes++;
    const w = this.o.weights;
    const kind = weighted(this.d, [
      [w.unary, 'unary'],
      [w.binary, 'binary'],
      [w.view, 'view'],
      [w.cast, 'cast'],
      [w.where, 'where'],
      [w.clip, 'clip'],
      [w.concatenate, 'concatenate'],
      [w.stack, 'stack'],
      [w.split, 'split'],
      [w.reduce, 'reduce'],
      [w.softmax, 'softmax'],
      [w.scan, 'scan'],
      [w.matmul, 'matmul'],
      [w.take, 'take'],
    ] as const);
    const n = this.buildKind(kind, shape, depth);
    return this.remember(n ?? this.leaf(shape));
  }

  buildKind(kind: string, shape: number[], depth: number): Node | null {
    const d = this.d;
    switch (kind) {
      case 'unary': {
        const x = this.build(shape, depth - 1);
        const ops = this.o.unaryOps.filter((op) => unaryResult(op, x.dtype) !== null);
        if (ops.length === 0) return x;
        const op = pick(d, ops);
        const dtype = unaryResult(op, x.dtype) as DType;
        return { kind: 'unary', op, x, dtype, shape: [...shape], method: chance(d, 50) };
      }
      case 'binary': {
        const main = this.build(shape, depth - 1);
        const other = this.arg(shape, true);
        const [a, b] = chance(d, 50) ? [main, other] : [other, main];
        const ops = this.o.binaryOps.filter((op) => binaryResult(op, a, b) !== null);
        if (ops.length === 0) return main;
        const op = pick(d, ops);
        const dtype = binaryResult(op, a, b) as DType;
        return { kind: 'binary', op, a, b, dtype, shape: [...shape], method: !isScalar(a) && chance(d, 50) };
      }
      case 'where': {
        const main = this.build(shape, depth - 1);
        const c = this.side(drawBroadcastable(d, shape));
        const other = this.arg(shape, true);
        const [a, b] = chance(d, 50) ? [main, other] : [other, main];
        return { kind: 'where', c, a, b, dtype: whereResult(a, b), shape: [...shape] };
      }
      case 'clip': {
        const x = this.build(shape, depth - 1);
        const intLike = !R.isFloat(x.dtype);
        const bound = (): Arg | null => {
          if (chance(d, 20)) return null;
          if (chance(d, 60)) {
            // integer-valued bounds for integer arrays (the doc's "weak scalars keep a's dtype")
            const v = pick(d, intLike ? [0, 1, -1, 5, 100] : [0, 1, -1, 0.5, -2.5, 100]);
            return { kind: 'scalar', value: v };
          }
          return this.side(drawBroadcastable(d, shape));
        };
        const lo = bound();
        const hi = bound();
        if (lo === null && hi === null) return x;
        let dt: DType | null = x.dtype;
        let cur: Arg = x;
        for (const [op, bd] of [
          ['maximum', lo],
          ['minimum', hi],
        ] as const) {
          if (bd === null || dt === null) continue;
          dt = binaryResult(op, cur, bd);
          cur = { ...x, dtype: dt ?? x.dtype };
        }
        if (dt === null) return x;
        return { kind: 'clip', x, lo, hi, dtype: dt, shape: [...shape] };
      }
      case 'cast': {
        const x = this.build(shape, depth - 1);
        return { kind: 'cast', x, dtype: pick(d, this.o.dtypes), shape: [...shape] };
      }
      case 'view':
        return this.view(shape, depth);
      case 'concatenate': {
        if (shape.length === 0) return null;
        const ax = d.int(0, shape.length - 1);
        const nParts = d.int(2, 3);
        const sizes = splitSize(d, shape[ax], nParts);
        const xs = sizes.map((s, i) => {
          const sh = [...shape];
          sh[ax] = s;
          return i === 0 ? this.build(sh, depth - 1) : this.side(sh);
        });
        let dt = xs[0].dtype;
        for (const x of xs) dt = R.promote(dt, x.dtype);
        const axis = ax === 0 && chance(d, 30) ? null : chance(d, 30) ? ax - shape.length : ax;
        return { kind: 'concatenate', xs, axis, dtype: dt, shape: [...shape] };
      }
      case 'stack': {
        const axes = shape.map((s, i) => (s >= 1 && s <= 3 ? i : -1)).filter((i) => i >= 0);
        if (axes.length === 0) return null;
        const ax = pick(d, axes);
        const sub = shape.filter((_, i) => i !== ax);
        const xs = Array.from({ length: shape[ax] }, (_, i) => (i === 0 ? this.build(sub, depth - 1) : this.side(sub)));
        let dt = xs[0].dtype;
        for (const x of xs) dt = R.promote(dt, x.dtype);
        const axis = ax === 0 && chance(d, 30) ? null : chance(d, 30) ? ax - shape.length : ax;
        return { kind: 'stack', xs, axis, dtype: dt, shape: [...shape] };
      }
      case 'split': {
        if (shape.length === 0) return null;
        const ax = d.int(0, shape.length - 1);
        const childShape = [...shape];
        let sections: number | number[];
        let part: number;
        if (chance(d, 50)) {
          const k = d.int(1, 3);
          childShape[ax] = shape[ax] * k;
          sections = k;
          part = d.int(0, k - 1);
        } else {
          const before = d.int(0, 2);
          const after = d.int(0, 2);
          childShape[ax] = before + shape[ax] + after;
          const len = childShape[ax];
          // indices [before, before + n]; sometimes written from the end (negative)
          const i0 = before;
          const i1 = before + shape[ax];
          const w0 = chance(d, 30) && i0 < len ? i0 - len : i0;
          const w1 = chance(d, 30) && i1 < len ? i1 - len : i1;
          sections = [w0, w1];
          part = 1;
        }
        if (R.sizeOf(childShape) > this.o.maxElements) return null;
        const x = this.build(childShape, depth - 1);
        const axis = ax === 0 && chance(d, 30) ? null : chance(d, 30) ? ax - shape.length : ax;
        return { kind: 'split', x, sections, axis, part, dtype: x.dtype, shape: [...shape] };
      }
      case 'reduce':
      case 'softmax':
      case 'scan':
      case 'matmul':
      case 'take':
        return buildCombining(this, kind, shape, depth);
      default:
        return null;
    }
  }

  view(shape: number[], depth: number): Node | null {
    const d = this.d;
    const rank = shape.length;
    const mk = (view: ViewSpec, childShape: number[]): Node | null => {
      if (R.sizeOf(childShape) > this.o.maxElements || childShape.length > 6) return null;
      const x = this.build(childShape, depth - 1);
      return { kind: 'view', view, x, dtype: x.dtype, shape: [...shape] };
    };
    const which = pick(d, [
      'slice',
      'transpose',
      'reshape',
      'flip',
      'broadcastTo',
      'expandDims',
      'squeeze',
      'swapaxes',
      'moveaxis',
      'flatten',
      'slice',
    ] as const);
    switch (which) {
      case 'reshape': {
        const size = R.sizeOf(shape);
        const childShape = drawShapeOfSize(d, size);
        const target = [...shape];
        if (size > 0 && rank > 0 && chance(d, 40)) target[d.int(0, rank - 1)] = -1;
        return mk({ op: 'reshape', shape: target, spread: rank > 0 && chance(d, 30) }, childShape);
      }
      case 'transpose': {
        const perm = shuffle(
          d,
          shape.map((_, i) => i),
        );
        const child = new Array<number>(rank);
        perm.forEach((p, i) => {
          child[p] = shape[i];
        });
        const reversed = perm.every((p, i) => p === rank - 1 - i);
        const axes = reversed && chance(d, 50) ? null : perm.map((p) => (chance(d, 20) ? p - rank : p));
        return mk({ op: 'transpose', axes }, child);
      }
      case 'swapaxes': {
        if (rank === 0) return null;
        const i = d.int(0, rank - 1);
        const j = d.int(0, rank - 1);
        const child = [...shape];
        child[i] = shape[j];
        child[j] = shape[i];
        return mk({ op: 'swapaxes', i: chance(d, 30) ? i - rank : i, j }, child);
      }
      case 'moveaxis': {
        if (rank === 0) return null;
        const src = d.int(0, rank - 1);
        const dst = d.int(0, rank - 1);
        // result = child with axis src moved to dst, so child = result with axis dst moved to src
        const rest = shape.filter((_, k) => k !== dst);
        const child = [...rest.slice(0, src), shape[dst], ...rest.slice(src)];
        return mk({ op: 'moveaxis', src, dst: chance(d, 30) ? dst - rank : dst }, child);
      }
      case 'broadcastTo': {
        const child = drawBroadcastable(d, shape);
        return mk({ op: 'broadcastTo', shape: [...shape] }, child);
      }
      case 'expandDims': {
        const ones = shape.map((s, i) => (s === 1 ? i : -1)).filter((i) => i >= 0);
        if (ones.length === 0) return null;
        const ax = pick(d, ones);
        const child = shape.filter((_, i) => i !== ax);
        return mk({ op: 'expandDims', axis: chance(d, 30) ? ax - rank : ax }, child);
      }
      case 'squeeze': {
        const ax = d.int(0, rank);
        const child = [...shape.slice(0, ax), 1, ...shape.slice(ax)];
        const noOtherOnes = !shape.includes(1);
        const axis = noOtherOnes && chance(d, 40) ? null : chance(d, 30) ? ax - child.length : ax;
        return mk({ op: 'squeeze', axis }, child);
      }
      case 'flatten': {
        if (rank !== 1) return null;
        return mk({ op: 'flatten' }, drawShapeOfSize(d, shape[0]));
      }
      case 'flip': {
        const axis = rank === 0 || chance(d, 30) ? null : d.int(-rank, rank - 1);
        return mk({ op: 'flip', axis }, [...shape]);
      }
      case 'slice': {
        const { specs, childShape } = drawSlice(d, shape);
        return mk({ op: 'slice', specs }, childShape);
      }
    }
  }
}

function shuffle<T>(d: Draw, xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = d.int(0, i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function splitSize(d: Draw, total: number, parts: number): number[] {
  const cuts = Array.from({ length: parts - 1 }, () => d.int(0, total)).sort((x, y) => x - y);
  const out: number[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(c - prev);
    prev = c;
  }
  out.push(total - prev);
  return out;
}

type RangeSpec = [number | null, number | null, number | null];

/**
 * A range spec over an axis of length `len` that selects `count` elements with `step`,
 * starting at `start`, written in one of the equivalent Python forms (negative
 * indices, omitted bounds, out-of-range bounds that clamp).
 */
function writeRange(d: Draw, len: number, start: number, count: number, step: number): RangeSpec {
  const st: number | null = step === 1 && chance(d, 40) ? null : step;
  if (count === 0) {
    const k = d.int(0, len);
    return [k, k, st];
  }
  const last = start + (count - 1) * step;
  let startW: number | null = start;
  const defaultStart = step > 0 ? 0 : len - 1;
  const startForm = d.int(0, 9);
  if (start === defaultStart && startForm < 4) startW = null;
  else if (startForm < 7)
    startW = start - len; // negative form
  else if (step < 0 && start === len - 1 && startForm < 9) startW = len + d.int(0, 5); // clamps to len - 1
  let stopW: number | null;
  if (step > 0) {
    // any stop in (last, last + step] selects exactly count elements
    const stop = last + d.int(1, step);
    if (stop >= len && chance(d, 50)) stopW = chance(d, 50) ? null : len + d.int(0, 5);
    else if (stop < len && chance(d, 30)) stopW = stop - len;
    else stopW = stop;
  } else {
    const stop = last - d.int(1, -step); // in [last + step, last - 1]
    if (stop < 0)
      stopW = chance(d, 50) ? null : -len - 1 - d.int(0, 5); // clamps to "before 0"
    else if (chance(d, 30)) stopW = stop - len;
    else stopW = stop;
  }
  return [startW, stopW, st];
}

/** Slice specs producing `shape`, and the shape of the array they apply to. */
export function drawSlice(d: Draw, shape: readonly number[]): { specs: SliceSpec[]; childShape: number[] } {
  const specs: SliceSpec[] = [];
  const childShape: number[] = [];
  const full: boolean[] = [];
  const pushIndex = () => {
    const len = d.int(1, 3);
    const i = d.int(0, len - 1);
    specs.push(chance(d, 40) ? i - len : i);
    childShape.push(len);
    full.push(false);
  };
  for (const s of shape) {
    if (chance(d, 12)) pushIndex();
    if (s === 1 && chance(d, 20)) {
      specs.push(null);
      full.push(false);
      continue;
    }
    const step = pick(d, [1, 1, 2, -1, 3, -2, -3]);
    const extra = s === 0 ? d.int(0, 3) : d.int(0, Math.abs(step) + 1);
    const len = s === 0 ? extra : (s - 1) * Math.abs(step) + 1 + extra;
    const slack = len - (s === 0 ? 0 : (s - 1) * Math.abs(step) + 1);
    const off = d.int(0, slack);
    const start = step > 0 ? off : len - 1 - off;
    if (s > 0 && step === 1 && off === 0 && extra === 0 && chance(d, 40)) {
      specs.push([null, null, null]);
      full.push(true);
    } else {
      specs.push(writeRange(d, len, start, s, step));
      full.push(false);
    }
    childShape.push(len);
  }
  if (chance(d, 10)) pushIndex();
  // Trailing full ranges may be left out or written as '...'.
  let k = specs.length;
  while (k > 0 && full[k - 1]) k--;
  const mode = d.int(0, 2);
  let out: SliceSpec[] = specs;
  if (k < specs.length && mode === 1) out = specs.slice(0, k);
  else if (k < specs.length && mode === 2) out = [...specs.slice(0, k), '...'];
  else if (mode === 2 && chance(d, 30)) {
    // '...' standing for zero axes, at a random place
    const at = d.int(0, specs.length);
    out = [...specs.slice(0, at), '...', ...specs.slice(at)];
  }
  // The string form, for the whole spec list or a prefix.
  // (an empty spec list is left alone: '' is not a NumPy index)
  const form = d.int(0, 3);
  if (form === 1 && out.length > 0) out = [sliceString(out)];
  else if (form === 2 && out.length > 1) {
    const cut = d.int(1, out.length - 1);
    out = [sliceString(out.slice(0, cut)), ...out.slice(cut)];
  }
  return { specs: out, childShape };
}

/** The NumPy-like string form of specs: '1:10:2, ::-1, None, ...'. */
export function sliceString(specs: readonly SliceSpec[]): string {
  return specs
    .map((s) => {
      if (s === null) return 'None';
      if (typeof s === 'number') return String(s);
      if (typeof s === 'string') return s;
      const [a = null, b = null, c = null] = s;
      const f = (v: number | null) => (v === null ? '' : String(v));
      return c === null ? `${f(a)}:${f(b)}` : `${f(a)}:${f(b)}:${f(c)}`;
    })
    .join(', ');
}

export interface GraphCase {
  root: Node;
  depth: number;
}

/**
 * Builds a random graph from a Draw; with `root`, the root is that combining op on an
 * operand of that dtype (see graph-combine.ts, Want).
 */
export function buildGraph(d: Draw, opts: Partial<GraphOptions> = {}, root?: Want): GraphCase {
  const o = { ...DEFAULT_GRAPH_OPTIONS, ...opts };
  const b = new Builder(d, o);
  const shape = drawShape(d, root && NEEDS_AXIS.has(root.op) ? 1 : 0, 4);
  const depth = d.int(1, o.maxDepth);
  const r = root ? buildRoot(b, root, shape, depth) : b.build(shape, depth);
  return { root: r, depth: depthOf(r) };
}

/** fast-check arbitrary of random graphs (shrinks through gen()). */
export function graphArb(opts: Partial<GraphOptions> = {}): fc.Arbitrary<GraphCase> {
  return fc.gen().map((g) => buildGraph(drawFromGen(g), opts));
}

/** Arbitrary of one dtype. */
export const dtypeArb: fc.Arbitrary<DType> = fc.constantFrom(...BACKEND_DTYPES);

/** Arbitrary shape of rank 0..4, dims in {0,1,2,3,5} (0 rare). */
export const shapeArb: fc.Arbitrary<number[]> = fc.array(
  fc.oneof({ arbitrary: fc.constantFrom(1, 2, 3, 5), weight: 15 }, { arbitrary: fc.constant(0), weight: 1 }),
  { minLength: 0, maxLength: 4 },
);

/** Arbitrary pair of broadcast-compatible shapes. */
export const broadcastPairArb: fc.Arbitrary<[number[], number[]]> = fc.gen().map((g) => drawBroadcastPair(drawFromGen(g)));

/** Arbitrary leaf: dtype, shape and representable values (NaN, ±Inf, -0, extremes included). */
export function leafArb(dtype?: DType, shape?: number[]): fc.Arbitrary<LeafNode> {
  return fc.gen().map((g) => {
    const d = drawFromGen(g);
    const dt = dtype ?? pick(d, BACKEND_DTYPES);
    const sh = shape ?? drawShape(d);
    const values = randomValues(d.int(0, 0x7fffffff), dt, R.sizeOf(sh));
    return { kind: 'leaf', dtype: dt, shape: sh, values, form: 'typed' };
  });
}

// ---------------------------------------------------------------------------------
// Reproduction printer
// ---------------------------------------------------------------------------------

const TYPED_NAME: Record<DType, string> = {
  bool: 'Uint8Array',
  int8: 'Int8Array',
  int16: 'Int16Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
  uint8: 'Uint8Array',
  uint16: 'Uint16Array',
  uint32: 'Uint32Array',
  uint64: 'BigUint64Array',
  float16: 'Float32Array',
  bfloat16: 'Float32Array',
  float32: 'Float32Array',
  float64: 'Float64Array',
};

export function typedArrayName(dtype: DType): string {
  return TYPED_NAME[dtype];
}

function num(x: Scalar): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (Object.is(x, -0)) return '-0';
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  return String(x);
}

function nested(values: readonly Scalar[], shape: readonly number[], dtype: DType): string {
  const el = (x: Scalar) => (dtype === 'bool' ? (x ? 'true' : 'false') : num(x));
  if (shape.length === 0) return el(values[0]);
  const inner = R.sizeOf(shape.slice(1));
  const parts: string[] = [];
  for (let i = 0; i < shape[0]; i++) parts.push(nested(values.slice(i * inner, (i + 1) * inner), shape.slice(1), dtype));
  return `[${parts.join(', ')}]`;
}

function specCode(s: SliceSpec): string {
  if (s === null) return 'null';
  if (typeof s === 'number') return String(s);
  if (typeof s === 'string') return `'${s}'`;
  return `[${s.map((v) => (v === null || v === undefined ? 'null' : String(v))).join(', ')}]`;
}

export function leafCode(n: LeafNode): string {
  if (n.form === 'nested') return `ma.array(${nested(n.values, n.shape, n.dtype)}, '${n.dtype}')`;
  return `ma.array(new ${TYPED_NAME[n.dtype]}([${n.values.map(num).join(', ')}]), '${n.dtype}').reshape([${n.shape.join(', ')}])`;
}

/** TypeScript code that rebuilds the graph with the library API (`ma`). */
export function toCode(root: Node): string {
  const names = new Map<Node, string>();
  const lines: string[] = [];
  const ref = (a: Arg): string => (isScalar(a) ? num(a.value) : (names.get(a) as string));
  for (const n of topoOrder(root)) {
    const name = `t${names.size}`;
    names.set(n, name);
    let e: string;
    switch (n.kind) {
      case 'leaf':
        e = leafCode(n);
        break;
      case 'unary':
        e = n.method ? `${ref(n.x)}.${n.op}()` : `ma.${n.op}(${ref(n.x)})`;
        break;
      case 'binary':
        e = n.method ? `${ref(n.a)}.${n.op}(${ref(n.b)})` : `ma.${n.op}(${ref(n.a)}, ${ref(n.b)})`;
        break;
      case 'where':
        e = `ma.where(${ref(n.c)}, ${ref(n.a)}, ${ref(n.b)})`;
        break;
      case 'clip':
        e = `ma.clip(${ref(n.x)}, ${n.lo ? ref(n.lo) : 'null'}, ${n.hi ? ref(n.hi) : 'null'})`;
        break;
      case 'cast':
        e = `${ref(n.x)}.astype('${n.dtype}')`;
        break;
      case 'view':
        e = viewCode(n.view, ref(n.x));
        break;
      case 'concatenate':
      case 'stack':
        e = `ma.${n.kind}([${n.xs.map(ref).join(', ')}]${n.axis === null ? '' : `, ${n.axis}`})`;
        break;
      case 'split':
        e = `ma.split(${ref(n.x)}, ${JSON.stringify(n.sections)}${n.axis === null ? '' : `, ${n.axis}`})[${n.part}]`;
        break;
      default:
        e = combineCode(n, ref);
        break;
    }
    lines.push(`const ${name} = ${e}; // ${n.dtype} [${n.shape.join(', ')}]`);
  }
  return lines.join('\n');
}

function axesText(axis: R.Axes): string {
  if (axis === undefined) return 'undefined';
  if (axis === null) return 'null';
  return typeof axis === 'number' ? String(axis) : `[${axis.join(', ')}]`;
}

function ordText(o: R.NormOrd): string {
  if (o === null) return 'null';
  if (o === 'fro') return "'fro'";
  if (o === Number.POSITIVE_INFINITY) return 'Infinity';
  if (o === Number.NEGATIVE_INFINITY) return '-Infinity';
  return String(o);
}

/** The library call of a combining node, with its operands named by `ref`. */
export function combineCode(n: CombiningNode, ref: (a: Node) => string): string {
  switch (n.kind) {
    case 'reduce': {
      const x = ref(n.x);
      const ax = axesText(n.axis);
      const extra = n.op === 'var' || n.op === 'std' ? `, ${n.ddof}` : '';
      if (n.op === 'norm') return `ma.norm(${x}, ${ordText(n.ord)}, ${ax}, ${n.keepdims})`;
      if (n.op === 'countNonzero') return `ma.countNonzero(${x}, ${ax}, ${n.keepdims})`;
      return n.method ? `${x}.${n.op}(${ax}, ${n.keepdims}${extra})` : `ma.${n.op}(${x}, ${ax}, ${n.keepdims}${extra})`;
    }
    case 'softmax':
      return `ma.${n.op}(${ref(n.x)}, ${axesText(n.axis)})`;
    case 'scan':
      return `ma.${n.op}(${ref(n.x)}, ${n.axis}, ${n.reverse}, ${n.inclusive})`;
    case 'matmul':
      return `ma.matmul(${ref(n.a)}, ${ref(n.b)})`;
    case 'take':
      return `ma.take(${ref(n.x)}, ma.array(new Int32Array([${n.indices.join(', ')}]), 'int32').reshape([${n.indexShape.join(', ')}]), ${n.axis})`;
  }
}

export function viewCode(v: ViewSpec, x: string): string {
  switch (v.op) {
    case 'reshape':
      return v.spread ? `${x}.reshape(${v.shape.join(', ')})` : `${x}.reshape([${v.shape.join(', ')}])`;
    case 'transpose':
      return v.axes === null ? `${x}.transpose()` : `${x}.transpose([${v.axes.join(', ')}])`;
    case 'swapaxes':
      return `ma.swapaxes(${x}, ${v.i}, ${v.j})`;
    case 'moveaxis':
      return `ma.moveaxis(${x}, ${v.src}, ${v.dst})`;
    case 'broadcastTo':
      return `ma.broadcastTo(${x}, [${v.shape.join(', ')}])`;
    case 'expandDims':
      return `ma.expandDims(${x}, ${v.axis})`;
    case 'squeeze':
      return v.axis === null ? `ma.squeeze(${x})` : `ma.squeeze(${x}, ${v.axis})`;
    case 'flatten':
      return `${x}.flatten()`;
    case 'flip':
      return v.axis === null ? `ma.flip(${x})` : `ma.flip(${x}, ${v.axis})`;
    case 'slice':
      return `${x}.slice(${v.specs.map(specCode).join(', ')})`;
  }
}
