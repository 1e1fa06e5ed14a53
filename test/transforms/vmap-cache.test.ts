/**
 * vmap's trace cache (a repeated call with the same signature reuses f's trace instead of
 * calling f again; bounded; traces that read arrays from outside f's mapped arguments are
 * not kept, since those may be rebound), and the shape of the products vmap builds when
 * one side of a matmul is batched (the batch folded into M where the rows merge in place).
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import type { Node } from '../../src/core/node.js';
import { expectMapsLikeStack, values } from './vmap-support.js';

type M = ma.MetalArray;

function counted<A extends unknown[], R>(f: (...args: A) => R): { f: (...args: A) => R; calls: () => number } {
  let calls = 0;
  return {
    f: (...args: A) => {
      calls++;
      return f(...args);
    },
    calls: () => calls,
  };
}

describe('vmap: trace cache', () => {
  const xs = ma
    .array([
      [1, 2, 3],
      [4, 5, 6],
    ])
    .astype('float32');

  it('reuses the trace for the same shapes, dtypes and axes, with the new values', () => {
    const { f, calls } = counted((x: M, s: number) =>
      x
        .multiply(s)
        .add(ma.array([1, 0, -1], 'float32'))
        .sum(),
    );
    const g = ma.vmap(f);
    expect(g(xs, 2).tolist()).toEqual([12, 30]);
    expect(g(xs.add(1), 2).tolist()).toEqual([18, 36]);
    expect(calls()).toBe(1);
    // A new static argument, dtype, shape or batch size traces again.
    expect(g(xs, 3).tolist()).toEqual([18, 45]);
    expect(calls()).toBe(2);
    g(xs.astype('float64'), 2);
    expect(calls()).toBe(3);
    g(xs.slice('0:1'), 2);
    expect(calls()).toBe(4);
    g(xs.slice('0:1'), 2);
    g(xs, 2);
    expect(calls()).toBe(4);
  });

  it('per-example gradients of a pure function reuse their trace', () => {
    const { f, calls } = counted((x: M) => x.tanh().square().sum());
    const perExample = ma.vmap(ma.grad(f));
    const a = perExample(xs.multiply(0.1));
    const b = perExample(xs.multiply(0.2));
    expect(calls()).toBe(1);
    const want = (v: number) => 2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2);
    for (const [k, v] of values(b).entries()) expect(v).toBeCloseTo(want(0.2 * (k + 1)), 5);
    expect(values(a)[0]).toBeCloseTo(want(0.1), 5);
  });

  it('is bounded: the least recently used trace goes first', () => {
    const { f, calls } = counted((x: M) => x.sum());
    const g = ma.vmap(f);
    for (let n = 1; n <= 9; n++) g(ma.ones([2, n], 'float32'));
    expect(calls()).toBe(9);
    g(ma.ones([2, 9], 'float32')); // still held
    expect(calls()).toBe(9);
    g(ma.ones([2, 1], 'float32')); // evicted by the ninth
    expect(calls()).toBe(10);
  });

  it('traces again when f reads an array it closes over (it may be rebound) or an unmapped argument', () => {
    let scale = ma.array([1, 1, 1], 'float32');
    const { f, calls } = counted((x: M) => x.multiply(scale).sum());
    const g = ma.vmap(f);
    expect(g(xs).tolist()).toEqual([6, 15]);
    scale = ma.array([0, 0, 2], 'float32');
    expect(g(xs).tolist()).toEqual([6, 12]);
    expect(calls()).toBe(2);
    const h = counted((x: M, w: M) => x.multiply(w).sum());
    const mapped = ma.vmap(h.f, [0, null]);
    expect(mapped(xs, ma.array([1, 0, 0], 'float32')).tolist()).toEqual([1, 4]);
    expect(mapped(xs, ma.array([0, 0, 1], 'float32')).tolist()).toEqual([3, 6]);
    expect(h.calls()).toBe(2);
  });
});

/** The matmul nodes under `x`'s graph. */
function matmuls(x: M): Node[] {
  const found: Node[] = [];
  const seen = new Set<Node>();
  const stack = [x.liveNode('test')];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.kind === 'matmul') found.push(n);
    stack.push(...n.inputs);
  }
  return found;
}

function kernels(run: () => M): number {
  const out = run();
  ma.resetMetrics();
  out.eval();
  return ma.metrics().kernelLaunches;
}

describe('vmap: matmul with one side batched', () => {
  const w = ma.random.uniform(ma.random.key(1), [8, 6]).eval();
  const f = (x: M) => ma.matmul(x, w);

  it('a batched left operand times a shared matrix folds the batch into M: one [B·M, K] @ [K, N] product', () => {
    const data = ma.random.uniform(ma.random.key(2), [5, 3, 8]).eval(); // B=5 examples of [3, 8]
    const out = ma.vmap(f)(data);
    expect(out.shape).toEqual([5, 3, 6]);
    expect(matmuls(out).map((n) => n.shape)).toEqual([[15, 6]]);
    expectMapsLikeStack(f, [data], [0], 0, 1e-5);
    // With an elementwise epilogue: the scheduler does not fuse an epilogue through the
    // reshape back to [B, M, N] (known, see the report of this change), so the epilogue is
    // one kernel of its own at most; one example's graph fuses it into the product.
    const g = (x: M) => ma.matmul(x, w).add(1).tanh();
    expect(matmuls(ma.vmap(g)(data)).map((n) => n.shape)).toEqual([[15, 6]]);
    expect(kernels(() => ma.vmap(g)(data))).toBeLessThanOrEqual(kernels(() => g(data.slice(0))) + 1);
    expectMapsLikeStack(g, [data], [0], 0, 1e-5);
  });

  it('when the batch does not merge with M in place, a batched product with the shared side broadcast', () => {
    const data = ma.random.uniform(ma.random.key(3), [3, 5, 8]).eval(); // mapped over axis 1: rows 5 apart
    const out = ma.vmap(f, 1)(data);
    expect(matmuls(out).map((n) => n.shape)).toEqual([[5, 3, 6]]);
    expectMapsLikeStack(f, [data], [1], 0, 1e-5);
  });

  it('a shared matrix times a batched right operand is one batched product (no copy of the shared side)', () => {
    const a = ma.random.uniform(ma.random.key(4), [6, 8]).eval();
    const data = ma.random.uniform(ma.random.key(5), [5, 8, 4]).eval();
    const h = (b: M) => ma.matmul(a, b).exp();
    const out = ma.vmap(h)(data);
    expect(matmuls(out).map((n) => n.shape)).toEqual([[5, 6, 4]]);
    expect(kernels(() => ma.vmap(h)(data))).toBe(kernels(() => h(data.slice(0))));
    expectMapsLikeStack(h, [data], [0], 0, 1e-5);
  });
});
