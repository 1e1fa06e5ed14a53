/**
 * nanoGPT's optimization on `ma.optimizers`: AdamW (PyTorch's numerics) with weight decay on
 * the weight matrices and embeddings only (nanoGPT's two parameter groups: two AdamW
 * instances, the LayerNorm scales in the one without decay), gradient clipping by the
 * global norm, and nanoGPT's learning rate: linear warmup to the peak, then a cosine decay
 * to a floor.
 */
import * as ma from '../../src/index.js';
import type { TrainConfig } from './config.js';
import type { GptParams } from './model.js';

/** The parameters AdamW decays (every tensor of 2+ dimensions, as nanoGPT). */
export type DecayedParams = {
  wte: ma.MetalArray;
  wpe: ma.MetalArray;
  blocks: { qkv: ma.MetalArray; attnProj: ma.MetalArray; fc: ma.MetalArray; mlpProj: ma.MetalArray }[];
};

/** The parameters it does not decay (the LayerNorm scales). */
export type UndecayedParams = {
  lnF: ma.MetalArray;
  blocks: { ln1: ma.MetalArray; ln2: ma.MetalArray }[];
};

export function splitParams(p: GptParams): [DecayedParams, UndecayedParams] {
  return [
    { wte: p.wte, wpe: p.wpe, blocks: p.blocks.map((b) => ({ qkv: b.qkv, attnProj: b.attnProj, fc: b.fc, mlpProj: b.mlpProj })) },
    { lnF: p.lnF, blocks: p.blocks.map((b) => ({ ln1: b.ln1, ln2: b.ln2 })) },
  ];
}

export function joinParams(d: DecayedParams, u: UndecayedParams): GptParams {
  return { wte: d.wte, wpe: d.wpe, lnF: u.lnF, blocks: d.blocks.map((b, l) => ({ ...b, ...u.blocks[l] })) };
}

/**
 * nanoGPT's `get_lr`: `lr · (it + 1) / (warmup + 1)` during the warmup, then a cosine from
 * `lr` down to `minLr` at `decayIters`, then `minLr`. The warmup is a linear schedule from
 * `lr / (warmup + 1)` that reaches `lr` at `warmup`, where the cosine starts.
 */
export function learningRateSchedule(c: TrainConfig): ma.optimizers.Schedule {
  const { joinSchedules, linearSchedule, cosineDecay } = ma.optimizers;
  const cosine = cosineDecay(c.learningRate, c.decayIters - c.warmupIters, c.minLearningRate);
  if (c.warmupIters === 0) return cosine;
  return joinSchedules([linearSchedule(c.learningRate / (c.warmupIters + 1), c.learningRate, c.warmupIters), cosine], [c.warmupIters]);
}

/** The two AdamW instances of a training run (state saved and restored together). */
export class GptOptimizer {
  readonly decayed: ma.optimizers.AdamW;
  readonly undecayed: ma.optimizers.AdamW;

  constructor(c: TrainConfig) {
    const common = { learningRate: learningRateSchedule(c), betas: [c.beta1, c.beta2] as [number, number], eps: 1e-8 };
    this.decayed = new ma.optimizers.AdamW({ ...common, weightDecay: c.weightDecay });
    this.undecayed = new ma.optimizers.AdamW({ ...common, weightDecay: 0 });
  }

  /** Updates done so far. */
  get step(): number {
    return this.decayed.step;
  }

  /** The learning rate the next update uses. */
  get learningRate(): number {
    return this.decayed.learningRate;
  }

  /** One AdamW step over all parameters with gradients `grads` (a tree shaped as the parameters); returns the new parameters, evaluated. */
  update(params: GptParams, grads: GptParams): GptParams {
    const [pd, pu] = splitParams(params);
    const [gd, gu] = splitParams(grads);
    return joinParams(this.decayed.applyGradients(gd, pd), this.undecayed.applyGradients(gu, pu));
  }

  /** Both states as flat safetensors entries (`decayed.m.blocks.0.qkv`, …). */
  stateEntries(): Record<string, ma.MetalArray> {
    return Object.fromEntries([...ma.treeFlatten(this.decayed.state, 'decayed'), ...ma.treeFlatten(this.undecayed.state, 'undecayed')]);
  }

  /** Restores both states from entries written by {@link stateEntries}. */
  loadStateEntries(entries: Readonly<Record<string, ma.MetalArray>>): void {
    const tree = ma.treeUnflatten(Object.entries(entries)) as { decayed?: ma.optimizers.OptimizerState; undecayed?: ma.optimizers.OptimizerState };
    if (tree.decayed === undefined || tree.undecayed === undefined) throw new Error('checkpoint: the optimizer state lacks the decayed or the undecayed group');
    this.decayed.state = tree.decayed;
    this.undecayed.state = tree.undecayed;
  }
}
