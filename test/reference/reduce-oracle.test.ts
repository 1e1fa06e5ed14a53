/**
 * Unit tests of the oracle's reductions, scans, matrix products and exact rounding,
 * against hand-computed values (NumPy's results where they agree with the library's
 * documented semantics).
 */
import { describe, expect, it } from 'vitest';
import * as R from './index.js';
import type { DType, RefArray, Scalar } from './index.js';

const flat = (a: RefArray): Scalar[] => R.toFlat(a);
const arr = (values: R.NestedInput, dtype?: DType): RefArray => R.array(values, dtype);
const F32 = R.DTYPES.float32.format as R.FloatFormat;
const F16 = R.DTYPES.float16.format as R.FloatFormat;

describe('exact rounding', () => {
  it('roundScaled: ties to even, subnormals, overflow', () => {
    expect(R.roundScaled(3n, -1, F32)).toBe(1.5);
    expect(R.roundScaled((1n << 24n) + 1n, 0, F32)).toBe(16777216); // tie → even
    expect(R.roundScaled((1n << 24n) + 3n, 0, F32)).toBe(16777220);
    expect(R.roundScaled((1n << 24n) + 1n, 0, F32, true)).toBe(16777218); // just above the tie
    expect(R.roundScaled(1n, -149, F32)).toBe(2 ** -149);
    expect(R.roundScaled(1n, -150, F32)).toBe(0); // half the smallest subnormal: tie to 0
    expect(R.roundScaled(3n, -151, F32)).toBe(2 ** -149);
    expect(R.roundScaled(65520n, 0, F16)).toBe(Number.POSITIVE_INFINITY);
    expect(R.roundScaled(65519n, 0, F16)).toBe(65504);
    expect(R.roundScaled(-5n, 0, F16)).toBe(-5);
  });

  it('quotients and square roots', () => {
    expect(R.roundQuotient(1n, 0, 3n, F32)).toBe(Math.fround(1 / 3));
    expect(R.roundQuotient(-2n, 0, 3n, R.FLOAT64_FORMAT)).toBe(-2 / 3);
    expect(R.roundSqrtQuotient(2n, 1n, 0, R.FLOAT64_FORMAT)).toBe(Math.SQRT2);
    expect(R.roundSqrtQuotient(1n, 2n, 0, F32)).toBe(Math.fround(Math.SQRT1_2));
    expect(R.roundSqrtQuotient(9n, 4n, 0, F16)).toBe(1.5);
    expect(R.isqrt(99n)).toBe(9n);
    expect(R.isqrt(100n)).toBe(10n);
  });

  it('scaled values are exact', () => {
    expect(R.scaledOf(1)).toBe(1n << 1074n);
    expect(R.scaledOf(-(2 ** -1074))).toBe(-1n);
    expect(R.scaledProduct(3, 0.5)).toBe(3n << 2147n);
    expect(R.bitLength(255n)).toBe(8);
    expect(R.bitLength(256n)).toBe(9);
  });
});

describe('reductions', () => {
  const x = arr(
    [
      [1, 5, 2],
      [7, -3, 0],
    ],
    'int8',
  );

  it('sum, prod, max, min over axes, lists, negative axes, keepdims', () => {
    expect(flat(R.sum(x))).toEqual([12]);
    expect(flat(R.sum(x, 0))).toEqual([8, 2, 2]);
    expect(R.shapeOf(R.sum(x, -1, true))).toEqual([2, 1]);
    expect(flat(R.sum(x, [1, 0]))).toEqual([12]);
    expect(flat(R.prod(x, 1))).toEqual([10, 0]);
    expect(flat(R.max(x, 0))).toEqual([7, 5, 2]);
    expect(flat(R.min(x, null))).toEqual([-3]);
    expect(() => R.sum(x, [0, -2])).toThrow(R.ShapeError);
    expect(() => R.sum(x, 2)).toThrow(R.ShapeError);
  });

  it('narrow integers and bool accumulate in int32/uint32; 32- and 64-bit integers wrap', () => {
    expect(flat(R.sum(arr([100, 100], 'int8')))).toEqual([200]);
    expect(R.sum(arr([100, 100], 'int8')).dtype).toBe('int32');
    expect(flat(R.prod(arr([16, 16], 'uint8')))).toEqual([256]);
    expect(R.prod(arr([16, 16], 'uint8')).dtype).toBe('uint32');
    expect(flat(R.sum(arr([2 ** 31 - 1, 1], 'int32')))).toEqual([-(2 ** 31)]);
    expect(flat(R.sum(arr([2n ** 62n, 2n ** 62n], 'int64')))).toEqual([-(2n ** 63n)]);
    const b = R.sum(arr([true, true, false]));
    expect(b.dtype).toBe('int32');
    expect(flat(b)).toEqual([2]);
    expect(R.prod(arr([true, true])).dtype).toBe('int32');
  });

  it('float sums are exact and rounded once; specials', () => {
    expect(flat(R.sum(arr([1e30, 1, -1e30], 'float64')))).toEqual([1]);
    expect(flat(R.sum(arr([2048, 1, 1], 'float16')))).toEqual([2050]); // exact 2050, no double rounding
    expect(flat(R.sum(arr([60000, 60000, -60000], 'float16')))).toEqual([60000]);
    expect(flat(R.sum(arr([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], 'float32')))[0]).toBeNaN();
    expect(flat(R.sum(arr([Number.POSITIVE_INFINITY, 1], 'float32')))).toEqual([Number.POSITIVE_INFINITY]);
    expect(flat(R.prod(arr([0, Number.POSITIVE_INFINITY], 'float32')))[0]).toBeNaN();
    expect(flat(R.prod(arr([2 ** 100, 2 ** 100, 2 ** -150], 'float64')))).toEqual([2 ** 50]);
    expect(flat(R.prod(arr([-2, 3], 'bfloat16')))).toEqual([-6]);
  });

  it('empty reductions: identities, or ShapeError for max/min/argmax', () => {
    const e = R.zeros([0, 3], 'float32');
    expect(flat(R.sum(e, 0))).toEqual([0, 0, 0]);
    expect(flat(R.prod(e, 0))).toEqual([1, 1, 1]);
    expect(flat(R.any(e, 0))).toEqual([0, 0, 0]);
    expect(flat(R.all(e, 0))).toEqual([1, 1, 1]);
    expect(R.shapeOf(R.max(e, 1))).toEqual([0]);
    expect(() => R.max(e, 0)).toThrow(R.ShapeError);
    expect(() => R.argmin(e)).toThrow(R.ShapeError);
    expect(flat(R.mean(e, 0))[0]).toBeNaN();
  });

  it('max/min propagate NaN; argmax takes the first NaN or first extreme', () => {
    const f = arr([3, Number.NaN, 5, Number.NaN], 'float32');
    expect(flat(R.max(f))[0]).toBeNaN();
    expect(flat(R.argmax(f))).toEqual([1]);
    expect(flat(R.argmin(f))).toEqual([1]);
    expect(flat(R.argmax(arr([1, 5, 5, 2], 'int32')))).toEqual([1]);
    expect(flat(R.argmin(arr([1, 0, 0, 2], 'int32')))).toEqual([1]);
    expect(flat(R.argmax(x, 1))).toEqual([1, 0]);
    expect(flat(R.argmax(x))).toEqual([3]); // flattened
    expect(R.shapeOf(R.argmax(x, undefined, true))).toEqual([1, 1]); // NumPy keeps every axis
    expect(R.shapeOf(R.argmax(x, 0, true))).toEqual([1, 3]);
    expect(flat(R.argmax(arr(7, 'float32')))).toEqual([0]);
    expect(R.argmax(x, 0).dtype).toBe('int32');
  });

  it('any, all, countNonzero (NaN is true)', () => {
    const f = arr([0, Number.NaN, 0], 'float32');
    expect(flat(R.any(f))).toEqual([1]);
    expect(flat(R.all(f))).toEqual([0]);
    expect(flat(R.countNonzero(f))).toEqual([1]);
    expect(R.countNonzero(f).dtype).toBe('int32');
    expect(flat(R.countNonzero(x, 0))).toEqual([2, 2, 1]);
  });

  it('mean, var, std: exact, integers give float32', () => {
    const m = R.mean(arr([1, 2, 4], 'int32'));
    expect(m.dtype).toBe('float32');
    expect(flat(m)).toEqual([Math.fround(7 / 3)]);
    expect(flat(R.mean(arr([60000, 60000], 'float16')))).toEqual([60000]);
    expect(flat(R.variance(arr([1, 2, 3, 4], 'float64')))).toEqual([1.25]);
    expect(flat(R.var(arr([1, 2, 3, 4], 'float64'), undefined, false, 1))).toEqual([5 / 3]);
    expect(flat(R.std(arr([1, 2, 3, 4], 'float64')))).toEqual([Math.sqrt(1.25)]);
    expect(flat(R.variance(arr([16777217, 16777216], 'int32')))).toEqual([0.25]);
    expect(flat(R.variance(arr([1], 'float32'), undefined, false, 1))[0]).toBeNaN(); // 0 / 0
    expect(flat(R.variance(arr([1, 2], 'float32'), undefined, false, 2))).toEqual([Number.POSITIVE_INFINITY]);
    expect(flat(R.variance(arr([1, Number.POSITIVE_INFINITY], 'float32')))[0]).toBeNaN();
  });

  it('logsumexp, softmax, logSoftmax with the finite-max shift', () => {
    const v = arr([1, 2, 3], 'float64');
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(flat(R.logsumexp(v))[0]).toBeCloseTo(lse, 14);
    const sm = flat(R.softmax(v)) as number[];
    expect(sm.reduce((p, q) => p + q, 0)).toBeCloseTo(1, 14);
    expect(sm[2]).toBeCloseTo(Math.exp(3 - lse), 14);
    expect(flat(R.logSoftmax(v))[0]).toBeCloseTo(1 - lse, 14);
    const ninf = arr([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY], 'float32');
    expect(flat(R.logsumexp(ninf))).toEqual([Number.NEGATIVE_INFINITY]);
    expect(flat(R.softmax(ninf))[0]).toBeNaN();
    const big = arr([1000, 1000], 'float32');
    expect(flat(R.logsumexp(big))).toEqual([Math.fround(1000 + Math.LN2)]);
    expect(() => R.softmax(R.zeros([2, 0]), -1)).toThrow(R.ShapeError);
    expect(R.shapeOf(R.softmax(R.zeros([0, 2]), -1))).toEqual([0, 2]);
  });

  it('norm: vector ords, Frobenius over two axes', () => {
    const v = arr([3, -4], 'float32');
    expect(flat(R.norm(v))).toEqual([5]);
    expect(flat(R.norm(v, 1))).toEqual([7]);
    expect(flat(R.norm(v, Number.POSITIVE_INFINITY))).toEqual([4]);
    expect(flat(R.norm(v, Number.NEGATIVE_INFINITY))).toEqual([3]);
    expect(flat(R.norm(v, 0))).toEqual([2]);
    expect(flat(R.norm(v, 3))[0]).toBeCloseTo(Math.cbrt(91), 5);
    const m = arr(
      [
        [1, 2],
        [2, 4],
      ],
      'int16',
    );
    expect(flat(R.norm(m))).toEqual([5]); // Frobenius of a 2-D array
    expect(flat(R.norm(m, null, 1))).toEqual([Math.fround(Math.sqrt(5)), Math.fround(Math.sqrt(20))]);
    expect(() => R.norm(m, 1)).toThrow(R.ArgumentError);
    expect(R.shapeOf(R.norm(m, null, [0, 1], true))).toEqual([1, 1]);
  });
});

describe('scans', () => {
  const x = arr(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    'int32',
  );
  it('cumsum along axes, flattened, reversed, exclusive', () => {
    expect(flat(R.cumsum(x))).toEqual([1, 3, 6, 10, 15, 21]);
    expect(flat(R.cumsum(x, 1))).toEqual([1, 3, 6, 4, 9, 15]);
    expect(flat(R.cumsum(x, 0))).toEqual([1, 2, 3, 5, 7, 9]);
    expect(flat(R.cumsum(x, -1, true))).toEqual([6, 5, 3, 15, 11, 6]);
    expect(flat(R.cumsum(x, 1, false, false))).toEqual([0, 1, 3, 0, 4, 9]);
    expect(flat(R.cumsum(x, 0, true, false))).toEqual([4, 5, 6, 0, 0, 0]);
    expect(R.shapeOf(R.cumsum(arr(5, 'float32')))).toEqual([1]);
    expect(() => R.cumsum(arr(5, 'float32'), 0)).toThrow(R.ArgumentError);
  });
  it('dtypes, wrapping, NaN, identities', () => {
    expect(R.cumsum(arr([true, true])).dtype).toBe('int32');
    expect(flat(R.cumsum(arr([100, 100], 'int8')))).toEqual([100, 200]);
    expect(R.cumsum(arr([100, 100], 'uint8')).dtype).toBe('uint32');
    expect(flat(R.cumsum(arr([2 ** 31 - 1, 1], 'int32')))).toEqual([2 ** 31 - 1, -(2 ** 31)]);
    expect(flat(R.cumprod(arr([2, 3, 4], 'float16')))).toEqual([2, 6, 24]);
    const y = arr([1, 3, 2, Number.NaN, 5], 'float32');
    const cm = flat(R.cummax(y));
    expect(cm.slice(0, 3)).toEqual([1, 3, 3]);
    expect(cm[3]).toBeNaN();
    expect(cm[4]).toBeNaN();
    expect(flat(R.cummin(y, 0, false, false))[0]).toBe(Number.POSITIVE_INFINITY);
    expect(flat(R.cummax(arr([3, -2, 7], 'int8'), 0, false, false))).toEqual([-128, 3, 3]);
    expect(flat(R.cummin(arr([3, 2], 'uint16'), 0, false, false))).toEqual([65535, 3]);
    expect(flat(R.cumsum(R.full([3000], 1, 'float16')))[2999]).toBe(3000);
  });
});

describe('matrix products', () => {
  const a = arr(
    [
      [1, 2],
      [3, 4],
    ],
    'float32',
  );
  const v = arr([1, -1], 'float32');
  it('matmul with vectors, batches and dtypes', () => {
    expect(flat(R.matmul(a, a))).toEqual([7, 10, 15, 22]);
    expect(flat(R.matmul(a, v))).toEqual([-1, -1]);
    expect(flat(R.matmul(v, a))).toEqual([-2, -2]);
    expect(R.shapeOf(R.matmul(v, v))).toEqual([]);
    const batch = R.broadcastTo(a, [3, 2, 2]);
    expect(R.shapeOf(R.matmul(batch, a))).toEqual([3, 2, 2]);
    expect(R.matmul(arr([1, 2], 'int8'), arr([1, 2], 'uint8')).dtype).toBe('int16');
    expect(flat(R.matmul(arr([100, 100], 'int8'), arr([1, 1], 'int8')))).toEqual([-56]);
    expect(() => R.matmul(arr([true]), arr([true]))).toThrow(R.DTypeError);
    expect(() => R.matmul(a, arr([1, 2, 3], 'float32'))).toThrow(R.ShapeError);
    expect(() => R.matmul(arr(1, 'float32'), a)).toThrow(R.ShapeError);
    expect(flat(R.matmul(arr([1e30, 1, -1e30], 'float64'), arr([1, 1, 1], 'float64')))).toEqual([1]);
    expect(flat(R.matmul(arr([0, 1], 'float32'), arr([Number.POSITIVE_INFINITY, 1], 'float32')))[0]).toBeNaN();
  });
  it('dot, inner, outer, tensordot', () => {
    expect(flat(R.dot(a, v))).toEqual([-1, -1]);
    expect(flat(R.dot(arr(2, 'float32'), a))).toEqual([2, 4, 6, 8]);
    expect(flat(R.inner(a, a))).toEqual([5, 11, 11, 25]);
    expect(flat(R.outer(v, arr([1, 2, 3], 'float32')))).toEqual([1, 2, 3, -1, -2, -3]);
    expect(flat(R.tensordot(a, a, 2))).toEqual([30]);
    expect(flat(R.tensordot(a, a, [[0], [0]]))).toEqual([10, 14, 14, 20]);
    expect(R.shapeOf(R.tensordot(a, a, 0))).toEqual([2, 2, 2, 2]);
    const t = R.reshape(R.arange(24, undefined, 1, 'float64'), [2, 3, 4]);
    expect(R.shapeOf(R.dot(a, R.reshape(R.arange(8, undefined, 1, 'float64'), [2, 2, 2])))).toEqual([2, 2, 2]);
    expect(
      R.shapeOf(
        R.tensordot(t, t, [
          [0, 1],
          [0, 1],
        ]),
      ),
    ).toEqual([4, 4]);
    expect(() => R.tensordot(t, t, [[0], [1]])).toThrow(R.ShapeError);
  });
});
