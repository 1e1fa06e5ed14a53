/**
 * Issue 18 §1, JavaScript semantics: each problem listed at the top of the issue, as a
 * new user hits it in plain JavaScript, has a test here (each failed before the change).
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

/** A MetalArray as plain JavaScript sees it in `+`, `>`... (TypeScript rejects the operators on objects). */
const js = (a: ma.MetalArray): number => a as unknown as number;

/** Calls `fn` with extra arguments, as plain JavaScript may (TypeScript would refuse). */
const loose = (fn: unknown): ((...args: unknown[]) => unknown) => fn as (...args: unknown[]) => unknown;

describe('conversion to primitives (Symbol.toPrimitive)', () => {
  it('a size-1 array converts to its number, bigint or boolean', () => {
    const a = ma.array([1, 2, 3]);
    expect(js(a.sum()) + 1).toBe(7); // was the string "array(6)1"
    expect(js(a.max()) > 2).toBe(true);
    expect(Number(ma.array([[2.5]]))).toBe(2.5);
    expect(BigInt(js(ma.array([2n ** 60n])))).toBe(2n ** 60n); // int64: a bigint, exactly
    expect(`${ma.array([1, 2])}`).toBe('array([1, 2])'); // a string conversion is the repr
    const any = ma.array([0, 0]).any();
    expect(js(any) + 0).toBe(0); // false + 0: the boolean converts (`if (any)` would still be taken: objects are truthy)
    expect(any.item()).toBe(false);
  });

  it('a larger array throws a TypeError naming its shape and pointing to item()/toTypedArray()', () => {
    const a = ma.zeros([2, 3]);
    expect(() => js(a) + 1).toThrow(TypeError);
    expect(() => js(a) + 1).toThrow(/shape \[2, 3\].*toTypedArray\(\)/);
    expect(() => Number(ma.zeros([0]))).toThrow(/shape \[0\]/);
  });
});

describe('toJSON', () => {
  it('JSON.stringify gives nested lists (was {})', () => {
    expect(
      JSON.stringify(
        ma.array([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toBe('[[1,2],[3,4]]');
    expect(JSON.stringify({ w: ma.array([0.5, 1.5]) })).toBe('{"w":[0.5,1.5]}');
    expect(JSON.stringify(ma.array([true, false]))).toBe('[true,false]');
    expect(JSON.stringify(ma.array(7))).toBe('7');
  });

  it('wide integers are numbers where exact, else decimal strings; NaN and Infinity are null', () => {
    expect(JSON.stringify(ma.array([3n, -(2n ** 53n) + 1n]))).toBe(`[3,${-(2 ** 53) + 1}]`);
    expect(JSON.stringify(ma.array([2n ** 60n], 'uint64'))).toBe('["1152921504606846976"]');
    expect(JSON.stringify(ma.array([Number.NaN, Number.POSITIVE_INFINITY, 1]))).toBe('[null,null,1]');
  });
});

describe('iteration', () => {
  it('destructures random.split keys and walks axis 0 as views', () => {
    const [k1, k2] = ma.random.split(ma.random.key(0));
    expect(k1.shape).toEqual([2]);
    expect(k2.shape).toEqual([2]);
    const rows = [...ma.arange(6).reshape(3, 2)];
    expect(rows.map((r) => r.tolist())).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(() => [...ma.array(3)]).toThrow(TypeError);
  });
});

describe('printing', () => {
  it('util.inspect and toString print as NumPy repr, large arrays summarized', () => {
    const a = ma.array([
      [1, 2],
      [3, 4],
    ]);
    expect(inspect(a)).toBe('array([[1, 2],\n       [3, 4]])');
    expect(String(a)).toBe(a.toString());
    expect(ma.arange(2000).toString()).toBe('array([   0,    1,    2, ..., 1997, 1998, 1999])');
  });

  it('floats align on the decimal point and switch to scientific as NumPy does', () => {
    expect(ma.array([0, 0.25, 0.5, 0.75]).toString()).toBe('array([0.  , 0.25, 0.5 , 0.75])');
    expect(ma.array([1.25, 10.5, 100]).toString()).toBe('array([  1.25,  10.5 , 100.  ])');
    expect(ma.array([1.5e-5, 1]).toString()).toBe('array([1.5e-05, 1.0e+00])');
    expect(ma.array([1e8, 1], 'float32').toString()).toBe('array([1.e+08, 1.e+00])');
    expect(ma.array([Number.NaN, 1.5, Number.NEGATIVE_INFINITY]).toString()).toBe('array([ nan,  1.5, -inf])');
    expect(ma.array([0.1 + 0.2], 'float64').toString()).toBe('array([0.3], dtype=float64)');
    // Wrapped at 75 characters, as NumPy prints it.
    expect(ma.arange(0, 2000, 1, 'float32').toString()).toBe('array([0.000e+00, 1.000e+00, 2.000e+00, ..., 1.997e+03, 1.998e+03,\n       1.999e+03])');
  });
});

describe('dtype inference as MLX', () => {
  it('whole JS numbers make int32, a fraction float32, and int32 lists index', () => {
    expect(ma.array([0, 2]).dtype).toBe('int32');
    expect(ma.array([[1, -3]]).dtype).toBe('int32');
    expect(ma.array([0, 2.5]).dtype).toBe('float32');
    expect(ma.array([0, 2], 'float32').dtype).toBe('float32');
    expect(ma.array([2 ** 40]).dtype).toBe('int64');
    expect(ma.array([true, 1]).dtype).toBe('int32');
    expect(ma.array([Number.NaN, 1]).dtype).toBe('float32');
    expect(ma.take(ma.array([10, 20, 30]), ma.array([2, 0])).tolist()).toEqual([30, 10]);
    // int32 division is true division
    expect(
      ma
        .array([1, 3])
        .divide(ma.array([2, 2]))
        .tolist(),
    ).toEqual([0.5, 1.5]);
    expect(ma.array([1, 3]).divide(2).dtype).toBe('float32');
  });

  it('a float index array is an error saying how to fix it', () => {
    const idx = ma.array([0, 2], 'float32');
    expect(() => ma.arange(5).slice(idx)).toThrow(ma.DTypeError);
    expect(() => ma.arange(5).slice(idx)).toThrow(/float32 \[2\].*astype\('int32'\)/);
    expect(() => ma.take(ma.arange(5), idx)).toThrow(/astype\('int32'\)/);
  });
});

describe('a JS list in slice and at is an index array; ranges are ma.range or strings', () => {
  const a = ma.arange(8).reshape(8, 1);
  it('slice([1, 3, 5]) gathers rows 1, 3 and 5 (was the range 1:3:5)', () => {
    expect(a.slice([1, 3, 5]).tolist()).toEqual([[1], [3], [5]]);
    expect(ma.slice(a, [-1, 0], 0).tolist()).toEqual([7, 0]);
    expect(ma.arange(4).slice([true, false, true, false]).tolist()).toEqual([0, 2]);
    expect(ma.arange(4).slice([]).shape).toEqual([0]);
  });

  it('ma.range and the string form are ranges, and agree', () => {
    expect(a.slice(ma.range(1, 5, 2)).tolist()).toEqual(a.slice('1:5:2').tolist());
    expect(a.slice(ma.range(1, 5, 2)).tolist()).toEqual([[1], [3]]);
    expect(ma.arange(5).slice(ma.range(3)).tolist()).toEqual([0, 1, 2]);
    expect(
      ma
        .arange(5)
        .slice(ma.range(null, null, -2))
        .tolist(),
    ).toEqual([4, 2, 0]);
    expect(String(ma.range(null, 5, 2))).toBe(':5:2');
    expect(() => ma.range(0, 5, 0)).toThrow(ma.ArgumentError);
    expect(() => ma.range(0.5)).toThrow(ma.ArgumentError);
  });

  it('at() takes lists as index arrays too', () => {
    expect(ma.zeros([5], 'int32').at([1, 3]).set(7).tolist()).toEqual([0, 7, 0, 7, 0]);
    expect(ma.zeros([5], 'int32').at(ma.range(1, 3)).add(1).tolist()).toEqual([0, 1, 1, 0, 0]);
  });

  it('the old list-as-range form with a null says how to write a range now', () => {
    expect(() => a.slice([1, null] as unknown as number[])).toThrow(ma.ArgumentError);
    expect(() => a.slice([1, null] as unknown as number[])).toThrow(/ma\.range\(start, stop, step\)/);
  });
});

describe('round(x, decimals) as NumPy', () => {
  it('rounds to decimals, half to even (was: decimals ignored)', () => {
    expect(ma.round(ma.array([0.5, 1.5, 2.5, -0.5])).tolist()).toEqual([0, 2, 2, -0]);
    expect(ma.round(ma.array([1.2345, -0.125, 0.375], 'float64'), 2).tolist()).toEqual([1.23, -0.12, 0.38]);
    expect(ma.round(ma.array([1234.5, 1250, 1350]), -2).tolist()).toEqual([1200, 1200, 1400]);
    expect(ma.round(ma.array([1.25], 'float32'), 1).dtype).toBe('float32');
  });

  it('integers keep their value for decimals >= 0 and round exactly for negative decimals', () => {
    expect(ma.round(ma.array([15, 25, -15, -25, 26, 1234]), -1).tolist()).toEqual([20, 20, -20, -20, 30, 1230]);
    expect(ma.round(ma.array([150, 250], 'uint8'), -2).tolist()).toEqual([200, 200]);
    expect(ma.round(ma.array([7, 8]), 2).tolist()).toEqual([7, 8]);
    expect(ma.round(ma.array([2n ** 62n + 5n]), -1).tolist()).toEqual([2n ** 62n + 6n]); // ...909 → ...910, exactly
    expect(() => ma.round(ma.array([1.5]), 0.5)).toThrow(ma.ArgumentError);
  });

  it('the method takes decimals too', () => {
    expect(ma.array([1.25, 2.35], 'float64').round(1).tolist()).toEqual([1.2, 2.4]);
    expect(ma.array([0.5, 1.5]).round().tolist()).toEqual([0, 2]);
  });
});

describe('distributions take their parameters in an options object', () => {
  const key = ma.random.key(7);
  it('normal(key, shape, { loc, scale }); the old extra positionals throw instead of being ignored', () => {
    const z = ma.random.normal(key, [20000], { loc: 5, scale: 2 });
    expect(Math.abs((ma.mean(z).item() as number) - 5)).toBeLessThan(0.1);
    expect(Math.abs((ma.std(z).item() as number) - 2)).toBeLessThan(0.1);
    expect(() => loose(ma.random.normal)(key, [3], 'float32', 5, 2)).toThrow(ma.ArgumentError);
    expect(() => ma.random.normal(key, [3], { mean: 5 } as unknown as ma.random.NormalOptions)).toThrow(/unknown option 'mean'/);
    expect(ma.random.normal(key, [3], 'float64').dtype).toBe('float64');
  });

  it('uniform, randint, bernoulli, truncatedNormal, categorical and permutation take options; positional forms still work', () => {
    const u = ma.random.uniform(key, [1000], { low: 10, high: 12 });
    expect(ma.min(u).item()).toBeGreaterThanOrEqual(10);
    expect(ma.max(u).item()).toBeLessThan(12);
    expect(u.tolist()).toEqual(ma.random.uniform(key, [1000], 'float32', 10, 12).tolist());
    const r = ma.random.randint(key, [1000], { low: 1, high: 7, dtype: 'int16' });
    expect(r.dtype).toBe('int16');
    expect(r.tolist()).toEqual(ma.random.randint(key, [1000], 1, 7, 'int16').tolist());
    expect(ma.random.bernoulli(key, [50], { p: 0.3 }).tolist()).toEqual(ma.random.bernoulli(key, 0.3, [50]).tolist());
    const t = ma.random.truncatedNormal(key, [100], { lower: -1, upper: 0.5 });
    expect(t.tolist()).toEqual(ma.random.truncatedNormal(key, -1, 0.5, [100]).tolist());
    const logits = ma.zeros([4, 3]);
    expect(ma.random.categorical(key, logits, { axis: 0 }).tolist()).toEqual(ma.random.categorical(key, logits, 0).tolist());
    expect(ma.random.permutation(key, ma.arange(6).reshape(2, 3), { axis: 1 }).shape).toEqual([2, 3]);
    expect(() => ma.random.uniform(key, [2], { lo: 1 } as unknown as ma.random.UniformOptions)).toThrow(ma.ArgumentError);
    expect(() => ma.random.randint(key, [2], { low: 1 } as unknown as ma.random.RandintOptions)).toThrow(ma.ArgumentError);
  });
});

describe('no argument is silently ignored', () => {
  const x = ma.array([1, 2, 3]);
  it.each([
    ['exp', () => loose(ma.exp)(x, 2)],
    ['add', () => loose(ma.add)(x, 1, 2)],
    ['round', () => loose(ma.round)(x, 1, 2)],
    ['array', () => loose(ma.array)([1], 'int32', 'extra')],
    ['zeros', () => loose(ma.zeros)([2], 'int32', true)],
    ['reshape', () => loose(ma.reshape)(x, [3], 1)],
    ['concatenate', () => loose(ma.concatenate)([x, x], 0, 1)],
    ['take', () => loose(ma.take)(x, [0], 0, {}, 1)],
    ['take options', () => ma.take(x, [0], 0, { mode: 'clip', fill: 1 } as unknown as ma.GatherOptions)],
    ['at().set options', () => x.at(0).set(1, { mode: 'drop', fillValue: 1 } as unknown as ma.ScatterOptions)],
    ['sort', () => loose(ma.sort)(x, 0, true)],
    ['matmul', () => loose(ma.matmul)(x, x, x)],
    ['arange', () => loose(ma.arange)(0, 5, 1, 'int32', 1)],
    ['random.split', () => loose(ma.random.split)(ma.random.key(0), 2, 3)],
    ['exp', () => loose(x.exp).call(x, 2)],
    ['add', () => loose(x.add).call(x, 1, 2)],
    ['round', () => loose(x.round).call(x, 1, 2)],
    ['item', () => loose(x.slice(0).item).call(x.slice(0), 0)],
    ['setFusion', () => loose(ma.setFusion)(true, 1)],
    ['customKernel', () => ma.customKernel({ name: 'k', source: { c: '' }, outputs: [], grid: 1, thread: 4 } as unknown as ma.CustomKernelSpec)],
    ['toTypedArray options', () => x.toTypedArray({ copy: true, fast: true } as unknown as ma.ReadOptions)],
  ])('%s throws ArgumentError naming the function', (name, call) => {
    expect(call).toThrow(ma.ArgumentError);
    expect(call).toThrow(new RegExp(name.split(' ')[0].replace(/[().]/g, '\\$&')));
  });
});
