/**
 * nanoGPT's optimization: AdamW with PyTorch's update rule (decoupled weight decay on the
 * weight matrices and embeddings only, not on the LayerNorm scales), gradient clipping by
 * global norm, and a learning rate that warms up linearly then decays on a cosine to a floor.
 *
 * Every update is lazy: the caller evaluates the new parameters and moments together with
 * the loss, so one training step (forward, backward, clipping, update) is one `eval`.
 */
import * as ma from '../../src/index.js';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** The optimizer's state: the step count and the two moments of every parameter, by name. */
export interface AdamWState {
  step: number;
  m: Map<string, ma.MetalArray>;
  v: Map<string, ma.MetalArray>;
}

export interface ScheduleConfig {
  learningRate: number;
  minLearningRate: number;
  warmupIters: number;
  decayIters: number;
}

/** The learning rate at iteration `it` (nanoGPT's `get_lr`). */
export function learningRateAt(it: number, s: ScheduleConfig): number {
  if (it < s.warmupIters) return (s.learningRate * (it + 1)) / (s.warmupIters + 1);
  if (it > s.decayIters) return s.minLearningRate;
  const ratio = (it - s.warmupIters) / (s.decayIters - s.warmupIters);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio));
  return s.minLearningRate + coeff * (s.learningRate - s.minLearningRate);
}

/** Zero moments for the named parameters. */
export function initAdamW(named: readonly [string, ma.MetalArray][]): AdamWState {
  const m = new Map<string, ma.MetalArray>();
  const v = new Map<string, ma.MetalArray>();
  for (const [name, p] of named) {
    m.set(name, ma.zeros(p.shape, 'float32'));
    v.set(name, ma.zeros(p.shape, 'float32'));
  }
  return { step: 0, m, v };
}

/**
 * Scales the gradients so that their global L2 norm is at most `maxNorm` (PyTorch's
 * `clip_grad_norm_`: factor `maxNorm / (norm + 1e-6)` when below 1). Returns the clipped
 * gradients and the norm before clipping (both lazy).
 */
export function clipGradNorm(grads: readonly ma.MetalArray[], maxNorm: number): [ma.MetalArray[], ma.MetalArray] {
  let total: ma.MetalArray | null = null;
  for (const g of grads) {
    const s = ma.sum(g.square());
    total = total === null ? s : total.add(s);
  }
  const norm = ma.sqrt(total ?? ma.array(0, 'float32'));
  const factor = ma.minimum(ma.reciprocal(norm.add(1e-6)).multiply(maxNorm), 1);
  return [grads.map((g) => g.multiply(factor)), norm];
}

/**
 * One AdamW step (PyTorch's `torch.optim.AdamW`, not amsgrad): returns the new parameters
 * and the new state. Parameters with 2 or more dimensions are decayed, the rest are not.
 */
export function adamWUpdate(
  named: readonly [string, ma.MetalArray][],
  grads: readonly ma.MetalArray[],
  state: AdamWState,
  lr: number,
  c: AdamWConfig,
): [ma.MetalArray[], AdamWState] {
  const step = state.step + 1;
  const stepSize = lr / (1 - c.beta1 ** step);
  const bias2Sqrt = Math.sqrt(1 - c.beta2 ** step);
  const m = new Map<string, ma.MetalArray>();
  const v = new Map<string, ma.MetalArray>();
  const updated = named.map(([name, p], i) => {
    const g = grads[i];
    const mPrev = state.m.get(name);
    const vPrev = state.v.get(name);
    if (mPrev === undefined || vPrev === undefined) throw new Error(`AdamW: no state for parameter '${name}'`);
    const decayed = p.ndim >= 2 && c.weightDecay !== 0 ? p.multiply(1 - lr * c.weightDecay) : p;
    const mNew = mPrev.multiply(c.beta1).add(g.multiply(1 - c.beta1));
    const vNew = vPrev.multiply(c.beta2).add(g.square().multiply(1 - c.beta2));
    m.set(name, mNew);
    v.set(name, vNew);
    const denom = ma
      .sqrt(vNew)
      .multiply(1 / bias2Sqrt)
      .add(c.eps);
    return decayed.subtract(mNew.divide(denom).multiply(stepSize));
  });
  return [updated, { step, m, v }];
}
