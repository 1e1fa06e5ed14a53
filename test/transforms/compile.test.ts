/**
 * ma.compile: replay equals the uncompiled function bit for bit, replays build and plan
 * nothing, array trees and static arguments, captured constants, strided inputs and
 * outputs that are (views of) inputs, the bounded cache and its retrace reasons, state
 * updated in place, random keys, composition with the transformations, and each error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

type MA = ma.MetalArray;

const f32 = (values: number[], shape?: number[]): MA => {
  const a = ma.array(values, 'float32');
  return shape ? a.reshape(shape) : a;
};

/** The raw bits of an array: compiled and uncompiled results must agree exactly. */
function bits(a: MA): number[] {
  const t = a.toTypedArray();
  if (t instanceof Float32Array) return Array.from(new Uint32Array(t.buffer, t.byteOffset, t.length));
  return Array.from(t as ArrayLike<number>, Number);
}

afterEach(() => {
  ma.setCompileCacheLimit(128);
  ma.clearCompileCache();
});

describe('compile: replay', () => {
  it('gives the uncompiled results, bit for bit, for new inputs of the same signature', () => {
    const fn = (x: MA, y: MA): MA => x.multiply(y).add(1).sin().sum(1).divide(3).exp();
    const step = ma.compile(fn);
    for (let k = 0; k < 4; k++) {
      const x = ma.random.normal(ma.random.key(k), [3, 5]);
      const y = ma.random.uniform(ma.random.key(k + 10), [3, 5]);
      expect(bits(step(x, y))).toEqual(bits(fn(x, y)));
    }
    const info = ma.compileCacheInfo();
    expect(info.traces).toBe(1);
    expect(info.hits).toBe(3);
  });

  it('a replay builds no graph: no plan lookup, only kernel launches', () => {
    const fn = (x: MA): MA => x.exp().add(x.sum()).negative();
    const step = ma.compile(fn);
    step(f32([1, 2, 3]));
    const x = f32([4, 5, 6]);
    ma.resetMetrics();
    const y = step(x);
    const m = ma.metrics();
    expect(m.planCacheHits + m.planCacheMisses).toBe(0);
    ma.resetMetrics();
    const want = fn(x).eval();
    expect(m.kernelLaunches).toBe(ma.metrics().kernelLaunches);
    expect(bits(y)).toEqual(bits(want));
  });

  it('array trees in and out, and static arguments in the signature', () => {
    const fn = (p: { w: MA; b: MA[] }, scale: number, mode: string): { out: MA; parts: [MA, MA] } => {
      const z = p.w.multiply(scale).add(p.b[0] as MA);
      return { out: mode === 'relu' ? z.relu() : z.negative(), parts: [z, (p.b[1] as MA).add(1)] };
    };
    const step = ma.compile(fn);
    const p = { w: f32([-1, 2, -3]), b: [f32([1, 1, 1]), f32([5])] };
    for (const [scale, mode] of [
      [2, 'relu'],
      [3, 'relu'],
      [2, 'neg'],
      [2, 'relu'],
    ] as const) {
      const got = step(p, scale, mode);
      const want = fn(p, scale, mode);
      expect(bits(got.out)).toEqual(bits(want.out));
      expect(bits(got.parts[0])).toEqual(bits(want.parts[0]));
      expect(bits(got.parts[1])).toEqual(bits(want.parts[1]));
    }
    expect(ma.compileCacheInfo().traces).toBe(3);
  });

  it('lazy, strided and offset inputs are evaluated and made dense first', () => {
    const fn = (x: MA): MA => x.multiply(2).add(1);
    const step = ma.compile(fn);
    const base = ma.arange(12).astype('float32').reshape([3, 4]);
    const views = [base.transpose().slice('1:'), base.slice(':', '::2').transpose().slice('1:'), base.add(1).transpose().slice('1:')];
    for (const v of views) expect(bits(step(v))).toEqual(bits(fn(v)));
  });

  it('outputs that are inputs, views of inputs, captured arrays or constants', () => {
    const captured = f32([7, 8]);
    const fn = (x: MA): MA[] => [x, x.transpose(), captured, ma.full([2], 3, 'float32'), x.sum()];
    const step = ma.compile(fn);
    for (const x of [f32([1, 2, 3, 4], [2, 2]), f32([5, 6, 7, 8], [2, 2])]) {
      const got = step(x);
      const want = fn(x);
      got.forEach((g, i) => {
        expect(g.shape).toEqual((want[i] as MA).shape);
        expect(bits(g)).toEqual(bits(want[i] as MA));
      });
    }
  });

  it('captured arrays are constants of the trace and stay alive after the caller disposes them', () => {
    const weight = f32([1, 2, 3]);
    const lazy = weight.multiply(10);
    const step = ma.compile((x: MA) => x.multiply(weight).add(lazy));
    expect(step(f32([1, 1, 1])).tolist()).toEqual([11, 22, 33]);
    weight.dispose();
    lazy.dispose();
    expect(step(f32([2, 2, 2])).tolist()).toEqual([12, 24, 36]);
  });

  it('JS side effects in fn happen once, when it is traced', () => {
    let calls = 0;
    const step = ma.compile((x: MA) => {
      calls++;
      return x.add(1);
    });
    step(f32([1]));
    step(f32([2]));
    step(f32([3]));
    expect(calls).toBe(1);
  });

  it('other planning settings retrace (fusion off gives the unfused kernels)', () => {
    const step = ma.compile((x: MA) => x.exp().add(1));
    const x = f32([1, 2]);
    step(x);
    ma.setFusion(false);
    try {
      ma.resetMetrics();
      expect(bits(step(x))).toEqual(bits(x.exp().add(1)));
      expect(ma.compileCacheInfo().recentTraces.at(-1)?.reason).toMatch(/planning settings changed from fusion=1.* to fusion=0/);
    } finally {
      ma.setFusion(true);
    }
  });
});

describe('compile: the trace cache', () => {
  it('is a bounded LRU: the least recently used trace goes first', () => {
    ma.setCompileCacheLimit(2);
    const step = ma.compile(function scaled(x: MA) {
      return x.multiply(2);
    });
    step(f32([1]));
    step(f32([1, 2]));
    step(f32([1])); // [1] is now the most recent
    step(f32([1, 2, 3])); // evicts [2]
    const info = ma.compileCacheInfo();
    expect(info.size).toBe(2);
    expect(info.evictions).toBe(1);
    expect(info.entries.map((e) => e.signature)).toEqual(['cpu:float32[1]', 'cpu:float32[3]']);
    expect(info.entries[0]?.name).toBe('compile(scaled)');
    step(f32([1, 2]));
    expect(ma.compileCacheInfo().traces).toBe(4);
    ma.setCompileCacheLimit(0);
    expect(ma.compileCacheInfo().size).toBe(0);
    expect(step(f32([4, 5])).tolist()).toEqual([8, 10]);
    // Not stored, but a trace's own constants (an array made inside fn) live through its call.
    const withConstant = ma.compile((x: MA) => x.add(ma.array([10, 20], 'float32')));
    expect(withConstant(f32([1, 2])).tolist()).toEqual([11, 22]);
    expect(withConstant(f32([3, 4])).tolist()).toEqual([13, 24]);
    expect(ma.compileCacheInfo().size).toBe(0);
  });

  it('names the argument whose shape, dtype or value changed', () => {
    const step = ma.compile(function affine(x: MA, y: MA, k: number) {
      return x.multiply(k).add(y);
    });
    step(f32([1, 2]), f32([1]), 2);
    step(f32([1, 2, 3]), f32([1]), 2);
    step(f32([1, 2, 3]), ma.array([1], 'int32'), 2);
    step(f32([1, 2, 3]), ma.array([1], 'int32'), 5);
    const reasons = ma.compileCacheInfo().recentTraces.map((t) => `${t.name}: ${t.reason}`);
    expect(reasons).toEqual([
      'compile(affine): tracing (first call): cpu:float32[2], cpu:float32[1], 2',
      'compile(affine): retracing: argument 0 changed from cpu:float32[2] to cpu:float32[3]',
      'compile(affine): retracing: argument 1 changed from cpu:float32[1] to cpu:int32[1]',
      'compile(affine): retracing: argument 2 changed from 2 to 5',
    ]);
  });

  it('clearCompileCache drops every trace and zeroes the counters', () => {
    const step = ma.compile((x: MA) => x.add(1));
    step(f32([1]));
    step(f32([1]));
    ma.clearCompileCache();
    const info = ma.compileCacheInfo();
    expect([info.size, info.hits, info.traces, info.recentTraces.length]).toEqual([0, 0, 0, 0]);
  });
});

describe('compile: state', () => {
  const loss = (params: { w: MA; b: MA }, x: MA, y: MA): MA => x.matmul(params.w).add(params.b).subtract(y).square().mean();

  it('{ inputs, outputs } updates a model in place like the uncompiled step', () => {
    const x = ma.random.normal(ma.random.key(1), [8, 4]);
    const y = ma.random.normal(ma.random.key(2), [8, 2]);
    const init = (): { w: MA; b: MA } => ({ w: ma.random.normal(ma.random.key(3), [4, 2]), b: ma.zeros([2], 'float32') });
    const model = init();
    const reference = init();
    const gradFn = ma.valueAndGrad(loss);
    const sgd = (m: { w: MA; b: MA }, xs: MA, ys: MA): MA => {
      const [value, g] = gradFn(m, xs, ys) as [MA, { w: MA; b: MA }];
      m.w = m.w.subtract(g.w.multiply(0.1));
      m.b = m.b.subtract(g.b.multiply(0.1));
      return value;
    };
    const step = ma.compile((xs: MA, ys: MA) => sgd(model, xs, ys), { inputs: model, outputs: model });
    for (let i = 0; i < 3; i++) {
      const got = step(x, y);
      const want = sgd(reference, x, y);
      expect(bits(got)).toEqual(bits(want));
      expect(bits(model.w)).toEqual(bits(reference.w));
      expect(bits(model.b)).toEqual(bits(reference.b));
    }
    expect(ma.compileCacheInfo().traces).toBe(1);
  });

  it('random draws take their keys as arguments', () => {
    const draw = (key: MA, x: MA): MA => x.add(ma.random.uniform(key, [4]));
    const step = ma.compile(draw);
    const x = ma.zeros([4], 'float32');
    const seen = new Set<string>();
    for (const key of ma.random.split(ma.random.key(0), 3).split(3, 0)) {
      const k = key.reshape([2]);
      const got = step(k, x);
      expect(bits(got)).toEqual(bits(draw(k, x)));
      seen.add(bits(got).join());
    }
    expect(seen.size).toBe(3);
  });
});

describe('compile: composition with the transformations', () => {
  const f = (x: MA): MA => x.sin().multiply(x).sum();
  const x = f32([0.5, -1, 2]);

  it('compile(valueAndGrad(f)) and compile(grad(f))', () => {
    const vg = ma.compile(ma.valueAndGrad(f));
    const [v, g] = vg(x) as [MA, MA];
    const [v0, g0] = ma.valueAndGrad(f)(x) as [MA, MA];
    expect(bits(v)).toEqual(bits(v0));
    expect(bits(g)).toEqual(bits(g0));
    const x2 = f32([1, 2, 3]);
    expect(bits(ma.compile(ma.grad(f))(x2))).toEqual(bits(ma.grad(f)(x2)));
  });

  it('grad, vjp, jvp and vmap of a compiled function inline it', () => {
    const cf = ma.compile(f);
    const before = ma.compileCacheInfo().inlined;
    expect(bits(ma.grad(cf)(x))).toEqual(bits(ma.grad(f)(x)));
    const ct = [f32([1, 2, 3])];
    const [, [vx]] = ma.vjp(
      ma.compile((b: MA) => b.exp()),
      [x],
      ct,
    ) as [MA, MA[]];
    const [, [vx0]] = ma.vjp((b: MA) => b.exp(), [x], ct) as [MA, MA[]];
    expect(bits(vx as MA)).toEqual(bits(vx0 as MA));
    const [, t] = ma.jvp(cf, [x], [f32([1, 0, 0])]) as [MA, MA];
    const [, t0] = ma.jvp(f, [x], [f32([1, 0, 0])]) as [MA, MA];
    expect(bits(t)).toEqual(bits(t0));
    const xs = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(bits(ma.vmap(cf)(xs))).toEqual(bits(ma.vmap(f)(xs)));
    expect(ma.compileCacheInfo().inlined - before).toBe(4);
  });

  it('nested compile: the inner function inlines into the outer trace', () => {
    const inner = ma.compile((a: MA) => a.exp());
    const outer = ma.compile((a: MA) => inner(a).add(1));
    expect(bits(outer(x))).toEqual(bits(x.exp().add(1)));
    expect(bits(outer(f32([3, 2, 1])))).toEqual(bits(f32([3, 2, 1]).exp().add(1)));
    // The inner one also compiles on its own.
    expect(bits(inner(x))).toEqual(bits(x.exp()));
  });
});

describe('compile: errors', () => {
  const x = f32([1, 2]);
  it.each([
    ['item', (a: MA) => a.sum().item()],
    ['toTypedArray', (a: MA) => a.toTypedArray()],
    ['tolist', (a: MA) => a.tolist()],
    ['toString', (a: MA) => a.toString()],
    ['eval', (a: MA) => a.add(1).eval()],
  ] as const)('reading a value with %s while tracing is a CompileTraceError naming the call', (call, body) => {
    const step = ma.compile(function reads(a: MA) {
      body(a);
      return a;
    });
    expect(() => step(x)).toThrow(ma.CompileTraceError);
    expect(() => step(x)).toThrow(new RegExp(`^compile\\(reads\\): ${call} read a value`));
    expect(ma.compileCacheInfo().size).toBe(0);
  });

  it('a host-computed op on an argument (random.split of a key) is a CompileTraceError', () => {
    const step = ma.compile((key: MA) => ma.random.split(key));
    expect(() => step(ma.random.key(0))).toThrow(ma.CompileTraceError);
  });

  it('reading captured constants while tracing is fine', () => {
    const c = f32([4]);
    const step = ma.compile((a: MA) => a.add(c.item() as number));
    expect(step(x).tolist()).toEqual([5, 6]);
  });

  it('bad functions, options and arguments are ArgumentErrors', () => {
    expect(() => ma.compile(3 as never)).toThrow(ma.ArgumentError);
    expect(() => ma.compile((a: MA) => a, { shapes: true } as never)).toThrow(/unknown option 'shapes'/);
    expect(() => ma.compile((a: MA) => a, { inputs: x } as never)).toThrow(/inputs must be an object/);
    const step = ma.compile((a: MA, _b: unknown) => a);
    expect(() => step(x, new Map())).toThrow(/arguments must be arrays/);
    const asyncStep = ma.compile(async (a: MA) => a);
    expect(() => asyncStep(x)).toThrow(/returned a Promise/);
    const state = { w: x };
    const bad = ma.compile(
      () => {
        (state as { w: unknown }).w = 3;
      },
      { outputs: state },
    );
    expect(() => bad()).toThrow(/outputs state holds 3 at 'w'/);
    expect(state.w).toBe(x);
  });
});
