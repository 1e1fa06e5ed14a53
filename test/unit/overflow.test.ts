/**
 * Values and shapes that don't fit (issue 16 §3): a JS value converted to an integer
 * dtype it does not fit is an OverflowError naming the value and the dtype (NumPy 2's
 * rule), not a silently saturated or wrapped element; a shape of more than 2^53 - 1
 * elements, or a dimension that is not a safe non-negative integer, is a ShapeError.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

function overflowMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ma.OverflowError);
    expect(e).toBeInstanceOf(ma.MetalArrayError);
    return (e as Error).message;
  }
  throw new Error('expected an OverflowError, nothing was thrown');
}

describe('OverflowError for values an integer dtype cannot hold', () => {
  it('the three cases of the issue throw instead of saturating or wrapping', () => {
    expect(overflowMessage(() => ma.array([2 ** 40, 3e9], 'int32'))).toMatch(/^array: 1099511627776 is out of range for int32 \(-2147483648 to 2147483647\)/);
    expect(overflowMessage(() => ma.full([2], 300, 'uint8'))).toMatch(/^full: 300 is out of range for uint8 \(0 to 255\)/);
    expect(overflowMessage(() => ma.array([2n ** 64n]))).toMatch(/^array: 18446744073709551616n is out of range for int64/);
  });

  it('the message names the value that does not fit, not its neighbours', () => {
    expect(overflowMessage(() => ma.array([1, 2, 3e9], 'int32'))).toContain('3000000000 is out of range for int32');
    expect(overflowMessage(() => ma.array([[0], [-1]], 'uint16'))).toContain('-1 is out of range for uint16');
  });

  it('NaN and ±Infinity have no integer value', () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(overflowMessage(() => ma.array([v], 'int64'))).toContain(`${v} cannot be converted to int64`);
      expect(overflowMessage(() => ma.full([1], v, 'uint32'))).toContain(`${v} cannot be converted to uint32`);
    }
  });

  it('every integer dtype is exact at both ends of its range and throws one past them', () => {
    const ranges: [ma.DType, bigint, bigint][] = [
      ['int8', -128n, 127n],
      ['uint8', 0n, 255n],
      ['int16', -32768n, 32767n],
      ['uint16', 0n, 65535n],
      ['int32', -(2n ** 31n), 2n ** 31n - 1n],
      ['uint32', 0n, 2n ** 32n - 1n],
      ['int64', -(2n ** 63n), 2n ** 63n - 1n],
      ['uint64', 0n, 2n ** 64n - 1n],
    ];
    for (const [dtype, lo, hi] of ranges) {
      const wide = dtype.endsWith('64');
      const edges = ma.array([lo, hi], dtype).tolist() as (number | bigint)[];
      expect(
        edges.map((v) => BigInt(v)),
        dtype,
      ).toEqual([lo, hi]);
      expect(BigInt(ma.full([1], hi, dtype).item() as number | bigint)).toBe(hi);
      overflowMessage(() => ma.array([hi + 1n], dtype));
      overflowMessage(() => ma.array([lo - 1n], dtype));
      overflowMessage(() => ma.full([1], hi + 1n, dtype));
      if (!wide) {
        // The same through JS numbers.
        overflowMessage(() => ma.array([Number(hi) + 1], dtype));
        overflowMessage(() => ma.full([3], Number(lo) - 1, dtype));
      }
    }
    // 2**63 as a double is one past int64's maximum, though the double comparison passes.
    overflowMessage(() => ma.array([2 ** 63], 'int64'));
    overflowMessage(() => ma.array([2 ** 64], 'uint64'));
  });

  it('non-integral numbers truncate toward zero as in NumPy (np.array([1.9], int) is 1)', () => {
    expect(ma.array([1.9, -1.9, 0.5, -0.5], 'int32').tolist()).toEqual([1, -1, 0, 0]);
    expect(ma.full([2], -0.9, 'uint8').tolist()).toEqual([0, 0]);
    expect(ma.array([255.99], 'uint8').tolist()).toEqual([255]);
    overflowMessage(() => ma.array([256.5], 'uint8'));
    overflowMessage(() => ma.array([-1.5], 'uint8'));
  });

  it('typed arrays, the *Like functions and fromNdarray check the same way', () => {
    overflowMessage(() => ma.array(Float64Array.of(1, 3e9), 'int32'));
    overflowMessage(() => ma.array(Int32Array.of(-1), 'uint32'));
    overflowMessage(() => ma.array(BigInt64Array.of(-1n), 'uint64'));
    expect(ma.array(Uint8ClampedArray.of(0, 255), 'uint8').tolist()).toEqual([0, 255]);
    const template = ma.zeros([2], 'int8');
    expect(overflowMessage(() => ma.fullLike(template, 128))).toMatch(/^fullLike: 128 is out of range for int8/);
    expect(ma.fullLike(template, -128).tolist()).toEqual([-128, -128]);
    expect(ma.onesLike(template).tolist()).toEqual([1, 1]);
    expect(ma.zerosLike(template, 'uint64').dtype).toBe('uint64');
  });

  it('booleans, floats and astype keep their conversions', () => {
    expect(ma.array([true, false], 'uint8').tolist()).toEqual([1, 0]);
    expect(ma.array([300, -1], 'bool').tolist()).toEqual([true, true]);
    expect(ma.full([1], 1e40, 'float32').item()).toBe(Number.POSITIVE_INFINITY);
    // astype is the documented saturating conversion.
    expect(ma.array([300, -300, Number.NaN]).astype('int8').tolist()).toEqual([127, -128, 0]);
  });

  it('weak scalars in arithmetic keep wrapping into the array dtype (documented C semantics)', () => {
    expect(ma.array([1, 250], 'uint8').add(300).tolist()).toEqual([45, 38]);
  });
});

describe('ShapeError for shapes past 2^53 - 1 elements or with bad dimensions', () => {
  it('creation', () => {
    expect(() => ma.full([2 ** 27, 2 ** 27], 1)).toThrow(ma.ShapeError);
    expect(() => ma.zeros([2 ** 27, 2 ** 27])).toThrow(/zeros: shape \[134217728, 134217728\] has more than 2\^53 - 1 elements/);
    expect(() => ma.ones([2 ** 53])).toThrow(ma.ShapeError);
    expect(() => ma.zeros([2.5])).toThrow(ma.ShapeError);
    expect(() => ma.zeros([-1])).toThrow(ma.ShapeError);
    // A zero dimension makes any other dimension's size harmless.
    expect(ma.zeros([0, 2 ** 40]).shape).toEqual([0, 2 ** 40]);
    expect(ma.zeros([2 ** 26, 2 ** 26]).size).toBe(2 ** 52);
  });

  it('reshape and broadcastTo', () => {
    const a = ma.zeros([0]);
    expect(() => a.reshape([2 ** 30, 2 ** 30, 2 ** 30, 0, 2 ** 60])).toThrow(ma.ShapeError);
    expect(() => ma.zeros([4]).reshape([-1, -1])).toThrow(/only one dimension may be -1/);
    expect(() => ma.zeros([4]).reshape([-2, -2])).toThrow(ma.ShapeError);
    expect(ma.zeros([4]).reshape([-1, 2]).shape).toEqual([2, 2]);
    expect(() => ma.zeros([1]).broadcastTo([2 ** 30, 2 ** 30])).toThrow(/broadcastTo: shape \[1073741824, 1073741824\] has more than 2\^53 - 1 elements/);
  });

  it('results whose shape no argument named (a broadcast of two operands)', () => {
    const column = ma.zeros([2 ** 30, 1]);
    const row = ma.zeros([1, 2 ** 30]);
    expect(() => column.add(row)).toThrow(ma.ShapeError);
    expect(() => column.add(row)).toThrow(/more than 2\^53 - 1 elements/);
  });
});
