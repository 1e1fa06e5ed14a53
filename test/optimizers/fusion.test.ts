/**
 * One optimizer step runs one kernel per parameter (the parameter and all its state
 * updated by one kernel), for every optimizer and option set, and later steps reuse the
 * cached plan.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

const { optimizers } = ma;

function mlp(): { layers: { weight: ma.MetalArray; bias: ma.MetalArray }[] } {
  const k1 = ma.random.key(7);
  const k2 = ma.random.key(8);
  return {
    layers: [
      { weight: ma.random.normal(k1, [8, 16]), bias: ma.zeros([16]) },
      { weight: ma.random.normal(k2, [16, 4]), bias: ma.zeros([4]) },
    ],
  };
}

/** A minimal model, typed as `optimizer.update` takes it (structurally, as `ma.nn.Module`). */
class Model implements ma.optimizers.Trainable {
  params: ma.ArrayTree = mlp();
  trainableParameters(): ma.ArrayTree {
    return this.params;
  }
  update(tree: ma.ArrayTree): void {
    this.params = tree;
  }
}

const configs: [string, () => ma.optimizers.Optimizer][] = [
  ['SGD', () => new optimizers.SGD({ learningRate: 0.1 })],
  ['SGD Nesterov, weight decay', () => new optimizers.SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })],
  ['Adam', () => new optimizers.Adam({ learningRate: 1e-3, weightDecay: 0.01 })],
  ['AdamW with a schedule', () => new optimizers.AdamW({ learningRate: optimizers.cosineDecay(1e-3, 10) })],
  ['RMSprop centered, momentum', () => new optimizers.RMSprop({ centered: true, momentum: 0.9 })],
  ['Adagrad', () => new optimizers.Adagrad({ lrDecay: 0.01 })],
  ['Lion', () => new optimizers.Lion({ weightDecay: 0.1 })],
];

describe('one kernel per parameter', () => {
  for (const [name, make] of configs) {
    it(name, () => {
      const model = new Model();
      const opt = make();
      const grads = ma.treeMap((p) => ma.onesLike(p).multiply(0.01), model.trainableParameters());
      ma.eval(...ma.treeFlatten(grads).map(([, g]) => g), ...ma.treeFlatten(model.trainableParameters()).map(([, p]) => p));
      const count = ma.treeFlatten(grads).length;
      for (let step = 1; step <= 3; step++) {
        ma.resetMetrics();
        opt.update(model, grads);
        const m = ma.metrics();
        expect(m.kernelLaunches, `step ${step}`).toBe(count);
        // The first step starts from zeros and the second from the first one's views; from
        // the third on the graph is the same every step.
        if (step === 3) expect(m.planCacheHits).toBe(1);
        for (const [, p] of ma.treeFlatten(model.trainableParameters())) p.toTypedArray();
        expect(ma.metrics().kernelLaunches, 'reading the parameters runs nothing more').toBe(count);
      }
      expect(opt.step).toBe(3);
    });
  }
});

describe('clipped gradients', () => {
  it('clipGradNorm before AdamW adds the norm kernels only: the scaling fuses into each parameter kernel', () => {
    const model = new Model();
    const opt = new optimizers.AdamW({ learningRate: 1e-3 });
    const grads = ma.treeMap((p) => p.multiply(0.5), model.trainableParameters());
    ma.eval(...ma.treeFlatten(grads).map(([, g]) => g), ...ma.treeFlatten(model.trainableParameters()).map(([, p]) => p));
    const count = ma.treeFlatten(grads).length;
    for (let step = 1; step <= 2; step++) {
      ma.resetMetrics();
      const [clipped, norm] = optimizers.clipGradNorm(grads, 0.1);
      opt.update(model, clipped);
      expect(ma.metrics().kernelLaunches).toBe(count + 1);
      expect(norm.item()).toBeGreaterThan(0.1);
    }
  });
});
