/**
 * Convolution, pooling and batch-normalization layers of `ma.nn`, channels last as MLX:
 * inputs are [N, L, C] / [N, H, W, C], convolution weights [O, ...kernel, C / groups]
 * (PyTorch's [O, C / groups, ...kernel] transposed to put the channels last).
 */
import { MetalArray } from '../array/array.js';
import { ones, zeros } from '../array/creation.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import type { DType } from '../core/dtype.js';
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { add, multiply, rsqrt, subtract } from '../ops/elementwise-ops.js';
import { type ConvPadding, type PerAxis, conv1d, conv2d, convTranspose2d } from '../ops/conv.js';
import { avgPool2d, maxPool2d } from '../ops/pool.js';
import { foldIn } from '../ops/random.js';
import { mean, variance } from '../ops/reduce.js';
import { stopGradient } from '../transforms/grad.js';
import { uniform } from './init.js';
import { keyOrNext } from './keys.js';
import { Module } from './module.js';

/** Options of `Conv1d`, `Conv2d` and `ConvTranspose2d`. */
export interface ConvLayerOptions {
  /** Step between output positions (default 1). */
  readonly stride?: PerAxis;
  /** Zero padding per spatial axis (default 0). */
  readonly padding?: ConvPadding;
  /** Spacing between kernel taps (default 1). */
  readonly dilation?: PerAxis;
  /** Channel groups (default 1). */
  readonly groups?: number;
  /** Whether the layer adds a bias (default true). */
  readonly bias?: boolean;
  /** The key the initial weights are drawn from (default: the next of `ma.nn.seed`'s stream). */
  readonly key?: MetalArray;
  /** The parameters' dtype (default float32). */
  readonly dtype?: DType;
}

/** Options of `ConvTranspose2d`: a convolution's, plus the extra high-end output positions. */
export interface ConvTransposeLayerOptions extends ConvLayerOptions {
  /** Extra output positions at the high end of each spatial axis (default 0). */
  readonly outputPadding?: PerAxis;
}

const CONV_KEYS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'key', 'dtype'] as const;

function positiveInt(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw new ArgumentError(`${op}: ${name} must be a positive integer, got ${formatValue(value)}`);
  return value;
}

function kernelShape(op: string, kernelSize: PerAxis, dims: number): number[] {
  const list = typeof kernelSize === 'number' ? new Array<number>(dims).fill(kernelSize) : [...kernelSize];
  if (list.length !== dims) throw new ArgumentError(`${op}: kernelSize must be a positive integer or ${dims} of them, got ${formatValue(kernelSize)}`);
  return list.map((k) => positiveInt(op, 'kernelSize', k));
}

function checkLayerInput(layer: Module, x: unknown, rank: number, layout: string, channels: number): MetalArray {
  if (!(x instanceof MetalArray))
    throw new ArgumentError(`${layer.constructor.name}(${layer.describe()}).forward: expected a MetalArray, got ${formatValue(x)}`);
  if (x.ndim !== rank || x.shape[rank - 1] !== channels) {
    throw new ShapeError(`${layer.constructor.name}(${layer.describe()}): the input must be ${layout} with C = ${channels}, got shape [${x.shape.join(', ')}]`);
  }
  return x;
}

/** The weight and bias of a convolution layer, uniform in ±1/√fanIn (PyTorch's and MLX's default). */
function convParameters(
  op: string,
  key: MetalArray | undefined,
  shape: readonly number[],
  fanIn: number,
  bias: boolean,
  dtype: DType,
): [MetalArray, MetalArray | undefined] {
  const k = keyOrNext(op, key);
  const bound = 1 / Math.sqrt(fanIn);
  const weight = uniform(foldIn(k, 0), shape, { low: -bound, high: bound, dtype });
  return [weight, bias ? uniform(foldIn(k, 1), [shape[0]], { low: -bound, high: bound, dtype }) : undefined];
}

/** The settings and initial parameters of a convolution layer, shared by the three classes. */
interface ConvSetup {
  readonly weight: MetalArray;
  readonly bias: MetalArray | undefined;
  readonly inputChannels: number;
  readonly outputChannels: number;
  readonly kernelSize: readonly number[];
  readonly conv: { stride?: PerAxis; padding?: ConvPadding; dilation?: PerAxis; groups?: number };
}

function setupConv(
  op: string,
  dims: number,
  inputChannels: number,
  outputChannels: number,
  kernelSize: PerAxis,
  options: ConvLayerOptions,
  transposed: boolean,
): ConvSetup {
  positiveInt(op, 'inputChannels', inputChannels);
  positiveInt(op, 'outputChannels', outputChannels);
  const kernel = kernelShape(op, kernelSize, dims);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || inputChannels % groups !== 0 || outputChannels % groups !== 0) {
    throw new ArgumentError(
      `${op}: groups (${formatValue(groups)}) must be a positive integer dividing inputChannels (${inputChannels}) and outputChannels (${outputChannels})`,
    );
  }
  const taps = kernel.reduce((p, k) => p * k, 1);
  // A transposed convolution's weight has the fan-in of the convolution it transposes
  // (PyTorch draws it from weight.size(1) · taps).
  const fanIn = ((transposed ? outputChannels : inputChannels) / groups) * taps;
  const [weight, bias] = convParameters(
    op,
    options.key,
    [outputChannels, ...kernel, inputChannels / groups],
    fanIn,
    options.bias ?? true,
    options.dtype ?? 'float32',
  );
  const conv = { stride: options.stride, padding: options.padding, dilation: options.dilation, groups: options.groups };
  return { weight, bias, inputChannels, outputChannels, kernelSize: kernel, conv };
}

function describeConv(
  layer: { inputChannels: number; outputChannels: number; kernelSize: readonly number[]; bias: MetalArray | undefined },
  conv: object,
): string {
  const extras = Object.entries(conv)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `, ${k}=${formatValue(v)}`)
    .join('');
  return `${layer.inputChannels}, ${layer.outputChannels}, kernelSize=[${layer.kernelSize.join(', ')}]${extras}, bias=${layer.bias !== undefined}`;
}

/**
 * 1-D convolution layer, NLC: [N, L, inputChannels] → [N, Lout, outputChannels].
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const conv = new ma.nn.Conv1d(4, 8, 3, { padding: 1, key: ma.random.key(0) });
 * console.log(conv.forward(ma.ones([2, 10, 4])).shape); // [ 2, 10, 8 ]
 * ```
 */
export class Conv1d extends Module {
  /** The weight, [outputChannels, ...kernel, inputChannels / groups]. */
  weight: MetalArray;
  /** The bias, [outputChannels], or undefined with `{ bias: false }`. */
  bias: MetalArray | undefined;
  /** The input's channel count. */
  readonly inputChannels: number;
  /** The output's channel count. */
  readonly outputChannels: number;
  /** Kernel size per spatial axis. */
  readonly kernelSize: readonly number[];
  private readonly _conv: ConvSetup['conv'];

  constructor(inputChannels: number, outputChannels: number, kernelSize: number, options?: ConvLayerOptions) {
    checkArgCount(
      'Conv1d',
      arguments.length,
      4,
      'new Conv1d(inputChannels, outputChannels, kernelSize, { stride, padding, dilation, groups, bias, key, dtype })',
    );
    super();
    const setup = setupConv('Conv1d', 1, inputChannels, outputChannels, kernelSize, checkOptions('Conv1d', options, [...CONV_KEYS]), false);
    this.weight = setup.weight;
    this.bias = setup.bias;
    this.inputChannels = setup.inputChannels;
    this.outputChannels = setup.outputChannels;
    this.kernelSize = setup.kernelSize;
    this._conv = setup.conv;
  }

  /**
   * The convolution plus the bias.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const conv = new ma.nn.Conv1d(1, 1, 2, { bias: false });
   * conv.update({ weight: ma.ones([1, 2, 1]) });
   * console.log(conv.forward(ma.ones([1, 3, 1])).reshape(-1).tolist()); // [ 2, 2 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    checkLayerInput(this, x, 3, '[N, L, C]', this.inputChannels);
    const y = conv1d(x, this.weight, this._conv);
    return this.bias === undefined ? y : add(y, this.bias);
  }

  override describe(): string {
    return describeConv(this, this._conv);
  }
}

/**
 * 2-D convolution layer, NHWC: [N, H, W, inputChannels] → [N, Hout, Wout, outputChannels].
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const conv = new ma.nn.Conv2d(3, 16, 3, { stride: 2, padding: 1, key: ma.random.key(0) });
 * console.log(conv.forward(ma.ones([1, 8, 8, 3])).shape); // [ 1, 4, 4, 16 ]
 * ```
 */
export class Conv2d extends Module {
  /** The weight, [outputChannels, ...kernel, inputChannels / groups]. */
  weight: MetalArray;
  /** The bias, [outputChannels], or undefined with `{ bias: false }`. */
  bias: MetalArray | undefined;
  /** The input's channel count. */
  readonly inputChannels: number;
  /** The output's channel count. */
  readonly outputChannels: number;
  /** Kernel size per spatial axis. */
  readonly kernelSize: readonly number[];
  private readonly _conv: ConvSetup['conv'];

  constructor(inputChannels: number, outputChannels: number, kernelSize: PerAxis, options?: ConvLayerOptions) {
    checkArgCount(
      'Conv2d',
      arguments.length,
      4,
      'new Conv2d(inputChannels, outputChannels, kernelSize, { stride, padding, dilation, groups, bias, key, dtype })',
    );
    super();
    const setup = setupConv('Conv2d', 2, inputChannels, outputChannels, kernelSize, checkOptions('Conv2d', options, [...CONV_KEYS]), false);
    this.weight = setup.weight;
    this.bias = setup.bias;
    this.inputChannels = setup.inputChannels;
    this.outputChannels = setup.outputChannels;
    this.kernelSize = setup.kernelSize;
    this._conv = setup.conv;
  }

  /**
   * The convolution plus the bias.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const conv = new ma.nn.Conv2d(1, 1, 2, { bias: false });
   * conv.update({ weight: ma.ones([1, 2, 2, 1]) });
   * console.log(conv.forward(ma.ones([1, 2, 2, 1])).reshape(-1).tolist()); // [ 4 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    checkLayerInput(this, x, 4, '[N, H, W, C]', this.inputChannels);
    const y = conv2d(x, this.weight, this._conv);
    return this.bias === undefined ? y : add(y, this.bias);
  }

  override describe(): string {
    return describeConv(this, this._conv);
  }
}

/**
 * 2-D transposed convolution layer, NHWC (the gradient of a convolution with respect to
 * its input; upsamples by `stride`). Weight [outputChannels, kh, kw, inputChannels / groups].
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const up = new ma.nn.ConvTranspose2d(8, 4, 3, { stride: 2, padding: 1, outputPadding: 1, key: ma.random.key(0) });
 * console.log(up.forward(ma.ones([1, 5, 5, 8])).shape); // [ 1, 10, 10, 4 ]
 * ```
 */
export class ConvTranspose2d extends Module {
  /** The weight, [outputChannels, ...kernel, inputChannels / groups]. */
  weight: MetalArray;
  /** The bias, [outputChannels], or undefined with `{ bias: false }`. */
  bias: MetalArray | undefined;
  /** The input's channel count. */
  readonly inputChannels: number;
  /** The output's channel count. */
  readonly outputChannels: number;
  /** Kernel size per spatial axis. */
  readonly kernelSize: readonly number[];
  private readonly _conv: ConvSetup['conv'];
  /** Extra output positions at the high end of each spatial axis. */
  readonly outputPadding: PerAxis | undefined;

  constructor(inputChannels: number, outputChannels: number, kernelSize: PerAxis, options?: ConvTransposeLayerOptions) {
    checkArgCount(
      'ConvTranspose2d',
      arguments.length,
      4,
      'new ConvTranspose2d(inputChannels, outputChannels, kernelSize, { stride, padding, dilation, outputPadding, groups, bias, key, dtype })',
    );
    super();
    const o = checkOptions('ConvTranspose2d', options, [...CONV_KEYS, 'outputPadding']);
    const setup = setupConv('ConvTranspose2d', 2, inputChannels, outputChannels, kernelSize, o, true);
    this.weight = setup.weight;
    this.bias = setup.bias;
    this.inputChannels = setup.inputChannels;
    this.outputChannels = setup.outputChannels;
    this.kernelSize = setup.kernelSize;
    this._conv = setup.conv;
    this.outputPadding = o.outputPadding;
  }

  /**
   * The transposed convolution plus the bias.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const up = new ma.nn.ConvTranspose2d(1, 1, 2, { stride: 2, bias: false });
   * up.update({ weight: ma.ones([1, 2, 2, 1]) });
   * console.log(up.forward(ma.ones([1, 1, 1, 1])).reshape(-1).tolist()); // [ 1, 1, 1, 1 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    checkLayerInput(this, x, 4, '[N, H, W, C]', this.inputChannels);
    const y = convTranspose2d(x, this.weight, { ...this._conv, outputPadding: this.outputPadding });
    return this.bias === undefined ? y : add(y, this.bias);
  }

  override describe(): string {
    return describeConv(this, { ...this._conv, outputPadding: this.outputPadding });
  }
}

/** Options of `MaxPool2d` and `AvgPool2d`. */
export interface PoolLayerOptions {
  /** Step between windows (default: the kernel size). */
  readonly stride?: PerAxis;
  /** Padding on both sides of each spatial axis (default 0). */
  readonly padding?: PerAxis;
}

/**
 * 2-D max pooling layer, NHWC (no parameters).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(new ma.nn.MaxPool2d(2).forward(ma.ones([1, 4, 6, 3])).shape); // [ 1, 2, 3, 3 ]
 * ```
 */
export class MaxPool2d extends Module {
  /** Window size per spatial axis. */
  readonly kernelSize: PerAxis;
  /** The stride and padding. */
  readonly poolOptions: PoolLayerOptions;

  constructor(kernelSize: PerAxis, options?: PoolLayerOptions) {
    super();
    checkArgCount('MaxPool2d', arguments.length, 2, 'new MaxPool2d(kernelSize, { stride, padding })');
    this.kernelSize = kernelSize;
    this.poolOptions = { ...checkOptions('MaxPool2d', options, ['stride', 'padding']) };
  }

  /**
   * The maximum of each window.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const x = ma.arange(4, { dtype: 'float32' }).reshape(1, 2, 2, 1);
   * console.log(new ma.nn.MaxPool2d(2).forward(x).reshape(-1).tolist()); // [ 3 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    return maxPool2d(x, this.kernelSize, this.poolOptions);
  }

  override describe(): string {
    return `kernelSize=${formatValue(this.kernelSize)}`;
  }
}

/**
 * 2-D average pooling layer, NHWC (no parameters; zero padding counts in the mean).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(new ma.nn.AvgPool2d(2, { stride: 1 }).forward(ma.ones([1, 4, 4, 2])).shape); // [ 1, 3, 3, 2 ]
 * ```
 */
export class AvgPool2d extends Module {
  /** Window size per spatial axis. */
  readonly kernelSize: PerAxis;
  /** The stride and padding. */
  readonly poolOptions: PoolLayerOptions;

  constructor(kernelSize: PerAxis, options?: PoolLayerOptions) {
    super();
    checkArgCount('AvgPool2d', arguments.length, 2, 'new AvgPool2d(kernelSize, { stride, padding })');
    this.kernelSize = kernelSize;
    this.poolOptions = { ...checkOptions('AvgPool2d', options, ['stride', 'padding']) };
  }

  /**
   * The mean of each window.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const x = ma.arange(4, { dtype: 'float32' }).reshape(1, 2, 2, 1);
   * console.log(new ma.nn.AvgPool2d(2).forward(x).reshape(-1).tolist()); // [ 1.5 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    return avgPool2d(x, this.kernelSize, this.poolOptions);
  }

  override describe(): string {
    return `kernelSize=${formatValue(this.kernelSize)}`;
  }
}

/** Options of `BatchNorm`. */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Weight of the new batch in the running statistics (default 0.1, PyTorch's). */
  readonly momentum?: number;
  /** Whether the layer has a learned scale and shift (default true). */
  readonly affine?: boolean;
  /** Whether it keeps running statistics for evaluation (default true). */
  readonly trackRunningStats?: boolean;
  /** The parameters' dtype (default float32). */
  readonly dtype?: DType;
}

/**
 * Batch normalization over every axis but the last (the channels): in training mode it
 * normalizes by the batch's mean and (biased) variance and updates the running
 * statistics with the unbiased variance, as PyTorch; in evaluation mode it uses the
 * running statistics. `runningMean` / `runningVar` are frozen: saved with the weights,
 * never trained.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const bn = new ma.nn.BatchNorm(3);
 * const y = bn.forward(ma.random.normal(ma.random.key(0), [8, 4, 4, 3]));
 * console.log(y.shape, bn.trainableParameters().weight?.shape); // [ 8, 4, 4, 3 ] [ 3 ]
 * ```
 */
export class BatchNorm extends Module {
  /** The learned scale, [features], or undefined with `{ affine: false }`. */
  weight: MetalArray | undefined;
  /** The learned shift, [features], or undefined with `{ affine: false }`. */
  bias: MetalArray | undefined;
  /** Running mean of the batches seen in training, [features]. */
  runningMean: MetalArray | undefined;
  /** Running (unbiased) variance of the batches seen in training, [features]. */
  runningVar: MetalArray | undefined;
  /** The channel count (the input's last dimension). */
  readonly features: number;
  /** Added to the variance. */
  readonly eps: number;
  /** Weight of the new batch in the running statistics. */
  readonly momentum: number;

  constructor(features: number, options?: BatchNormOptions) {
    super();
    checkArgCount('BatchNorm', arguments.length, 2, 'new BatchNorm(features, { eps, momentum, affine, trackRunningStats, dtype })');
    const o = checkOptions('BatchNorm', options, ['eps', 'momentum', 'affine', 'trackRunningStats', 'dtype']);
    this.features = positiveInt('BatchNorm', 'features', features);
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    if (!(this.eps > 0) || !Number.isFinite(this.eps)) throw new ArgumentError(`BatchNorm: eps must be a positive number, got ${formatValue(o.eps)}`);
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ArgumentError(`BatchNorm: momentum must be in [0, 1], got ${formatValue(o.momentum)}`);
    const dtype = o.dtype ?? 'float32';
    const affine = o.affine ?? true;
    this.weight = affine ? ones([features], dtype) : undefined;
    this.bias = affine ? zeros([features], dtype) : undefined;
    const track = o.trackRunningStats ?? true;
    this.runningMean = track ? zeros([features], dtype) : undefined;
    this.runningVar = track ? ones([features], dtype) : undefined;
    if (track) this.freeze(['runningMean', 'runningVar']);
  }

  /**
   * Normalizes `x` [..., features] per channel (batch statistics in training, running ones in evaluation).
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const bn = new ma.nn.BatchNorm(1, { affine: false }).eval();
   * console.log(bn.forward(ma.array([[2], [4]], 'float32')).reshape(-1).tolist()); // [ 1.9999899864196777, 3.9999799728393555 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    if (!(x instanceof MetalArray)) throw new ArgumentError(`BatchNorm(${this.describe()}).forward: expected a MetalArray, got ${formatValue(x)}`);
    if (x.ndim < 2 || x.shape[x.ndim - 1] !== this.features) {
      throw new ShapeError(`BatchNorm(${this.describe()}): the input must be [N, ..., ${this.features}] (channels last), got shape [${x.shape.join(', ')}]`);
    }
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    let mu: MetalArray;
    let sigma2: MetalArray;
    if (this.training || this.runningMean === undefined || this.runningVar === undefined) {
      mu = mean(x, axes);
      sigma2 = variance(x, axes);
      if (this.training && this.runningMean !== undefined && this.runningVar !== undefined) {
        const count = axes.reduce((p, a) => p * x.shape[a], 1);
        const unbiased = multiply(stopGradient(sigma2), count / Math.max(count - 1, 1));
        const m = this.momentum;
        this.runningMean = add(multiply(this.runningMean, 1 - m), multiply(stopGradient(mu), m)).astype(this.runningMean.dtype);
        this.runningVar = add(multiply(this.runningVar, 1 - m), multiply(unbiased, m)).astype(this.runningVar.dtype);
      }
    } else {
      mu = this.runningMean;
      sigma2 = this.runningVar;
    }
    let y = multiply(subtract(x, mu), rsqrt(add(sigma2, this.eps)));
    if (this.weight !== undefined) y = multiply(y, this.weight);
    if (this.bias !== undefined) y = add(y, this.bias);
    return y;
  }

  override describe(): string {
    return `${this.features}, eps=${formatValue(this.eps)}, momentum=${formatValue(this.momentum)}, affine=${this.weight !== undefined}`;
  }
}
