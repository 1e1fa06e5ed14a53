/**
 * Small cases with their oracle results, one or more per GPU strategy (gpu.ts): run on
 * the host execution shim (msl-exec.test.ts) and on a real Metal device
 * (test/gpu/metal.test.ts).
 */
import { expect } from 'vitest';
import * as ma from '../../src/index.js';
import type { DType } from '../../src/graph/dtype.js';
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
  const vals = dtype === 'bool' ? v.map((x) => x !== 0) : dtype === 'int64' || dtype === 'uint64' ? v.map((x) => BigInt(x)) : v;
  return { lib: ma.array(vals as number[], dtype).reshape(shape), ref: R.reshape(R.array(vals as number[], dtype), shape) };
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
}

export const f32 = (shape: number[], seed = 1): Input => input(shape, 'float32', 'float', seed);

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
      const lib = a.lib.slice(ma.array(i, 'int32'), [null], ma.array(j, 'int64')).exp();
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
    name: 'full reduction: max of |x| over everything',
    strategies: ['element'],
    run: () => {
      const a = f32([33, 17], 3);
      return { lib: ma.max(a.lib.abs()), ref: R.max(R.unary('abs', a.ref)) };
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
    run: () => {
      const a = input([12, 33], 'float16', 'float', 13);
      const b = input([33, 9], 'float16', 'float', 14);
      return { lib: ma.matmul(a.lib, b.lib), ref: R.matmul(a.ref, b.ref) };
    },
    tol: 2e-3,
  },
  {
    name: 'batched matmul of a transposed operand, int32',
    strategies: ['matmul'],
    run: () => {
      const a = input([2, 5, 9], 'int32', 'small', 10);
      const b = input([2, 7, 9], 'int32', 'small', 11);
      return { lib: ma.matmul(a.lib, b.lib.transpose([0, 2, 1])), ref: R.matmul(a.ref, R.transpose(b.ref, [0, 2, 1])) };
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
