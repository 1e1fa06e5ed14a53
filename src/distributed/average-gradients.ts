/**
 * Data-parallel gradient averaging: the mean of a gradient tree over a group, with small
 * arrays packed into few large `allSum`s (as MLX's average_gradients and PyTorch DDP's
 * buckets do), since each collective pays a latency that a small array cannot amortize.
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { DTYPES, isFloat } from '../core/dtype.js';
import { ArgumentError, DTypeError } from '../errors.js';
import { multiply } from '../ops/elementwise-ops.js';
import { concatenate, split } from '../ops/join.js';
import { reshape } from '../ops/movement.js';
import { type ArrayTree, flattenTree } from '../transforms/tree.js';
import { allSum } from './collectives.js';
import { defaultGroup, type Group } from './group.js';

/** Options of {@link averageGradients}. */
export interface AverageGradientsOptions {
  /** The most bytes one packed `allSum` carries (default 32 MiB); 0 sends each array alone. */
  bucketBytes?: number;
}

const DEFAULT_BUCKET_BYTES = 32 << 20;

/**
 * The mean of `grads` (an array tree: arrays, lists, objects) over the processes of
 * `group` (default: `init()`'s), as a tree of the same structure. Arrays of one dtype
 * and backend are flattened and concatenated into buckets of at most `bucketBytes`, each
 * summed with one `allSum`, scaled by 1/size and split back. On a group of size 1 it
 * returns `grads` unchanged. Every process passes a tree of the same structure, shapes
 * and dtypes (float).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const grads = { w: ma.ones([2, 2], 'float32'), b: ma.zeros([2], 'float32') };
 * const mean = ma.distributed.averageGradients(grads) as typeof grads; // alone: unchanged
 * console.log(mean.w.tolist()); // [ [ 1, 1 ], [ 1, 1 ] ]
 * ```
 */
export function averageGradients(grads: ArrayTree, group?: Group, options: AverageGradientsOptions = {}): ArrayTree {
  checkArgCount('averageGradients', arguments.length, 3, 'averageGradients(grads, group?, { bucketBytes? })');
  const opts = checkOptions('averageGradients', options, ['bucketBytes']);
  const bucketBytes = opts.bucketBytes ?? DEFAULT_BUCKET_BYTES;
  if (!(Number.isFinite(bucketBytes) && bucketBytes >= 0)) throw new ArgumentError(`averageGradients: bucketBytes must be a number >= 0, got ${bucketBytes}`);
  const g = group ?? defaultGroup();
  const { leaves, def } = flattenTree(grads, 'averageGradients');
  for (const x of leaves) {
    if (!isFloat(x.dtype)) throw new DTypeError(`averageGradients: gradients must be float arrays, got ${x.dtype}[${x.shape.join(', ')}]`);
  }
  if (g.size === 1) return grads;
  const out: MetalArray[] = new Array(leaves.length);
  const scale = 1 / g.size;
  // Buckets of one dtype and backend, filled in tree order (every rank packs alike).
  const open = new Map<string, { members: number[]; bytes: number }>();
  const flush = (key: string): void => {
    const bucket = open.get(key);
    if (bucket === undefined || bucket.members.length === 0) return;
    open.delete(key);
    const members = bucket.members.map((i) => leaves[i]);
    const flat = members.length === 1 ? reshape(members[0], [-1]) : concatenate(members.map((x) => reshape(x, [-1])));
    const mean = multiply(allSum(flat, g), scale);
    if (members.length === 1) {
      out[bucket.members[0]] = reshape(mean, members[0].shape);
      return;
    }
    const bounds: number[] = [];
    let at = 0;
    for (let k = 0; k < members.length - 1; k++) {
      at += members[k].size;
      bounds.push(at);
    }
    const parts = split(mean, bounds);
    bucket.members.forEach((i, k) => {
      out[i] = reshape(parts[k], leaves[i].shape);
    });
  };
  leaves.forEach((x, i) => {
    const key = `${x.dtype}|${x.backend}`;
    const bytes = x.size * DTYPES[x.dtype].bytes;
    const bucket = open.get(key);
    if (bucket !== undefined && bucket.bytes + bytes > bucketBytes) flush(key);
    const current = open.get(key) ?? { members: [], bytes: 0 };
    current.members.push(i);
    current.bytes += bytes;
    open.set(key, current);
    if (current.bytes >= bucketBytes) flush(key);
  });
  for (const key of [...open.keys()]) flush(key);
  return def.rebuild(out) as ArrayTree;
}
