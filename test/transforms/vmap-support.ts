/**
 * The identity every vmap test checks: vmap(f, inAxes, outAxes)(...args) equals f
 * applied to each example (the mapped arguments indexed along their axes) and the
 * results stacked along the out axis, with the same shapes and dtypes.
 */
import { expect } from 'vitest';
import * as ma from '../../src/index.js';

/** The `b`-th example of `x` along `axis` (null: `x` itself). */
export function exampleOf(x: ma.MetalArray, axis: number | null, b: number): ma.MetalArray {
  if (axis === null) return x;
  return ma.moveaxis(x, axis, 0).slice(b);
}

/** Element values as numbers (bigints and booleans converted). */
export function values(x: ma.MetalArray): number[] {
  return Array.from(x.toTypedArray() as ArrayLike<number | bigint>, Number);
}

/** Expects equal shapes, dtypes and values (floats to a relative `tol`, NaN equal to NaN). */
export function expectSameArray(got: ma.MetalArray, want: ma.MetalArray, tol = 1e-5, what = 'result'): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  expect(got.dtype, `${what}: dtype`).toBe(want.dtype);
  const g = values(got);
  const w = values(want);
  const isFloat = got.dtype.startsWith('float') || got.dtype === 'bfloat16';
  for (let i = 0; i < w.length; i++) {
    const a = g[i] as number;
    const b = w[i] as number;
    if (Number.isNaN(b)) {
      expect(Number.isNaN(a), `${what}[${i}]: ${a} vs NaN`).toBe(true);
    } else if (isFloat && Number.isFinite(b)) {
      expect(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}[${i}]: ${a} vs ${b}`).toBe(true);
    } else {
      expect(a, `${what}[${i}]`).toBe(b);
    }
  }
}

/**
 * Checks vmap(f, inAxes, outAxes) on `args` against stacking f over the examples.
 * `inAxes` here is one number or null per argument (the tests of trees build their
 * reference themselves); `outAxis` one number for every result array.
 */
export function expectMapsLikeStack(
  f: (...args: ma.MetalArray[]) => ma.MetalArray | ma.MetalArray[],
  args: ma.MetalArray[],
  inAxes: (number | null)[],
  outAxis = 0,
  tol = 1e-5,
): void {
  const mappedIndex = inAxes.findIndex((a) => a !== null);
  const first = args[mappedIndex] as ma.MetalArray;
  const axis = inAxes[mappedIndex] as number;
  const size = first.shape[axis < 0 ? axis + first.ndim : axis] as number;
  const got = ma.vmap(f, inAxes, outAxis)(...args);
  const perExample = Array.from({ length: size }, (_, b) => f(...args.map((x, i) => exampleOf(x, inAxes[i] as number | null, b))));
  const gotList = Array.isArray(got) ? got : [got];
  const count = gotList.length;
  for (let k = 0; k < count; k++) {
    const want = ma.stack(
      perExample.map((r) => (Array.isArray(r) ? r[k] : r) as ma.MetalArray),
      outAxis,
    );
    expectSameArray(gotList[k] as ma.MetalArray, want, tol, `result ${k}`);
  }
}
