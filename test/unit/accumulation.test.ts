/**
 * Integer accumulation as MLX and JAX (issue 18 §1): sum, prod, cumsum and cumprod of
 * bool and integers narrower than 32 bits accumulate in and return int32 (uint32 for
 * unsigned); every one takes a `dtype` option. Each case is checked against the
 * reference oracle (test/reference), which computes exactly with bigints. Also the
 * options-object forms of the reductions and scans and their argument checks.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import * as R from '../reference/index.js';

const NARROW: readonly ma.DType[] = ['bool', 'int8', 'int16', 'uint8', 'uint16'];
const WIDE: readonly ma.DType[] = ['int32', 'uint32', 'int64', 'uint64'];

/** Values of `dtype` near its top (so a sum in the dtype itself would wrap), as JS values. */
function extremeValues(dtype: ma.DType, n: number): (number | bigint | boolean)[] {
  const info = R.DTYPES[dtype];
  if (dtype === 'bool') return Array.from({ length: n }, (_, i) => i % 3 !== 2);
  const top = info.max as bigint;
  const big = info.big;
  return Array.from({ length: n }, (_, i) => {
    const v = top - BigInt(i % 5);
    return big ? v : Number(v);
  });
}

const asFlat = (a: ma.MetalArray): unknown[] => Array.from(a.toTypedArray() as ArrayLike<unknown>);
const refFlat = (a: R.RefArray): unknown[] => R.toFlat(a);

describe('integer accumulation', () => {
  it('the sum of a 512×512 uint8 image of 200s is 52,428,800 (uint32), not 0', () => {
    const image = ma.full([512, 512], 200, 'uint8');
    const s = ma.sum(image);
    expect(s.dtype).toBe('uint32');
    expect(s.item()).toBe(52_428_800);
    expect(image.sum().item()).toBe(52_428_800);
    expect(ma.sum(image, { axis: 1 }).dtype).toBe('uint32');
    expect(ma.sum(image, 0).slice(0).item()).toBe(512 * 200);
  });

  for (const dtype of NARROW) {
    const accumulate = R.accumulationDType(dtype);
    it(`${dtype}: sum, prod, cumsum, cumprod accumulate in ${accumulate} and match the oracle`, () => {
      const values = extremeValues(dtype, 12);
      const x = ma.array(values as ma.NestedArray, dtype).reshape(3, 4);
      const rx = R.reshape(R.array(values, dtype), [3, 4]);
      for (const axis of [undefined, 0, 1] as const) {
        const s = ma.sum(x, { axis });
        expect(s.dtype).toBe(accumulate);
        expect(asFlat(s)).toEqual(refFlat(R.sum(rx, axis)));
        const p = ma.prod(x, { axis });
        expect(p.dtype).toBe(accumulate);
        expect(asFlat(p)).toEqual(refFlat(R.prod(rx, axis)));
      }
      const c = ma.cumsum(x, { axis: 1 });
      expect(c.dtype).toBe(accumulate);
      expect(asFlat(c)).toEqual(refFlat(R.cumsum(rx, 1)));
      const cp = ma.cumprod(x, { axis: 0, reverse: true });
      expect(cp.dtype).toBe(accumulate);
      expect(asFlat(cp)).toEqual(refFlat(R.cumprod(rx, 0, true)));
    });
  }

  for (const dtype of WIDE) {
    it(`${dtype}: keeps its dtype and wraps, as the oracle`, () => {
      const values = extremeValues(dtype, 6);
      const x = ma.array(values as ma.NestedArray, dtype);
      const rx = R.array(values, dtype);
      expect(ma.sum(x).dtype).toBe(dtype);
      expect(asFlat(ma.sum(x))).toEqual(refFlat(R.sum(rx)));
      expect(asFlat(ma.cumsum(x))).toEqual(refFlat(R.cumsum(rx)));
      expect(asFlat(ma.prod(x))).toEqual(refFlat(R.prod(rx)));
      expect(asFlat(ma.cumprod(x))).toEqual(refFlat(R.cumprod(rx)));
    });
  }

  it('the dtype option chooses the accumulation dtype', () => {
    const x = ma.array([200, 100], 'uint8');
    expect(ma.sum(x, { dtype: 'uint8' }).item()).toBe(44); // 300 wraps in uint8, as NumPy's sum(dtype=uint8)
    expect(ma.sum(x, { dtype: 'int64' }).item()).toBe(300n);
    expect(ma.sum(x, { dtype: 'float32' }).dtype).toBe('float32');
    expect(ma.prod(x, { dtype: 'uint16' }).item()).toBe(20000);
    expect(ma.cumsum(x, { dtype: 'int16' }).tolist()).toEqual([200, 300]);
    expect(ma.cumprod(x, { dtype: 'float64' }).tolist()).toEqual([200, 20000]);
    expect(ma.mean(ma.array([1, 2], 'int32'), { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => ma.mean(x, { dtype: 'int32' })).toThrow(ma.DTypeError);
    expect(() => ma.sum(x, { dtype: 'int31' as ma.DType })).toThrow(ma.DTypeError);
    // The composites that sum bool or integers keep their result dtypes.
    expect(ma.countNonzero(x).dtype).toBe('int32');
    expect(ma.mean(x).dtype).toBe('float32');
  });
});

describe('options objects of the reductions and scans', () => {
  const x = ma.array(
    [
      [1, 5, 2],
      [7, 0, 3],
    ],
    'float32',
  );

  /** Float results within a few float32 ulps (the GPU backends' log/exp/sqrt may differ in the last bit). */
  const near = (got: unknown, want: readonly number[]): void => {
    const values = (got as number[]).flat();
    expect(values.length).toBe(want.length);
    for (const [i, v] of values.entries()) {
      expect(Math.abs(v - (want[i] as number))).toBeLessThanOrEqual(4e-7 * Math.max(1, Math.abs(want[i] as number)));
    }
  };

  it('each takes its NumPy keywords as options, the positional forms still work', () => {
    expect(ma.sum(x, { axis: 1, keepdims: true }).tolist()).toEqual([[8], [10]]);
    expect(ma.sum(x, 1, true).tolist()).toEqual([[8], [10]]);
    expect(x.sum({ axis: 0 }).tolist()).toEqual([8, 5, 5]);
    expect(ma.max(x, { axis: 0 }).tolist()).toEqual([7, 5, 3]);
    expect(ma.min(x, { axis: 1, keepdims: true }).shape).toEqual([2, 1]);
    expect(ma.argmax(x, { axis: 1 }).tolist()).toEqual([1, 0]);
    expect(x.argmin({ axis: 0, keepdims: true }).tolist()).toEqual([[0, 1, 0]]);
    expect(ma.any(x, { axis: 1 }).tolist()).toEqual([true, true]);
    expect(ma.all(x, { axis: 1 }).tolist()).toEqual([true, false]);
    near(ma.mean(x, { axis: 1 }).tolist(), [8 / 3, 10 / 3]);
    expect(ma.var(ma.array([1, 2, 3, 4]), { ddof: 1 }).item()).toBeCloseTo(5 / 3, 6);
    near(x.std({ axis: 0 }).tolist(), [3, 2.5, 0.5]);
    near(ma.logsumexp(ma.zeros([2, 2]), { axis: 1 }).tolist(), [Math.LN2, Math.LN2]);
    near(ma.softmax(ma.zeros([2, 2]), { axis: 0 }).tolist(), [0.5, 0.5, 0.5, 0.5]);
    near(ma.logSoftmax(ma.zeros([2]), { axis: -1 }).tolist(), [-Math.LN2, -Math.LN2]);
    expect(ma.countNonzero(x, { axis: 0 }).tolist()).toEqual([2, 1, 2]);
    expect(ma.norm(ma.array([[3, 4]]), { ord: 1, axis: 1 }).tolist()).toEqual([7]);
    expect(ma.norm(ma.array([3, 4])).item()).toBe(5);
    expect(ma.cumsum(x, { axis: 1, reverse: true }).tolist()).toEqual([
      [8, 7, 2],
      [10, 3, 3],
    ]);
    expect(x.cummax({ axis: 0, inclusive: false }).tolist()).toEqual([
      [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
      [1, 5, 2],
    ]);
    expect(ma.cummin(x, 1, true).tolist()).toEqual([
      [1, 2, 2],
      [0, 0, 3],
    ]);
  });

  it('an unknown option key or an extra argument throws ArgumentError naming the function', () => {
    const bad = { axis: 1, keepdim: true } as unknown as ma.ReduceOptions;
    expect(() => ma.sum(x, bad)).toThrow(/sum: unknown option 'keepdim'/);
    expect(() => x.max(bad)).toThrow(ma.ArgumentError);
    expect(() => ma.mean(x, { axis: 1 }, true as never)).toThrow(/mean: takes at most 2 arguments/);
    expect(() => (ma.sum as (...args: unknown[]) => unknown)(x, 0, false, 'extra')).toThrow(/sum: takes at most 3 arguments, got 4/);
    expect(() => (x.sum as (...args: unknown[]) => unknown)(0, false, 'extra')).toThrow(/sum: takes at most 3 arguments/);
    expect(() => ma.softmax(x, { axis: 0, keepdims: true } as never)).toThrow(/softmax: unknown option 'keepdims'/);
    expect(() => ma.cumsum(x, { axis: 0, keepdims: true } as never)).toThrow(/cumsum: unknown option 'keepdims'/);
    expect(() => ma.cummax(x, { dtype: 'int32' } as never)).toThrow(/cummax: unknown option 'dtype'/);
    expect(() => (ma.cumsum as (...args: unknown[]) => unknown)(x, 0, false, true, 1)).toThrow(ma.ArgumentError);
    expect(() => ma.norm(x, { ord: 2, axes: 1 } as never)).toThrow(/norm: unknown option 'axes'/);
    expect(() => ma.sum(x, { keepdims: 1 as unknown as boolean })).toThrow(/keepdims must be a boolean/);
    expect(() => ma.var(x, { ddof: 'one' as unknown as number })).toThrow(/ddof must be a finite number/);
  });
});
