/**
 * Sorting along an axis: `sort`, `argsort` and `topk`. A sort is a kernel of its own
 * (one line per work item, a stable radix sort of order-preserving keys, NaN last as
 * NumPy), with its elementwise producers fused in front; other axes are transposed
 * views around the last one.
 */
import { checkArgCount } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { scanNode } from '../core/build.js';
import { takeAlongAxis } from './indexing.js';
import { basicSlice, flip, moveaxis, reshape } from './movement.js';
import { type ArrayLike, normalizeAxis, operandNodes } from './operand.js';

function alongLast(op: 'sort' | 'argsort', a: ArrayLike, axis: number | null): MetalArray {
  const [n0] = operandNodes(op, [a]);
  let x = MetalArray.fromNode(n0);
  if (axis === null) x = reshape(x, [-1]);
  else if (x.ndim === 0) throw new ShapeError(`${op}: axis ${axis} given for a zero-dimensional array`);
  const ax = axis === null ? 0 : normalizeAxis(op, axis, x.ndim);
  const last = x.ndim - 1;
  if (ax !== last) x = moveaxis(x, ax, last);
  const node = x.liveNode(op);
  const out = MetalArray.fromNode(scanNode(op, node, true, op === 'argsort' ? 'int32' : node.dtype));
  return ax !== last ? moveaxis(out, last, ax) : out;
}

/** The values sorted along `axis` (the last by default; null sorts the flattened array): ascending, NaN last. */
export function sort(a: ArrayLike, axis: number | null = -1): MetalArray {
  checkArgCount('sort', arguments.length, 2, 'sort(a, axis)');
  return alongLast('sort', a, axis);
}

/** The int32 indices that sort `a` along `axis` (stable: equal values keep their order; NaN last). */
export function argsort(a: ArrayLike, axis: number | null = -1): MetalArray {
  checkArgCount('argsort', arguments.length, 2, 'argsort(a, axis)');
  return alongLast('argsort', a, axis);
}

/**
 * The `k` largest values along `axis` (the last by default) in descending order, and
 * their int32 indices. Equal values come lowest index first; NaN counts as the largest.
 */
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
