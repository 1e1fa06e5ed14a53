/**
 * fast.scaledDotProductAttention and MultiHeadAttention against PyTorch, their gradients
 * by finite differences, masks, and the kernel count of attention's forward and backward
 * on the CPU (the scale, the mask and the softmax fuse around the two products).
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { checkDerivatives } from '../transforms/derivatives.js';
import { expectClose, f64, fixture } from './support.js';

type M = ma.MetalArray;

describe('fast.scaledDotProductAttention', () => {
  const c = fixture.sdpa;
  const [q, k, v] = [f64(c.q), f64(c.k), f64(c.v)];

  it('matches PyTorch without a mask and with causal', () => {
    expectClose('sdpa', ma.fast.scaledDotProductAttention(q, k, v), c.out, 1e-12);
    expectClose('sdpa causal', ma.fast.scaledDotProductAttention(q, k, v, { causal: true }), c.causal, 1e-12);
  }, 120_000);

  it('a bool mask and an additive mask give the causal result; scale is honoured', () => {
    const t = q.shape[2] as number;
    const allowed = ma.tril(ma.ones([t, t], 'int32')).astype('bool');
    expectClose('bool mask', ma.fast.scaledDotProductAttention(q, k, v, { mask: allowed }), c.causal, 1e-12);
    const additive = ma.where(allowed, 0, Number.NEGATIVE_INFINITY).astype('float64');
    expectClose('additive mask', ma.fast.scaledDotProductAttention(q, k, v, { mask: additive }), c.causal, 1e-12);
    const d = q.shape[3] as number;
    const scaled = ma.fast.scaledDotProductAttention(q.multiply(2), k, v, { scale: 1 / (2 * Math.sqrt(d)) });
    expectClose('scale', scaled, c.out, 1e-12);
  }, 120_000);

  it('causal with more keys than queries aligns the queries with the last keys', () => {
    const last = ma.fast.scaledDotProductAttention(q.slice(':', ':', '2:'), k, v, { causal: true });
    expectClose(
      'last two queries',
      last,
      (c.causal as number[][][][]).map((b) => b.map((h) => h.slice(2))),
      1e-12,
    );
  }, 120_000);

  it('gradients to q, k and v by finite differences (plain and causal)', () => {
    checkDerivatives('sdpa', (a: M, b: M, cc: M) => ma.fast.scaledDotProductAttention(a, b, cc), [q, k, v]);
    checkDerivatives('sdpa causal', (a: M, b: M, cc: M) => ma.fast.scaledDotProductAttention(a, b, cc, { causal: true }), [q, k, v]);
  }, 300_000);

  it('forward and backward of causal attention [4, 4, 128, 32] stay a few kernels on the CPU', () => {
    const key = ma.random.key(0);
    const shape = [4, 4, 128, 32];
    const [qq, kk, vv] = [0, 1, 2].map((i) => ma.random.normal(ma.random.foldIn(key, i), shape).eval());
    // Forward: the scores' product (scale and causal mask in its epilogue), one fused
    // softmax kernel, the output product.
    const out = ma.fast.scaledDotProductAttention(qq as M, kk as M, vv as M, { causal: true });
    expect(ma.explain(out).split('\n')[0]).toBe('plan on cpu: 3 kernels');
    const loss = (a: M, b: M, cc: M) => ma.fast.scaledDotProductAttention(a, b, cc, { causal: true }).square().sum();
    const [value, grads] = ma.valueAndGrad(loss, [0, 1, 2])(qq as M, kk as M, vv as M);
    ma.resetMetrics();
    ma.eval(value, ...(grads as M[]));
    // With the backward: the five products of the cotangents and the softmax's backward
    // fused with the mask, pinned where it is today (not one kernel per op).
    expect(ma.metrics().kernelLaunches).toBeLessThanOrEqual(16);
  }, 300_000);

  it('bad inputs are typed errors', () => {
    expect(() => ma.fast.scaledDotProductAttention(q, k.slice(':', ':', ':', ':2'), v)).toThrow(/same last dimension/);
    expect(() => ma.fast.scaledDotProductAttention(q, k, v.slice(':', ':', ':3'))).toThrow(/same number of positions/);
    expect(() => ma.fast.scaledDotProductAttention(ma.ones([3]), k, v)).toThrow(ma.ShapeError);
    expect(() => ma.fast.scaledDotProductAttention(q, k, v, { causal: 1 as unknown as boolean })).toThrow(/causal must be a boolean/);
    expect(() => ma.fast.scaledDotProductAttention(q, k, v, { window: 2 } as never)).toThrow(/unknown option 'window'/);
  });
});

describe('MultiHeadAttention', () => {
  const c = fixture.multiHeadAttention;
  it('matches torch.nn.MultiheadAttention (batch_first, no bias, causal mask)', () => {
    const attn = new ma.nn.MultiHeadAttention(c.dims, c.numHeads);
    attn.update({
      queryProj: { weight: f64(c.queryProj) },
      keyProj: { weight: f64(c.keyProj) },
      valueProj: { weight: f64(c.valueProj) },
      outProj: { weight: f64(c.outProj) },
    });
    const x = f64(c.x);
    expectClose('causal self-attention', attn.forward(x, x, x, { causal: true }), c.causal, 1e-12);
  }, 120_000);

  it('parameters, biases, printing and gradients', () => {
    const attn = new ma.nn.MultiHeadAttention(4, 2, { bias: true, key: ma.random.key(3) });
    expect(ma.treeFlatten(attn.parameters()).map(([p]) => p)).toEqual([
      'queryProj.weight',
      'queryProj.bias',
      'keyProj.weight',
      'keyProj.bias',
      'valueProj.weight',
      'valueProj.bias',
      'outProj.weight',
      'outProj.bias',
    ]);
    expect(String(attn).split('\n')[0]).toBe('MultiHeadAttention(dims=4, numHeads=2,');
    const x = ma.random.normal(ma.random.key(4), [2, 3, 4], 'float64');
    attn.update(ma.treeMap((p) => p.astype('float64'), attn.parameters()));
    checkDerivatives('MultiHeadAttention', (a: M) => attn.forward(a, a, a, { causal: true }), [x]);
  }, 300_000);

  it('errors name the layer and the shapes', () => {
    const attn = new ma.nn.MultiHeadAttention(4, 2);
    expect(() => attn.forward(ma.ones([3, 4]), ma.ones([3, 4]), ma.ones([3, 4]))).toThrow(
      /MultiHeadAttention\(dims=4, numHeads=2\): queries must be \[batch, positions, dims\], got shape \[3, 4\]/,
    );
    expect(() => attn.forward(ma.ones([1, 3, 5]), ma.ones([1, 3, 4]), ma.ones([1, 3, 4]))).toThrow(/Linear\(inputDims=4.*got input shape \[1, 3, 5\]/);
    expect(() => new ma.nn.MultiHeadAttention(6, 4)).toThrow(/divisible by numHeads/);
  });
});
