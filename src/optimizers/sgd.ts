/**
 * SGD as `torch.optim.SGD`: weight decay adds `weightDecay * p` to the gradient; the
 * momentum buffer starts as the first gradient (no dampening on that step) and then
 * follows `b = momentum * b + (1 - dampening) * g`; Nesterov steps along
 * `g + momentum * b`.
 */
import type { MetalArray } from '../array/array.js';
import { checkOptions } from '../core/arguments.js';
import { ArgumentError } from '../errors.js';
import { type LearningRate, Optimizer, type ParameterUpdate, type StepContext, checkBoolean, checkNumber } from './optimizer.js';

/** Options of `SGD`. */
export interface SGDOptions {
  /** The learning rate, or a schedule of the step (required, as PyTorch's). */
  learningRate: LearningRate;
  /** The momentum factor (default 0: no momentum buffer). */
  momentum?: number;
  /** The dampening of the momentum (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 weight decay added to the gradient (default 0). */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
 * weight decay, as `torch.optim.SGD`. State: `v` (the momentum buffer) when momentum
 * is not 0.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const opt = new ma.optimizers.SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true });
 * const next = opt.applyGradients({ w: ma.ones([2]) }, { w: ma.zeros([2]) });
 * next.w.tolist(); // about [-0.19, -0.19]: g + momentum * g on the first step
 * ```
 */
export class SGD extends Optimizer {
  readonly name = 'SGD';
  protected readonly stateNames: readonly string[];
  /** The momentum factor. */
  readonly momentum: number;
  /** The momentum's dampening. */
  readonly dampening: number;
  /** Whether the momentum is Nesterov's. */
  readonly nesterov: boolean;
  /** The L2 weight decay. */
  readonly weightDecay: number;

  /** @param options - `{ learningRate, momentum, dampening, nesterov, weightDecay }` */
  constructor(options: SGDOptions) {
    const o = checkOptions('SGD', options, ['learningRate', 'momentum', 'dampening', 'nesterov', 'weightDecay']);
    if (o.learningRate === undefined) throw new ArgumentError("SGD: option 'learningRate' is required (a finite number ≥ 0 or a schedule)");
    super('SGD', o.learningRate);
    this.momentum = checkNumber('SGD', 'momentum', o.momentum ?? 0, 0);
    this.dampening = checkNumber('SGD', 'dampening', o.dampening ?? 0);
    this.nesterov = checkBoolean('SGD', 'nesterov', o.nesterov, false);
    this.weightDecay = checkNumber('SGD', 'weightDecay', o.weightDecay ?? 0, 0);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ArgumentError("SGD: option 'nesterov' needs a momentum > 0 and a dampening of 0");
    }
    this.stateNames = this.momentum === 0 ? [] : ['v'];
  }

  protected updateParameter(param: MetalArray, grad: MetalArray, state: readonly MetalArray[] | undefined, { learningRate: lr }: StepContext): ParameterUpdate {
    let g = this.weightDecay === 0 ? grad : grad.add(param.multiply(this.weightDecay));
    if (this.momentum === 0) return { param: param.subtract(g.multiply(lr)), state: [] };
    const b0 = state?.[0];
    const b = b0 === undefined ? g : b0.multiply(this.momentum).add(g.multiply(1 - this.dampening));
    g = this.nesterov ? g.add(b.multiply(this.momentum)) : b;
    return { param: param.subtract(g.multiply(lr)), state: [b] };
  }
}
