/**
 * Reference indexing and rearranging ops, as plain loops over multi-indices: take and
 * take_along_axis (negative indices in [-n, 0) count from the end; out-of-range ones
 * follow JAX's index modes, as docs/indexing.md states them: 'clip', 'wrap', 'fill' /
 * 'drop', 'raise'), tril/triu, roll, tile, repeat, pad and nonzero (NumPy), and NumPy's
 * advanced indexing (several index arrays mixed with basic specs) with the scatter that
 * updates the positions it selects.
 */
import { broadcastShapes, type RefArray, type Shape, fromFlat, getAt, sizeOf, toFlat } from './array.js';
import { DTYPES, ShapeError } from './dtypes.js';
import type { Scalar } from './round.js';
import { parseSliceString, type SliceSpec, sliceIndices } from './views.js';

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

/** What an out-of-range index does (docs/indexing.md): gathers default to 'clip', scatters to 'drop'. */
export type IndexMode = 'clip' | 'wrap' | 'fill' | 'drop' | 'raise';

/** An index outside its axis in 'raise' mode. */
export class IndexError extends Error {
  override name = 'IndexError';
}

/**
 * The position index `v` reads in an axis of size n under `mode`, or null where 'fill'
 * reads the fill value (and 'drop' skips the update); 'raise' throws IndexError.
 */
export function resolveIndex(v: Scalar, n: number, mode: IndexMode): number | null {
  const i = Number(v);
  const inRange = i >= -n && i < n;
  if (mode === 'clip') return clampIndex(i, n);
  if (mode === 'wrap') return ((i % n) + n) % n;
  if (inRange) return i < 0 ? i + n : i;
  if (mode === 'raise') throw new IndexError(`index ${i} is out of bounds for an axis of size ${n}`);
  return null;
}

/** JAX's default fill of a gather: NaN for floats, the signed minimum, the unsigned maximum, true for bool. */
export function defaultFill(dtype: RefArray['dtype']): Scalar {
  const info = DTYPES[dtype];
  if (info.kind === 'bool') return 1;
  if (info.kind === 'int' || info.kind === 'uint') {
    const v = (info.kind === 'int' ? info.min : info.max) as bigint;
    return info.big ? v : Number(v);
  }
  return Number.NaN;
}

const shapeOfArr = (a: RefArray): number[] => [...a.nd.shape];

/** NumPy take(a, indices, axis) (axis null: flattened), out-of-range indices following `mode`. */
export function take(a: RefArray, indices: RefArray, axis: number | null, mode: IndexMode = 'clip', fill?: Scalar): RefArray {
  const src = axis === null ? fromFlat(a.dtype, [sizeOf(a.nd.shape)], toFlat(a)) : a;
  const ax = axis === null ? 0 : axis < 0 ? axis + src.nd.shape.length : axis;
  const s = shapeOfArr(src);
  const is = shapeOfArr(indices);
  const out = [...s.slice(0, ax), ...is, ...s.slice(ax + 1)];
  return build(src.dtype, out, (index) => {
    const k = index.slice(ax, ax + is.length);
    const p = resolveIndex(getAt(indices, k), s[ax], mode);
    if (p === null) return fill ?? defaultFill(src.dtype);
    const at = [...index.slice(0, ax), p, ...index.slice(ax + is.length)];
    return getAt(src, at);
  });
}

/** NumPy take_along_axis with broadcasting of the other axes, out-of-range indices following `mode`. */
export function takeAlongAxis(a: RefArray, indices: RefArray, axis: number | null, mode: IndexMode = 'clip', fill?: Scalar): RefArray {
  const src = axis === null ? fromFlat(a.dtype, [sizeOf(a.nd.shape)], toFlat(a)) : a;
  const ax = axis === null ? 0 : axis < 0 ? axis + src.nd.shape.length : axis;
  const s = shapeOfArr(src);
  const is = shapeOfArr(indices);
  const out = s.map((d, i) => (i === ax ? is[ax] : d === 1 ? is[i] : d));
  return build(src.dtype, out, (index) => {
    const ii = index.map((x, d) => (is[d] === 1 ? 0 : x));
    const p = resolveIndex(getAt(indices, ii), s[ax], mode);
    if (p === null) return fill ?? defaultFill(src.dtype);
    const at = index.map((x, d) => (d === ax ? p : s[d] === 1 ? 0 : x));
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

/**
 * a with `values` (already of the selection's shape [..., k, ...] along `axis`) put at
 * `index` positions along `axis`, in order: 'set' (the last write wins) or 'add'.
 * Values are combined with `add(x, y)` (the caller rounds as the dtype requires).
 */
export function scatterAlong(
  a: RefArray,
  index: readonly number[],
  values: RefArray,
  axis: number,
  how: 'set' | 'add',
  add: (x: Scalar, y: Scalar) => Scalar,
  mode: IndexMode = 'drop',
): RefArray {
  const s = shapeOfArr(a);
  const out = toFlat(a);
  const strides = s.map((_, d) => s.slice(d + 1).reduce((p, x) => p * x, 1));
  const vs = shapeOfArr(values);
  const n = sizeOf(vs);
  for (let i = 0; i < n; i++) {
    const vi = unravel(i, vs);
    const p = resolveIndex(index[vi[axis]], s[axis], mode);
    if (p === null) continue; // 'drop' (or 'fill'): the update is skipped
    const target = vi.map((x, d) => (d === axis ? p : x));
    const off = target.reduce((p, x, d) => p + x * strides[d], 0);
    const v = getAt(values, vi);
    out[off] = how === 'set' ? v : add(out[off], v);
  }
  return fromFlat(a.dtype, s, out);
}

/** One index of `index`: a basic spec (views.ts), or an index array (integers, or a boolean mask). */
export type IndexSpec = SliceSpec | { readonly array: RefArray };

/** An index spec once integers and masks are index arrays and strings are parsed. */
type Item =
  | { kind: 'range'; start: number | null; stop: number | null; step: number | null }
  | { kind: 'newaxis' }
  | { kind: 'ellipsis' }
  /**
   * values, row-major, of `shape`; `axis`: false for a 0-d mask, which reads no axis;
   * `int`: an integer spec (NumPy raises when out of range, where arrays clamp here).
   */
  | { kind: 'array'; values: number[]; shape: number[]; axis: boolean; int?: boolean; mask?: boolean };

/**
 * NumPy indexing with any mix of integers, ranges, newaxis, one ellipsis and index
 * arrays, written from NumPy's rules: integers are 0-d index arrays; a mask is its
 * nonzero() arrays (a 0-d mask an array over a new 1-sized axis); every index array
 * broadcasts to one shape S; when the index arrays (integers included) are consecutive
 * specs, S stands where they stand, otherwise S comes first. Array entries count from the
 * end when negative and clamp to the axis, as the library documents; integers must be
 * in range unless a `mode` is given (as `at()` does: then integers follow it as arrays do;
 * a 'fill' element reads `fill`, by default defaultFill of the dtype).
 */
export function index(a: RefArray, specs: readonly IndexSpec[], mode?: IndexMode, fill?: Scalar): RefArray {
  const s = shapeOfArr(a);
  const items: Item[] = [];
  let axis = 0; // the source axis the next spec reads, counted before '...' is expanded
  const pending: { at: number; mask: RefArray }[] = [];
  for (const spec of specs) {
    if (spec === null) items.push({ kind: 'newaxis' });
    else if (typeof spec === 'string') {
      for (const p of parseSliceString(spec)) {
        if (p.kind === 'index') items.push({ kind: 'array', values: [p.i], shape: [], axis: true, int: true });
        else items.push(p);
      }
    } else if (typeof spec === 'number') items.push({ kind: 'array', values: [spec], shape: [], axis: true, int: true });
    else if ('array' in spec) {
      if (spec.array.dtype === 'bool') {
        pending.push({ at: items.length, mask: spec.array });
        items.push({ kind: 'newaxis' }); // replaced below, once axes are known
      } else items.push({ kind: 'array', values: toFlat(spec.array).map(Number), shape: shapeOfArr(spec.array), axis: true });
    } else {
      const [start = null, stop = null, step = null] = spec;
      items.push({ kind: 'range', start, stop, step });
    }
  }
  // Masks: check their shape against the axes they cover, then expand to nonzero arrays.
  const consumedBy = (it: Item, i: number): number => {
    const m = pending.find((x) => x.at === i);
    if (m) return shapeOfArr(m.mask).length;
    return it.kind === 'range' || (it.kind === 'array' && it.axis) ? 1 : 0;
  };
  const consumed = items.reduce((c, it, i) => c + consumedBy(it, i), 0);
  if (items.filter((it) => it.kind === 'ellipsis').length > 1) throw new ShapeError("an index can only have a single ellipsis ('...')");
  if (consumed > s.length) throw new ShapeError(`too many indices: ${consumed} for ${s.length} dims`);
  const expanded: Item[] = [];
  items.forEach((it, i) => {
    const m = pending.find((x) => x.at === i);
    if (m) {
      const ms = shapeOfArr(m.mask);
      const covered = s.slice(axis, axis + ms.length);
      if (covered.join(',') !== ms.join(',')) throw new ShapeError(`mask of shape [${ms}] does not match axes [${covered}]`);
      const nz = nonzero(m.mask);
      if (ms.length === 0) expanded.push({ kind: 'array', values: nz[0], shape: [nz[0].length], axis: false, mask: true });
      else for (const col of nz) expanded.push({ kind: 'array', values: col, shape: [col.length], axis: true, mask: true });
      axis += ms.length;
      return;
    }
    expanded.push(it);
    axis += it.kind === 'ellipsis' ? s.length - consumed : consumedBy(it, i);
  });
  // Where S goes: the advanced items must be consecutive specs ('...' separates, even empty).
  const advanced = expanded.flatMap((it, i) => (it.kind === 'array' ? [i] : []));
  const together = advanced.every((x, k) => k === 0 || x === advanced[k - 1] + 1);
  const S = broadcastShapes(...expanded.flatMap((it) => (it.kind === 'array' ? [it.shape] : [])));
  // Full list: '...' and the implicit trailing ranges become whole ranges.
  const full: Item = { kind: 'range', start: null, stop: null, step: null };
  const list: Item[] = [];
  for (const it of expanded) {
    if (it.kind === 'ellipsis') for (let k = 0; k < s.length - consumed; k++) list.push(full);
    else list.push(it);
  }
  if (!items.some((it) => it.kind === 'ellipsis')) for (let k = 0; k < s.length - consumed; k++) list.push(full);
  // Output dims: one per range or newaxis, with S at its place.
  const basic: { item: number; len: number; start: number; step: number }[] = [];
  let srcAxis = 0;
  const srcAxisOf: number[] = [];
  list.forEach((it, i) => {
    srcAxisOf.push(srcAxis);
    if (it.kind === 'range') {
      const r = sliceIndices(s[srcAxis], it.start, it.stop, it.step);
      basic.push({ item: i, len: r.count, start: r.start, step: r.step });
      srcAxis++;
    } else if (it.kind === 'newaxis') basic.push({ item: i, len: 1, start: 0, step: 0 });
    else if (it.kind === 'array' && it.axis) srcAxis++;
  });
  const firstArray = list.findIndex((it) => it.kind === 'array');
  const sAt = together ? basic.filter((b) => b.item < firstArray).length : 0;
  const out = [...basic.slice(0, sAt).map((b) => b.len), ...S, ...basic.slice(sAt).map((b) => b.len)];
  list.forEach((it, i) => {
    // Without a mode (slice), integers must be in range; with one (at()), they follow it as arrays do.
    if (mode !== undefined || it.kind !== 'array' || !it.int) return;
    const ax = srcAxisOf[i];
    const v = it.values[0];
    if (v < -s[ax] || v >= s[ax]) throw new ShapeError(`index ${v} out of range for axis ${ax} of size ${s[ax]}`);
  });
  return build(a.dtype, out, (idx) => {
    const sIdx = idx.slice(sAt, sAt + S.length);
    const bIdx = [...idx.slice(0, sAt), ...idx.slice(sAt + S.length)];
    const src: number[] = [];
    let outside = false;
    let k = 0;
    list.forEach((it, i) => {
      if (it.kind === 'range') {
        src.push(basic[k].start + basic[k].step * bIdx[k]);
        k++;
      } else if (it.kind === 'newaxis') k++;
      else if (it.kind === 'array' && it.axis) {
        const n = s[srcAxisOf[i]];
        if (n === 0) throw new ShapeError(`cannot index the empty axis ${srcAxisOf[i]}`);
        const at = sIdx.slice(S.length - it.shape.length).map((x, d) => (it.shape[d] === 1 ? 0 : x));
        const flat = at.reduce((p, x, d) => p * it.shape[d] + x, 0);
        const p = resolveIndex(it.values[flat], n, it.mask ? 'clip' : (mode ?? 'clip'));
        if (p === null) outside = true;
        src.push(p ?? 0);
      }
    });
    return outside ? (fill ?? defaultFill(a.dtype)) : getAt(a, src);
  });
}

/**
 * `a` with `values` (already of the selection's shape) combined in at the positions
 * `index(a, specs, mode)` reads, in row-major order of the selection: 'set' (the last write
 * wins) or 'add' through `add(x, y)` (the caller rounds as the dtype requires); an
 * out-of-range index drops its update in 'drop'/'fill' mode (the default, as JAX's scatters).
 */
export function scatterIndex(
  a: RefArray,
  specs: readonly IndexSpec[],
  values: RefArray,
  how: 'set' | 'add',
  add: (x: Scalar, y: Scalar) => Scalar,
  mode: IndexMode = 'drop',
): RefArray {
  const s = shapeOfArr(a);
  const n = sizeOf(s);
  const positions = toFlat(
    index(
      fromFlat(
        'float64',
        s,
        Array.from({ length: n }, (_, i) => i),
      ),
      specs,
      mode,
      -1,
    ),
  ).map(Number);
  const out = toFlat(a);
  const v = toFlat(values);
  if (v.length !== positions.length) throw new ShapeError(`${v.length} values for ${positions.length} positions`);
  positions.forEach((p, i) => {
    if (p < 0) return; // an update the mode drops
    out[p] = how === 'set' ? v[i] : add(out[p], v[i]);
  });
  return fromFlat(a.dtype, s, out);
}
