/**
 * Index modes (docs/indexing.md): gathers and scatters with 'clip', 'wrap', 'fill'/'drop'
 * and 'raise', against the oracle in test/reference/indexing.ts, on indices that are in
 * range, negative, and out of range on both sides; the issue-16 regressions; index
 * arguments as MetalArrays, typed arrays and JS lists; the kernels of every mode render
 * as CUDA and MSL text.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import * as R from '../reference/index.js';

type Mode = ma.IndexMode;
const MODES: readonly Mode[] = ['clip', 'wrap', 'fill', 'drop'];
const DTYPES = ['float32', 'int32', 'uint8', 'int64', 'bool'] as const;

/** Library values as oracle scalars (bool as 0/1, 64-bit as bigint). */
function flat(a: ma.MetalArray): R.Scalar[] {
  return Array.from(a.toTypedArray() as ArrayLike<number | bigint | boolean>, (v) => (typeof v === 'boolean' ? Number(v) : v));
}

function expectSame(got: ma.MetalArray, want: R.RefArray, what: string): void {
  expect(got.shape, `${what}: shape`).toEqual(R.shapeOf(want));
  expect(got.dtype, `${what}: dtype`).toBe(want.dtype);
  const g = flat(got);
  const w = R.toFlat(want);
  for (let i = 0; i < w.length; i++) {
    const same = Object.is(g[i], w[i]) || (typeof g[i] === 'number' && Number.isNaN(g[i]) && typeof w[i] === 'number' && Number.isNaN(w[i] as number));
    expect(same, `${what}: element ${i}: got ${String(g[i])}, want ${String(w[i])}`).toBe(true);
  }
}

/** A 3x5 array of `dtype` with distinct values (bool alternates). */
function source(dtype: (typeof DTYPES)[number]): { lib: ma.MetalArray; ref: R.RefArray } {
  const values = Array.from({ length: 15 }, (_, i) => (dtype === 'bool' ? i % 2 : i + 1));
  const ref = R.fromFlat(
    dtype,
    [3, 5],
    values.map((v) => (dtype === 'int64' ? BigInt(v) : v)),
  );
  const lib = ma
    .array(values, dtype === 'bool' ? 'int32' : dtype)
    .astype(dtype)
    .reshape([3, 5]);
  return { lib, ref };
}

// In range, negative in range, and out of range on both sides (by a little and a lot).
const INDEX_VALUES = [0, 4, -1, -5, 5, 7, -6, -1000, 1000, 2];

// Many small kernels, each compiled once (seconds each at -O3 on a cold cache).
describe('gather modes against the oracle', { timeout: 300_000 }, () => {
  for (const dtype of DTYPES) {
    it(`take and takeAlongAxis in every mode (${dtype})`, () => {
      const { lib, ref } = source(dtype);
      const idxRef = R.fromFlat('int32', [2, 5], INDEX_VALUES);
      for (const mode of MODES) {
        expectSame(
          ma.take(lib, Int32Array.from(INDEX_VALUES).slice(0, 10), 1, { mode }),
          R.indexing.take(ref, R.fromFlat('int32', [10], INDEX_VALUES), 1, mode),
          `take axis 1 ${mode}`,
        );
        expectSame(
          ma.take(lib, ma.array(INDEX_VALUES, 'int32').reshape([2, 5]), null, { mode }),
          R.indexing.take(ref, idxRef, null, mode),
          `take flat ${mode}`,
        );
        const along = [
          [0, 4, -1, 9, -7],
          [-5, 5, 2, 3, 1],
          [6, -6, 0, 100, -100],
        ];
        expectSame(
          ma.takeAlongAxis(lib, along, 1, { mode }),
          R.indexing.takeAlongAxis(ref, R.fromFlat('int32', [3, 5], along.flat()), 1, mode),
          `takeAlongAxis ${mode}`,
        );
      }
    });
  }

  it("'fill' takes a fill value, in the array's dtype", () => {
    const { lib, ref } = source('int32');
    const idx = R.fromFlat('int32', [10], INDEX_VALUES);
    expectSame(ma.take(lib, INDEX_VALUES, 1, { mode: 'fill', fillValue: -7 }), R.indexing.take(ref, idx, 1, 'fill', -7), 'take fill -7');
    const f = source('float32');
    expectSame(ma.take(f.lib, INDEX_VALUES, 0, { mode: 'fill', fillValue: 0.5 }), R.indexing.take(f.ref, idx, 0, 'fill', 0.5), 'take fill 0.5');
  });

  it('index arrays of every integer dtype give the same selection (narrow dtypes do not wrap the range check)', () => {
    const { lib, ref } = source('float32');
    const values = [0, 3, 4, 5, 6, 100];
    for (const d of ['uint8', 'int8', 'int16', 'uint16', 'uint32', 'int64', 'uint64'] as const) {
      for (const mode of MODES) {
        const idx = ma.array(values, 'int32').astype(d);
        expectSame(ma.take(lib, idx, 1, { mode }), R.indexing.take(ref, R.fromFlat('int32', [6], values), 1, mode), `take ${d} ${mode}`);
      }
    }
  });

  it('at().get and advanced indexing take the modes (several index arrays, integers too)', () => {
    const { lib, ref } = source('float32');
    const i = [0, 2, -1, 3, -4];
    const j = [1, -6, 5, 4, 0];
    const spec: R.indexing.IndexSpec[] = [{ array: R.fromFlat('int32', [5], i) }, { array: R.fromFlat('int64', [5], j.map(BigInt)) }];
    for (const mode of MODES) {
      const got = lib.at(ma.array(i, 'int32'), ma.array(j, 'int32').astype('int64')).get({ mode });
      expectSame(got, R.indexing.index(ref, spec, mode), `at(i, j).get ${mode}`);
      expectSame(lib.at(7, ma.range(1, 4)).get({ mode }), R.indexing.index(ref, [7, [1, 4]], mode), `at(7, 1:4).get ${mode}`);
      expectSame(
        lib.at(ma.range(null), Int32Array.of(9, -2)).get({ mode }),
        R.indexing.index(ref, [[null, null, null], { array: R.fromFlat('int32', [2], [9, -2]) }], mode),
        `at(:, [9, -2]).get ${mode}`,
      );
    }
    // slice keeps clipping index arrays (the gathers' default)
    expectSame(lib.slice(Int32Array.of(9, -9)), R.indexing.index(ref, [{ array: R.fromFlat('int32', [2], [9, -9]) }]), 'slice clips');
  });

  it("'raise' throws IndexError naming the index, the axis and its size, and passes in-range indices", () => {
    const { lib, ref } = source('float32');
    expect(() => ma.take(lib, ma.array([0, 5], 'int32'), 1, { mode: 'raise' })).toThrow(ma.IndexError);
    expect(() => ma.take(lib, [0, 5], 1, { mode: 'raise' })).toThrow(/index 5 is out of bounds for axis 1 with size 5/);
    expect(() => ma.take(lib, [-6], 1, { mode: 'raise' })).toThrow(/index -6 is out of bounds for axis 1 with size 5/);
    // computed indices are evaluated for the check
    expect(() => ma.take(lib, ma.array([1, 2], 'int32').multiply(3), 0, { mode: 'raise' })).toThrow(/index 3 is out of bounds for axis 0 with size 3/);
    expect(() => ma.takeAlongAxis(lib, [[3], [0], [1]], 0, { mode: 'raise' })).toThrow(ma.IndexError);
    expect(() => lib.at(0, Int32Array.of(-7)).get({ mode: 'raise' })).toThrow(/index -7 is out of bounds for axis 1 with size 5/);
    expectSame(ma.take(lib, [-5, 4], 1, { mode: 'raise' }), R.indexing.take(ref, R.fromFlat('int32', [2], [-5, 4]), 1, 'raise'), 'raise in range');
  });

  it('bad options are typed errors', () => {
    const x = ma.arange(4);
    expect(() => ma.take(x, [0], 0, { mode: 'nearest' as never })).toThrow(ma.ArgumentError);
    expect(() => ma.take(x, [0], 0, 'fill' as never)).toThrow(ma.ArgumentError);
    expect(() => ma.take(x, [0], 0, { mode: 'fill', fillValue: 'x' as never })).toThrow(ma.ArgumentError);
    expect(() => x.at(1).set(1, { mode: 'nearest' as never })).toThrow(ma.ArgumentError);
  });
});

describe('scatter modes against the oracle', { timeout: 300_000 }, () => {
  const positions = [1, -1, 12, -11, 3, 3, 1000, -1000, 0];
  for (const dtype of ['float32', 'int32', 'int64'] as const) {
    it(`at(indices).set/add and putAlongAxis in every mode (${dtype})`, () => {
      const { lib, ref } = source(dtype);
      const n = positions.length;
      const vals = Array.from({ length: 3 * n }, (_, k) => k + 20);
      const valsRef = R.fromFlat(
        dtype,
        [3, n],
        vals.map((v) => (dtype === 'int64' ? BigInt(v) : v)),
      );
      const valsLib = ma
        .array(vals, dtype === 'int64' ? 'int32' : dtype)
        .astype(dtype)
        .reshape([3, n]);
      const add = (x: R.Scalar, y: R.Scalar): R.Scalar => (typeof x === 'bigint' ? x + (y as bigint) : (x as number) + (y as number));
      const spec: R.indexing.IndexSpec[] = [[null, null, null], { array: R.fromFlat('int32', [n], positions) }];
      for (const mode of [undefined, ...MODES]) {
        const opts = mode === undefined ? undefined : { mode };
        const m = mode ?? 'drop';
        const at = lib.at(ma.range(null), Int32Array.from(positions));
        expectSame(
          at.set(valsLib, opts),
          R.indexing.scatterIndex(ref, spec, valsRef, 'set', (_, b) => b, m),
          `set ${m}`,
        );
        expectSame(at.add(valsLib, opts), R.indexing.scatterIndex(ref, spec, valsRef, 'add', add, m), `add ${m}`);
        const along = [
          [0, 7, -1],
          [-6, 2, 2],
          [100, -2, 4],
        ];
        const alongVals = R.fromFlat(
          dtype,
          [3, 3],
          [9, 8, 7, 6, 5, 4, 3, 2, 1].map((v) => (dtype === 'int64' ? BigInt(v) : v)),
        );
        expectSame(
          ma.putAlongAxis(lib, along, ma.array([9, 8, 7, 6, 5, 4, 3, 2, 1], 'int32').astype(dtype).reshape([3, 3]), 1, opts),
          putAlongRef(ref, along, alongVals, m),
          `putAlongAxis ${m}`,
        );
      }
    });
  }

  it("scatter 'raise' throws IndexError and writes nothing; in-range updates go through", () => {
    const z = ma.zeros([10]);
    expect(() => z.at(Int32Array.of(1, 10)).set(5, { mode: 'raise' })).toThrow(/index 10 is out of bounds for axis 0 with size 10/);
    expect(() => z.at(-11).add(5, { mode: 'raise' })).toThrow(ma.IndexError);
    expect(() => ma.putAlongAxis(ma.zeros([2, 3]), [[3], [0]], 1, 1, { mode: 'raise' })).toThrow(ma.IndexError);
    expect(z.at(-10).add(5, { mode: 'raise' }).tolist()).toEqual([5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

/** put_along_axis in the oracle: each row's indices through scatterAlong of that row. */
function putAlongRef(a: R.RefArray, along: number[][], values: R.RefArray, mode: Mode): R.RefArray {
  const s = R.shapeOf(a);
  const out = R.toFlat(a);
  const vals = R.toFlat(values);
  along.forEach((row, r) => {
    const rowRef = R.fromFlat(a.dtype, [1, s[1]], out.slice(r * s[1], (r + 1) * s[1]));
    const rowVals = R.fromFlat(a.dtype, [1, row.length], vals.slice(r * row.length, (r + 1) * row.length));
    const done = R.toFlat(R.indexing.scatterAlong(rowRef, row, rowVals, 1, 'set', (_, b) => b, mode));
    out.splice(r * s[1], s[1], ...done);
  });
  return R.fromFlat(a.dtype, s, out);
}

describe('issue 16 regressions', { timeout: 300_000 }, () => {
  it('an out-of-range index array drops its scatter update (was: written at position 9)', () => {
    expect(ma.zeros([10]).at(Int32Array.of(1000)).set(5).tolist()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('an out-of-range integer drops its scatter update (was: added at position 0)', () => {
    expect(ma.zeros([10]).at(-1000).add(5).tolist()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ma.zeros([10]).at(1000).add(5).tolist()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ma.zeros([10]).at(-1).add(5).tolist()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
  });
  it('putAlongAxis drops out-of-range updates (was: written at the edge)', () => {
    expect(ma.putAlongAxis(ma.zeros([2, 3]), [[2], [7]], 5, 1).tolist()).toEqual([
      [0, 0, 5],
      [0, 0, 0],
    ]);
    expect(ma.putAlongAxis(ma.zeros([2, 3]), [[-4], [-3]], 5, 1).tolist()).toEqual([
      [0, 0, 0],
      [5, 0, 0],
    ]);
  });
  it('take accepts an Int32Array, as slice does (was: ArgumentError)', () => {
    const x = ma.array([10, 20, 30]);
    expect(ma.take(x, Int32Array.of(2, 0)).tolist()).toEqual([30, 10]);
    expect(x.take(BigInt64Array.of(1n)).tolist()).toEqual([20]);
    expect(ma.takeAlongAxis(x, Uint8Array.of(2, 1)).tolist()).toEqual([30, 20]);
    expect(ma.putAlongAxis(x, Uint16Array.of(0), 1, 0).tolist()).toEqual([1, 20, 30]);
    expect(() => ma.take(x, Float32Array.of(1) as never)).toThrow(ma.DTypeError);
  });
});

describe('moded kernels', { timeout: 300_000 }, () => {
  it('a moded gather fuses with its consumer into one kernel', () => {
    const x = ma.array([1, 2, 3, 4]);
    for (const mode of ['fill', 'wrap'] as const) {
      const y = ma.take(x, ma.array([0, 9, -2], 'int32'), 0, { mode }).multiply(2);
      ma.resetMetrics();
      y.eval();
      expect(ma.metrics().kernelLaunches, mode).toBe(1);
    }
  });
  it('an in-range integer in at() stays a view: its positions read the iota, not a gathered copy of it', () => {
    const z = ma.zeros([1000, 10]).add(1);
    z.eval();
    const launches = (y: ma.MetalArray): number => {
      ma.resetMetrics();
      y.eval();
      return ma.metrics().kernelLaunches;
    };
    // positions, updates, scatter; an index array also materializes the iota it gathers from
    expect(launches(z.at(3, 2).set(5))).toBe(3);
    expect(launches(z.at(Int32Array.of(3), 2).set(5))).toBe(4);
    expect(z.at(3, 2).set(5).at(3, 2).get().item()).toBe(5);
    expect(z.at(3, -12).set(5, { mode: 'wrap' }).at(3, 8).get().item()).toBe(5);
  });
  it('render as CUDA C and MSL', () => {
    const x = ma.array([1, 2, 3, 4]);
    const i = ma.array([0, 9, -2], 'int32');
    const arrays = [ma.take(x, i, 0, { mode: 'fill' }), ma.take(x, i, 0, { mode: 'wrap' }), x.at(i).add(1), ma.putAlongAxis(x, i, 1, 0, { mode: 'wrap' })];
    for (const backend of ['cuda', 'metal']) {
      const sources = ma.kernelSources(arrays, backend);
      expect(sources.length).toBeGreaterThan(0);
      expect(sources.some((k) => k.kind === 'scatter')).toBe(true);
    }
  });
});
