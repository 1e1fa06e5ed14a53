/**
 * The arbitraries of the graph property suites, in one place so that the harness
 * self-test (harness.test.ts) measures exactly what the suites draw.
 */
import fc from 'fast-check';
import * as R from '../reference/index.js';
import type { DType } from '../reference/index.js';
import { COMBINE_OPS } from './graph-combine.js';
import { buildGraph, DEFAULT_GRAPH_OPTIONS, type Draw, drawFromGen, drawShape, type GraphCase, type GraphOptions, type Node, topoOrder } from './graphs.js';

/** Runs per dtype of the combining-graph suite: every op of COMBINE_OPS is a root at least once. */
export const RUNS_PER_DTYPE = 25;

/** The graphs of graph.property.test.ts. */
export const COMBINING_GRAPH_OPTIONS: Partial<GraphOptions> = {
  maxDepth: 8,
  maxNodes: 12,
  weights: { ...DEFAULT_GRAPH_OPTIONS.weights, reduce: 25, softmax: 4, scan: 5, matmul: 4, take: 4 },
};

/**
 * The graph of the k-th draw for `dtype` (`counter.k` counts the draws): its root is
 * COMBINE_OPS[k mod n] on an operand of `dtype`, the rest is random.
 */
export function combiningGraphArb(dtype: DType, counter: { k: number }): fc.Arbitrary<GraphCase> {
  return fc.gen().map((g) => {
    const op = COMBINE_OPS[counter.k++ % COMBINE_OPS.length];
    return buildGraph(drawFromGen(g), { ...COMBINING_GRAPH_OPTIONS, dtypes: [dtype] }, { op, dtype });
  });
}

/** The input shape of the per-dtype reduction suite (reduce.property.test.ts (a)). */
export function drawReductionShape(d: Draw): number[] {
  return drawShape(d, 0, 4, 8);
}

/** The reduced axes (normalized) of a reduction node. */
export function reducedAxes(n: Node): number[] {
  if (n.kind !== 'reduce') return [];
  const rank = n.x.shape.length;
  if (n.op === 'argmax' || n.op === 'argmin') {
    const a = n.axis === null || n.axis === undefined ? null : typeof n.axis === 'number' ? n.axis : n.axis[0];
    return a === null ? [...Array(rank).keys()] : [R.normalizeAxis(a, rank)];
  }
  return R.reduceAxes(n.axis, rank);
}

/** Whether `x` reaches a reduction through elementwise ops and views only (one fused kernel, if the scheduler nests it). */
export function feedsFromReduction(x: Node): boolean {
  switch (x.kind) {
    case 'reduce':
      return true;
    case 'unary':
    case 'cast':
    case 'view':
      return feedsFromReduction(x.x);
    case 'binary':
      return [x.a, x.b].some((a) => a.kind !== 'scalar' && feedsFromReduction(a));
    case 'where':
      return [x.c, x.a, x.b].some((a) => a.kind !== 'scalar' && feedsFromReduction(a));
    default:
      return false;
  }
}

/**
 * Whether a reduced axis of `n` is broadcast in its operand: the operand is a broadcastTo
 * that stretches it, or a binary op one of whose sides has it as 1 (or lacks it).
 */
export function reducesBroadcastAxis(n: Node): boolean {
  if (n.kind !== 'reduce') return false;
  const axes = reducedAxes(n);
  const x = n.x;
  const rank = x.shape.length;
  const stretched = (inner: readonly number[]) =>
    axes.some((a) => {
      const i = a - (rank - inner.length);
      return x.shape[a] !== 1 && (i < 0 || inner[i] === 1);
    });
  if (x.kind === 'view' && x.view.op === 'broadcastTo') return stretched(x.x.shape);
  if (x.kind === 'binary') return [x.a, x.b].some((s) => s.kind !== 'scalar' && stretched(s.shape));
  return false;
}

/** Per-graph features the harness self-test counts. */
export interface GraphFeatures {
  arrays: number;
  emptyArrays: number;
  /** Largest dim of any node. */
  maxDim: number;
  reductionOfReduction: boolean;
  overSizeOne: boolean;
  overExpandDims: boolean;
  overBroadcast: boolean;
  reductionsIntoBinary: boolean;
}

export function graphFeatures(root: Node): GraphFeatures {
  const f: GraphFeatures = {
    arrays: 0,
    emptyArrays: 0,
    maxDim: 0,
    reductionOfReduction: false,
    overSizeOne: false,
    overExpandDims: false,
    overBroadcast: false,
    reductionsIntoBinary: false,
  };
  for (const n of topoOrder(root)) {
    f.arrays++;
    if (R.sizeOf(n.shape) === 0) f.emptyArrays++;
    f.maxDim = Math.max(f.maxDim, ...n.shape, 0);
    if (n.kind === 'reduce') {
      const axes = reducedAxes(n);
      if (feedsFromReduction(n.x)) f.reductionOfReduction = true;
      if (axes.some((a) => n.x.shape[a] === 1)) f.overSizeOne = true;
      if (n.x.kind === 'view' && n.x.view.op === 'expandDims') f.overExpandDims = true;
      if (reducesBroadcastAxis(n)) f.overBroadcast = true;
    }
    if (n.kind === 'binary' && n.a.kind !== 'scalar' && n.b.kind !== 'scalar' && feedsFromReduction(n.a) && feedsFromReduction(n.b))
      f.reductionsIntoBinary = true;
  }
  return f;
}
