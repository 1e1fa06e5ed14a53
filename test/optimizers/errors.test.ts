/**
 * Bad input: hyperparameters that are not finite numbers, unknown options, gradients
 * that do not match the parameters, non-float parameters and bad schedules throw
 * ArgumentError naming the optimizer (or function) and the option or key.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

const { optimizers } = ma;

describe('bad hyperparameters', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['AdamW NaN learning rate', () => new optimizers.AdamW({ learningRate: Number.NaN }), /AdamW: option 'learningRate' must be a finite number/],
    ['Adam infinite learning rate', () => new optimizers.Adam({ learningRate: Number.POSITIVE_INFINITY }), /Adam: option 'learningRate'.*Infinity/],
    ['SGD string learning rate', () => new optimizers.SGD({ learningRate: '0.1' as unknown as number }), /SGD: option 'learningRate'.*"0\.1"/],
    ['SGD without learning rate', () => new optimizers.SGD({} as ma.optimizers.SGDOptions), /SGD: option 'learningRate' is required/],
    ['Lion negative learning rate', () => new optimizers.Lion({ learningRate: -1 }), /Lion: option 'learningRate'/],
    ['Adam NaN beta', () => new optimizers.Adam({ betas: [0.9, Number.NaN] }), /Adam: option 'betas\[1\]' must be a finite number in \[0, 1\)/],
    ['AdamW beta of 1', () => new optimizers.AdamW({ betas: [1, 0.999] }), /AdamW: option 'betas\[0\]'/],
    ['Adam betas not a pair', () => new optimizers.Adam({ betas: [0.9] as unknown as [number, number] }), /Adam: option 'betas' must be a pair/],
    ['AdamW NaN eps', () => new optimizers.AdamW({ eps: Number.NaN }), /AdamW: option 'eps'/],
    ['RMSprop infinite eps', () => new optimizers.RMSprop({ eps: Number.POSITIVE_INFINITY }), /RMSprop: option 'eps'/],
    ['Adagrad NaN weight decay', () => new optimizers.Adagrad({ weightDecay: Number.NaN }), /Adagrad: option 'weightDecay'/],
    ['SGD NaN momentum', () => new optimizers.SGD({ learningRate: 0.1, momentum: Number.NaN }), /SGD: option 'momentum'/],
    ['SGD Nesterov without momentum', () => new optimizers.SGD({ learningRate: 0.1, nesterov: true }), /SGD: option 'nesterov' needs a momentum > 0/],
    ['RMSprop centered not boolean', () => new optimizers.RMSprop({ centered: 1 as unknown as boolean }), /RMSprop: option 'centered' must be true or false/],
    ['unknown option', () => new optimizers.Adam({ lr: 0.1 } as never), /Adam: unknown option 'lr'/],
    [
      'setting a NaN learning rate',
      () => {
        const opt = new optimizers.SGD({ learningRate: 0.1 });
        opt.learningRate = Number.NaN;
      },
      /SGD: option 'learningRate'/,
    ],
  ];
  for (const [name, fn, message] of cases) {
    it(name, () => {
      expect(fn).toThrow(ma.ArgumentError);
      expect(fn).toThrow(message);
    });
  }

  it('a schedule that gives a NaN names the optimizer and the step', () => {
    const opt = new optimizers.AdamW({ learningRate: (step) => (step < 1 ? 0.1 : Number.NaN) });
    const params = { w: ma.ones([2]) };
    const next = opt.applyGradients({ w: ma.ones([2]) }, params);
    expect(() => opt.applyGradients({ w: ma.ones([2]) }, next)).toThrow(/AdamW: the learningRate schedule gave NaN at step 1/);
    expect(opt.step).toBe(1);
  });
});

describe('gradients that do not match the parameters', () => {
  const params = { layers: [{ weight: ma.ones([2, 3]), bias: ma.zeros([3]) }] };
  const opt = new optimizers.Adam();
  it('a missing gradient names its key', () => {
    expect(() => opt.applyGradients({ layers: [{ weight: ma.ones([2, 3]) }] }, params)).toThrow(/Adam: no gradient for parameter 'layers\.0\.bias'/);
  });
  it('an extra gradient names its key', () => {
    expect(() => opt.applyGradients({ layers: [{ weight: ma.ones([2, 3]), bias: ma.ones([3]), scale: ma.ones([3]) }] }, params)).toThrow(
      /Adam: gradient 'layers\.0\.scale' has no parameter/,
    );
  });
  it('a gradient of another shape names its key and both shapes', () => {
    expect(() => opt.applyGradients({ layers: [{ weight: ma.ones([3, 2]), bias: ma.ones([3]) }] }, params)).toThrow(
      /Adam: the gradient of 'layers\.0\.weight' has shape \[3, 2\] but the parameter has \[2, 3\]/,
    );
  });
  it('an integer parameter is refused', () => {
    expect(() => opt.applyGradients({ n: ma.ones([2]) }, { n: ma.array([1, 2]) })).toThrow(/Adam: parameter 'n' is int32; only float parameters are trained/);
  });
  it('nothing was updated by the failed calls', () => {
    expect(opt.step).toBe(0);
  });
  it('update() needs a model', () => {
    expect(() => opt.update({} as ma.optimizers.Trainable, {})).toThrow(/Adam\.update: the model must have trainableParameters\(\) and update\(tree\)/);
  });
});

describe('bad schedule and clipping arguments', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['cosineDecay NaN init', () => optimizers.cosineDecay(Number.NaN, 10), /cosineDecay: init must be a finite number/],
    ['cosineDecay zero steps', () => optimizers.cosineDecay(0.1, 0), /cosineDecay: decaySteps must be a whole number > 0/],
    ['linearWarmup fractional steps', () => optimizers.linearWarmup(0.1, 2.5), /linearWarmup: warmupSteps/],
    ['stepDecay infinite rate', () => optimizers.stepDecay(0.1, Number.POSITIVE_INFINITY, 3), /stepDecay: decayRate/],
    ['exponentialDecay NaN rate', () => optimizers.exponentialDecay(0.1, Number.NaN), /exponentialDecay: decayRate/],
    [
      'joinSchedules boundary count',
      () => optimizers.joinSchedules([optimizers.linearWarmup(1, 2)], [2]),
      /joinSchedules: needs one boundary fewer than schedules/,
    ],
    ['joinSchedules decreasing', () => optimizers.joinSchedules([(s) => s, (s) => s, (s) => s], [4, 2]), /joinSchedules: boundaries must increase/],
    ['a schedule called with a negative step', () => optimizers.cosineDecay(0.1, 10)(-1), /cosineDecay schedule: the step must be a whole number ≥ 0/],
    ['clipGradNorm NaN norm', () => optimizers.clipGradNorm({ w: ma.ones([2]) }, Number.NaN), /clipGradNorm: maxNorm must be a finite number > 0/],
    ['clipGradNorm empty tree', () => optimizers.clipGradNorm({}, 1), /clipGradNorm: the gradient tree holds no arrays/],
  ];
  for (const [name, fn, message] of cases) {
    it(name, () => {
      expect(fn).toThrow(ma.ArgumentError);
      expect(fn).toThrow(message);
    });
  }
  it('clipGradNorm leaves gradients under the norm as they are', () => {
    const [clipped, norm] = optimizers.clipGradNorm([ma.array([0.3], 'float32'), ma.array([0.4], 'float32')], 1);
    expect(norm.item()).toBeCloseTo(0.5, 6);
    expect(clipped.map((g) => g.item())).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });
});
