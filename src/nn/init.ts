/**
 * Initializers of `ma.nn.init`, all from explicit random keys (`ma.random.key`): the same
 * key gives the same weights. Fans follow MLX for a weight of shape `[out, ...field, in]`
 * (Linear's `[out, in]`; a convolution's `[out, kh, kw, in]` in MLX's layout): fanIn =
 * in × field, fanOut = out × field, field being the product of the middle axes (a 1-d
 * shape has both fans equal to its length).
 *
 * @module
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import type { DType } from '../core/dtype.js';
import { ArgumentError, formatValue } from '../errors.js';
import { normal as randomNormal, uniform as randomUniform } from '../ops/random.js';

/** Options of `init.normal`. */
export interface NormalInitOptions {
  /** The mean (default 0). */
  readonly mean?: number;
  /** The standard deviation (default 1). */
  readonly std?: number;
  /** A float dtype (default float32). */
  readonly dtype?: DType;
}

/** Options of `init.uniform`. */
export interface UniformInitOptions {
  /** The lower bound (default 0). */
  readonly low?: number;
  /** The upper bound (default 1). */
  readonly high?: number;
  /** A float dtype (default float32). */
  readonly dtype?: DType;
}

/** Options of the Glorot (Xavier) initializers. */
export interface GlorotOptions {
  /** A factor on the standard deviation or bound (default 1). */
  readonly gain?: number;
  /** A float dtype (default float32). */
  readonly dtype?: DType;
}

/** Options of the He (Kaiming) initializers. */
export interface HeOptions {
  /** Which fan the variance keeps: `'fanIn'` (default, forward pass) or `'fanOut'` (backward pass). */
  readonly mode?: 'fanIn' | 'fanOut';
  /** A factor on the standard deviation or bound (default √2, ReLU's gain as PyTorch's kaiming init). */
  readonly gain?: number;
  /** A float dtype (default float32). */
  readonly dtype?: DType;
}

function finite(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ArgumentError(`init.${op}: ${name} must be a finite number, got ${formatValue(value)}`);
  return value;
}

function fans(op: string, shape: readonly number[]): [number, number] {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ArgumentError(`init.${op}: needs a shape of at least one positive dimension to compute fans, got ${formatValue(shape)}`);
  }
  if (shape.length === 1) return [shape[0] as number, shape[0] as number];
  const field = shape.slice(1, -1).reduce((p, d) => p * d, 1);
  return [(shape[shape.length - 1] as number) * field, (shape[0] as number) * field];
}

/**
 * Normal numbers with the given mean and standard deviation.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const w = ma.nn.init.normal(ma.random.key(0), [64, 64], { std: 0.02 });
 * console.log(w.shape, Math.abs(ma.std(w).item() as number - 0.02) < 0.002); // [ 64, 64 ] true
 * ```
 */
export function normal(key: MetalArray, shape: readonly number[], options?: NormalInitOptions): MetalArray {
  checkArgCount('init.normal', arguments.length, 3, 'init.normal(key, shape, { mean, std, dtype })');
  const o = checkOptions('init.normal', options, ['mean', 'std', 'dtype']);
  const mean = finite('normal', 'mean', o.mean ?? 0);
  const std = finite('normal', 'std', o.std ?? 1);
  return randomNormal(key, shape, { dtype: o.dtype ?? 'float32', loc: mean, scale: std });
}

/**
 * Uniform numbers in [low, high).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const b = ma.nn.init.uniform(ma.random.key(0), [100], { low: -0.1, high: 0.1 });
 * console.log((ma.max(ma.abs(b)).item() as number) < 0.1); // true
 * ```
 */
export function uniform(key: MetalArray, shape: readonly number[], options?: UniformInitOptions): MetalArray {
  checkArgCount('init.uniform', arguments.length, 3, 'init.uniform(key, shape, { low, high, dtype })');
  const o = checkOptions('init.uniform', options, ['low', 'high', 'dtype']);
  const low = finite('uniform', 'low', o.low ?? 0);
  const high = finite('uniform', 'high', o.high ?? 1);
  if (!(high > low)) throw new ArgumentError(`init.uniform: high (${high}) must be greater than low (${low})`);
  return randomUniform(key, shape, { dtype: o.dtype ?? 'float32', low, high });
}

/**
 * Glorot (Xavier) normal: standard deviation gain · √(2 / (fanIn + fanOut)).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const w = ma.nn.init.glorotNormal(ma.random.key(0), [200, 200]);
 * console.log(Math.abs(ma.std(w).item() as number - Math.sqrt(2 / 400)) < 0.005); // true
 * ```
 */
export function glorotNormal(key: MetalArray, shape: readonly number[], options?: GlorotOptions): MetalArray {
  checkArgCount('init.glorotNormal', arguments.length, 3, 'init.glorotNormal(key, shape, { gain, dtype })');
  const o = checkOptions('init.glorotNormal', options, ['gain', 'dtype']);
  const [fanIn, fanOut] = fans('glorotNormal', shape);
  const std = finite('glorotNormal', 'gain', o.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  return randomNormal(key, shape, { dtype: o.dtype ?? 'float32', scale: std });
}

/**
 * Glorot (Xavier) uniform: bound gain · √(6 / (fanIn + fanOut)).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const w = ma.nn.init.glorotUniform(ma.random.key(0), [3, 5]);
 * console.log((ma.max(ma.abs(w)).item() as number) <= Math.sqrt(6 / 8)); // true
 * ```
 */
export function glorotUniform(key: MetalArray, shape: readonly number[], options?: GlorotOptions): MetalArray {
  checkArgCount('init.glorotUniform', arguments.length, 3, 'init.glorotUniform(key, shape, { gain, dtype })');
  const o = checkOptions('init.glorotUniform', options, ['gain', 'dtype']);
  const [fanIn, fanOut] = fans('glorotUniform', shape);
  const bound = finite('glorotUniform', 'gain', o.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return randomUniform(key, shape, { dtype: o.dtype ?? 'float32', low: -bound, high: bound });
}

function heFan(op: string, shape: readonly number[], mode: unknown): number {
  const [fanIn, fanOut] = fans(op, shape);
  if (mode === undefined || mode === 'fanIn') return fanIn;
  if (mode === 'fanOut') return fanOut;
  throw new ArgumentError(`init.${op}: mode must be 'fanIn' or 'fanOut', got ${formatValue(mode)}`);
}

/**
 * He (Kaiming) normal: standard deviation gain / √fan (gain √2 by default).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const w = ma.nn.init.heNormal(ma.random.key(0), [100, 200]);
 * console.log(Math.abs(ma.std(w).item() as number - 0.1) < 0.005); // true
 * ```
 */
export function heNormal(key: MetalArray, shape: readonly number[], options?: HeOptions): MetalArray {
  checkArgCount('init.heNormal', arguments.length, 3, 'init.heNormal(key, shape, { mode, gain, dtype })');
  const o = checkOptions('init.heNormal', options, ['mode', 'gain', 'dtype']);
  const std = finite('heNormal', 'gain', o.gain ?? Math.SQRT2) / Math.sqrt(heFan('heNormal', shape, o.mode));
  return randomNormal(key, shape, { dtype: o.dtype ?? 'float32', scale: std });
}

/**
 * He (Kaiming) uniform: bound gain · √(3 / fan) (gain √2 by default).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const w = ma.nn.init.heUniform(ma.random.key(0), [4, 6], { mode: 'fanOut' });
 * console.log((ma.max(ma.abs(w)).item() as number) <= Math.sqrt(6 / 4)); // true
 * ```
 */
export function heUniform(key: MetalArray, shape: readonly number[], options?: HeOptions): MetalArray {
  checkArgCount('init.heUniform', arguments.length, 3, 'init.heUniform(key, shape, { mode, gain, dtype })');
  const o = checkOptions('init.heUniform', options, ['mode', 'gain', 'dtype']);
  const bound = finite('heUniform', 'gain', o.gain ?? Math.SQRT2) * Math.sqrt(3 / heFan('heUniform', shape, o.mode));
  return randomUniform(key, shape, { dtype: o.dtype ?? 'float32', low: -bound, high: bound });
}
