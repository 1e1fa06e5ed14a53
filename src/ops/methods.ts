/**
 * The op methods of MetalArray (`a.add(b)`, `a.sum()`, `a.reshape(...)`...), added to
 * the class here by module augmentation, so src/array/ (the handle) imports no op:
 * the array layer sits below the ops in the layering (docs/architecture.md). Each
 * method forwards to the op function of the same name; importing the package (src/index.ts)
 * installs them.
 */
import { MetalArray } from '../array/array.js';
import type { DType } from '../core/dtype.js';
import { BINARY_OPS, type BinaryOp, UNARY_OPS, type UnaryOp } from '../core/vocabulary.js';
import { checkArgCount } from '../core/arguments.js';
import { astype, binary, clip, unary } from './elementwise.js';
import { round } from './elementwise-ops.js';
import * as indexing from './indexing.js';
import { split } from './join.js';
import * as matmulOps from './matmul.js';
import { broadcastTo, expandDims, flatten, flip, moveaxis, reshape, type SliceSpec, squeeze, swapaxes, transpose } from './movement.js';
import type { ArrayLike } from './operand.js';
import type { Axes } from './reduce.js';
import * as reduce from './reduce.js';
import * as scanOps from './scan.js';
import * as sorting from './sort.js';

declare module '../array/array.js' {
  // The class and this interface merge: MetalArray gets every method of OpMethods.
  interface MetalArray extends OpMethods, ElementwiseMethods {
    /** The transpose (all axes reversed). */
    readonly T: MetalArray;
  }
}

/**
 * The elementwise methods, one per op of the vocabulary: `a.tanh()` is `ma.tanh(a)`,
 * `a.add(b)` is `ma.add(a, b)` (see each function's documentation).
 */
type ElementwiseMethods = { readonly [K in Exclude<UnaryOp, 'round'>]: () => MetalArray } & { readonly [K in BinaryOp]: (other: ArrayLike) => MetalArray };

/** The methods, written as a class so each keeps its signature and TSDoc in one place. */
class OpMethods {
  /**
   * Iterates over axis 0, as NumPy does: each item is the view `a.slice(i)` (rank one
   * lower, no copy). A 0-d array is not iterable (TypeError).
   *
   * @example
   * ```ts
   * const [k1, k2] = ma.random.split(ma.random.key(0)); // two keys of shape [2]
   * for (const row of ma.arange(6).reshape(2, 3)) console.log(row.tolist());
   * ```
   */
  *[Symbol.iterator](this: MetalArray): Generator<MetalArray, void, undefined> {
    const n = this.liveNode('iterate');
    if (n.shape.length === 0) throw new TypeError('iterate: a 0-d array (shape []) is not iterable; read it with item()');
    const rows = n.shape[0];
    for (let i = 0; i < rows; i++) yield indexing.slice(this, i);
  }

  /**
   * Rounds to `decimals` decimal places (default 0), half to even; see ma.round.
   *
   * @example
   * ```ts
   * console.log(ma.array([1.25, 2.5]).round(1).toString()); // array([1.2, 2.5])
   * ```
   */
  round(this: MetalArray, decimals = 0): MetalArray {
    checkArgCount('round', arguments.length, 1, 'a.round(decimals)');
    return round(this, decimals);
  }
  /** Converts to another dtype. */
  astype(this: MetalArray, dtype: DType): MetalArray {
    return astype(this, dtype);
  }
  /** Limits values to [lo, hi]; null leaves a side open. */
  clip(this: MetalArray, lo: ArrayLike | null, hi: ArrayLike | null): MetalArray {
    return clip(this, lo, hi);
  }
  /** Reshapes (accepts an array or dims as arguments; one may be -1). A view. */
  reshape(this: MetalArray, ...shape: (number | readonly number[])[]): MetalArray {
    const dims = shape.length === 1 && Array.isArray(shape[0]) ? (shape[0] as number[]) : (shape as number[]);
    return reshape(this, dims);
  }
  /** Permutes axes (reverses them when omitted). A view. */
  transpose(this: MetalArray, axes?: readonly number[]): MetalArray {
    return transpose(this, axes);
  }
  /** Swaps two axes. A view. */
  swapaxes(this: MetalArray, axis1: number, axis2: number): MetalArray {
    return swapaxes(this, axis1, axis2);
  }
  /** Moves an axis. A view. */
  moveaxis(this: MetalArray, source: number, destination: number): MetalArray {
    return moveaxis(this, source, destination);
  }
  /** Broadcasts to a shape. A view. */
  broadcastTo(this: MetalArray, shape: readonly number[]): MetalArray {
    return broadcastTo(this, shape);
  }
  /** Inserts 1-sized axes. A view. */
  expandDims(this: MetalArray, axis: number | readonly number[]): MetalArray {
    return expandDims(this, axis);
  }
  /** Removes 1-sized axes. A view. */
  squeeze(this: MetalArray, axis?: number | readonly number[]): MetalArray {
    return squeeze(this, axis);
  }
  /** One-dimensional view. */
  flatten(this: MetalArray): MetalArray {
    return flatten(this);
  }
  /** Reverses along axes. A view. */
  flip(this: MetalArray, axis?: number | readonly number[]): MetalArray {
    return flip(this, axis);
  }
  /** NumPy basic indexing (see `ma.slice`). A view. */
  slice(this: MetalArray, ...specs: (SliceSpec | string)[]): MetalArray {
    return indexing.slice(this, ...specs);
  }
  /** Sum over axes (all by default). */
  sum(this: MetalArray, axis?: Axes, keepdims = false): MetalArray {
    return reduce.sum(this, axis, keepdims);
  }
  /** Product over axes. */
  prod(this: MetalArray, axis?: Axes, keepdims = false): MetalArray {
    return reduce.prod(this, axis, keepdims);
  }
  /** Maximum over axes (NaN propagates). */
  max(this: MetalArray, axis?: Axes, keepdims = false): MetalArray {
    return reduce.max(this, axis, keepdims);
  }
  /** Minimum over axes (NaN propagates). */
  min(this: MetalArray, axis?: Axes, keepdims = false): MetalArray {
    return reduce.min(this, axis, keepdims);
  }
  /** Index of the first maximum (int32). */
  argmax(this: MetalArray, axis?: number, keepdims = false): MetalArray {
    return reduce.argmax(this, axis, keepdims);
  }
  /** Index of the first minimum (int32). */
  argmin(this: MetalArray, axis?: number, keepdims = false): MetalArray {
    return reduce.argmin(this, axis, keepdims);
  }
  /** True where any element along the axes is non-zero. */
  any(this: MetalArray, axis?: Axes, keepdims = false): MetalArray {
    return reduce.any(this, axis, keepdims);
  }
  /** True where every element along the axes is non-zero. */
  all(this: MetalArray, axis?: Axes, keepdims = false): MetalArray {
    return reduce.all(this, axis, keepdims);
  }
  /** Mean over axes. */
  mean(this: MetalArray, axis?: Axes, keepdims = false): MetalArray {
    return reduce.mean(this, axis, keepdims);
  }
  /** Variance over axes (two-pass). */
  var(this: MetalArray, axis?: Axes, keepdims = false, ddof = 0): MetalArray {
    return reduce.variance(this, axis, keepdims, ddof);
  }
  /** Standard deviation over axes. */
  std(this: MetalArray, axis?: Axes, keepdims = false, ddof = 0): MetalArray {
    return reduce.std(this, axis, keepdims, ddof);
  }
  /** log(sum(exp(x))) over axes, without overflow. */
  logsumexp(this: MetalArray, axis?: Axes, keepdims = false): MetalArray {
    return reduce.logsumexp(this, axis, keepdims);
  }
  /** Softmax along an axis (last by default). */
  softmax(this: MetalArray, axis: Axes = -1): MetalArray {
    return reduce.softmax(this, axis);
  }
  /** Log-softmax along an axis (last by default). */
  logSoftmax(this: MetalArray, axis: Axes = -1): MetalArray {
    return reduce.logSoftmax(this, axis);
  }

  /** Matrix product (NumPy's matmul / the @ operator). */
  matmul(this: MetalArray, other: ArrayLike): MetalArray {
    return matmulOps.matmul(this, other);
  }
  /** NumPy's dot. */
  dot(this: MetalArray, other: ArrayLike): MetalArray {
    return matmulOps.dot(this, other);
  }

  /** Cumulative sum along an axis (flattened by default). */
  cumsum(this: MetalArray, axis?: number | null, reverse = false, inclusive = true): MetalArray {
    return scanOps.cumsum(this, axis, reverse, inclusive);
  }
  /** A functional update at an index: `a.at(0, ma.range(1, null)).set(5)` returns a new array; see ma.at. */
  at(this: MetalArray, ...specs: (SliceSpec | string)[]): indexing.AtIndex {
    return indexing.at(this, ...specs);
  }
  /** Elements at `indices` along `axis` (flattened without one); see ma.take. */
  take(this: MetalArray, indices: indexing.IndexLike, axis?: number | null, options?: indexing.GatherOptions): MetalArray {
    return indexing.take(this, indices, axis, options);
  }
  /** Values picked along `axis` by an index array of the same rank; see ma.takeAlongAxis. */
  takeAlongAxis(this: MetalArray, indices: indexing.IndexLike, axis: number | null = -1, options?: indexing.GatherOptions): MetalArray {
    return indexing.takeAlongAxis(this, indices, axis, options);
  }
  /** Each element repeated along `axis` (flattened without one); see ma.repeat. */
  repeat(this: MetalArray, repeats: number, axis?: number | null): MetalArray {
    return indexing.repeat(this, repeats, axis);
  }
  /** Sorted along `axis` (last by default; null: flattened), ascending, NaN last; see ma.sort. */
  sort(this: MetalArray, axis: number | null = -1): MetalArray {
    return sorting.sort(this, axis);
  }
  /** int32 indices that sort along `axis` (stable); see ma.argsort. */
  argsort(this: MetalArray, axis: number | null = -1): MetalArray {
    return sorting.argsort(this, axis);
  }
  /** Indices of the non-zero elements, one int32 array per axis (evaluates now). */
  nonzero(this: MetalArray): MetalArray[] {
    return indexing.nonzero(this);
  }
  /** Cumulative product along an axis (flattened by default). */
  cumprod(this: MetalArray, axis?: number | null, reverse = false, inclusive = true): MetalArray {
    return scanOps.cumprod(this, axis, reverse, inclusive);
  }
  /** Running maximum along an axis (flattened by default). */
  cummax(this: MetalArray, axis?: number | null, reverse = false, inclusive = true): MetalArray {
    return scanOps.cummax(this, axis, reverse, inclusive);
  }
  /** Running minimum along an axis (flattened by default). */
  cummin(this: MetalArray, axis?: number | null, reverse = false, inclusive = true): MetalArray {
    return scanOps.cummin(this, axis, reverse, inclusive);
  }

  /** Splits into views along an axis. */
  split(this: MetalArray, indicesOrSections: number | readonly number[], axis = 0): MetalArray[] {
    return split(this, indicesOrSections, axis);
  }
}

function installOpMethods(): void {
  const target = MetalArray.prototype as unknown as Record<PropertyKey, unknown>;
  const source = OpMethods.prototype as unknown as Record<PropertyKey, unknown>;
  for (const key of [...Object.getOwnPropertyNames(source), ...Object.getOwnPropertySymbols(source)]) {
    if (key === 'constructor') continue;
    Object.defineProperty(target, key, Object.getOwnPropertyDescriptor(source, key) as PropertyDescriptor);
  }
  // The elementwise ops, from the vocabulary: adding an op adds its method.
  // (`arguments.length` checks that no argument is dropped, without allocating.)
  for (const name of UNARY_OPS) {
    if (name === 'round') continue; // a method of its own: it takes decimals
    Object.defineProperty(target, name, {
      configurable: true,
      writable: true,
      value(this: MetalArray): MetalArray {
        if (arguments.length > 0) checkArgCount(name, arguments.length, 0, `a.${name}()`);
        return unary(name, this);
      },
    });
  }
  for (const name of BINARY_OPS) {
    Object.defineProperty(target, name, {
      configurable: true,
      writable: true,
      value(this: MetalArray, other: ArrayLike): MetalArray {
        if (arguments.length > 1) checkArgCount(name, arguments.length, 1, `a.${name}(other)`);
        return binary(name, this, other);
      },
    });
  }
  Object.defineProperty(target, 'T', {
    configurable: true,
    get(this: MetalArray): MetalArray {
      return transpose(this);
    },
  });
}

installOpMethods();
