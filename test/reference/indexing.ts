/**
 * Reference indexing and rearranging ops, as plain loops over multi-indices: take and
 * take_along_axis (negative indices count from the end once, out-of-range ones clamp,
 * as the library documents), tril/triu, roll, tile, repeat, pad and nonzero (NumPy).
 */
import { type RefArray, type Shape, fromFlat, getAt, sizeOf, toFlat } from './array.js';
import type { Scalar } from './round.js';

function unravel(i: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = shape[d] === 0 ? 0 : i % shape[d];
    i = shape[d] === 0 ? 0 : Math.floor(i / shape[d]);
  }
  return idx;
}

/** Builds an array of `shape` whose element at each multi-index is fn(index). */
function build(dtype: RefArray['dtype'], shape: Shape, fn: (index: number[]) => Scalar): RefArray {
  const n = sizeOf(shape);
  const values: Scalar[] = [];
  for (let i = 0; i < n; i++) values.push(fn(unravel(i, shape)));
  return fromFlat(dtype, shape, values);
}

function clampIndex(v: Scalar, n: number): number {
  let i = Number(v);
  if (i < 0) i += n;
  return Math.min(Math.max(i, 0), n - 1);
}

const shapeOfArr = (a: RefArray): number[] => [...a.nd.shape];

/** NumPy take(a, indices, axis) (axis null: flattened), clamping out-of-range indices. */
export function take(a: RefArray, indices: RefArray, axis: number | null): RefArray {
  const src = axis === null ? fromFlat(a.dtype, [sizeOf(a.nd.shape)], toFlat(a)) : a;
  const ax = axis === null ? 0 : axis < 0 ? axis + src.nd.shape.length : axis;
  const s = shapeOfArr(src);
  const is = shapeOfArr(indices);
  const out = [...s.slice(0, ax), ...is, ...s.slice(ax + 1)];
  return build(src.dtype, out, (index) => {
    const k = index.slice(ax, ax + is.length);
    const at = [...index.slice(0, ax), clampIndex(getAt(indices, k), s[ax]), ...index.slice(ax + is.length)];
    return getAt(src, at);
  });
}

/** NumPy take_along_axis with broadcasting of the other axes, clamping indices. */
export function takeAlongAxis(a: RefArray, indices: RefArray, axis: number | null): RefArray {
  const src = axis === null ? fromFlat(a.dtype, [sizeOf(a.nd.shape)], toFlat(a)) : a;
  const ax = axis === null ? 0 : axis < 0 ? axis + src.nd.shape.length : axis;
  const s = shapeOfArr(src);
  const is = shapeOfArr(indices);
  const out = s.map((d, i) => (i === ax ? is[ax] : d === 1 ? is[i] : d));
  return build(src.dtype, out, (index) => {
    const ii = index.map((x, d) => (is[d] === 1 ? 0 : x));
    const at = index.map((x, d) => (d === ax ? clampIndex(getAt(indices, ii), s[ax]) : s[d] === 1 ? 0 : x));
    return getAt(src, at);
  });
}

/** tril (lower) or triu (upper) of the last two axes with diagonal offset k. */
export function triangle(a: RefArray, k: number, lower: boolean): RefArray {
  const s = shapeOfArr(a);
  const zero: Scalar =
    typeof getAt(
      a,
      s.map(() => 0),
    ) === 'bigint'
      ? 0n
      : 0;
  return build(a.dtype, s, (index) => {
    const r = index[index.length - 2];
    const c = index[index.length - 1];
    const keep = lower ? c - r <= k : c - r >= k;
    return keep ? getAt(a, index) : zero;
  });
}

/** NumPy roll over the given axes (null: the flattened array). */
export function roll(a: RefArray, shifts: readonly number[], axes: readonly number[] | null): RefArray {
  const s = shapeOfArr(a);
  if (axes === null) {
    const flat = toFlat(a);
    const n = flat.length;
    const out = flat.map((_, i) => flat[(((i - shifts[0]) % n) + n) % n]);
    return fromFlat(a.dtype, s, out);
  }
  return build(a.dtype, s, (index) => {
    const at = index.slice();
    axes.forEach((ax0, j) => {
      const ax = ax0 < 0 ? ax0 + s.length : ax0;
      const n = s[ax];
      at[ax] = (((index[ax] - shifts[j]) % n) + n) % n;
    });
    return getAt(a, at);
  });
}

/** NumPy tile. */
export function tile(a: RefArray, reps: readonly number[]): RefArray {
  const s0 = shapeOfArr(a);
  const rank = Math.max(s0.length, reps.length);
  const s = [...new Array<number>(rank - s0.length).fill(1), ...s0];
  const r = [...new Array<number>(rank - reps.length).fill(1), ...reps];
  const out = s.map((d, i) => d * r[i]);
  return build(a.dtype, out, (index) =>
    getAt(
      a,
      index.slice(rank - s0.length).map((x, i) => x % s0[i]),
    ),
  );
}

/** NumPy repeat with one repeat count (axis null: flattened). */
export function repeat(a: RefArray, repeats: number, axis: number | null): RefArray {
  const src = axis === null ? fromFlat(a.dtype, [sizeOf(a.nd.shape)], toFlat(a)) : a;
  const ax = axis === null ? 0 : axis < 0 ? axis + src.nd.shape.length : axis;
  const s = shapeOfArr(src);
  const out = s.map((d, i) => (i === ax ? d * repeats : d));
  return build(src.dtype, out, (index) =>
    getAt(
      src,
      index.map((x, d) => (d === ax ? Math.floor(x / repeats) : x)),
    ),
  );
}

/** NumPy pad with 'constant', 'edge' or 'reflect' (reflect without repeating the edge). */
export function pad(a: RefArray, widths: readonly (readonly [number, number])[], mode: 'constant' | 'edge' | 'reflect', value: Scalar): RefArray {
  const s = shapeOfArr(a);
  const out = s.map((d, i) => d + widths[i][0] + widths[i][1]);
  return build(a.dtype, out, (index) => {
    const at: number[] = [];
    for (let d = 0; d < s.length; d++) {
      let i = index[d] - widths[d][0];
      const n = s[d];
      if (i < 0 || i >= n) {
        if (mode === 'constant') return value;
        if (mode === 'edge') i = i < 0 ? 0 : n - 1;
        else {
          // reflect about the edges: period 2(n - 1)
          const p = 2 * (n - 1);
          i = ((i % p) + p) % p;
          if (i >= n) i = p - i;
        }
      }
      at.push(i);
    }
    return getAt(a, at);
  });
}

/** NumPy nonzero: one index list per axis (a 0-d array counts as 1-d). */
export function nonzero(a: RefArray): number[][] {
  const s = shapeOfArr(a);
  const flat = toFlat(a);
  const dims = s.length === 0 ? [1] : s;
  const out: number[][] = dims.map(() => []);
  flat.forEach((v, i) => {
    if (v === 0 || v === 0n) return;
    const idx = s.length === 0 ? [0] : unravel(i, s);
    idx.forEach((x, d) => {
      out[d].push(x);
    });
  });
  return out;
}

/** NumPy's stable ascending order with NaN last; -0 and 0 are equal. */
function compare(x: Scalar, y: Scalar): number {
  const xn = typeof x === 'number' && Number.isNaN(x);
  const yn = typeof y === 'number' && Number.isNaN(y);
  if (xn || yn) return xn === yn ? 0 : xn ? 1 : -1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Stable sort (indices: argsort) along `axis` (null: the flattened array). */
export function sortAlong(a: RefArray, axis: number | null, indices: boolean): RefArray {
  const src = axis === null ? fromFlat(a.dtype, [sizeOf(a.nd.shape)], toFlat(a)) : a;
  const s = shapeOfArr(src);
  const ax = axis === null ? 0 : axis < 0 ? axis + s.length : axis;
  const order = new Map<string, number[]>();
  const lineOf = (index: number[]): number[] => {
    const key = index.map((x, d) => (d === ax ? 0 : x)).join(',');
    let o = order.get(key);
    if (!o) {
      const vals = Array.from({ length: s[ax] }, (_, j) =>
        getAt(
          src,
          index.map((x, d) => (d === ax ? j : x)),
        ),
      );
      o = vals.map((_, j) => j).sort((p, q) => compare(vals[p], vals[q]) || p - q);
      order.set(key, o);
    }
    return o;
  };
  return build(indices ? 'int32' : src.dtype, s, (index) => {
    const j = lineOf(index)[index[ax]];
    return indices
      ? j
      : getAt(
          src,
          index.map((x, d) => (d === ax ? j : x)),
        );
  });
}
