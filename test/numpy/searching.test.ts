/**
 * NumPy's searching and counting helpers against NumPy's values
 * (test/fixtures/numpy_functions.py → .json): NaN sorting last, both sides, ascending
 * and descending bins, repeated knots, empty input. NumPy's index results are int64;
 * metalarray's are int32 (the library's index dtype).
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { ArgumentError, ShapeError } from '../../src/index.js';
import { expectMatches, FIXTURES, type Fixture, input } from './fixtures.js';

type Call = (fx: Fixture) => ma.MetalArray | ma.MetalArray[];

const CALLS: Record<string, { call: Call; dtypes?: string[] }> = {
  searchsorted: {
    call: (f) => [ma.searchsorted(input(f, 'a'), input(f, 'v')), ma.searchsorted(input(f, 'a'), input(f, 'v'), { side: 'right' })],
    dtypes: ['int32', 'int32'],
  },
  searchsorted_int: { call: (f) => ma.searchsorted(input(f, 'a'), input(f, 'v')) },
  digitize: {
    call: (f) => {
      const [x, inc, dec] = [input(f, 'x'), input(f, 'inc'), input(f, 'dec')];
      return [ma.digitize(x, inc), ma.digitize(x, inc, true), ma.digitize(x, dec), ma.digitize(x, dec, true)];
    },
    dtypes: ['int32', 'int32', 'int32', 'int32'],
  },
  isin: { call: (f) => [ma.isin(input(f, 'e'), input(f, 't')), ma.isin(input(f, 'e'), input(f, 't'), { invert: true })] },
  isin_nan: { call: (f) => ma.isin(input(f, 'e'), input(f, 't')) },
  interp: {
    call: (f) => [ma.interp(input(f, 'x'), input(f, 'xp'), input(f, 'fp')), ma.interp(input(f, 'x'), input(f, 'xp'), input(f, 'fp'), { left: -9, right: 9 })],
  },
  bincount: {
    call: (f) => [ma.bincount(input(f, 'x')), ma.bincount(input(f, 'x'), { weights: input(f, 'w') }), ma.bincount(input(f, 'x'), { minlength: 10 })],
  },
  bincount_empty: { call: (f) => ma.bincount(input(f, 'x'), { minlength: 3 }) },
};

describe('NumPy searching and counting against NumPy values', () => {
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
});

describe('argument errors', () => {
  it('names the call and the fix', () => {
    expect(() => ma.searchsorted(ma.ones([2, 2]), 1)).toThrow(ShapeError);
    expect(() => ma.searchsorted(ma.ones([2]), 1, { side: 'middle' as never })).toThrow(ArgumentError);
    expect(() => ma.bincount(ma.array([1, -1]))).toThrow(/negative value/);
    expect(() => ma.bincount(ma.array([1.5], 'float32'))).toThrow(ArgumentError);
    expect(() => ma.interp(1, ma.ones([2]), ma.ones([3]))).toThrow(ShapeError);
    expect(() => ma.isin(ma.ones([2]), ma.ones([2]), { assumeUnique: true } as never)).toThrow(/unknown option/);
  });
});
