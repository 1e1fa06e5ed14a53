/**
 * The one shape check every shape-taking function uses: each dimension a safe
 * non-negative integer, and the element count at most 2^53 - 1, so every flat index is
 * an exact JS number (past that, index arithmetic on the host rounds and the tail of the
 * array reads as empty). `Node`'s constructor applies the size limit too, which catches
 * shapes that no argument named (a broadcast of [2^30, 1] with [1, 2^30, 2^30]).
 */
import { ArgumentError, ShapeError, formatValue } from '../errors.js';

/** The largest element count an array may have: 2^53 - 1. */
export const MAX_ELEMENTS = Number.MAX_SAFE_INTEGER;

/** The ShapeError for a shape with more than `MAX_ELEMENTS` elements. */
export function tooManyElements(op: string, shape: readonly number[]): ShapeError {
  return new ShapeError(`${op}: shape [${shape.join(', ')}] has more than 2^53 - 1 elements, the most an array can index`);
}

/**
 * Checks a shape argument and returns it as a number list. A number is a 1-d shape.
 * With `inferred`, one entry may be -1 (reshape's "whatever is left"); its size is
 * then checked by the caller.
 *
 * @param op - the public function, for the message
 * @param shape - the argument as given
 * @param inferred - whether a single -1 entry is allowed
 * @throws ArgumentError for a shape that is neither a number nor an array; ShapeError for a dimension that is not a safe non-negative integer, or a shape of more than 2^53 - 1 elements
 * @example
 * ```ts
 * checkShape('full', [2, 3]);              // [2, 3]
 * checkShape('reshape', [-1, 4], true);    // [-1, 4]
 * checkShape('full', [2 ** 27, 2 ** 27]);  // throws ShapeError: more than 2^53 - 1 elements
 * ```
 */
export function checkShape(op: string, shape: unknown, inferred = false): number[] {
  const dims = typeof shape === 'number' ? [shape] : shape;
  if (!Array.isArray(dims)) throw new ArgumentError(`${op}: shape must be a number or an array of numbers, got ${formatValue(shape)}`);
  let size = 1;
  let unknown = 0;
  for (const d of dims) {
    if (inferred && d === -1) {
      if (++unknown > 1) throw new ShapeError(`${op}: only one dimension may be -1, got ${formatValue(dims)}`);
      continue;
    }
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new ShapeError(`${op}: shape entries must be non-negative integers${inferred ? ' (or one -1)' : ''} below 2^53, got ${formatValue(dims)}`);
    }
    size *= d;
  }
  // A rounded product past 2^53 - 1 still compares greater, so no overflow slips through.
  if (size > MAX_ELEMENTS) throw tooManyElements(op, dims as number[]);
  return dims as number[];
}
