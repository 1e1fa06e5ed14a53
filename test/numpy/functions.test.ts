/**
 * NumPy's comparison, math and statistics functions against NumPy's values
 * (test/fixtures/numpy_functions.py → .json): NaN, ±Inf, ±0, empty, 0-d and integer
 * inputs. Where NumPy computes an integer input in float64, metalarray uses float32
 * (the library's `float` rule); those cases state the dtype they expect.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { ArgumentError, ShapeError } from '../../src/index.js';
import { expectMatches, FIXTURES, type Fixture, input } from './fixtures.js';

type Call = (fx: Fixture) => ma.MetalArray | ma.MetalArray[];

/** Each case: its call, and the dtypes metalarray returns where they differ from NumPy's. */
const CALLS: Record<string, { call: Call; dtypes?: string[] }> = {
  isclose: { call: (f) => ma.isclose(input(f, 'a'), input(f, 'b')) },
  isclose_equal_nan_tol: { call: (f) => ma.isclose(input(f, 'a'), input(f, 'b'), { rtol: 0.05, atol: 0, equalNan: true }) },
  isclose_int: { call: (f) => ma.isclose(input(f, 'a'), input(f, 'b'), { atol: 1 }) },
  allclose_true: { call: (f) => ma.allclose(input(f, 'a'), input(f, 'b')) },
  allclose_false: { call: (f) => ma.allclose(input(f, 'a'), input(f, 'b')) },
  array_equal_nan: { call: (f) => [ma.arrayEqual(input(f, 'a'), input(f, 'b')), ma.arrayEqual(input(f, 'a'), input(f, 'b'), { equalNan: true })] },
  deg2rad: { call: (f) => ma.deg2rad(input(f, 'x')) },
  rad2deg: { call: (f) => ma.rad2deg(input(f, 'x')) },
  deg2rad_0d: { call: (f) => ma.deg2rad(input(f, 'x')) },
  deg2rad_empty: { call: (f) => ma.deg2rad(input(f, 'x')) },
  sinc: { call: (f) => ma.sinc(input(f, 'x')) },
  heaviside: { call: (f) => ma.heaviside(input(f, 'x'), input(f, 'h')) },
  logaddexp2: { call: (f) => ma.logaddexp2(input(f, 'a'), input(f, 'b')) },
  ldexp: { call: (f) => ma.ldexp(input(f, 'x'), input(f, 'e')) },
  frexp: { call: (f) => ma.frexp(input(f, 'x')) },
  modf: { call: (f) => ma.modf(input(f, 'x')) },
  nan_to_num: { call: (f) => ma.nanToNum(input(f, 'x')) },
  nan_to_num_opts: { call: (f) => ma.nanToNum(input(f, 'x'), { nan: -1, posinf: 9 }) },
  nan_to_num_int: { call: (f) => ma.nanToNum(input(f, 'x')) },
  cbrt: { call: (f) => ma.cbrt(input(f, 'x')) },
  cbrt_f32: { call: (f) => ma.cbrt(input(f, 'x')) },
  cbrt_int: { call: (f) => ma.cbrt(input(f, 'x')) },
  signbit: { call: (f) => ma.signbit(input(f, 'x')) },
  signbit_int: { call: (f) => ma.signbit(input(f, 'x')) },
  copysign: { call: (f) => ma.copysign(input(f, 'a'), input(f, 'b')) },
  hypot: { call: (f) => ma.hypot(input(f, 'a'), input(f, 'b')) },
  hypot_f32: { call: (f) => ma.hypot(input(f, 'a'), input(f, 'b')) },
  fmod: { call: (f) => ma.fmod(input(f, 'a'), input(f, 'b')) },
  fmod_int: { call: (f) => ma.fmod(input(f, 'a'), input(f, 'b')) },
  fmod_0d: { call: (f) => ma.fmod(input(f, 'a'), input(f, 'b')) },
  nansum_all: { call: (f) => ma.nansum(input(f, 'a')) },
  nansum_axis1: { call: (f) => ma.nansum(input(f, 'a'), { axis: 1 }) },
  nanmean_axis1: { call: (f) => ma.nanmean(input(f, 'a'), { axis: 1 }) },
  nanmean_axis0_keep: { call: (f) => ma.nanmean(input(f, 'a'), { axis: 0, keepdims: true }) },
  nanmax_axis1: { call: (f) => ma.nanmax(input(f, 'a'), { axis: 1 }) },
  nanmin_axis0: { call: (f) => ma.nanmin(input(f, 'a'), { axis: 0 }) },
  nanmax_int: { call: (f) => ma.nanmax(input(f, 'a'), { axis: 1 }) },
  nanargmax_axis0: { call: (f) => ma.nanargmax(input(f, 'a'), { axis: 0 }), dtypes: ['int32'] },
  nanargmin_flat: { call: (f) => ma.nanargmin(input(f, 'a')), dtypes: ['int32'] },
  nanvar_axis1: { call: (f) => ma.nanvar(input(f, 'a'), { axis: 1 }) },
  nanstd_ddof1: { call: (f) => ma.nanstd(input(f, 'a'), { axis: 1, ddof: 1 }) },
  ptp_axis1: { call: (f) => ma.ptp(input(f, 'a'), { axis: 1 }) },
  ptp_int: { call: (f) => ma.ptp(input(f, 'a')) },
  average_plain: { call: (f) => ma.average(input(f, 'a'), { axis: 0 }) },
  average_w1d: { call: (f) => ma.average(input(f, 'a'), { axis: 1, weights: input(f, 'w') }) },
  average_wfull: { call: (f) => ma.average(input(f, 'a'), { weights: input(f, 'w') }) },
  median_flat: { call: (f) => ma.median(input(f, 'a')) },
  median_axis1: { call: (f) => ma.median(input(f, 'a'), { axis: 1 }) },
  median_axis0_keep: { call: (f) => ma.median(input(f, 'a'), { axis: 0, keepdims: true }) },
  median_nan: { call: (f) => ma.median(input(f, 'a'), { axis: 1 }) },
  median_int: { call: (f) => ma.median(input(f, 'a'), { axis: 1 }), dtypes: ['float32'] },
  median_empty: { call: (f) => ma.median(input(f, 'a')) },
  median_0d: { call: (f) => ma.median(input(f, 'a')) },
  quantile_axes: { call: (f) => ma.quantile(input(f, 'a').reshape([3, 2, 2]), 0.3, { axis: [1, 2] }) },
  percentile_axis0: { call: (f) => ma.percentile(input(f, 'a'), [10, 90], { axis: 0 }) },
  nanmedian_axis1: { call: (f) => ma.nanmedian(input(f, 'a'), { axis: 1 }) },
  nanquantile_axis1: { call: (f) => ma.nanquantile(input(f, 'a'), 0.7, { axis: 1 }) },
  nanpercentile_lower: { call: (f) => ma.nanpercentile(input(f, 'a'), 40, { axis: 1, method: 'lower' }) },
};

const METHODS: ma.QuantileMethod[] = [
  'linear',
  'lower',
  'higher',
  'nearest',
  'midpoint',
  'inverted_cdf',
  'averaged_inverted_cdf',
  'closest_observation',
  'interpolated_inverted_cdf',
  'hazen',
  'weibull',
  'median_unbiased',
  'normal_unbiased',
];
const QS = [0, 0.1, 0.25, 0.5, 0.8, 1];
for (const method of METHODS) {
  CALLS[`quantile_${method}`] = { call: (f) => ma.quantile(input(f, 'a'), QS, { method }) };
  CALLS[`quantile_even_${method}`] = { call: (f) => ma.quantile(input(f, 'a'), QS, { method }) };
}

describe('NumPy functions against NumPy values', () => {
  it('every call has a fixture case', () => {
    expect(Object.keys(CALLS).filter((name) => FIXTURES[name] === undefined)).toEqual([]);
  });
  for (const [name, { call, dtypes }] of Object.entries(CALLS)) {
    it(name, () => {
      const fx = FIXTURES[name];
      const got = call(fx);
      const outs = Array.isArray(got) ? got : [got];
      expect(outs.length).toBe(fx.outputs.length);
      for (const [k, out] of outs.entries()) expectMatches(`${name}#${k}`, out, fx.outputs[k], dtypes?.[k]);
    });
  }
});

describe('argument errors', () => {
  const x = ma.array([1, 2, 3], 'float32');
  it('rejects unknown options and extra arguments', () => {
    expect(() => ma.isclose(x, x, { tol: 1 } as never)).toThrow(ArgumentError);
    expect(() => ma.nanmean(x, { axis: 0, ddof: 1 } as never)).toThrow(ArgumentError);
    expect(() => (ma.median as (...a: unknown[]) => unknown)(x, {}, 3)).toThrow(ArgumentError);
    expect(() => ma.median(x, { method: 'linear' } as never)).toThrow(ArgumentError);
  });
  it('rejects a bad q or method', () => {
    expect(() => ma.quantile(x, 1.5)).toThrow(/q must be in \[0, 1\]/);
    expect(() => ma.percentile(x, -1)).toThrow(/q must be in \[0, 100\]/);
    expect(() => ma.quantile(x, 0.5, { method: 'cubic' as never })).toThrow(/unknown method/);
  });
  it('rejects weights of the wrong shape', () => {
    expect(() => ma.average(ma.ones([2, 3]), { axis: 1, weights: ma.ones([2]) })).toThrow(ShapeError);
    expect(() => ma.average(ma.ones([2, 3]), { weights: ma.ones([3]) })).toThrow(ShapeError);
  });
});

describe('gradients through the compositions', () => {
  it('sinc has a finite gradient at 0 and the analytic one elsewhere', () => {
    const x = ma.array([0, 0.5], 'float64');
    const g = ma
      .grad((v: ma.MetalArray) => ma.sum(ma.sinc(v)))(x)
      .tolist() as number[];
    expect(g[0]).toBe(0);
    const t = Math.PI * 0.5;
    expect(g[1]).toBeCloseTo(((Math.cos(t) * t - Math.sin(t)) / (t * t)) * Math.PI, 12);
  });
  it('nanmean ignores the NaN entries in its gradient', () => {
    const x = ma.array([1, Number.NaN, 3, 4], 'float64');
    const g = ma
      .grad((v: ma.MetalArray) => ma.nanmean(v))(x)
      .tolist() as number[];
    expect(g).toEqual([1 / 3, 0, 1 / 3, 1 / 3]);
  });
  it('median passes its gradient to the middle element', () => {
    const x = ma.array([5, 1, 3], 'float64');
    const g = ma
      .grad((v: ma.MetalArray) => ma.median(v))(x)
      .tolist() as number[];
    expect(g).toEqual([0, 0, 1]);
  });
});

describe('logaddexp2 gradient', () => {
  it('splits evenly at a tie and follows 2^a / (2^a + 2^b) elsewhere', () => {
    const g = ma.grad((a: ma.MetalArray, b: ma.MetalArray) => ma.sum(ma.logaddexp2(a, b)), [0, 1]);
    const [ga, gb] = g(ma.array([1, 0], 'float64'), ma.array([1, 1], 'float64')) as ma.MetalArray[];
    expect(ga.tolist()).toEqual([0.5, 1 / 3]);
    expect((gb.tolist() as number[])[0]).toBe(0.5);
    expect((gb.tolist() as number[])[1]).toBeCloseTo(2 / 3, 14);
  });
});
