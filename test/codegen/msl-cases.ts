/**
 * Small cases with their oracle results, one or more per GPU strategy (gpu.ts): run on
 * the host execution shim (msl-exec.test.ts) and on a real Metal device
 * (test/gpu/metal.test.ts).
 */
import { expect } from 'vitest';
import * as ma from '../../src/index.js';
import type { DType } from '../../src/core/dtype.js';
import * as R from '../reference/index.js';

/** Inputs shared by the library and the oracle. */
function values(n: number, kind: 'float' | 'int' | 'small' | 'bool', seed = 1): number[] {
  const out: number[] = [];
  let s = seed * 7919;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const u = s / 2147483648;
    out.push(kind === 'float' ? (u - 0.5) * 6 : kind === 'int' ? Math.floor((u - 0.5) * 2000) : kind === 'small' ? Math.floor(u * 7) - 3 : u < 0.5 ? 0 : 1);
  }
  return out;
}

interface Input {
  lib: ma.MetalArray;
  ref: R.RefArray;
}

function input(shape: number[], dtype: DType, kind: 'float' | 'int' | 'small' | 'bool', seed = 1): Input {
  const n = shape.reduce((p, d) => p * d, 1);
  const v = values(n, kind, seed);
  // Integers wrap into the dtype's range here (arrays refuse values that don't fit).
  const wrap = (x: number): number => {
    const info = INT_RANGE[dtype];
    if (info === undefined) return x;
    const span = info.max - info.min + 1;
    return ((((x - info.min) % span) + span) % span) + info.min;
  };
  const vals = dtype === 'bool' ? v.map((x) => x !== 0) : dtype === 'int64' || dtype === 'uint64' ? v.map((x) => BigInt(x)) : v.map(wrap);
  return { lib: ma.array(vals as number[], dtype).reshape(shape), ref: R.reshape(R.array(vals as number[], dtype), shape) };
}

const INT_RANGE: Partial<Record<DType, { min: number; max: number }>> = {
  int8: { min: -128, max: 127 },
  uint8: { min: 0, max: 255 },
  int16: { min: -32768, max: 32767 },
  uint16: { min: 0, max: 65535 },
  int32: { min: -(2 ** 31), max: 2 ** 31 - 1 },
  uint32: { min: 0, max: 2 ** 32 - 1 },
};

/**
 * Sort keys with ties, NaN and both zeros: small integers (many repeats), every 7th a
 * NaN, every 5th zero a -0 (stability decides where each zero lands).
 */
function sortKeys(n: number, seed: number): number[] {
  return values(n, 'small', seed).map((v, i) => (i % 7 === 3 ? Number.NaN : v === 0 && i % 5 === 0 ? -0 : v / 2));
}

function keysInput(shape: number[], dtype: DType, seed: number): Input {
  const v = sortKeys(
    shape.reduce((p, d) => p * d, 1),
    seed,
  );
  const vals = dtype === 'bool' ? v.map((x) => x > 0) : dtype === 'int64' ? v.map((x) => BigInt(Number.isNaN(x) ? 9 : Math.round(x * 2))) : v;
  return { lib: ma.array(vals as number[], dtype).reshape(shape), ref: R.reshape(R.array(vals as number[], dtype), shape) };
}

type ScatterHow = 'set' | 'add' | 'multiply' | 'maximum' | 'minimum';

/**
 * The oracle of a scatter: `base` with each update combined, in order, into the element
 * at its linear position, rounded to float32 at every step for float32 (other float
 * values here are small integers, exact in their dtype; NaN propagates through maximum
 * and minimum).
 */
function scatterRef(base: R.RefArray, positions: readonly number[], updates: readonly number[], how: ScatterHow): R.RefArray {
  const out = R.toFlat(base).map(Number);
  const combine: Record<ScatterHow, (t: number, u: number) => number> = {
    set: (_t, u) => u,
    add: (t, u) => t + u,
    multiply: (t, u) => t * u,
    maximum: (t, u) => (Number.isNaN(t) || Number.isNaN(u) ? Number.NaN : Math.max(t, u)),
    minimum: (t, u) => (Number.isNaN(t) || Number.isNaN(u) ? Number.NaN : Math.min(t, u)),
  };
  const round = base.dtype === 'float32' ? Math.fround : (v: number) => v;
  positions.forEach((at, k) => {
    out[at] = round(combine[how](out[at], updates[k]));
  });
  return R.fromFlat(base.dtype, [...base.nd.shape], out);
}

/** The topk oracle: the k largest along the last axis, descending, NaN first, equal values lowest index first. */
function topkRef(x: R.RefArray, k: number): { values: R.RefArray; indices: R.RefArray } {
  const shape = [...x.nd.shape];
  const n = shape[shape.length - 1];
  const flat = R.toFlat(x).map(Number);
  const vals: number[] = [];
  const idx: number[] = [];
  for (let line = 0; line < flat.length / n; line++) {
    const row = flat.slice(line * n, line * n + n);
    const order = row
      .map((_, j) => j)
      .sort((p, q) => {
        const a = row[p];
        const b = row[q];
        if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) === Number.isNaN(b) ? p - q : Number.isNaN(a) ? -1 : 1;
        return b - a || p - q;
      });
    for (const j of order.slice(0, k)) {
      vals.push(row[j]);
      idx.push(j);
    }
  }
  const out = [...shape.slice(0, -1), k];
  return { values: R.fromFlat(x.dtype, out, vals), indices: R.fromFlat('int32', out, idx) };
}

export interface Case {
  name: string;
  /** Strategies (gpu.ts) the case must launch, so each kernel kind is covered. */
  strategies: string[];
  run(): { lib: ma.MetalArray; ref: R.RefArray };
  /** Relative tolerance for floats (the shim uses the host's libm, not Apple's). */
  tol?: number;
  /** Something a kernel of the case must contain (e.g. a SIMD-group fold). */
  source?: RegExp;
  /** A grid (threadgroups x, y, z) one of the case's launches must have. */
  grid?: number[];
}

export const f32 = (shape: number[], seed = 1): Input => input(shape, 'float32', 'float', seed);

/** The SIMD-group matrix matmul kernel (gpu.ts renderMatmulSimdgroup). */
const SIMDGROUP_MMA = /simdgroup_multiply_accumulate\(/;

export const CASES: Case[] = [
  {
    name: 'contiguous elementwise chain, float32 (vector loads)',
    tol: 1e-6,
    strategies: ['flat'],
    run: () => {
      const a = f32([6, 10]);
      const b = f32([6, 10], 2);
      return { lib: a.lib.add(b.lib).exp().multiply(2), ref: R.binary('multiply', R.unary('exp', R.binary('add', a.ref, b.ref)), 2) };
    },
  },
  {
    name: 'strided: transpose, negative-step slice, broadcast',
    tol: 1e-6,
    strategies: ['flat'],
    run: () => {
      const a = f32([5, 7]);
      const c = f32([7], 3);
      const lib = ma
        .slice(a.lib.T, '::-1')
        .add(c.lib.reshape([7, 1]))
        .tanh();
      const ref = R.unary('tanh', R.binary('add', R.slice(R.transpose(a.ref), [null, null, -1]), R.reshape(c.ref, [7, 1])));
      return { lib, ref };
    },
  },
  {
    name: 'gated concatenation and a reshape through div/mod',
    strategies: ['flat'],
    run: () => {
      const a = f32([3, 4]);
      const b = f32([3, 2], 4);
      const lib = ma.concatenate([a.lib, b.lib], 1).T.reshape([-1]).erf();
      const ref = R.unary('erf', R.reshape(R.transpose(R.concatenate([a.ref, b.ref], 1)), [-1]));
      return { lib, ref };
    },
    tol: 2e-6,
  },
  {
    name: 'integers wrap and divide like C: int32, int8, uint8, int64',
    strategies: ['flat'],
    run: () => {
      const a = input([4, 9], 'int32', 'int');
      const b = input([4, 9], 'int32', 'small', 5);
      const q = a.lib.multiply(a.lib).floorDivide(b.lib.add(4)).astype('int8');
      const qr = R.astype(R.binary('floorDivide', R.binary('multiply', a.ref, a.ref), R.binary('add', b.ref, 4)), 'int8');
      return { lib: q, ref: qr };
    },
  },
  {
    name: 'int64 and uint8 arithmetic, shifts',
    strategies: ['flat'],
    run: () => {
      const a = input([3, 5], 'int64', 'int');
      const s = input([3, 5], 'uint8', 'small', 6);
      const lib = a.lib.leftShift(3).subtract(a.lib).add(s.lib.astype('int64'));
      const ref = R.binary('add', R.binary('subtract', R.binary('leftShift', a.ref, 3), a.ref), R.astype(s.ref, 'int64'));
      return { lib, ref };
    },
  },
  {
    name: 'float16 and bfloat16 round like the C renderer',
    strategies: ['flat'],
    run: () => {
      const a = input([4, 6], 'float16', 'float');
      const b = input([4, 6], 'bfloat16', 'float', 2);
      const lib = a.lib.sqrt().add(b.lib.astype('float16')).multiply(1.5);
      const ref = R.binary('multiply', R.binary('add', R.unary('sqrt', a.ref), R.astype(b.ref, 'float16')), 1.5);
      return { lib, ref };
    },
    tol: 1e-3,
  },
  {
    name: 'gathers: take with negative indices along an axis, then a reflect pad',
    strategies: ['flat'],
    run: () => {
      const a = f32([4, 9], 17);
      const idx = [2, -1, 0, 5];
      const lib = ma.pad(ma.take(a.lib, ma.array(idx, 'int32'), 1), [1, 2], 'reflect');
      const taken = R.indexing.take(a.ref, R.array(idx, 'int32'), 1);
      const widths: [number, number][] = [
        [1, 2],
        [1, 2],
      ];
      const ref = R.indexing.pad(taken, widths, 'reflect', 0);
      return { lib, ref };
    },
  },
  {
    name: 'gathers: two index arrays apart in one slice (one gather over two axes), then exp',
    strategies: ['flat'],
    run: () => {
      const a = f32([3, 4, 5], 19);
      const i = [[0], [-1]];
      const j = [4, 1, 9];
      const lib = a.lib.slice(ma.array(i, 'int32'), ma.range(null), ma.array(j, 'int64')).exp();
      const ref = R.unary('exp', R.indexing.index(a.ref, [{ array: R.array(i, 'int32') }, [null], { array: R.array(j, 'int64') }]));
      return { lib, ref };
    },
    tol: 1e-6,
  },
  {
    name: 'row sums (one threadgroup per output, simd_sum + threadgroup memory)',
    strategies: ['element'],
    source: /simd_sum\(acc\)/,
    run: () => {
      const a = f32([5, 300]);
      return { lib: ma.sum(a.lib, 1), ref: R.sum(a.ref, 1) };
    },
    tol: 1e-5,
  },
  {
    name: 'column sums and an all-reduce',
    strategies: ['flat'],
    run: () => {
      const a = f32([40, 6], 2);
      return { lib: ma.sum(a.lib, 0), ref: R.sum(a.ref, 0) };
    },
    tol: 1e-5,
  },
  {
    name: 'a max over a size-1 axis nested in a sum (the inner body lives in the outer loop)',
    strategies: ['element'],
    run: () => {
      const a = f32([7, 5], 31);
      return {
        lib: ma.sum(ma.exp(ma.max(ma.expandDims(a.lib, -1), 2)), 1),
        ref: R.sum(R.unary('exp', R.max(R.expandDims(a.ref, -1), 2)), 1),
      };
    },
    tol: 1e-5,
  },
  {
    name: 'a sum over a broadcast axis nested in a full sum',
    strategies: ['element'],
    run: () => {
      const a = f32([3, 6], 32);
      const inner = (x: ma.MetalArray): ma.MetalArray => ma.sum(ma.broadcastTo(ma.expandDims(x, 0), [4, 3, 6]), 0);
      const refInner = R.sum(R.broadcastTo(R.expandDims(a.ref, 0), [4, 3, 6]), 0);
      return { lib: ma.sum(inner(a.lib).multiply(inner(a.lib))), ref: R.sum(R.binary('multiply', refInner, refInner)) };
    },
    tol: 1e-5,
  },
  {
    name: 'full reduction: max of |x| over everything',
    strategies: ['element'],
    run: () => {
      const a = f32([33, 17], 3);
      return { lib: ma.max(a.lib.abs()), ref: R.max(R.unary('abs', a.ref)) };
    },
  },
  // Split reductions: few outputs over many elements are spread over several
  // threadgroups per output, each writing a partial; a second (fold) dispatch folds them.
  {
    name: 'split full sum: partials from 10 threadgroups, then the fold dispatch',
    strategies: ['element', 'element fold'],
    grid: [1, 10, 1],
    run: () => {
      const a = f32([100, 210], 18);
      return { lib: ma.sum(a.lib), ref: R.sum(a.ref) };
    },
    tol: 1e-5,
  },
  {
    name: 'split row sums of 3 long rows: 4 partials per output',
    strategies: ['element', 'element fold'],
    grid: [3, 4, 1],
    run: () => {
      const a = f32([3, 9000], 19);
      return { lib: ma.sum(a.lib, 1), ref: R.sum(a.ref, 1) };
    },
    tol: 1e-5,
  },
  {
    name: 'split int32 max of a strided view (simd_max partials)',
    strategies: ['element', 'element fold'],
    run: () => {
      const a = input([90, 120], 'int32', 'int', 21);
      return { lib: ma.max(a.lib.T), ref: R.max(R.transpose(a.ref)) };
    },
  },
  {
    name: 'int32 max along rows (simd_max)',
    strategies: ['element'],
    source: /simd_max\(acc\)/,
    run: () => {
      const a = input([6, 90], 'int32', 'int', 15);
      return { lib: ma.max(a.lib, 1), ref: R.max(a.ref, 1) };
    },
  },
  {
    name: 'uint32 sum along rows (simd_sum), wrapping',
    strategies: ['element'],
    source: /simd_sum\(acc\)/,
    run: () => {
      const u = input([6, 90], 'uint32', 'int', 16);
      return { lib: ma.sum(u.lib, 1), ref: R.sum(u.ref, 1) };
    },
  },
  {
    name: 'int64 sum and argmax along rows',
    strategies: ['element'],
    run: () => {
      const a = input([6, 70], 'int32', 'int', 4);
      return { lib: ma.argmax(a.lib, 1), ref: R.argmax(a.ref, 1) };
    },
  },
  {
    name: 'softmax: row-constant reductions once per row, then the row',
    strategies: ['rows'],
    run: () => {
      const a = f32([4, 50], 5);
      return { lib: ma.softmax(a.lib, -1), ref: R.softmax(a.ref, -1) };
    },
    tol: 1e-5,
  },
  {
    name: 'scans: cumsum and cummax along the last axis',
    strategies: ['scan'],
    run: () => {
      const a = f32([3, 20], 6);
      return { lib: ma.cumsum(a.lib, 1).add(ma.cummax(a.lib, 1)), ref: R.binary('add', R.scan('cumsum', a.ref, 1), R.scan('cummax', a.ref, 1)) };
    },
    tol: 1e-5,
  },
  {
    name: 'matmul with edges (not multiples of the tile) and a fused relu(a@b + bias)',
    strategies: ['matmul'],
    source: SIMDGROUP_MMA,
    run: () => {
      const a = f32([70, 19], 7);
      const b = f32([19, 66], 8);
      const bias = f32([66], 9);
      return { lib: ma.matmul(a.lib, b.lib).add(bias.lib).relu(), ref: R.unary('relu', R.binary('add', R.matmul(a.ref, b.ref), bias.ref)) };
    },
    tol: 1e-5,
  },
  {
    name: 'float16 matmul, rounded once to float16',
    strategies: ['matmul'],
    source: SIMDGROUP_MMA,
    run: () => {
      const a = input([12, 33], 'float16', 'float', 13);
      const b = input([33, 9], 'float16', 'float', 14);
      return { lib: ma.matmul(a.lib, b.lib), ref: R.matmul(a.ref, b.ref) };
    },
    tol: 2e-3,
  },
  {
    name: 'batched matmul of a transposed operand, int32 (the scalar kernel)',
    strategies: ['matmul'],
    source: /^(?![\s\S]*simdgroup_)[\s\S]*acc\[ii\]\[jj\]/,
    run: () => {
      const a = input([2, 5, 9], 'int32', 'small', 10);
      const b = input([2, 7, 9], 'int32', 'small', 11);
      return { lib: ma.matmul(a.lib, b.lib.transpose([0, 2, 1])), ref: R.matmul(a.ref, R.transpose(b.ref, [0, 2, 1])) };
    },
  },
  // The SIMD-group matrix kernel (64×64 tiles, K in steps of 32): sizes around and across
  // the tile and step edges, degenerate 1-sized dims, batches, transposes and broadcasts.
  ...(
    [
      [1, 1, 1],
      [1, 130, 7],
      [130, 1, 65],
      [64, 32, 64],
      [65, 33, 63],
      [129, 97, 130],
    ] as const
  ).map(
    ([m, k, n], c): Case => ({
      name: `simdgroup matmul ${m}×${k} @ ${k}×${n}, float32`,
      strategies: ['matmul'],
      source: SIMDGROUP_MMA,
      run: () => {
        const a = f32([m, k], 20 + c);
        const b = f32([k, n], 30 + c);
        return { lib: ma.matmul(a.lib, b.lib), ref: R.matmul(a.ref, b.ref) };
      },
      tol: 1e-5 * Math.max(1, Math.sqrt(k)),
      grid: [Math.ceil(n / 64), Math.ceil(m / 64), 1],
    }),
  ),
  {
    name: 'simdgroup matmul: batched, A transposed, B broadcast over a batch dim, scaled epilogue',
    strategies: ['matmul'],
    source: SIMDGROUP_MMA,
    grid: [1, 2, 6],
    run: () => {
      const a = f32([2, 1, 40, 70], 41);
      const b = f32([3, 40, 9], 42);
      const at = a.lib.transpose([0, 1, 3, 2]);
      const lib = ma.matmul(at, b.lib).multiply(0.5).subtract(1); // out [2, 3, 70, 9]: 6 batches
      const ref = R.binary('subtract', R.binary('multiply', R.matmul(R.transpose(a.ref, [0, 1, 3, 2]), b.ref), 0.5), 1);
      return { lib, ref };
    },
    tol: 1e-5,
  },
  {
    name: 'simdgroup matmul: B transposed, a negative-step slice of A, relu(a@b + bias) fused',
    strategies: ['matmul'],
    source: SIMDGROUP_MMA,
    run: () => {
      const a = f32([67, 45], 43);
      const b = f32([70, 45], 44);
      const bias = f32([70], 45);
      const as = ma.slice(a.lib, '::-1');
      const lib = ma.matmul(as, b.lib.T).add(bias.lib).relu();
      const ref = R.unary('relu', R.binary('add', R.matmul(R.slice(a.ref, [null, null, -1]), R.transpose(b.ref)), bias.ref));
      return { lib, ref };
    },
    tol: 1e-5,
  },
  {
    name: 'simdgroup matmul: bfloat16 operands, float32 accumulation',
    strategies: ['matmul'],
    source: SIMDGROUP_MMA,
    run: () => {
      const a = input([3, 37], 'bfloat16', 'float', 46);
      const b = input([37, 66], 'bfloat16', 'float', 47);
      return { lib: ma.matmul(a.lib, b.lib), ref: R.matmul(a.ref, b.ref) };
    },
    tol: 1e-2,
  },
  {
    name: 'simdgroup matmul: float16 batched with edges, rounded once to float16',
    strategies: ['matmul'],
    source: SIMDGROUP_MMA,
    run: () => {
      const a = input([2, 70, 35], 'float16', 'float', 48);
      const b = input([2, 35, 3], 'float16', 'float', 49);
      return { lib: ma.matmul(a.lib, b.lib), ref: R.matmul(a.ref, b.ref) };
    },
    tol: 2e-3,
  },
  {
    name: 'sort: 300 float32 lines of 17 with NaN, -0 and ties (240 lines per tile, two groups)',
    strategies: ['sort'],
    run: () => {
      const a = keysInput([300, 17], 'float32', 21);
      return { lib: ma.sort(a.lib), ref: R.indexing.sortAlong(a.ref, -1, false) };
    },
  },
  {
    name: 'argsort: lines of 1 and 2 (stable ties, NaN last)',
    strategies: ['sort'],
    run: () => {
      const a = ma.array([1, 1, Number.NaN, 0, -0, 0, 2, Number.NaN], 'float32').reshape([4, 2]);
      const b = ma.array([5, Number.NaN, -1, -0], 'float32').reshape([4, 1]);
      const ra = R.reshape(R.array([1, 1, Number.NaN, 0, -0, 0, 2, Number.NaN], 'float32'), [4, 2]);
      const rb = R.reshape(R.array([5, Number.NaN, -1, -0], 'float32'), [4, 1]);
      return {
        lib: ma.concatenate([ma.argsort(a), ma.argsort(b)], 1),
        ref: R.concatenate([R.indexing.sortAlong(ra, -1, true), R.indexing.sortAlong(rb, -1, true)], 1),
      };
    },
  },
  {
    name: 'argsort: float32 lines of 1000 of a fused producer (one tile, NaN and ties)',
    strategies: ['sort'],
    run: () => {
      const a = keysInput([2, 1000], 'float32', 22);
      return { lib: ma.argsort(a.lib.multiply(-2).add(1)), ref: R.indexing.sortAlong(R.binary('add', R.binary('multiply', a.ref, -2), 1), -1, true) };
    },
  },
  {
    name: 'sort and argsort: float32 lines of 5000 merge in the scratch buffer (several tiles)',
    strategies: ['sort'],
    run: () => {
      const a = keysInput([2, 5000], 'float32', 23);
      const lib = ma.concatenate([ma.sort(a.lib), ma.argsort(a.lib).astype('float32')], 1);
      const ref = R.concatenate([R.indexing.sortAlong(a.ref, -1, false), R.astype(R.indexing.sortAlong(a.ref, -1, true), 'float32')], 1);
      return { lib, ref };
    },
  },
  {
    name: 'argsort: a float32 line of 20000 and an int64 sort of 9000 (several merge-path passes in scratch)',
    strategies: ['sort'],
    run: () => {
      const a = keysInput([1, 20000], 'float32', 40);
      const b = keysInput([1, 9000], 'int64', 41);
      const lib = ma.concatenate([ma.argsort(a.lib).astype('int64'), ma.sort(b.lib)], 1);
      const ref = R.concatenate([R.astype(R.indexing.sortAlong(a.ref, -1, true), 'int64'), R.indexing.sortAlong(b.ref, -1, false)], 1);
      return { lib, ref };
    },
  },
  {
    name: 'argsort: float16 lines of 5000 (keys compared as floats, stored as bits)',
    strategies: ['sort'],
    run: () => {
      const a = keysInput([2, 5000], 'float16', 24);
      return { lib: ma.argsort(a.lib), ref: R.indexing.sortAlong(a.ref, -1, true) };
    },
  },
  {
    name: 'sort: float16 values of 1000 and bfloat16 of 40',
    strategies: ['sort'],
    run: () => {
      const a = keysInput([3, 1000], 'float16', 25);
      const b = keysInput([3, 40], 'bfloat16', 26);
      const lib = ma.concatenate([ma.sort(a.lib).astype('float32'), ma.sort(b.lib).astype('float32')], 1);
      const ref = R.concatenate([R.astype(R.indexing.sortAlong(a.ref, -1, false), 'float32'), R.astype(R.indexing.sortAlong(b.ref, -1, false), 'float32')], 1);
      return { lib, ref };
    },
  },
  {
    name: 'sort and argsort: int64 lines of 1000 and 5000 (64-bit keys, tiles of 2048 and 1024)',
    strategies: ['sort'],
    run: () => {
      const a = input([2, 5000], 'int64', 'int', 27);
      const b = keysInput([3, 1000], 'int64', 28);
      const lib = ma.concatenate([
        ma.sort(a.lib).reshape([-1]),
        ma.argsort(a.lib).astype('int64').reshape([-1]),
        ma.argsort(b.lib).astype('int64').reshape([-1]),
      ]);
      const ref = R.concatenate([
        R.reshape(R.indexing.sortAlong(a.ref, -1, false), [-1]),
        R.reshape(R.astype(R.indexing.sortAlong(a.ref, -1, true), 'int64'), [-1]),
        R.reshape(R.astype(R.indexing.sortAlong(b.ref, -1, true), 'int64'), [-1]),
      ]);
      return { lib, ref };
    },
  },
  {
    name: 'argsort: bool lines of 5000 and 33 (1-byte keys, all ties)',
    strategies: ['sort'],
    run: () => {
      const a = keysInput([2, 5000], 'bool', 29);
      const b = keysInput([2, 33], 'bool', 30);
      const lib = ma.concatenate([ma.argsort(a.lib).reshape([-1]), ma.argsort(b.lib).reshape([-1]), ma.sort(b.lib).astype('int32').reshape([-1])]);
      const ref = R.concatenate([
        R.reshape(R.indexing.sortAlong(a.ref, -1, true), [-1]),
        R.reshape(R.indexing.sortAlong(b.ref, -1, true), [-1]),
        R.reshape(R.astype(R.indexing.sortAlong(b.ref, -1, false), 'int32'), [-1]),
      ]);
      return { lib, ref };
    },
  },
  {
    name: 'sort along the first axis and a batched argsort of a 3-d array (uint16, int8)',
    strategies: ['sort'],
    run: () => {
      const a = input([40, 3], 'uint16', 'int', 31);
      const b = input([2, 3, 20], 'int8', 'small', 32);
      const lib = ma.concatenate([ma.sort(a.lib, 0).astype('int32').reshape([-1]), ma.argsort(b.lib, 2).reshape([-1]), ma.argsort(b.lib, 1).reshape([-1])]);
      const ref = R.concatenate([
        R.reshape(R.astype(R.indexing.sortAlong(a.ref, 0, false), 'int32'), [-1]),
        R.reshape(R.indexing.sortAlong(b.ref, 2, true), [-1]),
        R.reshape(R.indexing.sortAlong(b.ref, 1, true), [-1]),
      ]);
      return { lib, ref };
    },
  },
  {
    name: 'topk: the 5 largest of lines of 30, with NaN and ties (values and indices)',
    strategies: ['sort'],
    run: () => {
      const a = keysInput([3, 30], 'float32', 33);
      const [v, i] = ma.topk(a.lib, 5);
      const want = topkRef(a.ref, 5);
      return { lib: ma.concatenate([v, i.astype('float32')], 1), ref: R.concatenate([want.values, R.astype(want.indices, 'float32')], 1) };
    },
  },
  {
    name: 'scatter: at().set and at().add with repeated indices (last set wins, adds in order)',
    strategies: ['scatter'],
    run: () => {
      const a = input([10], 'float32', 'small', 34);
      const at = [1, 3, 1, 7, 3, 1];
      const u = [5, -2, 7, 1, 4, -3];
      const set = a.lib.at(ma.array(at, 'int32')).set(ma.array(u, 'float32'));
      const add = a.lib.at(ma.array(at, 'int32')).add(ma.array(u, 'float32'));
      return {
        lib: ma.concatenate([set, add]),
        ref: R.concatenate([scatterRef(a.ref, at, u, 'set'), scatterRef(a.ref, at, u, 'add')]),
      };
    },
  },
  {
    name: "index modes: 'fill' and 'wrap' gathers fused in one kernel, a scatter dropping out-of-range updates (positions -1)",
    strategies: ['flat', 'scatter'],
    run: () => {
      const a = input([10], 'float32', 'small', 35);
      const idx = [0, 12, -3, -11, 9];
      const i = ma.array(idx, 'int32');
      const gathered = ma.take(a.lib, i, 0, { mode: 'fill', fillValue: -1 }).add(ma.take(a.lib, i, 0, { mode: 'wrap' }));
      const at = [1, 30, -1, -30, 1];
      const u = [5, -2, 7, 1, 4];
      const added = a.lib.at(ma.array(at, 'int32')).add(ma.array(u, 'float32'));
      const kept = at.flatMap((p, k) => (p >= -10 && p < 10 ? [[p < 0 ? p + 10 : p, u[k]]] : []));
      const gref = R.binary('add', R.indexing.take(a.ref, R.array(idx, 'int32'), 0, 'fill', -1), R.indexing.take(a.ref, R.array(idx, 'int32'), 0, 'wrap'));
      return {
        lib: ma.concatenate([gathered, added]),
        ref: R.concatenate([
          gref,
          scatterRef(
            a.ref,
            kept.map((x) => x[0]),
            kept.map((x) => x[1]),
            'add',
          ),
        ]),
      };
    },
  },
  {
    name: 'scatter: positions that never decrease, in runs crossing threads (one thread per run, in order)',
    strategies: ['scatter'],
    run: () => {
      const a = f32([300], 39);
      const at = Array.from({ length: 700 }, (_, k) => Math.floor((k * 3) / 7));
      const u = Array.from({ length: 700 }, (_, k) => ((k * 37) % 101) / 10 - 5);
      const idx = ma.array(at, 'int32');
      const vals = ma.array(u, 'float32');
      const uf = u.map(Math.fround);
      return {
        lib: ma.concatenate([a.lib.at(idx).set(vals), a.lib.at(idx).add(vals), a.lib.at(idx).max(vals)]),
        ref: R.concatenate([scatterRef(a.ref, at, uf, 'set'), scatterRef(a.ref, at, uf, 'add'), scatterRef(a.ref, at, uf, 'maximum')]),
      };
    },
  },
  {
    name: 'scatter: multiply (int32), min and max (float32 with NaN) at repeated indices of a fused base',
    strategies: ['scatter'],
    run: () => {
      const a = input([12], 'int32', 'small', 35);
      const f = input([12], 'float32', 'small', 36);
      const at = [0, 5, 5, 11, 0, 5];
      const u = [3, -2, 2, 4, -1, 5];
      const uf = [2, -5, Number.NaN, 1, 3, 0];
      const mul = a.lib.add(1).at(ma.array(at, 'int32')).multiply(ma.array(u, 'int32'));
      const fb = f.lib.multiply(2);
      const mx = fb.at(ma.array(at, 'int32')).max(ma.array(uf, 'float32'));
      const mn = fb.at(ma.array([1, 2, 2, 3, 2, 9], 'int32')).min(ma.array(uf, 'float32'));
      const fref = R.binary('multiply', f.ref, 2);
      return {
        lib: ma.concatenate([mul.astype('float32'), mx, mn]),
        ref: R.concatenate([
          R.astype(scatterRef(R.binary('add', a.ref, 1), at, u, 'multiply'), 'float32'),
          scatterRef(fref, at, uf, 'maximum'),
          scatterRef(fref, [1, 2, 2, 3, 2, 9], uf, 'minimum'),
        ]),
      };
    },
  },
  {
    name: 'scatter: putAlongAxis and at().add of a scalar on a 2-d slice (float16)',
    strategies: ['scatter'],
    run: () => {
      const a = input([4, 6], 'float32', 'small', 37);
      const idx = [
        [0, 5],
        [2, 2],
        [5, 1],
        [3, 0],
      ];
      const vals = [
        [10, 11],
        [12, 13],
        [14, 15],
        [16, 17],
      ];
      const put = ma.putAlongAxis(a.lib, ma.array(idx.flat(), 'int32').reshape([4, 2]), ma.array(vals.flat(), 'float32').reshape([4, 2]), 1);
      const putAt = idx.flatMap((row, i) => row.map((j) => i * 6 + j));
      const h = input([5, 7], 'float16', 'small', 38);
      const sliced = h.lib.at('1:4', '::2').add(3);
      const sliceAt: number[] = [];
      for (let i = 1; i < 4; i++) for (let j = 0; j < 7; j += 2) sliceAt.push(i * 7 + j);
      return {
        lib: ma.concatenate([put.reshape([-1]), sliced.astype('float32').reshape([-1])]),
        ref: R.concatenate([
          R.reshape(scatterRef(a.ref, putAt, vals.flat(), 'set'), [-1]),
          R.reshape(
            R.astype(
              scatterRef(
                h.ref,
                sliceAt,
                sliceAt.map(() => 3),
                'add',
              ),
              'float32',
            ),
            [-1],
          ),
        ]),
      };
    },
  },
  {
    // The prelude's float activations (ma_gelu_f, ma_silu_f, ma_sigmoid_f, ma_logaddexp) in one
    // fused kernel, gelu's tail through its log so a relative error shows (1 + erf lost it:
    // gelu(-7) was 0). Their accuracy is swept in msl-activations.test.ts.
    name: 'activations fused: log|gelu| + sigmoid + silu + logaddexp(x, x), tails included',
    tol: 2e-6,
    source: /ma_gelu_f\(.*ma_sigmoid_f\(.*ma_silu_f\(/s,
    strategies: ['flat'],
    run: () => {
      const xs = Array.from({ length: 77 }, (_, i) => -13.1 + i * 0.25);
      const x = ma.array(xs, 'float32');
      const r = R.array(xs, 'float32');
      const lib = ma
        .log(ma.abs(ma.gelu(x)))
        .add(ma.sigmoid(x))
        .add(ma.silu(x))
        .add(ma.logaddexp(x, x));
      const ref = R.binary(
        'add',
        R.binary('add', R.binary('add', R.unary('log', R.unary('abs', R.unary('gelu', r))), R.unary('sigmoid', r)), R.unary('silu', r)),
        R.binary('logaddexp', r, r),
      );
      return { lib, ref };
    },
  },
];

export function flat(x: unknown): unknown[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x];
}

export function expectClose(got: readonly unknown[], want: readonly unknown[], tol: number, label: string): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (typeof w === 'bigint' || typeof g === 'bigint') {
      expect(String(g), `${label} [${i}]`).toBe(String(w));
      continue;
    }
    const gn = Number(g);
    const wn = Number(w);
    if (Number.isNaN(wn)) {
      expect(Number.isNaN(gn), `${label} [${i}] should be NaN, got ${gn}`).toBe(true);
      continue;
    }
    const err = Math.abs(gn - wn);
    expect(err <= tol * Math.max(1, Math.abs(wn)), `${label} [${i}]: got ${gn}, want ${wn}`).toBe(true);
  }
}
