import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

/** A plain reference reduction over float64 values (independent of the library). */
function refReduce(
  data: readonly number[],
  shape: readonly number[],
  axes: readonly number[],
  init: number,
  fold: (acc: number, x: number, i: number) => number,
): { shape: number[]; values: number[] } {
  const outShape = shape.filter((_, d) => !axes.includes(d));
  const outSize = outShape.reduce((p, d) => p * d, 1);
  const values = new Array<number>(outSize).fill(init);
  const counters = new Array<number>(outSize).fill(0);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < data.length; flat++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) if (!axes.includes(d)) o = o * shape[d] + idx[d];
    values[o] = fold(values[o], data[flat], counters[o]++);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { shape: outShape, values };
}

const shapeArb = fc.array(fc.constantFrom(0, 1, 2, 3, 5), { minLength: 0, maxLength: 4 });
const caseArb = shapeArb.chain((shape) => {
  const n = shape.reduce((p: number, d: number) => p * d, 1);
  return fc.record({
    shape: fc.constant(shape),
    data: fc.array(fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0)), { minLength: n, maxLength: n }),
    axes: fc.subarray([...Array(shape.length).keys()]),
    keepdims: fc.boolean(),
    allAxes: fc.boolean(),
  });
});

function close(actual: ArrayLike<number>, expected: readonly number[], rel: number): boolean {
  if (actual.length !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) ? !Number.isNaN(a) : a !== e && Math.abs(a - e) > rel * Math.max(1, Math.abs(e))) return false;
  }
  return true;
}

describe('reductions against a float64 reference', () => {
  const folds: Record<string, { init: number; fold: (acc: number, x: number, i: number) => number; dtype: 'float32' | 'int32' | 'bool' }> = {
    sum: { init: 0, fold: (a, x) => a + x, dtype: 'float32' },
    max: { init: Number.NEGATIVE_INFINITY, fold: (a, x) => (Number.isNaN(a) || Number.isNaN(x) ? Number.NaN : Math.max(a, x)), dtype: 'float32' },
    min: { init: Number.POSITIVE_INFINITY, fold: (a, x) => (Number.isNaN(a) || Number.isNaN(x) ? Number.NaN : Math.min(a, x)), dtype: 'float32' },
    any: { init: 0, fold: (a, x) => (a || x !== 0 ? 1 : 0), dtype: 'bool' },
    all: { init: 1, fold: (a, x) => (a && x !== 0 ? 1 : 0), dtype: 'bool' },
  };
  for (const [op, spec] of Object.entries(folds)) {
    it(`${op} over random shapes, axes and keepdims`, () => {
      fc.assert(
        fc.property(caseArb, ({ shape, data, axes, keepdims, allAxes }) => {
          const x = ma.array(data, 'float32').reshape(shape);
          const ax = allAxes ? [...shape.keys()] : axes;
          const size = ax.reduce((p, d) => p * shape[d], 1);
          const fn = (ma as unknown as Record<string, (a: ma.MetalArray, axis: number[] | undefined, k: boolean) => ma.MetalArray>)[op];
          if ((op === 'max' || op === 'min') && size === 0) {
            expect(() => fn(x, allAxes ? undefined : ax, keepdims)).toThrow(ma.ShapeError);
            return;
          }
          const y = fn(x, allAxes ? undefined : ax, keepdims);
          const ref = refReduce(
            data.map((v) => Math.fround(v)),
            shape,
            ax,
            spec.init,
            spec.fold,
          );
          const expectShape = keepdims ? shape.map((d, i) => (ax.includes(i) ? 1 : d)) : ref.shape;
          expect(y.shape).toEqual(expectShape);
          expect(y.dtype).toBe(spec.dtype);
          const got = Array.from(y.toTypedArray() as ArrayLike<number>);
          if (!close(got, ref.values, 1e-6)) throw new Error(`${op}(${JSON.stringify(data)} [${shape}], axes ${ax}) = ${got}, expected ${ref.values}`);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('argmax/argmin give the first occurrence, NaN first as NumPy', () => {
    const x = ma.array([
      [1, 3, 3, 0],
      [2, Number.NaN, 5, Number.NaN],
    ]);
    expect(x.argmax(1).tolist()).toEqual([1, 1]);
    expect(x.argmin(1).tolist()).toEqual([3, 1]);
    expect(x.argmax(0).tolist()).toEqual([1, 1, 1, 1]);
    expect(
      ma
        .argmax(
          ma.array([
            [1, 9],
            [9, 0],
          ]),
        )
        .item(),
    ).toBe(1);
    expect(
      ma
        .argmin(
          ma.array([
            [4, 2],
            [1, 1],
          ]),
          1,
          true,
        )
        .tolist(),
    ).toEqual([[1], [0]]);
    expect(() => ma.argmax(ma.zeros([0]))).toThrow(ma.ShapeError);
  });

  it('result dtypes follow MLX/JAX: narrow integer and bool sums accumulate in int32, mean of ints is float32', () => {
    expect(ma.sum(ma.array([1, 2], 'int8')).dtype).toBe('int32');
    expect(ma.sum(ma.array([127, 1], 'int8')).item()).toBe(128);
    expect(ma.sum(ma.array([127, 1], 'int8'), { dtype: 'int8' }).item()).toBe(-128);
    expect(ma.sum(ma.array([true, true, false])).dtype).toBe('int32');
    expect(ma.sum(ma.array([true, true, false])).item()).toBe(2);
    expect(ma.mean(ma.array([1, 2], 'int32')).dtype).toBe('float32');
    expect(ma.mean(ma.array([1, 2], 'float16')).dtype).toBe('float16');
    expect(ma.sum(ma.zeros([3, 0]), 1).tolist()).toEqual([0, 0, 0]);
    expect(ma.prod(ma.array([2, 3, 4], 'int32')).item()).toBe(24);
    expect(
      ma
        .countNonzero(
          ma.array([
            [0, 1],
            [2, 0],
          ]),
          0,
        )
        .tolist(),
    ).toEqual([1, 1]);
    expect(ma.max(ma.array([1, 5, 3], 'uint8')).item()).toBe(5);
  });

  it('mean, var (ddof), std, logsumexp, norm', () => {
    const x = ma.array([
      [1, 2, 3, 4],
      [2, 4, 6, 8],
    ]);
    expect(close(x.mean(1).toTypedArray() as Float32Array, [2.5, 5], 1e-7)).toBe(true);
    expect(close(x.var(1).toTypedArray() as Float32Array, [1.25, 5], 1e-6)).toBe(true);
    expect(close(x.var(1, false, 1).toTypedArray() as Float32Array, [5 / 3, 20 / 3], 1e-6)).toBe(true);
    expect(close(x.std().toTypedArray() as Float32Array, [Math.sqrt(4.6875)], 1e-6)).toBe(true);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4));
    expect(close(x.logsumexp(1).toTypedArray() as Float32Array, [lse, Math.log(Math.exp(2) + Math.exp(4) + Math.exp(6) + Math.exp(8))], 1e-6)).toBe(true);
    expect(ma.logsumexp(ma.array([1000, 1000])).item()).toBeCloseTo(1000 + Math.log(2), 3);
    expect(ma.logsumexp(ma.array([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])).item()).toBe(Number.NEGATIVE_INFINITY);
    expect(ma.norm(ma.array([3, 4])).item()).toBeCloseTo(5, 6);
    expect(ma.norm(ma.array([3, -4]), 1).item()).toBe(7);
    expect(ma.norm(ma.array([3, -4]), Number.POSITIVE_INFINITY).item()).toBe(4);
    expect(
      ma
        .norm(
          ma.array([
            [1, 2],
            [3, 4],
          ]),
        )
        .item(),
    ).toBeCloseTo(Math.sqrt(30), 5);
  });

  it('softmax and logSoftmax rows sum to one and survive large inputs', () => {
    const x = ma.array([
      [1, 2, 3],
      [1000, 1000, 1000],
    ]);
    const s = ma.softmax(x).toTypedArray() as Float32Array;
    expect(s[0] + s[1] + s[2]).toBeCloseTo(1, 6);
    expect(Array.from(s.slice(3))).toEqual([1 / 3, 1 / 3, 1 / 3].map(Math.fround));
    const ls = ma.logSoftmax(x).toTypedArray() as Float32Array;
    expect(ls[2]).toBeCloseTo(Math.log(s[2]), 5);
    expect(ma.softmax(x, 0).shape).toEqual([2, 3]);
  });
});

describe('reduction numerics', () => {
  it('a 10^7-element float32 sum stays within the pairwise-summation error bound', () => {
    const n = 10_000_000;
    const data = new Float32Array(n);
    let exact = 0;
    let s = 12345;
    for (let i = 0; i < n; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      data[i] = Math.fround(s / 2147483648);
      exact += data[i];
    }
    const got = ma.array(data).sum().item() as number;
    // NumPy's pairwise sum: |error| <= ~log2(n) * eps * sum|x|; we must do no worse.
    const bound = Math.log2(n) * 2 ** -24 * exact;
    expect(Math.abs(got - exact)).toBeLessThanOrEqual(bound);
    // and the float32 result is the correctly rounded exact sum here
    expect(Math.abs(got - exact)).toBeLessThanOrEqual(exact * 2 ** -23);
  });

  it('var of a large-offset array is accurate (two passes, not E[x^2] - E[x]^2)', () => {
    const n = 100_000;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = 1e4 + (i % 2 === 0 ? 0.5 : -0.5);
    const v = ma.array(data).var().item() as number;
    expect(v).toBeCloseTo(0.25, 4);
  });

  it('float16 reductions accumulate in float32 or better', () => {
    const x = ma.full([4096], 1, 'float16');
    expect(x.sum().item()).toBe(4096); // float16 running sums would stop at 2048
  });
});

describe('reduction fusion', () => {
  const x = () => ma.array(new Float32Array(64 * 48).map((_, i) => Math.sin(i))).reshape(64, 48);
  const launches = (y: ma.MetalArray): number => {
    ma.resetMetrics();
    ma.eval(y);
    return ma.metrics().kernelLaunches;
  };

  it('elementwise producers fuse into the reduction: sum(exp(x - 1), axis) is 1 kernel', () => {
    expect(launches(ma.sum(ma.exp(x().subtract(1)), 1))).toBe(1);
    expect(launches(ma.sum(ma.exp(x().subtract(1)), 0))).toBe(1);
  });

  it('same-shape elementwise consumers fuse behind it: sqrt(sum(x^2)) + 1 is 1 kernel', () => {
    expect(launches(ma.sqrt(ma.sum(ma.square(x()), 1)).add(1))).toBe(1);
  });

  it('softmax is at most 2 kernels, layer norm at most 2', () => {
    expect(launches(ma.softmax(x()))).toBeLessThanOrEqual(2);
    const g = ma.array(new Float32Array(48).fill(1.5));
    const b = ma.array(new Float32Array(48).fill(0.25));
    const xv = x();
    const mu = ma.mean(xv, -1, true);
    const v = ma.var(xv, -1, true);
    const ln = xv
      .subtract(mu)
      .divide(ma.sqrt(v.add(1e-5)))
      .multiply(g)
      .add(b);
    expect(launches(ln)).toBeLessThanOrEqual(2);
    expect(launches(xv.subtract(ma.mean(xv, 1, true)))).toBeLessThanOrEqual(2);
  });

  it('fused and unfused reductions agree', () => {
    const xv = x();
    const build = () => ma.logSoftmax(xv.multiply(0.5), 0).add(ma.max(xv, 1, true));
    const fused = Array.from(build().toTypedArray() as Float32Array);
    ma.setFusion(false);
    try {
      const unfused = Array.from(build().toTypedArray() as Float32Array);
      expect(close(fused, unfused, 1e-6)).toBe(true);
    } finally {
      ma.setFusion(true);
    }
  });

  it('explain shows the fused reduction plan', () => {
    const text = ma.explain(ma.softmax(x()));
    expect(text).toMatch(/max\[1\]/);
    expect(text).toMatch(/sum\[1\]/);
  });
});
