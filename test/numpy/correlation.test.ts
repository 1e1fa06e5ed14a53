/**
 * cov, corrcoef and histogram against NumPy's values (test/fixtures/numpy_functions.py
 * → .json). NumPy's counts are int64; metalarray's int32.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { ArgumentError, ShapeError } from '../../src/index.js';
import { expectMatches, FIXTURES, type Fixture, input } from './fixtures.js';

type Call = (fx: Fixture) => ma.MetalArray | ma.MetalArray[];

const CALLS: Record<string, { call: Call; dtypes?: (string | undefined)[] }> = {
  cov: {
    call: (f) => {
      const m = input(f, 'm');
      return [ma.cov(m), ma.cov(m, { rowvar: false }), ma.cov(m, { bias: true }), ma.cov(m, { ddof: 0 }), ma.cov(m, { y: input(f, 'y') })];
    },
  },
  cov_1d_int: { call: (f) => ma.cov(input(f, 'm')), dtypes: ['float32'] },
  corrcoef: { call: (f) => [ma.corrcoef(input(f, 'm')), ma.corrcoef(input(f, 'm'), { rowvar: false })] },
  histogram: {
    call: (f) => {
      const a = input(f, 'a');
      return [
        ...ma.histogram(a),
        ...ma.histogram(a, { bins: 4, range: [0, 4] }),
        ma.histogram(a, { bins: 3, weights: input(f, 'w') })[0],
        ma.histogram(a, { bins: 5, density: true })[0],
      ];
    },
    dtypes: ['int32', undefined, 'int32'],
  },
  histogram_edges: { call: (f) => ma.histogram(input(f, 'a'), { bins: input(f, 'e') })[0] },
  histogram_constant: { call: (f) => ma.histogram(input(f, 'a'), { bins: 4 }), dtypes: ['int32'] },
};

describe('cov, corrcoef and histogram against NumPy values', () => {
  for (const [name, { call, dtypes }] of Object.entries(CALLS)) {
    it(name, () => {
      const fx = FIXTURES[name];
      expect(fx, `fixture ${name}`).toBeDefined();
      const got = call(fx);
      const outs = Array.isArray(got) ? got : [got];
      expect(outs.length).toBe(fx.outputs.length);
      for (const [k, out] of outs.entries()) expectMatches(`${name}#${k}`, out, fx.outputs[k], dtypes?.[k]);
    });
  }
  it('cov differentiates through its mean and product', () => {
    const g = ma.grad((x: ma.MetalArray) => ma.cov(x))(ma.array([1, 2, 4], 'float64'));
    // d var / d x_i = 2 (x_i - mean) / (n - 1)
    const mean = 7 / 3;
    const want = [1, 2, 4].map((v) => (2 * (v - mean)) / 2);
    for (const [i, v] of (g.tolist() as number[]).entries()) expect(v).toBeCloseTo(want[i], 12);
  });
});

describe('argument errors', () => {
  it('names the call and the fix', () => {
    expect(() => ma.cov(ma.ones([2, 2, 2]))).toThrow(ShapeError);
    expect(() => ma.corrcoef(ma.ones([2, 2]), { bias: true } as never)).toThrow(/unknown option/);
    expect(() => ma.histogram(ma.ones([3]), { bins: 0 })).toThrow(ArgumentError);
    expect(() => ma.histogram(ma.ones([3]), { range: [2, 1] })).toThrow(ArgumentError);
    expect(() => ma.histogram(ma.ones([3]), { bins: ma.ones([1]) })).toThrow(ShapeError);
  });
});
