/**
 * concatenate, stack, split. A concatenation is a select inside the consumer's kernel
 * (each input read where its range holds), not a copy per input.
 */
import { checkArgCount } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import type { DType } from '../core/dtype.js';
import type { SameDTypeOf } from '../core/dtype-types.js';
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { castNode, concatNode } from '../core/build.js';
import { promoteTypes } from '../core/promotion.js';
import { basicSlice, expandDims } from './movement.js';
import { nodeOf, normalizeAxis, operandNodes } from './operand.js';
import { type NodeRule, denseTangents } from '../transforms/rules.js';
import { type BatchingTable, batchedInputs } from '../transforms/batching.js';

/**
 * Joins arrays along an existing axis (default 0).
 *
 * @example
 * ```ts
 * const a = ma.array([[1, 2]]);
 * const b = ma.array([[3, 4]]);
 * console.log(ma.concatenate([a, b]).tolist()); // [ [ 1, 2 ], [ 3, 4 ] ]
 * console.log(ma.concatenate([a, b], 1).tolist()); // [ [ 1, 2, 3, 4 ] ]
 * ```
 */
export function concatenate<D extends DType>(arrays: readonly MetalArray<D>[], axis?: number): MetalArray<SameDTypeOf<D>>;
export function concatenate(arrays: readonly MetalArray[], axis = 0): MetalArray {
  checkArgCount('concatenate', arguments.length, 2, 'concatenate(arrays, axis)');
  if (!Array.isArray(arrays) || arrays.length === 0) throw new ArgumentError('concatenate: needs a non-empty array of arrays');
  const nodes = operandNodes('concatenate', arrays);
  const r = nodes[0].shape.length;
  if (r === 0) throw new ShapeError('concatenate: zero-dimensional arrays cannot be concatenated');
  const ax = normalizeAxis('concatenate', axis, r);
  for (const n of nodes) {
    if (n.shape.length !== r || n.shape.some((d, i) => i !== ax && d !== nodes[0].shape[i])) {
      throw new ShapeError(`concatenate: shapes ${nodes.map((x) => `[${x.shape.join(', ')}]`).join(', ')} differ outside axis ${ax}`);
    }
  }
  const dtype = nodes.map((n) => n.dtype).reduce(promoteTypes);
  const parts = nodes.filter((n) => n.shape[ax] > 0).map((n) => castNode(n, dtype));
  if (parts.length === 0) return MetalArray.fromNode(castNode(nodes[0], dtype));
  if (parts.length === 1) return MetalArray.fromNode(parts[0]);
  const shape = nodes[0].shape.slice();
  shape[ax] = parts.reduce((s, n) => s + n.shape[ax], 0);
  return MetalArray.fromNode(concatNode(parts, ax, shape));
}

/**
 * Joins arrays of one shape along a new axis.
 *
 * @example
 * ```ts
 * const a = ma.array([1, 2]);
 * const b = ma.array([3, 4]);
 * console.log(ma.stack([a, b]).tolist()); // [ [ 1, 2 ], [ 3, 4 ] ]
 * console.log(ma.stack([a, b], 1).tolist()); // [ [ 1, 3 ], [ 2, 4 ] ]
 * ```
 */
export function stack<D extends DType>(arrays: readonly MetalArray<D>[], axis?: number): MetalArray<SameDTypeOf<D>>;
export function stack(arrays: readonly MetalArray[], axis = 0): MetalArray {
  checkArgCount('stack', arguments.length, 2, 'stack(arrays, axis)');
  if (!Array.isArray(arrays) || arrays.length === 0) throw new ArgumentError('stack: needs a non-empty array of arrays');
  const first = nodeOf(arrays[0], 'stack');
  for (const a of arrays) {
    const n = nodeOf(a, 'stack');
    if (n.shape.length !== first.shape.length || n.shape.some((d, i) => d !== first.shape[i])) {
      throw new ShapeError(`stack: all arrays need the same shape, got ${arrays.map((x) => `[${x.shape.join(', ')}]`).join(', ')}`);
    }
  }
  const ax = normalizeAxis('stack', axis, first.shape.length + 1);
  return concatenate(
    arrays.map((a) => expandDims(a, ax)),
    ax,
  );
}

/**
 * Splits into views along `axis`: `sections` equal parts (a number that divides the
 * axis) or at the given indices.
 *
 * @example
 * ```ts
 * console.log(ma.split(ma.arange(6), 3).map((p) => p.tolist())); // [ [ 0, 1 ], [ 2, 3 ], [ 4, 5 ] ]
 * console.log(ma.split(ma.arange(5), [2]).map((p) => p.tolist())); // [ [ 0, 1 ], [ 2, 3, 4 ] ]
 * ```
 */
export function split<D extends DType>(a: MetalArray<D>, indicesOrSections: number | readonly number[], axis?: number): MetalArray<D>[];
export function split(a: MetalArray, indicesOrSections: number | readonly number[], axis = 0): MetalArray[] {
  checkArgCount('split', arguments.length, 3, 'split(a, indicesOrSections, axis)');
  const n = nodeOf(a, 'split');
  const ax = normalizeAxis('split', axis, n.shape.length);
  const len = n.shape[ax];
  let cuts: number[];
  if (typeof indicesOrSections === 'number') {
    const k = indicesOrSections;
    if (!Number.isInteger(k) || k <= 0) throw new ArgumentError(`split: number of sections must be a positive integer, got ${k}`);
    if (len % k !== 0) throw new ShapeError(`split: array of size ${len} along axis ${ax} does not divide into ${k} equal sections`);
    cuts = [...Array(k - 1).keys()].map((i) => ((i + 1) * len) / k);
  } else if (Array.isArray(indicesOrSections)) {
    cuts = [...indicesOrSections];
  } else {
    throw new ArgumentError(`split: expected a number of sections or an array of indices, got ${formatValue(indicesOrSections)}`);
  }
  // NumPy: the parts are a[start:stop] for start in [0, ...cuts], stop in [...cuts, None],
  // with Python's slice rules (negative cuts count from the end, out-of-range clamps).
  const starts: (number | null)[] = [0, ...cuts];
  const stops: (number | null)[] = [...cuts, null];
  for (const c of cuts) if (typeof c !== 'number' || !Number.isInteger(c)) throw new ArgumentError(`split: indices must be integers, got ${formatValue(c)}`);
  const out: MetalArray[] = [];
  for (let i = 0; i < starts.length; i++) {
    const spec: [number | null, number | null, number | null][] = n.shape.map(() => [null, null, null]);
    spec[ax] = [starts[i], stops[i], 1];
    out.push(basicSlice(a, spec));
  }
  return out;
}

// Differentiation rules

/** Concatenation: the cotangent split at the inputs' bounds; forward mode concatenates the tangents. */
export const concatRule: NodeRule = {
  vjp({ node, inputs }, g, wanted) {
    const bounds = node.bounds as readonly number[];
    return inputs.map((_, i) =>
      wanted[i]
        ? basicSlice(
            g,
            g.shape.map((_, d) => (d === node.axis ? [bounds[i], bounds[i + 1]] : [null, null]) as [number | null, number | null]),
          )
        : null,
    );
  },
  jvp({ node, inputs }, tangents) {
    return MetalArray.fromNode(
      concatNode(
        denseTangents(tangents, inputs).map((t) => t.liveNode('jvp')),
        node.axis,
        node.shape,
      ),
    );
  },
};

// Batching rules

/** vmap: concatenation along the same axis, one further right; unbatched inputs are broadcast. */
export const joinBatching: Pick<BatchingTable, 'concat'> = {
  concat: (node, inputs, batched, size) => concatNode(batchedInputs(inputs, batched, size), node.axis + 1, [size, ...node.shape]),
};
