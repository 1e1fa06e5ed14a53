/**
 * Pooling, channels last (NHWC as MLX): the windows of `extractWindows` (one strided
 * view per kernel offset, stacked) reduced by max or mean, so gradients, JVPs and vmap
 * come from the rules of those ops.
 */
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import { DTYPES } from '../core/dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { checkKernelFits, extractWindows, padSpatial, paddingPairs, perAxis, type PerAxis } from './conv.js';
import { max, mean } from './reduce.js';

/** Options of `maxPool2d` and `avgPool2d`. */
export interface PoolOptions {
  /** Step between windows [the kernel size]. */
  readonly stride?: PerAxis;
  /** Padding on both sides of each spatial axis [0]: -Infinity for max, 0 for mean (counted in the mean, as PyTorch's default and MLX). */
  readonly padding?: PerAxis;
}

function pool2d(op: string, x: MetalArray, kernelSize: PerAxis, options: PoolOptions | undefined, kind: 'max' | 'mean'): MetalArray {
  const o = checkOptions(op, options, ['stride', 'padding']);
  if (!(x instanceof MetalArray)) throw new ArgumentError(`${op}: x must be a MetalArray [N, H, W, C]`);
  if (x.ndim !== 4) throw new ShapeError(`${op}: the input must be [N, H, W, C] (rank 4), got shape [${x.shape.join(', ')}]`);
  if (DTYPES[x.dtype].kind !== 'float') throw new DTypeError(`${op}: needs a floating-point input, got ${x.dtype}; cast it with astype('float32')`);
  const kernel = perAxis(op, 'kernelSize', kernelSize, 2, 1, 1);
  const stride = perAxis(op, 'stride', o.stride, 2, 1, 1);
  const strides = o.stride === undefined ? kernel : stride;
  const padding = paddingPairs(op, o.padding, 2);
  padding.forEach(([p], i) => {
    if (p < 0 || 2 * p > kernel[i]) throw new ArgumentError(`${op}: padding (${p}) must be between 0 and half the kernel size (${kernel[i]}) on axis ${i}`);
  });
  const padded = padSpatial(x, padding, kind === 'max' ? Number.NEGATIVE_INFINITY : 0);
  const ones = [1, 1];
  checkKernelFits(op, padded, kernel, ones);
  const windows = extractWindows(padded, kernel, strides, ones); // [N, Ho, Wo, K, C]
  return kind === 'max' ? max(windows, 3) : mean(windows, 3);
}

/**
 * 2-D max pooling, NHWC: the maximum of each `kernelSize` window, windows `stride` apart
 * (default: the kernel size), the input padded by `padding` with -Infinity.
 *
 * @example
 * ```ts
 * const x = ma.arange(16, { dtype: 'float32' }).reshape(1, 4, 4, 1);
 * console.log(ma.maxPool2d(x, 2).reshape(-1).tolist()); // [ 5, 7, 13, 15 ]
 * console.log(ma.maxPool2d(x, 3, { stride: 1, padding: 1 }).shape); // [ 1, 4, 4, 1 ]
 * ```
 */
export function maxPool2d(x: MetalArray, kernelSize: PerAxis, options?: PoolOptions): MetalArray {
  checkArgCount('maxPool2d', arguments.length, 3, 'maxPool2d(x, kernelSize, { stride, padding })');
  return pool2d('maxPool2d', x, kernelSize, options, 'max');
}

/**
 * 2-D average pooling, NHWC: the mean of each `kernelSize` window, windows `stride` apart
 * (default: the kernel size); zero padding counts in the mean (PyTorch's default).
 *
 * @example
 * ```ts
 * const x = ma.arange(16, { dtype: 'float32' }).reshape(1, 4, 4, 1);
 * console.log(ma.avgPool2d(x, 2).reshape(-1).tolist()); // [ 2.5, 4.5, 10.5, 12.5 ]
 * ```
 */
export function avgPool2d(x: MetalArray, kernelSize: PerAxis, options?: PoolOptions): MetalArray {
  checkArgCount('avgPool2d', arguments.length, 3, 'avgPool2d(x, kernelSize, { stride, padding })');
  return pool2d('avgPool2d', x, kernelSize, options, 'mean');
}
