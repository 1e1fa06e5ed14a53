/**
 * Unit tests of the reference oracle itself, against hand-computed values (several
 * checked with NumPy 2.x / mpmath by hand when they were written).
 */
import { describe, expect, it } from 'vitest';
import * as R from './index.js';
import type { DType, RefArray, Scalar } from './index.js';

const flat = (a: RefArray): Scalar[] => R.toFlat(a);
const arr = (values: R.NestedInput, dtype?: DType): RefArray => R.array(values, dtype);
const F16_MIN_SUB = 2 ** -24;

/** Equality that treats NaN as equal to NaN and distinguishes -0 from +0. */
function same(a: Scalar, b: Scalar): boolean {
  return Object.is(a, b);
}

describe('dtypes and promotion', () => {
  it('promotion table spot checks', () => {
    expect(R.promote('uint8', 'int8')).toBe('int16');
    expect(R.promote('uint16', 'int16')).toBe('int32');
    expect(R.promote('uint32', 'int32')).toBe('int64');
    expect(R.promote('uint8', 'int16')).toBe('int16');
    expect(R.promote('uint8', 'int32')).toBe('int32');
    expect(R.promote('uint16', 'int8')).toBe('int32');
    expect(R.promote('uint64', 'int64')).toBe('float32');
    expect(R.promote('uint64', 'int8')).toBe('float32');
    expect(R.promote('float16', 'bfloat16')).toBe('float32');
    expect(R.promote('bfloat16', 'float16')).toBe('float32');
    expect(R.promote('bfloat16', 'float32')).toBe('float32');
    expect(R.promote('int64', 'float16')).toBe('float16');
    expect(R.promote('bool', 'uint16')).toBe('uint16');
    expect(R.promote('int8', 'int32')).toBe('int32');
    expect(R.promote('uint32', 'uint8')).toBe('uint32');
    expect(R.promote('float64', 'float16')).toBe('float64');
  });

  it('promotion is commutative and idempotent', () => {
    for (const a of R.ALL_DTYPES) {
      expect(R.promote(a, a)).toBe(a);
      for (const b of R.ALL_DTYPES) expect(R.promote(a, b)).toBe(R.promote(b, a));
    }
  });

  it('weak JS scalars', () => {
    expect(R.add(arr([1, 2], 'int32'), 2.5).dtype).toBe('float32');
    expect(flat(R.add(arr([1, 2], 'int32'), 2.5))).toEqual([3.5, 4.5]);
    expect(R.add(arr([1], 'int32'), 2).dtype).toBe('int32');
    // uint8 + 300 is uint8 + 44
    const u = R.add(arr([1, 250], 'uint8'), 300);
    expect(u.dtype).toBe('uint8');
    expect(flat(u)).toEqual([45, 38]);
    expect(flat(R.add(arr([0], 'int8'), 200))).toEqual([-56]);
    expect(R.add(arr([1], 'float16'), 100000).dtype).toBe('float16');
    expect(flat(R.add(arr([1], 'float16'), 100000))).toEqual([Number.POSITIVE_INFINITY]);
    expect(R.add(arr([true]), 2).dtype).toBe('int32');
    expect(R.add(arr([true]), 0.5).dtype).toBe('float32');
    expect(R.add(arr([true]), true).dtype).toBe('bool');
    expect(R.add(arr([1], 'int16'), true).dtype).toBe('int16');
    expect(R.add(1, 2).dtype).toBe('float32');
    // the scalar becomes the array's dtype first, then the op's float dtype: -1 → 255
    expect(flat(R.divide(-1, arr([0, 5], 'uint8')))).toEqual([Number.POSITIVE_INFINITY, 51]);
    expect(flat(R.less(arr([10], 'uint8'), 300))).toEqual([1]); // 300 wraps to 44
    expect(R.add(arr([1], 'int64'), 2.5).dtype).toBe('float32');
    expect(R.add(arr([1], 'int64'), Number.NaN).dtype).toBe('float32');
    // the weak scalar is rounded to the float dtype before the op: float16(0.1) = 0.0999755859375
    expect(flat(R.add(arr([0], 'float16'), 0.1))).toEqual([0.0999755859375]);
  });

  it('result dtypes per op family', () => {
    const i8 = arr([1], 'int8');
    const b = arr([true]);
    expect(R.divide(i8, i8).dtype).toBe('float32');
    expect(R.power(i8, i8).dtype).toBe('int8');
    expect(R.power(b, b).dtype).toBe('int8');
    expect(R.floorDivide(b, b).dtype).toBe('int8');
    expect(R.remainder(b, b).dtype).toBe('int8');
    expect(R.add(b, b).dtype).toBe('bool');
    expect(R.less(i8, 2).dtype).toBe('bool');
    expect(R.sqrt(i8).dtype).toBe('float32');
    expect(R.sqrt(arr([1], 'float16')).dtype).toBe('float16');
    expect(R.abs(i8).dtype).toBe('int8');
    expect(R.floor(i8).dtype).toBe('int8');
    expect(R.arctan2(i8, arr([1], 'float64')).dtype).toBe('float64');
    expect(R.logicalAnd(i8, 2.5).dtype).toBe('bool');
    expect(R.where(b, i8, arr([1], 'uint8')).dtype).toBe('int16');
    expect(R.where(b, 1, 2).dtype).toBe('float32');
    expect(R.clip(arr([1, 5, 9], 'uint8'), 2, 7).dtype).toBe('uint8');
    expect(flat(R.clip(arr([1, 5, 9], 'uint8'), 2, 7))).toEqual([2, 5, 7]);
  });

  it('dtype errors', () => {
    const b = arr([true]);
    const f = arr([1.5]);
    expect(() => R.subtract(b, b)).toThrow(R.DTypeError);
    expect(() => R.negative(b)).toThrow(R.DTypeError);
    expect(() => R.abs(b)).toThrow(R.DTypeError);
    expect(() => R.sign(b)).toThrow(R.DTypeError);
    expect(() => R.bitwiseAnd(f, f)).toThrow(R.DTypeError);
    expect(() => R.bitwiseNot(f)).toThrow(R.DTypeError);
    expect(() => R.leftShift(b, b)).toThrow(R.DTypeError);
    expect(() => R.rightShift(arr([1], 'int32'), 1.5)).toThrow(R.DTypeError);
    // u64 with a signed int promotes to float32: no bitwise ops
    expect(() => R.bitwiseOr(arr([1n], 'uint64'), arr([1n], 'int64'))).toThrow(R.DTypeError);
    expect(R.subtract(b, arr([1], 'int8')).dtype).toBe('int8');
    expect(flat(R.bitwiseNot(arr([true, false])))).toEqual([0, 1]);
  });
});

describe('integer semantics', () => {
  it('int32 overflow wraps exactly', () => {
    const a = arr([2147483647, 46341, 65536, -2147483648], 'int32');
    expect(flat(R.add(a, 1))).toEqual([-2147483648, 46342, 65537, -2147483647]);
    expect(flat(R.multiply(a, a))).toEqual([1, -2147479015, 0, 0]);
    expect(flat(R.negative(a))).toEqual([-2147483647, -46341, -65536, -2147483648]);
    expect(flat(R.abs(a))).toEqual([2147483647, 46341, 65536, -2147483648]);
    expect(flat(R.square(arr([255], 'uint8')))).toEqual([1]);
    expect(flat(R.multiply(arr([3037000500n], 'int64'), arr([3037000500n], 'int64')))).toEqual([-9223372036709301616n]);
    expect(flat(R.add(arr([18446744073709551615n], 'uint64'), 2))).toEqual([1n]);
    expect(flat(R.subtract(arr([0], 'uint32'), 1))).toEqual([4294967295]);
  });

  it('division by zero and INT_MIN // -1', () => {
    const a = arr([7, -7, 0, -128], 'int8');
    const z = arr([0, 0, 0, -1], 'int8');
    expect(flat(R.floorDivide(a, z))).toEqual([0, 0, 0, -128]);
    expect(flat(R.remainder(a, z))).toEqual([0, 0, 0, 0]);
    const big = arr([-9223372036854775808n], 'int64');
    expect(flat(R.floorDivide(big, -1))).toEqual([-9223372036854775808n]);
    expect(flat(R.remainder(big, -1))).toEqual([0n]);
    expect(flat(R.floorDivide(arr([5n], 'uint64'), 0))).toEqual([0n]);
  });

  it('Python-sign floor division and remainder', () => {
    const a = arr([-7, 7, -7, 7, 6, -6], 'int32');
    const b = arr([2, -2, 3, -3, 3, 3], 'int32');
    expect(flat(R.floorDivide(a, b))).toEqual([-4, -4, -3, -3, 2, -2]);
    expect(flat(R.remainder(a, b))).toEqual([1, -1, 2, -2, 0, 0]);
    // floats: NumPy's divmod (1 // 0.1 is 9 and 1 % 0.1 is 0.0999...)
    expect(flat(R.floorDivide(arr([1], 'float64'), arr([0.1], 'float64')))).toEqual([9]);
    expect(flat(R.remainder(arr([1], 'float64'), arr([0.1], 'float64')))).toEqual([0.09999999999999995]);
    const fa = arr([-0, 0, 1, -1, 5, -5, 1], 'float64');
    const fb = arr([3, -3, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0, 0, Number.NaN], 'float64');
    const fd = flat(R.floorDivide(fa, fb));
    const fr = flat(R.remainder(fa, fb));
    const expDiv = [-0, -0, -1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN];
    const expRem = [0, -0, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN, Number.NaN, Number.NaN];
    fd.forEach((v, i) => {
      expect(same(v, expDiv[i]), `floorDivide #${i}: ${String(v)}`).toBe(true);
    });
    fr.forEach((v, i) => {
      expect(same(v, expRem[i]), `remainder #${i}: ${String(v)}`).toBe(true);
    });
    expect(flat(R.remainder(arr([-7], 'float32'), arr([3], 'float32')))).toEqual([2]);
  });

  it('integer power', () => {
    expect(flat(R.power(arr([3, 2, 0, 1, -1, -1, 2], 'int8'), arr([5, 7, 0, -3, -3, -2, -1], 'int8')))).toEqual([-13, -128, 1, 1, -1, 1, 0]);
    expect(flat(R.power(arr([3n], 'int64'), arr([40n], 'int64')))).toEqual([BigInt.asIntN(64, 3n ** 40n)]);
    expect(flat(R.power(arr([2], 'uint32'), 32))).toEqual([0]);
  });

  it('shifts', () => {
    const x = arr([1, -8, 5, -1], 'int8');
    expect(flat(R.leftShift(x, arr([7, 1, 8, -1], 'int8')))).toEqual([-128, -16, 0, 0]);
    expect(flat(R.rightShift(x, arr([1, 1, 8, 100], 'int8')))).toEqual([0, -4, 0, -1]);
    expect(flat(R.rightShift(arr([255], 'uint8'), 3))).toEqual([31]);
    expect(flat(R.rightShift(arr([-9223372036854775808n], 'int64'), 63))).toEqual([-1n]);
    expect(flat(R.leftShift(arr([1n], 'uint64'), 64))).toEqual([0n]);
  });

  it('bitwise and comparisons across signedness', () => {
    expect(flat(R.bitwiseAnd(arr([-1], 'int8'), arr([255], 'uint8')))).toEqual([255]); // int16
    expect(flat(R.bitwiseXor(arr([-1n], 'int64'), 5))).toEqual([-6n]);
    expect(flat(R.less(arr([-1], 'int8'), arr([255], 'uint8')))).toEqual([1]);
    expect(flat(R.equal(arr([1], 'float32'), arr([Number.NaN], 'float32')))).toEqual([0]);
    expect(flat(R.notEqual(arr([Number.NaN], 'float32'), arr([Number.NaN], 'float32')))).toEqual([1]);
  });
});

describe('float semantics', () => {
  it('round half to even, keeps -0', () => {
    const r = flat(R.round(arr([0.5, 1.5, 2.5, -0.5, -1.5, 0.49999999999999994, -2.5, 3.5], 'float64')));
    const e = [0, 2, 2, -0, -2, 0, -2, 4];
    r.forEach((v, i) => {
      expect(same(v, e[i]), `#${i} ${String(v)}`).toBe(true);
    });
    expect(flat(R.round(arr([2.5], 'float16')))).toEqual([2]);
  });

  it('sign, maximum with NaN, relu', () => {
    const s = flat(R.sign(arr([-3, -0, 0, 2, Number.NaN], 'float32')));
    [-1, -0, 0, 1, Number.NaN].forEach((e, i) => {
      expect(same(s[i], e)).toBe(true);
    });
    expect(flat(R.maximum(arr([1, Number.NaN], 'float32'), arr([Number.NaN, 1], 'float32')))).toEqual([Number.NaN, Number.NaN]);
    expect(flat(R.minimum(arr([1, 2], 'float32'), arr([3, -4], 'float32')))).toEqual([1, -4]);
    expect(flat(R.relu(arr([-2, 3, Number.NaN], 'float32')))).toEqual([0, 3, Number.NaN]);
  });

  it('float16 rounding', () => {
    const c = (x: number) => R.roundFloat(x, 'float16');
    expect(c(65520)).toBe(Number.POSITIVE_INFINITY);
    expect(c(-65520)).toBe(Number.NEGATIVE_INFINITY);
    expect(c(65519.99)).toBe(65504);
    expect(c(65504)).toBe(65504);
    expect(c(F16_MIN_SUB)).toBe(F16_MIN_SUB);
    expect(c(2 ** -25)).toBe(0); // tie to even → 0
    expect(c(2 ** -25 * 1.0000001)).toBe(F16_MIN_SUB);
    expect(c(3 * 2 ** -26)).toBe(F16_MIN_SUB);
    expect(c(3 * 2 ** -25)).toBe(2 * F16_MIN_SUB); // 1.5 ulp → tie → even (2)
    expect(c(5 * 2 ** -25)).toBe(2 * F16_MIN_SUB); // 2.5 ulp → tie → even (2)
    expect(c(2 ** -14 - 2 ** -26)).toBe(2 ** -14); // rounds up into the normal range
    expect(c(1 + 2 ** -11)).toBe(1);
    expect(c(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(c(0.1)).toBe(0.0999755859375);
    expect(Object.is(c(-0), -0)).toBe(true);
    expect(Object.is(c(-(2 ** -26)), -0)).toBe(true);
    expect(c(Number.NaN)).toBeNaN();
    expect(c(Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    // through ops: 2048 + 1 is not representable (spacing 2 above 2048) → tie → 2048
    expect(flat(R.add(arr([2048], 'float16'), arr([1], 'float16')))).toEqual([2048]);
    expect(flat(R.add(arr([2048], 'float16'), arr([3], 'float16')))).toEqual([2052]);
    expect(flat(R.multiply(arr([300], 'float16'), arr([300], 'float16')))).toEqual([Number.POSITIVE_INFINITY]);
  });

  it('bfloat16 rounding', () => {
    const c = (x: number) => R.roundFloat(x, 'bfloat16');
    expect(c(1 + 2 ** -8)).toBe(1); // tie to even
    expect(c(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6); // tie to even (up)
    expect(c(1 + 2 ** -8 + 2 ** -20)).toBe(1 + 2 ** -7);
    expect(c(3.0e38)).toBe(2 ** 127 * (1 + 2 ** -7 * 98)); // 3.0e38 = 1.7634 * 2^127 → 1.765625 * 2^127
    const max = 2 ** 127 * (2 - 2 ** -7);
    expect(c(max)).toBe(max);
    expect(c(2 ** 127 * (2 - 2 ** -8))).toBe(Number.POSITIVE_INFINITY);
    expect(c(2 ** 127 * (2 - 2 ** -8) * (1 - 2 ** -30))).toBe(max);
    expect(c(2 ** -133)).toBe(2 ** -133); // smallest subnormal
    expect(c(2 ** -134)).toBe(0);
    expect(c(1.5 * 2 ** -133)).toBe(2 ** -132);
    expect(c(Math.PI)).toBe(3.140625);
  });

  it('float32 and exact integer → float conversion', () => {
    // 2^60 + 2^36 + 1 is just above the halfway point between float32 neighbours; going
    // through float64 first would round to the tie and then to even (wrong).
    const v = 2n ** 60n + 2n ** 36n + 1n;
    expect(flat(R.astype(arr([v], 'int64'), 'float32'))).toEqual([2 ** 60 + 2 ** 37]);
    expect(flat(R.astype(arr([2n ** 63n - 1n], 'int64'), 'float16'))).toEqual([Number.POSITIVE_INFINITY]);
    expect(flat(R.astype(arr([65519n], 'uint64'), 'float16'))).toEqual([65504]);
    expect(flat(R.astype(arr([16777217], 'int32'), 'float32'))).toEqual([16777216]);
    expect(flat(R.astype(arr([16777219], 'int32'), 'float32'))).toEqual([16777220]);
  });

  it('casts to integers saturate and truncate; to bool test != 0', () => {
    const f = arr([1.9, -1.9, Number.NaN, 1e10, -1e10, Number.POSITIVE_INFINITY, -0.5], 'float64');
    expect(flat(R.astype(f, 'int8'))).toEqual([1, -1, 0, 127, -128, 127, 0]);
    expect(flat(R.astype(f, 'uint8'))).toEqual([1, 0, 0, 255, 0, 255, 0]);
    expect(flat(R.astype(f, 'int64'))).toEqual([1n, -1n, 0n, 10000000000n, -10000000000n, 2n ** 63n - 1n, 0n]);
    expect(flat(R.astype(arr([1e30, -1e30], 'float32'), 'uint64'))).toEqual([2n ** 64n - 1n, 0n]);
    expect(flat(R.astype(f, 'bool'))).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(flat(R.astype(arr([0, -0, 2], 'float32'), 'bool'))).toEqual([0, 0, 1]);
    expect(flat(R.astype(arr([300, -1], 'int32'), 'uint8'))).toEqual([44, 255]);
    expect(flat(R.astype(arr([2n ** 63n], 'uint64'), 'int64'))).toEqual([-(2n ** 63n)]);
    expect(flat(R.astype(arr([true, false]), 'float16'))).toEqual([1, 0]);
  });

  it('power of floats follows C pow, not Math.pow', () => {
    expect(flat(R.power(arr([1, -1, Number.NaN, 2], 'float64'), arr([Number.NaN, Number.POSITIVE_INFINITY, 0, -1], 'float64')))).toEqual([1, 1, 1, 0.5]);
  });

  it('logaddexp', () => {
    expect(
      flat(
        R.logaddexp(
          arr([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 1], 'float64'),
          arr([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 2], 'float64'),
        ),
      ),
    ).toEqual([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 2.313261687518223]);
  });

  it('erf, erfc, erfinv against mpmath values', () => {
    // mpmath.erf / erfc / erfinv at 50 digits, rounded to float64.
    const cases: [number, number, number][] = [
      [0.5, 0.5204998778130465, 0.4795001221869535],
      [1, 0.8427007929497149, 0.15729920705028513],
      [2.5, 0.999593047982555, 0.0004069520174449589],
      [-3.1, -0.9999883513426328, 1.9999883513426329],
      [5, 0.9999999999984626, 1.537459794428035e-12],
      [1e-10, 1.1283791670955126e-10, 0.999999999887162],
    ];
    const ulps = (a: number, e: number) => Math.abs(a - e) / (Math.abs(e) * 2 ** -52);
    for (const [x, ef, ec] of cases) {
      expect(ulps(R.erfScalar(x), ef), `erf(${x})`).toBeLessThanOrEqual(2);
      expect(ulps(R.erfcScalar(x), ec), `erfc(${x})`).toBeLessThanOrEqual(3);
    }
    expect(ulps(R.erfcScalar(10), 2.088487583762545e-45)).toBeLessThanOrEqual(3);
    const inv: [number, number][] = [
      [0.5, 0.4769362762044699],
      [-0.9, -1.1630871536766743],
      [0.999999, 3.458910737275499],
      [1e-300, 8.86226925452758e-301],
      [1 - 2 ** -53, 5.8635847487551676],
    ];
    for (const [y, e] of inv) expect(ulps(R.erfinvScalar(y), e), `erfinv(${y})`).toBeLessThanOrEqual(2);
    expect(R.erfinvScalar(1)).toBe(Number.POSITIVE_INFINITY);
    expect(R.erfinvScalar(-1.5)).toBeNaN();
    expect(Object.is(R.erfinvScalar(-0), -0)).toBe(true);
    expect(Object.is(R.erfScalar(-0), -0)).toBe(true);
    expect(R.erfScalar(Number.NEGATIVE_INFINITY)).toBe(-1);
  });

  it('gelu, silu, sigmoid edge values', () => {
    const x = arr([0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, -30], 'float64');
    const g = flat(R.gelu(x));
    expect(g.slice(0, 3)).toEqual([0, -0, Number.POSITIVE_INFINITY]);
    expect(Object.is(g[1], -0)).toBe(true);
    expect(g[3]).toBeNaN(); // -Inf * 0 in the exact erf form
    expect(Math.abs((g[4] as number) - 0.8413447460685429)).toBeLessThan(2e-16);
    // mpmath: -30 * erfc(30/sqrt 2) / 2 = -1.472014178144456e-196
    expect(Math.abs((g[5] as number) / -1.472014178144456e-196 - 1)).toBeLessThan(1e-13);
    const s = flat(R.sigmoid(x));
    expect(s.slice(0, 4)).toEqual([0.5, 0.5, 1, 0]);
    expect(flat(R.silu(arr([Number.POSITIVE_INFINITY, 0], 'float32')))).toEqual([Number.POSITIVE_INFINITY, 0]);
  });
});

describe('views', () => {
  const a10 = () => R.arange(10);

  it('slicing with negative steps and clamping (Python semantics)', () => {
    expect(flat(R.slice(a10(), [null, null, -3]))).toEqual([9, 6, 3, 0]);
    expect(flat(R.slice(a10(), [8, 2, -2]))).toEqual([8, 6, 4]);
    expect(flat(R.slice(a10(), [-100, 100, null]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(flat(R.slice(a10(), [5, 100, -1]))).toEqual([]);
    expect(flat(R.slice(a10(), [100, 5, -1]))).toEqual([9, 8, 7, 6]);
    expect(flat(R.slice(a10(), [-1, -11, -1]))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(flat(R.slice(a10(), [-11, null, null]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(flat(R.slice(a10(), -1))).toEqual([9]);
    expect(R.shapeOf(R.slice(a10(), -1))).toEqual([]);
    expect(() => R.slice(a10(), 10)).toThrow(R.ShapeError);
    expect(() => R.slice(a10(), -11)).toThrow(R.ShapeError);
    expect(() => R.slice(a10(), [null, null, 0])).toThrow(R.ShapeError);
    expect(() => R.slice(a10(), 1, 2)).toThrow(R.ShapeError);
    expect(() => R.slice(a10(), '...', '...')).toThrow(R.ShapeError);
  });

  it('slices are views (no copy)', () => {
    const a = R.arange(6);
    const v = R.slice(a, [null, null, -2]);
    expect(v.nd.data).toBe(a.nd.data);
    expect(R.stridesOf(v)).toEqual([-2]);
  });

  it('string form', () => {
    const x = R.reshape(R.arange(24), [2, 3, 4]);
    const s = R.slice(x, '1:10:2, ::-1, None, ...');
    expect(R.shapeOf(s)).toEqual([1, 3, 1, 4]);
    expect(flat(s)).toEqual([20, 21, 22, 23, 16, 17, 18, 19, 12, 13, 14, 15]);
    const t = R.slice(x, [1, 10, 2], [null, null, -1], null, '...');
    expect(flat(t)).toEqual(flat(s));
    expect(flat(R.slice(x, '..., -1'))).toEqual([3, 7, 11, 15, 19, 23]);
    expect(flat(R.slice(x, '0, 1:, ::3'))).toEqual([4, 7, 8, 11]);
    expect(R.shapeOf(R.slice(x, ':, None, 2'))).toEqual([2, 1, 4]);
    expect(R.shapeOf(R.slice(x, ''))).toEqual([2, 3, 4]);
    expect(flat(R.slice(x, '1', ':1', '::-2'))).toEqual([15, 13]);
    expect(() => R.slice(x, '1:2:3:4')).toThrow(R.ShapeError);
    expect(() => R.slice(x, 'a')).toThrow(R.ShapeError);
  });

  it('transpose, swapaxes, moveaxis, flip, squeeze, expandDims, broadcastTo', () => {
    const x = R.reshape(R.arange(6), [2, 3]);
    expect(flat(R.transpose(x))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(flat(R.swapaxes(x, 0, -1))).toEqual([0, 3, 1, 4, 2, 5]);
    const y = R.reshape(R.arange(24), [2, 3, 4]);
    expect(R.shapeOf(R.moveaxis(y, 0, -1))).toEqual([3, 4, 2]);
    expect(R.shapeOf(R.moveaxis(y, [0, 1], [-1, -2]))).toEqual([4, 3, 2]);
    expect(R.shapeOf(R.transpose(y, [1, 0, 2]))).toEqual([3, 2, 4]);
    expect(flat(R.flip(x))).toEqual([5, 4, 3, 2, 1, 0]);
    expect(flat(R.flip(x, 1))).toEqual([2, 1, 0, 5, 4, 3]);
    expect(flat(R.flip(x, -2))).toEqual([3, 4, 5, 0, 1, 2]);
    expect(R.shapeOf(R.expandDims(x, -1))).toEqual([2, 3, 1]);
    expect(R.shapeOf(R.expandDims(x, 0))).toEqual([1, 2, 3]);
    expect(R.shapeOf(R.squeeze(R.expandDims(x, 1)))).toEqual([2, 3]);
    expect(() => R.squeeze(x, 0)).toThrow(R.ShapeError);
    const b = R.broadcastTo(R.reshape(R.arange(3), [3, 1]), [2, 3, 4]);
    expect(R.shapeOf(b)).toEqual([2, 3, 4]);
    expect(flat(R.slice(b, 1, '...', 3))).toEqual([0, 1, 2]);
    expect(() => R.broadcastTo(x, [3, 3])).toThrow(R.ShapeError);
    expect(() => R.broadcastTo(x, [3])).toThrow(R.ShapeError);
  });

  it('reshape with -1, flatten of a view', () => {
    const x = R.transpose(R.reshape(R.arange(6), [2, 3]));
    expect(R.shapeOf(R.reshape(x, [-1, 2]))).toEqual([3, 2]);
    expect(flat(R.reshape(x, [-1]))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(flat(R.flatten(R.flip(x)))).toEqual([5, 2, 4, 1, 3, 0]);
    expect(() => R.reshape(x, [4, -1])).toThrow(R.ShapeError);
    expect(() => R.reshape(x, [-1, -1])).toThrow(R.ShapeError);
    expect(R.shapeOf(R.reshape(R.zeros([0, 3]), [3, 0]))).toEqual([3, 0]);
    expect(R.shapeOf(R.reshape(R.array(5), []))).toEqual([]);
  });

  it('broadcasting in ops, and broadcasting errors', () => {
    const a = R.reshape(R.arange(3), [3, 1]);
    const b = R.arange(4);
    const s = R.add(a, b);
    expect(R.shapeOf(s)).toEqual([3, 4]);
    expect(flat(s)).toEqual([0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5]);
    expect(() => R.add(R.arange(3), R.arange(4))).toThrow(R.ShapeError);
    expect(() => R.where(R.zeros([2]), R.zeros([3]), 1)).toThrow(R.ShapeError);
    expect(R.shapeOf(R.add(R.zeros([0, 1]), R.zeros([5])))).toEqual([0, 5]);
    expect(() => R.add(R.zeros([0]), R.zeros([2]))).toThrow(R.ShapeError);
    expect(R.shapeOf(R.multiply(R.zeros([2, 1, 3]), R.zeros([4, 1])))).toEqual([2, 4, 3]);
  });

  it('concatenate, stack, split', () => {
    const a = R.reshape(R.arange(6), [2, 3]);
    const b = R.reshape(R.arange(6, 10), [2, 2]);
    const c = R.concatenate([a, b], -1);
    expect(R.shapeOf(c)).toEqual([2, 5]);
    expect(flat(c)).toEqual([0, 1, 2, 6, 7, 3, 4, 5, 8, 9]);
    expect(() => R.concatenate([a, b], 0)).toThrow(R.ShapeError);
    expect(R.concatenate([R.astype(a, 'uint8'), R.astype(a, 'int8')]).dtype).toBe('int16');
    const s = R.stack([a, a], 1);
    expect(R.shapeOf(s)).toEqual([2, 2, 3]);
    expect(flat(s)).toEqual([0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]);
    expect(R.shapeOf(R.stack([a, a], -1))).toEqual([2, 3, 2]);
    const parts = R.split(R.arange(10), [3, 7]);
    expect(parts.map(flat)).toEqual([
      [0, 1, 2],
      [3, 4, 5, 6],
      [7, 8, 9],
    ]);
    expect(R.split(R.arange(10), [-3, 20]).map(flat)).toEqual([[0, 1, 2, 3, 4, 5, 6], [7, 8, 9], []]);
    expect(R.split(a, 3, 1).map(R.shapeOf)).toEqual([
      [2, 1],
      [2, 1],
      [2, 1],
    ]);
    expect(() => R.split(R.arange(10), 3)).toThrow(R.ShapeError);
  });
});

describe('creation', () => {
  it('default dtypes and conversion', () => {
    expect(R.array([1, 2]).dtype).toBe('float32');
    expect(R.array([true, false]).dtype).toBe('bool');
    expect(R.array(new Int16Array([1, -2])).dtype).toBe('int16');
    expect(R.array(new Uint8ClampedArray([1])).dtype).toBe('uint8');
    expect(R.array(new BigInt64Array([1n])).dtype).toBe('int64');
    expect(R.array(new Float64Array([0.1])).dtype).toBe('float64');
    expect(flat(R.array([0.1]))).toEqual([Math.fround(0.1)]);
    expect(flat(R.array(new Float32Array([0.1]), 'float16'))).toEqual([0.0999755859375]);
    expect(
      R.shapeOf(
        R.array([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      ),
    ).toEqual([2, 3]);
    expect(R.shapeOf(R.array(3))).toEqual([]);
    expect(() => R.array([[1, 2], [3]])).toThrow(R.ShapeError);
  });

  it('zeros, ones, full, arange, linspace, eye, identity', () => {
    expect(flat(R.zeros([2], 'int64'))).toEqual([0n, 0n]);
    expect(flat(R.ones([2, 1], 'bool'))).toEqual([1, 1]);
    expect(flat(R.full([2], 7, 'uint8'))).toEqual([7, 7]);
    expect(R.full([1], true).dtype).toBe('bool');
    expect(R.arange(5).dtype).toBe('int32');
    expect(flat(R.arange(2, 11, 3))).toEqual([2, 5, 8]);
    expect(R.arange(0, 1, 0.25).dtype).toBe('float32');
    expect(flat(R.arange(0, 1, 0.25))).toEqual([0, 0.25, 0.5, 0.75]);
    expect(flat(R.arange(5, 0, -2))).toEqual([5, 3, 1]);
    expect(flat(R.linspace(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(flat(R.linspace(0, 1, 4, false))).toEqual([0, 0.25, 0.5, 0.75]);
    expect(flat(R.eye(2, 3, 1))).toEqual([0, 1, 0, 0, 0, 1]);
    expect(flat(R.identity(2))).toEqual([1, 0, 0, 1]);
  });
});

describe('rounding helpers', () => {
  it('ulp, nextUp, nextDown', () => {
    expect(R.ulp(1, 'float16')).toBe(2 ** -10);
    expect(R.ulp(0, 'float16')).toBe(2 ** -24);
    expect(R.ulp(1, 'float32')).toBe(2 ** -23);
    expect(R.ulp(1, 'bfloat16')).toBe(2 ** -7);
    expect(R.nextUp(1, 'float16')).toBe(1 + 2 ** -10);
    expect(R.nextDown(1, 'float16')).toBe(1 - 2 ** -11);
    expect(R.nextUp(-1, 'float16')).toBe(-1 + 2 ** -11);
    expect(R.nextUp(65504, 'float16')).toBe(Number.POSITIVE_INFINITY);
    expect(R.nextDown(0, 'float32')).toBe(-(2 ** -149));
    expect(R.nextUp(2 ** -14, 'float16')).toBe(2 ** -14 + 2 ** -24);
    expect(R.nextDown(2 ** -14, 'float16')).toBe(2 ** -14 - 2 ** -24);
  });
});
