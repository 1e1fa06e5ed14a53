/**
 * Gradient clipping by the global norm, as `torch.nn.utils.clip_grad_norm_`.
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount } from '../core/arguments.js';
import { ArgumentError, formatValue } from '../errors.js';
import { minimum } from '../ops/elementwise-ops.js';
import { sum } from '../ops/reduce.js';
import { type ArrayTree, treeFlatten, treeMap } from '../transforms/tree.js';

/**
 * Scales a gradient tree so that its global L2 norm (over every array) is at most
 * `maxNorm`: every gradient is multiplied by `min(1, maxNorm / (norm + 1e-6))`, as
 * PyTorch's `clip_grad_norm_`. Returns the clipped tree and the norm before clipping
 * (a float32 scalar), both lazy.
 *
 * @param grads - the gradients (a tree of float arrays)
 * @param maxNorm - the largest norm allowed (> 0)
 * @returns `[clipped, totalNorm]`
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const [clipped, norm] = ma.optimizers.clipGradNorm({ w: ma.array([3, 4], 'float32') }, 1);
 * norm.item(); // 5
 * clipped.w.tolist(); // about [0.6, 0.8]
 * ```
 */
export function clipGradNorm<T extends ArrayTree>(grads: T, maxNorm: number): [T, MetalArray] {
  checkArgCount('clipGradNorm', arguments.length, 2, 'clipGradNorm(grads, maxNorm)');
  if (typeof maxNorm !== 'number' || !Number.isFinite(maxNorm) || maxNorm <= 0) {
    throw new ArgumentError(`clipGradNorm: maxNorm must be a finite number > 0, got ${formatValue(maxNorm)}`);
  }
  const leaves = treeFlatten(grads);
  if (leaves.length === 0) throw new ArgumentError('clipGradNorm: the gradient tree holds no arrays');
  let squares: MetalArray | undefined;
  for (const [, g] of leaves) {
    const s = sum(g.astype('float32').square());
    squares = squares === undefined ? s : squares.add(s);
  }
  const norm = (squares as MetalArray).sqrt();
  const scale = minimum(norm.add(1e-6).reciprocal().multiply(maxNorm), 1);
  const clipped = treeMap((g) => g.multiply(scale.astype(g.dtype)), grads);
  return [clipped, norm];
}
