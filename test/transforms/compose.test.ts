/**
 * Composed transformations on a real model: `vmap(grad(f))` per-example gradients of an
 * MLP loss against a JS loop of `grad` over the examples, and `jvp(grad(f))`
 * Hessian-vector products against central finite differences of `grad`.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { prng, randomArray } from './derivatives.js';

type M = ma.MetalArray;
// A type alias, not an interface: aliases are assignable to ArrayTree's index signature.
type Params = { readonly layers: readonly { readonly w: M; readonly b: M }[] };

function values(x: M): number[] {
  return Array.from(x.toTypedArray() as Float64Array, Number);
}

function close(a: number[], b: number[], tol: number, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (const [i, v] of a.entries()) expect(Math.abs(v - b[i]), `${what}, element ${i}: ${v} vs ${b[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
}

/** A 3-layer tanh MLP with a squared-error loss on one example (x: [din], y: [dout]). */
function loss(p: Params, x: M, y: M): M {
  let h = x;
  p.layers.forEach((layer, i) => {
    h = ma.matmul(h, layer.w).add(layer.b);
    if (i < p.layers.length - 1) h = h.tanh();
  });
  return h.subtract(y).square().sum();
}

function makeParams(r: () => number, sizes: readonly number[]): Params {
  const layers = [];
  for (let i = 0; i + 1 < sizes.length; i++)
    layers.push({ w: randomArray(r, [sizes[i], sizes[i + 1]]).multiply(0.5), b: randomArray(r, [sizes[i + 1]]).multiply(0.1) });
  return { layers };
}

describe('vmap(grad(f)): per-example gradients', () => {
  it('equals a JS loop of grad over the examples, for every parameter', () => {
    const r = prng(1819);
    const params = makeParams(r, [5, 8, 6, 3]);
    const batch = 7;
    const xs = randomArray(r, [batch, 5]);
    const ys = randomArray(r, [batch, 3]);
    const perExample = ma.vmap(ma.grad(loss), [null, 0, 0])(params, xs, ys) as Params;
    for (const [k, layer] of perExample.layers.entries()) {
      expect(layer.w.shape, `layer ${k} w`).toEqual([batch, ...params.layers[k].w.shape]);
      expect(layer.b.shape, `layer ${k} b`).toEqual([batch, ...params.layers[k].b.shape]);
    }
    for (let i = 0; i < batch; i++) {
      const g = ma.grad(loss)(params, xs.slice(i), ys.slice(i)) as Params;
      for (const [k, layer] of g.layers.entries()) {
        close(values(perExample.layers[k].w.slice(i)), values(layer.w), 1e-12, `example ${i} layer ${k} w`);
        close(values(perExample.layers[k].b.slice(i)), values(layer.b), 1e-12, `example ${i} layer ${k} b`);
      }
    }
  });

  it('the per-example gradients average to the batch gradient of the mean loss', () => {
    const r = prng(7);
    const params = makeParams(r, [4, 6, 2]);
    const xs = randomArray(r, [5, 4]);
    const ys = randomArray(r, [5, 2]);
    const perExample = ma.vmap(ma.grad(loss), [null, 0, 0])(params, xs, ys) as Params;
    const meanLoss = (p: Params) =>
      ma
        .vmap((x: M, y: M) => loss(p, x, y))(xs, ys)
        .mean();
    const whole = ma.grad(meanLoss)(params) as Params;
    for (const [k, layer] of whole.layers.entries()) {
      close(values(perExample.layers[k].w.mean(0)), values(layer.w), 1e-12, `layer ${k} w`);
      close(values(perExample.layers[k].b.mean(0)), values(layer.b), 1e-12, `layer ${k} b`);
    }
  });

  it('maps over the parameters too: vmap over a batch of models', () => {
    const r = prng(3);
    const models = [makeParams(r, [3, 4, 2]), makeParams(r, [3, 4, 2])];
    const stacked: Params = {
      layers: models[0].layers.map((_, k) => ({ w: ma.stack(models.map((m) => m.layers[k].w)), b: ma.stack(models.map((m) => m.layers[k].b)) })),
    };
    const x = randomArray(r, [3]);
    const y = randomArray(r, [2]);
    const grads = ma.vmap(ma.grad(loss), [0, null, null])(stacked, x, y) as Params;
    models.forEach((m, i) => {
      const g = ma.grad(loss)(m, x, y) as Params;
      for (const [k, layer] of g.layers.entries()) close(values(grads.layers[k].w.slice(i)), values(layer.w), 1e-12, `model ${i} layer ${k} w`);
    });
  });
});

describe('jvp(grad(f)): Hessian-vector products', () => {
  it('match central finite differences of grad along the vector', () => {
    const r = prng(42);
    const params = makeParams(r, [4, 5, 2]);
    const x = randomArray(r, [4]);
    const y = randomArray(r, [2]);
    const gradW = (w0: M) => (ma.grad(loss)({ layers: [{ w: w0, b: params.layers[0].b }, params.layers[1]] }, x, y) as Params).layers[0].w;
    const w = params.layers[0].w;
    for (let k = 0; k < 3; k++) {
      const v = randomArray(r, w.shape);
      const [, hv] = ma.jvp(gradW as (...a: never[]) => unknown, [w], [v]);
      const eps = 1e-5;
      const fd = gradW(w.add(v.multiply(eps)))
        .subtract(gradW(w.subtract(v.multiply(eps))))
        .divide(2 * eps);
      close(values(hv as M), values(fd), 1e-6, `direction ${k}`);
    }
  });

  it('equal the Hessian (rows from grad of grad) times the vector', () => {
    // A loss of one small vector, where the full Hessian is cheap to build row by row.
    const r = prng(9);
    const a = randomArray(r, [3, 3]);
    const f = (z: M) => ma.matmul(a, z).tanh().square().sum().add(z.exp().sum());
    const z = randomArray(r, [3]);
    const v = randomArray(r, [3]);
    const [, hv] = ma.jvp((q: M) => ma.grad(f)(q) as M, [z], [v]);
    const rows = [0, 1, 2].map((i) => values(ma.grad((q: M) => (ma.grad(f)(q) as M).slice(i))(z) as M));
    const vv = values(v);
    const expected = rows.map((row) => row.reduce((s, h, j) => s + h * vv[j], 0));
    close(values(hv as M), expected, 1e-10, 'H v');
  });
});
