/**
 * Reading test/fixtures/numpy_functions.json (written by numpy_functions.py) and comparing
 * metalarray results with NumPy's: same shape, values within the dtype's tolerance,
 * NaN where NumPy has NaN, infinities of the same sign.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import * as ma from '../../src/index.js';

export type Encoded = { dtype: string; shape: number[]; data: (number | boolean | string)[] };
export type Fixture = { inputs: Record<string, Encoded>; outputs: Encoded[] };

const file = resolve(import.meta.dirname, '../fixtures/numpy_functions.json');
export const FIXTURES: Record<string, Fixture> = (JSON.parse(readFileSync(file, 'utf8')) as { cases: Record<string, Fixture> }).cases;

function decodeValue(v: number | boolean | string): number | boolean {
  if (v === 'nan') return Number.NaN;
  if (v === 'inf') return Number.POSITIVE_INFINITY;
  if (v === '-inf') return Number.NEGATIVE_INFINITY;
  return v as number | boolean;
}

/** The fixture's input `name` as a metalarray array of NumPy's dtype and shape. */
export function input(fx: Fixture, name: string): ma.MetalArray {
  const e = fx.inputs[name];
  if (e === undefined) throw new Error(`fixture has no input ${name}`);
  const values = e.data.map(decodeValue);
  const dtype = e.dtype as ma.DType;
  const flat: ma.MetalArray =
    dtype === 'bool' ? ma.array(values as boolean[], 'bool') : ma.array(Float64Array.from(values as number[]), 'float64').astype(dtype);
  return values.length === 0 ? ma.zeros(e.shape, dtype) : flat.reshape(e.shape);
}

/** Relative tolerance for a result dtype. */
function tolerance(dtype: string): number {
  if (dtype === 'float64') return 1e-12;
  if (dtype === 'float32') return 2e-6;
  return 0;
}

/** Checks `got` against NumPy's output `k` of the case: shape, values, and the dtype `dtype` (NumPy's when omitted). */
export function expectMatches(name: string, got: ma.MetalArray, want: Encoded, dtype?: string): void {
  expect(got.shape, `${name}: shape`).toEqual(want.shape);
  expect(got.dtype, `${name}: dtype`).toBe(dtype ?? want.dtype);
  const values = got.size === 0 ? [] : (got.reshape([-1]).tolist() as (number | boolean | bigint)[]);
  const tol = tolerance(got.dtype);
  for (const [k, raw] of want.data.entries()) {
    const w = decodeValue(raw);
    const g = values[k];
    const where = `${name}[${k}]: got ${String(g)}, NumPy ${String(w)}`;
    if (typeof w === 'boolean') {
      expect(g, where).toBe(w);
    } else if (Number.isNaN(w)) {
      expect(Number.isNaN(Number(g)), where).toBe(true);
    } else if (!Number.isFinite(w)) {
      expect(Number(g), where).toBe(w);
    } else {
      const gv = Number(g);
      expect(Math.abs(gv - w) <= tol * Math.max(1, Math.abs(w)) + (tol === 0 ? 0 : 1e-300), where).toBe(true);
    }
  }
}
