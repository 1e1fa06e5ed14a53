/**
 * Options objects of the range creators (issue 18 §2): `linspace(0, 1, { num, endpoint,
 * dtype })`, `arange(start, stop, { step, dtype })`, `eye(n, { m, k, dtype })`,
 * `identity(n, { dtype })`, the positional forms beside them, and ArgumentError for an
 * unknown key or an extra argument.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

describe('range creators take options objects', () => {
  it('linspace', () => {
    const a = ma.linspace(0, 1, { num: 5 });
    expect(a.dtype).toBe('float32');
    expect(a.tolist()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(ma.linspace(0, 1, { num: 4, endpoint: false, dtype: 'float64' }).tolist()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(ma.linspace(0, 1, { num: 4, endpoint: false, dtype: 'float64' }).dtype).toBe('float64');
    expect(ma.linspace(0, 1, 3).tolist()).toEqual([0, 0.5, 1]);
    expect(ma.linspace(0, 1, {}).shape).toEqual([50]);
    expect(() => ma.linspace(0, 1, { num: 3, endPoint: false } as never)).toThrow(/linspace: unknown option 'endPoint'/);
    expect(() => (ma.linspace as (...args: unknown[]) => unknown)(0, 1, { num: 3 }, true)).toThrow(/linspace: takes at most 3 arguments/);
    expect(() => (ma.linspace as (...args: unknown[]) => unknown)(0, 1, 3, true, 'float32', 'extra')).toThrow(ma.ArgumentError);
    expect(() => ma.linspace(0, 1, 3, 'yes' as unknown as boolean)).toThrow(/endpoint must be a boolean/);
  });

  it('arange', () => {
    expect(ma.arange(0, 10, { step: 3, dtype: 'int16' }).tolist()).toEqual([0, 3, 6, 9]);
    expect(ma.arange(0, 10, { step: 3, dtype: 'int16' }).dtype).toBe('int16');
    expect(ma.arange(4, { dtype: 'float32' }).tolist()).toEqual([0, 1, 2, 3]);
    expect(ma.arange(4, { dtype: 'float32' }).dtype).toBe('float32');
    expect(ma.arange(1, 7, 2, { dtype: 'uint8' }).tolist()).toEqual([1, 3, 5]);
    expect(ma.arange(0, 4, { step: 2 }).dtype).toBe('int32');
    expect(ma.arange(0, 4, 1, 'int64').dtype).toBe('int64');
    expect(() => ma.arange(4, { dtpye: 'int32' } as never)).toThrow(/arange: unknown option 'dtpye'/);
    expect(() => ma.arange(0, 4, 2, { step: 2, dtype: 'int32' })).toThrow(/step given twice/);
    expect(() => (ma.arange as (...args: unknown[]) => unknown)(0, 4, 1, 'int32', 'extra')).toThrow(/arange: takes at most 4 arguments/);
  });

  it('eye and identity', () => {
    expect(ma.eye(2, { m: 3, k: 1, dtype: 'int32' }).tolist()).toEqual([
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(ma.eye(2, 3, 1, 'int32').tolist()).toEqual(ma.eye(2, { m: 3, k: 1, dtype: 'int32' }).tolist());
    expect(ma.eye(2, { k: -1 }).dtype).toBe('float32');
    expect(ma.identity(2, { dtype: 'bool' }).tolist()).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(ma.identity(2, 'int8').dtype).toBe('int8');
    expect(() => ma.eye(2, { n: 3 } as never)).toThrow(/eye: unknown option 'n'/);
    expect(() => (ma.eye as (...args: unknown[]) => unknown)(2, { k: 1 }, 1)).toThrow(/eye: takes at most 2 arguments/);
    expect(() => (ma.identity as (...args: unknown[]) => unknown)(2, 'int8', 'extra')).toThrow(/identity: takes at most 2 arguments/);
    expect(() => ma.identity(2, { dtype: 'int8', k: 1 } as never)).toThrow(/identity: unknown option 'k'/);
  });
});
