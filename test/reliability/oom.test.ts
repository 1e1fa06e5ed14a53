/**
 * Out of memory: asking for more than setMemoryLimit throws OutOfMemoryError (with the
 * size asked for), frees what the failed evaluation had taken, and the library keeps
 * working afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { bufferLedger, collectGarbageNow } from '../../src/runtime/pool-buffer.js';
import { collectGarbage } from './gc.js';

const MiB = 2 ** 20;

describe('out of memory', () => {
  afterEach(() => ma.setMemoryLimit(Number.POSITIVE_INFINITY));

  it('an allocation over the limit throws OutOfMemoryError; the library keeps working', async () => {
    const baseline = ma.memory().activeBytes;
    ma.setMemoryLimit(baseline + 16 * MiB);
    const big = ma.ones([8 * MiB], 'float32').add(1); // 32 MiB when evaluated
    expect(() => big.eval()).toThrow(ma.OutOfMemoryError);
    expect(() => big.eval()).toThrow(/33554432|memory limit/);
    expect(() => ma.array(new Float64Array(4 * MiB))).toThrow(ma.OutOfMemoryError);
    await collectGarbage();
    expect(ma.memory().activeBytes).toBe(baseline);
    // Under the limit, work goes on, and the failed array evaluates once the limit allows.
    const small = ma.arange(10).astype('float32').multiply(2);
    expect(Array.from(small.toTypedArray() as Float32Array)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    ma.setMemoryLimit(Number.POSITIVE_INFINITY);
    expect((big.slice(ma.range(-1, null)).toTypedArray() as Float32Array)[0]).toBe(2);
    big.dispose();
    small.dispose();
    await collectGarbage();
    expect(ma.memory().activeBytes).toBe(baseline);
  });

  it('a plan that fails halfway releases the buffers it already had', async () => {
    const baseline = ma.memory().activeBytes;
    // Two materialized outputs of 12 MiB each: the first fits under 20 MiB, the second not.
    const x = ma.ones([3 * MiB], 'float32');
    const a = x.add(1);
    const b = x.multiply(3);
    ma.setMemoryLimit(baseline + 20 * MiB);
    expect(() => ma.eval(a, b)).toThrow(ma.OutOfMemoryError);
    await collectGarbage();
    expect(ma.memory().activeBytes).toBe(baseline);
    ma.eval(a); // one fits
    expect((a.slice(ma.range(0, 1)).toTypedArray() as Float32Array)[0]).toBe(2);
    a.dispose();
    await collectGarbage();
    expect(ma.memory().activeBytes).toBe(baseline);
    expect(Array.from(b.slice(ma.range(0, 2)).toTypedArray() as Float32Array)).toEqual([3, 3]);
    b.dispose();
  });

  it('absurd sizes are OutOfMemoryError or ShapeError, never a crash', () => {
    ma.setMemoryLimit(64 * MiB);
    expect(() =>
      ma
        .zeros([2 ** 40, 2 ** 10], 'float64')
        .add(1)
        .eval(),
    ).toThrow(ma.MetalArrayError);
    expect(() =>
      ma
        .zeros([2 ** 50])
        .add(1)
        .eval(),
    ).toThrow(ma.OutOfMemoryError);
    // arange is lazy (an iota): no host values; evaluating 8 PB is what runs out of memory
    expect(() => ma.arange(0, 1e15).eval()).toThrow(ma.OutOfMemoryError);
    expect(() => ma.zeros([2 ** 53])).toThrow(ma.ShapeError);
    expect(ma.ones([3]).add(1).tolist()).toEqual([2, 2, 2]);
  });
  it('unreachable arrays are collected before giving up; the error says what is live and what to do', () => {
    const baseline = ma.memory().activeBytes;
    ma.setMemoryLimit(baseline + 16 * MiB);
    const x = ma.ones([MiB], 'float32');
    // Three 4 MiB results, dropped undisposed: only a GC can free them.
    const drop = (k: number): number => Number(ma.sum(x.add(k).eval()).item());
    for (let k = 0; k < 3; k++) expect(drop(k)).toBe((1 + k) * MiB);
    // 8 MiB more fits only once those are collected: the pool runs a GC and retries.
    const y = ma
      .ones([2 * MiB], 'float32')
      .multiply(2)
      .eval();
    expect((y.toTypedArray() as Float32Array)[0]).toBe(2);
    // Something held and still too much: a clear error naming what is live.
    let err: unknown;
    try {
      ma.ones([3 * MiB], 'float32')
        .add(1)
        .eval();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ma.OutOfMemoryError);
    expect((err as Error).message).toMatch(/Live: .* MiB in \d+ buffers/);
    expect((err as Error).message).toMatch(/dispose\(\).*tidy\(\).*eval\(\)/);
    y.dispose();
    x.dispose();
  });

  it('the error names what unevaluated arrays hold and the largest holders by op', () => {
    const baseline = ma.memory().activeBytes;
    ma.setMemoryLimit(baseline + 24 * MiB);
    // 4 MiB of data from JS, an 8 MiB concatenation of it, and a 4 MiB sum only an unevaluated array reads.
    const data = ma.array(new Float32Array(MiB).fill(1));
    const wide = ma.concatenate([data, data]).eval();
    let summed: ma.MetalArray | null = data.add(1).eval();
    const pending = summed.multiply(2); // holds summed's buffer while unevaluated
    summed.dispose();
    summed = null;
    let err: unknown;
    try {
      ma.ones([4 * MiB], 'float32')
        .add(3)
        .eval(); // 16 MiB more: over the limit
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ma.OutOfMemoryError);
    const message = (err as Error).message;
    expect(message).toMatch(/of these, 4\.0 MiB are inputs of unevaluated arrays/);
    // Largest first: the concatenation (8 MiB), then the JS data and the sum (4 MiB each).
    expect(message).toMatch(/Largest holders by op: concat 8\.0 MiB \(1 buffer\), (array \(from JS data\)|add) 4\.0 MiB \(1 buffer\)/);
    expect(message).toMatch(/add 4\.0 MiB/);
    expect(message).toMatch(/array \(from JS data\) 4\.0 MiB/);
    ma.setMemoryLimit(Number.POSITIVE_INFINITY);
    expect((pending.slice(ma.range(0, 1)).toTypedArray() as Float32Array)[0]).toBe(4);
    pending.dispose();
    wide.dispose();
    data.dispose();
  });
});

describe('memory().lazyBytes', () => {
  it('counts the leaves unevaluated arrays read, once each, until they are evaluated or disposed', () => {
    const before = ma.memory().lazyBytes;
    const x = ma.ones([MiB], 'float32').eval(); // 4 MiB
    const w = ma.full([MiB], 2, 'float32').eval(); // 4 MiB
    expect(ma.memory().lazyBytes - before).toBe(0);
    const y = x.multiply(x); // reads x (twice): counted once
    expect(ma.memory().lazyBytes - before).toBe(4 * MiB);
    const z = y.add(w); // reads x through y, and w
    expect(ma.memory().lazyBytes - before).toBe(8 * MiB);
    y.eval(); // y is a leaf now: z reads y's buffer and w, no longer x
    expect(ma.memory().lazyBytes - before).toBe(8 * MiB);
    z.eval();
    expect(ma.memory().lazyBytes - before).toBe(0);
    const q = x.subtract(w);
    expect(ma.memory().lazyBytes - before).toBe(8 * MiB);
    q.dispose(); // an unevaluated array disposed: it reads nothing any more
    expect(ma.memory().lazyBytes - before).toBe(0);
    for (const a of [x, w, y, z]) a.dispose();
  });

  it('an unevaluated temporary inside an expression counts until it is disposed', () => {
    const before = ma.memory().lazyBytes;
    const x = ma.ones([MiB], 'float32').eval();
    const t = x.add(1); // the temporary of x.add(1).multiply(2)
    const y = t.multiply(2).eval();
    // t is still an unevaluated array reading x (the GC would collect it if dropped).
    expect(ma.memory().lazyBytes - before).toBe(4 * MiB);
    t.dispose();
    expect(ma.memory().lazyBytes - before).toBe(0);
    x.dispose();
    y.dispose();
  });

  it('the ledger behind it stays bounded when the GC frees arrays nobody disposed', () => {
    const ledger = bufferLedger(ma.getBackend());
    const x = ma.ones([256], 'float32').eval();
    for (let i = 0; i < 12_000; i++) {
      x.add(i).eval(); // dropped undisposed: only the GC frees it
      if (i % 500 === 499) collectGarbageNow();
    }
    // Records of freed buffers are swept once they outnumber twice the live ones (at
    // least 4096): without the sweep there would be a record per iteration.
    expect(ledger.recordCount).toBeLessThan(6000);
    expect(ma.memory().lazyBytes).toBeLessThanOrEqual(ma.memory().activeBytes);
    x.dispose();
  }, 120_000); // a timeout for loaded runs, not a measurement

  it('is part of memory() with the pool figures and the external bytes', () => {
    const m = ma.memory();
    for (const k of ['activeBytes', 'cachedBytes', 'peakBytes', 'activeBuffers', 'lazyBytes', 'external'] as const) {
      expect(typeof m[k]).toBe('number');
      expect(m[k]).toBeGreaterThanOrEqual(0);
    }
    expect(m.lazyBytes).toBeLessThanOrEqual(m.activeBytes);
  });
});
