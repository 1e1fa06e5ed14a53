/**
 * The selection, product, scan and sort methods of MetalArray (`a.matmul(b)`,
 * `a.take(i)`, `a.at(i).set(v)`, `a.cumsum()`, `a.sort()`, `a.split(n)`...), split out of
 * src/ops/methods.ts to keep files readable; methods.ts merges them into MetalArray's
 * type and installs them with the others. Each forwards to the op function of the same
 * name.
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount } from '../core/arguments.js';
import type { DType } from '../core/dtype.js';
import type { AccumulationOf, PromoteOf } from '../core/dtype-types.js';
import * as indexing from './indexing.js';
import { split } from './join.js';
import * as matmulOps from './matmul.js';
import type { SliceSpec } from './movement.js';
import type { ArrayLike } from './operand.js';
import type { AccumulateScanOptions, ScanOptions } from './scan.js';
import * as scanOps from './scan.js';
import * as sorting from './sort.js';

/** The methods, written as a class so each keeps its signature and TSDoc in one place. */
export class SelectionMethods<D extends DType = DType> {
  /**
   * Matrix product (NumPy's matmul / the @ operator).
   *
   * @example
   * ```ts
   * const a = ma.array([[1, 2], [3, 4]]);
   * console.log(a.matmul(ma.array([[1], [1]])).tolist()); // [ [ 3 ], [ 7 ] ]
   * ```
   */
  matmul<B extends DType>(this: MetalArray<D>, other: MetalArray<B>): MetalArray<PromoteOf<D, B>>;
  matmul(this: MetalArray<D>, other: ArrayLike): MetalArray;
  matmul(this: MetalArray<D>, other: ArrayLike): MetalArray {
    checkArgCount('matmul', arguments.length, 1, 'a.matmul(other)');
    return matmulOps.matmul(this, other);
  }
  /**
   * NumPy's dot.
   *
   * @example
   * ```ts
   * console.log(ma.array([1, 2, 3]).dot(ma.array([4, 5, 6])).item()); // 32
   * ```
   */
  dot<B extends DType>(this: MetalArray<D>, other: MetalArray<B>): MetalArray<PromoteOf<D, B>>;
  dot(this: MetalArray<D>, other: ArrayLike): MetalArray;
  dot(this: MetalArray<D>, other: ArrayLike): MetalArray {
    checkArgCount('dot', arguments.length, 1, 'a.dot(other)');
    return matmulOps.dot(this, other);
  }

  /**
   * Cumulative sum along an axis (flattened by default); narrow integers accumulate in int32 (see ma.cumsum).
   *
   * @example
   * ```ts
   * const a = ma.array([[1, 2], [3, 4]]);
   * console.log(a.cumsum().tolist()); // [ 1, 3, 6, 10 ]
   * console.log(a.cumsum(1).tolist()); // [ [ 1, 3 ], [ 3, 7 ] ]
   * console.log(a.cumsum({ axis: 0, reverse: true }).tolist()); // [ [ 4, 6 ], [ 3, 4 ] ]
   * ```
   */
  cumsum<T extends DType = AccumulationOf<D>>(this: MetalArray<D>, options?: AccumulateScanOptions<T>): MetalArray<T>;
  cumsum(this: MetalArray<D>, axis?: number | null, reverse?: boolean, inclusive?: boolean): MetalArray<AccumulationOf<D>>;
  cumsum(this: MetalArray<D>, axis?: number | null | AccumulateScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray {
    return scanOps.scanEntry('cumsum', arguments.length + 1, this, axis, reverse, inclusive);
  }
  /**
   * A functional update at an index: `a.at(0, ma.range(1, null)).set(5)` returns a new array; see ma.at.
   *
   * @example
   * ```ts
   * const a = ma.zeros([3], 'int32');
   * console.log(a.at(1).set(5).tolist()); // [ 0, 5, 0 ]
   * console.log(a.at(Int32Array.of(0, 0, 2)).add(1).tolist()); // [ 2, 0, 1 ]
   * ```
   */
  at(this: MetalArray<D>, ...specs: (SliceSpec | string)[]): indexing.AtIndex {
    return indexing.at(this, ...specs);
  }
  /**
   * Elements at `indices` along `axis` (flattened without one); see ma.take.
   *
   * @example
   * ```ts
   * const a = ma.array([[10, 20], [30, 40]]);
   * console.log(a.take(Int32Array.of(3, 0)).tolist()); // [ 40, 10 ]
   * console.log(a.take(Int32Array.of(1), 1).tolist()); // [ [ 20 ], [ 40 ] ]
   * ```
   */
  take(this: MetalArray<D>, indices: indexing.IndexLike, axis?: number | null, options?: indexing.GatherOptions): MetalArray<D> {
    checkArgCount('take', arguments.length, 3, 'a.take(indices, axis, { mode })');
    return indexing.take(this, indices, axis, options) as MetalArray<D>;
  }
  /**
   * Values picked along `axis` by an index array of the same rank; see ma.takeAlongAxis.
   *
   * @example
   * ```ts
   * const a = ma.array([[10, 30, 20], [60, 40, 50]]);
   * console.log(a.takeAlongAxis(a.argsort(1), 1).tolist()); // [ [ 10, 20, 30 ], [ 40, 50, 60 ] ]
   * ```
   */
  takeAlongAxis(this: MetalArray<D>, indices: indexing.IndexLike, axis: number | null = -1, options?: indexing.GatherOptions): MetalArray<D> {
    checkArgCount('takeAlongAxis', arguments.length, 3, 'a.takeAlongAxis(indices, axis, { mode })');
    return indexing.takeAlongAxis(this, indices, axis, options) as MetalArray<D>;
  }
  /**
   * Each element repeated along `axis` (flattened without one); see ma.repeat.
   *
   * @example
   * ```ts
   * console.log(ma.array([1, 2]).repeat(2).tolist()); // [ 1, 1, 2, 2 ]
   * console.log(ma.array([[1, 2]]).repeat(2, 0).tolist()); // [ [ 1, 2 ], [ 1, 2 ] ]
   * ```
   */
  repeat(this: MetalArray<D>, repeats: number, axis?: number | null): MetalArray<D> {
    checkArgCount('repeat', arguments.length, 2, 'a.repeat(repeats, axis)');
    return indexing.repeat(this, repeats, axis) as MetalArray<D>;
  }
  /**
   * Sorted along `axis` (last by default; null: flattened), ascending, NaN last; see ma.sort.
   *
   * @example
   * ```ts
   * console.log(ma.array([3, 1, 2]).sort().tolist()); // [ 1, 2, 3 ]
   * console.log(ma.array([[3, 1], [0, 2]]).sort(0).tolist()); // [ [ 0, 1 ], [ 3, 2 ] ]
   * ```
   */
  sort(this: MetalArray<D>, axis: number | null = -1): MetalArray<D> {
    checkArgCount('sort', arguments.length, 1, 'a.sort(axis)');
    return sorting.sort(this, axis) as MetalArray<D>;
  }
  /**
   * int32 indices that sort along `axis` (stable); see ma.argsort.
   *
   * @example
   * ```ts
   * console.log(ma.array([30, 10, 20]).argsort().tolist()); // [ 1, 2, 0 ]
   * ```
   */
  argsort(this: MetalArray<D>, axis: number | null = -1): MetalArray<'int32'> {
    checkArgCount('argsort', arguments.length, 1, 'a.argsort(axis)');
    return sorting.argsort(this, axis) as MetalArray<'int32'>;
  }
  /**
   * Indices of the non-zero elements, one int32 array per axis (evaluates now).
   *
   * @example
   * ```ts
   * const [rows, cols] = ma.array([[0, 1], [2, 0]]).nonzero();
   * console.log(rows.tolist(), cols.tolist()); // [ 0, 1 ] [ 1, 0 ]
   * ```
   */
  nonzero(this: MetalArray<D>): MetalArray<'int32'>[] {
    checkArgCount('nonzero', arguments.length, 0, 'a.nonzero()');
    return indexing.nonzero(this) as MetalArray<'int32'>[];
  }
  /**
   * Cumulative product along an axis (flattened by default); accumulates as cumsum.
   *
   * @example
   * ```ts
   * console.log(ma.array([1, 2, 3, 4]).cumprod().tolist()); // [ 1, 2, 6, 24 ]
   * ```
   */
  cumprod<T extends DType = AccumulationOf<D>>(this: MetalArray<D>, options?: AccumulateScanOptions<T>): MetalArray<T>;
  cumprod(this: MetalArray<D>, axis?: number | null, reverse?: boolean, inclusive?: boolean): MetalArray<AccumulationOf<D>>;
  cumprod(this: MetalArray<D>, axis?: number | null | AccumulateScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray {
    return scanOps.scanEntry('cumprod', arguments.length + 1, this, axis, reverse, inclusive);
  }
  /**
   * Running maximum along an axis (flattened by default).
   *
   * @example
   * ```ts
   * console.log(ma.array([1, 3, 2, 5]).cummax().tolist()); // [ 1, 3, 3, 5 ]
   * ```
   */
  cummax(this: MetalArray<D>, axis?: number | null | ScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray<D> {
    return scanOps.scanEntry('cummax', arguments.length + 1, this, axis, reverse, inclusive) as MetalArray<D>;
  }
  /**
   * Running minimum along an axis (flattened by default).
   *
   * @example
   * ```ts
   * console.log(ma.array([4, 2, 3, 1]).cummin().tolist()); // [ 4, 2, 2, 1 ]
   * ```
   */
  cummin(this: MetalArray<D>, axis?: number | null | ScanOptions, reverse?: boolean, inclusive?: boolean): MetalArray<D> {
    return scanOps.scanEntry('cummin', arguments.length + 1, this, axis, reverse, inclusive) as MetalArray<D>;
  }

  /**
   * Splits into views along an axis.
   *
   * @example
   * ```ts
   * const [a, b] = ma.arange(6).split(2);
   * console.log(a.tolist(), b.tolist()); // [ 0, 1, 2 ] [ 3, 4, 5 ]
   * console.log(ma.arange(6).split([1, 4]).map((p) => p.tolist())); // [ [ 0 ], [ 1, 2, 3 ], [ 4, 5 ] ]
   * ```
   */
  split(this: MetalArray<D>, indicesOrSections: number | readonly number[], axis = 0): MetalArray<D>[] {
    checkArgCount('split', arguments.length, 2, 'a.split(indicesOrSections, axis)');
    return split(this, indicesOrSections, axis) as MetalArray<D>[];
  }
}
