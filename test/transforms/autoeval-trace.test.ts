/**
 * Automatic evaluation inside a transformation's trace: building the backward (or
 * forward-mode) graph can cross the depth bound and evaluate forward nodes whose rules
 * have not run yet. The gradients must be the same as with automatic evaluation off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

type M = ma.MetalArray;

afterEach(() => ma.setAutoEval(true));

function values(x: M): number[] {
  return Array.from(x.toTypedArray() as Float32Array, Number);
}

/** Runs `body` once with automatic evaluation off and once with a low depth bound. */
function offAndOn<T>(body: () => T, maxDepth = 8): { off: T; on: T; autoEvals: number } {
  ma.setAutoEval(false);
  const off = body();
  ma.setAutoEval({ maxDepth });
  ma.resetMetrics();
  const on = body();
  const autoEvals = ma.metrics().autoEvals;
  ma.setAutoEval(true);
  return { off, on, autoEvals };
}

describe('automatic evaluation inside grad / valueAndGrad / jvp', () => {
  it('a deep chain of multiplies by the primal: every factor contributes to the gradient', () => {
    const x = ma.array([1, 2, 3, 4], 'float32');
    const wValues = [0.9, -0.8, 1.1, 0.7];
    const w0 = ma.array(wValues, 'float32');
    const steps = 40;
    const f = (w: M): M => {
      let h = x.multiply(w);
      for (let i = 0; i < steps; i++) h = h.multiply(w);
      return h.sum();
    };
    const run = (): number[][] => {
      const [v, g] = ma.valueAndGrad(f)(w0) as [M, M];
      return [values(v), values(g)];
    };
    const { off, on, autoEvals } = offAndOn(run);
    expect(autoEvals).toBeGreaterThan(0);
    // d/dw x w^41 = 41 x w^40, and the same bits with or without automatic evaluation.
    const expected = [1, 2, 3, 4].map((xi, i) => 41 * xi * wValues[i] ** 40);
    for (const [i, g] of off[1].entries()) expect(Math.abs(g - expected[i])).toBeLessThanOrEqual(1e-4 * Math.abs(expected[i]));
    expect(on).toEqual(off);
  });

  it('scalar-folded ops, residual adds and tanh: the same gradient bits', () => {
    const x = ma.array([0.5, -1, 2, 3], 'float32');
    const w0 = ma.array([0.5, -0.3, 0.2, 0.1], 'float32');
    const f = (w: M): M => {
      let h: M = x;
      for (let i = 0; i < 30; i++) h = h.multiply(w).tanh().add(h.multiply(0.5)).subtract(ma.multiply(0.25, h));
      return h.sum();
    };
    const { off, on, autoEvals } = offAndOn(() => values(ma.grad(f)(w0) as M));
    expect(autoEvals).toBeGreaterThan(0);
    expect(on).toEqual(off);
  });

  it('a small attention-style model (matmul, transpose, reshape, softmax, take): the same gradients', () => {
    const vocab = 11;
    const d = 8;
    const t = 6;
    const rand = (shape: number[], seed: number): M => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5);
      return ma.array(data, 'float32').reshape(shape);
    };
    const params = { emb: rand([vocab, d], 1), wq: rand([d, d], 2), wk: rand([d, d], 3), wv: rand([d, d], 4), out: rand([d, vocab], 5) };
    const tokens = ma.array([1, 4, 2, 9, 3, 7]);
    const targets = ma.array([4, 2, 9, 3, 7, 0]);
    const loss = (p: typeof params): M => {
      let h = ma.take(p.emb, tokens, 0);
      for (let layer = 0; layer < 4; layer++) {
        const q = ma
          .matmul(h, p.wq)
          .reshape([t, 2, d / 2])
          .transpose([1, 0, 2]);
        const k = ma
          .matmul(h, p.wk)
          .reshape([t, 2, d / 2])
          .transpose([1, 2, 0]);
        const v = ma
          .matmul(h, p.wv)
          .reshape([t, 2, d / 2])
          .transpose([1, 0, 2]);
        const att = ma.softmax(ma.matmul(q, k).multiply(0.5), -1);
        const mixed = ma.matmul(att, v).transpose([1, 0, 2]).reshape([t, d]);
        h = h.add(mixed.tanh());
      }
      const logits = ma.matmul(h, p.out);
      const logp = ma.logSoftmax(logits, -1);
      const picked = ma.takeAlongAxis(logp, targets.reshape([t, 1]), 1);
      return picked.mean().negative();
    };
    const run = (): number[][] => {
      const [v, g] = ma.valueAndGrad(loss)(params) as [M, typeof params];
      return [values(v), ...Object.values(g).map(values)];
    };
    const { off, on, autoEvals } = offAndOn(run, 16);
    expect(autoEvals).toBeGreaterThan(0);
    expect(on).toEqual(off);
  });

  it('jvp: automatic evaluation while the tangents are built gives the same tangent', () => {
    const x = ma.array([1, 2, 3, 4], 'float32');
    const f = (w: M): M => {
      let h = x.multiply(w);
      for (let i = 0; i < 40; i++) h = h.multiply(w).add(h.multiply(0.25));
      return h;
    };
    const w0 = ma.array([0.5, -0.4, 0.3, 0.2], 'float32');
    const t0 = ma.array([1, 0.5, -1, 2], 'float32');
    const { off, on, autoEvals } = offAndOn(() => (ma.jvp(f, [w0], [t0]) as [M, M]).map(values));
    expect(autoEvals).toBeGreaterThan(0);
    expect(on).toEqual(off);
  });
});
