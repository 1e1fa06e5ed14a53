/** Shared helpers of the linalg tests: fixture decoding and tolerant comparison. */
import { expect } from 'vitest';
import * as ma from '../../src/index.js';

export type Nested = number | string | Nested[];

/** A fixture value with NaN/Inf spelled as strings, as numbers. */
export function decode(x: Nested): number | Nested[] {
  if (Array.isArray(x)) return x.map((v) => decode(v)) as Nested[];
  if (typeof x === 'number') return x;
  return x === 'nan' ? Number.NaN : x === 'inf' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

/** A float64 array from a fixture value. */
export function f64(x: Nested): ma.MetalArray {
  const v = decode(x);
  return typeof v === 'number' ? ma.array([v], 'float64').reshape([]) : ma.array(v as number[], 'float64');
}

function flat(x: unknown): number[] {
  if (Array.isArray(x)) return x.flatMap((v) => flat(v));
  return [Number(x)];
}

function shapeOf(x: unknown): number[] {
  return Array.isArray(x) ? [x.length, ...(x.length > 0 ? shapeOf(x[0]) : [])] : [];
}

/** Expects `got` to match `want` (a fixture value or number) elementwise within atol + rtol·|want|, NaN matching NaN. */
export function expectClose(got: ma.MetalArray, want: Nested | number, { rtol = 1e-9, atol = 1e-10 } = {}): void {
  const w = decode(want as Nested);
  if (Array.isArray(w)) expect(got.shape).toEqual(shapeOf(w));
  else expect(got.size).toBe(1);
  const g = flat(got.tolist());
  const e = flat(w);
  expect(g.length).toBe(e.length);
  for (let i = 0; i < e.length; i++) {
    if (Number.isNaN(e[i])) {
      expect(g[i], `element ${i}`).toBeNaN();
      continue;
    }
    if (!Number.isFinite(e[i])) {
      expect(g[i], `element ${i}`).toBe(e[i]);
      continue;
    }
    const tol = atol + rtol * Math.abs(e[i]);
    if (!(Math.abs(g[i] - e[i]) <= tol)) expect.fail(`element ${i}: got ${g[i]}, want ${e[i]} (tolerance ${tol})`);
  }
}
