import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

/** Reference inclusive/exclusive scans of a plain list. */
function refScan(xs: number[], fold: (a: number, b: number) => number, init: number, inclusive: boolean): number[] {
  const out: number[] = [];
  let acc = init;
  for (const x of xs) {
    if (!inclusive) out.push(acc);
    acc = fold(acc, x);
    if (inclusive) out.push(acc);
  }
  return out;
}

describe('scans', () => {
  const x = ma.array([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  it('cumsum over the flattened array, each axis, reversed and exclusive', () => {
    expect(ma.cumsum(x).tolist()).toEqual([1, 3, 6, 10, 15, 21]);
    expect(x.cumsum(1).tolist()).toEqual([
      [1, 3, 6],
      [4, 9, 15],
    ]);
    expect(x.cumsum(0).tolist()).toEqual([
      [1, 2, 3],
      [5, 7, 9],
    ]);
    expect(x.cumsum(-1, true).tolist()).toEqual([
      [6, 5, 3],
      [15, 11, 6],
    ]);
    expect(x.cumsum(1, false, false).tolist()).toEqual([
      [0, 1, 3],
      [0, 4, 9],
    ]);
    expect(x.cumsum(0, true, false).tolist()).toEqual([
      [4, 5, 6],
      [0, 0, 0],
    ]);
  });

  it('cumprod, cummax and cummin, with NaN propagating and exclusive identities', () => {
    expect(x.cumprod(1).tolist()).toEqual([
      [1, 2, 6],
      [4, 20, 120],
    ]);
    const y = ma.array([1, 3, 2, Number.NaN, 5]);
    expect(y.cummax().tolist()).toEqual([1, 3, 3, Number.NaN, Number.NaN]);
    expect(y.cummin(0, false, false).tolist()).toEqual([Number.POSITIVE_INFINITY, 1, 1, 1, Number.NaN]);
    expect(ma.cummax(ma.array([3, -2, 7], 'int8'), 0, false, false).tolist()).toEqual([-128, 3, 3]);
  });

  it('dtypes: bool and int8 accumulate in int32, int32 wraps, float16 rounds each prefix', () => {
    expect(ma.cumsum(ma.array([true, true, false])).dtype).toBe('int32');
    expect(ma.cumsum(ma.array([100, 100], 'int8')).tolist()).toEqual([100, 200]);
    expect(ma.cumsum(ma.array([100, 100], 'int8'), { dtype: 'int8' }).tolist()).toEqual([100, -56]);
    expect(ma.cumsum(ma.array([2 ** 31 - 1, 1], 'int32')).tolist()).toEqual([2 ** 31 - 1, -(2 ** 31)]);
    const h = ma.full([3000], 1, 'float16').cumsum().toTypedArray() as Float32Array;
    expect(h[2047]).toBe(2048);
    expect(h[2999]).toBe(3000); // accumulated in double, rounded to float16 per element
  });

  it('matches a reference on random data and fuses its producer', () => {
    const data = Array.from({ length: 7 * 9 }, (_, i) => Math.sin(i) * 3);
    const a = ma.array(data).reshape(7, 9);
    const got = a.exp().cumsum(1).toTypedArray() as Float32Array;
    for (let r = 0; r < 7; r++) {
      const row = data.slice(r * 9, r * 9 + 9).map((v) => Math.fround(Math.exp(Math.fround(v))));
      const ref = refScan(row, (p, q) => p + q, 0, true);
      for (let c = 0; c < 9; c++) expect(got[r * 9 + c]).toBeCloseTo(ref[c], 4);
    }
    ma.resetMetrics();
    ma.eval(a.exp().cumsum(0).multiply(2));
    expect(ma.metrics().kernelLaunches).toBe(2); // the scan, then its consumer
  });

  it('empty and zero-dimensional inputs; bad arguments are typed errors', () => {
    expect(ma.cumsum(ma.zeros([0, 3]), 1).shape).toEqual([0, 3]);
    expect(ma.cumsum(ma.zeros([2, 0]), 1).shape).toEqual([2, 0]);
    expect(ma.cumsum(ma.array(5)).tolist()).toEqual([5]);
    expect(() => ma.cumsum(ma.array(5), 0)).toThrow(ma.ArgumentError);
    expect(() => ma.cumsum(x, 2)).toThrow(ma.ShapeError);
  });
});
