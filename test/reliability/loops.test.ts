/**
 * Loops of issue 15 §2 as tests: the work per iteration (kernel launches) and the pending
 * depth stay bounded however long the loop runs. Counts, not times: nothing here flakes
 * on a loaded machine.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

const SLOW = 600_000;
// Long enough for several auto-evaluations (every ~50 steps at the default depth bound).
const STEPS = 600;
const depth = (x: ma.MetalArray): number => x.liveNode('test').depth;

/** Kernel launches per iteration over [start, end) of a loop's cumulative launch counts. */
function launchesIn(cumulative: readonly number[], start: number, end: number): number {
  return (cumulative[end - 1] - cumulative[start - 1]) / (end - start);
}

describe('loops stay bounded', () => {
  it(
    "the issue's key chain (key = split(key).slice(0), a draw read every step): the same launches every iteration",
    () => {
      let key = ma.random.key(0);
      const launches: number[] = [];
      ma.resetMetrics();
      for (let i = 0; i < 300; i++) {
        key = ma.random.split(key, 2).slice(0);
        const x = ma.random.normal(key, [64]);
        expect(Number.isFinite(ma.mean(x).item() as number)).toBe(true);
        expect(depth(key)).toBeLessThanOrEqual(1);
        launches.push(ma.metrics().kernelLaunches);
      }
      const early = launchesIn(launches, 10, 60);
      expect(early).toBeLessThanOrEqual(3);
      expect(launchesIn(launches, 250, 300)).toBe(early);
    },
    SLOW,
  );

  it(
    'k-means without eval for 600 steps: pending depth bounded, launches per window constant, same centroids as evaluating every step',
    () => {
      const points = ma.random.normal(ma.random.key(1), [256, 4]).eval();
      const step = (c: ma.MetalArray): ma.MetalArray => {
        const diff = points.expandDims(1).subtract(c.expandDims(0));
        const assign = ma.argmin(ma.sum(diff.multiply(diff), -1), 1);
        const onehot = ma.astype(ma.equal(assign.expandDims(1), ma.arange(0, 4, 1, 'int32').expandDims(0)), 'float32');
        const counts = ma.sum(onehot, 0);
        const means = ma.matmul(onehot.T, points).divide(ma.maximum(counts, 1).expandDims(1));
        return ma.where(counts.greater(0).expandDims(1), means, c);
      };
      let c: ma.MetalArray = points.slice(ma.range(0, 4)).eval();
      let reference = c;
      const launches: number[] = [];
      let deepest = 0;
      ma.resetMetrics();
      for (let i = 0; i < STEPS; i++) {
        c = step(c);
        deepest = Math.max(deepest, depth(c));
        launches.push(ma.metrics().kernelLaunches);
      }
      expect(deepest).toBeLessThanOrEqual(512);
      expect(ma.metrics().autoEvals).toBeGreaterThan(0);
      const early = launchesIn(launches, 10, STEPS / 2);
      expect(early).toBeGreaterThan(0);
      expect(launchesIn(launches, STEPS / 2, STEPS)).toBeLessThanOrEqual(2 * early + 0.5);
      for (let i = 0; i < STEPS; i++) reference = step(reference).eval();
      const got = Array.from(c.toTypedArray() as Float32Array);
      const want = Array.from(reference.toTypedArray() as Float32Array);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i])));
    },
    SLOW,
  );

  it(
    'Adam without eval for 600 steps: pending depth bounded, launches per window constant, same parameters as evaluating every step',
    () => {
      const n = 4096;
      const target = ma.random.uniform(ma.random.key(2), [n]).eval();
      const run = (evalEachStep: boolean) => {
        let p: ma.MetalArray = ma.zeros([n]);
        let m: ma.MetalArray = ma.zeros([n]);
        let v: ma.MetalArray = ma.zeros([n]);
        const launches: number[] = [];
        let deepest = 0;
        ma.resetMetrics();
        for (let t = 1; t <= STEPS; t++) {
          const g = p.subtract(target);
          m = m.multiply(0.9).add(g.multiply(0.1));
          v = v.multiply(0.999).add(g.multiply(g).multiply(0.001));
          const update = m.divide(1 - 0.9 ** t).divide(ma.sqrt(v.divide(1 - 0.999 ** t)).add(1e-8));
          p = p.subtract(update.multiply(1e-3));
          if (evalEachStep) ma.eval(p, m, v);
          deepest = Math.max(deepest, depth(p), depth(m), depth(v));
          launches.push(ma.metrics().kernelLaunches);
        }
        return { p: Array.from(p.toTypedArray() as Float32Array), launches, deepest };
      };
      const lazy = run(false);
      expect(lazy.deepest).toBeLessThanOrEqual(512);
      const early = launchesIn(lazy.launches, 10, STEPS / 2);
      expect(early).toBeGreaterThan(0);
      expect(launchesIn(lazy.launches, STEPS / 2, STEPS)).toBeLessThanOrEqual(2 * early + 0.5);
      const eager = run(true);
      for (let i = 0; i < n; i++) expect(Math.abs(lazy.p[i] - eager.p[i])).toBeLessThanOrEqual(1e-5);
    },
    SLOW,
  );
});
