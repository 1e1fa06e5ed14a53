/**
 * The printer wraps rows at 75 characters as NumPy's repr does (its linewidth): each
 * continuation line starts under the first element, the closing `,` or `)` counts
 * against the width, and the dtype moves to a line of its own when it would run past.
 * The expected strings were printed by NumPy (`np.array2string` with metalarray's
 * implied dtypes: float32, int32 and bool print no dtype; NumPy's own are float64/int64).
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

describe('printing wraps at 75 characters, as NumPy', () => {
  it('a long int32 row', () => {
    expect(ma.arange(100).toString()).toBe(
      'array([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16,\n' +
        '       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,\n' +
        '       34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,\n' +
        '       51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67,\n' +
        '       68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84,\n' +
        '       85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99])',
    );
  });

  it('a dtype that fits after the last line stays on it', () => {
    expect(ma.arange(40, { dtype: 'int64' }).toString()).toBe(
      'array([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16,\n' +
        '       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,\n' +
        '       34, 35, 36, 37, 38, 39], dtype=int64)',
    );
  });

  it('rows of a matrix wrap under their own bracket', () => {
    expect(ma.arange(60).reshape(2, 30).toString()).toBe(
      'array([[ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,\n' +
        '        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29],\n' +
        '       [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,\n' +
        '        46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]])',
    );
  });

  it('floats aligned on the point, and the dtype on a line of its own when it would run past', () => {
    expect(ma.linspace(0, 1, { num: 13, dtype: 'float64' }).toString()).toBe(
      'array([0.        , 0.08333333, 0.16666667, 0.25      , 0.33333333,\n' +
        '       0.41666667, 0.5       , 0.58333333, 0.66666667, 0.75      ,\n' +
        '       0.83333333, 0.91666667, 1.        ], dtype=float64)',
    );
    expect(ma.arange(60).reshape(2, 30).astype('int16').toString().endsWith('58, 59]],\n      dtype=int16)')).toBe(true);
  });

  it('short arrays print on one line as before', () => {
    expect(ma.arange(5).toString()).toBe('array([0, 1, 2, 3, 4])');
  });
});
