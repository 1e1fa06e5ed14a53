/**
 * The basic layers of `ma.nn`: Linear, Embedding, LayerNorm, RMSNorm, Dropout and
 * Sequential. Weights are laid out as PyTorch's (Linear's weight is [out, in]), so a
 * PyTorch `state_dict` saved as safetensors loads with `loadWeights`.
 */
import { MetalArray } from '../array/array.js';
import { ones, zeros } from '../array/creation.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import type { DType } from '../core/dtype.js';
import { ArgumentError, DTypeError, ShapeError, formatValue } from '../errors.js';
import { add, multiply, rsqrt, square, subtract } from '../ops/elementwise-ops.js';
import { where } from '../ops/elementwise.js';
import { take } from '../ops/indexing.js';
import { matmul } from '../ops/matmul.js';
import { transpose } from '../ops/movement.js';
import { bernoulli, foldIn } from '../ops/random.js';
import { mean } from '../ops/reduce.js';
import { normal, uniform } from './init.js';
import { KeyStream, keyOrNext } from './keys.js';
import { Module } from './module.js';

/** A layer of one input and one output, as `Sequential` chains them. */
export interface UnaryLayer extends Module {
  /**
   * The layer's computation.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const layer: ma.nn.UnaryLayer = new ma.nn.Tanh();
   * console.log(layer.forward(ma.zeros([2])).tolist()); // [ 0, 0 ]
   * ```
   */
  forward(x: MetalArray): MetalArray;
}

function positiveInt(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw new ArgumentError(`${op}: ${name} must be a positive integer, got ${formatValue(value)}`);
  return value;
}

function positiveNumber(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new ArgumentError(`${op}: ${name} must be a positive number, got ${formatValue(value)}`);
  return value;
}

function checkInput(layer: Module, x: unknown): MetalArray {
  if (!(x instanceof MetalArray))
    throw new ArgumentError(`${layer.constructor.name}(${layer.describe()}).forward: expected a MetalArray, got ${formatValue(x)}`);
  return x;
}

/** Throws a ShapeError naming the layer and both shapes when `x`'s last axis is not `dims`. */
function checkTrailing(layer: Module, x: MetalArray, dims: number, what: string, other: readonly number[]): void {
  const last = x.shape[x.ndim - 1];
  if (x.ndim === 0 || last !== dims) {
    throw new ShapeError(
      `${layer.constructor.name}(${layer.describe()}): the input's last dimension must be ${dims}, got input shape [${x.shape.join(', ')}] (${what} shape [${other.join(', ')}])`,
    );
  }
}

/** Options of `Linear`. */
export interface LinearOptions {
  /** Whether the layer adds a bias (default true). */
  readonly bias?: boolean;
  /** The key the initial weights are drawn from (default: the next of `ma.nn.seed`'s stream). */
  readonly key?: MetalArray;
  /** The parameters' dtype (default float32). */
  readonly dtype?: DType;
}

/**
 * `y = x Wᵀ + b`, with `weight` [outputDims, inputDims] and `bias` [outputDims], both
 * drawn uniformly in ±1/√inputDims (PyTorch's and MLX's default).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const layer = new ma.nn.Linear(4, 3, { key: ma.random.key(0) });
 * console.log(layer.forward(ma.ones([2, 4])).shape); // [ 2, 3 ]
 * ```
 */
export class Linear extends Module {
  /** The weight, [outputDims, inputDims]. */
  weight: MetalArray;
  /** The bias, [outputDims], or undefined with `{ bias: false }`. */
  bias: MetalArray | undefined;
  /** The input's last dimension. */
  readonly inputDims: number;
  /** The output's last dimension. */
  readonly outputDims: number;

  constructor(inputDims: number, outputDims: number, options?: LinearOptions) {
    super();
    checkArgCount('Linear', arguments.length, 3, 'new Linear(inputDims, outputDims, { bias, key, dtype })');
    const o = checkOptions('Linear', options, ['bias', 'key', 'dtype']);
    this.inputDims = positiveInt('Linear', 'inputDims', inputDims);
    this.outputDims = positiveInt('Linear', 'outputDims', outputDims);
    const key = keyOrNext('Linear', o.key);
    const bound = 1 / Math.sqrt(inputDims);
    const dtype = o.dtype ?? 'float32';
    this.weight = uniform(foldIn(key, 0), [outputDims, inputDims], { low: -bound, high: bound, dtype });
    this.bias = (o.bias ?? true) ? uniform(foldIn(key, 1), [outputDims], { low: -bound, high: bound, dtype }) : undefined;
  }

  /**
   * `x Wᵀ + b` over the last axis of `x` (any leading axes).
   *
   * @throws ShapeError naming the layer, the input's shape and the weight's when the last axis is not inputDims
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const layer = new ma.nn.Linear(2, 1, { bias: false });
   * layer.update({ weight: ma.array([[1, 2]], 'float32') });
   * console.log(layer.forward(ma.array([[3, 4]], 'float32')).tolist()); // [ [ 11 ] ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    checkInput(this, x);
    checkTrailing(this, x, this.inputDims, 'weight', this.weight.shape);
    const y = matmul(x, transpose(this.weight));
    return this.bias === undefined ? y : add(y, this.bias);
  }

  override describe(): string {
    return `inputDims=${this.inputDims}, outputDims=${this.outputDims}, bias=${this.bias !== undefined}`;
  }
}

/** Options of `Embedding`. */
export interface EmbeddingOptions {
  /** The key the initial table is drawn from (default: the next of `ma.nn.seed`'s stream). */
  readonly key?: MetalArray;
  /** The table's dtype (default float32). */
  readonly dtype?: DType;
}

/**
 * A lookup table: `forward(indices)` gives the rows `weight[indices]` (shape
 * `[...indices.shape, dims]`). The table [numEmbeddings, dims] is drawn normal with
 * standard deviation 1/√dims (MLX's default). `asLinear(x)` multiplies by the table's
 * transpose: the output projection of a language model that ties its weights to the
 * embedding.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const embed = new ma.nn.Embedding(10, 4, { key: ma.random.key(0) });
 * console.log(embed.forward(ma.array([[1, 2, 3]])).shape); // [ 1, 3, 4 ]
 * ```
 */
export class Embedding extends Module {
  /** The table, [numEmbeddings, dims]. */
  weight: MetalArray;
  /** How many rows the table has. */
  readonly numEmbeddings: number;
  /** The size of each row. */
  readonly dims: number;

  constructor(numEmbeddings: number, dims: number, options?: EmbeddingOptions) {
    super();
    checkArgCount('Embedding', arguments.length, 3, 'new Embedding(numEmbeddings, dims, { key, dtype })');
    const o = checkOptions('Embedding', options, ['key', 'dtype']);
    this.numEmbeddings = positiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    this.dims = positiveInt('Embedding', 'dims', dims);
    this.weight = normal(keyOrNext('Embedding', o.key), [numEmbeddings, dims], { std: 1 / Math.sqrt(dims), dtype: o.dtype ?? 'float32' });
  }

  /**
   * The rows of the table at integer `indices` (any shape).
   *
   * @throws DTypeError when `indices` is not an integer array
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const embed = new ma.nn.Embedding(3, 2);
   * embed.update({ weight: ma.array([[0, 0], [1, 1], [2, 2]], 'float32') });
   * console.log(embed.forward(ma.array([2, 0])).tolist()); // [ [ 2, 2 ], [ 0, 0 ] ]
   * ```
   */
  forward(indices: MetalArray): MetalArray {
    checkInput(this, indices);
    if (!/^u?int/.test(indices.dtype)) {
      throw new DTypeError(`Embedding(${this.describe()}): indices must be an integer array, got ${indices.dtype} (pass 'int32' to ma.array)`);
    }
    return take(this.weight, indices, 0);
  }

  /**
   * `x · weightᵀ`: scores over the table's rows for vectors of size `dims` (weight tying).
   *
   * @throws ShapeError naming the layer and both shapes when the last axis is not dims
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const embed = new ma.nn.Embedding(5, 3);
   * console.log(embed.asLinear(ma.ones([2, 3])).shape); // [ 2, 5 ]
   * ```
   */
  asLinear(x: MetalArray): MetalArray {
    checkInput(this, x);
    checkTrailing(this, x, this.dims, 'weight', this.weight.shape);
    return matmul(x, transpose(this.weight));
  }

  override describe(): string {
    return `numEmbeddings=${this.numEmbeddings}, dims=${this.dims}`;
  }
}

/** Options of `LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Whether the layer learns a scale (`weight`, ones) and a shift (`bias`, zeros) (default true). */
  readonly affine?: boolean;
  /** With `affine`, whether it learns the shift too (default true; GPT-style models may leave it out). */
  readonly bias?: boolean;
  /** The parameters' dtype (default float32). */
  readonly dtype?: DType;
}

/**
 * Layer normalization over the last axis: `(x - mean) / √(var + eps) · weight + bias`
 * (biased variance, as PyTorch).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const norm = new ma.nn.LayerNorm(2);
 * console.log(norm.forward(ma.array([[1, 3]], 'float32')).tolist().map((r) => (r as number[]).map((v) => v.toFixed(3)))); // [ [ '-1.000', '1.000' ] ]
 * ```
 */
export class LayerNorm extends Module {
  /** The scale, [dims] (undefined without affine). */
  weight: MetalArray | undefined;
  /** The shift, [dims] (undefined without affine or bias). */
  bias: MetalArray | undefined;
  /** The normalized axis' size. */
  readonly dims: number;
  /** Added to the variance. */
  readonly eps: number;

  constructor(dims: number, options?: LayerNormOptions) {
    super();
    checkArgCount('LayerNorm', arguments.length, 2, 'new LayerNorm(dims, { eps, affine, bias, dtype })');
    const o = checkOptions('LayerNorm', options, ['eps', 'affine', 'bias', 'dtype']);
    this.dims = positiveInt('LayerNorm', 'dims', dims);
    this.eps = positiveNumber('LayerNorm', 'eps', o.eps ?? 1e-5);
    const affine = o.affine ?? true;
    const dtype = o.dtype ?? 'float32';
    this.weight = affine ? ones([dims], dtype) : undefined;
    this.bias = affine && (o.bias ?? true) ? zeros([dims], dtype) : undefined;
  }

  /**
   * Normalizes `x` over its last axis.
   *
   * @throws ShapeError naming the layer and both shapes when the last axis is not dims
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.LayerNorm(4).forward(ma.ones([2, 3, 4])).shape); // [ 2, 3, 4 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    checkInput(this, x);
    checkTrailing(this, x, this.dims, 'weight', [this.dims]);
    const mu = mean(x, -1, true);
    const centered = subtract(x, mu);
    const variance = mean(square(centered), -1, true);
    let y = multiply(centered, rsqrt(add(variance, this.eps)));
    if (this.weight !== undefined) y = multiply(y, this.weight);
    if (this.bias !== undefined) y = add(y, this.bias);
    return y;
  }

  override describe(): string {
    return `dims=${this.dims}, eps=${this.eps}, affine=${this.weight !== undefined}`;
  }
}

/** Options of `RMSNorm`. */
export interface RMSNormOptions {
  /** Added to the mean square (default 1e-5). */
  readonly eps?: number;
  /** The scale's dtype (default float32). */
  readonly dtype?: DType;
}

/**
 * Root-mean-square normalization over the last axis: `x / √(mean(x²) + eps) · weight`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const norm = new ma.nn.RMSNorm(2, { eps: 0 });
 * console.log(norm.forward(ma.array([3, 4], 'float32')).tolist().map((v) => Number(v).toFixed(4))); // [ '0.8485', '1.1314' ]
 * ```
 */
export class RMSNorm extends Module {
  /** The scale, [dims] (ones). */
  weight: MetalArray;
  /** The normalized axis' size. */
  readonly dims: number;
  /** Added to the mean square. */
  readonly eps: number;

  constructor(dims: number, options?: RMSNormOptions) {
    super();
    checkArgCount('RMSNorm', arguments.length, 2, 'new RMSNorm(dims, { eps, dtype })');
    const o = checkOptions('RMSNorm', options, ['eps', 'dtype']);
    this.dims = positiveInt('RMSNorm', 'dims', dims);
    const eps = o.eps ?? 1e-5;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
      throw new ArgumentError(`RMSNorm: eps must be a non-negative number, got ${formatValue(eps)}`);
    this.eps = eps;
    this.weight = ones([dims], o.dtype ?? 'float32');
  }

  /**
   * Normalizes `x` over its last axis.
   *
   * @throws ShapeError naming the layer and both shapes when the last axis is not dims
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.RMSNorm(4).forward(ma.ones([3, 4])).shape); // [ 3, 4 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    checkInput(this, x);
    checkTrailing(this, x, this.dims, 'weight', this.weight.shape);
    return multiply(multiply(x, rsqrt(add(mean(square(x), -1, true), this.eps))), this.weight);
  }

  override describe(): string {
    return `dims=${this.dims}, eps=${this.eps}`;
  }
}

/** Options of `Dropout`. */
export interface DropoutOptions {
  /** The key of the layer's own key stream (default: the next of `ma.nn.seed`'s stream). */
  readonly key?: MetalArray;
}

/**
 * Dropout: while training, zeroes each element with probability `p` and scales the
 * others by 1/(1-p); in evaluation mode (`eval()`), passes the input through. Masks come
 * from explicit keys: `forward(x, key)` uses the key given; `forward(x)` takes the next
 * key of the layer's own stream (from `{ key }`, or from `ma.nn.seed`'s stream when the
 * layer was built), so a run is reproducible from its seed.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const drop = new ma.nn.Dropout(0.5, { key: ma.random.key(0) });
 * const y = drop.forward(ma.ones([1000]));
 * console.log(Math.abs((ma.mean(y).item() as number) - 1) < 0.15); // true
 * console.log(drop.eval().forward(ma.ones([2])).tolist()); // [ 1, 1 ]
 * ```
 */
export class Dropout extends Module {
  /** The probability of zeroing an element. */
  readonly p: number;
  private readonly _keys: KeyStream;

  constructor(p = 0.5, options?: DropoutOptions) {
    super();
    checkArgCount('Dropout', arguments.length, 2, 'new Dropout(p, { key })');
    const o = checkOptions('Dropout', options, ['key']);
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ArgumentError(`Dropout: p must be a probability in [0, 1], got ${formatValue(p)}`);
    this.p = p;
    this._keys = new KeyStream(keyOrNext('Dropout', o.key));
  }

  /**
   * Applies dropout (training mode) or passes `x` through (evaluation mode or p = 0).
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const drop = new ma.nn.Dropout(1);
   * console.log(drop.forward(ma.ones([2]), ma.random.key(5)).tolist()); // [ 0, 0 ]
   * ```
   */
  forward(x: MetalArray, key?: MetalArray): MetalArray {
    checkInput(this, x);
    if (key !== undefined && !(key instanceof MetalArray))
      throw new ArgumentError(`Dropout.forward: key must be a key from ma.random.key, got ${formatValue(key)}`);
    if (!this.training || this.p === 0) return x;
    const k = key ?? this._keys.next();
    if (this.p === 1) return multiply(x, 0);
    const keep = bernoulli(k, x.shape, { p: 1 - this.p });
    return where(keep, multiply(x, 1 / (1 - this.p)), 0);
  }

  override describe(): string {
    return `p=${this.p}`;
  }
}

/**
 * Layers applied one after another: `forward(x)` is `layers[n-1](...layers[0](x))`.
 * The layers are the list `layers`, so their parameters are named `layers.0.weight`
 * and so on (as MLX's `Sequential`).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const mlp = new ma.nn.Sequential(new ma.nn.Linear(4, 8), new ma.nn.GELU(), new ma.nn.Linear(8, 2));
 * console.log(mlp.forward(ma.ones([5, 4])).shape); // [ 5, 2 ]
 * ```
 */
export class Sequential extends Module {
  /** The layers, in order. */
  layers: UnaryLayer[];

  constructor(...layers: UnaryLayer[]) {
    super();
    layers.forEach((layer, i) => {
      if (!(layer instanceof Module) || typeof (layer as { forward?: unknown }).forward !== 'function') {
        throw new ArgumentError(`Sequential: argument ${i} must be a layer (a Module with forward), got ${formatValue(layer)}`);
      }
    });
    this.layers = layers;
  }

  /**
   * Runs `x` through every layer in order.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.Sequential().forward(ma.ones([2])).tolist()); // [ 1, 1 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }
}
