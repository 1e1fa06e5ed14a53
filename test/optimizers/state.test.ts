/**
 * The optimizer's state: a tree with the step count that saves and loads (its own
 * safetensors file, or in one file with the model under a prefix), and a resumed run
 * continues exactly as an uninterrupted one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

const { optimizers } = ma;
const dir = mkdtempSync(join(tmpdir(), 'optimizers-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Params = { layers: { weight: ma.MetalArray; bias: ma.MetalArray }[] };

function initial(): Params {
  return {
    layers: [
      { weight: ma.random.normal(ma.random.key(1), [3, 5]), bias: ma.zeros([5]) },
      { weight: ma.random.normal(ma.random.key(2), [5, 2]), bias: ma.full([2], 0.5) },
    ],
  };
}

/** Deterministic gradients that depend on the parameters, as real ones do. */
function gradsOf(params: Params, step: number): Params {
  return ma.treeMap((p) => p.sin().add(0.1 * step), params);
}

function values(params: Params): number[][] {
  return ma.treeFlatten(params).map(([, p]) => Array.from(p.toTypedArray() as Float32Array));
}

function run(opt: ma.optimizers.Optimizer, params: Params, from: number, to: number): Params {
  let p = params;
  for (let step = from; step < to; step++) p = opt.applyGradients(gradsOf(p, step), p);
  return p;
}

const makers: [string, () => ma.optimizers.Optimizer][] = [
  [
    'AdamW with warmup and cosine',
    () => new optimizers.AdamW({ learningRate: optimizers.joinSchedules([optimizers.linearWarmup(0.01, 2), optimizers.cosineDecay(0.01, 4)], [2]) }),
  ],
  ['SGD with momentum', () => new optimizers.SGD({ learningRate: 0.05, momentum: 0.9, dampening: 0.2 })],
  ['RMSprop centered with momentum', () => new optimizers.RMSprop({ learningRate: 0.01, centered: true, momentum: 0.5 })],
];

describe('state save and load', () => {
  for (const [name, make] of makers) {
    it(`${name}: saveState/loadState resumes the same run`, () => {
      const straight = run(make(), initial(), 0, 6);
      const first = make();
      const half = run(first, initial(), 0, 3);
      const file = first.saveState(join(dir, name.replace(/\W+/g, '-')));
      const saved = ma.loadSafetensors(file);
      expect(saved.metadata).toEqual({ optimizer: first.name });
      expect(Object.keys(saved.arrays)).toContain('step');
      expect(saved.arrays.step?.item()).toBe(3);
      const resumed = make();
      resumed.loadState(file);
      expect(resumed.step).toBe(3);
      expect(values(run(resumed, half, 3, 6))).toEqual(values(straight));
    });
  }

  it('the state saves with the model in one file (dotted keys under a prefix) and loads back', () => {
    const opt = new optimizers.Adam({ learningRate: 0.01 });
    const params = run(opt, initial(), 0, 2);
    const file = ma.saveSafetensors(
      join(dir, 'checkpoint'),
      Object.fromEntries([...ma.treeFlatten(params, 'model'), ...ma.treeFlatten(opt.state, 'optimizer')]),
    );
    const keys = Object.keys(ma.load(file as `${string}.safetensors`));
    expect(keys).toContain('optimizer.step');
    expect(keys).toContain('optimizer.m.layers.1.bias');
    expect(keys).toContain('model.layers.0.weight');
    const tree = ma.treeUnflatten(Object.entries(ma.load(file as `${string}.safetensors`))) as { model: Params; optimizer: ma.optimizers.OptimizerState };
    const again = new optimizers.Adam({ learningRate: 0.01 });
    again.state = tree.optimizer;
    expect(again.step).toBe(2);
    expect(values(run(again, tree.model, 2, 4))).toEqual(values(run(opt, params, 2, 4)));
  });

  it('the state tree is shaped as the parameters', () => {
    const opt = new optimizers.Lion();
    run(opt, initial(), 0, 1);
    expect(ma.treeFlatten(opt.state).map(([path, a]) => [path, a.shape])).toEqual([
      ['step', []],
      ['m.layers.0.weight', [3, 5]],
      ['m.layers.0.bias', [5]],
      ['m.layers.1.weight', [5, 2]],
      ['m.layers.1.bias', [2]],
    ]);
  });

  it('a single array trains as a tree of one leaf', () => {
    const opt = new optimizers.Adam({ learningRate: 0.1 });
    const next = opt.applyGradients(ma.array([1, -1], 'float32'), ma.zeros([2]));
    expect(Array.from(next.toTypedArray() as Float32Array).map((x) => Math.round(x * 1000) / 1000)).toEqual([-0.1, 0.1]);
    expect((opt.state.m as ma.MetalArray).shape).toEqual([2]);
    const copy = new optimizers.Adam({ learningRate: 0.1 });
    copy.state = opt.state;
    expect(copy.step).toBe(1);
  });

  it('a state for other shapes, or with unknown entries, is refused with the parameter named', () => {
    const opt = new optimizers.Adam();
    run(opt, initial(), 0, 1);
    const other = initial();
    other.layers[1] = { weight: ma.zeros([5, 3]), bias: ma.zeros([3]) };
    expect(() => opt.applyGradients(gradsOf(other, 0), other)).toThrow(
      /'m' of parameter 'layers\.1\.weight' has shape \[5, 2\] but the parameter has \[5, 3\]/,
    );
    const bad = new optimizers.SGD({ learningRate: 0.1, momentum: 0.9 });
    expect(() => {
      bad.state = opt.state;
    }).toThrow(/SGD: the state has an unknown entry 'm'/);
  });
});
