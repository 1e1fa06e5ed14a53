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
import { binary, where } from './elementwise.js';
import type { NodeRule } from '../transforms/rules.js';
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

// Differentiation rules (cummax and cummin are in sort.ts, beside takeAlongAxis)

/** cumsum along the last axis: the cotangent summed from the other end. */
const cumsumRule: NodeRule = {
  vjp({ node }, g) {
    return [cumsum(g, -1, true, node.inclusive)];
  },
  jvp({ node }, [t]) {
    return cumsum(t as MetalArray, -1, false, node.inclusive);
  },
};

/**
 * cumprod along the last axis, exact with zeros. d out_i / d x_j is out_i / x_j where
 * x_j ≠ 0; at a line's first zero z it is the product of the others, which is the
 * cumprod with x_z replaced by 1 (out1 below); past z every derivative is 0.
 */
function cumprodParts(x: MetalArray): { zero: MetalArray; firstZero: MetalArray; x1: MetalArray } {
  const zero = binary('equal', x, 0);
  const firstZero = binary('logicalAnd', zero, binary('equal', cumsum(zero, -1), 1));
  return { zero, firstZero, x1: where(firstZero, 1, x) };
}

const cumprodRule: NodeRule = {
  vjp({ node, inputs, output }, g) {
    const x = inputs[0];
    const { zero, firstZero, x1 } = cumprodParts(x);
    const out1 = cumprod(x1, -1, false, node.inclusive);
    const regular = binary('divide', cumsum(binary('multiply', g, output), -1, true, node.inclusive), where(zero, 1, x));
    const atZero = cumsum(binary('multiply', g, out1), -1, true, node.inclusive);
    return [where(firstZero, atZero, where(zero, 0, regular))];
  },
  jvp({ node, inputs, output }, [t]) {
    const x = inputs[0];
    const tangent = t as MetalArray;
    const { zero, firstZero, x1 } = cumprodParts(x);
    const out1 = cumprod(x1, -1, false, node.inclusive);
    const regular = binary('multiply', output, cumsum(where(zero, 0, binary('divide', tangent, where(zero, 1, x))), -1, false, node.inclusive));
    return binary('add', regular, binary('multiply', out1, cumsum(where(firstZero, tangent, 0), -1, false, node.inclusive)));
  },
};

/** The cumulative sum and product rules. */
export const cumulativeRules = { cumsum: cumsumRule, cumprod: cumprodRule } as const;

// Batching rules

/**
 * vmap: scans (cumsum, cumprod, cummax, cummin, and sort/argsort of src/ops/sort.ts)
 * run along the last axis, which a leading batch axis leaves last.
 */
export const scanBatching: Pick<BatchingTable, 'scan'> = {
  scan: (node, inputs, batched, size) => scanNode(node.op as ScanOp, batchedInput(inputs, batched, 0, size), node.inclusive, node.dtype),
};
