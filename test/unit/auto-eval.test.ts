/**
 * Auto-evaluation: pending graphs deeper than `maxDepth`, or pinning more than
 * `maxPinnedBytes`, are evaluated at the next op, with the same values; nothing in
 * building, hashing, scheduling or freeing recurses on depth.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

// Kernels of a few hundred fused ops compile for seconds on a cold cache.
const SLOW = 120_000;

const depth = (x: ma.MetalArray): number => x.liveNode('test').depth;
const pinned = (x: ma.MetalArray): number => x.liveNode('test').pinned;
const f32 = (x: ma.MetalArray): number[] => Array.from(x.toTypedArray() as Float32Array);

afterEach(() => ma.setAutoEval(true));

describe('auto-evaluation: depth and pinned bytes', () => {
  it('depth is 1 + the deepest input (0 for leaves and constants); pinned adds the evaluated inputs read directly', () => {
    const x = ma.array([1, 2, 3, 4], 'float32');
    expect(depth(x)).toBe(0);
    expect(pinned(x)).toBe(16);
    const y = x.add(1);
    expect(depth(y)).toBe(1);
    const z = y.multiply(y).add(x);
    expect(depth(z)).toBe(3);
    // y * y reads y once; y and x share x's buffer, counted once.
    expect(pinned(z)).toBe(16);
    const w = ma.array([5, 6, 7, 8], 'float32');
    expect(pinned(z.add(w))).toBe(32);
    // An estimate: a leaf read again one level up counts again.
    expect(pinned(z.add(w).add(w))).toBe(48);
    expect(depth(ma.zeros([3]))).toBe(0);
    z.eval();
    expect(depth(z)).toBe(0);
  });

  it('a loop never builds a graph deeper than maxDepth, with the same values as without the bound', () => {
    const run = (): { values: number[]; deepest: number } => {
      let x = ma.array([0.5, -1, 2, 3], 'float32');
      let deepest = 0;
      for (let i = 0; i < 300; i++) {
        x = ma.tanh(x.multiply(1.01).add(0.25));
        deepest = Math.max(deepest, depth(x));
      }
      return { values: f32(x), deepest };
    };
    ma.setAutoEval(false);
    const free = run();
    expect(free.deepest).toBe(900);
    ma.setAutoEval({ maxDepth: 40 });
    ma.resetMetrics();
    const bounded = run();
    expect(bounded.deepest).toBeLessThanOrEqual(40);
    expect(ma.metrics().autoEvals).toBeGreaterThanOrEqual(900 / 40 - 1);
    expect(bounded.values).toEqual(free.values);
  });

  it(
    "Adam's state (m, v inside p's update) is cut too: it leaves an auto-evaluation about maxDepth / 2 deep; values unchanged",
    () => {
      const target = ma.array([1, -2, 3, 0.5], 'float32').eval();
      const run = (afterAutoEval: (m: ma.MetalArray) => void): number[] => {
        let p = ma.zeros([4]);
        let m = ma.zeros([4]);
        let v = ma.zeros([4]);
        for (let t = 1; t <= 300; t++) {
          const before = ma.metrics().autoEvals;
          const g = p.subtract(target);
          m = m.multiply(0.9).add(g.multiply(0.1));
          v = v.multiply(0.999).add(g.multiply(g).multiply(0.001));
          const step = m.divide(1 - 0.9 ** t).divide(ma.sqrt(v.divide(1 - 0.999 ** t)).add(1e-8));
          p = p.subtract(step.multiply(0.01));
          if (ma.metrics().autoEvals > before) afterAutoEval(m);
        }
        return f32(p);
      };
      ma.setAutoEval(false);
      const free = run(() => undefined);
      ma.setAutoEval({ maxDepth: 100 });
      const depthsAfter: number[] = [];
      const bounded = run((m) => depthsAfter.push(depth(m)));
      // A step adds ~10 levels. Evaluating only p's inputs would leave m and v ~100 deep
      // (their whole history pending, recomputed by every later auto-evaluation).
      expect(depthsAfter.length).toBeGreaterThan(5);
      for (const d of depthsAfter) expect(d).toBeLessThanOrEqual(100 / 2 + 10);
      expect(bounded).toEqual(free);
    },
    SLOW,
  );

  it('explain reports inputs that were auto-evaluated; getAutoEval reports the setting', () => {
    ma.setAutoEval({ maxDepth: 8 });
    expect(ma.getAutoEval()).toEqual({ maxDepth: 8, maxPinnedBytes: 1024 ** 3 });
    let x = ma.array([1, 2, 3], 'float32');
    for (let i = 0; i < 12; i++) x = x.add(1);
    expect(ma.explain(x)).toMatch(/auto-evaluated: 1 input was evaluated early \(a pending graph crossed depth 8/);
    expect(f32(x)).toEqual([13, 14, 15]);
    ma.setAutoEval(false);
    expect(ma.getAutoEval()).toBe(false);
    let y = ma.array([1, 2, 3], 'float32');
    for (let i = 0; i < 12; i++) y = y.add(1);
    expect(ma.explain(y)).not.toMatch(/auto-evaluated/);
  });

  it('pinned bytes: an accumulation over fresh leaves is evaluated before it holds more than the bound', () => {
    const batch = 1024; // floats: 4 KiB a leaf
    ma.setAutoEval({ maxPinnedBytes: 64 * 1024 });
    ma.resetMetrics();
    let acc = ma.zeros([batch]);
    let want = 0;
    for (let i = 0; i < 200; i++) {
      acc = acc.add(ma.array(new Float32Array(batch).fill(i)));
      want += i;
      expect(pinned(acc)).toBeLessThanOrEqual(64 * 1024 + 4096);
    }
    expect(ma.metrics().autoEvals).toBeGreaterThan(0);
    expect(f32(acc).every((v) => v === want)).toBe(true);
  });

  it('pinned bytes: an elementwise expression over a large leaf the caller holds is not cut; a reduction of it may be', () => {
    // 16 KiB
    const x = ma.array(
      Float32Array.from({ length: 4096 }, (_, i) => i / 4096 - 0.5),
      'float32',
    );
    ma.setAutoEval({ maxPinnedBytes: 1024 });
    ma.resetMetrics();
    // gelu reads x along four paths; they share x's buffer, so the bound stays 16 KiB.
    const inner = x.add(x.multiply(x).multiply(x).multiply(0.044715)).multiply(0.79788456);
    const gelu = x.multiply(0.5).multiply(ma.tanh(inner).add(1));
    expect(pinned(gelu)).toBe(16384);
    expect(ma.metrics().autoEvals).toBe(0);
    // A broadcast reduction would let go of 16 KiB for 4 bytes: it is evaluated first (same values).
    const softmax = (a: ma.MetalArray) => ma.exp(a.subtract(ma.max(a))).divide(ma.sum(ma.exp(a.subtract(ma.max(a)))));
    const bounded = f32(softmax(x));
    expect(ma.metrics().autoEvals).toBeGreaterThan(0);
    ma.setAutoEval(false);
    expect(bounded).toEqual(f32(softmax(x)));
  });

  it('setAutoEval rejects bad settings with ArgumentError naming the call', () => {
    for (const bad of [{ maxDepth: 0 }, { maxDepth: 1.5 }, { maxDepth: Number.NaN }, { maxPinnedBytes: -1 }, { maxDepth: '3' }, { depth: 3 }, null, 7]) {
      expect(() => ma.setAutoEval(bad as unknown as boolean)).toThrow(ma.ArgumentError);
      expect(() => ma.setAutoEval(bad as unknown as boolean)).toThrow(/setAutoEval/);
    }
    ma.setAutoEval({ maxDepth: Number.POSITIVE_INFINITY, maxPinnedBytes: 0 });
    expect(ma.getAutoEval()).toEqual({ maxDepth: Number.POSITIVE_INFINITY, maxPinnedBytes: 0 });
  });
});

describe('auto-evaluation: deep graphs', () => {
  it(
    'a 100,000-op chain built without eval evaluates (default settings) with the right value',
    () => {
      ma.resetMetrics();
      let x = ma.ones([4]);
      for (let i = 0; i < 100_000; i++) x = i % 2 ? x.add(1) : x.multiply(1);
      expect(depth(x)).toBeLessThanOrEqual(512);
      expect(f32(x)).toEqual([50_001, 50_001, 50_001, 50_001]);
      expect(ma.metrics().autoEvals).toBeGreaterThanOrEqual(100_000 / 512 - 1);
    },
    SLOW,
  );

  it(
    'with auto-evaluation off, a 20,000-op chain builds, hashes, schedules and frees without recursion',
    () => {
      ma.setAutoEval(false);
      let x = ma.ones([2]);
      for (let i = 0; i < 20_000; i++) x = x.add(1);
      expect(depth(x)).toBe(20_000);
      // explain walks, hashes, schedules and lowers the graph without running it.
      expect(ma.explain(x)).toContain('1 kernel');
      x.dispose();
      let y = ma.ones([2]);
      for (let i = 0; i < 20_000; i++) y = y.multiply(1.0001);
      ma.dispose(y); // freeing a 20,000-deep pending graph
      expect(y.isDisposed).toBe(true);
    },
    SLOW,
  );
});
