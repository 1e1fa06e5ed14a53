/**
 * vmap's API: inAxes/outAxes forms and trees, nested vmap, random keys, the errors
 * (custom kernels, reading a mapped value, bad axes), the rule table and the kernel
 * count of a batched graph.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { BATCHING_RULES } from '../../src/ops/batching-table.js';
import { NODE_KINDS, batchingRuleFor } from '../../src/transforms/batching.js';
import type { Node } from '../../src/core/node.js';
import { exampleOf, expectMapsLikeStack, expectSameArray, values } from './vmap-support.js';

const x = ma.array([
  [1, 2, 3],
  [4, 5, 6],
]);

describe('vmap: the rule table', () => {
  it('has a rule for every node kind (and a kind without one is a BatchingError naming it)', () => {
    for (const kind of NODE_KINDS) expect(typeof BATCHING_RULES[kind], kind).toBe('function');
    expect(Object.keys(BATCHING_RULES).sort()).toEqual([...NODE_KINDS].sort());
    const unknown = { kind: 'fft', op: 'rfft' } as unknown as Node;
    expect(() => batchingRuleFor(unknown)).toThrow(ma.BatchingError);
    expect(() => batchingRuleFor(unknown)).toThrow(/op 'rfft'/);
  });
});

describe('vmap: inAxes and outAxes', () => {
  it('defaults map axis 0 of every argument into axis 0 of every result', () => {
    const y = ma.vmap((a: ma.MetalArray) => a.sum())(x);
    expect(y.tolist()).toEqual([6, 15]);
  });
  it('negative axes, one number for all arguments, outAxes per result', () => {
    const f = (a: ma.MetalArray, b: ma.MetalArray): ma.MetalArray[] => [a.add(b), a.multiply(b).sum()];
    const [s, p] = ma.vmap(f, -1, [1, 0])(x, x.add(1)) as ma.MetalArray[];
    expect(s?.shape).toEqual([2, 3]);
    expect(s?.tolist()).toEqual([
      [3, 5, 7],
      [9, 11, 13],
    ]);
    expect(p?.tolist()).toEqual([2 + 20, 6 + 30, 12 + 42]);
  });
  it('trees of arguments with axes given per leaf; results as trees', () => {
    const params = { w: ma.array([1, 10, 100]), b: ma.array(0.5) };
    const batch = { inputs: x, scale: ma.array([2, 3]) };
    const f = (p: { w: ma.MetalArray; b: ma.MetalArray }, d: { inputs: ma.MetalArray; scale: ma.MetalArray }) => ({
      out: d.inputs.multiply(p.w).sum().multiply(d.scale).add(p.b),
      pair: [d.inputs.max(), p.b],
    });
    const r = ma.vmap(f, [null, { inputs: 0, scale: 0 }], { out: 0, pair: [0, null] })(params, batch);
    expect(r.out.tolist()).toEqual([(1 + 20 + 300) * 2 + 0.5, (4 + 50 + 600) * 3 + 0.5]);
    expect((r.pair[0] as ma.MetalArray).tolist()).toEqual([3, 6]);
    expect((r.pair[1] as ma.MetalArray).tolist()).toBe(0.5);
  });
  it('unmapped results are broadcast along the batch; non-array arguments pass through', () => {
    const f = (a: ma.MetalArray, k: number) => [a.multiply(k), ma.array([7, 8])];
    const [m, c] = ma.vmap(f, [0, null], [0, 1])(x, 3) as ma.MetalArray[];
    expect(m?.tolist()).toEqual([
      [3, 6, 9],
      [12, 15, 18],
    ]);
    expect(c?.tolist()).toEqual([
      [7, 7],
      [8, 8],
    ]);
  });
  it('bad axes, sizes and specs are typed errors naming vmap', () => {
    const id = (a: ma.MetalArray) => a;
    expect(() => ma.vmap(id, 2)(x)).toThrow(ma.ShapeError);
    expect(() => ma.vmap((a: ma.MetalArray, b: ma.MetalArray) => a.add(b.sum()))(x, ma.ones([3, 2]))).toThrow(/mapped axes differ in size/);
    expect(() => ma.vmap(id, null)(x)).toThrow(/no argument is mapped/);
    expect(() => ma.vmap(id, [0, 0])(x)).toThrow(/one entry per argument/);
    expect(() => ma.vmap((a: ma.MetalArray, _k: number) => a, [0, 0])(x, 3)).toThrow(/not an array/);
    expect(() => ma.vmap(id, 0, null)(x)).toThrow(ma.BatchingError);
    expect(() => ma.vmap(id, 0, 3)(x)).toThrow(/outAxes gives axis 3/);
    expect(() => ma.vmap(id, { a: 0 } as never)(x)).toThrow(ma.ArgumentError);
    expect(() => ma.vmap('f' as never)).toThrow(ma.ArgumentError);
    expect(() => (ma.vmap as (...a: unknown[]) => unknown)(id, 0, 0, 1)).toThrow(/at most 3 arguments/);
    expect(() => ma.vmap(async (a: ma.MetalArray) => a)(x)).toThrow(/Promise/);
  });
});

describe('vmap: nesting and composition through the graph', () => {
  it('vmap(vmap(f)) maps over two axes', () => {
    const m = ma.random.uniform(ma.random.key(3), [3, 4, 5]).eval();
    const w = ma.random.uniform(ma.random.key(4), [5, 2]).eval();
    const f = (v: ma.MetalArray) => ma.matmul(v, w).exp().sum();
    const got = ma.vmap(ma.vmap(f), 0, 0)(m);
    const want = ma.stack(Array.from({ length: 3 }, (_, i) => ma.stack(Array.from({ length: 4 }, (_, j) => f(m.slice(i, j))))));
    expectSameArray(got, want);
    // The outer map over axis 2 (examples [3, 4]), the inner over their axis 1 (rows
    // of 3): the max over m's axis 0, laid out [5, 4].
    const g = ma.vmap(
      ma.vmap((v: ma.MetalArray) => v.max(), 1),
      2,
      0,
    );
    expectSameArray(g(m), ma.max(m, 0).transpose());
  });
  it('a function that closes over arrays and uses evaluated closure values', () => {
    const bias = ma.array([0.5, -1, 2]).add(1); // pending when vmap traces
    const scale = ma.array(3).eval().item() as number; // a read outside the mapped values is fine
    expectMapsLikeStack((a) => a.multiply(scale).add(bias), [x.astype('float32')], [0]);
  });
});

describe('vmap: random draws', () => {
  it('a mapped key gives each example its own draws; a shared key the same draws', () => {
    const keys = ma.random.split(ma.random.key(7), 3);
    const draw = (k: ma.MetalArray) => ma.random.normal(k, [4]);
    const got = ma.vmap(draw)(keys);
    const want = ma.stack([0, 1, 2].map((b) => draw(exampleOf(keys, 0, b))));
    expectSameArray(got, want, 1e-6);
    const shared = ma.vmap((s: ma.MetalArray, k: ma.MetalArray) => ma.random.uniform(k, [2]).add(s), [0, null])(ma.zeros([3]), ma.random.key(1));
    const rows = shared.tolist() as number[][];
    expect(rows[1]).toEqual(rows[0]);
    expect(rows[2]).toEqual(rows[0]);
  });
  it('splitting a mapped key reads it on the host: a BatchingError', () => {
    const keys = ma.random.split(ma.random.key(7), 2);
    expect(() => ma.vmap((k: ma.MetalArray) => ma.random.split(k))(keys)).toThrow(ma.BatchingError);
  });
});

describe('vmap: mapped values must stay lazy inside f', () => {
  it('eval, item and toTypedArray of a mapped value are BatchingErrors; vmap still works after', () => {
    expect(() => ma.vmap((a: ma.MetalArray) => a.multiply(2).eval())(x)).toThrow(ma.BatchingError);
    expect(() => ma.vmap((a: ma.MetalArray) => ma.array(a.sum().item() as number))(x)).toThrow(/stay lazy/);
    expect(() => ma.vmap((a: ma.MetalArray) => ma.array(Array.from(a.toTypedArray() as Int32Array)))(x)).toThrow(ma.BatchingError);
    expect(
      ma
        .vmap((a: ma.MetalArray) => a.multiply(2))(x)
        .tolist(),
    ).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ]);
  });
  it('a custom kernel over a mapped value is a BatchingError (it has no batching rule)', () => {
    const double = ma.customKernel({
      name: 'vmap_double',
      source: {
        c: `void vmap_double(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
          const float *x = (const float *)bufs[0]; float *o = (float *)bufs[1];
          for (int64_t i = start; i < end; i++) o[i] = 2 * x[i] + 0 * args[0];
        }`,
      },
      outputs: [{ shape: [3], dtype: 'float32' }],
      grid: 3,
    });
    const xf = x.astype('float32');
    expect(() => ma.vmap((a: ma.MetalArray) => double.dispatch(a)[0] as ma.MetalArray)(xf)).toThrow(ma.BatchingError);
    expect(() => ma.vmap((a: ma.MetalArray) => double.dispatch(a.add(1))[0] as ma.MetalArray)(xf)).toThrow(ma.BatchingError);
  });
});

describe('vmap: no loop over the batch', () => {
  it('a fused elementwise + reduce graph runs in as many kernels batched as unbatched', () => {
    const data = ma.random.uniform(ma.random.key(11), [16, 64]).eval();
    const f = (v: ma.MetalArray) => ma.sum(ma.exp(v.multiply(2)).add(1), -1).sqrt();
    const kernels = (run: () => ma.MetalArray): number => {
      const out = run();
      ma.resetMetrics();
      out.eval();
      return ma.metrics().kernelLaunches;
    };
    const one = kernels(() => f(data.slice(0)));
    const batched = kernels(() => ma.vmap(f)(data));
    expect(one).toBeGreaterThan(0);
    expect(batched).toBe(one);
    // A mapped matmul is one batched product too, not one per example.
    const w = ma.random.uniform(ma.random.key(12), [64, 8]).eval();
    const g = (v: ma.MetalArray) =>
      ma
        .matmul(v.reshape([4, 16]).transpose(), w.slice('0:4'))
        .relu()
        .sum(0);
    expect(kernels(() => ma.vmap(g)(data))).toBe(kernels(() => g(data.slice(0))));
    expect(values(ma.vmap(g)(data)).length).toBe(16 * 8);
    // A batched vector times a shared matrix folds the batch into one product's rows: no
    // more kernels than one example's graph (the scheduler may split a [16, 64] product
    // and a [1, 64] one differently, so not always the same count).
    const mlp = (v: ma.MetalArray) => ma.logsumexp(ma.matmul(ma.matmul(v, w).relu(), w.transpose()));
    const single = kernels(() => mlp(data.slice(0)));
    expect(kernels(() => ma.vmap(mlp)(data))).toBeLessThanOrEqual(single);
    expectMapsLikeStack(mlp, [data], [0], 0, 1e-4);
  });
});
