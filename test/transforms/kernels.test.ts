/**
 * Kernel counts of backward passes, pinned as the fusion tests pin forward ones: the
 * backward graph is an ordinary lazy graph, so the scheduler fuses it with the forward
 * reductions beside it.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

type M = ma.MetalArray;

function launches(...xs: M[]): number {
  ma.resetMetrics();
  ma.eval(...xs);
  return ma.metrics().kernelLaunches;
}

describe('kernel counts of backward passes', () => {
  it('the backward of sum(gelu(x)) is 1 kernel', () => {
    const x = ma.random.normal(ma.random.key(0), [64, 64]).eval();
    const g = ma.grad((a: M) => ma.gelu(a).sum())(x) as M;
    expect(launches(g)).toBe(1);
  });

  it('valueAndGrad of softmax cross-entropy over [2048, 2048] logits runs in 4 kernels in all', () => {
    const n = 2048;
    const logits = ma.random.normal(ma.random.key(1), [n, n]).eval();
    const labels = ma.random.randint(ma.random.key(2), [n], 0, n).eval();
    const classes = ma.arange(n, undefined, 1, 'int32').reshape(1, n);
    const onehot = ma.equal(labels.reshape(n, 1), classes).astype('float32');
    const xent = (z: M) => ma.logSoftmax(z, -1).multiply(onehot).sum().negative().divide(n);
    const [loss, g] = ma.valueAndGrad(xent)(logits);
    expect(launches(loss, g)).toBeLessThanOrEqual(4);
    // The gradient is softmax(z) - onehot, over n.
    const want = ma.softmax(logits, -1).subtract(onehot).divide(n);
    const err = Number(g.subtract(want).abs().max().item());
    expect(err).toBeLessThan(1e-6);
    // The same loss picking the labels with takeAlongAxis: the gather's cotangent is a
    // one-hot reduction that fuses, not a scatter.
    const picked = (z: M) => ma.takeAlongAxis(ma.logSoftmax(z, -1), labels.reshape(n, 1), 1).sum().negative().divide(n);
    const [loss2, g2] = ma.valueAndGrad(picked)(logits);
    expect(launches(loss2, g2)).toBeLessThanOrEqual(4);
    expect(Number(g2.subtract(want).abs().max().item())).toBeLessThan(1e-6);
  }, 300_000);

  it("layer norm's backward (to x and to the scale) is 3 kernels", () => {
    const x = ma.random.normal(ma.random.key(3), [256, 512]).eval();
    const gamma = ma.random.normal(ma.random.key(4), [512]).eval();
    const ct = ma.random.normal(ma.random.key(5), [256, 512]).eval();
    const layerNorm = (a: M, scale: M) => {
      const centered = a.subtract(ma.mean(a, -1, true));
      const variance = ma.mean(centered.square(), -1, true);
      return centered.multiply(variance.add(1e-5).rsqrt()).multiply(scale);
    };
    const [, grads] = ma.vjp(layerNorm as (...a: never[]) => unknown, [x, gamma], [ct]);
    expect(launches(...(grads as M[]))).toBeLessThanOrEqual(3);
  }, 120_000);
});
