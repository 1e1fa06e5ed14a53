/**
 * Reference oracle: movement ops. Everything except reshape/flatten/concatenate/stack is
 * an `ndarray` view on the same data (new shape/strides/offset, no copy).
 */
import { type DType, promote, ShapeError } from './dtypes.js';
import { broadcastStrides, contiguousStrides, copy, fromFlat, makeView, type RefArray, type Shape, sizeOf, toFlat } from './array.js';
import { castScalar, type Scalar } from './round.js';

function ndim(a: RefArray): number {
  return a.nd.shape.length;
}

/** Normalizes an axis against `n` dimensions (negative counts from the end). */
export function normalizeAxis(axis: number, n: number): number {
  if (!Number.isInteger(axis) || axis < -n || axis >= n) throw new ShapeError(`axis ${axis} out of range for ${n} dims`);
  return axis < 0 ? axis + n : axis;
}

function normalizeAxes(axes: number | readonly number[], n: number): number[] {
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => normalizeAxis(a, n));
  if (new Set(out).size !== out.length) throw new ShapeError(`repeated axis in [${list}]`);
  return out;
}

/** reshape with at most one -1. Copies to contiguous first (allowed for the oracle). */
export function reshape(a: RefArray, shape: readonly number[]): RefArray {
  const size = sizeOf(a.nd.shape);
  const dims = [...shape];
  const neg = dims.filter((d) => d === -1).length;
  if (neg > 1) throw new ShapeError('reshape: at most one -1');
  for (const d of dims) if (!Number.isInteger(d) || d < -1) throw new ShapeError(`reshape: bad dim ${d}`);
  if (neg === 1) {
    const known = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    // NumPy: -1 with a zero-size known part is ambiguous → error.
    if (known === 0 || size % known !== 0) throw new ShapeError(`cannot reshape [${a.nd.shape}] into [${shape}]`);
    dims[dims.indexOf(-1)] = size / known;
  }
  if (sizeOf(dims) !== size) throw new ShapeError(`cannot reshape [${a.nd.shape}] into [${shape}]`);
  const c = copy(a);
  return makeView(a.dtype, c.nd.data, dims, contiguousStrides(dims), 0);
}

export function transpose(a: RefArray, axes?: readonly number[]): RefArray {
  const n = ndim(a);
  const perm = axes === undefined ? [...Array(n).keys()].reverse() : normalizeAxes(axes, n);
  if (perm.length !== n) throw new ShapeError(`transpose: axes [${axes}] do not match ${n} dims`);
  return makeView(
    a.dtype,
    a.nd.data,
    perm.map((p) => a.nd.shape[p]),
    perm.map((p) => a.nd.stride[p]),
    a.nd.offset,
  );
}

export function swapaxes(a: RefArray, i: number, j: number): RefArray {
  const n = ndim(a);
  const perm = [...Array(n).keys()];
  const x = normalizeAxis(i, n);
  const y = normalizeAxis(j, n);
  perm[x] = y;
  perm[y] = x;
  return transpose(a, perm);
}

export function moveaxis(a: RefArray, source: number | readonly number[], destination: number | readonly number[]): RefArray {
  const n = ndim(a);
  const src = normalizeAxes(source, n);
  const dst = normalizeAxes(destination, n);
  if (src.length !== dst.length) throw new ShapeError('moveaxis: source and destination differ in length');
  const rest = [...Array(n).keys()].filter((k) => !src.includes(k));
  const order = new Array<number>(n).fill(-1);
  src.forEach((s, k) => {
    order[dst[k]] = s;
  });
  let r = 0;
  for (let k = 0; k < n; k++) if (order[k] === -1) order[k] = rest[r++];
  return transpose(a, order);
}

export function broadcastTo(a: RefArray, shape: readonly number[]): RefArray {
  return makeView(a.dtype, a.nd.data, shape, broadcastStrides(a, shape), a.nd.offset);
}

export function expandDims(a: RefArray, axis: number | readonly number[]): RefArray {
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const outNd = ndim(a) + list.length;
  const axes = normalizeAxes(list, outNd);
  const shape: number[] = [];
  const strides: number[] = [];
  let k = 0;
  for (let d = 0; d < outNd; d++) {
    if (axes.includes(d)) {
      shape.push(1);
      strides.push(0);
    } else {
      shape.push(a.nd.shape[k]);
      strides.push(a.nd.stride[k]);
      k++;
    }
  }
  return makeView(a.dtype, a.nd.data, shape, strides, a.nd.offset);
}

export function squeeze(a: RefArray, axis?: number | readonly number[]): RefArray {
  const n = ndim(a);
  let drop: number[];
  if (axis === undefined) drop = [...Array(n).keys()].filter((d) => a.nd.shape[d] === 1);
  else {
    drop = normalizeAxes(axis, n);
    for (const d of drop) if (a.nd.shape[d] !== 1) throw new ShapeError(`squeeze: axis ${d} has size ${a.nd.shape[d]}`);
  }
  const keep = [...Array(n).keys()].filter((d) => !drop.includes(d));
  return makeView(
    a.dtype,
    a.nd.data,
    keep.map((d) => a.nd.shape[d]),
    keep.map((d) => a.nd.stride[d]),
    a.nd.offset,
  );
}

export function flatten(a: RefArray): RefArray {
  return fromFlat(a.dtype, [sizeOf(a.nd.shape)], toFlat(a));
}

export function flip(a: RefArray, axis?: number | readonly number[]): RefArray {
  const n = ndim(a);
  const axes = axis === undefined ? [...Array(n).keys()] : normalizeAxes(axis, n);
  const strides = [...a.nd.stride];
  let offset = a.nd.offset;
  for (const d of axes) {
    const len = a.nd.shape[d];
    if (len > 0) offset += (len - 1) * strides[d];
    strides[d] = -strides[d];
  }
  return makeView(a.dtype, a.nd.data, a.nd.shape, strides, offset);
}

// ---------------------------------------------------------------------------------
// Slicing
// ---------------------------------------------------------------------------------

/** [start, stop, step] with nulls for defaults (shorter tuples allowed). */
export type SliceRange = readonly [start?: number | null, stop?: number | null, step?: number | null];
/** An integer, a range, null (new axis), '...' or the string form ('1:10:2, ::-1, None, ...'). */
export type SliceSpec = number | null | string | SliceRange;

type NormSpec =
  | { kind: 'index'; i: number }
  | { kind: 'range'; start: number | null; stop: number | null; step: number | null }
  | { kind: 'newaxis' }
  | { kind: 'ellipsis' };

function parseIntStrict(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new ShapeError(`bad slice component '${s}'`);
  return Number.parseInt(s, 10);
}

/** Parses the NumPy-like string form into specs. */
export function parseSliceString(s: string): NormSpec[] {
  const parts = s.split(',').map((p) => p.trim());
  // A trailing comma ('1,') is allowed as in Python; an entirely empty string is no spec.
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((p): NormSpec => {
    if (p === '...') return { kind: 'ellipsis' };
    if (p === 'None' || p === 'newaxis') return { kind: 'newaxis' };
    if (p.includes(':')) {
      const f = p.split(':').map((x) => x.trim());
      if (f.length > 3) throw new ShapeError(`bad slice '${p}'`);
      const num = (x: string | undefined): number | null => (x === undefined || x === '' ? null : parseIntStrict(x));
      return { kind: 'range', start: num(f[0]), stop: num(f[1]), step: num(f[2]) };
    }
    return { kind: 'index', i: parseIntStrict(p) };
  });
}

function normalizeSpecs(specs: readonly SliceSpec[]): NormSpec[] {
  const out: NormSpec[] = [];
  for (const s of specs) {
    if (s === null) out.push({ kind: 'newaxis' });
    else if (typeof s === 'number') {
      if (!Number.isInteger(s)) throw new ShapeError(`non-integer index ${s}`);
      out.push({ kind: 'index', i: s });
    } else if (typeof s === 'string') out.push(...parseSliceString(s));
    else {
      if (s.length > 3) throw new ShapeError('a slice range has at most 3 entries');
      const [start = null, stop = null, step = null] = s;
      for (const v of [start, stop, step]) {
        if (v !== null && !Number.isInteger(v)) throw new ShapeError(`non-integer slice bound ${v}`);
      }
      out.push({ kind: 'range', start, stop, step });
    }
  }
  return out;
}

/** Python's slice.indices(length) followed by the slice length. */
export function sliceIndices(length: number, start: number | null, stop: number | null, step: number | null): { start: number; step: number; count: number } {
  const st = step ?? 1;
  if (st === 0) throw new ShapeError('slice step cannot be zero');
  const adjust = (v: number | null, dflt: number): number => {
    if (v === null) return dflt;
    let x = v;
    if (x < 0) {
      x += length;
      if (x < 0) x = st < 0 ? -1 : 0;
    } else if (x >= length) x = st < 0 ? length - 1 : length;
    return x;
  };
  const b = adjust(start, st < 0 ? length - 1 : 0);
  const e = adjust(stop, st < 0 ? -1 : length);
  let count = 0;
  if (st > 0 && b < e) count = Math.floor((e - b - 1) / st) + 1;
  if (st < 0 && e < b) count = Math.floor((b - e - 1) / -st) + 1;
  return { start: b, step: st, count };
}

/** NumPy basic indexing. */
export function slice(a: RefArray, ...specs: SliceSpec[]): RefArray {
  const norm = normalizeSpecs(specs);
  const n = ndim(a);
  const consumed = norm.filter((s) => s.kind === 'index' || s.kind === 'range').length;
  const ellipses = norm.filter((s) => s.kind === 'ellipsis').length;
  if (ellipses > 1) throw new ShapeError("an index can only have a single ellipsis ('...')");
  if (consumed > n) throw new ShapeError(`too many indices: ${consumed} for ${n} dims`);
  const full: NormSpec = { kind: 'range', start: null, stop: null, step: null };
  const expanded: NormSpec[] = [];
  for (const s of norm) {
    if (s.kind === 'ellipsis') for (let k = 0; k < n - consumed; k++) expanded.push(full);
    else expanded.push(s);
  }
  if (ellipses === 0) for (let k = 0; k < n - consumed; k++) expanded.push(full);

  const shape: number[] = [];
  const strides: number[] = [];
  let offset = a.nd.offset;
  let axis = 0;
  for (const s of expanded) {
    if (s.kind === 'newaxis') {
      shape.push(1);
      strides.push(0);
    } else if (s.kind === 'index') {
      const len = a.nd.shape[axis];
      const i = s.i < 0 ? s.i + len : s.i;
      if (i < 0 || i >= len) throw new ShapeError(`index ${s.i} out of range for axis ${axis} of size ${len}`);
      offset += i * a.nd.stride[axis];
      axis++;
    } else if (s.kind === 'range') {
      const { start, step, count } = sliceIndices(a.nd.shape[axis], s.start, s.stop, s.step);
      shape.push(count);
      strides.push(a.nd.stride[axis] * step);
      if (count > 0) offset += start * a.nd.stride[axis];
      axis++;
    }
  }
  return makeView(a.dtype, a.nd.data, shape, strides, offset);
}

// ---------------------------------------------------------------------------------
// Joining and splitting
// ---------------------------------------------------------------------------------

export function astypeFlat(a: RefArray, to: DType): Scalar[] {
  const flat = toFlat(a);
  return a.dtype === to ? flat : flat.map((x) => castScalar(x, a.dtype, to));
}

/** concatenate(arrays, axis = 0); the result dtype promotes all inputs (as NumPy). */
export function concatenate(arrays: readonly RefArray[], axis = 0): RefArray {
  if (arrays.length === 0) throw new ShapeError('concatenate needs at least one array');
  const n = ndim(arrays[0]);
  if (n === 0) throw new ShapeError('zero-dimensional arrays cannot be concatenated');
  const ax = normalizeAxis(axis, n);
  for (const a of arrays) {
    if (ndim(a) !== n) throw new ShapeError('concatenate: all inputs need the same number of dimensions');
    for (let d = 0; d < n; d++) {
      if (d !== ax && a.nd.shape[d] !== arrays[0].nd.shape[d]) {
        throw new ShapeError(`concatenate: shapes [${arrays[0].nd.shape}] and [${a.nd.shape}] differ off axis ${ax}`);
      }
    }
  }
  let dtype = arrays[0].dtype;
  for (const a of arrays) dtype = promote(dtype, a.dtype);
  const shape = [...arrays[0].nd.shape];
  shape[ax] = arrays.reduce((s, a) => s + a.nd.shape[ax], 0);
  const outer = sizeOf(shape.slice(0, ax));
  const inner = sizeOf(shape.slice(ax + 1));
  const flats = arrays.map((a) => astypeFlat(a, dtype));
  const out: Scalar[] = [];
  for (let o = 0; o < outer; o++) {
    arrays.forEach((a, k) => {
      const chunk = a.nd.shape[ax] * inner;
      for (let j = 0; j < chunk; j++) out.push(flats[k][o * chunk + j]);
    });
  }
  return fromFlat(dtype, shape, out);
}

export function stack(arrays: readonly RefArray[], axis = 0): RefArray {
  if (arrays.length === 0) throw new ShapeError('stack needs at least one array');
  const s0 = arrays[0].nd.shape;
  for (const a of arrays) {
    if (a.nd.shape.length !== s0.length || a.nd.shape.some((d, i) => d !== s0[i])) {
      throw new ShapeError('stack: all inputs need the same shape');
    }
  }
  const ax = normalizeAxis(axis, s0.length + 1);
  return concatenate(
    arrays.map((a) => expandDims(a, ax)),
    ax,
  );
}

/**
 * split(a, sections | indices, axis = 0), as NumPy's split: a number of sections must
 * divide the axis evenly; indices are slice boundaries (clamped like Python slices).
 * The parts are views.
 */
export function split(a: RefArray, indicesOrSections: number | readonly number[], axis = 0): RefArray[] {
  const n = ndim(a);
  const ax = normalizeAxis(axis, n);
  const len = a.nd.shape[ax];
  let bounds: number[];
  if (typeof indicesOrSections === 'number') {
    const k = indicesOrSections;
    if (!Number.isInteger(k) || k <= 0) throw new ShapeError(`split: bad number of sections ${k}`);
    if (len % k !== 0) throw new ShapeError(`split: axis of size ${len} does not divide into ${k} sections`);
    bounds = [...Array(k + 1).keys()].map((i) => (i * len) / k);
  } else bounds = [0, ...indicesOrSections, len];
  const parts: RefArray[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const specs: SliceSpec[] = [];
    for (let d = 0; d < n; d++) specs.push(d === ax ? [bounds[i], bounds[i + 1], 1] : [null, null, null]);
    parts.push(slice(a, ...specs));
  }
  return parts;
}

export type { Shape };
