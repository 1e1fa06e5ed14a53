/**
 * Soak: 100 000 evaluations of varied small graphs, then 1 000 evalAsync in flight at
 * once. Every result is checked against plain JS, and active memory stays bounded (back
 * to the baseline after each round).
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { TEST_BACKEND } from '../support/backend.js';
import { collectGarbage } from './gc.js';

/** A small graph family: builds the array from x and gives the expected values in JS. */
interface Family {
  build(x: ma.MetalArray, k: number): ma.MetalArray;
  expect(xs: readonly number[], k: number): number[];
}

const FAMILIES: Family[] = [
  { build: (x, k) => x.multiply(k).add(1), expect: (xs, k) => xs.map((v) => v * k + 1) },
  { build: (x, k) => ma.maximum(x.subtract(k), 0), expect: (xs, k) => xs.map((v) => Math.max(v - k, 0)) },
  { build: (x) => x.flip(), expect: (xs) => [...xs].reverse() },
  { build: (x, k) => ma.sum(x.add(k)).reshape([1]), expect: (xs, k) => [xs.reduce((s, v) => s + v + k, 0)] },
  { build: (x, k) => ma.where(x.greater(k), x, -1), expect: (xs, k) => xs.map((v) => (v > k ? v : -1)) },
  { build: (x) => ma.cumsum(x), expect: (xs) => xs.map((_, i) => xs.slice(0, i + 1).reduce((s, v) => s + v, 0)) },
  { build: (x, k) => ma.concatenate([x, ma.full([1], k, 'float32')]), expect: (xs, k) => [...xs, k] },
  { build: (x) => ma.max(x.square()).reshape([1]), expect: (xs) => [Math.max(...xs.map((v) => v * v))] },
];

const SIZES = [1, 3, 8, 17];

// A GPU backend waits for a command buffer per eval (and CI's Metal is a paravirtual
// device): the same work gets a longer timeout there. A timeout, not a measurement.
const SOAK_TIMEOUT = TEST_BACKEND === 'cpu' ? 120_000 : 900_000;

describe('soak', () => {
  it(
    '100 000 evals of varied graphs: every result right, active memory bounded',
    async () => {
      const baseline = ma.memory().activeBytes;
      const inputs = SIZES.map((n) => {
        const xs = Array.from({ length: n }, (_, i) => ((i * 7) % 11) - 5);
        return { xs, x: ma.array(xs, 'float32') };
      });
      const inputBytes = ma.memory().activeBytes - baseline;
      const launchesBefore = ma.metrics().kernelLaunches;
      let maxActive = 0;
      let wrong = 0;
      const total = 100_000;
      for (let i = 0; i < total; i++) {
        const f = FAMILIES[i % FAMILIES.length];
        const { xs, x } = inputs[Math.floor(i / FAMILIES.length) % inputs.length];
        const k = i % 5;
        const y = f.build(x, k);
        y.eval();
        if (i % 64 === 0) maxActive = Math.max(maxActive, ma.memory().activeBytes);
        const got = Array.from(y.toTypedArray() as Float32Array);
        const want = f.expect(xs, k);
        if (got.length !== want.length || got.some((v, j) => v !== want[j])) wrong++;
        y.dispose();
      }
      expect(wrong).toBe(0);
      // The evals really ran: every family but the flip of a leaf (a view, no kernel) launches.
      expect(ma.metrics().kernelLaunches - launchesBefore).toBeGreaterThanOrEqual((total * 7) / 8);
      // Nothing accumulates: a few in-flight buffers at most above the inputs.
      expect(maxActive - baseline).toBeLessThan(inputBytes + 64 * 1024);
      for (const { x } of inputs) x.dispose();
      await collectGarbage();
      expect(ma.memory().activeBytes).toBe(baseline);
    },
    SOAK_TIMEOUT,
  );

  it('1 000 evalAsync in flight at once: all right, memory back to the baseline', async () => {
    const baseline = ma.memory().activeBytes;
    const x = ma.arange(64).astype('float32');
    const ys = Array.from({ length: 1000 }, (_, i) => x.multiply(i).add(ma.sum(x).multiply(i % 3)));
    const peakBefore = ma.memory().activeBytes;
    await Promise.all(ys.map((y) => y.evalAsync()));
    // The outputs are live now: 1000 × 64 float32, and nothing else beyond the input.
    expect(ma.memory().activeBytes - peakBefore).toBeLessThanOrEqual(1000 * 64 * 4 + 64 * 1024);
    const total = (63 * 64) / 2;
    for (let i = 0; i < ys.length; i++) {
      const got = ys[i].toTypedArray() as Float32Array;
      for (const j of [0, 1, 63]) expect(got[j]).toBe(j * i + total * (i % 3));
    }
    for (const y of ys) y.dispose();
    x.dispose();
    await collectGarbage();
    expect(ma.memory().activeBytes).toBe(baseline);
  }, 60_000);
});
