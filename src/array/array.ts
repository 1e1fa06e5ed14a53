/**
 * MetalArray: an immutable, lazily evaluated n-dimensional array. Every op returns a
 * new MetalArray at once; reading a value (`toTypedArray`, `data`, `item`, `tolist`,
 * printing) or `eval` runs the fused graph behind it.
 *
 * This file is the handle only (reading, evaluation, disposal); the op methods
 * (`a.add(b)`, `a.sum()`...) are added by src/ops/methods.ts (module augmentation).
 */
import { inspect } from 'node:util';
import { ArgumentError, DisposedError, ShapeError } from '../errors.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { contiguousStrides, elementwiseNode, leafNode } from '../core/build.js';
import { type AnyTypedArray, type DType, DTYPES, STORAGE_ARRAY } from '../core/dtype.js';
import type { ScalarOf, TypedArrayOf } from '../core/dtype-types.js';
import { execute, executeAsync } from '../engine/executor.js';
import { guardRead } from '../engine/trace-guard.js';
import { type BufferRef, type Node, releaseNode } from '../core/node.js';
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
  checkOptions('toTypedArray', options, ['copy']);
  const copy = options.copy;
  if (copy === undefined) return true;
  if (typeof copy !== 'boolean') throw new ArgumentError(`toTypedArray: options.copy must be a boolean, got ${typeof copy}`);
  return copy;
}

/** A nested JS array of element values, as `tolist()` returns. */
export type NestedList = number | bigint | boolean | NestedList[];

/** What `toJSON()` gives: nested lists of numbers, booleans, strings (wide integers past 2^53) and nulls (NaN, ±Infinity). */
export type JsonList = number | boolean | string | null | JsonList[];

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An immutable, lazily evaluated n-dimensional array of dtype `D`. The type parameter
 * is what the compiler knows of the dtype: `ma.zeros([2], 'int32')` is a
 * `MetalArray<'int32'>`; where it cannot know (mixed dtypes), it is `DType`, the default.
 */
export class MetalArray<D extends DType = DType> {
  #node: Node | null;

  /**
   * Private: arrays come from the creation functions (`ma.array`, `ma.zeros`...) and ops.
   * (Not tagged internal: stripInternal would drop it from the .d.ts, leaving an
   * implicit public `new MetalArray()` there.)
   */
  private constructor(node: Node) {
    this.#node = node;
    node.refs++;
    currentScope()?.tracked.push(this);
  }

  /** @internal Wraps a node; `D` is the caller's word for the node's dtype (unchecked). */
  static fromNode<D extends DType = DType>(node: Node): MetalArray<D> {
    return new MetalArray<D>(node);
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
  get dtype(): D {
    return this.liveNode('dtype').dtype as D;
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

  /**
   * Evaluates the array now (a no-op if it already is).
   *
   * @example
   * ```ts
   * const a = ma.arange(3).add(1).eval();
   * console.log(a.tolist()); // [ 1, 2, 3 ]
   * ```
   */
  eval(): this {
    checkArgCount('eval', arguments.length, 0, 'a.eval()');
    const n = this.liveNode('eval');
    guardRead(n, 'eval');
    execute([n], backendFor(n.backend), planOptions());
    return this;
  }

  /**
   * Evaluates with the kernels running off the JS thread.
   *
   * @example
   * ```ts
   * const a = await ma.arange(3).multiply(2).evalAsync();
   * console.log(a.tolist()); // [ 0, 2, 4 ]
   * ```
   */
  async evalAsync(): Promise<this> {
    checkArgCount('evalAsync', arguments.length, 0, 'await a.evalAsync()');
    const n = this.liveNode('evalAsync');
    guardRead(n, 'evalAsync');
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
  toTypedArray(options?: ReadOptions): TypedArrayOf<D> {
    checkArgCount('toTypedArray', arguments.length, 1, 'a.toTypedArray({ copy })');
    const n = this.liveNode('toTypedArray');
    guardRead(n, 'toTypedArray');
    const copy = readCopyOption(options);
    const converts = n.dtype === 'float16' || n.dtype === 'bfloat16';
    return fromStorage(this.#readRaw('toTypedArray', copy || converts), n.dtype) as TypedArrayOf<D>;
  }

  /**
   * Evaluates without blocking the event loop, then returns `toTypedArray()`.
   *
   * @example
   * ```ts
   * const values = await ma.array([1.5, 2.5]).data();
   * console.log(values); // Float32Array(2) [ 1.5, 2.5 ]
   * ```
   */
  async data(): Promise<TypedArrayOf<D>> {
    checkArgCount('data', arguments.length, 0, 'await a.data()');
    await this.evalAsync();
    return this.toTypedArray();
  }

  /**
   * The single element as a JS value (number, bigint for 64-bit integers, boolean for bool).
   *
   * @example
   * ```ts
   * console.log(ma.array([1, 2, 3]).sum().item()); // 6
   * console.log(ma.array(7, 'int64').item()); // 7n
   * console.log(ma.array(true).item()); // true
   * ```
   */
  item(): ScalarOf<D> {
    checkArgCount('item', arguments.length, 0, 'a.item() (index first: a.slice(i).item())');
    const n = this.liveNode('item');
    guardRead(n, 'item');
    if (n.size !== 1) throw new ShapeError(`item: only arrays of size 1 convert to a scalar; this one has shape [${n.shape.join(', ')}]`);
    const v = (this.toTypedArray() as AnyTypedArray)[0];
    return (n.dtype === 'bool' ? v !== 0 : v) as ScalarOf<D>;
  }

  /**
   * The values as nested JS arrays.
   *
   * @example
   * ```ts
   * console.log(ma.arange(4).reshape(2, 2).tolist()); // [ [ 0, 1 ], [ 2, 3 ] ]
   * ```
   */
  tolist(): NestedList {
    checkArgCount('tolist', arguments.length, 0, 'a.tolist()');
    const n = this.liveNode('tolist');
    guardRead(n, 'tolist');
    const flat: AnyTypedArray = this.toTypedArray();
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

  /**
   * The values as JSON-ready nested lists (`JSON.stringify(a)` calls it): numbers,
   * booleans, and for int64/uint64 a number where it is exact (a safe integer) and
   * otherwise its decimal string, since JSON has no bigint. NaN and ±Infinity become
   * `null`, as JSON.stringify writes them. A 0-d array gives a bare value.
   *
   * @example
   * ```ts
   * console.log(JSON.stringify(ma.array([[1, 2], [3, 4]]))); // [[1,2],[3,4]]
   * console.log(JSON.stringify(ma.array([2n ** 60n]))); // ["1152921504606846976"]
   * ```
   */
  toJSON(): JsonList {
    // JSON.stringify passes the property key.
    checkArgCount('toJSON', arguments.length, 1, 'a.toJSON()');
    const toJson = (v: NestedList): JsonList => {
      if (Array.isArray(v)) return v.map(toJson);
      if (typeof v === 'bigint') return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
      if (typeof v === 'number' && !Number.isFinite(v)) return null;
      return v as number | boolean;
    };
    return toJson(this.tolist());
  }

  /**
   * JavaScript's conversion to a primitive (`a.sum() + 1`, `a.max() > 5`, `Number(a)`,
   * `` `${a}` ``). An array of size 1 gives its value (number, bigint for int64/uint64,
   * boolean for bool), as `item()`; a string conversion gives `toString()`. A larger
   * array throws a TypeError naming its shape: read it with `toTypedArray()` or
   * `tolist()`, or reduce it first. Note that JavaScript makes every object truthy, so
   * `if (a.any())` is always taken: write `if (a.any().item())`.
   *
   * @example
   * ```ts
   * const total = ma.array([1, 2, 3]).sum() + 1; // 7, a number
   * console.log(total, ma.array([1.5]).max() > 1); // 7 true
   * ```
   */
  [Symbol.toPrimitive](hint: 'number' | 'string' | 'default'): number | bigint | boolean | string {
    if (hint === 'string') return this.toString();
    const n = this.liveNode('toPrimitive');
    if (n.size !== 1) {
      throw new TypeError(
        `MetalArray: only an array of size 1 converts to a ${hint === 'number' ? 'number' : 'primitive'}; this one has shape [${n.shape.join(', ')}] (${n.dtype}). Read its values with toTypedArray() or tolist(), one element with a.slice(i).item(), or reduce it first (e.g. a.sum().item())`,
      );
    }
    return this.item();
  }

  /**
   * NumPy-style text of the values, truncated for large arrays.
   *
   * @example
   * ```ts
   * console.log(ma.arange(3).toString()); // array([0, 1, 2])
   * console.log(ma.array([0.5, 1], 'float32').toString()); // array([0.5, 1. ])
   * ```
   */
  toString(): string {
    checkArgCount('toString', arguments.length, 0, 'a.toString()');
    if (this.#node === null) return 'array(<disposed>)';
    const n = this.#node;
    guardRead(n, 'toString');
    return formatArray(this.toTypedArray() as AnyTypedArray, n.shape, n.dtype);
  }

  /** @internal util.inspect / console.log show the values. */
  [inspect.custom](): string {
    return this.toString();
  }

  /**
   * Lets go of this array's hold on its data; using it afterwards throws DisposedError.
   *
   * @example
   * ```ts
   * const a = ma.ones([1024]);
   * a.dispose();
   * console.log(a.isDisposed); // true
   * ```
   */
  dispose(): void {
    checkArgCount('dispose', arguments.length, 0, 'a.dispose()');
    const n = this.#node;
    if (n === null) return;
    this.#node = null;
    releaseNode(n);
  }

  /**
   * `using x = ...` disposes at the end of the block.
   *
   * @example
   * ```ts
   * // With `using a = ma.ones([4]);` this runs when the block ends; here, called directly.
   * const a = ma.ones([4]);
   * a[Symbol.dispose]();
   * console.log(a.isDisposed); // true
   * ```
   */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * A copy of this array on another backend (the same array if it is already there).
   *
   * @example
   * ```ts
   * const a = ma.arange(3);
   * console.log(a.to('cpu').tolist()); // [ 0, 1, 2 ]
   * console.log(a.to('cpu').backend); // cpu
   * ```
   */
  to(backendName: string): MetalArray<D> {
    checkArgCount('to', arguments.length, 1, "a.to('cpu')");
    const n = this.liveNode('to');
    if (n.backend === backendName) return new MetalArray<D>(n);
    guardRead(n, 'to');
    const target = backendFor(backendName);
    const raw = this.#readRaw('to');
    const buf = target.alloc(raw.byteLength);
    target.write(buf, 0, raw);
    return new MetalArray<D>(leafFor(buf, n.shape, n.dtype));
  }
}

/** @internal A contiguous leaf over a fresh buffer. */
export function leafFor(buffer: BufferRef, shape: readonly number[], dtype: DType): Node {
  return leafNode(buffer, shape, dtype);
}
