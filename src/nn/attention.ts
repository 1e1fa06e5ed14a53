/**
 * Multi-head attention (MLX's `nn.MultiHeadAttention`, PyTorch's layout of the
 * projections): queries, keys and values are projected, split into heads, combined by
 * `fast.scaledDotProductAttention`, merged and projected out.
 */
import { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { foldIn } from '../ops/random.js';
import { scaledDotProductAttention } from './fast.js';
import { keyOrNext } from './keys.js';
import { Linear } from './layers.js';
import { Module } from './module.js';

/** Options of `MultiHeadAttention`. */
export interface MultiHeadAttentionOptions {
  /** The queries' last dimension (default dims). */
  readonly queryInputDims?: number;
  /** The keys' last dimension (default dims). */
  readonly keyInputDims?: number;
  /** The values' last dimension (default keyInputDims). */
  readonly valueInputDims?: number;
  /** The size of the projected values, all heads together (default dims). */
  readonly valueDims?: number;
  /** The output's last dimension (default dims). */
  readonly valueOutputDims?: number;
  /** Whether the projections have biases (default false, as MLX). */
  readonly bias?: boolean;
  /** The key the projections are drawn from (default: the next of `ma.nn.seed`'s stream). */
  readonly key?: MetalArray;
}

/** Options of `MultiHeadAttention.forward`. */
export interface MultiHeadAttentionCallOptions {
  /** A bool (true: attend) or additive float mask broadcasting against [batch, heads, queries, keys]. */
  readonly mask?: MetalArray;
  /** Each query attends only to keys at its position or before. */
  readonly causal?: boolean;
}

function positiveInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw new ArgumentError(`MultiHeadAttention: ${name} must be a positive integer, got ${formatValue(value)}`);
  return value;
}

/**
 * Multi-head attention over inputs [batch, positions, dims]: `numHeads` heads of
 * `dims / numHeads` each. Its parameters are `queryProj`, `keyProj`, `valueProj` and
 * `outProj` (Linear layers). `forward(queries, keys, values, { mask, causal })`; for
 * self-attention pass the same array three times.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const attn = new ma.nn.MultiHeadAttention(8, 2, { key: ma.random.key(0) });
 * const x = ma.random.normal(ma.random.key(1), [2, 5, 8]);
 * console.log(attn.forward(x, x, x, { causal: true }).shape); // [ 2, 5, 8 ]
 * ```
 */
export class MultiHeadAttention extends Module {
  /** Projects the queries to dims. */
  queryProj: Linear;
  /** Projects the keys to dims. */
  keyProj: Linear;
  /** Projects the values to valueDims. */
  valueProj: Linear;
  /** Projects the merged heads to valueOutputDims. */
  outProj: Linear;
  /** How many heads. */
  readonly numHeads: number;
  /** The model dimension (all heads together). */
  readonly dims: number;

  constructor(dims: number, numHeads: number, options?: MultiHeadAttentionOptions) {
    super();
    checkArgCount(
      'MultiHeadAttention',
      arguments.length,
      3,
      'new MultiHeadAttention(dims, numHeads, { queryInputDims, keyInputDims, valueInputDims, valueDims, valueOutputDims, bias, key })',
    );
    const o = checkOptions('MultiHeadAttention', options, ['queryInputDims', 'keyInputDims', 'valueInputDims', 'valueDims', 'valueOutputDims', 'bias', 'key']);
    this.dims = positiveInt('dims', dims);
    this.numHeads = positiveInt('numHeads', numHeads);
    const valueDims = positiveInt('valueDims', o.valueDims ?? dims);
    if (dims % numHeads !== 0 || valueDims % numHeads !== 0) {
      throw new ArgumentError(`MultiHeadAttention: dims (${dims}) and valueDims (${valueDims}) must be divisible by numHeads (${numHeads})`);
    }
    const keyInputDims = positiveInt('keyInputDims', o.keyInputDims ?? dims);
    const bias = o.bias ?? false;
    const key = keyOrNext('MultiHeadAttention', o.key);
    this.queryProj = new Linear(positiveInt('queryInputDims', o.queryInputDims ?? dims), dims, { bias, key: foldIn(key, 0) });
    this.keyProj = new Linear(keyInputDims, dims, { bias, key: foldIn(key, 1) });
    this.valueProj = new Linear(positiveInt('valueInputDims', o.valueInputDims ?? keyInputDims), valueDims, { bias, key: foldIn(key, 2) });
    this.outProj = new Linear(valueDims, positiveInt('valueOutputDims', o.valueOutputDims ?? dims), { bias, key: foldIn(key, 3) });
  }

  /** [batch, positions, heads·d] → [batch, heads, positions, d]. */
  private splitHeads(x: MetalArray): MetalArray {
    const [b, t, d] = x.shape as [number, number, number];
    return x.reshape(b, t, this.numHeads, d / this.numHeads).transpose([0, 2, 1, 3]);
  }

  /**
   * Attention of `queries` [batch, Tq, queryInputDims] over `keys` [batch, Tk,
   * keyInputDims] and `values` [batch, Tk, valueInputDims]; gives [batch, Tq,
   * valueOutputDims].
   *
   * @throws ShapeError naming the layer and the shapes when an input is not [batch, positions, dims] of the right size
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const attn = new ma.nn.MultiHeadAttention(4, 1);
   * const q = ma.ones([1, 2, 4]);
   * const kv = ma.ones([1, 3, 4]);
   * console.log(attn.forward(q, kv, kv).shape); // [ 1, 2, 4 ]
   * ```
   */
  forward(queries: MetalArray, keys: MetalArray, values: MetalArray, options?: MultiHeadAttentionCallOptions): MetalArray {
    checkArgCount('MultiHeadAttention.forward', arguments.length, 4, 'forward(queries, keys, values, { mask, causal })');
    const o = checkOptions('MultiHeadAttention.forward', options, ['mask', 'causal']);
    for (const [name, x] of [
      ['queries', queries],
      ['keys', keys],
      ['values', values],
    ] as const) {
      if (!(x instanceof MetalArray)) throw new ArgumentError(`MultiHeadAttention.forward: ${name} must be a MetalArray, got ${formatValue(x)}`);
      if (x.ndim !== 3)
        throw new ShapeError(`MultiHeadAttention(${this.describe()}): ${name} must be [batch, positions, dims], got shape [${x.shape.join(', ')}]`);
    }
    const q = this.splitHeads(this.queryProj.forward(queries));
    const k = this.splitHeads(this.keyProj.forward(keys));
    const v = this.splitHeads(this.valueProj.forward(values));
    const attended = scaledDotProductAttention(q, k, v, { mask: o.mask, causal: o.causal });
    const [b, h, t, d] = attended.shape as [number, number, number, number];
    return this.outProj.forward(attended.transpose([0, 2, 1, 3]).reshape(b, t, h * d));
  }

  override describe(): string {
    return `dims=${this.dims}, numHeads=${this.numHeads}`;
  }
}
