/**
 * The generator of combining nodes for graphs.ts: reductions, softmax, scans, matrix
 * products and gathers, anywhere in a drawn graph.
 *
 * A node is drawn for a given result shape, so its operand's shape follows: a reduction
 * inserts the reduced axes (or widens keepdims' 1s), and the operand is drawn in one of
 * the forms that matter to fusion:
 * - a plain subgraph;
 * - another reduction (a reduction of a reduction), or an elementwise op of one, or a
 *   binary op of two (a reduction feeding a binary op with another reduction);
 * - a reduction over a size-1 axis made by expandDims, over an axis made by broadcastTo,
 *   or over an axis that binary broadcasting stretches.
 * Ops whose arguments the oracle rejects for the drawn dtype and shape (argmax of an
 * empty extent, logsumexp of bool, ...) are left out, so every node is a valid call.
 */
import * as R from '../reference/index.js';
import type { DType, RefArray, Scalar } from '../reference/index.js';
import {
  type Builder,
  binaryResult,
  chance,
  drawBroadcastable,
  drawDim,
  drawShapeOfSize,
  type MatmulNode,
  type Node,
  pick,
  type ReduceNode,
  type ReduceOp,
  reduceRef,
  type ScanNode,
  type SoftmaxNode,
  type TakeNode,
  unaryResult,
  weighted,
} from './graphs.js';

/** The reductions of ReduceNode (defined here, not in graphs.ts: COMBINE_OPS below is built at load time). */
export const REDUCE_OPS: readonly ReduceOp[] = [
  'sum',
  'prod',
  'max',
  'min',
  'mean',
  'any',
  'all',
  'logsumexp',
  'var',
  'std',
  'countNonzero',
  'norm',
  'argmax',
  'argmin',
];

/** Every op a combining node can hold. */
export type CombineOp = ReduceOp | 'softmax' | 'logSoftmax' | R.ScanOp | 'matmul' | 'take';

export const SCAN_OPS: readonly R.ScanOp[] = ['cumsum', 'cumprod', 'cummax', 'cummin'];
export const COMBINE_OPS: readonly CombineOp[] = [...REDUCE_OPS, 'softmax', 'logSoftmax', ...SCAN_OPS, 'matmul', 'take'];

/** Ops that need an operand of rank >= 1. */
export const NEEDS_AXIS: ReadonlySet<CombineOp> = new Set<CombineOp>(['softmax', 'logSoftmax', ...SCAN_OPS, 'take']);

/**
 * A requested root: the op, on an operand of this dtype (a cast is put in front of the
 * operand when its dtype differs), so every (op, dtype) pair can be drawn on purpose.
 */
export interface Want {
  op: CombineOp;
  dtype: DType;
}

/** The (op, operand dtype) pair of a combining node, as the coverage counts it. */
export function combinePair(n: Node): [CombineOp, DType] | null {
  switch (n.kind) {
    case 'reduce':
    case 'softmax':
    case 'scan':
      return [n.op, n.x.dtype];
    case 'matmul':
      return ['matmul', n.a.dtype];
    case 'take':
      return ['take', n.x.dtype];
    default:
      return null;
  }
}

/** Whether the oracle accepts `op` on an operand of `dtype` at all (a [2, 3] array, axis -1). */
export function feasible(op: CombineOp, dtype: DType): boolean {
  const f = (z: RefArray): RefArray => {
    if ((REDUCE_OPS as readonly string[]).includes(op)) return reduceRef({ op: op as ReduceOp, axis: -1, keepdims: false, ddof: 0, ord: null }, z);
    if (op === 'softmax') return R.softmax(z, -1);
    if (op === 'logSoftmax') return R.logSoftmax(z, -1);
    if (op === 'matmul') return R.matmul(z, zerosOf(dtype === 'bool' ? 'int32' : dtype, [3, 2]));
    if (op === 'take') return R.indexing.take(z, R.fromFlat('int32', [1], [0]), 1);
    return R.scan(op as R.ScanOp, z, -1);
  };
  return accepts(dtype, [2, 3], f) !== null;
}

/** x, or x cast to want's dtype. */
function castTo(b: Builder, x: Node, want: Want | undefined): Node {
  if (!want || x.dtype === want.dtype) return x;
  return counted(b, { kind: 'cast', x, dtype: want.dtype, shape: [...x.shape] });
}

/** Builds a requested root (see Want); a leaf when the op cannot take this shape. */
export function buildRoot(b: Builder, want: Want, shape: number[], depth: number): Node {
  b.nodes++;
  let n: Node | null;
  if ((REDUCE_OPS as readonly string[]).includes(want.op)) n = buildReduce(b, shape, depth, want);
  else if (want.op === 'softmax' || want.op === 'logSoftmax') n = buildSoftmax(b, shape, depth, want);
  else if (want.op === 'matmul') n = buildMatmul(b, shape, depth, want);
  else if (want.op === 'take') n = buildTake(b, shape, depth, want);
  else n = buildScan(b, shape, depth, want);
  return b.remember(n ?? b.leaf(shape));
}

/** How a reduction's operand is drawn (see the module comment). */
export type OperandForm = 'plain' | 'reduce' | 'unaryOfReduce' | 'binaryOfReduces' | 'expandDims' | 'broadcastTo' | 'binaryBroadcast';

const OPERAND_FORMS: readonly (readonly [number, OperandForm])[] = [
  [30, 'plain'],
  [18, 'reduce'],
  [14, 'unaryOfReduce'],
  [10, 'binaryOfReduces'],
  [10, 'expandDims'],
  [10, 'broadcastTo'],
  [8, 'binaryBroadcast'],
];

/** Unary ops applied between two reductions (cheap, any dtype that has them). */
const BETWEEN_UNARY = ['exp', 'negative', 'square', 'abs', 'sqrt', 'log', 'tanh', 'sigmoid', 'logicalNot'] as const;
const BETWEEN_BINARY = ['add', 'multiply', 'subtract', 'maximum', 'divide', 'less'] as const;
const NORM_ORDS: readonly R.NormOrd[] = [null, 2, 1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 3, 0.5, -1];

function zerosOf(dtype: DType, shape: readonly number[]): RefArray {
  const zero: Scalar = R.isBig(dtype) ? 0n : 0;
  return R.fromFlat(dtype, shape, new Array<Scalar>(R.sizeOf(shape)).fill(zero));
}

/** Whether the oracle accepts `f` on an array of this dtype and shape (errors do not depend on values). */
function accepts(dtype: DType, shape: readonly number[], f: (x: RefArray) => RefArray): RefArray | null {
  try {
    return f(zerosOf(dtype, shape));
  } catch (e) {
    if (e instanceof R.DTypeError || e instanceof R.ShapeError || e instanceof R.ArgumentError) return null;
    throw e;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Entry point from Builder.buildKind. */
export function buildCombining(b: Builder, kind: 'reduce' | 'softmax' | 'scan' | 'matmul' | 'take', shape: number[], depth: number): Node | null {
  switch (kind) {
    case 'reduce':
      return buildReduce(b, shape, depth);
    case 'softmax':
      return buildSoftmax(b, shape, depth);
    case 'scan':
      return buildScan(b, shape, depth);
    case 'matmul':
      return buildMatmul(b, shape, depth);
    case 'take':
      return buildTake(b, shape, depth);
  }
}

/** The size of one reduced axis: often 1, rarely 0, else an ordinary dim within `limit`. */
function reducedDim(b: Builder, limit: number, allowZero: boolean): number {
  if (allowZero && chance(b.d, 2)) return 0;
  if (chance(b.d, 30)) return 1;
  return drawDim(b.d, Math.max(1, limit));
}

/**
 * A reduction whose result has `shape`. Returns null when nothing valid fits (the
 * caller puts a leaf there).
 */
export function buildReduce(b: Builder, shape: number[], depth: number, want?: Want): Node | null {
  const d = b.d;
  const rank = shape.length;
  const outSize = R.sizeOf(shape);
  let limit = outSize === 0 ? 64 : Math.floor(b.o.maxElements / outSize);
  const ones = shape.map((s, i) => (s === 1 ? i : -1)).filter((i) => i >= 0);
  let child: number[];
  let reduced: number[];
  let keepdims: boolean;
  let all = false;
  // argmax/argmin take one axis (or all)
  const single = want !== undefined && (want.op === 'argmax' || want.op === 'argmin');
  if (ones.length > 0 && chance(d, 35)) {
    keepdims = true;
    reduced = single ? [] : ones.filter(() => chance(d, 60));
    if (reduced.length === 0) reduced = [pick(d, ones)];
    child = [...shape];
    for (const ax of reduced) {
      child[ax] = reducedDim(b, limit, want === undefined);
      limit = Math.max(1, Math.floor(limit / child[ax]));
    }
    all = reduced.length === rank;
  } else {
    keepdims = false;
    const k = rank === 0 && !single ? d.int(1, 3) : rank >= 4 || single ? 1 : d.int(1, 2);
    child = [...shape];
    reduced = [];
    for (let j = 0; j < k; j++) {
      const at = d.int(0, child.length);
      child.splice(at, 0, -1);
    }
    child.forEach((s, i) => {
      if (s === -1) {
        child[i] = reducedDim(b, limit, want === undefined);
        limit = Math.max(1, Math.floor(limit / child[i]));
        reduced.push(i);
      }
    });
    all = rank === 0;
  }
  const childRank = child.length;
  // the axis argument: all axes as null/undefined/a full list, else the list or one axis,
  // some written negative
  const written = reduced.map((a) => (chance(d, 30) ? a - childRank : a));
  const axisForms: R.Axes[] = [written, ...(written.length === 1 ? [written[0]] : [])];
  if (all) axisForms.push(null, undefined);
  const axis = pick(d, axisForms);
  const x = castTo(b, drawOperand(b, child, reduced, depth), want);
  const extent = reduced.reduce((p, a) => p * child[a], 1);
  const ops = REDUCE_OPS.filter((op) => {
    if ((op === 'argmax' || op === 'argmin') && !(reduced.length === 1 || all)) return false;
    if ((op === 'max' || op === 'min' || op === 'argmax' || op === 'argmin') && extent === 0) return false;
    return true;
  });
  if (ops.length === 0) return null;
  const op = want && ops.includes(want.op as ReduceOp) ? (want.op as ReduceOp) : pick(d, ops);
  const argAxis: R.Axes =
    (op === 'argmax' || op === 'argmin') && reduced.length !== 1
      ? null
      : op === 'argmax' || op === 'argmin'
        ? reduced[0] - (chance(d, 30) ? childRank : 0)
        : axis;
  const args = {
    op,
    axis: argAxis,
    keepdims,
    ddof: op === 'var' || op === 'std' ? pick(d, [0, 0, 1]) : 0,
    ord: op === 'norm' ? (reduced.length >= 2 ? pick(d, [null, 'fro'] as const) : pick(d, NORM_ORDS)) : null,
  };
  const probe = accepts(x.dtype, x.shape, (z) => reduceRef(args, z));
  if (probe === null) return null;
  if (!sameShape(R.shapeOf(probe), shape)) {
    throw new Error(`harness bug: ${op} over axes [${reduced}] of [${child}] gives [${R.shapeOf(probe)}], wanted [${shape}]`);
  }
  const n: ReduceNode = {
    kind: 'reduce',
    ...args,
    x,
    dtype: probe.dtype,
    shape: [...shape],
    method: op !== 'norm' && op !== 'countNonzero' && chance(d, 40),
  };
  return n;
}

/** A node counted against maxNodes and remembered for sharing. */
function counted(b: Builder, n: Node): Node {
  b.nodes++;
  return b.remember(n);
}

/** A reduction of `shape`, or a plain subgraph when none fits. */
function reduceOrBuild(b: Builder, shape: number[], depth: number): Node {
  if (depth <= 0 || b.nodes >= b.o.maxNodes) return b.leaf(shape);
  b.nodes++;
  return b.remember(buildReduce(b, shape, depth - 1) ?? b.leaf(shape));
}

/** Applies a unary op valid for x's dtype (or returns x). */
function unaryOver(b: Builder, x: Node): Node {
  const ops = BETWEEN_UNARY.filter((op) => unaryResult(op, x.dtype) !== null);
  if (ops.length === 0) return x;
  const op = pick(b.d, ops);
  return counted(b, { kind: 'unary', op, x, dtype: unaryResult(op, x.dtype) as DType, shape: [...x.shape], method: chance(b.d, 50) });
}

/** A binary op of two operands (broadcasting to `shape`), or the first one. */
function binaryOf(b: Builder, x: Node, y: Node, shape: number[]): Node {
  const [l, r] = chance(b.d, 50) ? [x, y] : [y, x];
  const ops = BETWEEN_BINARY.filter((op) => binaryResult(op, l, r) !== null);
  if (ops.length === 0) return x;
  const op = pick(b.d, ops);
  return counted(b, { kind: 'binary', op, a: l, b: r, dtype: binaryResult(op, l, r) as DType, shape: [...shape], method: chance(b.d, 50) });
}

/**
 * The operand of a reduction over `reduced` axes of `shape`, in one of the forms of
 * OPERAND_FORMS.
 */
function drawOperand(b: Builder, shape: number[], reduced: readonly number[], depth: number): Node {
  const d = b.d;
  const form = weighted(d, OPERAND_FORMS);
  switch (form) {
    case 'reduce':
      return reduceOrBuild(b, shape, depth - 1);
    case 'unaryOfReduce':
      return unaryOver(b, reduceOrBuild(b, shape, depth - 1));
    case 'binaryOfReduces':
      return binaryOf(b, reduceOrBuild(b, shape, depth - 1), reduceOrBuild(b, drawBroadcastable(d, shape), depth - 1), shape);
    case 'expandDims': {
      // one reduced axis of size 1 made by expandDims (the first reproduction)
      const unit = reduced.filter((a) => shape[a] === 1);
      if (unit.length === 0) return b.build(shape, depth - 1);
      const ax = pick(d, unit);
      const inner = shape.filter((_, i) => i !== ax);
      const x = chance(d, 40) ? reduceOrBuild(b, inner, depth - 1) : b.build(inner, depth - 1);
      const axis = chance(d, 30) ? ax - shape.length : ax;
      return counted(b, { kind: 'view', view: { op: 'expandDims', axis }, x, dtype: x.dtype, shape: [...shape] });
    }
    case 'broadcastTo': {
      // the reduced axes (and maybe leading ones) broadcast from 1
      let inner = shape.map((s, i) => (reduced.includes(i) ? 1 : s));
      if (chance(d, 30)) inner = inner.slice(d.int(0, Math.min(...reduced, inner.length)));
      const x = chance(d, 40) ? reduceOrBuild(b, inner, depth - 1) : b.build(inner, depth - 1);
      return counted(b, { kind: 'view', view: { op: 'broadcastTo', shape: [...shape] }, x, dtype: x.dtype, shape: [...shape] });
    }
    case 'binaryBroadcast': {
      // one side is stretched along the reduced axes by binary broadcasting
      const inner = shape.map((s, i) => (reduced.includes(i) ? 1 : s));
      const narrow = chance(d, 50) ? reduceOrBuild(b, inner, depth - 1) : b.build(inner, depth - 1);
      return binaryOf(b, narrow, b.build(shape, depth - 1), shape);
    }
    default:
      return b.build(shape, depth - 1);
  }
}

function buildSoftmax(b: Builder, shape: number[], depth: number, want?: Want): Node | null {
  const d = b.d;
  const rank = shape.length;
  if (rank === 0) return null;
  const axes = [...Array(rank).keys()].filter(() => chance(d, 40));
  const one = d.int(0, rank - 1);
  const axis: number | number[] = axes.length > 1 && chance(d, 40) ? axes : chance(d, 30) ? one - rank : one;
  const x = castTo(b, chance(d, 40) ? reduceOrBuild(b, shape, depth - 1) : b.build(shape, depth - 1), want);
  const op = want ? (want.op as 'softmax' | 'logSoftmax') : chance(d, 50) ? 'softmax' : 'logSoftmax';
  const probe = accepts(x.dtype, shape, (z) => (op === 'softmax' ? R.softmax(z, axis) : R.logSoftmax(z, axis)));
  if (probe === null) return null;
  const n: SoftmaxNode = { kind: 'softmax', op, x, axis, dtype: probe.dtype, shape: [...shape] };
  return n;
}

function buildScan(b: Builder, shape: number[], depth: number, want?: Want): Node | null {
  const d = b.d;
  const rank = shape.length;
  if (rank === 0) return null;
  const flat = rank === 1 && chance(d, 25);
  const childShape = flat ? drawShapeOfSize(d, shape[0]) : [...shape];
  const axis = flat ? null : chance(d, 30) ? d.int(-rank, -1) : d.int(0, rank - 1);
  const x = castTo(b, chance(d, 35) ? reduceOrBuild(b, childShape, depth - 1) : b.build(childShape, depth - 1), want);
  const op = want ? (want.op as R.ScanOp) : pick(d, SCAN_OPS);
  const reverse = chance(d, 25);
  const inclusive = !chance(d, 25);
  const probe = accepts(x.dtype, childShape, (z) => R.scan(op, z, axis, reverse, inclusive));
  if (probe === null) return null;
  const n: ScanNode = { kind: 'scan', op, x, axis, reverse, inclusive, dtype: probe.dtype, shape: [...shape] };
  return n;
}

/** K of a product: ordinary, sometimes past the 128 tile, within the element budget of both operands. */
function drawK(b: Builder, m: number, n: number): number {
  const limit = Math.max(1, Math.floor(b.o.maxElements / Math.max(1, m, n)));
  if (chance(b.d, 8)) return Math.min(pick(b.d, [129, 200, 257]), limit);
  return drawDim(b.d, limit);
}

/** An operand of a product: mostly a leaf (so the product's bounds stay tight), else a subgraph. */
function productOperand(b: Builder, shape: number[], depth: number): Node {
  return chance(b.d, 60) ? b.leaf(shape) : b.build(shape, depth - 1);
}

function buildMatmul(b: Builder, shape: number[], depth: number, want?: Want): Node | null {
  const d = b.d;
  const rank = shape.length;
  let sa: number[];
  let sb: number[];
  if (rank === 0) {
    const k = drawK(b, 1, 1);
    sa = [k];
    sb = [k];
  } else if (rank === 1) {
    const k = drawK(b, shape[0], shape[0]);
    [sa, sb] = chance(d, 50) ? [[k], [k, shape[0]]] : [[shape[0], k], [k]];
  } else {
    const m = shape[rank - 2];
    const n = shape[rank - 1];
    const batch = shape.slice(0, -2);
    const k = drawK(b, m * Math.max(1, R.sizeOf(batch)), n * Math.max(1, R.sizeOf(batch)));
    sa = [...(chance(d, 70) ? batch : drawBroadcastable(d, batch)), m, k];
    sb = [...(chance(d, 70) ? batch : drawBroadcastable(d, batch)), k, n];
    // one side may drop its batch dims, but the pair must still give `shape`
    const out = R.broadcastShapes(sa.slice(0, -2), sb.slice(0, -2));
    if (!sameShape([...out, m, n], shape)) sa = [...batch, m, k];
  }
  if (R.sizeOf(sa) > b.o.maxElements || R.sizeOf(sb) > b.o.maxElements) return null;
  const a = castTo(b, productOperand(b, sa, depth), want);
  // bool @ bool is refused: a bool left operand gets an int32 right one
  const c = want?.dtype === 'bool' ? b.leaf(sb, 'int32') : castTo(b, productOperand(b, sb, depth), want);
  if (a.dtype === 'bool' && c.dtype === 'bool') return null;
  const n: MatmulNode = { kind: 'matmul', a, b: c, dtype: R.promote(a.dtype, c.dtype), shape: [...shape] };
  return n;
}

function buildTake(b: Builder, shape: number[], depth: number, want?: Want): Node | null {
  const d = b.d;
  const rank = shape.length;
  if (rank === 0) return null;
  const indexRank = rank >= 2 && chance(d, 25) ? 2 : 1;
  const ax = d.int(0, rank - indexRank);
  const indexShape = shape.slice(ax, ax + indexRank);
  const rest = R.sizeOf(shape) / Math.max(1, R.sizeOf(indexShape));
  const len = drawDim(d, Math.max(1, Math.floor(b.o.maxElements / Math.max(1, rest))));
  const child = [...shape.slice(0, ax), len, ...shape.slice(ax + indexRank)];
  if (R.sizeOf(child) > b.o.maxElements) return null;
  const indices = Array.from({ length: R.sizeOf(indexShape) }, () => d.int(-len, len - 1));
  const x = castTo(b, chance(d, 30) ? reduceOrBuild(b, child, depth - 1) : b.build(child, depth - 1), want);
  const n: TakeNode = { kind: 'take', x, indices, indexShape, axis: ax, dtype: x.dtype, shape: [...shape] };
  return n;
}
