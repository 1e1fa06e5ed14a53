/**
 * The Module base class: the parameter tree, update, freeze, training mode, printing,
 * safetensors weights (round trip and the errors naming the key) and nn.valueAndGrad.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

type M = ma.MetalArray;

const dir = mkdtempSync(join(tmpdir(), 'nn-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class Block extends ma.nn.Module {
  norm = new ma.nn.LayerNorm(4);
  heads = [new ma.nn.Linear(4, 4, { key: ma.random.key(1) }), new ma.nn.Linear(4, 2, { key: ma.random.key(2), bias: false })];
  extra = { scale: ma.ones([2]) };
  notAParameter = 3;
  _cache = ma.zeros([7]);
  forward(x: M): M {
    const h = this.heads[0] as ma.nn.Linear;
    const o = this.heads[1] as ma.nn.Linear;
    return o.forward(h.forward(this.norm.forward(x))).multiply(this.extra.scale);
  }
}

const paths = (tree: unknown) => ma.treeFlatten(tree).map(([p]) => p);

describe('Module: parameters, children, update', () => {
  it('finds parameters in properties, sublayers, lists and objects (not _private ones or numbers)', () => {
    const b = new Block();
    expect(paths(b.parameters())).toEqual(['norm.weight', 'norm.bias', 'heads.0.weight', 'heads.0.bias', 'heads.1.weight', 'extra.scale']);
    expect(b.children().map(([n]) => n)).toEqual(['norm', 'heads.0', 'heads.1']);
    expect(b.parameterCount()).toBe(4 + 4 + 16 + 4 + 8 + 2);
  });

  it('update replaces parameters (partial trees), checks shapes and names unknown keys', () => {
    const b = new Block();
    b.update({ heads: [{}, { weight: ma.full([2, 4], 2) }], extra: { scale: ma.full([2], 3) } });
    expect((b.heads[1] as ma.nn.Linear).weight.tolist()).toEqual([
      [2, 2, 2, 2],
      [2, 2, 2, 2],
    ]);
    expect(b.extra.scale.tolist()).toEqual([3, 3]);
    expect(() => b.update({ heads: [{ weight: ma.ones([3, 3]) }] })).toThrow(/'heads\.0\.weight' has shape \[4, 4\], the new value has shape \[3, 3\]/);
    expect(() => b.update({ norm: { gamma: ma.ones([4]) } })).toThrow(/no parameter 'norm\.gamma'/);
    expect(() => b.update({ notAParameter: ma.ones([1]) })).toThrow(ma.ArgumentError);
    expect(() => b.update({ _cache: ma.ones([7]) })).toThrow(/no parameter '_cache'/);
  });
});

describe('Module: freeze, train/eval, printing', () => {
  it('freeze and unfreeze all, by parameter path or by sublayer path', () => {
    const b = new Block();
    b.freeze('heads.0');
    expect(paths(b.trainableParameters())).toEqual(['norm.weight', 'norm.bias', 'heads.1.weight', 'extra.scale']);
    b.freeze(['norm.bias', 'extra']);
    expect(paths(b.trainableParameters())).toEqual(['norm.weight', 'heads.1.weight']);
    expect(b.parameterCount(true)).toBe(4 + 8);
    b.unfreeze();
    expect(paths(b.trainableParameters())).toHaveLength(6);
    b.freeze();
    expect(paths(b.trainableParameters())).toEqual([]);
    expect(() => b.freeze('heads.7')).toThrow(/no parameter or sublayer 'heads\.7'/);
  });

  it('train(false)/eval() reach every sublayer; Dropout follows them', () => {
    const model = new ma.nn.Sequential(new ma.nn.Linear(2, 2), new ma.nn.Dropout(0.5, { key: ma.random.key(0) }));
    expect(model.training).toBe(true);
    model.eval();
    expect(model.children().every(([, m]) => m.training === false)).toBe(true);
    const x = ma.ones([3, 2]);
    expect(model.forward(x).tolist()).toEqual((model.layers[0] as ma.nn.Linear).forward(x).tolist());
    model.train();
    expect(model.layers[1]?.training).toBe(true);
  }, 120_000);

  it('prints layers and parameter counts (toString and util.inspect)', async () => {
    const model = new ma.nn.Sequential(new ma.nn.Linear(4, 3), new ma.nn.ReLU(), new ma.nn.LayerNorm(3));
    model.freeze('layers.2');
    const text = String(model);
    expect(text).toBe(
      [
        'Sequential(',
        '  (layers.0): Linear(inputDims=4, outputDims=3, bias=true)  15 parameters',
        '  (layers.1): ReLU()',
        '  (layers.2): LayerNorm(dims=3, eps=0.00001, affine=true)  6 parameters',
        ')  21 parameters (15 trainable)',
      ].join('\n'),
    );
    const { inspect } = await import('node:util');
    expect(inspect(model)).toBe(text);
  });
});

describe('Module: saveWeights / loadWeights', () => {
  it('round trip with dotted PyTorch-style names, frozen parameters included', () => {
    const a = new Block();
    a.freeze('norm');
    const file = a.saveWeights(join(dir, 'block'));
    expect(file.endsWith('.safetensors')).toBe(true);
    expect(Object.keys(ma.loadSafetensors(file).arrays).sort()).toEqual(
      ['extra.scale', 'heads.0.bias', 'heads.0.weight', 'heads.1.weight', 'norm.bias', 'norm.weight'].sort(),
    );
    const b = new Block();
    b.update({ norm: { weight: ma.full([4], 9) } });
    b.loadWeights(file);
    for (const [[pa, va], [pb, vb]] of ma.treeFlatten(a.parameters()).map((e, i) => [e, ma.treeFlatten(b.parameters())[i]] as const)) {
      expect(pb).toBe(pa);
      expect(vb?.tolist()).toEqual(va.tolist());
    }
  });

  it('a missing or extra key is an error naming it; strict: false loads the subset', () => {
    const small = new ma.nn.Linear(4, 4, { bias: false });
    const file = small.saveWeights(join(dir, 'small.safetensors'));
    const withBias = new ma.nn.Linear(4, 4);
    expect(() => withBias.loadWeights(file)).toThrow(/missing parameter 'bias'/);
    expect(() => withBias.loadWeights(file)).toThrow(ma.FileError);
    const extraFile = ma.saveSafetensors(join(dir, 'extra.safetensors'), { weight: ma.ones([4, 4]), bias: ma.ones([4]), 'layers.9.weight': ma.ones([1]) });
    expect(() => withBias.loadWeights(extraFile)).toThrow(/unexpected key 'layers\.9\.weight'/);
    withBias.loadWeights(file, { strict: false });
    expect(withBias.weight.tolist()).toEqual(small.weight.tolist());
  });

  it('a shape mismatch names the parameter and both shapes; dtype is cast to the parameter', () => {
    const file = ma.saveSafetensors(join(dir, 'shape.safetensors'), { weight: ma.ones([3, 4]), bias: ma.ones([3]) });
    const layer = new ma.nn.Linear(4, 4);
    expect(() => layer.loadWeights(file)).toThrow(/parameter 'weight' has shape \[4, 4\], the file .* holds shape \[3, 4\]/);
    const f16 = ma.saveSafetensors(join(dir, 'f16.safetensors'), { weight: ma.ones([4, 4], 'float16'), bias: ma.zeros([4], 'float16') });
    layer.loadWeights(f16);
    expect(layer.weight.dtype).toBe('float32');
  });
});

describe('nn.valueAndGrad', () => {
  it('gives gradients of the trainable parameters equal to ma.grad of the explicit function, and restores the model', () => {
    const model = new ma.nn.Sequential(new ma.nn.Linear(3, 4, { key: ma.random.key(5) }), new ma.nn.Tanh(), new ma.nn.Linear(4, 2, { key: ma.random.key(6) }));
    const x = ma.random.normal(ma.random.key(7), [5, 3]);
    const y = ma.array([0, 1, 1, 0, 1], 'int32');
    const before = model.parameters();
    const [loss, grads] = ma.nn.valueAndGrad(model, (xs: M, ys: M) => ma.nn.crossEntropy(model.forward(xs), ys))(x, y);
    // The same loss as an explicit function of the parameter tree.
    type P = { layers: { weight: M; bias: M }[] };
    const explicit = (p: P) => {
      const [l0, , l2] = p.layers as [{ weight: M; bias: M }, unknown, { weight: M; bias: M }];
      const h = ma.tanh(ma.matmul(x, l0.weight.transpose()).add(l0.bias));
      return ma.nn.crossEntropy(ma.matmul(h, l2.weight.transpose()).add(l2.bias), y);
    };
    const want = ma.grad(explicit)(model.parameters() as unknown as P) as unknown as P;
    expect(loss.item()).toBeCloseTo(explicit(model.parameters() as unknown as P).item() as number, 6);
    const got = ma.treeFlatten(grads);
    const expected = ma.treeFlatten(want);
    expect(got.map(([p]) => p)).toEqual(expected.map(([p]) => p));
    for (const [i, [path, g]] of got.entries()) {
      const err = Number(ma.max(ma.abs(g.subtract(expected[i]?.[1] as M))).item());
      expect(err, path).toBeLessThan(1e-6);
    }
    // The model holds its own arrays again, not the trace's.
    for (const [i, [, v]] of ma.treeFlatten(model.parameters()).entries()) expect(v).toBe(ma.treeFlatten(before)[i]?.[1]);
  }, 300_000);

  it('frozen parameters get no gradient; hasAux returns the aux untouched', () => {
    const model = new ma.nn.Linear(2, 1, { key: ma.random.key(0) });
    model.freeze('weight');
    const x = ma.ones([4, 2]);
    const [[loss, aux], grads] = ma.nn.valueAndGrad(model, (xs: M): [M, { n: number }] => [model.forward(xs).sum(), { n: 4 }], { hasAux: true })(x);
    expect(Object.keys(grads)).toEqual(['bias']);
    expect((grads.bias as M).tolist()).toEqual([4]);
    expect(aux).toEqual({ n: 4 });
    expect(loss.shape).toEqual([]);
  });

  it('bad arguments are typed errors', () => {
    const model = new ma.nn.Linear(2, 1);
    expect(() => ma.nn.valueAndGrad({} as ma.nn.Module, () => ma.zeros([]))).toThrow(/model must be an ma\.nn\.Module/);
    expect(() => ma.nn.valueAndGrad(model, 3 as unknown as () => M)).toThrow(ma.ArgumentError);
    expect(() => ma.nn.valueAndGrad(model, (() => ma.zeros([])) as never, { hasAux: true, extra: 1 } as never)).toThrow(/unknown option 'extra'/);
  });
});
