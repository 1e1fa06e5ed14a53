/**
 * nanoGPT's optimization on `ma.optimizers`: AdamW (PyTorch's numerics) with weight decay on
 * the weight matrices and embeddings only (nanoGPT's two parameter groups: `ma.optimizers` has
 * no groups, so two AdamW instances, each updating its part of the model; the LayerNorm
 * scales in the one without decay), gradient clipping by the
 * global norm, and nanoGPT's learning rate: linear warmup to the peak, then a cosine decay
 * to a floor.
 */
import * as ma from '../../src/index.js';
import type { TrainConfig } from './config.js';
import { type GPT, isDecayed } from './model.js';

/** The part of a parameter (or gradient) tree whose arrays pass `keep`; list positions are kept, so paths stay the full tree's. */
export function selectParams(tree: ma.nn.ParameterTree, keep: (a: ma.MetalArray) => boolean): ma.nn.ParameterTree {
  const select = (node: ma.nn.ParameterNode): ma.nn.ParameterNode | undefined => {
    if (node === null) return undefined;
    if (node instanceof ma.MetalArray) return keep(node) ? node : undefined;
    if (Array.isArray(node)) return node.map((n: ma.nn.ParameterNode) => select(n) ?? null);
    const out: [string, ma.nn.ParameterNode][] = [];
    for (const [k, v] of Object.entries(node as ma.nn.ParameterTree)) {
      const picked = select(v);
      if (picked !== undefined) out.push([k, picked]);
    }
    return Object.fromEntries(out) as ma.nn.ParameterTree;
  };
  return select(tree) as ma.nn.ParameterTree;
}

/** The model seen through one parameter group (what `optimizer.update` takes). */
function group(model: GPT, keep: (a: ma.MetalArray) => boolean): ma.optimizers.Trainable {
  return {
    trainableParameters: () => selectParams(model.trainableParameters(), keep) as ma.ArrayTree,
    update: (tree) => void model.update(tree as ma.nn.ParameterTree),
  };
}

const undecayed = (a: ma.MetalArray): boolean => !isDecayed(a);

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

  /** One AdamW step of `model` with gradients `grads` (shaped as its trainable parameters): the 2-D weights with weight decay, the rest without. */
  update(model: GPT, grads: ma.nn.ParameterTree): void {
    this.decayed.update(group(model, isDecayed), selectParams(grads, isDecayed) as ma.ArrayTree);
    this.undecayed.update(group(model, undecayed), selectParams(grads, undecayed) as ma.ArrayTree);
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
