/**
 * Scans: cumsum, cumprod, cummax, cummin along an axis, forward or reversed, inclusive
 * or exclusive. One scan node always runs along the last axis, forward; any other axis
 * or direction is a transpose or flip view around it, read and written by strides.
 */
import { MetalArray } from '../array/array.js';
import { ArgumentError, formatValue } from '../errors.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { castNode, scanNode } from '../core/build.js';
import type { DType } from '../core/dtype.js';
import type { AccumulationOf } from '../core/dtype-types.js';
import type { ScanOp } from '../core/node.js';
import { flip, moveaxis, reshape } from './movement.js';
import { type ArrayLike, normalizeAxis, operandNodes } from './operand.js';
import { binary, where } from './elementwise.js';
import type { NodeRule } from '../transforms/rules.js';
import { type BatchingTable, batchedInput } from '../transforms/batching.js';
import { accumulationDType, checkAccumulationDType } from './reduce-core.js';

/** Options of the scans (`ma.cummax(x, { axis: 0, reverse: true })`). */
export interface ScanOptions {
  /** The axis to scan along (the flattened array when omitted or null). */
  readonly axis?: number | null;
  /** Scan from the end backwards (default false). */
  readonly reverse?: boolean;
  /** Include each element in its own result (default true); false starts from the identity. */
  readonly inclusive?: boolean;
}

/** Options of `cumsum` and `cumprod`: the scan's, and the dtype to accumulate in and return. */
export interface AccumulateScanOptions<T extends DType = DType> extends ScanOptions {
  /**
   * The dtype the values are converted to, accumulated in and returned. Default: bool
   * and integers narrower than 32 bits accumulate in int32 (uint32 for unsigned).
   */
  readonly dtype?: T;
}

const SCAN_KEYS = ['axis', 'reverse', 'inclusive'] as const;
const ACCUMULATE_SCAN_KEYS = ['axis', 'reverse', 'inclusive', 'dtype'] as const;

/**
 * @internal One scan call from its public function or method: `argc` is how many
 * arguments the caller got (the array included); `second` is an options object or the
 * positional axis.
 */
export function scanEntry(op: ScanOp, argc: number, a: ArrayLike, second: unknown, reverse?: unknown, inclusive?: unknown): MetalArray {
  const accumulates = op === 'cumsum' || op === 'cumprod';
  if (typeof second === 'object' && second !== null && !Array.isArray(second)) {
    const keys = accumulates ? ACCUMULATE_SCAN_KEYS : SCAN_KEYS;
    checkArgCount(op, argc, 2, `${op}(x, { ${keys.join(', ')} }) or ${op}(x, axis, reverse, inclusive)`);
    const o = checkOptions(op, second as AccumulateScanOptions, keys);
    return scan(op, a, o.axis, o.reverse ?? false, o.inclusive ?? true, o.dtype);
  }
  checkArgCount(op, argc, 4, `${op}(x, axis, reverse, inclusive) or ${op}(x, { axis, reverse, inclusive${accumulates ? ', dtype' : ''} })`);
  return scan(
    op,
    a,
    second as number | null | undefined,
    reverse === undefined ? false : (reverse as boolean),
    inclusive === undefined ? true : (inclusive as boolean),
  );
}

function scan(op: ScanOp, a: ArrayLike, axis: number | null | undefined, reverse: boolean, inclusive: boolean, dtypeOption?: DType): MetalArray {
  if (typeof reverse !== 'boolean') throw new ArgumentError(`${op}: reverse must be a boolean, got ${formatValue(reverse)}`);
  if (typeof inclusive !== 'boolean') throw new ArgumentError(`${op}: inclusive must be a boolean, got ${formatValue(inclusive)}`);
  const [n0] = operandNodes(op, [a]);
  let dtype: DType = n0.dtype;
  if (dtypeOption !== undefined) {
    dtype = checkAccumulationDType(op, dtypeOption, n0.backend);
  } else if (op === 'cumsum' || op === 'cumprod') dtype = accumulationDType(n0.dtype);
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

/**
 * Cumulative sum along an axis (the flattened array by default). bool and integers
 * narrower than 32 bits accumulate in and return int32 (uint32 for unsigned), as MLX
 * and JAX; 32- and 64-bit integers wrap; `dtype` chooses.
 *
 * @example
 * ```ts
 * ma.cumsum(ma.array([200, 200], 'uint8'));                  // uint32 [200, 400]
 * ma.cumsum(ma.ones([2, 3]), { axis: 1, reverse: true });     // [[3, 2, 1], [3, 2, 1]]
 * ma.cumsum(ma.ones([2, 3]), 1);                              // positional form
 * ```
 */
export function cumsum<D extends DType, T extends DType = AccumulationOf<D>>(a: MetalArray<D>, options?: AccumulateScanOptions<T>): MetalArray<T>;
export function cumsum<D extends DType>(a: MetalArray<D>, axis?: number | null, reverse?: boolean, inclusive?: boolean): MetalArray<AccumulationOf<D>>;
export function cumsum(a: ArrayLike, axis?: number | null | AccumulateScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray;
export function cumsum(a: ArrayLike, axis?: number | null | AccumulateScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray {
  return scanEntry('cumsum', arguments.length, a, axis, reverse, inclusive);
}

/**
 * Cumulative product along an axis (the flattened array by default); accumulates as
 * `cumsum` does.
 *
 * @example
 * ```ts
 * ma.cumprod(ma.array([1, 2, 3, 4], 'int8'));              // int32 [1, 2, 6, 24]
 * ma.cumprod(ma.array([1, 2, 3]), { inclusive: false });   // [1, 1, 2]
 * ```
 */
export function cumprod<D extends DType, T extends DType = AccumulationOf<D>>(a: MetalArray<D>, options?: AccumulateScanOptions<T>): MetalArray<T>;
export function cumprod<D extends DType>(a: MetalArray<D>, axis?: number | null, reverse?: boolean, inclusive?: boolean): MetalArray<AccumulationOf<D>>;
export function cumprod(a: ArrayLike, axis?: number | null | AccumulateScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray;
export function cumprod(a: ArrayLike, axis?: number | null | AccumulateScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray {
  return scanEntry('cumprod', arguments.length, a, axis, reverse, inclusive);
}

/**
 * Running maximum along an axis (NaN propagates).
 *
 * @example
 * ```ts
 * ma.cummax(ma.array([1, 3, 2])); // [1, 3, 3]
 * ```
 */
export function cummax<D extends DType>(a: MetalArray<D>, axis?: number | null | ScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray<D>;
export function cummax(a: ArrayLike, axis?: number | null | ScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray;
export function cummax(a: ArrayLike, axis?: number | null | ScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray {
  return scanEntry('cummax', arguments.length, a, axis, reverse, inclusive);
}

/**
 * Running minimum along an axis (NaN propagates).
 *
 * @example
 * ```ts
 * ma.cummin(ma.array([3, 1, 2]), { reverse: true }); // [1, 1, 2]
 * ```
 */
export function cummin<D extends DType>(a: MetalArray<D>, axis?: number | null | ScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray<D>;
export function cummin(a: ArrayLike, axis?: number | null | ScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray;
export function cummin(a: ArrayLike, axis?: number | null | ScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray {
  return scanEntry('cummin', arguments.length, a, axis, reverse, inclusive);
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
