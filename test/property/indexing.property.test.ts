/**
 * Property tests of the indexing, rearranging and sorting ops against the oracle
 * (test/reference/indexing.ts): every dtype, inputs that are strided views (transposes,
 * slices with steps, flips, broadcasts), index arrays with negative and out-of-range
 * entries, and a fused consumer on top. Gathers and rearrangements copy values, so the
 * results must match exactly (bit for bit, NaN as NaN).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as R from '../reference/index.js';
import type { DType, RefArray } from '../reference/index.js';
import { drawAdvancedIndex } from './advanced-index.js';
import { evalBounds } from './bounds.js';
import { chance, type Draw, drawBroadcastable, drawFromGen, drawShape, type Node, pick } from './graphs.js';
import { buildLib, disposeAll, libFlat, type MA, ma } from './lib-eval.js';
import { drawInput, errorKind, PROFILES, params, TIMEOUT, thrown } from './reduce-cases.js';
import { BACKEND_DTYPES, FLOAT64_NOTE, backendDtypes } from '../support/backend.js';

interface Case {
  what: string;
  input: Node;
  lib: (x: MA) => MA;
  ref: (x: RefArray) => RefArray;
}

const same = (a: unknown, b: unknown): boolean => Object.is(a, b) || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));

function drawIndices(d: Draw, n: number, shape: number[]): { lib: MA; ref: RefArray; text: string } {
  const size = shape.reduce((p, x) => p * x, 1);
  // mostly in range, some negative, now and then out of range (clamped)
  const values = Array.from({ length: size }, () => (chance(d, 10) ? d.int(-2 * n - 3, 2 * n + 3) : n === 0 ? 0 : d.int(-n, n - 1)));
  return { lib: ma.array(Int32Array.from(values), 'int32').reshape(shape), ref: R.fromFlat('int32', shape, values), text: `[${values}] shape [${shape}]` };
}

function drawCase(d: Draw): Case {
  const dtype = pick(d, BACKEND_DTYPES) as DType;
  const shape = drawShape(d, 1, 3, 4);
  const input = drawInput(d, dtype, shape, pick(d, PROFILES));
  const rank = shape.length;
  const axis = d.int(-rank, rank - 1);
  const ax = axis < 0 ? axis + rank : axis;
  const kind = pick(d, [
    'take',
    'takeFlat',
    'takeAlongAxis',
    'tril',
    'triu',
    'roll',
    'tile',
    'repeat',
    'pad',
    'sort',
    'argsort',
    'topk',
    'scatterSet',
    'scatterAdd',
  ] as const);
  switch (kind) {
    case 'scatterSet':
    case 'scatterAdd': {
      // a.at(..., idx, ...).set/add(values): repeated indices, negative and clamped ones
      const k = d.int(0, 4);
      const idx = drawIndices(d, shape[ax], [k]);
      const index = R.toFlat(idx.ref).map(Number);
      const vshape = shape.map((s2, i) => (i === ax ? k : s2));
      if (shape[ax] === 0 && vshape.every((x) => x > 0)) return drawCase(d);
      const exactAdd = kind === 'scatterAdd';
      // adds only where they are exact: integers (wrapping) and small integers in float64
      const vdtype: DType = exactAdd ? pick(d, backendDtypes(['int32', 'int64', 'float64'] as const)) : dtype;
      const vals = R.fromFlat(
        vdtype,
        vshape,
        Array.from({ length: vshape.reduce((p, x) => p * x, 1) }, () => {
          const v = vdtype.startsWith('uint') ? d.int(0, 9) : d.int(-9, 9);
          return R.DTYPES[vdtype].big ? BigInt(v) : vdtype === 'bool' ? v & 1 : v;
        }),
      );
      const libVals = ma.array(R.toFlat(vals) as never, vdtype).reshape(vshape);
      const spec = shape.map((_, i) => (i === ax ? idx.lib : ma.range(null))) as ma.SliceSpec[];
      const wrap = (v: bigint) => (vdtype === 'int32' ? BigInt.asIntN(32, v) : BigInt.asIntN(64, v));
      const addScalar = (x: R.Scalar, y: R.Scalar): R.Scalar =>
        typeof x === 'bigint' ? wrap(x + (y as bigint)) : vdtype === 'int32' ? ((x as number) + (y as number)) | 0 : (x as number) + (y as number);
      return {
        what: `x.at(${spec.map((_, i) => (i === ax ? idx.text : ':')).join(', ')}).${exactAdd ? 'add' : 'set'}(values ${vdtype} [${vshape}])`,
        input,
        lib: (x) => {
          const xx = exactAdd ? x.astype(vdtype) : x;
          return exactAdd ? xx.at(...spec).add(libVals) : xx.at(...spec).set(libVals);
        },
        ref: (x) => {
          const xx = exactAdd ? R.astype(x, vdtype) : x;
          return R.indexing.scatterAlong(xx, index, exactAdd ? vals : R.astype(vals, dtype), ax, exactAdd ? 'add' : 'set', addScalar);
        },
      };
    }
    case 'sort':
    case 'argsort': {
      const flat = chance(d, 20);
      const which = kind;
      return {
        what: `ma.${which}(x, ${flat ? 'null' : axis})`,
        input,
        lib: (x) => (which === 'sort' ? ma.sort(x, flat ? null : axis) : ma.argsort(x, flat ? null : axis)),
        ref: (x) => R.indexing.sortAlong(x, flat ? null : axis, which === 'argsort'),
      };
    }
    case 'topk': {
      const k = d.int(0, shape[ax]);
      // the k largest, descending, equal values lowest index first: the reversed tail of
      // the stable ascending order of the reversed line
      return {
        what: `ma.topk(x, ${k}, ${axis})[1]`,
        input,
        lib: (x) => ma.topk(x, k, axis)[1],
        ref: (x) => {
          const n = shape[ax];
          const flipped = R.indexing.take(
            x,
            R.fromFlat(
              'int32',
              [n],
              Array.from({ length: n }, (_, j) => n - 1 - j),
            ),
            ax,
          );
          const order = R.indexing.sortAlong(flipped, ax, true);
          const tail = R.indexing.take(
            order,
            R.fromFlat(
              'int32',
              [k],
              Array.from({ length: k }, (_, j) => n - 1 - j),
            ),
            ax,
          );
          return R.fromFlat(
            'int32',
            R.shapeOf(tail),
            R.toFlat(tail).map((v) => n - 1 - Number(v)),
          );
        },
      };
    }
    case 'take': {
      const ishape = drawShape(d, 0, 2, 4);
      const idx = drawIndices(d, shape[ax], ishape);
      const n = ishape.reduce((p, x) => p * x, 1);
      // taking a non-empty result from an empty axis is an error: keep those out
      if (shape[ax] === 0 && n > 0 && shape.every((s, i) => i === ax || s > 0)) return drawCase(d);
      return { what: `ma.take(x, ${idx.text}, ${axis})`, input, lib: (x) => ma.take(x, idx.lib, axis), ref: (x) => R.indexing.take(x, idx.ref, axis) };
    }
    case 'takeFlat': {
      const size = shape.reduce((p, x) => p * x, 1);
      if (size === 0) return drawCase(d);
      const idx = drawIndices(d, size, drawShape(d, 1, 2, 0));
      return { what: `x.take(${idx.text})`, input, lib: (x) => x.take(idx.lib), ref: (x) => R.indexing.take(x, idx.ref, null) };
    }
    case 'takeAlongAxis': {
      const ishape = shape.map((s, i) => (i === ax ? d.int(0, 4) : chance(d, 30) ? 1 : s));
      if (shape[ax] === 0 && ishape.every((s) => s > 0)) return drawCase(d);
      const idx = drawIndices(d, shape[ax], ishape);
      return {
        what: `ma.takeAlongAxis(x, ${idx.text}, ${axis})`,
        input,
        lib: (x) => ma.takeAlongAxis(x, idx.lib, axis),
        ref: (x) => R.indexing.takeAlongAxis(x, idx.ref, axis),
      };
    }
    case 'tril':
    case 'triu': {
      if (rank < 2) return drawCase(d);
      const k = d.int(-3, 3);
      return {
        what: `ma.${kind}(x, ${k})`,
        input,
        lib: (x) => (kind === 'tril' ? ma.tril(x, k) : ma.triu(x, k)),
        ref: (x) => R.indexing.triangle(x, k, kind === 'tril'),
      };
    }
    case 'roll': {
      const s = d.int(-7, 7);
      if (chance(d, 30)) return { what: `ma.roll(x, ${s})`, input, lib: (x) => ma.roll(x, s), ref: (x) => R.indexing.roll(x, [s], null) };
      return { what: `ma.roll(x, ${s}, ${axis})`, input, lib: (x) => ma.roll(x, s, axis), ref: (x) => R.indexing.roll(x, [s], [axis]) };
    }
    case 'tile': {
      const reps = Array.from({ length: d.int(1, 3) }, () => d.int(0, 3));
      return { what: `ma.tile(x, [${reps}])`, input, lib: (x) => ma.tile(x, reps), ref: (x) => R.indexing.tile(x, reps) };
    }
    case 'repeat': {
      const r = d.int(0, 3);
      const flat = chance(d, 30);
      return {
        what: `ma.repeat(x, ${r}, ${flat ? 'null' : axis})`,
        input,
        lib: (x) => ma.repeat(x, r, flat ? null : axis),
        ref: (x) => R.indexing.repeat(x, r, flat ? null : axis),
      };
    }
    case 'pad': {
      const mode = pick(d, ['constant', 'edge', 'reflect'] as const);
      const widths = shape.map((s) => {
        const most = mode === 'reflect' ? Math.max(0, s - 1) : 3;
        return [d.int(0, Math.min(3, most)), d.int(0, Math.min(3, most))] as [number, number];
      });
      if (mode !== 'constant' && shape.some((s, i) => s === 0 && (widths[i][0] > 0 || widths[i][1] > 0))) return drawCase(d);
      const value = dtype === 'bool' ? 1 : 2;
      const refValue = R.DTYPES[dtype].big ? BigInt(value) : value;
      return {
        what: `ma.pad(x, ${JSON.stringify(widths)}, '${mode}', ${value})`,
        input,
        lib: (x) => ma.pad(x, widths, mode, value),
        ref: (x) => R.indexing.pad(x, widths, mode, refValue),
      };
    }
  }
}

/**
 * Half the time a consumer on top: where(mask, op(x), 0) with a drawn mask broadcast to
 * the result, so the op's output is read inside another kernel (a gather fuses into it).
 * Exact for every dtype, so the comparison stays bit for bit.
 */
function drawConsumer(d: Draw, shape: number[], dtype: DType): { what: string; lib: (y: MA) => MA; ref: (y: RefArray) => RefArray } | null {
  if (!chance(d, 50)) return null;
  const mshape = drawBroadcastable(d, shape);
  const bits = Array.from({ length: mshape.reduce((p, x) => p * x, 1) }, () => d.int(0, 1));
  const maskRef = R.fromFlat('bool', mshape, bits);
  const zero = R.fromFlat(dtype, [], [R.DTYPES[dtype].big ? 0n : 0]);
  return {
    what: `ma.where(mask [${mshape}] [${bits}], _, zeros(${dtype}))`,
    lib: (y) => ma.where(ma.array(Uint8Array.from(bits), 'bool').reshape(mshape), y, ma.zeros([], dtype)),
    ref: (y) => R.where(maskRef, y, zero),
  };
}

function check(c: Case, d: Draw): void {
  const created: MA[] = [];
  try {
    const x = buildLib(c.input, created);
    let want = c.ref(evalBounds(c.input).get(c.input)?.val as RefArray);
    let y = c.lib(x);
    created.push(y);
    let what = c.what;
    const consumer = drawConsumer(d, R.shapeOf(want), want.dtype);
    if (consumer) {
      want = consumer.ref(want);
      y = consumer.lib(y);
      created.push(y);
      what = `${consumer.what.replace('_', c.what)}`;
    }
    const wantShape = R.shapeOf(want);
    if (y.shape.join(',') !== wantShape.join(',')) throw new Error(`${what}: shape [${y.shape}], expected [${wantShape}]`);
    if (y.dtype !== want.dtype) throw new Error(`${what}: dtype ${y.dtype}, expected ${want.dtype}`);
    const got = libFlat(y);
    const exp = R.toFlat(want);
    const bad = got.findIndex((v, i) => !same(v, exp[i]));
    if (bad >= 0) throw new Error(`${what} on ${x.dtype} [${x.shape}]: element ${bad} is ${String(got[bad])}, expected ${String(exp[bad])}`);
  } finally {
    disposeAll(created);
  }
}

describe(`indexing and rearranging vs the oracle${FLOAT64_NOTE}`, () => {
  it(
    'take, takeAlongAxis, tril, triu, roll, tile, repeat, pad, sort, argsort, topk over every dtype and view kind',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          check(drawCase(d), d);
        }),
        params(150),
      );
    },
    TIMEOUT,
  );

  it('nonzero matches NumPy, and a gather fuses with its producer and consumer', () => {
    const x = ma.array([
      [0, 1, Number.NaN],
      [2, 0, -0],
    ]);
    const want = R.indexing.nonzero(R.fromFlat('float32', [2, 3], [0, 1, Number.NaN, 2, 0, -0]));
    expect(ma.nonzero(x).map((a) => a.tolist())).toEqual(want);
    expect(x.nonzero().map((a) => a.dtype)).toEqual(['int32', 'int32']);
    const a = ma.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const y = ma.take(a, ma.array([2, 0], 'int32'), 1).multiply(10);
    ma.resetMetrics();
    expect(y.tolist()).toEqual([
      [30, 10],
      [60, 40],
    ]);
    expect(ma.metrics().kernelLaunches).toBe(1);
    // a computed operand is materialized first, then gathered
    expect(ma.take(a.add(0.5).multiply(2).subtract(1).divide(2), [1, 1], 0).tolist()).toEqual([
      [4, 5, 6],
      [4, 5, 6],
    ]);
    // integer-array and boolean-mask indices in slice (NumPy advanced indexing, one array)
    const b = ma.arange(24).reshape(2, 3, 4);
    expect(b.slice(ma.range(null), ma.array([2, 0], 'int32')).tolist()).toEqual([
      [
        [8, 9, 10, 11],
        [0, 1, 2, 3],
      ],
      [
        [20, 21, 22, 23],
        [12, 13, 14, 15],
      ],
    ]);
    expect(b.slice('...', ma.array([3, -1], 'int32')).shape).toEqual([2, 3, 2]);
    const mask = ma.array([
      [true, false, true],
      [false, false, true],
    ]);
    expect(b.slice(mask).tolist()).toEqual([
      [0, 1, 2, 3],
      [8, 9, 10, 11],
      [20, 21, 22, 23],
    ]);
    expect(b.slice(0, ma.array([true, false, true])).tolist()).toEqual([
      [0, 1, 2, 3],
      [8, 9, 10, 11],
    ]);
    expect(() => b.slice(ma.array([true, false, true]))).toThrow(ma.ShapeError);
    expect(ma.where(ma.array([0, 3, 0, 1])).map((x) => x.tolist())).toEqual([[1, 3]]);
    // functional updates: repeated indices accumulate, the last set wins, masks select
    expect(
      ma
        .zeros([5])
        .at(ma.array([1, 1, 1, 3], 'int32'))
        .add(ma.array([1, 2, 3, 4]))
        .tolist(),
    ).toEqual([0, 6, 0, 4, 0]);
    expect(
      ma
        .zeros([3])
        .at(ma.array([2, 2], 'int32'))
        .set(ma.array([7, 9]))
        .tolist(),
    ).toEqual([0, 0, 9]);
    expect(
      ma
        .arange(6)
        .at(ma.array([true, false, true, false, false, true]))
        .multiply(10)
        .tolist(),
    ).toEqual([0, 1, 20, 3, 4, 50]);
    expect(ma.putAlongAxis(ma.zeros([2, 3]), ma.array([[2], [0]], 'int32'), 7, 1).tolist()).toEqual([
      [0, 0, 7],
      [7, 0, 0],
    ]);
    expect(() =>
      ma
        .zeros([3])
        .at([0, 2])
        .set(ma.zeros([3])),
    ).toThrow(ma.ShapeError);
    expect(() => ma.take(a, [0.5])).toThrow(ma.DTypeError);
    expect(() => ma.take(a, ma.array([1], 'float32'))).toThrow(ma.DTypeError);
    expect(() => ma.takeAlongAxis(a, [0, 1], 1)).toThrow(ma.ShapeError);
    expect(() => ma.pad(a, 3, 'reflect')).toThrow(ma.ShapeError);
    expect(() => ma.tril(ma.array([1, 2]))).toThrow(ma.ShapeError);
  });
});

/** Small integer values of `dtype` (exact in every dtype), row-major, of `shape`. */
function smallValues(d: Draw, dtype: DType, shape: readonly number[]): { lib: MA; ref: RefArray } {
  const size = shape.reduce((p, x) => p * x, 1);
  const raw = Array.from({ length: size }, () => (dtype === 'bool' ? d.int(0, 1) : dtype.startsWith('uint') ? d.int(0, 9) : d.int(-9, 9)));
  const ref = R.fromFlat(dtype, shape, R.DTYPES[dtype].big ? raw.map(BigInt) : raw);
  return { lib: ma.array(R.toFlat(ref) as never, dtype).reshape([...shape]), ref };
}

/**
 * One random advanced index (test/property/advanced-index.ts) on a random input of rank
 * 0-4 and any dtype: as a slice, as a slice under a fused consumer (one kernel), or as
 * the position of an `at().set` / `at().add`. Where the oracle throws, the library must
 * throw the same kind of error.
 */
function checkAdvanced(d: Draw): void {
  const dtype = pick(d, R.ALL_DTYPES) as DType;
  const shape = drawShape(d, 0, 4, 4);
  const input = drawInput(d, dtype, shape, pick(d, PROFILES));
  const idx = drawAdvancedIndex(d, shape);
  const mode = pick(d, ['slice', 'fused', 'set', 'add'] as const);
  const created: MA[] = [...idx.created];
  const what = `${mode} x${idx.text} on ${dtype} [${shape}]`;
  try {
    const x = buildLib(input, created);
    const xr = evalBounds(input).get(input)?.val as RefArray;
    let sel: RefArray | null = null;
    const refError = thrown(() => {
      sel = R.indexing.index(xr, idx.ref);
    });
    if (sel === null) {
      const got = thrown(() => {
        const y = x.slice(...idx.lib);
        created.push(y);
        y.eval();
      });
      expect(errorKind(got), what).toBe(errorKind(refError));
      return;
    }
    const selShape = R.shapeOf(sel);
    let y: MA;
    let want: RefArray;
    if (mode === 'slice' || mode === 'fused') {
      y = x.slice(...idx.lib);
      created.push(y);
      if (mode === 'fused') {
        // a consumer on top: the gather fuses into its kernel (masks were read already)
        y = ma.where(ma.array(true), y, y);
        created.push(y);
        ma.resetMetrics();
        y.eval();
        if (y.size > 0) expect(ma.metrics().kernelLaunches, `${what}: kernels`).toBe(1);
      }
      want = sel;
    } else if (mode === 'set') {
      const v = smallValues(d, dtype, drawBroadcastable(d, selShape));
      created.push(v.lib);
      y = x.at(...idx.lib).set(v.lib);
      want = R.indexing.scatterIndex(xr, idx.ref, R.broadcastTo(v.ref, selShape), 'set', (_, b) => b);
    } else {
      // adds only where they are exact: integers (wrapping) and small integers in float64
      const vdtype = pick(d, ['int32', 'int64', 'float64'] as const);
      const v = smallValues(d, vdtype, drawBroadcastable(d, selShape));
      created.push(v.lib);
      const wrap = (z: bigint) => BigInt.asIntN(64, z);
      const add = (p: R.Scalar, q: R.Scalar): R.Scalar =>
        typeof p === 'bigint' ? wrap(p + (q as bigint)) : vdtype === 'int32' ? ((p as number) + (q as number)) | 0 : (p as number) + (q as number);
      y = x
        .astype(vdtype)
        .at(...idx.lib)
        .add(v.lib);
      want = R.indexing.scatterIndex(R.astype(xr, vdtype), idx.ref, R.broadcastTo(v.ref, selShape), 'add', add);
    }
    created.push(y);
    expect(y.shape, `${what}: shape`).toEqual(R.shapeOf(want));
    expect(y.dtype, `${what}: dtype`).toBe(want.dtype);
    const got = libFlat(y);
    const exp = R.toFlat(want);
    const bad = got.findIndex((v, i) => !same(v, exp[i]));
    if (bad >= 0) throw new Error(`${what}: element ${bad} is ${String(got[bad])}, expected ${String(exp[bad])}`);
  } finally {
    disposeAll(created);
  }
}

/**
 * One element of `dtype` for a sort test: mostly from a pool of edge values (NaN, -0, 0,
 * infinities, the extremes, subnormals, small integers: many repeats, so stability
 * shows), else a random one.
 */
function sortValue(d: Draw, dtype: DType): R.Scalar {
  const info = R.DTYPES[dtype];
  if (info.kind === 'bool') return d.int(0, 1);
  if (info.kind !== 'float') {
    const lo = info.min as bigint;
    const hi = info.max as bigint;
    const pool = [lo, hi, lo + 1n, hi - 1n, 0n, 1n, 2n, 7n, hi / 2n].filter((v) => v >= lo && v <= hi);
    const v = chance(d, 70) ? pick(d, pool) : lo + ((hi - lo) * BigInt(d.int(0, 1 << 20))) / BigInt(1 << 20);
    return info.big ? v : Number(v);
  }
  const f = info.format as { mantissaBits: number; minExp: number; maxExp: number };
  const max = (2 - 2 ** -f.mantissaBits) * 2 ** f.maxExp;
  const pool = [
    Number.NaN,
    -0,
    0,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    max,
    -max,
    2 ** (f.minExp - f.mantissaBits),
    -(2 ** f.minExp),
    1,
    -1,
    0.5,
    3,
  ];
  const raw = chance(d, 60) ? pick(d, pool) : (d.int(-1 << 20, 1 << 20) / (1 << 10)) * 2 ** d.int(-8, 8);
  return R.castScalar(raw, 'float64', dtype);
}

describe('sort and argsort of long lines (the radix path) vs the oracle', () => {
  it(
    'every dtype, NaN, -0 and repeats, lines of 33-600 along either axis of a strided input',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const dtype = pick(d, R.ALL_DTYPES) as DType;
          const len = chance(d, 20) ? d.int(400, 600) : d.int(33, 100);
          const rows = d.int(1, 3);
          const shape = [rows, len];
          const values = Array.from({ length: rows * len }, () => sortValue(d, dtype));
          const base = R.fromFlat(dtype, shape, values);
          // a strided input: the line reversed, or the lines down axis 0 of the transpose
          const view = pick(d, ['plain', 'flip', 'transpose'] as const);
          const axis = view === 'transpose' ? 0 : -1;
          const ref = view === 'flip' ? R.flip(base, 1) : view === 'transpose' ? R.transpose(base) : base;
          const which = pick(d, ['sort', 'argsort'] as const);
          const created: MA[] = [];
          try {
            const x0 = ma.array(R.toFlat(base) as never, dtype).reshape(shape);
            created.push(x0);
            const x = view === 'flip' ? x0.flip(1) : view === 'transpose' ? x0.T : x0;
            const y = which === 'sort' ? ma.sort(x, axis) : ma.argsort(x, axis);
            created.push(y);
            const want = R.indexing.sortAlong(ref, axis, which === 'argsort');
            const got = libFlat(y);
            const exp = R.toFlat(want);
            const bad = got.findIndex((v, i) => !same(v, exp[i]));
            const what = `${which} ${view} ${dtype} [${shape}] axis ${axis}`;
            const show = (v: unknown) => (Object.is(v, -0) ? '-0' : String(v));
            if (bad >= 0) throw new Error(`${what}: element ${bad} is ${show(got[bad])}, expected ${show(exp[bad])}`);
          } finally {
            disposeAll(created);
          }
        }),
        params(60),
      );
    },
    TIMEOUT,
  );
});

describe('advanced indexing (several index arrays in one slice) vs the oracle', () => {
  it(
    'slice and at().set/add with arrays, masks, slices, integers, newaxis and ellipsis, adjacent and apart',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          checkAdvanced(drawFromGen(g));
        }),
        params(200),
      );
    },
    TIMEOUT,
  );

  it("places the broadcast dims by NumPy's rule and fuses the gather with its consumer", () => {
    const a = ma.arange(120).reshape(2, 3, 4, 5);
    a.eval(); // a buffer: arange is lazy, and a gather reads computed data through a materialized copy
    const i = ma.array([[0], [2]], 'int32'); // [2, 1]
    const j = Int32Array.of(1, -1, 3); // [3]
    // adjacent: the broadcast dims [2, 3] stand where the arrays stood
    expect(a.slice(ma.range(null), i, j).shape).toEqual([2, 2, 3, 5]);
    // apart (a slice between): they come first
    expect(a.slice(i, ma.range(null), j).shape).toEqual([2, 3, 3, 5]);
    // an integer counts as advanced, so 0 and j apart put [3] first (NumPy: a[0, :, j])
    expect(a.slice(0, ma.range(null), j).shape).toEqual([3, 3, 5]);
    expect(a.slice(ma.range(null), 0, j).shape).toEqual([2, 3, 5]);
    // '...' separates even when it stands for no axis (NumPy: a[:, [0], ..., [0]] on rank 3)
    expect(ma.zeros([3, 4, 5]).slice(ma.range(null), Int32Array.of(0), '...', Int32Array.of(0)).shape).toEqual([1, 3]);
    // values: a[1, i, j] with a of shape [2, 3, 4, 5] -> [2, 3, 5], read at (1, i, j, :)
    const got = a.slice(1, i, j);
    expect(got.shape).toEqual([2, 3, 5]);
    expect(got.slice(1, 2).tolist()).toEqual([115, 116, 117, 118, 119]); // 60 + 2 * 20 + 3 * 5 + [0..4]
    const y = a.slice(ma.range(null), i, null, j).exp();
    ma.resetMetrics();
    y.eval();
    expect(ma.metrics().kernelLaunches).toBe(1);
    // at() with the same index: repeated positions accumulate for add, the last set wins
    const z = ma.zeros([3, 4]);
    expect(
      z
        .at(Int32Array.of(0, 0, 2), Int32Array.of(1, 1, -1))
        .add(ma.array([1, 2, 4]))
        .tolist(),
    ).toEqual([
      [0, 3, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 4],
    ]);
    expect(
      z
        .at(Int32Array.of(0, 0), Int32Array.of(1, 1))
        .set(ma.array([5, 6]))
        .tolist(),
    ).toEqual([
      [0, 6, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('throws typed errors for indices NumPy rejects', () => {
    const a = ma.arange(24).reshape(2, 3, 4);
    const two = Int32Array.of(0, 1);
    const three = Int32Array.of(0, 1, 2);
    expect(() => a.slice(two, three)).toThrow(ma.ShapeError); // [2] and [3] do not broadcast
    expect(() => a.slice(two, ma.array([0.5, 1]))).toThrow(ma.DTypeError);
    expect(() => a.slice(two, Float32Array.of(0, 1) as unknown as ma.SliceSpec)).toThrow(ma.DTypeError);
    expect(() => a.slice(two, 0, two, 0)).toThrow(ma.ShapeError); // 4 indices for rank 3
    expect(() => a.slice('...', two, '...')).toThrow(ma.ShapeError);
    expect(() => a.slice(two, ma.array([true, false]))).toThrow(ma.ShapeError); // mask [2] over an axis of 3
    expect(() => a.slice(two, 5)).toThrow(ma.ShapeError); // an integer out of range
    expect(() => ma.zeros([2, 0]).slice(two, Int32Array.of(0, 0))).toThrow(ma.ShapeError); // an empty axis
    expect(ma.zeros([2, 0]).slice(Int32Array.of(), Int32Array.of()).shape).toEqual([0]);
    expect(() => a.slice(two, { a: 1 } as unknown as ma.SliceSpec)).toThrow(ma.ArgumentError);
    expect(() => a.at(two, three).set(1)).toThrow(ma.ShapeError);
    expect(() => a.at(two, two).set(ma.zeros([3]))).toThrow(ma.ShapeError); // values [3] for a selection [2, 4]
  });
});
