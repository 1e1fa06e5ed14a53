/**
 * Activations of `ma.nn`, as functions and as parameterless modules (for `Sequential`).
 * The functions reuse the library's elementwise ops, whose derivatives the
 * transformations already know; `geluApprox` and `softplus` are compositions.
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { ArgumentError, formatValue } from '../errors.js';
import { add, gelu as geluOp, logaddexp, multiply, relu as reluOp, sigmoid as sigmoidOp, silu as siluOp, tanh as tanhOp } from '../ops/elementwise-ops.js';
import { Module } from './module.js';

/**
 * ReLU `max(x, 0)`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.nn.relu(ma.array([-1, 2], 'float32')).tolist()); // [ 0, 2 ]
 * ```
 */
export function relu(x: MetalArray): MetalArray {
  checkArgCount('nn.relu', arguments.length, 1, 'nn.relu(x)');
  return reluOp(x);
}

/**
 * GELU, exact: `0.5 x (1 + erf(x / √2))` (PyTorch's `gelu`, MLX's `gelu`).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.nn.gelu(ma.array([1], 'float32')).tolist()); // [ 0.8413447737693787 ]
 * ```
 */
export function gelu(x: MetalArray): MetalArray {
  checkArgCount('nn.gelu', arguments.length, 1, 'nn.gelu(x)');
  return geluOp(x);
}

const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * GELU, tanh approximation: `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))` (PyTorch's
 * `gelu(approximate='tanh')`, MLX's `gelu_approx`, GPT-2's).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.nn.geluApprox(ma.array([1], 'float32')).tolist().map((v) => Number(v).toFixed(5))); // [ '0.84119' ]
 * ```
 */
export function geluApprox(x: MetalArray): MetalArray {
  checkArgCount('nn.geluApprox', arguments.length, 1, 'nn.geluApprox(x)');
  const inner = multiply(add(x, multiply(multiply(x, multiply(x, x)), 0.044715)), GELU_C);
  return multiply(multiply(x, 0.5), add(tanhOp(inner), 1));
}

/**
 * SiLU (swish) `x · sigmoid(x)`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.nn.silu(ma.array([0], 'float32')).tolist()); // [ 0 ]
 * ```
 */
export function silu(x: MetalArray): MetalArray {
  checkArgCount('nn.silu', arguments.length, 1, 'nn.silu(x)');
  return siluOp(x);
}

/**
 * Hyperbolic tangent.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.nn.tanh(ma.array([0], 'float32')).tolist()); // [ 0 ]
 * ```
 */
export function tanh(x: MetalArray): MetalArray {
  checkArgCount('nn.tanh', arguments.length, 1, 'nn.tanh(x)');
  return tanhOp(x);
}

/**
 * Logistic sigmoid `1 / (1 + e^-x)`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.nn.sigmoid(ma.array([0], 'float32')).tolist()); // [ 0.5 ]
 * ```
 */
export function sigmoid(x: MetalArray): MetalArray {
  checkArgCount('nn.sigmoid', arguments.length, 1, 'nn.sigmoid(x)');
  return sigmoidOp(x);
}

/**
 * Softplus `log(1 + e^x)`, computed as `logaddexp(x, 0)`: no overflow for large x.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.nn.softplus(ma.array([0, 100], 'float32')).tolist()); // [ 0.6931471824645996, 100 ]
 * ```
 */
export function softplus(x: MetalArray): MetalArray {
  checkArgCount('nn.softplus', arguments.length, 1, 'nn.softplus(x)');
  return logaddexp(x, 0);
}

/**
 * ReLU as a layer.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(new ma.nn.ReLU().forward(ma.array([-1, 1], 'float32')).tolist()); // [ 0, 1 ]
 * ```
 */
export class ReLU extends Module {
  /**
   * Applies `relu`.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.ReLU().forward(ma.array([-3], 'float32')).tolist()); // [ 0 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    return reluOp(x);
  }
}

/** Options of the `GELU` layer. */
export interface GELUOptions {
  /** `'none'` (default): the exact erf form; `'tanh'`: the tanh approximation (GPT-2's). */
  readonly approximate?: 'none' | 'tanh';
}

/**
 * GELU as a layer: exact, or the tanh approximation with `{ approximate: 'tanh' }`
 * (PyTorch's `nn.GELU`).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(new ma.nn.GELU({ approximate: 'tanh' }).describe()); // approximate=tanh
 * ```
 */
export class GELU extends Module {
  /** Which form the layer computes. */
  readonly approximate: 'none' | 'tanh';

  constructor(options?: GELUOptions) {
    super();
    checkArgCount('GELU', arguments.length, 1, 'new GELU({ approximate })');
    const o = checkOptions('GELU', options, ['approximate']);
    const approximate = o.approximate ?? 'none';
    if (approximate !== 'none' && approximate !== 'tanh')
      throw new ArgumentError(`GELU: approximate must be 'none' or 'tanh', got ${formatValue(approximate)}`);
    this.approximate = approximate;
  }

  /**
   * Applies `gelu` or `geluApprox`.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.GELU().forward(ma.array([0], 'float32')).tolist()); // [ 0 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    return this.approximate === 'tanh' ? geluApprox(x) : geluOp(x);
  }

  override describe(): string {
    return `approximate=${this.approximate}`;
  }
}

/**
 * SiLU as a layer.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(new ma.nn.SiLU().forward(ma.array([0], 'float32')).tolist()); // [ 0 ]
 * ```
 */
export class SiLU extends Module {
  /**
   * Applies `silu`.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.SiLU().forward(ma.array([0], 'float32')).shape); // [ 1 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    return siluOp(x);
  }
}

/**
 * Tanh as a layer.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(new ma.nn.Tanh().forward(ma.array([0], 'float32')).tolist()); // [ 0 ]
 * ```
 */
export class Tanh extends Module {
  /**
   * Applies `tanh`.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.Tanh().forward(ma.array([0], 'float32')).shape); // [ 1 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    return tanhOp(x);
  }
}

/**
 * Sigmoid as a layer.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(new ma.nn.Sigmoid().forward(ma.array([0], 'float32')).tolist()); // [ 0.5 ]
 * ```
 */
export class Sigmoid extends Module {
  /**
   * Applies `sigmoid`.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.Sigmoid().forward(ma.array([0], 'float32')).shape); // [ 1 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    return sigmoidOp(x);
  }
}

/**
 * Softplus as a layer.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(new ma.nn.Softplus().forward(ma.array([0], 'float32')).tolist()); // [ 0.6931471824645996 ]
 * ```
 */
export class Softplus extends Module {
  /**
   * Applies `softplus`.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.Softplus().forward(ma.array([0], 'float32')).shape); // [ 1 ]
   * ```
   */
  forward(x: MetalArray): MetalArray {
    return softplus(x);
  }
}
