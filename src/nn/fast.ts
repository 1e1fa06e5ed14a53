/**
 * `ma.fast`: fused building blocks. `scaledDotProductAttention` is written with the
 * library's ops (matmul, a masked softmax, matmul), so the transformations
 * differentiate it and the scheduler fuses the scaling, the mask and the softmax's
 * reductions and exponentials around the two matrix products.
 *
 * @module
 */
import { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { add, greaterEqual, multiply } from '../ops/elementwise-ops.js';
import { where } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { swapaxes } from '../ops/movement.js';
import { arange } from '../ops/ranges.js';
import { softmax } from '../ops/reduce.js';

/** Options of `fast.scaledDotProductAttention`. */
export interface AttentionOptions {
  /** The factor on the scores (default 1/√headDims). */
  readonly scale?: number;
  /** Broadcasts against the scores [..., queries, keys]: a bool mask (true: attend) or a float mask added to the scores. */
  readonly mask?: MetalArray;
  /** Each query attends only to keys at its position or before (aligned at the end when there are more keys than queries). */
  readonly causal?: boolean;
}

function shapeText(x: MetalArray): string {
  return `[${x.shape.join(', ')}]`;
}

/**
 * Attention `softmax(q kᵀ · scale + mask) v` over the last two axes: `q` [..., Tq, D],
 * `k` [..., Tk, D], `v` [..., Tk, Dv] (leading axes broadcast, e.g. [batch, heads]),
 * giving [..., Tq, Dv]. A masked-out score is -∞ before the softmax. Differentiable
 * through every transformation.
 *
 * @throws ShapeError when the head sizes or key counts disagree
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const q = ma.ones([1, 2, 3, 4]);
 * const v = ma.arange(12, { dtype: 'float32' }).reshape(1, 1, 3, 4);
 * const out = ma.fast.scaledDotProductAttention(q, q, v, { causal: true });
 * console.log(out.shape, out.slice(0, 0, 0).tolist()); // [ 1, 2, 3, 4 ] [ 0, 1, 2, 3 ]
 * ```
 */
export function scaledDotProductAttention(q: MetalArray, k: MetalArray, v: MetalArray, options?: AttentionOptions): MetalArray {
  const op = 'fast.scaledDotProductAttention';
  checkArgCount(op, arguments.length, 4, 'scaledDotProductAttention(q, k, v, { scale, mask, causal })');
  for (const [name, x] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const) {
    if (!(x instanceof MetalArray)) throw new ArgumentError(`${op}: ${name} must be a MetalArray, got ${formatValue(x)}`);
    if (x.ndim < 2) throw new ShapeError(`${op}: ${name} needs at least 2 axes ([..., positions, dims]), got shape ${shapeText(x)}`);
  }
  const o = checkOptions(op, options, ['scale', 'mask', 'causal']);
  const headDims = q.shape[q.ndim - 1] as number;
  if (k.shape[k.ndim - 1] !== headDims) throw new ShapeError(`${op}: q ${shapeText(q)} and k ${shapeText(k)} must have the same last dimension`);
  if (k.shape[k.ndim - 2] !== v.shape[v.ndim - 2])
    throw new ShapeError(`${op}: k ${shapeText(k)} and v ${shapeText(v)} must have the same number of positions (axis -2)`);
  const scale = o.scale ?? 1 / Math.sqrt(headDims);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new ArgumentError(`${op}: scale must be a finite number, got ${formatValue(scale)}`);
  // Scaling the scores (not q) lets the scale ride in the product's epilogue.
  let scores = multiply(matmul(q, swapaxes(k, -1, -2)), scale);
  if (o.causal !== undefined && typeof o.causal !== 'boolean') throw new ArgumentError(`${op}: causal must be a boolean, got ${formatValue(o.causal)}`);
  if (o.causal === true) {
    const tq = q.shape[q.ndim - 2] as number;
    const tk = k.shape[k.ndim - 2] as number;
    const allowed = greaterEqual(arange(tk - tq, tk).reshape(tq, 1), arange(tk).reshape(1, tk));
    scores = where(allowed, scores, Number.NEGATIVE_INFINITY);
  }
  if (o.mask !== undefined) {
    const mask = o.mask;
    if (!(mask instanceof MetalArray)) throw new ArgumentError(`${op}: mask must be a MetalArray (bool or float), got ${formatValue(mask)}`);
    scores = mask.dtype === 'bool' ? where(mask, scores, Number.NEGATIVE_INFINITY) : add(scores, mask);
  }
  return matmul(softmax(scores, -1), v);
}
