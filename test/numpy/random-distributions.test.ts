/**
 * The inverse-CDF distributions of ma.random against their moments and quantiles, with
 * fixed keys (deterministic: the same draws every run, so no flakes). Bounds are about
 * five standard errors of each estimate at n = 100000.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { DTypeError } from '../../src/index.js';

const N = 100_000;
const value = (x: ma.MetalArray): number => x.item() as number;

describe('random distributions by moments and quantiles', () => {
  it('exponential: mean scale, variance scale², all positive', () => {
    const x = ma.random.exponential(ma.random.key(11), [N], { scale: 2 });
    expect(Math.abs(value(ma.mean(x)) - 2)).toBeLessThan(0.035);
    expect(Math.abs(value(ma.var(x)) - 4)).toBeLessThan(0.2);
    expect(value(ma.min(x))).toBeGreaterThan(0);
  });
  it('gumbel: mean loc + γ scale, variance π²/6 scale²', () => {
    const x = ma.random.gumbel(ma.random.key(12), [N], { loc: 1, scale: 2, dtype: 'float64' });
    expect(x.dtype).toBe('float64');
    expect(Math.abs(value(ma.mean(x)) - (1 + 2 * 0.5772156649))).toBeLessThan(0.045);
    expect(Math.abs(value(ma.var(x)) - (4 * Math.PI ** 2) / 6)).toBeLessThan(0.25);
  });
  it('laplace: mean loc, variance 2 scale², median loc', () => {
    const x = ma.random.laplace(ma.random.key(13), [N], { loc: -3, scale: 0.5 });
    expect(Math.abs(value(ma.mean(x)) + 3)).toBeLessThan(0.012);
    expect(Math.abs(value(ma.var(x)) - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(value(ma.median(x)) + 3)).toBeLessThan(0.012);
  });
  it('logistic: mean loc, variance π²/3 scale²', () => {
    const x = ma.random.logistic(ma.random.key(14), [N], { loc: 2 });
    expect(Math.abs(value(ma.mean(x)) - 2)).toBeLessThan(0.03);
    expect(Math.abs(value(ma.var(x)) - Math.PI ** 2 / 3)).toBeLessThan(0.12);
  });
  it('cauchy: quartiles at loc ± scale', () => {
    const x = ma.random.cauchy(ma.random.key(15), [N], { scale: 3 });
    const [q1, q2, q3] = ma.quantile(x, [0.25, 0.5, 0.75]).tolist() as number[];
    expect(Math.abs(q1 + 3)).toBeLessThan(0.1);
    expect(Math.abs(q2)).toBeLessThan(0.06);
    expect(Math.abs(q3 - 3)).toBeLessThan(0.1);
  });
  it('the same key gives the same draws, a split key different ones', () => {
    const k = ma.random.key(1);
    const a = ma.random.gumbel(k, [5]).tolist();
    expect(ma.random.gumbel(k, [5]).tolist()).toEqual(a);
    expect(ma.random.gumbel(ma.random.split(k).slice(0), [5]).tolist()).not.toEqual(a);
  });
  it('rejects unknown options and a bad key', () => {
    expect(() => ma.random.exponential(ma.random.key(1), [2], { loc: 1 } as never)).toThrow(/unknown option 'loc'/);
    expect(() => ma.random.cauchy(ma.ones([2]), [2])).toThrow(DTypeError);
  });
});
