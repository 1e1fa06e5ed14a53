/**
 * Layers against PyTorch (test/fixtures/nn.json, float64), their gradients against
 * finite differences, and their errors (a wrong trailing dimension names the layer and
 * both shapes).
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { checkDerivatives } from '../transforms/derivatives.js';
import { expectClose, f64, fixture } from './support.js';

type M = ma.MetalArray;

describe('layers against PyTorch', () => {
  it('Linear', () => {
    const c = fixture.linear;
    const layer = new ma.nn.Linear(4, 5, { dtype: 'float64' });
    layer.update({ weight: f64(c.weight), bias: f64(c.bias) });
    expectClose('Linear', layer.forward(f64(c.x)), c.out);
  });

  it('LayerNorm forward and backward (to x, weight and bias)', () => {
    const c = fixture.layerNorm;
    const norm = new ma.nn.LayerNorm(4, { dtype: 'float64' });
    norm.update({ weight: f64(c.weight), bias: f64(c.bias) });
    expectClose('LayerNorm', norm.forward(f64(c.x)), c.out);
    const x = f64(c.x);
    const [, grads] = ma.nn.valueAndGrad(norm, (xs: M) => norm.forward(xs).multiply(f64(c.cotangent)).sum())(x);
    expectClose('LayerNorm d/dweight', grads.weight as M, c.gradWeight);
    expectClose('LayerNorm d/dbias', grads.bias as M, c.gradBias);
    const gx = ma.grad((xs: M) => norm.forward(xs).multiply(f64(c.cotangent)).sum())(x);
    expectClose('LayerNorm d/dx', gx, c.gradX);
  }, 120_000);

  it('RMSNorm', () => {
    const c = fixture.rmsNorm;
    const norm = new ma.nn.RMSNorm(4, { eps: c.eps, dtype: 'float64' });
    norm.update({ weight: f64(c.weight) });
    expectClose('RMSNorm', norm.forward(f64(c.x)), c.out);
  });

  it('Embedding and asLinear', () => {
    const c = fixture.embedding;
    const embed = new ma.nn.Embedding(6, 3, { dtype: 'float64' });
    embed.update({ weight: f64(c.weight) });
    expectClose('Embedding', embed.forward(ma.array(c.indices, 'int32')), c.out);
    const x = f64(c.x ?? fixture.linear.x).slice(':', ':3');
    expectClose('Embedding.asLinear', embed.asLinear(x), c.asLinear);
    expect(() => embed.forward(ma.array([0.5], 'float32'))).toThrow(ma.DTypeError);
  });

  it('activations (functions and modules)', () => {
    const c = fixture.activations;
    const x = f64(c.x);
    const pairs: [string, (a: M) => M, ma.nn.UnaryLayer][] = [
      ['relu', ma.nn.relu, new ma.nn.ReLU()],
      ['gelu', ma.nn.gelu, new ma.nn.GELU()],
      ['geluApprox', ma.nn.geluApprox, new ma.nn.GELU({ approximate: 'tanh' })],
      ['silu', ma.nn.silu, new ma.nn.SiLU()],
      ['tanh', ma.nn.tanh, new ma.nn.Tanh()],
      ['sigmoid', ma.nn.sigmoid, new ma.nn.Sigmoid()],
      ['softplus', ma.nn.softplus, new ma.nn.Softplus()],
    ];
    for (const [name, fn, layer] of pairs) {
      expectClose(name, fn(x), c[name], 1e-12);
      expectClose(`${name} layer`, layer.forward(x), c[name], 1e-12);
    }
    expect(() => new ma.nn.GELU({ approximate: 'fast' as 'tanh' })).toThrow(/approximate must be 'none' or 'tanh'/);
  }, 120_000);
});

describe('layer gradients by finite differences', () => {
  const r = ma.random.key(11);
  const x = ma.random.normal(r, [3, 4], 'float64');
  it('Linear, LayerNorm, RMSNorm, GELU approx, softplus through their inputs', () => {
    const lin = new ma.nn.Linear(4, 2, { dtype: 'float64', key: ma.random.key(1) });
    checkDerivatives('Linear', (a: M) => lin.forward(a), [x]);
    const ln = new ma.nn.LayerNorm(4, { dtype: 'float64' });
    checkDerivatives('LayerNorm', (a: M) => ln.forward(a), [x]);
    const rms = new ma.nn.RMSNorm(4, { dtype: 'float64' });
    checkDerivatives('RMSNorm', (a: M) => rms.forward(a), [x]);
    checkDerivatives('geluApprox', (a: M) => ma.nn.geluApprox(a), [x]);
    checkDerivatives('softplus', (a: M) => ma.nn.softplus(a), [x]);
  }, 300_000);
});

describe('layer errors and behaviour', () => {
  it('a wrong trailing dimension names the layer and both shapes', () => {
    expect(() => new ma.nn.Linear(4, 3).forward(ma.ones([2, 5]))).toThrow(
      "Linear(inputDims=4, outputDims=3, bias=true): the input's last dimension must be 4, got input shape [2, 5] (weight shape [3, 4])",
    );
    expect(() => new ma.nn.LayerNorm(8).forward(ma.ones([2, 4]))).toThrow(/LayerNorm\(dims=8.*got input shape \[2, 4\] \(weight shape \[8\]\)/);
    expect(() => new ma.nn.RMSNorm(8).forward(ma.ones([4]))).toThrow(ma.ShapeError);
    expect(() => new ma.nn.Embedding(5, 3).asLinear(ma.ones([2, 4]))).toThrow(/Embedding\(numEmbeddings=5, dims=3\).*\[2, 4\].*\[5, 3\]/);
  });

  it('constructor arguments are checked', () => {
    expect(() => new ma.nn.Linear(0, 3)).toThrow(/inputDims must be a positive integer/);
    expect(() => new ma.nn.Linear(2, 3, { bais: false } as never)).toThrow(/unknown option 'bais'/);
    expect(() => new ma.nn.Dropout(1.5)).toThrow(/p must be a probability/);
    expect(() => new ma.nn.LayerNorm(4, { eps: -1 })).toThrow(/eps must be a positive number/);
    expect(() => new ma.nn.Sequential(3 as never)).toThrow(/argument 0 must be a layer/);
  });

  it('initial weights come from the key (same key, same weights) or the seeded stream', () => {
    const a = new ma.nn.Linear(3, 3, { key: ma.random.key(4) });
    const b = new ma.nn.Linear(3, 3, { key: ma.random.key(4) });
    expect(a.weight.tolist()).toEqual(b.weight.tolist());
    const bound = 1 / Math.sqrt(3);
    expect(Number(ma.max(ma.abs(a.weight)).item())).toBeLessThanOrEqual(bound);
    ma.nn.seed(9);
    const c = new ma.nn.Embedding(4, 2);
    ma.nn.seed(9);
    const d = new ma.nn.Embedding(4, 2);
    expect(c.weight.tolist()).toEqual(d.weight.tolist());
    const e = new ma.nn.Embedding(4, 2);
    expect(e.weight.tolist()).not.toEqual(d.weight.tolist());
  });

  it('Dropout: scaled kept elements, explicit key reproducible, eval and p = 0 pass through', () => {
    const drop = new ma.nn.Dropout(0.25, { key: ma.random.key(3) });
    const x = ma.ones([4000]);
    const y = drop.forward(x);
    const values = new Set((y.tolist() as number[]).map((v) => v.toFixed(5)));
    expect([...values].sort()).toEqual(['0.00000', (1 / 0.75).toFixed(5)]);
    const kept = Number(ma.countNonzero(y).item()) / 4000;
    expect(Math.abs(kept - 0.75)).toBeLessThan(0.03);
    // Successive calls draw new masks; an explicit key repeats one.
    expect(drop.forward(x).tolist()).not.toEqual(y.tolist());
    const k = ma.random.key(8);
    expect(drop.forward(x, k).tolist()).toEqual(drop.forward(x, k).tolist());
    expect(new ma.nn.Dropout(0).forward(x)).toBe(x);
    expect(drop.eval().forward(x)).toBe(x);
  });

  it('Sequential chains layers; its parameters are named layers.i.*', () => {
    const mlp = new ma.nn.Sequential(new ma.nn.Linear(2, 3), new ma.nn.ReLU(), new ma.nn.Linear(3, 1));
    expect(mlp.forward(ma.ones([5, 2])).shape).toEqual([5, 1]);
    expect(ma.treeFlatten(mlp.parameters()).map(([p]) => p)).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']);
  });
});

describe('initializers', () => {
  it('draw the documented distributions from keys', () => {
    const key = ma.random.key(0);
    const std = (a: M) => Number(ma.std(a).item());
    expect(Math.abs(std(ma.nn.init.normal(key, [100, 100], { std: 0.5 })) - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(std(ma.nn.init.glorotNormal(key, [100, 300])) - Math.sqrt(2 / 400))).toBeLessThan(0.003);
    expect(Math.abs(std(ma.nn.init.heNormal(key, [100, 300])) - Math.sqrt(2 / 300))).toBeLessThan(0.003);
    expect(Math.abs(std(ma.nn.init.heNormal(key, [100, 300], { mode: 'fanOut', gain: 1 })) - 0.1)).toBeLessThan(0.003);
    const u = ma.nn.init.glorotUniform(key, [50, 30, 2]);
    // [out, field, in] as MLX: fanIn = in × field = 60, fanOut = out × field = 1500.
    const bound = Math.sqrt(6 / (2 * 30 + 50 * 30));
    expect(Number(ma.max(ma.abs(u)).item())).toBeLessThanOrEqual(bound);
    expect(Number(ma.max(ma.abs(u)).item())).toBeGreaterThan(bound * 0.95);
    const h = ma.nn.init.heUniform(key, [64, 16]);
    expect(Number(ma.max(ma.abs(h)).item())).toBeLessThanOrEqual(Math.sqrt(2) * Math.sqrt(3 / 16));
    const v = ma.nn.init.uniform(key, [1000], { low: 2, high: 3 });
    expect(Number(ma.min(v).item())).toBeGreaterThanOrEqual(2);
    expect(ma.nn.init.normal(key, [3], { dtype: 'float64' }).dtype).toBe('float64');
    expect(ma.nn.init.normal(key, [5]).tolist()).toEqual(ma.nn.init.normal(ma.random.key(0), [5]).tolist());
    expect(() => ma.nn.init.uniform(key, [2], { low: 1, high: 0 })).toThrow(/high \(0\) must be greater than low \(1\)/);
    expect(() => ma.nn.init.heNormal(key, [2, 2], { mode: 'in' as 'fanIn' })).toThrow(/mode must be 'fanIn' or 'fanOut'/);
  }, 120_000);
});
