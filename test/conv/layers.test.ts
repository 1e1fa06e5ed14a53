/**
 * The ma.nn convolution, pooling and BatchNorm layers: shapes, parameter layout and
 * initialization bounds, the forward against the functional ops, BatchNorm's running
 * statistics (train/eval) against a direct computation, gradients through
 * ma.nn.valueAndGrad, and the errors bad input gets.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { prng, randomArray } from '../transforms/derivatives.js';

process.env.METALARRAY_CACHE_DIR ??= '/work/kcache';

const r = prng(4242);

function maxAbsDiff(a: ma.MetalArray, b: ma.MetalArray): number {
  return Number(ma.max(ma.abs(a.astype('float64').subtract(b.astype('float64')))).item());
}

describe('convolution layers', () => {
  it('Conv2d: weight layout, init bound, forward = conv2d + bias', () => {
    const conv = new ma.nn.Conv2d(4, 6, [3, 2], { stride: 2, padding: 1, groups: 2, key: ma.random.key(3) });
    expect(conv.weight.shape).toEqual([6, 3, 2, 2]);
    expect(conv.bias?.shape).toEqual([6]);
    const bound = 1 / Math.sqrt(2 * 3 * 2);
    expect(Number(ma.max(ma.abs(conv.weight)).item())).toBeLessThanOrEqual(bound);
    const x = randomArray(r, [2, 7, 6, 4]).astype('float32');
    const want = ma.conv2d(x, conv.weight, { stride: 2, padding: 1, groups: 2 }).add(conv.bias as ma.MetalArray);
    expect(maxAbsDiff(conv.forward(x), want)).toBe(0);
    expect(String(conv)).toMatch(/Conv2d\(4, 6, kernelSize=\[3, 2\].*groups=2.*bias=true\)/);
  });

  it('Conv1d and ConvTranspose2d forward the functional ops', () => {
    const c1 = new ma.nn.Conv1d(3, 5, 3, { dilation: 2, bias: false, key: ma.random.key(1) });
    expect(c1.weight.shape).toEqual([5, 3, 3]);
    expect(c1.bias).toBeUndefined();
    const x1 = randomArray(r, [2, 9, 3]).astype('float32');
    expect(maxAbsDiff(c1.forward(x1), ma.conv1d(x1, c1.weight, { dilation: 2 }))).toBe(0);
    const up = new ma.nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1, key: ma.random.key(2) });
    expect(up.weight.shape).toEqual([2, 3, 3, 4]);
    const x2 = randomArray(r, [1, 3, 3, 4]).astype('float32');
    const y = up.forward(x2);
    expect(y.shape).toEqual([1, 6, 6, 2]);
    const want = ma.convTranspose2d(x2, up.weight, { stride: 2, padding: 1, outputPadding: 1 }).add(up.bias as ma.MetalArray);
    expect(maxAbsDiff(y, want)).toBe(0);
  });

  it('gradients of a small conv net through ma.nn.valueAndGrad match a finite difference', () => {
    const model = new ma.nn.Sequential(
      new ma.nn.Conv2d(2, 3, 3, { padding: 1, key: ma.random.key(5), dtype: 'float64' }),
      new ma.nn.ReLU(),
      new ma.nn.AvgPool2d(2),
    );
    const x = randomArray(r, [2, 4, 4, 2]);
    const target = randomArray(r, [2, 2, 2, 3]);
    const lossFn = (input: ma.MetalArray, y: ma.MetalArray) => ma.nn.mseLoss(model.forward(input), y);
    const [loss, grads] = ma.nn.valueAndGrad(model, lossFn)(x, target);
    const conv = model.children()[0][1] as ma.nn.Conv2d;
    const g = (grads as { layers: { weight: ma.MetalArray }[] }).layers[0].weight;
    expect(g.shape).toEqual(conv.weight.shape);
    const eps = 1e-6;
    const direction = randomArray(r, conv.weight.shape);
    const w0 = conv.weight;
    const at = (s: number) => {
      conv.weight = w0.add(direction.multiply(s));
      return Number(lossFn(x, target).item());
    };
    const fd = (at(eps) - at(-eps)) / (2 * eps);
    conv.weight = w0;
    const analytic = Number(g.multiply(direction).sum().item());
    expect(Math.abs(analytic - fd)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fd)));
    expect(Number(loss.item())).toBeGreaterThan(0);
  });

  it('names the layer and both shapes on a wrong input', () => {
    const conv = new ma.nn.Conv2d(3, 4, 3);
    expect(() => conv.forward(ma.zeros([1, 5, 5, 2]))).toThrow(
      /Conv2d\(3, 4, kernelSize=\[3, 3\].*\): the input must be \[N, H, W, C\] with C = 3, got shape \[1, 5, 5, 2\]/,
    );
    expect(() => new ma.nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(ma.ArgumentError);
    expect(() => new ma.nn.Conv1d(3, 4, 3, { inputDilation: 2 } as ma.nn.ConvLayerOptions)).toThrow(/unknown option 'inputDilation'/);
  });
});

describe('pooling layers', () => {
  it('forward the functional pools', () => {
    const x = randomArray(r, [2, 6, 6, 3]).astype('float32');
    expect(maxAbsDiff(new ma.nn.MaxPool2d(3, { stride: 2, padding: 1 }).forward(x), ma.maxPool2d(x, 3, { stride: 2, padding: 1 }))).toBe(0);
    expect(maxAbsDiff(new ma.nn.AvgPool2d([2, 3]).forward(x), ma.avgPool2d(x, [2, 3]))).toBe(0);
    expect(new ma.nn.MaxPool2d(2).parameters()).toEqual({});
  });
});

describe('BatchNorm', () => {
  it('normalizes by batch statistics in training and updates the running statistics as PyTorch', () => {
    const bn = new ma.nn.BatchNorm(3, { momentum: 0.2, dtype: 'float64' });
    expect(Object.keys(bn.trainableParameters()).sort()).toEqual(['bias', 'weight']);
    expect(Object.keys(bn.parameters()).sort()).toEqual(['bias', 'runningMean', 'runningVar', 'weight']);
    bn.update({ weight: ma.array([1, 2, 0.5], 'float64'), bias: ma.array([0, -1, 3], 'float64') });
    const x = randomArray(r, [4, 2, 3]);
    const y = bn.forward(x);
    const rows = x.reshape(-1, 3).tolist() as number[][];
    const n = rows.length;
    const gamma = [1, 2, 0.5];
    const beta = [0, -1, 3];
    const out = y.reshape(-1, 3).tolist() as number[][];
    const runMean = bn.runningMean?.tolist() as number[];
    const runVar = bn.runningVar?.tolist() as number[];
    for (let c = 0; c < 3; c++) {
      const mu = rows.reduce((s, row) => s + row[c], 0) / n;
      const v = rows.reduce((s, row) => s + (row[c] - mu) ** 2, 0) / n;
      for (let i = 0; i < n; i++) expect(out[i][c]).toBeCloseTo(((rows[i][c] - mu) / Math.sqrt(v + 1e-5)) * gamma[c] + beta[c], 10);
      expect(runMean[c]).toBeCloseTo(0.2 * mu, 12);
      expect(runVar[c]).toBeCloseTo(0.8 + 0.2 * v * (n / (n - 1)), 12);
    }
    // Evaluation mode normalizes by the running statistics and leaves them alone.
    bn.eval();
    const z = bn.forward(x).reshape(-1, 3).tolist() as number[][];
    for (let c = 0; c < 3; c++) expect(z[0][c]).toBeCloseTo(((rows[0][c] - runMean[c]) / Math.sqrt(runVar[c] + 1e-5)) * gamma[c] + beta[c], 10);
    expect(bn.runningMean?.tolist()).toEqual(runMean);
  });

  it('gradients flow to the scale and shift, not to the running statistics', () => {
    const bn = new ma.nn.BatchNorm(2, { dtype: 'float64' });
    const x = randomArray(r, [5, 2]);
    const [, grads] = ma.nn.valueAndGrad(bn, (input: ma.MetalArray) =>
      bn
        .forward(input)
        .square()
        .multiply(ma.array([1, 3], 'float64'))
        .sum(),
    )(x);
    expect(Object.keys(grads).sort()).toEqual(['bias', 'weight']);
  });

  it('rejects a wrong channel count', () => {
    expect(() => new ma.nn.BatchNorm(4).forward(ma.zeros([2, 3]))).toThrow(/BatchNorm\(4, .*\): the input must be \[N, \.\.\., 4\]/);
    expect(() => new ma.nn.BatchNorm(4, { momentum: 2 })).toThrow(/momentum must be in \[0, 1\]/);
  });
});
