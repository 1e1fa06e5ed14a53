/**
 * vmap's batching rules, one describe per node kind: for each, vmap(f)(x) equals
 * stacking f over the examples (test/transforms/vmap-support.ts), with several inAxes
 * and outAxes, in float32 and int32.
 */
import { describe, it } from 'vitest';
import * as ma from '../../src/index.js';
import { expectMapsLikeStack } from './vmap-support.js';

/** Deterministic float32 values in [-1, 1) of `shape`. */
function floats(shape: number[], seed: number): ma.MetalArray {
  return ma.random.uniform(ma.random.key(seed), shape, 'float32', -1, 1).eval();
}

/** Deterministic int32 values in [-5, 5] of `shape`. */
function ints(shape: number[], seed: number): ma.MetalArray {
  return ma
    .floor(ma.random.uniform(ma.random.key(seed), shape, 'float32', -5, 6))
    .astype('int32')
    .eval();
}

describe('vmap: elementwise, where and cast (one shared rule)', () => {
  it('unary and binary ops with a mapped and a shared operand (float32)', () => {
    const x = floats([4, 3], 1);
    const w = floats([3], 2);
    expectMapsLikeStack((a, b) => ma.exp(a).multiply(b).add(ma.tanh(a)).subtract(2), [x, w], [0, null]);
  });
  it('both operands mapped along different axes, out axis 1 (int32)', () => {
    const a = ints([3, 5], 3);
    const b = ints([5, 3], 4);
    expectMapsLikeStack((p, q) => p.multiply(q).add(p.negative()).maximum(1), [a, b], [1, 0], 1);
  });
  it('broadcasting inside f against a shared array of higher rank', () => {
    const x = floats([2, 3], 5);
    const m = floats([4, 3], 6);
    expectMapsLikeStack((v, mm) => mm.add(v).square(), [x, m], [0, null], -1);
  });
  it('where with a mapped condition and scalars folded into ops; casts', () => {
    const x = ints([3, 4], 7);
    const y = floats([4], 8);
    expectMapsLikeStack((v, s) => ma.where(v.greater(0), v.astype('float32').multiply(0.5), s), [x, y], [0, null]);
    expectMapsLikeStack((v) => v.astype('float32').divide(3).astype('int32').add(1), [x], [1]);
  });
});

describe('vmap: views and reshapes', () => {
  const x = floats([3, 4, 6], 11);
  it('reshape, transpose, flatten', () => {
    expectMapsLikeStack((v) => v.reshape([2, 12]).transpose(), [x], [0]);
    expectMapsLikeStack((v) => ma.flatten(v), [x], [1], 1);
    expectMapsLikeStack((v) => v.reshape([3, 2, 2]).transpose([2, 0, 1]), [x], [2]);
  });
  it('slices with steps (negative too), flip, expandDims, squeeze, broadcastTo', () => {
    expectMapsLikeStack((v) => v.slice('1:', '::-2'), [x], [0]);
    expectMapsLikeStack((v) => ma.flip(v, 0).slice(null, 2), [x], [2], 1);
    expectMapsLikeStack((v) => ma.squeeze(ma.expandDims(v, 1), 1), [x], [1]);
    expectMapsLikeStack((v) => ma.broadcastTo(ma.expandDims(v, 0), [2, ...v.shape]), [x], [0], 2);
  });
  it('pad and tile (int32)', () => {
    const i = ints([2, 3, 4], 12);
    expectMapsLikeStack((v) => ma.pad(v, [1, 2]), [i], [0]);
    expectMapsLikeStack((v) => ma.tile(v, [2, 1]), [i], [1]);
  });
});

describe('vmap: concatenate and stack', () => {
  it('mapped with shared inputs, along several axes', () => {
    const x = floats([3, 2, 4], 21);
    const s = floats([2, 4], 22);
    expectMapsLikeStack((v, w) => ma.concatenate([v, w, v], 0), [x, s], [0, null]);
    expectMapsLikeStack((v, w) => ma.concatenate([w, v], -1), [x, s], [0, null], 1);
    expectMapsLikeStack((v, w) => ma.stack([v, w], 1), [x, s], [0, null]);
    expectMapsLikeStack((v) => ma.split(v, 2, 1)[1] as ma.MetalArray, [x], [2]);
  });
});

describe('vmap: reductions shift their axes', () => {
  const x = floats([3, 4, 5], 31);
  const i = ints([3, 4, 5], 32);
  it('sum, max, argmin, mean, logsumexp, softmax over several axes', () => {
    expectMapsLikeStack((v) => ma.sum(v, 1), [x], [0]);
    expectMapsLikeStack((v) => [ma.max(v), ma.argmin(v, 0), ma.mean(v, -1, true)], [x], [1]);
    expectMapsLikeStack((v) => [ma.logsumexp(v, 1), ma.softmax(v, -1)], [x], [2], 1);
  });
  it('int32 sums and products, any and all', () => {
    expectMapsLikeStack((v) => [ma.sum(v, 0), ma.prod(v.clip(-1, 2), 1), ma.any(v.greater(3)), ma.all(v.less(5), 1)], [i], [0]);
  });
});

describe('vmap: matmul batches', () => {
  const x = floats([5, 3, 4], 41);
  const w = floats([4, 2], 42);
  it('mapped by shared, shared by mapped, mapped by mapped', () => {
    expectMapsLikeStack((a, b) => ma.matmul(a, b), [x, w], [0, null]);
    expectMapsLikeStack((a, b) => ma.matmul(b.transpose(), a.transpose()), [x, w], [0, null], 2);
    const y = floats([4, 5, 2], 43);
    expectMapsLikeStack((a, b) => ma.matmul(a, b), [x, y], [0, 1]);
  });
  it('vectors, batched operands of f and int32', () => {
    const v = floats([3, 4], 44);
    expectMapsLikeStack((a, b) => [ma.matmul(a, b), ma.dot(a, a)], [v, w], [0, null]);
    const i = ints([3, 2, 3], 45);
    expectMapsLikeStack((a) => ma.matmul(a, a), [i], [1]);
    const t = floats([2, 6, 3, 4], 46);
    expectMapsLikeStack((a, b) => ma.einsum('bij,jk->bik', a, b), [t, w], [1, null]);
  });
});

describe('vmap: scans and sorts run along the last axis', () => {
  const x = floats([3, 4, 5], 51);
  const i = ints([4, 6], 52);
  it('cumsum, cumprod, cummax along any axis, reverse too', () => {
    expectMapsLikeStack((v) => [ma.cumsum(v, 0), ma.cummax(v, -1), ma.cumprod(v, 1)], [x], [1]);
    expectMapsLikeStack((v) => [ma.cumsum(v, 0), ma.cummin(v, 0)], [i], [0], 1);
  });
  it('sort, argsort, topk', () => {
    expectMapsLikeStack((v) => [ma.sort(v, 0), ma.argsort(v, -1)], [x], [2]);
    expectMapsLikeStack((v) => ma.topk(v, 2)[0], [i], [1]);
  });
});

describe('vmap: gathers and scatters', () => {
  const data = floats([3, 5, 4], 61);
  const idx = ma.array(
    [
      [4, 0, 2],
      [1, 1, 3],
      [0, 4, 4],
    ],
    'int32',
  );
  it('take: data mapped and indices shared, indices mapped and data shared, both mapped', () => {
    expectMapsLikeStack((d, k) => ma.take(d, k, 0), [data, idx], [0, null]);
    expectMapsLikeStack((d, k) => ma.take(d, k, 1), [data.slice(0), idx], [null, 0]);
    expectMapsLikeStack((d, k) => ma.take(d, k, 0), [data, idx], [0, 1], 1);
  });
  it('takeAlongAxis, advanced indexing and int32 data', () => {
    const order = ma.argsort(data, -1);
    expectMapsLikeStack((d, k) => ma.takeAlongAxis(d, k, -1), [data, order], [0, 0]);
    const small = ma.array([2, 0], 'int32');
    expectMapsLikeStack((d, k) => d.slice(k, small), [data, idx.transpose().slice(0)], [0, 0]);
    const di = ints([3, 5], 62);
    expectMapsLikeStack((d, k) => ma.take(d, k), [di, idx], [0, 0]);
  });
  it('scatter (at().set/add, putAlongAxis) with any of base, indices, updates mapped', () => {
    const base = floats([3, 5], 63);
    const upd = floats([3, 2], 64);
    const where2 = ma.array(
      [
        [1, 3],
        [0, 0],
        [4, 2],
      ],
      'int32',
    );
    expectMapsLikeStack((b, u) => ma.at(b, ma.array([1, 3], 'int32')).add(u), [base, upd], [0, 0]);
    expectMapsLikeStack((b, k) => ma.at(b, k).add(1), [base, where2], [0, 0]);
    expectMapsLikeStack((b, k, u) => ma.at(b, k).set(u), [base.slice(0), where2, upd], [null, 0, 0]);
    expectMapsLikeStack((b, u) => ma.at(b, ma.array([0, 9], 'int32')).set(u, { mode: 'drop' }), [base, upd], [0, 0]);
    const bi = ints([5, 3], 65);
    expectMapsLikeStack((b, k) => ma.putAlongAxis(b, k, 7, 0), [bi, where2.transpose().slice(0)], [1, null], 1);
  });
});
