/**
 * Scans: cumsum, cumprod, cummax, cummin along an axis, forward or reversed, inclusive
 * or exclusive. One scan node always runs along the last axis, forward; any other axis
 * or direction is a transpose or flip view around it, read and written by strides.
 */
import { MetalArray } from '../array/array.js';
import { ArgumentError, formatValue } from '../errors.js';
import { castNode, scanNode } from '../core/build.js';
import type { DType } from '../core/dtype.js';
import type { ScanOp } from '../core/node.js';
import { flip, moveaxis, reshape } from './movement.js';
import { type ArrayLike, normalizeAxis, operandNodes } from './operand.js';
import { type BatchingTable, batchedInput } from '../transforms/batching.js';

function scan(op: ScanOp, a: ArrayLike, axis: number | null | undefined, reverse: boolean, inclusive: boolean): MetalArray {
  if (typeof reverse !== 'boolean') throw new ArgumentError(`${op}: reverse must be a boolean, got ${formatValue(reverse)}`);
  if (typeof inclusive !== 'boolean') throw new ArgumentError(`${op}: inclusive must be a boolean, got ${formatValue(inclusive)}`);
  const [n0] = operandNodes(op, [a]);
  const dtype: DType = (op === 'cumsum' || op === 'cumprod') && n0.dtype === 'bool' ? 'int32' : n0.dtype;
  let x = MetalArray.fromNode(castNode(n0, dtype));
  // No axis: NumPy scans the flattened array.
  if (axis === undefined || axis === null) x = reshape(x, [-1]);
  else if (x.ndim === 0) throw new ArgumentError(`${op}: axis ${formatValue(axis)} given for a zero-dimensional array`);
  const ax = axis === undefined || axis === null ? 0 : normalizeAxis(op, axis, x.ndim);
  const last = x.ndim - 1;
  if (ax !== last) x = moveaxis(x, ax, last);
  if (reverse) x = flip(x, last);
  let out = MetalArray.fromNode(scanNode(op, x.liveNode(op), inclusive, dtype));
  if (reverse) out = flip(out, last);
  if (ax !== last) out = moveaxis(out, last, ax);
  return out;
}

/** Cumulative sum along an axis (the flattened array by default); bool sums to int32, integers wrap. */
export function cumsum(a: ArrayLike, axis?: number | null, reverse = false, inclusive = true): MetalArray {
  return scan('cumsum', a, axis, reverse, inclusive);
}
/** Cumulative product along an axis. */
export function cumprod(a: ArrayLike, axis?: number | null, reverse = false, inclusive = true): MetalArray {
  return scan('cumprod', a, axis, reverse, inclusive);
}
/** Running maximum along an axis (NaN propagates). */
export function cummax(a: ArrayLike, axis?: number | null, reverse = false, inclusive = true): MetalArray {
  return scan('cummax', a, axis, reverse, inclusive);
}
/** Running minimum along an axis (NaN propagates). */
export function cummin(a: ArrayLike, axis?: number | null, reverse = false, inclusive = true): MetalArray {
  return scan('cummin', a, axis, reverse, inclusive);
}

// Batching rules

/**
 * vmap: scans (cumsum, cumprod, cummax, cummin, and sort/argsort of src/ops/sort.ts)
 * run along the last axis, which a leading batch axis leaves last.
 */
export const scanBatching: Pick<BatchingTable, 'scan'> = {
  scan: (node, inputs, batched, size) => scanNode(node.op as ScanOp, batchedInput(inputs, batched, 0, size), node.inclusive, node.dtype),
};
