/**
 * MetalArray: an immutable, lazily evaluated n-dimensional array. Every op returns a
 * new MetalArray at once; reading a value (`toTypedArray`, `data`, `item`, `tolist`,
 * printing) or `eval` runs the fused graph behind it.
 */
import { inspect } from 'node:util';
import { ArgumentError, DisposedError, ShapeError } from '../errors.js';
import { contiguousStrides, elementwiseNode, leafNode } from '../core/build.js';
import { type AnyTypedArray, type DType, DTYPES, STORAGE_ARRAY } from '../core/dtype.js';
import { execute, executeAsync } from '../engine/executor.js';
import { type BufferRef, type Node, releaseNode } from '../core/node.js';
import { binary, unary, astype, clip } from '../ops/elementwise.js';
import { type SliceSpec, broadcastTo, expandDims, flatten, flip, moveaxis, reshape, slice, squeeze, swapaxes, transpose } from '../ops/movement.js';
import type { ArrayLike } from '../ops/operand.js';
import { split } from '../ops/join.js';
import type { Axes } from '../ops/reduce.js';
import * as reduce from '../ops/reduce.js';
import * as matmulOps from '../ops/matmul.js';
import * as scanOps from '../ops/scan.js';
import * as indexing from '../ops/indexing.js';
import * as sorting from '../ops/sort.js';
import { backendFor } from '../runtime/registry.js';
import { currentScope, planOptions } from './context.js';
import { fromStorage } from './convert.js';
import { formatArray } from './format.js';

/** Options of `toTypedArray`. */
export interface ReadOptions {
  /** false: return a view of the array's memory where possible instead of a copy (default true). */
  readonly copy?: boolean;
}

function readCopyOption(options: ReadOptions | undefined): boolean {
  if (options === undefined) return true;
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentError(`toTypedArray: options must be an object like { copy: false }, got ${String(options)}`);
  }
  const copy = options.copy;
  if (copy === undefined) return true;
  if (typeof copy !== 'boolean') throw new ArgumentError(`toTypedArray: options.copy must be a boolean, got ${typeof copy}`);
  return copy;
}

/** A nested JS array of element values, as `tolist()` returns. */
export type NestedList = number | bigint | boolean | NestedList[];

/** An immutable, lazily evaluated n-dimensional array. */
export class MetalArray {
  #node: Node | null;

  /** @internal Wraps a node; use the creation functions (`ma.array`, `ma.zeros`...) instead. */
  constructor(node: Node) {
    this.#node = node;
    node.refs++;
    currentScope()?.tracked.push(this);
  }

  /** @internal */
  static fromNode(node: Node): MetalArray {
    return new MetalArray(node);
  }

  /** @internal The node, or DisposedError naming the op that tried to use it. */
  liveNode(op: string): Node {
    const n = this.#node;
    if (n === null) throw new DisposedError(`${op}: array was disposed`);
    return n;
  }

  /** The dimensions. */
  get shape(): number[] {
    return this.liveNode('shape').shape.slice();
  }
  /** The element type, e.g. `'float32'`. */
  get dtype(): DType {
    return this.liveNode('dtype').dtype;
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.liveNode('ndim').shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return this.liveNode('size').size;
  }
  /** Bytes the elements take (size × itemsize). */
  get nbytes(): number {
    const n = this.liveNode('nbytes');
    return n.size * DTYPES[n.dtype].bytes;
  }
  /** The backend the array lives on. */
  get backend(): string {
    return this.liveNode('backend').backend;
  }
  /** True once `dispose()` was called. */
  get isDisposed(): boolean {
    return this.#node === null;
  }
  /** The transpose (all axes reversed). */
  get T(): MetalArray {
    return transpose(this);
  }

  /** Evaluates the array now (a no-op if it already is). */
  eval(): this {
    const n = this.liveNode('eval');
    execute([n], backendFor(n.backend), planOptions());
    return this;
  }

  /** Evaluates with the kernels running off the JS thread. */
  async evalAsync(): Promise<this> {
    const n = this.liveNode('evalAsync');
    await executeAsync([n], backendFor(n.backend), planOptions());
    return this;
  }

  /** The contiguous leaf holding this array's values (evaluating and copying as needed). */
  #contiguousLeaf(op: string): Node {
    const n = this.liveNode(op);
    const backend = backendFor(n.backend);
    execute([n], backend, planOptions());
    const strides = n.strides as readonly number[];
    const want = contiguousStrides(n.shape);
    const contiguous = n.shape.every((d, i) => d <= 1 || strides[i] === want[i]);
    if (contiguous) return n;
    // A strided view: copy it into a contiguous buffer with one kernel.
    const copy = elementwiseNode('copy', [n], n.shape, n.dtype);
    copy.refs++;
    execute([copy], backend, planOptions());
    return copy;
  }

  /**
   * The raw storage. `copy: false` returns a typed array over the pool's memory where
   * the backend's memory is host-visible (cpu, Metal), else a copy.
   */
  #readRaw(op: string, copy = true): AnyTypedArray {
    const leaf = this.#contiguousLeaf(op);
    try {
      if (!copy && leaf.size > 0) {
        const memory = backendFor(leaf.backend).view?.(leaf.buffer as BufferRef) ?? null;
        // The view pins the block, so releasing a temporary copy below cannot free it under the view.
        if (memory !== null) return new STORAGE_ARRAY[leaf.dtype](memory, leaf.offset * DTYPES[leaf.dtype].bytes, leaf.size);
      }
      const raw = new STORAGE_ARRAY[leaf.dtype](leaf.size);
      if (leaf.size > 0) backendFor(leaf.backend).read(leaf.buffer as BufferRef, leaf.offset * DTYPES[leaf.dtype].bytes, raw);
      return raw;
    } finally {
      if (leaf !== this.#node) releaseNode(leaf);
    }
  }

  /**
   * @internal A contiguous leaf with this array's values starting at element 0 of its
   * buffer (evaluating and copying as needed), for code that binds the buffer itself
   * (custom kernels). Call `release()` when done with it.
   */
  denseLeaf(op: string): { node: Node; release(): void } {
    let leaf = this.#contiguousLeaf(op);
    if (leaf.offset !== 0) {
      const copy = elementwiseNode('copy', [leaf], leaf.shape, leaf.dtype);
      copy.refs++;
      execute([copy], backendFor(leaf.backend), planOptions());
      if (leaf !== this.#node) releaseNode(leaf);
      leaf = copy;
    }
    const own = leaf !== this.#node;
    return { node: leaf, release: () => (own ? releaseNode(leaf) : undefined) };
  }

  /**
   * @internal The raw storage of the values, row-major: float16/bfloat16 as their
   * 16-bit patterns, bool as 0/1 bytes (file writers need the exact bits).
   */
  storageBits(op = 'storageBits'): AnyTypedArray {
    return this.#readRaw(op);
  }

  /**
   * The values as a typed array, row-major: Float32Array for float16, bfloat16 and
   * float32; Float64Array for float64; BigInt64Array/BigUint64Array for int64/uint64;
   * Uint8Array (0/1) for bool; the matching typed array for other integers.
   *
   * By default the result is a new copy. With `{ copy: false }` it is, where the
   * backend's memory is host-visible (cpu, Metal) and the dtype needs no conversion
   * (not float16/bfloat16), a view of the array's own memory: no copy at all (a strided
   * view first costs one kernel into a fresh buffer). The view keeps that memory alive
   * for as long as the typed array lives, even after `dispose()`, so it never dangles.
   * Aliasing rule: arrays are immutable and may share memory with other arrays, so
   * writing into a view is forbidden (its effect on any array is undefined). Elsewhere
   * (CUDA) `copy: false` reads with one copy.
   *
   * @example
   * const y = ma.arange(4).astype('float32').multiply(2);
   * const v = y.toTypedArray({ copy: false }); // Float32Array [0, 2, 4, 6], no copy
   */
  toTypedArray(options?: ReadOptions): AnyTypedArray {
    const n = this.liveNode('toTypedArray');
    const copy = readCopyOption(options);
    const converts = n.dtype === 'float16' || n.dtype === 'bfloat16';
    return fromStorage(this.#readRaw('toTypedArray', copy || converts), n.dtype);
  }

  /** Evaluates without blocking the event loop, then returns `toTypedArray()`. */
  async data(): Promise<AnyTypedArray> {
    await this.evalAsync();
    return this.toTypedArray();
  }

  /** The single element as a JS value (number, bigint for 64-bit integers, boolean for bool). */
  item(): number | bigint | boolean {
    const n = this.liveNode('item');
    if (n.size !== 1) throw new ShapeError(`item: only arrays of size 1 convert to a scalar; this one has shape [${n.shape.join(', ')}]`);
    const v = this.toTypedArray()[0];
    return n.dtype === 'bool' ? v !== 0 : v;
  }

  /** The values as nested JS arrays. */
  tolist(): NestedList {
    const n = this.liveNode('tolist');
    const flat = this.toTypedArray();
    const conv = (v: number | bigint): NestedList => (n.dtype === 'bool' ? v !== 0 : v);
    const build = (dim: number, offset: number): NestedList => {
      if (dim === n.shape.length) return conv(flat[offset]);
      const stride = n.shape.slice(dim + 1).reduce((p, d) => p * d, 1);
      const out: NestedList[] = [];
      for (let i = 0; i < n.shape[dim]; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** NumPy-style text of the values, truncated for large arrays. */
  toString(): string {
    if (this.#node === null) return 'array(<disposed>)';
    const n = this.#node;
    return formatArray(this.toTypedArray(), n.shape, n.dtype);
  }

  /** @internal util.inspect / console.log show the values. */
  [inspect.custom](): string {
    return this.toString();
  }

  /** Lets go of this array's hold on its data; using it afterwards throws DisposedError. */
  dispose(): void {
    const n = this.#node;
    if (n === null) return;
    this.#node = null;
    releaseNode(n);
  }

  /** `using x = ...` disposes at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

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
  *[Symbol.iterator](): Generator<MetalArray, void, undefined> {
    const n = this.liveNode('iterate');
    if (n.shape.length === 0) throw new TypeError('iterate: a 0-d array (shape []) is not iterable; read it with item()');
    const rows = n.shape[0];
    for (let i = 0; i < rows; i++) yield slice(this, i);
  }

  /** A copy of this array on another backend (the same array if it is already there). */
  to(backendName: string): MetalArray {
    const n = this.liveNode('to');
    if (n.backend === backendName) return new MetalArray(n);
    const target = backendFor(backendName);
    const raw = this.#readRaw('to');
    const buf = target.alloc(raw.byteLength);
    target.write(buf, 0, raw);
    return new MetalArray(leafFor(buf, n.shape, n.dtype));
  }

  /** Converts to another dtype. */
  astype(dtype: DType): MetalArray {
    return astype(this, dtype);
  }
  /** Limits values to [lo, hi]; null leaves a side open. */
  clip(lo: ArrayLike | null, hi: ArrayLike | null): MetalArray {
    return clip(this, lo, hi);
  }
  /** Reshapes (accepts an array or dims as arguments; one may be -1). A view. */
  reshape(...shape: (number | readonly number[])[]): MetalArray {
    const dims = shape.length === 1 && Array.isArray(shape[0]) ? (shape[0] as number[]) : (shape as number[]);
    return reshape(this, dims);
  }
  /** Permutes axes (reverses them when omitted). A view. */
  transpose(axes?: readonly number[]): MetalArray {
    return transpose(this, axes);
  }
  /** Swaps two axes. A view. */
  swapaxes(axis1: number, axis2: number): MetalArray {
    return swapaxes(this, axis1, axis2);
  }
  /** Moves an axis. A view. */
  moveaxis(source: number, destination: number): MetalArray {
    return moveaxis(this, source, destination);
  }
  /** Broadcasts to a shape. A view. */
  broadcastTo(shape: readonly number[]): MetalArray {
    return broadcastTo(this, shape);
  }
  /** Inserts 1-sized axes. A view. */
  expandDims(axis: number | readonly number[]): MetalArray {
    return expandDims(this, axis);
  }
  /** Removes 1-sized axes. A view. */
  squeeze(axis?: number | readonly number[]): MetalArray {
    return squeeze(this, axis);
  }
  /** One-dimensional view. */
  flatten(): MetalArray {
    return flatten(this);
  }
  /** Reverses along axes. A view. */
  flip(axis?: number | readonly number[]): MetalArray {
    return flip(this, axis);
  }
  /** NumPy basic indexing (see `ma.slice`). A view. */
  slice(...specs: (SliceSpec | string)[]): MetalArray {
    return slice(this, ...specs);
  }
  /** Sum over axes (all by default). */
  sum(axis?: Axes, keepdims = false): MetalArray {
    return reduce.sum(this, axis, keepdims);
  }
  /** Product over axes. */
  prod(axis?: Axes, keepdims = false): MetalArray {
    return reduce.prod(this, axis, keepdims);
  }
  /** Maximum over axes (NaN propagates). */
  max(axis?: Axes, keepdims = false): MetalArray {
    return reduce.max(this, axis, keepdims);
  }
  /** Minimum over axes (NaN propagates). */
  min(axis?: Axes, keepdims = false): MetalArray {
    return reduce.min(this, axis, keepdims);
  }
  /** Index of the first maximum (int32). */
  argmax(axis?: number, keepdims = false): MetalArray {
    return reduce.argmax(this, axis, keepdims);
  }
  /** Index of the first minimum (int32). */
  argmin(axis?: number, keepdims = false): MetalArray {
    return reduce.argmin(this, axis, keepdims);
  }
  /** True where any element along the axes is non-zero. */
  any(axis?: Axes, keepdims = false): MetalArray {
    return reduce.any(this, axis, keepdims);
  }
  /** True where every element along the axes is non-zero. */
  all(axis?: Axes, keepdims = false): MetalArray {
    return reduce.all(this, axis, keepdims);
  }
  /** Mean over axes. */
  mean(axis?: Axes, keepdims = false): MetalArray {
    return reduce.mean(this, axis, keepdims);
  }
  /** Variance over axes (two-pass). */
  var(axis?: Axes, keepdims = false, ddof = 0): MetalArray {
    return reduce.variance(this, axis, keepdims, ddof);
  }
  /** Standard deviation over axes. */
  std(axis?: Axes, keepdims = false, ddof = 0): MetalArray {
    return reduce.std(this, axis, keepdims, ddof);
  }
  /** log(sum(exp(x))) over axes, without overflow. */
  logsumexp(axis?: Axes, keepdims = false): MetalArray {
    return reduce.logsumexp(this, axis, keepdims);
  }
  /** Softmax along an axis (last by default). */
  softmax(axis: Axes = -1): MetalArray {
    return reduce.softmax(this, axis);
  }
  /** Log-softmax along an axis (last by default). */
  logSoftmax(axis: Axes = -1): MetalArray {
    return reduce.logSoftmax(this, axis);
  }

  /** Matrix product (NumPy's matmul / the @ operator). */
  matmul(other: ArrayLike): MetalArray {
    return matmulOps.matmul(this, other);
  }
  /** NumPy's dot. */
  dot(other: ArrayLike): MetalArray {
    return matmulOps.dot(this, other);
  }

  /** Cumulative sum along an axis (flattened by default). */
  cumsum(axis?: number | null, reverse = false, inclusive = true): MetalArray {
    return scanOps.cumsum(this, axis, reverse, inclusive);
  }
  /** A functional update at an index: `a.at(0, [1, null]).set(5)` returns a new array; see ma.at. */
  at(...specs: (SliceSpec | string)[]): indexing.AtIndex {
    return indexing.at(this, ...specs);
  }
  /** Elements at `indices` along `axis` (flattened without one); see ma.take. */
  take(indices: indexing.IndexLike, axis?: number | null, options?: indexing.GatherOptions): MetalArray {
    return indexing.take(this, indices, axis, options);
  }
  /** Values picked along `axis` by an index array of the same rank; see ma.takeAlongAxis. */
  takeAlongAxis(indices: indexing.IndexLike, axis: number | null = -1, options?: indexing.GatherOptions): MetalArray {
    return indexing.takeAlongAxis(this, indices, axis, options);
  }
  /** Each element repeated along `axis` (flattened without one); see ma.repeat. */
  repeat(repeats: number, axis?: number | null): MetalArray {
    return indexing.repeat(this, repeats, axis);
  }
  /** Sorted along `axis` (last by default; null: flattened), ascending, NaN last; see ma.sort. */
  sort(axis: number | null = -1): MetalArray {
    return sorting.sort(this, axis);
  }
  /** int32 indices that sort along `axis` (stable); see ma.argsort. */
  argsort(axis: number | null = -1): MetalArray {
    return sorting.argsort(this, axis);
  }
  /** Indices of the non-zero elements, one int32 array per axis (evaluates now). */
  nonzero(): MetalArray[] {
    return indexing.nonzero(this);
  }
  /** Cumulative product along an axis (flattened by default). */
  cumprod(axis?: number | null, reverse = false, inclusive = true): MetalArray {
    return scanOps.cumprod(this, axis, reverse, inclusive);
  }
  /** Running maximum along an axis (flattened by default). */
  cummax(axis?: number | null, reverse = false, inclusive = true): MetalArray {
    return scanOps.cummax(this, axis, reverse, inclusive);
  }
  /** Running minimum along an axis (flattened by default). */
  cummin(axis?: number | null, reverse = false, inclusive = true): MetalArray {
    return scanOps.cummin(this, axis, reverse, inclusive);
  }

  /** Splits into views along an axis. */
  split(indicesOrSections: number | readonly number[], axis = 0): MetalArray[] {
    return split(this, indicesOrSections, axis);
  }

  /** Elementwise `-x` (integers wrap). */
  negative(): MetalArray {
    return unary('negative', this);
  }

  /** Elementwise absolute value (`abs(INT_MIN)` wraps to INT_MIN). */
  abs(): MetalArray {
    return unary('abs', this);
  }

  /** Elementwise sign: -1, 0 or 1 (NaN stays NaN). */
  sign(): MetalArray {
    return unary('sign', this);
  }

  /** Elementwise `x * x`. */
  square(): MetalArray {
    return unary('square', this);
  }

  /** Elementwise square root. */
  sqrt(): MetalArray {
    return unary('sqrt', this);
  }

  /** Elementwise `1 / sqrt(x)`. */
  rsqrt(): MetalArray {
    return unary('rsqrt', this);
  }

  /** Elementwise `1 / x`. */
  reciprocal(): MetalArray {
    return unary('reciprocal', this);
  }

  /** Elementwise `e^x`. */
  exp(): MetalArray {
    return unary('exp', this);
  }

  /** Elementwise `2^x`. */
  exp2(): MetalArray {
    return unary('exp2', this);
  }

  /** Elementwise `e^x - 1`, accurate near 0. */
  expm1(): MetalArray {
    return unary('expm1', this);
  }

  /** Elementwise natural logarithm. */
  log(): MetalArray {
    return unary('log', this);
  }

  /** Elementwise base-2 logarithm. */
  log2(): MetalArray {
    return unary('log2', this);
  }

  /** Elementwise base-10 logarithm. */
  log10(): MetalArray {
    return unary('log10', this);
  }

  /** Elementwise `log(1 + x)`, accurate near 0. */
  log1p(): MetalArray {
    return unary('log1p', this);
  }

  /** Elementwise sine. */
  sin(): MetalArray {
    return unary('sin', this);
  }

  /** Elementwise cosine. */
  cos(): MetalArray {
    return unary('cos', this);
  }

  /** Elementwise tangent. */
  tan(): MetalArray {
    return unary('tan', this);
  }

  /** Elementwise inverse sine. */
  arcsin(): MetalArray {
    return unary('arcsin', this);
  }

  /** Elementwise inverse cosine. */
  arccos(): MetalArray {
    return unary('arccos', this);
  }

  /** Elementwise inverse tangent. */
  arctan(): MetalArray {
    return unary('arctan', this);
  }

  /** Elementwise hyperbolic sine. */
  sinh(): MetalArray {
    return unary('sinh', this);
  }

  /** Elementwise hyperbolic cosine. */
  cosh(): MetalArray {
    return unary('cosh', this);
  }

  /** Elementwise hyperbolic tangent. */
  tanh(): MetalArray {
    return unary('tanh', this);
  }

  /** Elementwise inverse hyperbolic sine. */
  arcsinh(): MetalArray {
    return unary('arcsinh', this);
  }

  /** Elementwise inverse hyperbolic cosine. */
  arccosh(): MetalArray {
    return unary('arccosh', this);
  }

  /** Elementwise inverse hyperbolic tangent. */
  arctanh(): MetalArray {
    return unary('arctanh', this);
  }

  /** Elementwise error function. */
  erf(): MetalArray {
    return unary('erf', this);
  }

  /** Elementwise inverse error function. */
  erfinv(): MetalArray {
    return unary('erfinv', this);
  }

  /** Elementwise logistic sigmoid `1 / (1 + e^-x)`. */
  sigmoid(): MetalArray {
    return unary('sigmoid', this);
  }

  /** Elementwise `max(x, 0)` (NaN propagates). */
  relu(): MetalArray {
    return unary('relu', this);
  }

  /** Elementwise GELU, exact form `0.5 x (1 + erf(x / sqrt 2))`. */
  gelu(): MetalArray {
    return unary('gelu', this);
  }

  /** Elementwise SiLU `x * sigmoid(x)`. */
  silu(): MetalArray {
    return unary('silu', this);
  }

  /** Elementwise floor. */
  floor(): MetalArray {
    return unary('floor', this);
  }

  /** Elementwise ceiling. */
  ceil(): MetalArray {
    return unary('ceil', this);
  }

  /** Elementwise rounding, half to even. */
  round(): MetalArray {
    return unary('round', this);
  }

  /** Elementwise rounding toward zero. */
  trunc(): MetalArray {
    return unary('trunc', this);
  }

  /** Elementwise NaN test (bool). */
  isnan(): MetalArray {
    return unary('isnan', this);
  }

  /** Elementwise ±Inf test (bool). */
  isinf(): MetalArray {
    return unary('isinf', this);
  }

  /** Elementwise finiteness test (bool). */
  isfinite(): MetalArray {
    return unary('isfinite', this);
  }

  /** Elementwise logical not (bool). */
  logicalNot(): MetalArray {
    return unary('logicalNot', this);
  }

  /** Elementwise bitwise not (integers and bool). */
  bitwiseNot(): MetalArray {
    return unary('bitwiseNot', this);
  }

  /** Elementwise `a + b` with broadcasting (integers wrap). */
  add(other: ArrayLike): MetalArray {
    return binary('add', this, other);
  }

  /** Elementwise `a - b`. */
  subtract(other: ArrayLike): MetalArray {
    return binary('subtract', this, other);
  }

  /** Elementwise `a * b`. */
  multiply(other: ArrayLike): MetalArray {
    return binary('multiply', this, other);
  }

  /** Elementwise true division (integers give float32). */
  divide(other: ArrayLike): MetalArray {
    return binary('divide', this, other);
  }

  /** Elementwise floor division (integer division by zero gives 0). */
  floorDivide(other: ArrayLike): MetalArray {
    return binary('floorDivide', this, other);
  }

  /** Elementwise remainder with the sign of the divisor (integer `x % 0` gives 0). */
  remainder(other: ArrayLike): MetalArray {
    return binary('remainder', this, other);
  }

  /** Elementwise `a ** b`. */
  power(other: ArrayLike): MetalArray {
    return binary('power', this, other);
  }

  /** Elementwise maximum (NaN propagates). */
  maximum(other: ArrayLike): MetalArray {
    return binary('maximum', this, other);
  }

  /** Elementwise minimum (NaN propagates). */
  minimum(other: ArrayLike): MetalArray {
    return binary('minimum', this, other);
  }

  /** Elementwise `atan2(a, b)`. */
  arctan2(other: ArrayLike): MetalArray {
    return binary('arctan2', this, other);
  }

  /** Elementwise `log(e^a + e^b)`, without overflow. */
  logaddexp(other: ArrayLike): MetalArray {
    return binary('logaddexp', this, other);
  }

  /** Elementwise `a == b` (bool). */
  equal(other: ArrayLike): MetalArray {
    return binary('equal', this, other);
  }

  /** Elementwise `a != b` (bool). */
  notEqual(other: ArrayLike): MetalArray {
    return binary('notEqual', this, other);
  }

  /** Elementwise `a < b` (bool). */
  less(other: ArrayLike): MetalArray {
    return binary('less', this, other);
  }

  /** Elementwise `a <= b` (bool). */
  lessEqual(other: ArrayLike): MetalArray {
    return binary('lessEqual', this, other);
  }

  /** Elementwise `a > b` (bool). */
  greater(other: ArrayLike): MetalArray {
    return binary('greater', this, other);
  }

  /** Elementwise `a >= b` (bool). */
  greaterEqual(other: ArrayLike): MetalArray {
    return binary('greaterEqual', this, other);
  }

  /** Elementwise logical and (bool). */
  logicalAnd(other: ArrayLike): MetalArray {
    return binary('logicalAnd', this, other);
  }

  /** Elementwise logical or (bool). */
  logicalOr(other: ArrayLike): MetalArray {
    return binary('logicalOr', this, other);
  }

  /** Elementwise logical xor (bool). */
  logicalXor(other: ArrayLike): MetalArray {
    return binary('logicalXor', this, other);
  }

  /** Elementwise bitwise and. */
  bitwiseAnd(other: ArrayLike): MetalArray {
    return binary('bitwiseAnd', this, other);
  }

  /** Elementwise bitwise or. */
  bitwiseOr(other: ArrayLike): MetalArray {
    return binary('bitwiseOr', this, other);
  }

  /** Elementwise bitwise xor. */
  bitwiseXor(other: ArrayLike): MetalArray {
    return binary('bitwiseXor', this, other);
  }

  /** Elementwise `a << b` (shifts outside [0, bits) give 0). */
  leftShift(other: ArrayLike): MetalArray {
    return binary('leftShift', this, other);
  }

  /** Elementwise `a >> b`, arithmetic for signed types. */
  rightShift(other: ArrayLike): MetalArray {
    return binary('rightShift', this, other);
  }
}

/** @internal A contiguous leaf over a fresh buffer. */
export function leafFor(buffer: BufferRef, shape: readonly number[], dtype: DType): Node {
  return leafNode(buffer, shape, dtype);
}
