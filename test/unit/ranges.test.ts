/**
 * arange and linspace: lazy (iota nodes, no host values), NumPy's values (checked
 * against NumPy itself when python3-numpy is here, as the io tests do), int64 when an
 * integer range needs it, and OverflowError for a range its dtype cannot hold.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { numpyMissingReason, PYTHON } from '../io/numpy.js';

const missing = numpyMissingReason();

/** NumPy's values of a Python expression, as the JS numbers they print as (repr of float, or int). */
function numpy(expr: string): string[] {
  const code = `import numpy as np\nfor x in ${expr}: print(repr(x.item()))`;
  const out = execFileSync(PYTHON, ['-c', code], { encoding: 'utf8', maxBuffer: 1 << 26 }).trim();
  return out === '' ? [] : out.split('\n').map((v) => (v === 'nan' ? 'NaN' : String(Number(v))));
}

function values(a: ma.MetalArray): string[] {
  return Array.from(a.toTypedArray() as ArrayLike<number | bigint>, (v) => String(typeof v === 'bigint' ? v : Number(v)));
}

const CASES: [string, () => ma.MetalArray, string][] = [
  ['arange(5)', () => ma.arange(5), 'np.arange(5)'],
  ['arange(2**31 - 2, 2**31 + 2)', () => ma.arange(2 ** 31 - 2, 2 ** 31 + 2), 'np.arange(2**31 - 2, 2**31 + 2)'],
  ['arange(-2**31 - 2, -2**31 + 2)', () => ma.arange(-(2 ** 31) - 2, -(2 ** 31) + 2), 'np.arange(-2**31 - 2, -2**31 + 2)'],
  ['arange(10, -7, -3)', () => ma.arange(10, -7, -3), 'np.arange(10, -7, -3)'],
  ['arange(0.1, 1e5, 7.3) float32', () => ma.arange(0.1, 1e5, 7.3), 'np.arange(0.1, 1e5, 7.3, dtype=np.float32)'],
  ['arange(0.1, 1e3, 0.37) float64', () => ma.arange(0.1, 1e3, 0.37, 'float64'), 'np.arange(0.1, 1e3, 0.37, dtype=np.float64)'],
  ['arange(-3, 5, 0.3) float16', () => ma.arange(-3, 5, 0.3, 'float16'), 'np.arange(-3, 5, 0.3, dtype=np.float16)'],
  ['arange(10, -3, -1.5) float32', () => ma.arange(10, -3, -1.5), 'np.arange(10, -3, -1.5, dtype=np.float32)'],
  ['arange(0.5, 3) int32', () => ma.arange(0.5, 3, 1, 'int32'), 'np.arange(0.5, 3, dtype=np.int32)'],
  ['arange(1, 250, 7) uint8', () => ma.arange(1, 250, 7, 'uint8'), 'np.arange(1, 250, 7, dtype=np.uint8)'],
  ['arange(3, 3)', () => ma.arange(3, 3), 'np.arange(3, 3)'],
  ['linspace(0, 1, 7)', () => ma.linspace(0, 1, 7), 'np.linspace(0, 1, 7, dtype=np.float32)'],
  ['linspace(-2.5, 1e3/3, 1001) float64', () => ma.linspace(-2.5, 1e3 / 3, 1001, true, 'float64'), 'np.linspace(-2.5, 1e3/3, 1001, dtype=np.float64)'],
  ['linspace(1, 2, 10, endpoint=false) float64', () => ma.linspace(1, 2, 10, false, 'float64'), 'np.linspace(1, 2, 10, endpoint=False, dtype=np.float64)'],
  ['linspace(3, 4, 1) float64', () => ma.linspace(3, 4, 1, true, 'float64'), 'np.linspace(3, 4, 1, dtype=np.float64)'],
  ['linspace(5, -5, 0)', () => ma.linspace(5, -5, 0), 'np.linspace(5, -5, 0, dtype=np.float32)'],
  ['linspace(0, 1e-320, 3) float64', () => ma.linspace(0, 1e-320, 3, true, 'float64'), 'np.linspace(0, 1e-320, 3, dtype=np.float64)'],
];

describe.skipIf(missing !== null)(`arange and linspace give NumPy's values${missing ? ` (skipped: ${missing})` : ''}`, { timeout: 300_000 }, () => {
  for (const [what, make, expr] of CASES) {
    it(what, () => {
      expect(values(make())).toEqual(numpy(expr));
    });
  }
});

describe('arange and linspace', { timeout: 300_000 }, () => {
  it('pick int64 when an integer range needs it (was: int32 repeating 2147483647)', () => {
    const a = ma.arange(2 ** 31 - 2, 2 ** 31 + 2);
    expect(a.dtype).toBe('int64');
    expect(a.tolist()).toEqual([2147483646n, 2147483647n, 2147483648n, 2147483649n]);
    expect(ma.arange(2 ** 31 - 1).dtype).toBe('int32');
    expect(ma.arange(2 ** 31 + 1).dtype).toBe('int64');
  });

  it('are lazy: arange(3e9) and linspace(0, 1, 3e9) allocate nothing on the host until read', () => {
    const before = process.memoryUsage().rss;
    const a = ma.arange(3e9);
    const l = ma.linspace(0, 1, 3e9);
    expect(a.shape).toEqual([3e9]);
    expect(a.dtype).toBe('int64');
    expect(l.shape).toEqual([3e9]);
    // far less than the 24 GB of host values the old code built; reading a window computes only it
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
    expect(a.slice(ma.range(2999999998, null)).tolist()).toEqual([2999999998n, 2999999999n]);
    expect(l.slice(ma.range(-1, null)).tolist()).toEqual([1]);
    expect(l.slice(ma.range(0, 2)).tolist()).toEqual([0, Math.fround(1 / (3e9 - 1))]);
  });

  it('throw OverflowError naming the value and the dtype for a range the dtype cannot hold', () => {
    expect(() => ma.arange(300, undefined, 1, 'uint8')).toThrow(ma.OverflowError);
    expect(() => ma.arange(300, undefined, 1, 'uint8')).toThrow(/value 299 .* uint8/);
    expect(() => ma.arange(-1, 3, 1, 'uint32')).toThrow(/value -1 .* uint32/);
    expect(() => ma.arange(2 ** 31 - 2, 2 ** 31 + 2, 1, 'int32')).toThrow(ma.OverflowError);
    expect(ma.arange(0, 256, 1, 'uint8').slice(ma.range(-1, null)).tolist()).toEqual([255]);
  });

  it('reject bad arguments with typed errors', () => {
    expect(() => ma.arange(0, 10, 0)).toThrow(ma.ArgumentError);
    expect(() => ma.arange(Number.NaN)).toThrow(ma.ArgumentError);
    expect(() => ma.arange(0, 2 ** 60)).toThrow(ma.ShapeError);
    expect(() => ma.linspace(0, 1, 2 ** 60)).toThrow(ma.ShapeError);
    expect(() => ma.linspace(0, 1, -1)).toThrow(ma.ArgumentError);
  });
});
