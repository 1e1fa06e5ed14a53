/**
 * The reduction kernel builder under the public reductions of src/ops/reduce.ts (and the
 * accumulation dtype the scans share): axis normalization, result dtypes, NumPy's
 * empty-reduction rules, keepdims, and the split of a large full reduction into
 * parallel partials. No argument parsing here: the public functions do that.
 */
import { MetalArray } from '../array/array.js';
import { ArgumentError, DTypeError, ShapeError, formatValue } from '../errors.js';
import { castNode, constNode, reduceNode } from '../core/build.js';
import { type DType, checkDType } from '../core/dtype.js';
import type { Node, ReduceOp } from '../core/node.js';
import { expandDims } from './movement.js';
import { type ArrayLike, nodeOf, normalizeAxis, operandNodes } from './operand.js';

/** Which axes to reduce: one, several, or (undefined/null) all. */
export type Axes = number | readonly number[] | null | undefined;

export function normalizeAxes(op: string, axis: Axes, rank: number): number[] {
  if (axis === undefined || axis === null) return [...Array(rank).keys()];
  const list = typeof axis === 'number' ? [axis] : Array.isArray(axis) ? axis : null;
  if (list === null) throw new ArgumentError(`${op}: axis must be an integer, a list of integers or null, got ${formatValue(axis)}`);
  const axes = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(axes).size !== axes.length) throw new ShapeError(`${op}: repeated axis in [${list.join(', ')}]`);
  return axes.sort((a, b) => a - b);
}

function keepDims(out: MetalArray, axes: readonly number[], keepdims: boolean): MetalArray {
  return keepdims && axes.length > 0 ? expandDims(out, axes) : out;
}

/**
 * The dtype sum, prod, cumsum and cumprod accumulate in and return, as MLX and JAX:
 * bool and integers narrower than 32 bits widen to int32 (unsigned ones to uint32), so
 * the sum of a uint8 image does not wrap at 256; other dtypes keep theirs.
 */
export function accumulationDType(dtype: DType): DType {
  switch (dtype) {
    case 'bool':
    case 'int8':
    case 'int16':
      return 'int32';
    case 'uint8':
    case 'uint16':
      return 'uint32';
    default:
      return dtype;
  }
}

/** The result dtype of a reduction of `dtype`. */
function reduceDType(op: ReduceOp, dtype: DType): DType {
  switch (op) {
    case 'sum':
    case 'prod':
      return accumulationDType(dtype);
    case 'argmax':
    case 'argmin':
      return 'int32';
    case 'any':
    case 'all':
      return 'bool';
    default:
      return dtype;
  }
}

/** @internal A single reduction node over normalized axes, with NumPy's empty-reduction rules. */
export function reduceOp(op: ReduceOp, a: ArrayLike, axis: Axes, keepdims: boolean, opName: string = op, dtype?: DType): MetalArray {
  if (typeof keepdims !== 'boolean') throw new ArgumentError(`${opName}: keepdims must be a boolean, got ${formatValue(keepdims)}`);
  const [given] = operandNodes(opName, [a]);
  // The dtype option: the values are converted first, then reduced in that dtype.
  const n0 = dtype === undefined ? given : castNode(given, checkAccumulationDType(opName, dtype, given.backend));
  const axes = normalizeAxes(opName, axis, n0.shape.length);
  if ((op === 'argmax' || op === 'argmin') && axes.length !== 1 && n0.shape.length > 1 && axis !== undefined && axis !== null) {
    throw new ShapeError(`${opName}: takes a single axis, got [${axes.join(', ')}]`);
  }
  const reducedSize = axes.reduce((p, d) => p * n0.shape[d], 1);
  // As NumPy: an empty reduced extent has no identity for these ops, whatever the output size.
  if (reducedSize === 0 && (op === 'max' || op === 'min' || op === 'argmax' || op === 'argmin')) {
    throw new ShapeError(`${opName}: zero-size reduction over axes [${axes.join(', ')}] of shape [${n0.shape.join(', ')}] has no identity`);
  }
  // An explicit dtype is the accumulation dtype as given (int8 sums wrap in int8).
  const ownDType = dtype ?? reduceDType(op, n0.dtype);
  const input = op === 'any' || op === 'all' ? castNode(n0, 'bool') : op === 'sum' || op === 'prod' ? castNode(n0, ownDType) : n0;
  if (axes.length === 0) {
    // Nothing to reduce: the array itself, or for argmax/argmin the only index, 0.
    if (op === 'argmax' || op === 'argmin') return MetalArray.fromNode(constNode(0, input.shape, 'int32', input.backend));
    return MetalArray.fromNode(input);
  }
  // argmax over all axes of an n-d array is the index into the flattened array.
  const flatArg = (op === 'argmax' || op === 'argmin') && axes.length > 1;
  const src = flatArg ? nodeOf(MetalArray.fromNode(input).reshape(-1), opName) : input;
  // An index past int32's range needs int64 (argmax over more than 2^31 - 1 elements).
  const resultDType = (op === 'argmax' || op === 'argmin') && reducedSize > 2 ** 31 - 1 ? 'int64' : ownDType;
  const twoStage = splitFullReduction(op, input, axes, resultDType);
  if (twoStage) return keepDims(twoStage, axes, keepdims);
  const out = MetalArray.fromNode(reduceNode(op, src, flatArg ? [0] : axes, resultDType));
  // Flattened argmax with keepdims keeps every axis, as 1 (NumPy).
  if (flatArg) return keepdims ? out.reshape(n0.shape.map(() => 1)) : out;
  return keepDims(out, axes, keepdims);
}

/** Below this many elements a full reduction runs as one kernel (one thread). */
const SPLIT_MIN = 1 << 21;

/** A full reduction is split into about this many parallel partial reductions. */
const SPLIT_PARTS = 64;

/**
 * A large reduction to one value has one output element, so one thread: it runs as about
 * SPLIT_PARTS parallel partial reductions and then one over the partials. The partials
 * are the leading dims of the input with one axis split in two ([..., p, d/p, ...]):
 * splitting a dim keeps the index math affine, where reshaping an n-d array to
 * [P, N/P] would need a division and a modulo per element. Float partials are rounded
 * once to float32/float64 (a rounding per 1/P of the sum; still within the pairwise
 * summation bound), so float16/bfloat16 stay single-stage.
 */
function splitFullReduction(op: ReduceOp, input: Node, axes: readonly number[], dtype: DType): MetalArray | null {
  if (op === 'argmax' || op === 'argmin' || axes.length !== input.shape.length || input.size < SPLIT_MIN) return null;
  if (input.dtype === 'float16' || input.dtype === 'bfloat16') return null;
  const shape = input.shape;
  let lead = 1;
  let split = shape.length;
  let parts = 1;
  for (let i = 0; i < shape.length; i++) {
    if (lead * shape[i] <= SPLIT_PARTS) {
      lead *= shape[i];
      continue;
    }
    split = i;
    parts = [64, 32, 16, 8, 4, 2].find((p) => lead * p <= SPLIT_PARTS && shape[i] % p === 0) ?? 1;
    break;
  }
  if (lead * parts < 2) return null;
  const splitShape = [...shape.slice(0, split), parts, shape[split] / parts, ...shape.slice(split + 1)];
  const rows = MetalArray.fromNode(input).reshape(...splitShape);
  const inner = splitShape.map((_, i) => i).slice(split + 1);
  const partial = MetalArray.fromNode(reduceNode(op, rows.liveNode(op), inner, dtype));
  // The same fold over the partials (already of the result dtype).
  const outer = partial.shape.map((_, i) => i);
  return MetalArray.fromNode(reduceNode(op, partial.liveNode(op), outer, dtype));
}

/** A user's `dtype` option, checked: a known dtype the backend can hold. */
export function checkAccumulationDType(op: string, dtype: unknown, backend: string): DType {
  const d = checkDType(dtype, op);
  if (d === 'float64' && backend === 'metal') throw new DTypeError(`${op}: dtype float64 is not supported on the metal backend; pass { dtype: 'float32' }`);
  return d;
}
