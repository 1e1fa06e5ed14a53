/**
 * Arrays of more than 2^31 elements: a fused elementwise kernel and reductions over
 * 2^31 + 1024 uint8 elements (about 2.1 GB, freed at the end) index correctly, and the
 * generated C does its index math in 64 bits.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { collectGarbage } from './gc.js';
import { HAS_FLOAT64 } from '../support/backend.js';

const ROW = 256;
const ROWS = 2 ** 23 + 4; // ROWS × ROW = 2^31 + 1024
const N = ROWS * ROW;
const MARK = N - 3; // the one position holding 255

/** The value at flat index i: i mod 251, except 255 at MARK. */
const valueAt = (i: number): number => (i === MARK ? 255 : i % 251);

describe('large arrays', () => {
  it(`${N} uint8 elements: fused elementwise op, argmax, max and sum index past 2^31`, async () => {
    expect(N).toBeGreaterThan(2 ** 31);
    const rowIds = new BigInt64Array(ROWS);
    for (let r = 0; r < ROWS; r++) rowIds[r] = BigInt(r);
    const colIds = new BigInt64Array(ROW);
    for (let c = 0; c < ROW; c++) colIds[c] = BigInt(c);
    const rows = ma.array(rowIds).reshape(ROWS, 1);
    const cols = ma.array(colIds).reshape(1, ROW);
    // The flat index of every element, computed in the kernel (never stored).
    const index = rows.multiply(ROW).add(cols).reshape(-1);
    const y = ma.where(index.equal(MARK), 255, index.remainder(251).astype('uint8'));
    expect(y.dtype).toBe('uint8');
    expect(y.shape).toEqual([N]);

    // The kernel's loop and index arithmetic are 64-bit; no 32-bit int indexes anything.
    const sources = ma.kernelSources(y).map((k) => k.source);
    expect(sources.length).toBe(1);
    expect(sources[0]).toMatch(/int64_t start, int64_t end/);
    expect(sources[0]).toMatch(/for \(int64_t j = /);
    expect(sources[0]).not.toMatch(/\b(int|int32_t|uint32_t|unsigned) [a-z]\w* = /);

    y.eval();
    rows.dispose();
    cols.dispose();
    index.dispose();
    // Values near the start, across 2^31, and at the end.
    for (const i of [0, 1, 250, 251, 2 ** 31 - 2, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, MARK - 1, MARK, N - 1]) {
      expect(y.slice(i).item(), `y[${i}]`).toBe(valueAt(i));
    }
    const tail = Array.from(y.slice(ma.range(N - 6, null)).toTypedArray() as Uint8Array);
    expect(tail).toEqual([N - 6, N - 5, N - 4, N - 3, N - 2, N - 1].map(valueAt));

    // Reductions over all of it.
    // argmax's index does not fit int32 here, so it is int64 (it wrapped to a negative int32 before).
    const at = ma.argmax(y);
    expect(at.dtype).toBe('int64');
    expect(at.item()).toBe(BigInt(MARK));
    expect(ma.argmax(ma.array([1, 3, 2])).dtype).toBe('int32');
    expect(ma.max(y).item()).toBe(255);
    const full = Math.floor(N / 251);
    const rest = N % 251;
    const expectedSum = full * ((250 * 251) / 2) + (rest * (rest - 1)) / 2 - (MARK % 251) + 255;
    // Exact in float64, or in int64 where the default backend has no float64 (Metal).
    expect(Number(ma.sum(y.astype(HAS_FLOAT64 ? 'float64' : 'int64')).item())).toBe(expectedSum);
    // A reduction along the last axis of a [ROWS, ROW] view: the last row's sum.
    const rowSums = ma.sum(y.reshape(ROWS, ROW).astype('int64'), 1);
    const lastRow = Array.from({ length: ROW }, (_, c) => valueAt((ROWS - 1) * ROW + c)).reduce((s, v) => s + v, 0);
    expect(rowSums.slice(-1).item()).toBe(BigInt(lastRow));
    rowSums.dispose();
    y.dispose();
    await collectGarbage();
    expect(ma.memory().activeBytes).toBeLessThan(2 ** 20);
    ma.clearCache();
  }, 300_000);
});
