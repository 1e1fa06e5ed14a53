/**
 * NumPy's building and shaping helpers against NumPy's values
 * (test/fixtures/numpy_functions.py → .json), and their argument errors.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { ArgumentError, ShapeError } from '../../src/index.js';
import { expectMatches, FIXTURES, type Fixture, input } from './fixtures.js';

type Call = (fx: Fixture) => ma.MetalArray | ma.MetalArray[];

const CALLS: Record<string, { call: Call; dtypes?: string[] }> = {
  atleast3d_2d: { call: (f) => ma.atleast3d(input(f, 'a')) },
  vstack: { call: (f) => ma.vstack([input(f, 'a'), input(f, 'b')]) },
  hstack_2d: { call: (f) => ma.hstack([input(f, 'a'), input(f, 'b')]) },
  dstack: { call: (f) => ma.dstack([input(f, 'a'), input(f, 'b')]) },
  column_stack: { call: (f) => ma.columnStack([input(f, 'a'), input(f, 'b')]) },
  diagonal_offsets: {
    call: (f) => [
      ma.diagonal(input(f, 'a')),
      ma.diagonal(input(f, 'a'), { offset: 1 }),
      ma.diagonal(input(f, 'a'), { offset: -2 }),
      ma.diagonal(input(f, 'a'), { offset: 5 }),
    ],
  },
  diagonal_axes: { call: (f) => ma.diagonal(input(f, 'a'), { offset: 1, axis1: 2, axis2: 0 }) },
  trace_int: { call: (f) => ma.trace(input(f, 'a')), dtypes: ['int32'] },
  trace_axes: { call: (f) => ma.trace(input(f, 'a'), { offset: -1, axis1: 1, axis2: 2 }) },
  diag_vector: { call: (f) => [ma.diag(input(f, 'v')), ma.diag(input(f, 'v'), 2), ma.diag(input(f, 'v'), -1)] },
  diag_matrix: { call: (f) => [ma.diag(input(f, 'a')), ma.diag(input(f, 'a'), -1)] },
  diagflat: { call: (f) => ma.diagflat(input(f, 'a'), 1) },
  diff: {
    call: (f) => {
      const a = input(f, 'a');
      return [ma.diff(a), ma.diff(a, { n: 2, axis: 0 }), ma.diff(a, { axis: 1, prepend: 0.5, append: a.slice(':, :1') })];
    },
  },
  diff_int_bool: { call: (f) => [ma.diff(input(f, 'a'), { axis: 0 }), ma.diff(input(f, 'b'))] },
  meshgrid: {
    call: (f) => [...ma.meshgrid([input(f, 'x'), input(f, 'y')]), ...ma.meshgrid([input(f, 'x'), input(f, 'y'), input(f, 'z')], { indexing: 'ij' })],
  },
  rot90: {
    call: (f) => {
      const a = input(f, 'a');
      return [ma.rot90(a), ma.rot90(a, 2), ma.rot90(a, -1, [1, 2]), ma.rot90(a, 3, [2, 0])];
    },
  },
  polyval: { call: (f) => ma.polyval(input(f, 'p'), input(f, 'x')) },
};

describe('NumPy building and shaping against NumPy values', () => {
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
  it('polyval with JS coefficients matches the array form', () => {
    const x = ma.array([-1, 0.5, 3], 'float64');
    expect(ma.polyval([2, -1, 0.5], x).tolist()).toEqual(ma.polyval(ma.array([2, -1, 0.5], 'float64'), x).tolist());
  });
  it('meshgrid sparse gives broadcastable axes', () => {
    const [X, Y] = ma.meshgrid([ma.arange(3), ma.arange(2)], { sparse: true });
    expect([X.shape, Y.shape]).toEqual([
      [1, 3],
      [2, 1],
    ]);
  });
  it('trace and diag differentiate through their gathers', () => {
    const g = ma.grad((a: ma.MetalArray) => ma.trace(a))(ma.ones([2, 3], 'float64'));
    expect(g.tolist()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
  });
});

describe('argument errors', () => {
  it('names the call and the fix', () => {
    expect(() => ma.diagonal(ma.ones([3]))).toThrow(ShapeError);
    expect(() => ma.diagonal(ma.ones([3, 3]), { axis1: 1, axis2: 1 })).toThrow(ArgumentError);
    expect(() => ma.diag(ma.ones([2, 2, 2]))).toThrow(ShapeError);
    expect(() => ma.diff(ma.ones([3]), { n: -1 })).toThrow(ArgumentError);
    expect(() => ma.diff(ma.ones([3]), { order: 1 } as never)).toThrow(/unknown option 'order'/);
    expect(() => ma.vstack([])).toThrow(ArgumentError);
    expect(() => ma.rot90(ma.ones([3]))).toThrow(ShapeError);
    expect(() => ma.meshgrid([ma.ones([2])], { indexing: 'yx' as never })).toThrow(ArgumentError);
  });
});
