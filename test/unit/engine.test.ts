import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { backendFor } from '../../src/runtime/registry.js';
import { backendDtypes, FLOAT64_NOTE } from '../support/backend.js';

function rand(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}

/** 50 elementwise ops with transposes and broadcasts between them. */
function chain50(x: ma.MetalArray, row: ma.MetalArray): ma.MetalArray {
  let y = x;
  for (let i = 0; i < 50; i++) {
    if (i % 10 === 3) y = y.T;
    if (i % 10 === 7) y = y.T;
    if (i % 5 === 0) y = y.add(i % 10 < 3 || i % 10 > 7 ? row : row.reshape(-1, 1).T);
    else if (i % 5 === 1) y = y.multiply(0.999);
    else if (i % 5 === 2) y = ma.tanh(y);
    else if (i % 5 === 3) y = y.subtract(0.001);
    else y = ma.maximum(y, -0.5);
  }
  return y;
}

describe('fusion and caches', () => {
  it('a chain of 50 elementwise ops with transposes and broadcasts is 1 kernel launch', () => {
    const n = 16;
    const x = ma.array(rand(n * n)).reshape(n, n);
    const row = ma.array(rand(n, 7));
    const y = chain50(x, row);
    ma.resetMetrics();
    ma.eval(y);
    expect(ma.metrics().kernelLaunches).toBe(1);
    // Unfused, the same graph runs one kernel per op and gives the same bits.
    const fused = y.toTypedArray();
    ma.setFusion(false);
    try {
      const y2 = chain50(x, row);
      ma.resetMetrics();
      ma.eval(y2);
      expect(ma.metrics().kernelLaunches).toBe(50);
      expect(Array.from(y2.toTypedArray() as ArrayLike<number>)).toEqual(Array.from(fused as ArrayLike<number>));
    } finally {
      ma.setFusion(true);
    }
  });

  it('re-evaluating the same graph on new inputs compiles nothing and hits the plan cache', () => {
    const n = 12;
    const row = ma.array(rand(n, 3));
    ma.eval(chain50(ma.array(rand(n * n, 5)).reshape(n, n), row));
    ma.resetMetrics();
    const y = chain50(ma.array(rand(n * n, 9)).reshape(n, n), row);
    ma.eval(y);
    const m = ma.metrics();
    expect(m.kernelsCompiled).toBe(0);
    expect(m.planCacheHits).toBe(1);
    expect(m.planCacheMisses).toBe(0);
    expect(m.kernelLaunches).toBe(1);
  });

  it('the plan cache tells apart graphs that differ only in sharing or in leaves evaluated after their consumers were built', () => {
    const a = ma.array([1, 2, 3, 4]).reshape(2, 2);
    const b = ma.array([5, 6, 7, 8]).reshape(2, 2);
    expect(a.multiply(a).tolist()).toEqual([
      [1, 4],
      [9, 16],
    ]);
    expect(a.multiply(b).tolist()).toEqual([
      [5, 12],
      [21, 32],
    ]);
    const s = a.add(1);
    expect(s.multiply(s).tolist()).toEqual([
      [4, 9],
      [16, 25],
    ]);
    expect(a.add(1).multiply(b.add(1)).tolist()).toEqual([
      [12, 21],
      [32, 45],
    ]);
    // `t` becomes a leaf over a's buffer with transposed strides after `c` was built on it.
    const t = a.T;
    const c = t.add(0.5);
    t.eval();
    expect(c.tolist()).toEqual([
      [1.5, 3.5],
      [2.5, 4.5],
    ]);
    const u = a.add(0);
    const d = u.add(0.5);
    u.eval();
    expect(d.tolist()).toEqual([
      [1.5, 2.5],
      [3.5, 4.5],
    ]);
  });

  it('the same expression at new sizes of the same rank compiles nothing', () => {
    const f = (n: number, m: number) => {
      const a = ma.array(rand(n * m, n)).reshape(n, m);
      const b = ma.array(rand(m, m));
      return ma.sin(a.multiply(b).add(a.T.T)).subtract(b.slice('::-1'));
    };
    ma.eval(f(7, 9));
    ma.resetMetrics();
    const y = f(13, 21);
    ma.eval(y);
    expect(ma.metrics().kernelsCompiled).toBe(0);
    expect(ma.metrics().kernelLaunches).toBe(1);
  });

  it('a stencil over many steps does not recompute its history', () => {
    let u: ma.MetalArray = ma.array(rand(32 * 32, 11)).reshape(32, 32);
    for (let step = 0; step < 12; step++) {
      const inner = u
        .slice('1:-1, 1:-1')
        .multiply(0.6)
        .add(u.slice(':-2, 1:-1').add(u.slice('2:, 1:-1')).add(u.slice('1:-1, :-2')).add(u.slice('1:-1, 2:')).multiply(0.1));
      u = ma.concatenate([u.slice('0:1'), ma.concatenate([u.slice('1:-1, 0:1'), inner, u.slice('1:-1, -1:')], 1), u.slice('-1:')], 0);
    }
    ma.resetMetrics();
    ma.eval(u);
    // One kernel per step at most: history is materialized, not recomputed 5^12 times.
    expect(ma.metrics().kernelLaunches).toBeLessThanOrEqual(12);
    expect(ma.metrics().kernelLaunches).toBeGreaterThan(1);
  });

  it('a node read twice by one consumer is computed once, in one kernel', () => {
    const h = ma.exp(ma.array(rand(32, 5)));
    const y = h.multiply(h);
    ma.resetMetrics();
    ma.eval(y);
    expect(ma.metrics().kernelLaunches).toBe(1);
  });

  it('chains thousands of ops long fuse without overflowing the stack (GPU backends: in kernels of at most maxKernelOps)', () => {
    // Auto-evaluation off: this test is about one eval of the whole 5000-deep chain.
    const autoEval = ma.getAutoEval();
    ma.setAutoEval(false);
    try {
      let s = ma.ones([4]);
      for (let i = 0; i < 5000; i++) s = s.add(1);
      ma.resetMetrics();
      expect(Array.from(s.toTypedArray() as ArrayLike<number>)).toEqual([5001, 5001, 5001, 5001]);
      const cap = backendFor(ma.getBackend()).maxKernelOps;
      expect(ma.metrics().kernelLaunches).toBe(cap === undefined ? 1 : Math.ceil(5000 / cap));
    } finally {
      ma.setAutoEval(autoEval);
    }
  }, 60_000);

  it('explain() plans without compiling; the first run compiles', () => {
    const x = ma.array(rand(8, 2));
    const y = ma
      .log1p(ma.abs(x.multiply(3.25)))
      .multiply(-7.5)
      .sigmoid();
    ma.resetMetrics();
    ma.explain(y);
    expect(ma.metrics().kernelsCompiled + ma.metrics().kernelCacheHits).toBe(0);
    y.eval();
    expect(ma.metrics().kernelsCompiled + ma.metrics().kernelCacheHits).toBe(1);
  });

  it('concatenate fuses into its consumer as a select', () => {
    const a = ma.array(rand(6, 1)).reshape(2, 3);
    const b = ma.array(rand(4, 2)).reshape(2, 2);
    const c = ma.concatenate([a, b], 1).multiply(2);
    ma.resetMetrics();
    ma.eval(c);
    expect(ma.metrics().kernelLaunches).toBe(1);
    const av = a.toTypedArray() as Float32Array;
    const bv = b.toTypedArray() as Float32Array;
    expect(Array.from(c.toTypedArray() as ArrayLike<number>)).toEqual(
      [av[0], av[1], av[2], bv[0], bv[1], av[3], av[4], av[5], bv[2], bv[3]].map((v) => Math.fround(v * 2)),
    );
  });

  it('views of evaluated arrays need no kernel and share the buffer', () => {
    const a = ma.array([1, 2, 3, 4, 5, 6]).reshape(2, 3);
    ma.eval(a);
    const before = ma.memory().activeBytes;
    ma.resetMetrics();
    const t = a.T.slice('::-1');
    ma.eval(t);
    expect(ma.metrics().kernelLaunches).toBe(0);
    expect(ma.memory().activeBytes).toBe(before);
    expect(t.tolist()).toEqual([
      [3, 6],
      [2, 5],
      [1, 4],
    ]);
  });

  it('explain and kernelSources show the fused plan', () => {
    const x = ma.array(rand(64, 4));
    const y = ma.exp(x.subtract(1)).multiply(2);
    const text = ma.explain(y);
    expect(text).toContain('1 kernel');
    expect(text).toMatch(/subtract → exp → multiply/);
    const srcs = ma.kernelSources(y);
    expect(srcs).toHaveLength(1);
    expect(srcs[0].source).toContain(srcs[0].name);
    expect(srcs[0].kind).toBe('elementwise');
  });
});

describe('lifetimes', () => {
  it('dispose and tidy return activeBytes to the baseline', () => {
    const base = ma.memory().activeBytes;
    const a = ma.array(rand(1000));
    const t = a.add(1);
    const b = t.multiply(a);
    b.eval();
    expect(ma.memory().activeBytes).toBeGreaterThan(base);
    // The temporary t still holds a (it could be evaluated later), so a's data stays...
    a.dispose();
    b.dispose();
    expect(ma.memory().activeBytes).toBeGreaterThan(base);
    // ...until t lets go too.
    t.dispose();
    expect(ma.memory().activeBytes).toBe(base);
    const kept = ma.tidy(() => {
      const x = ma.array(rand(500));
      const y = x.exp().eval();
      const z = y.add(x).eval();
      return z;
    });
    // Only the returned array survives (the pool rounds sizes up to its size class).
    expect(ma.memory().activeBytes - base).toBeGreaterThanOrEqual(500 * 4);
    expect(ma.memory().activeBytes - base).toBeLessThan(2 * 500 * 4);
    kept.dispose();
    expect(ma.memory().activeBytes).toBe(base);
  });

  it('async tidy disposes when the promise settles', async () => {
    const base = ma.memory().activeBytes;
    let inner: ma.MetalArray[] = [];
    const out = await ma.tidy(async () => {
      const x = ma.array(rand(256));
      const y = x.sin();
      await y.evalAsync();
      inner = [x, y];
      return y.multiply(2).eval();
    });
    expect(inner.map((a) => a.isDisposed)).toEqual([true, true]);
    expect(out.isDisposed).toBe(false);
    expect(out.toTypedArray().length).toBe(256);
    // Upper bounds only: the GC may free, meanwhile, arrays that earlier tests dropped.
    expect(ma.memory().activeBytes - base).toBeLessThan(2 * 256 * 4);
    out.dispose();
    expect(ma.memory().activeBytes).toBeLessThanOrEqual(base);
  });

  it('10 000 evals in a loop do not grow active memory', () => {
    const x = ma.array(rand(64));
    x.eval();
    const base = ma.memory().activeBytes;
    for (let i = 0; i < 10_000; i++) {
      const y = x.multiply(1.5).add(i);
      y.eval();
      y.dispose();
    }
    // Not equal: the GC may free, during the loop, arrays that earlier tests dropped.
    expect(ma.memory().activeBytes).toBeLessThanOrEqual(base);
    x.dispose();
  });

  it('an array disposed while a lazy consumer still needs it keeps its data for the consumer', () => {
    const a = ma.array([1, 2, 3]);
    const b = a.add(1);
    a.dispose();
    expect(Array.from(b.toTypedArray() as ArrayLike<number>)).toEqual([2, 3, 4]);
    expect(() => a.add(1)).toThrow(ma.DisposedError);
    b.dispose();
  });
});

describe('errors', () => {
  it('a shape mismatch names the op and both shapes, and the library keeps working', () => {
    const a = ma.ones([2, 3]);
    const b = ma.ones([4]);
    expect(() => ma.add(a, b)).toThrow(ma.ShapeError);
    expect(() => ma.add(a, b)).toThrow(/add: shapes \[2, 3\] and \[4\]/);
    expect(Array.from(a.add(1).toTypedArray() as ArrayLike<number>)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('bad dtypes, bad axes and use after dispose are typed errors', () => {
    expect(() => ma.zeros([2], 'float128' as ma.DType)).toThrow(ma.DTypeError);
    expect(() => ma.bitwiseAnd(ma.ones([2]), 1)).toThrow(ma.DTypeError);
    expect(() => ma.subtract(ma.array([true]), ma.array([false]))).toThrow(ma.DTypeError);
    expect(() => ma.ones([2, 2]).transpose([0, 0])).toThrow(ma.ShapeError);
    expect(() => ma.squeeze(ma.ones([2, 2]), 5)).toThrow(ma.ShapeError);
    expect(() => ma.ones([2, 2]).reshape(3, -1)).toThrow(ma.ShapeError);
    expect(() => ma.ones([3]).slice(5)).toThrow(ma.ShapeError);
    expect(() => ma.ones([3]).slice('0:3:0')).toThrow(ma.ArgumentError);
    const x = ma.ones([2]);
    x.dispose();
    expect(() => x.toTypedArray() as ArrayLike<number>).toThrow(ma.DisposedError);
    expect(() => ma.add(x, 1)).toThrow(ma.DisposedError);
    expect(ma.ones([2]).add(1).tolist()).toEqual([2, 2]);
  });

  it('forcing an unavailable backend throws BackendUnavailableError saying why', () => {
    expect(ma.isAvailable('cpu')).toBe(true);
    expect(() => ma.setBackend('nope')).toThrow(ma.BackendUnavailableError);
    if (process.platform !== 'darwin') {
      expect(ma.isAvailable('metal')).toBe(false);
      expect(() => ma.setBackend('metal')).toThrow(/macOS/);
    }
    expect(ma.getBackend()).toBe(process.env.METALARRAY_BACKEND ?? 'cpu');
  });
});

describe('semantics spot checks', () => {
  it('integer division by zero gives 0 and overflow wraps', () => {
    const a = ma.array([7, -7, -2147483648, 5], 'int32');
    const b = ma.array([0, 2, -1, 0], 'int32');
    expect(Array.from(ma.floorDivide(a, b).toTypedArray() as ArrayLike<number>)).toEqual([0, -4, -2147483648, 0]);
    expect(Array.from(ma.remainder(a, b).toTypedArray() as ArrayLike<number>)).toEqual([0, 1, 0, 0]);
    expect(Array.from(ma.add(ma.array([2147483647], 'int32'), 1).toTypedArray() as ArrayLike<number>)).toEqual([-2147483648]);
  });

  it('weak scalars keep the array dtype; promotion follows the table', () => {
    expect(ma.array([1], 'uint8').add(300).dtype).toBe('uint8');
    expect(ma.array([1], 'int32').multiply(2.5).dtype).toBe('float32');
    expect(ma.add(ma.array([1], 'uint8'), ma.array([1], 'int8')).dtype).toBe('int16');
    expect(ma.add(ma.array([1], 'float16'), ma.array([1], 'bfloat16')).dtype).toBe('float32');
    expect(ma.array([1], 'float16').add(1).dtype).toBe('float16');
  });

  it('float16/bfloat16 constants round once, from the double', () => {
    const x = 1 + 2 ** -11 + 2 ** -40;
    expect(ma.array([0], 'float16').add(x).toTypedArray()[0]).toBe(1 + 2 ** -10);
    expect(ma.full([1], 1 + 2 ** -8 + 2 ** -40, 'bfloat16').toTypedArray()[0]).toBe(1 + 2 ** -7);
  });

  it('memory limits reject bad values with a typed error', () => {
    expect(() => ma.setMemoryLimit(1.5)).toThrow(ma.ArgumentError);
    expect(() => ma.setCacheLimit(-1)).toThrow(ma.ArgumentError);
  });

  it('float → int casts saturate and NaN becomes 0', () => {
    const x = ma.array([1e10, -1e10, Number.NaN, 3.9, -3.9], 'float32');
    expect(Array.from(x.astype('int8').toTypedArray() as ArrayLike<number>)).toEqual([127, -128, 0, 3, -3]);
    expect(Array.from(x.astype('uint8').toTypedArray() as ArrayLike<number>)).toEqual([255, 0, 0, 3, 0]);
  });

  it('evalAsync keeps the event loop running and gives the same result', async () => {
    const x = ma.array(rand(1 << 16));
    const y = ma.exp(x).add(1);
    let ticked = false;
    const tick = new Promise<void>((r) =>
      setImmediate(() => {
        ticked = true;
        r();
      }),
    );
    await Promise.all([ma.evalAsync(y), tick]);
    expect(ticked).toBe(true);
    const expected = ma.exp(x).add(1).toTypedArray();
    expect(Array.from((await y.data()) as Float32Array)).toEqual(Array.from(expected as Float32Array));
  });

  it(`a float → signed int → float round trip gives +0 for |x| < 1, in vector loops and scalar tails${FLOAT64_NOTE}`, () => {
    // GCC folds (float)(int)x into trunc(x) under -fno-trapping-math, which would keep -0.
    const values = Array.from({ length: 37 }, (_, i) => -0.99 + i * 0.0275);
    // float64 only where the default backend has it (not Metal).
    for (const src of backendDtypes(['float32', 'float64', 'float16', 'bfloat16'] as const)) {
      for (const mid of ['int8', 'int16', 'int32', 'int64'] as const) {
        for (const dst of backendDtypes(['float32', 'float64', 'float16'] as const)) {
          const out = ma.array(values, src).astype(mid).astype(dst).toTypedArray() as Float32Array;
          const negativeZeros = Array.from(out).filter((v) => Object.is(v, -0)).length;
          expect(negativeZeros, `${src} -> ${mid} -> ${dst}`).toBe(0);
        }
      }
    }
  }, 60_000); // compiles a kernel per dtype pair cold: seconds each on 2 loaded cores
});
