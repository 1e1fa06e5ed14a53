/**
 * Helpers of the ma.nn tests: the PyTorch fixtures (test/fixtures/nn.json, written by
 * test/fixtures/nn.py, float64) and a closeness check that names what it compares.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import * as ma from '../../src/index.js';

// biome-ignore lint/suspicious/noExplicitAny: the fixture is JSON of many shapes, read field by field.
export const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/nn.json'), 'utf8')) as Record<string, any>;

/** A float64 array from a nested list of the fixture. */
export function f64(values: ma.NestedNumbers | number): ma.MetalArray {
  return ma.array(values as ma.NestedNumbers, 'float64');
}

/** The largest absolute difference between `a` and `expected` (same shape), checked against `tol`. */
export function expectClose(what: string, a: ma.MetalArray, expected: ma.NestedNumbers | number, tol = 1e-9): void {
  const want = f64(expected);
  expect(a.shape, `${what}: shape`).toEqual(want.shape);
  const err = Number(ma.max(ma.abs(a.astype('float64').subtract(want))).item());
  expect(err, `${what}: max |difference| from PyTorch`).toBeLessThanOrEqual(tol);
}
