/**
 * Node factories. Each validates nothing (src/ops did that) and does O(rank) work:
 * views compose with views beneath them, views and reshapes of constants fold into
 * constants, and identity views disappear.
 */
import type { DType } from './dtype.js';
import { type BufferRef, Node, type ReduceOp, type ScalarValue, type ScanOp, type ViewMap, registerLeaf } from './node.js';
import { castScalar } from './scalar.js';

/** Contiguous (row-major) element strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** A leaf over a buffer (takes one hold on it). */
export function leafNode(buffer: BufferRef, shape: readonly number[], dtype: DType, strides: readonly number[] = contiguousStrides(shape), offset = 0): Node {
  const n = new Node('leaf', '', [], shape, dtype, buffer.backend);
  n.buffer = buffer;
  n.strides = strides;
  n.offset = offset;
  // The whole buffer stays alive while the leaf does, whatever part of it the leaf views.
  n.pinned = buffer.nbytes;
  n.pinnedTop = buffer;
  registerLeaf(n);
  return n.seal();
}

/** A constant of any shape: every element equals `value`. */
export function constNode(value: ScalarValue, shape: readonly number[], dtype: DType, backend: string): Node {
  const n = new Node('const', '', [], shape, dtype, backend);
  n.value = value;
  return n.seal();
}

/**
 * Each element's row-major linear index over `shape`, computed in the kernel that reads
 * it (counters for random numbers, masks such as tril): nothing goes through the host.
 */
export function iotaNode(shape: readonly number[], dtype: DType, backend: string): Node {
  return new Node('iota', '', [], shape, dtype, backend).seal();
}

/**
 * out[..., i, ...] = data[..., wrap(index_0[..., i, ...]), ..., wrap(index_k[..., i, ...]), ...]:
 * one integer index array per gathered axis (`axes[k]` reads `indices[k]`), each of the
 * output's shape; `data` matches the output on every other axis. Several axes in one node
 * let NumPy's multi-array indexing stay one kernel (a gather's data must be a strided
 * buffer, so chained gathers would materialize in between). Negative indices count from
 * the end once; out-of-range ones clamp per axis, so a gather never reads out of bounds.
 * The other index modes are graph built around this node by src/ops/indexing.ts (a
 * remainder of the index, a `where` on its range), hashed and fused like any graph.
 */
export function gatherNode(data: Node, indices: readonly Node[], axes: readonly number[]): Node {
  const n = new Node('gather', '', [data, ...indices], indices[0].shape, data.dtype, data.backend);
  n.axes = axes;
  return n.seal();
}

/** How a scatter combines an update with the element it lands on. */
export type ScatterOp = 'set' | 'add' | 'multiply' | 'maximum' | 'minimum';

/**
 * `base` with `updates` combined into it at the linear `positions` (int64, contiguous;
 * both are materialized): applied in order, so repeated positions accumulate (and the
 * last `set` wins). A position outside [0, size) is skipped: it is an update that the
 * index mode drops (marked -1 by src/ops/indexing.ts).
 */
export function scatterNode(base: Node, positions: Node, updates: Node, op: ScatterOp): Node {
  return new Node('scatter', op, [base, positions, updates], base.shape, base.dtype, base.backend).seal();
}

/** An elementwise op; inputs already have the op's shape (broadcast views) and compute dtype. */
export function elementwiseNode(op: string, inputs: Node[], shape: readonly number[], dtype: DType): Node {
  return new Node(inputs.length === 1 ? 'unary' : 'binary', op, inputs, shape, dtype, inputs[0].backend).seal();
}

/**
 * A binary op whose other operand is a scalar (`x * 1.5`): one node instead of a
 * constant node plus the op. `value` is in x's dtype (the op's compute dtype).
 */
export function scalarOpNode(op: string, x: Node, value: ScalarValue, scalarFirst: boolean, dtype: DType): Node {
  const n = new Node('binary', op, [x], x.shape, dtype, x.backend);
  n.value = value;
  n.scalarSide = scalarFirst ? 1 : 0;
  return n.seal();
}

/** `where(cond, a, b)`; inputs are bool, dtype, dtype and share the shape. */
export function whereNode(cond: Node, a: Node, b: Node, shape: readonly number[]): Node {
  return new Node('where', '', [cond, a, b], shape, a.dtype, a.backend).seal();
}

/** A dtype conversion. Converting to the same dtype is the identity. */
export function castNode(input: Node, dtype: DType): Node {
  if (input.dtype === dtype) return input;
  if (input.kind === 'const') return constNode(castScalar(input.value, input.dtype, dtype), input.shape, dtype, input.backend);
  return new Node('cast', '', [input], input.shape, dtype, input.backend).seal();
}

function isIdentityView(map: ViewMap, inShape: readonly number[], outShape: readonly number[]): boolean {
  if (inShape.length !== outShape.length) return false;
  for (let d = 0; d < outShape.length; d++) {
    if (map.inDim[d] !== d || map.step[d] !== 1 || map.start[d] !== 0 || inShape[d] !== outShape[d]) return false;
  }
  return true;
}

/**
 * A dimension-wise view of `input` with the given output shape (see ViewMap). Views of
 * views compose; views of constants are constants; identity views return the input.
 */
export function viewNode(input: Node, map: ViewMap, shape: readonly number[]): Node {
  if (input.kind === 'const') return constNode(input.value, shape, input.dtype, input.backend);
  if (isIdentityView(map, input.shape, shape)) return input;
  if (input.kind === 'view') {
    const inner = input.view as ViewMap;
    const base = input.inputs[0];
    const inDim = new Array<number>(shape.length);
    const step = new Array<number>(shape.length);
    const start = inner.start.slice();
    // The middle view's dims that the outer view fixes shift the inner start.
    for (let j = 0; j < inner.inDim.length; j++) {
      const k = inner.inDim[j];
      if (k >= 0) start[k] += inner.step[j] * map.start[j];
    }
    for (let d = 0; d < shape.length; d++) {
      const j = map.inDim[d];
      const k = j >= 0 ? inner.inDim[j] : -1;
      inDim[d] = k;
      step[d] = k >= 0 ? inner.step[j] * map.step[d] : 0;
    }
    return viewNode(base, { inDim, step, start }, shape);
  }
  const n = new Node('view', '', [input], shape, input.dtype, input.backend);
  n.view = map;
  return n.seal();
}

/** A reshape that mixes dims (one that only adds or drops 1-sized dims is a view). */
export function reshapeNode(input: Node, shape: readonly number[]): Node {
  if (input.kind === 'const') return constNode(input.value, shape, input.dtype, input.backend);
  if (input.kind === 'reshape') input = input.inputs[0];
  if (input.shape.length === shape.length && input.shape.every((s, i) => s === shape[i])) return input;
  return new Node('reshape', '', [input], shape, input.dtype, input.backend).seal();
}

/** A reduction of `input` over `axes` (ascending); the output drops those dims. */
export function reduceNode(op: ReduceOp, input: Node, axes: readonly number[], dtype: DType): Node {
  const shape = input.shape.filter((_, d) => !axes.includes(d));
  const n = new Node('reduce', op, [input], shape, dtype, input.backend);
  n.axes = axes;
  return n.seal();
}

/**
 * A batched matrix product: a is [...batch, M, K], b is [...batch, K, N] (same batch
 * shape, already broadcast, same dtype); the result is [...batch, M, N].
 */
export function matmulNode(a: Node, b: Node, dtype: DType): Node {
  const r = a.shape.length;
  const shape = [...a.shape.slice(0, r - 1), b.shape[r - 1]];
  return new Node('matmul', '', [a, b], shape, dtype, a.backend).seal();
}

/** A scan along the last axis of `input` (same shape); axis and direction are views around it. */
export function scanNode(op: ScanOp, input: Node, inclusive: boolean, dtype: DType): Node {
  const n = new Node('scan', op, [input], input.shape, dtype, input.backend);
  n.inclusive = inclusive;
  return n.seal();
}

/** Concatenation along `axis`: a select in the consumer's kernel, not a copy. */
export function concatNode(inputs: Node[], axis: number, shape: readonly number[]): Node {
  const bounds: number[] = [0];
  for (const x of inputs) bounds.push(bounds[bounds.length - 1] + x.shape[axis]);
  const n = new Node('concat', '', inputs, shape, inputs[0].dtype, inputs[0].backend);
  n.axis = axis;
  n.bounds = bounds;
  return n.seal();
}
