/**
 * Sorting along an axis: `sort`, `argsort` and `topk`. A sort is a kernel of its own
 * (one line per work item, a stable radix sort of order-preserving keys, NaN last as
 * NumPy), with its elementwise producers fused in front; other axes are transposed
 * views around the last one.
 */
import { checkArgCount } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import type { DType } from '../core/dtype.js';
import { ArgumentError, formatValue, ShapeError } from '../errors.js';
import { constNode, iotaNode, scanNode } from '../core/build.js';
import type { NodeRule } from '../transforms/rules.js';
import { binary, where } from './elementwise.js';
import { concatenate } from './join.js';
import { cumulativeRules, cummax, cummin, cumsum } from './scan.js';
import { takeAlongAxis } from './indexing.js';
import { basicSlice, broadcastTo, flip, moveaxis, reshape } from './movement.js';
import { type ArrayLike, normalizeAxis, operandNodes } from './operand.js';

function alongLast(op: 'sort' | 'argsort', a: ArrayLike, axis: number | null): MetalArray {
  const [n0] = operandNodes(op, [a]);
  let x = MetalArray.fromNode(n0);
  if (axis === null) x = reshape(x, [-1]);
  else if (x.ndim === 0) throw new ShapeError(`${op}: axis ${formatValue(axis)} given for a zero-dimensional array`);
  const ax = axis === null ? 0 : normalizeAxis(op, axis, x.ndim);
  const last = x.ndim - 1;
  if (ax !== last) x = moveaxis(x, ax, last);
  const node = x.liveNode(op);
  const out = MetalArray.fromNode(scanNode(op, node, true, op === 'argsort' ? 'int32' : node.dtype));
  return ax !== last ? moveaxis(out, last, ax) : out;
}

/**
 * The values sorted along `axis` (the last by default; null sorts the flattened array): ascending, NaN last.
 *
 * @example
 * ```ts
 * console.log(ma.sort(ma.array([3, NaN, 1], 'float32')).tolist()); // [ 1, 3, NaN ]
 * console.log(ma.sort(ma.array([[3, 1], [2, 0]]), null).tolist()); // [ 0, 1, 2, 3 ]
 * ```
 */
export function sort<D extends DType>(a: MetalArray<D>, axis?: number | null): MetalArray<D>;
export function sort(a: ArrayLike, axis?: number | null): MetalArray;
export function sort(a: ArrayLike, axis: number | null = -1): MetalArray {
  checkArgCount('sort', arguments.length, 2, 'sort(a, axis)');
  return alongLast('sort', a, axis);
}

/**
 * The int32 indices that sort `a` along `axis` (stable: equal values keep their order; NaN last).
 *
 * @example
 * ```ts
 * console.log(ma.argsort(ma.array([2, 1, 2, 0])).tolist()); // [ 3, 1, 0, 2 ]
 * ```
 */
export function argsort(a: ArrayLike, axis?: number | null): MetalArray<'int32'>;
export function argsort(a: ArrayLike, axis: number | null = -1): MetalArray {
  checkArgCount('argsort', arguments.length, 2, 'argsort(a, axis)');
  return alongLast('argsort', a, axis);
}

/**
 * The `k` largest values along `axis` (the last by default) in descending order, and
 * their int32 indices. Equal values come lowest index first; NaN counts as the largest.
 *
 * @example
 * ```ts
 * const [values, indices] = ma.topk(ma.array([1, 5, 3, 4]), 2);
 * console.log(values.tolist(), indices.tolist()); // [ 5, 4 ] [ 1, 3 ]
 * ```
 */
export function topk<D extends DType>(a: MetalArray<D>, k: number, axis?: number): [MetalArray<D>, MetalArray<'int32'>];
export function topk(a: MetalArray, k: number, axis = -1): [MetalArray, MetalArray] {
  checkArgCount('topk', arguments.length, 3, 'topk(a, k, axis)');
  if (!(a instanceof MetalArray)) throw new ArgumentError('topk: expected a MetalArray');
  if (a.ndim === 0) throw new ShapeError('topk: needs an array of rank >= 1');
  const ax = normalizeAxis('topk', axis, a.ndim);
  const n = a.shape[ax];
  if (!Number.isSafeInteger(k) || k < 0 || k > n) throw new ArgumentError(`topk: k must be an integer in [0, ${n}], got ${String(k)}`);
  // Sorting the flipped line keeps later positions first among equals; its last k,
  // reversed, then list equal values lowest index first.
  const order = argsort(flip(a, ax), ax);
  const tail = basicSlice(
    order,
    a.shape.map((_, d) => (d === ax ? [n - 1, n - 1 - k >= 0 ? n - 1 - k : null, -1] : [null, null, null]) as [number | null, number | null, number | null]),
  );
  const indices = tail
    .multiply(-1)
    .add(n - 1)
    .astype('int32');
  return [takeAlongAxis(a, indices, ax), indices];
}

// Differentiation rules (sort, and cummax/cummin, which need takeAlongAxis)

/** sort values: the cotangent goes back through the inverse permutation. */
const sortRule: NodeRule = {
  vjp({ inputs }, g) {
    const inverse = argsort(argsort(inputs[0], -1), -1);
    return [takeAlongAxis(g, inverse, -1)];
  },
  jvp({ inputs }, [t]) {
    return takeAlongAxis(t as MetalArray, argsort(inputs[0], -1), -1);
  },
};

/** `x` shifted one place along the last axis (toward the end when `right`), a zero entering. */
function shifted(x: MetalArray, right: boolean): MetalArray {
  const n = x.shape[x.ndim - 1];
  const zeros = MetalArray.fromNode(constNode(0, [...x.shape.slice(0, -1), 1], x.dtype, x.backend));
  const keep = basicSlice(
    x,
    x.shape.map((_, d) => (d === x.ndim - 1 ? (right ? [0, n - 1] : [1, n]) : [null, null]) as [number | null, number | null]),
  );
  return concatenate(right ? [zeros, keep] : [keep, zeros], -1);
}

/**
 * A running maximum (or minimum) passes each element's derivative from the position the
 * running extremum came from: the latest j ≤ i where x_j equals it (ties: the latest).
 */
function runningExtremumRule(scanOp: 'cummax' | 'cummin'): NodeRule {
  const scanFn = scanOp === 'cummax' ? cummax : cummin;
  const sources = (x: MetalArray, output: MetalArray, inclusive: boolean): MetalArray => {
    const m = inclusive ? output : scanFn(x, -1);
    const n = x.shape[x.ndim - 1];
    const idx = broadcastTo(MetalArray.fromNode(iotaNode([n], 'int32', x.backend)), x.shape);
    return cummax(where(binary('equal', x, m), idx, -1), -1);
  };
  return {
    vjp({ node, inputs, output }, g) {
      const x = inputs[0];
      const n = x.shape[x.ndim - 1];
      const src = sources(x, output, node.inclusive);
      const ct = node.inclusive ? g : shifted(g, false);
      const idx = broadcastTo(MetalArray.fromNode(iotaNode([n], 'int32', x.backend)), x.shape);
      const isStart = binary('equal', src, idx);
      const fromEnd = cumsum(ct, -1, true);
      const next = binary('minimum', cummin(where(isStart, idx, n), -1, true, false), n);
      const zeros = MetalArray.fromNode(constNode(0, [...x.shape.slice(0, -1), 1], ct.dtype, x.backend));
      const atNext = takeAlongAxis(concatenate([fromEnd, zeros], -1), next, -1);
      return [where(isStart, binary('subtract', fromEnd, atNext), 0)];
    },
    jvp({ node, inputs, output }, [t]) {
      const src = sources(inputs[0], output, node.inclusive);
      const picked = takeAlongAxis(t as MetalArray, binary('maximum', src, 0), -1);
      return node.inclusive ? picked : shifted(picked, true);
    },
  };
}

/** The rules of the scans along the last axis, cumsum and cumprod from scan.ts. */
export const scanRules = {
  ...cumulativeRules,
  cummax: runningExtremumRule('cummax'),
  cummin: runningExtremumRule('cummin'),
  sort: sortRule,
  argsort: 'zero',
} as const;
