/** maxPool2d / avgPool2d: values against a direct loop, derivatives by finite differences, errors. */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { checkDerivatives, prng, randomArray } from '../transforms/derivatives.js';
import { refPool2d } from './reference.js';

process.env.METALARRAY_CACHE_DIR ??= '/work/kcache';

const r = prng(2121);

describe('pooling values against a direct loop', () => {
  const cases = [
    { name: '2x2, default stride', shape: [2, 6, 4, 3], kernel: [2, 2], stride: undefined, padding: [0, 0] },
    { name: '3x3, stride 2, padding 1', shape: [1, 7, 6, 2], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
    { name: '3x2, stride [1, 2], padding [1, 0]', shape: [2, 5, 7, 1], kernel: [3, 2], stride: [1, 2], padding: [1, 0] },
  ];
  for (const c of cases) {
    for (const kind of ['max', 'mean'] as const) {
      it(`${kind} ${c.name}`, () => {
        const x = randomArray(r, c.shape);
        const data = Float64Array.from(x.reshape(-1).tolist() as number[]);
        const want = refPool2d({ data, shape: c.shape }, c.kernel, c.stride ?? c.kernel, c.padding, kind);
        const pool = kind === 'max' ? ma.maxPool2d : ma.avgPool2d;
        const got = pool(x, c.kernel, { stride: c.stride, padding: c.padding });
        expect(got.shape).toEqual(want.shape);
        const g = got.reshape(-1).tolist() as number[];
        for (let i = 0; i < g.length; i++) expect(Math.abs(g[i] - want.data[i])).toBeLessThanOrEqual(1e-12);
      });
    }
  }
});

describe('pooling derivatives (finite differences, float64)', () => {
  it('maxPool2d (distinct values, so every window has one maximum)', () => {
    checkDerivatives('maxPool2d', (x) => ma.maxPool2d(x, 3, { stride: 2, padding: 1 }), [randomArray(r, [1, 5, 5, 2])]);
  }, 120_000);
  it('avgPool2d', () => {
    checkDerivatives('avgPool2d', (x) => ma.avgPool2d(x, [2, 3], { stride: 1, padding: [1, 1] }), [randomArray(r, [1, 4, 5, 2])]);
  }, 120_000);
});

describe('pooling errors', () => {
  it('names the call and how to fix the input', () => {
    expect(() => ma.maxPool2d(ma.zeros([4, 4, 1]), 2)).toThrow(/maxPool2d: the input must be \[N, H, W, C\]/);
    expect(() => ma.avgPool2d(ma.zeros([1, 4, 4, 1], 'int32'), 2)).toThrow(ma.DTypeError);
    expect(() => ma.maxPool2d(ma.zeros([1, 4, 4, 1]), 2, { padding: 2 })).toThrow(/padding \(2\) must be between 0 and half the kernel size/);
    expect(() => ma.maxPool2d(ma.zeros([1, 2, 2, 1]), 3)).toThrow(/shorter than the dilated kernel/);
    expect(() => ma.maxPool2d(ma.zeros([1, 4, 4, 1]), 2, { dilation: 2 } as ma.PoolOptions)).toThrow(/unknown option 'dilation'/);
  });
});
