/**
 * Adam and AdamW, as PyTorch's single-tensor implementations compute them
 * (`torch/optim/adam.py`, `adamw.py`): the first moment moves toward the gradient
 * (`m + (1 - beta1) * (g - m)`), the step is `lr / (1 - beta1^t)` and the denominator
 * `sqrt(v) / sqrt(1 - beta2^t) + eps` (eps outside the square root, after the bias
 * correction). Adam's weight decay adds `weightDecay * p` to the gradient (L2); AdamW's
 * multiplies the parameter by `1 - lr * weightDecay` before the step (decoupled).
 */
import type { MetalArray } from '../array/array.js';
import { checkOptions } from '../core/arguments.js';
import { zerosLike } from '../array/creation.js';
import { type LearningRate, Optimizer, type ParameterUpdate, type StepContext, checkBetas, checkNumber } from './optimizer.js';

/** Options of `Adam` and `AdamW`. */
export interface AdamOptions {
  /** The learning rate, or a schedule of the step (Adam default 1e-3, as PyTorch). */
  learningRate?: LearningRate;
  /** The moments' decay rates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps?: number;
  /** Weight decay: L2 in the gradient for Adam (default 0), decoupled for AdamW (default 0.01). */
  weightDecay?: number;
}

const KEYS = ['learningRate', 'betas', 'eps', 'weightDecay'] as const;

abstract class AdamBase extends Optimizer {
  protected readonly stateNames = ['m', 'v'] as const;
  /** The moments' decay rates. */
  readonly betas: readonly [number, number];
  /** The denominator's stability term. */
  readonly eps: number;
  /** The weight decay factor. */
  readonly weightDecay: number;
  private readonly decoupled: boolean;

  protected constructor(name: string, options: AdamOptions | undefined, defaultDecay: number, decoupled: boolean) {
    const o = checkOptions(name, options, KEYS);
    super(name, o.learningRate ?? 1e-3);
    this.betas = checkBetas(name, o.betas, [0.9, 0.999]);
    this.eps = checkNumber(name, 'eps', o.eps ?? 1e-8, 0);
    this.weightDecay = checkNumber(name, 'weightDecay', o.weightDecay ?? defaultDecay, 0);
    this.decoupled = decoupled;
  }

  protected updateParameter(
    param: MetalArray,
    grad: MetalArray,
    state: readonly MetalArray[] | undefined,
    { learningRate: lr, step }: StepContext,
  ): ParameterUpdate {
    const [beta1, beta2] = this.betas;
    let p = param;
    let g = grad;
    if (this.weightDecay !== 0) {
      if (this.decoupled) p = p.multiply(1 - lr * this.weightDecay);
      else g = g.add(param.multiply(this.weightDecay));
    }
    const [m0, v0] = state ?? [zerosLike(param), zerosLike(param)];
    const m = (m0 as MetalArray).add(g.subtract(m0 as MetalArray).multiply(1 - beta1));
    const v = (v0 as MetalArray).multiply(beta2).add(g.multiply(g).multiply(1 - beta2));
    const stepSize = lr / (1 - beta1 ** step);
    const correction2 = Math.sqrt(1 - beta2 ** step);
    const denominator = v.sqrt().divide(correction2).add(this.eps);
    return { param: p.subtract(m.divide(denominator).multiply(stepSize)), state: [m, v] };
  }
}

/**
 * Adam (Kingma and Ba), as `torch.optim.Adam`: moments `m`, `v` with bias correction;
 * `weightDecay` adds `weightDecay * p` to the gradient. State: `m`, `v`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const opt = new ma.optimizers.Adam({ learningRate: 0.1 });
 * const next = opt.applyGradients({ w: ma.array([1, -2], 'float32') }, { w: ma.zeros([2]) });
 * next.w.tolist(); // about [-0.1, 0.1]: Adam's first step is lr * sign(g)
 * ```
 */
export class Adam extends AdamBase {
  readonly name = 'Adam';
  /** @param options - `{ learningRate, betas, eps, weightDecay }` (PyTorch's defaults) */
  constructor(options?: AdamOptions) {
    super('Adam', options, 0, false);
  }
}

/**
 * AdamW (Loshchilov and Hutter), as `torch.optim.AdamW`: Adam whose weight decay is
 * decoupled, `p *= 1 - lr * weightDecay` before the step (default `weightDecay` 0.01).
 * State: `m`, `v`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const { AdamW, joinSchedules, linearWarmup, cosineDecay } = ma.optimizers;
 * const opt = new AdamW({ learningRate: joinSchedules([linearWarmup(1e-3, 10), cosineDecay(1e-3, 90)], [10]), weightDecay: 0.1 });
 * const params = { w: ma.ones([3]) };
 * opt.applyGradients({ w: ma.full([3], 0.5) }, params);
 * ```
 */
export class AdamW extends AdamBase {
  readonly name = 'AdamW';
  /** @param options - `{ learningRate, betas, eps, weightDecay }` (PyTorch's defaults) */
  constructor(options?: AdamOptions) {
    super('AdamW', options, 0.01, true);
  }
}
