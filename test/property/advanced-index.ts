/**
 * Random NumPy indices for `slice` and `at`: any mix of integers, ranges, newaxis, one
 * ellipsis, integer index arrays (MetalArrays of every integer dtype, typed arrays) and
 * boolean masks, adjacent and apart, with index shapes that broadcast (and now and then
 * ones that do not), negative, out-of-range and empty index arrays. Each draw gives the
 * library's specs, the oracle's, and the index written as Python for failure messages.
 */
import * as R from '../reference/index.js';
import type { DType } from '../reference/index.js';
import { chance, type Draw, drawBroadcastable, drawShape, pick } from './graphs.js';
import { type MA, ma } from './lib-eval.js';

export interface DrawnIndex {
  lib: (ma.SliceSpec | string)[];
  ref: R.indexing.IndexSpec[];
  /** The index as NumPy would be written, e.g. `[1:3, idx int16 [2, 1], None]`. */
  text: string;
  /** Arrays the draw created (to dispose). */
  created: MA[];
}

const INT_DTYPES = ['int32', 'int64', 'int8', 'int16', 'uint8', 'uint16', 'uint32', 'uint64'] as const;
type IntDType = (typeof INT_DTYPES)[number];

/** The typed array of an integer dtype, for index arrays passed as plain JS typed arrays. */
const TYPED: Record<IntDType, (v: number[]) => ma.IndexTypedArray> = {
  int8: (v) => Int8Array.from(v),
  int16: (v) => Int16Array.from(v),
  int32: (v) => Int32Array.from(v),
  int64: (v) => BigInt64Array.from(v, BigInt),
  uint8: (v) => Uint8Array.from(v),
  uint16: (v) => Uint16Array.from(v),
  uint32: (v) => Uint32Array.from(v),
  uint64: (v) => BigUint64Array.from(v, BigInt),
};

type Piece =
  | { k: 'int' | 'range' | 'array' | 'new' | 'ellipsis' }
  /** A mask over `width` axes (0: a 0-d mask, which reads no axis). */
  | { k: 'mask'; width: number };

const widthOf = (p: Piece): number => (p.k === 'mask' ? p.width : p.k === 'new' || p.k === 'ellipsis' ? 0 : 1);

/** Draws an index for an array of `shape`, with at least one index array or mask in it. */
export function drawAdvancedIndex(d: Draw, shape: readonly number[]): DrawnIndex {
  const rank = shape.length;
  const pieces: Piece[] = [];
  // mostly every axis or all but one indexed, so several index arrays meet
  const consumed = chance(d, 70) ? d.int(Math.max(0, rank - 1), rank) : d.int(0, rank);
  let w = 0;
  while (w < consumed) {
    const k = pick(d, ['array', 'int', 'range', 'array', 'mask', 'array'] as const);
    const p: Piece = k === 'mask' ? { k, width: d.int(1, Math.min(2, consumed - w)) } : { k };
    pieces.push(p);
    w += widthOf(p);
  }
  // at least one index array, and mostly two or more where there are axes for them
  const others = () => pieces.flatMap((p, i) => (p.k === 'int' || p.k === 'range' ? [i] : []));
  if (!pieces.some((p) => p.k === 'array' || p.k === 'mask')) {
    if (pieces.length > 0) pieces[d.int(0, pieces.length - 1)] = { k: 'array' };
    else pieces.push({ k: 'mask', width: 0 });
  }
  if (pieces.filter((p) => p.k === 'array').length < 2 && others().length > 0 && chance(d, 70)) pieces[pick(d, others())] = { k: 'array' };
  const insert = (p: Piece) => pieces.splice(d.int(0, pieces.length), 0, p);
  if (chance(d, 40)) insert({ k: 'ellipsis' });
  for (let n = d.int(0, 2); n > 0; n--) if (chance(d, 40)) insert({ k: 'new' });
  if (chance(d, 5)) insert({ k: 'mask', width: 0 });

  // The axis of `shape` each piece reads: from the front, and from the back after '...'.
  const e = pieces.findIndex((p) => p.k === 'ellipsis');
  const after = e < 0 ? 0 : pieces.slice(e + 1).reduce((s, p) => s + widthOf(p), 0);
  const axes: number[] = [];
  let axis = 0;
  pieces.forEach((p, i) => {
    if (i === e) axis = rank - after;
    axes.push(axis);
    axis += widthOf(p);
  });

  // Masks first: the first one's count of true is the broadcast shape's length.
  const masks = new Map<number, { values: number[]; shape: number[] }>();
  pieces.forEach((p, i) => {
    if (p.k !== 'mask') return;
    const ms = shape.slice(axes[i], axes[i] + p.width);
    const n = ms.reduce((x, y) => x * y, 1);
    const dense = chance(d, 80);
    masks.set(i, { values: Array.from({ length: n }, () => (chance(d, dense ? 75 : 25) ? 1 : 0)), shape: ms });
  });
  const first = [...masks.values()].find((m) => m.shape.length > 0);
  const common = first ? [first.values.reduce((x, y) => x + y, 0)] : drawShape(d, 0, 2, 6);

  const lib: (ma.SliceSpec | string)[] = [];
  const ref: R.indexing.IndexSpec[] = [];
  const text: string[] = [];
  const created: MA[] = [];
  const basic = (spec: number | null | '...' | readonly [number | null, number | null, number | null], py: string) => {
    // now and then in the string form, which both sides parse
    if (chance(d, 20)) {
      lib.push(py);
      ref.push(py);
    } else {
      lib.push(Array.isArray(spec) ? ma.range(...(spec as readonly (number | null)[])) : (spec as ma.SliceSpec));
      ref.push(spec as R.SliceSpec);
    }
    text.push(py);
  };
  pieces.forEach((p, i) => {
    const n = shape[axes[i]];
    // an empty axis has no integer index: a range there instead
    switch (p.k === 'int' && n === 0 ? 'range' : p.k) {
      case 'new':
        basic(null, 'None');
        return;
      case 'ellipsis':
        basic('...', '...');
        return;
      case 'int': {
        const v = d.int(-n, n - 1);
        basic(v, String(v));
        return;
      }
      case 'range': {
        // half the time the whole axis (empty results come from enough other places)
        const bound = () => (chance(d, 30) ? null : d.int(-n - 2, n + 2));
        const r = chance(d, 50) ? ([null, null, pick(d, [null, 1, -1, 2])] as const) : ([bound(), bound(), pick(d, [null, 1, 2, -1, -2, 3])] as const);
        basic(r, r.map((x) => (x === null ? '' : String(x))).join(':'));
        return;
      }
      case 'mask': {
        const m = masks.get(i) as { values: number[]; shape: number[] };
        const lm = ma.array(Uint8Array.from(m.values), 'bool').reshape(m.shape);
        created.push(lm);
        lib.push(lm);
        ref.push({ array: R.fromFlat('bool', m.shape, m.values) });
        text.push(`mask [${m.values}] shape [${m.shape}]`);
        return;
      }
      case 'array': {
        // mostly broadcastable to the common shape; 5% a shape of its own (likely an error)
        const ishape = chance(d, 5) ? drawShape(d, 1, 2, 0) : drawBroadcastable(d, common);
        const size = ishape.reduce((x, y) => x * y, 1);
        const dtype = pick(d, INT_DTYPES);
        const unsigned = dtype.startsWith('uint');
        const values = Array.from({ length: size }, () => {
          // mostly in range, some negative, now and then out of range (clamped)
          if (chance(d, 10) || n === 0) return d.int(unsigned ? 0 : -2 * n - 3, 2 * n + 3);
          return d.int(unsigned ? 0 : -n, Math.max(0, n - 1));
        });
        const typed = TYPED[dtype](values);
        const big = R.DTYPES[dtype as DType].big;
        ref.push({ array: R.fromFlat(dtype, ishape, big ? values.map(BigInt) : values) });
        if (ishape.length === 1 && chance(d, 30)) {
          lib.push(typed);
          text.push(`np.array([${values}], ${dtype})`);
        } else {
          const la = ma.array(typed, dtype).reshape(ishape);
          created.push(la);
          lib.push(la);
          text.push(`np.array([${values}], ${dtype}).reshape(${ishape})`);
        }
        return;
      }
    }
  });
  return { lib, ref, text: `[${text.join(', ')}]`, created };
}
