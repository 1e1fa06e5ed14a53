/**
 * RMSprop, Adagrad (as `torch.optim.RMSprop`, `torch.optim.Adagrad`) and Lion (Chen et
 * al. 2023, as MLX's `Lion`).
 */
import type { MetalArray } from '../array/array.js';
import { fullLike, zerosLike } from '../array/creation.js';
import { checkOptions } from '../core/arguments.js';
import { sign } from '../ops/elementwise-ops.js';
import { type LearningRate, Optimizer, type ParameterUpdate, type StepContext, checkBetas, checkBoolean, checkNumber } from './optimizer.js';

/** Options of `RMSprop`. */
export interface RMSpropOptions {
  /** The learning rate, or a schedule of the step (default 0.01, as PyTorch). */
  learningRate?: LearningRate;
  /** The squared-gradient average's decay (default 0.99). */
  alpha?: number;
  /** Added to the denominator, outside the square root (default 1e-8). */
  eps?: number;
  /** L2 weight decay added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum on the scaled step (default 0). */
  momentum?: number;
  /** Normalizes by the variance estimate `v - mean(g)^2` instead of `v` (default false). */
  centered?: boolean;
}

/**
 * RMSprop (Hinton), as `torch.optim.RMSprop`: `v = alpha v + (1 - alpha) g²`, the step
 * `lr g / (sqrt(v) + eps)` (centered: `sqrt(v - gAvg²)`), with optional momentum. State:
 * `v`, plus `buffer` with momentum and `gradAverage` when centered.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const opt = new ma.optimizers.RMSprop({ learningRate: 0.01, centered: true, momentum: 0.9 });
 * opt.applyGradients({ w: ma.ones([2]) }, { w: ma.zeros([2]) });
 * Object.keys(opt.state); // ['step', 'v', 'buffer', 'gradAverage']
 * ```
 */
export class RMSprop extends Optimizer {
  readonly name = 'RMSprop';
  protected readonly stateNames: readonly string[];
  /** The squared-gradient average's decay. */
  readonly alpha: number;
  /** The denominator's stability term. */
  readonly eps: number;
  /** The L2 weight decay. */
  readonly weightDecay: number;
  /** The momentum factor. */
  readonly momentum: number;
  /** Whether the denominator is centered. */
  readonly centered: boolean;

  /** @param options - `{ learningRate, alpha, eps, weightDecay, momentum, centered }` (PyTorch's defaults) */
  constructor(options?: RMSpropOptions) {
    const o = checkOptions('RMSprop', options, ['learningRate', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered']);
    super('RMSprop', o.learningRate ?? 0.01);
    this.alpha = checkNumber('RMSprop', 'alpha', o.alpha ?? 0.99, 0, 1);
    this.eps = checkNumber('RMSprop', 'eps', o.eps ?? 1e-8, 0);
    this.weightDecay = checkNumber('RMSprop', 'weightDecay', o.weightDecay ?? 0, 0);
    this.momentum = checkNumber('RMSprop', 'momentum', o.momentum ?? 0, 0);
    this.centered = checkBoolean('RMSprop', 'centered', o.centered, false);
    this.stateNames = ['v', ...(this.momentum > 0 ? ['buffer'] : []), ...(this.centered ? ['gradAverage'] : [])];
  }

  protected updateParameter(param: MetalArray, grad: MetalArray, state: readonly MetalArray[] | undefined, { learningRate: lr }: StepContext): ParameterUpdate {
    const g = this.weightDecay === 0 ? grad : grad.add(param.multiply(this.weightDecay));
    const old = state ?? this.stateNames.map(() => zerosLike(param));
    const v = (old[0] as MetalArray).multiply(this.alpha).add(g.multiply(g).multiply(1 - this.alpha));
    const next: MetalArray[] = [v];
    let denominator: MetalArray;
    let average: MetalArray | undefined;
    if (this.centered) {
      const a0 = old[this.stateNames.length - 1] as MetalArray;
      average = a0.multiply(this.alpha).add(g.multiply(1 - this.alpha));
      denominator = v.subtract(average.multiply(average)).sqrt().add(this.eps);
    } else {
      denominator = v.sqrt().add(this.eps);
    }
    let p: MetalArray;
    if (this.momentum > 0) {
      const b = (old[1] as MetalArray).multiply(this.momentum).add(g.divide(denominator));
      next.push(b);
      p = param.subtract(b.multiply(lr));
    } else {
      p = param.subtract(g.divide(denominator).multiply(lr));
    }
    if (average !== undefined) next.push(average);
    return { param: p, state: next };
  }
}

/** Options of `Adagrad`. */
export interface AdagradOptions {
  /** The learning rate, or a schedule of the step (default 0.01, as PyTorch). */
  learningRate?: LearningRate;
  /** The learning rate's decay: step `t` uses `lr / (1 + (t - 1) lrDecay)` (default 0). */
  lrDecay?: number;
  /** L2 weight decay added to the gradient (default 0). */
  weightDecay?: number;
  /** The accumulator's starting value (default 0). */
  initialAccumulatorValue?: number;
  /** Added to the denominator, outside the square root (default 1e-10). */
  eps?: number;
}

/**
 * Adagrad (Duchi et al.), as `torch.optim.Adagrad`: `v += g²`, the step
 * `lr g / (sqrt(v) + eps)`. State: `v`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const opt = new ma.optimizers.Adagrad({ learningRate: 0.1 });
 * const next = opt.applyGradients({ w: ma.full([2], 2, 'float32') }, { w: ma.zeros([2]) });
 * next.w.tolist(); // about [-0.1, -0.1]
 * ```
 */
export class Adagrad extends Optimizer {
  readonly name = 'Adagrad';
  protected readonly stateNames = ['v'] as const;
  /** The learning rate's decay per step. */
  readonly lrDecay: number;
  /** The L2 weight decay. */
  readonly weightDecay: number;
  /** The accumulator's starting value. */
  readonly initialAccumulatorValue: number;
  /** The denominator's stability term. */
  readonly eps: number;

  /** @param options - `{ learningRate, lrDecay, weightDecay, initialAccumulatorValue, eps }` (PyTorch's defaults) */
  constructor(options?: AdagradOptions) {
    const o = checkOptions('Adagrad', options, ['learningRate', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps']);
    super('Adagrad', o.learningRate ?? 0.01);
    this.lrDecay = checkNumber('Adagrad', 'lrDecay', o.lrDecay ?? 0, 0);
    this.weightDecay = checkNumber('Adagrad', 'weightDecay', o.weightDecay ?? 0, 0);
    this.initialAccumulatorValue = checkNumber('Adagrad', 'initialAccumulatorValue', o.initialAccumulatorValue ?? 0, 0);
    this.eps = checkNumber('Adagrad', 'eps', o.eps ?? 1e-10, 0);
  }

  protected updateParameter(
    param: MetalArray,
    grad: MetalArray,
    state: readonly MetalArray[] | undefined,
    { learningRate: lr, step }: StepContext,
  ): ParameterUpdate {
    const g = this.weightDecay === 0 ? grad : grad.add(param.multiply(this.weightDecay));
    const v0 = state?.[0] ?? fullLike(param, this.initialAccumulatorValue);
    const v = v0.add(g.multiply(g));
    const rate = lr / (1 + (step - 1) * this.lrDecay);
    return { param: param.subtract(g.divide(v.sqrt().add(this.eps)).multiply(rate)), state: [v] };
  }
}

/** Options of `Lion`. */
export interface LionOptions {
  /** The learning rate, or a schedule of the step (default 1e-4; Lion wants 3-10x less than AdamW). */
  learningRate?: LearningRate;
  /** The interpolation for the update's sign and the momentum's decay (default [0.9, 0.99]). */
  betas?: readonly [number, number];
  /** Decoupled weight decay, as AdamW's (default 0). */
  weightDecay?: number;
}

/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the step is
 * `lr * sign(beta1 m + (1 - beta1) g)` after a decoupled decay `p *= 1 - lr wd`, then
 * `m = beta2 m + (1 - beta2) g`. State: `m`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const opt = new ma.optimizers.Lion({ learningRate: 0.01 });
 * const next = opt.applyGradients({ w: ma.array([3, -0.5], 'float32') }, { w: ma.zeros([2]) });
 * next.w.tolist(); // about [-0.01, 0.01]
 * ```
 */
export class Lion extends Optimizer {
  readonly name = 'Lion';
  protected readonly stateNames = ['m'] as const;
  /** The sign's interpolation and the momentum's decay. */
  readonly betas: readonly [number, number];
  /** The decoupled weight decay. */
  readonly weightDecay: number;

  /** @param options - `{ learningRate, betas, weightDecay }` */
  constructor(options?: LionOptions) {
    const o = checkOptions('Lion', options, ['learningRate', 'betas', 'weightDecay']);
    super('Lion', o.learningRate ?? 1e-4);
    this.betas = checkBetas('Lion', o.betas, [0.9, 0.99]);
    this.weightDecay = checkNumber('Lion', 'weightDecay', o.weightDecay ?? 0, 0);
  }

  protected updateParameter(param: MetalArray, grad: MetalArray, state: readonly MetalArray[] | undefined, { learningRate: lr }: StepContext): ParameterUpdate {
    const [beta1, beta2] = this.betas;
    const m0 = state?.[0] ?? zerosLike(param);
    const direction = sign(m0.multiply(beta1).add(grad.multiply(1 - beta1)));
    const p = this.weightDecay === 0 ? param : param.multiply(1 - lr * this.weightDecay);
    return { param: p.subtract(direction.multiply(lr)), state: [m0.multiply(beta2).add(grad.multiply(1 - beta2))] };
  }
}
