/**
 * The op methods of MetalArray (`a.add(b)`, `a.sum()`, `a.reshape(...)`...), added to
 * the class here by module augmentation, so src/array/ (the handle) imports no op:
 * the array layer sits below the ops in the layering (docs/architecture.md). Each
 * method forwards to the op function of the same name; importing the package (src/index.ts)
 * installs them.
 */
import { MetalArray } from '../array/array.js';
import type { DType } from '../core/dtype.js';
import type { AccumulationOf, ClipOf, FloatOf, PromoteOf, RuleResultOf, WeakPromoteOf, WeakScalar } from '../core/dtype-types.js';
import type { DTypeRule } from '../core/op-table.js';
import { BINARY_OPS, type BinaryOp, UNARY_OPS, type UnaryOp } from '../core/vocabulary.js';
import { checkArgCount } from '../core/arguments.js';
import { astype, binary, clip, unary } from './elementwise.js';
import { round } from './elementwise-ops.js';
import * as indexing from './indexing.js';
import { broadcastTo, expandDims, flatten, flip, moveaxis, reshape, type SliceSpec, squeeze, swapaxes, transpose } from './movement.js';
import type { ArrayLike } from './operand.js';
import type { BinaryFunction, UnaryFunction } from './define-op.js';
import { SelectionMethods } from './methods-selection.js';
import type * as elementwiseOps from './elementwise-ops.js';
import type { AccumulateOptions, ArgReduceOptions, Axes, MeanOptions, ReduceOptions, SoftmaxOptions, VarianceOptions } from './reduce.js';
import * as reduce from './reduce.js';

declare module '../array/array.js' {
  // The class and this interface merge: MetalArray gets every method of OpMethods.
  interface MetalArray<D extends DType = DType> extends OpMethods<D>, SelectionMethods<D>, ElementwiseMethods<D> {
    /** The transpose (all axes reversed). */
    readonly T: MetalArray<D>;
  }
}

/**
 * The elementwise methods, one per op of the vocabulary: `a.tanh()` is `ma.tanh(a)`,
 * `a.add(b)` is `ma.add(a, b)` (see each function's documentation).
 */
type ElementwiseMethods<D extends DType> = { readonly [K in Exclude<UnaryOp, 'round'>]: UnaryMethod<RuleOf<(typeof elementwiseOps)[K]>, D> } & {
  readonly [K in BinaryOp]: BinaryMethod<RuleOf<(typeof elementwiseOps)[K]>, D>;
};

/** The dtype rule an op's function was registered with (its type carries it). */
type RuleOf<F> = F extends UnaryFunction<infer R> ? R : F extends BinaryFunction<infer R> ? R : DTypeRule;

/** `a.op()`: the result dtype by the op's rule. */
export type UnaryMethod<R extends DTypeRule, D extends DType> = () => MetalArray<RuleResultOf<R, D>>;

/** `a.op(b)`: the result dtype by the op's rule, from D and the other operand's dtype. */
export interface BinaryMethod<R extends DTypeRule, D extends DType> {
  <B extends DType>(other: MetalArray<B>): MetalArray<RuleResultOf<R, PromoteOf<D, B>>>;
  <S extends WeakScalar>(other: S): MetalArray<RuleResultOf<R, WeakPromoteOf<D, S>>>;
  (other: ArrayLike): MetalArray;
}

/** The methods, written as a class so each keeps its signature and TSDoc in one place. */
class OpMethods<D extends DType = DType> {
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
  *[Symbol.iterator](this: MetalArray<D>): Generator<MetalArray<D>, void, undefined> {
    const n = this.liveNode('iterate');
    if (n.shape.length === 0) throw new TypeError('iterate: a 0-d array (shape []) is not iterable; read it with item()');
    const rows = n.shape[0];
    for (let i = 0; i < rows; i++) yield indexing.slice(this, i) as MetalArray<D>;
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
  /**
   * Converts to another dtype.
   *
   * @example
   * ```ts
   * console.log(ma.array([1.9, -1.9]).astype('int32').tolist()); // [ 1, -1 ]
   * ```
   */
  astype<T extends DType>(this: MetalArray<D>, dtype: T): MetalArray<T> {
    checkArgCount('astype', arguments.length, 1, 'a.astype(dtype)');
    return astype(this, dtype);
  }
  /**
   * Limits values to [lo, hi]; null leaves a side open.
   *
   * @example
   * ```ts
   * console.log(ma.array([-5, 0, 5]).clip(-1, 1).tolist()); // [ -1, 0, 1 ]
   * console.log(ma.array([-5, 0, 5]).clip(null, 1).tolist()); // [ -5, 0, 1 ]
   * ```
   */
  clip<L extends WeakScalar | null, H extends WeakScalar | null>(this: MetalArray<D>, lo: L, hi: H): MetalArray<ClipOf<D, L, H>>;
  clip(this: MetalArray<D>, lo: ArrayLike | null, hi: ArrayLike | null): MetalArray;
  clip(this: MetalArray<D>, lo: ArrayLike | null, hi: ArrayLike | null): MetalArray {
    checkArgCount('clip', arguments.length, 2, 'a.clip(lo, hi)');
    return clip(this, lo, hi);
  }
  /**
   * Reshapes (accepts an array or dims as arguments; one may be -1). A view.
   *
   * @example
   * ```ts
   * console.log(ma.arange(6).reshape(2, 3).tolist()); // [ [ 0, 1, 2 ], [ 3, 4, 5 ] ]
   * console.log(ma.arange(6).reshape([3, -1]).shape); // [ 3, 2 ]
   * ```
   */
  reshape(this: MetalArray<D>, ...shape: (number | readonly number[])[]): MetalArray<D> {
    const dims = shape.length === 1 && Array.isArray(shape[0]) ? (shape[0] as number[]) : (shape as number[]);
    return reshape(this, dims) as MetalArray<D>;
  }
  /**
   * Permutes axes (reverses them when omitted). A view.
   *
   * @example
   * ```ts
   * console.log(ma.arange(6).reshape(2, 3).transpose().tolist()); // [ [ 0, 3 ], [ 1, 4 ], [ 2, 5 ] ]
   * console.log(ma.zeros([2, 3, 4]).transpose([1, 0, 2]).shape); // [ 3, 2, 4 ]
   * ```
   */
  transpose(this: MetalArray<D>, axes?: readonly number[]): MetalArray<D> {
    return transpose(this, axes) as MetalArray<D>;
  }
  /**
   * Swaps two axes. A view.
   *
   * @example
   * ```ts
   * console.log(ma.zeros([2, 3, 4]).swapaxes(0, 2).shape); // [ 4, 3, 2 ]
   * ```
   */
  swapaxes(this: MetalArray<D>, axis1: number, axis2: number): MetalArray<D> {
    checkArgCount('swapaxes', arguments.length, 2, 'a.swapaxes(axis1, axis2)');
    return swapaxes(this, axis1, axis2) as MetalArray<D>;
  }
  /**
   * Moves an axis. A view.
   *
   * @example
   * ```ts
   * console.log(ma.zeros([2, 3, 4]).moveaxis(0, -1).shape); // [ 3, 4, 2 ]
   * ```
   */
  moveaxis(this: MetalArray<D>, source: number, destination: number): MetalArray<D> {
    checkArgCount('moveaxis', arguments.length, 2, 'a.moveaxis(source, destination)');
    return moveaxis(this, source, destination) as MetalArray<D>;
  }
  /**
   * Broadcasts to a shape. A view.
   *
   * @example
   * ```ts
   * console.log(ma.array([1, 2]).broadcastTo([2, 2]).tolist()); // [ [ 1, 2 ], [ 1, 2 ] ]
   * ```
   */
  broadcastTo(this: MetalArray<D>, shape: readonly number[]): MetalArray<D> {
    checkArgCount('broadcastTo', arguments.length, 1, 'a.broadcastTo(shape)');
    return broadcastTo(this, shape) as MetalArray<D>;
  }
  /**
   * Inserts 1-sized axes. A view.
   *
   * @example
   * ```ts
   * console.log(ma.array([1, 2]).expandDims(0).shape); // [ 1, 2 ]
   * console.log(ma.array([1, 2]).expandDims([1, 2]).shape); // [ 2, 1, 1 ]
   * ```
   */
  expandDims(this: MetalArray<D>, axis: number | readonly number[]): MetalArray<D> {
    checkArgCount('expandDims', arguments.length, 1, 'a.expandDims(axis)');
    return expandDims(this, axis) as MetalArray<D>;
  }
  /**
   * Removes 1-sized axes. A view.
   *
   * @example
   * ```ts
   * console.log(ma.zeros([1, 3, 1]).squeeze().shape); // [ 3 ]
   * console.log(ma.zeros([1, 3, 1]).squeeze(0).shape); // [ 3, 1 ]
   * ```
   */
  squeeze(this: MetalArray<D>, axis?: number | readonly number[]): MetalArray<D> {
    checkArgCount('squeeze', arguments.length, 1, 'a.squeeze(axis)');
    return squeeze(this, axis) as MetalArray<D>;
  }
  /**
   * One-dimensional view.
   *
   * @example
   * ```ts
   * console.log(ma.arange(4).reshape(2, 2).flatten().tolist()); // [ 0, 1, 2, 3 ]
   * ```
   */
  flatten(this: MetalArray<D>): MetalArray<D> {
    checkArgCount('flatten', arguments.length, 0, 'a.flatten()');
    return flatten(this) as MetalArray<D>;
  }
  /**
   * Reverses along axes. A view.
   *
   * @example
   * ```ts
   * console.log(ma.arange(4).reshape(2, 2).flip().tolist()); // [ [ 3, 2 ], [ 1, 0 ] ]
   * console.log(ma.arange(4).reshape(2, 2).flip(1).tolist()); // [ [ 1, 0 ], [ 3, 2 ] ]
   * ```
   */
  flip(this: MetalArray<D>, axis?: number | readonly number[]): MetalArray<D> {
    checkArgCount('flip', arguments.length, 1, 'a.flip(axis)');
    return flip(this, axis) as MetalArray<D>;
  }
  /**
   * NumPy basic indexing (see `ma.slice`). A view.
   *
   * @example
   * ```ts
   * const a = ma.arange(12).reshape(3, 4);
   * console.log(a.slice(1).tolist()); // [ 4, 5, 6, 7 ]
   * console.log(a.slice(':', '1:3').tolist()); // [ [ 1, 2 ], [ 5, 6 ], [ 9, 10 ] ]
   * console.log(a.slice('::2', -1).tolist()); // [ 3, 11 ]
   * ```
   */
  slice(this: MetalArray<D>, ...specs: (SliceSpec | string)[]): MetalArray<D> {
    return indexing.slice(this, ...specs) as MetalArray<D>;
  }
  /**
   * Sum over axes (all by default); narrow integers accumulate in int32 (see ma.sum).
   *
   * @example
   * ```ts
   * const a = ma.array([[1, 2], [3, 4]]);
   * console.log(a.sum().item()); // 10
   * console.log(a.sum(0).tolist()); // [ 4, 6 ]
   * console.log(a.sum({ axis: 1, keepdims: true }).tolist()); // [ [ 3 ], [ 7 ] ]
   * ```
   */
  sum<T extends DType = AccumulationOf<D>>(this: MetalArray<D>, options?: AccumulateOptions<T>): MetalArray<T>;
  sum(this: MetalArray<D>, axis?: Axes, keepdims?: boolean): MetalArray<AccumulationOf<D>>;
  sum(this: MetalArray<D>, axis?: Axes | AccumulateOptions, keepdims?: boolean): MetalArray {
    return reduce.reduceEntry('sum', arguments.length + 1, this, axis, keepdims);
  }
  /**
   * Product over axes; narrow integers accumulate in int32 (see ma.prod).
   *
   * @example
   * ```ts
   * const a = ma.array([[1, 2], [3, 4]]);
   * console.log(a.prod().item()); // 24
   * console.log(a.prod(1).tolist()); // [ 2, 12 ]
   * ```
   */
  prod<T extends DType = AccumulationOf<D>>(this: MetalArray<D>, options?: AccumulateOptions<T>): MetalArray<T>;
  prod(this: MetalArray<D>, axis?: Axes, keepdims?: boolean): MetalArray<AccumulationOf<D>>;
  prod(this: MetalArray<D>, axis?: Axes | AccumulateOptions, keepdims?: boolean): MetalArray {
    return reduce.reduceEntry('prod', arguments.length + 1, this, axis, keepdims);
  }
  /**
   * Maximum over axes (NaN propagates).
   *
   * @example
   * ```ts
   * const a = ma.array([[1, 5], [3, 2]]);
   * console.log(a.max().item()); // 5
   * console.log(a.max(0).tolist()); // [ 3, 5 ]
   * ```
   */
  max(this: MetalArray<D>, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<D> {
    return reduce.reduceEntry('max', arguments.length + 1, this, axis, keepdims) as MetalArray<D>;
  }
  /**
   * Minimum over axes (NaN propagates).
   *
   * @example
   * ```ts
   * const a = ma.array([[1, 5], [3, 2]]);
   * console.log(a.min().item()); // 1
   * console.log(a.min(1).tolist()); // [ 1, 2 ]
   * ```
   */
  min(this: MetalArray<D>, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<D> {
    return reduce.reduceEntry('min', arguments.length + 1, this, axis, keepdims) as MetalArray<D>;
  }
  /**
   * Index of the first maximum (int32; int64 past 2^31 - 1 elements).
   *
   * @example
   * ```ts
   * const a = ma.array([[1, 5], [3, 2]]);
   * console.log(a.argmax().item()); // 1
   * console.log(a.argmax(1).tolist()); // [ 1, 0 ]
   * ```
   */
  argmax(this: MetalArray<D>, axis?: number | null | ArgReduceOptions, keepdims?: boolean): MetalArray<'int32' | 'int64'> {
    return reduce.reduceEntry('argmax', arguments.length + 1, this, axis, keepdims) as MetalArray<'int32' | 'int64'>;
  }
  /**
   * Index of the first minimum (int32; int64 past 2^31 - 1 elements).
   *
   * @example
   * ```ts
   * const a = ma.array([[1, 5], [3, 2]]);
   * console.log(a.argmin().item()); // 0
   * console.log(a.argmin(0).tolist()); // [ 0, 1 ]
   * ```
   */
  argmin(this: MetalArray<D>, axis?: number | null | ArgReduceOptions, keepdims?: boolean): MetalArray<'int32' | 'int64'> {
    return reduce.reduceEntry('argmin', arguments.length + 1, this, axis, keepdims) as MetalArray<'int32' | 'int64'>;
  }
  /**
   * True where any element along the axes is non-zero (read with `.item()` in an `if`).
   *
   * @example
   * ```ts
   * const a = ma.array([[0, 0], [0, 3]]);
   * console.log(a.any().item()); // true
   * console.log(a.any(1).tolist()); // [ false, true ]
   * ```
   */
  any(this: MetalArray<D>, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<'bool'> {
    return reduce.reduceEntry('any', arguments.length + 1, this, axis, keepdims) as MetalArray<'bool'>;
  }
  /**
   * True where every element along the axes is non-zero (read with `.item()` in an `if`).
   *
   * @example
   * ```ts
   * const a = ma.array([[1, 2], [0, 3]]);
   * console.log(a.all().item()); // false
   * console.log(a.all(1).tolist()); // [ true, false ]
   * ```
   */
  all(this: MetalArray<D>, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<'bool'> {
    return reduce.reduceEntry('all', arguments.length + 1, this, axis, keepdims) as MetalArray<'bool'>;
  }
  /**
   * Mean over axes (see ma.mean).
   *
   * @example
   * ```ts
   * const a = ma.array([[1, 2], [3, 4]]);
   * console.log(a.mean().item()); // 2.5
   * console.log(a.mean(0).tolist()); // [ 2, 3 ]
   * ```
   */
  mean<T extends DType = FloatOf<D>>(this: MetalArray<D>, options?: MeanOptions<T>): MetalArray<T>;
  mean(this: MetalArray<D>, axis?: Axes, keepdims?: boolean): MetalArray<FloatOf<D>>;
  mean(this: MetalArray<D>, axis?: Axes | MeanOptions, keepdims?: boolean): MetalArray {
    return reduce.reduceEntry('mean', arguments.length + 1, this, axis, keepdims);
  }
  /**
   * Variance over axes (two-pass).
   *
   * @example
   * ```ts
   * const a = ma.array([1, 2, 3, 4], 'float32');
   * console.log(a.var().item()); // 1.25
   * console.log(a.var({ ddof: 1 }).item()); // 1.6666666269302368
   * ```
   */
  var(this: MetalArray<D>, axis?: Axes | VarianceOptions, keepdims?: boolean, ddof?: number): MetalArray<FloatOf<D>> {
    return reduce.reduceEntry('var', arguments.length + 1, this, axis, keepdims, ddof) as MetalArray<FloatOf<D>>;
  }
  /**
   * Standard deviation over axes.
   *
   * @example
   * ```ts
   * const a = ma.array([1, 3], 'float32');
   * console.log(a.std().item()); // 1
   * ```
   */
  std(this: MetalArray<D>, axis?: Axes | VarianceOptions, keepdims?: boolean, ddof?: number): MetalArray<FloatOf<D>> {
    return reduce.reduceEntry('std', arguments.length + 1, this, axis, keepdims, ddof) as MetalArray<FloatOf<D>>;
  }
  /**
   * log(sum(exp(x))) over axes, without overflow.
   *
   * @example
   * ```ts
   * console.log(ma.array([1000, 1000], 'float32').logsumexp().item()); // 1000.6931762695312
   * ```
   */
  logsumexp(this: MetalArray<D>, axis?: Axes | ReduceOptions, keepdims?: boolean): MetalArray<FloatOf<D>> {
    return reduce.reduceEntry('logsumexp', arguments.length + 1, this, axis, keepdims) as MetalArray<FloatOf<D>>;
  }
  /**
   * Softmax along an axis (last by default).
   *
   * @example
   * ```ts
   * console.log(ma.array([0, Math.log(3)], 'float32').softmax().tolist()); // [ 0.25, 0.75 ]
   * ```
   */
  softmax(this: MetalArray<D>, axis?: Axes | SoftmaxOptions): MetalArray<FloatOf<D>> {
    return reduce.reduceEntry('softmax', arguments.length + 1, this, axis) as MetalArray<FloatOf<D>>;
  }
  /**
   * Log-softmax along an axis (last by default).
   *
   * @example
   * ```ts
   * console.log(ma.array([0, 0], 'float32').logSoftmax().tolist()); // [ -0.6931471824645996, -0.6931471824645996 ]
   * ```
   */
  logSoftmax(this: MetalArray<D>, axis?: Axes | SoftmaxOptions): MetalArray<FloatOf<D>> {
    return reduce.reduceEntry('logSoftmax', arguments.length + 1, this, axis) as MetalArray<FloatOf<D>>;
  }
}

function installOpMethods(): void {
  const target = MetalArray.prototype as unknown as Record<PropertyKey, unknown>;
  for (const methods of [OpMethods, SelectionMethods]) {
    const source = methods.prototype as unknown as Record<PropertyKey, unknown>;
    for (const key of [...Object.getOwnPropertyNames(source), ...Object.getOwnPropertySymbols(source)]) {
      if (key === 'constructor') continue;
      Object.defineProperty(target, key, Object.getOwnPropertyDescriptor(source, key) as PropertyDescriptor);
    }
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
