/**
 * Matrix products with NumPy semantics: matmul (1-D operands promoted then squeezed,
 * batch dims broadcast), dot, inner, outer, tensordot. The product is one node; its
 * operands are read through strides (transposes and broadcasts cost nothing) and
 * elementwise work on its result (scale, bias, activation) runs in the same kernel.
 */
import { checkArgCount } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import { promoteTypes } from '../core/promotion.js';
import { ArgumentError, DTypeError, ShapeError, formatValue } from '../errors.js';
import { castNode, contiguousStrides, matmulNode, reshapeNode } from '../core/build.js';
import type { Node, ViewMap } from '../core/node.js';
import { binary } from './elementwise.js';
import { expandDims, reshape, squeeze, transpose } from './movement.js';
import { type ArrayLike, broadcastNode, broadcastShapes, normalizeAxis, operandNodes } from './operand.js';
import type { NodeRule } from '../transforms/rules.js';
import { type BatchingTable, batchedInput } from '../transforms/batching.js';

/**
 * Matrix product of the last two axes, NumPy's matmul (the `@` operator).
 *
 * @example
 * ```ts
 * const a = ma.array([[1, 2], [3, 4]], 'float32');
 * const b = ma.array([[5], [6]], 'float32');
 * console.log(ma.matmul(a, b).tolist()); // [ [ 17 ], [ 39 ] ]
 * console.log(ma.matmul(ma.ones([4, 2, 3]), ma.ones([3, 5])).shape); // [ 4, 2, 5 ]
 * ```
 */
export function matmul(a: ArrayLike, b: ArrayLike): MetalArray {
  checkArgCount('matmul', arguments.length, 2, 'matmul(a, b)');
  const [na0, nb0] = operandNodes('matmul', [a, b]);
  if (na0.shape.length === 0 || nb0.shape.length === 0) throw new ShapeError('matmul: operands must have at least one dimension (use multiply for scalars)');
  if (na0.dtype === 'bool' && nb0.dtype === 'bool') throw new DTypeError('matmul: bool operands are not supported; cast them first');
  const dtype = promoteTypes(na0.dtype, nb0.dtype);
  let A = MetalArray.fromNode(castNode(na0, dtype));
  let B = MetalArray.fromNode(castNode(nb0, dtype));
  const aVec = A.ndim === 1;
  const bVec = B.ndim === 1;
  if (aVec) A = expandDims(A, 0);
  if (bVec) B = expandDims(B, 1);
  const [M, K] = A.shape.slice(-2);
  const [K2, N] = B.shape.slice(-2);
  if (K !== K2) {
    throw new ShapeError(`matmul: shapes [${na0.shape.join(', ')}] and [${nb0.shape.join(', ')}] do not align (${K} != ${K2})`);
  }
  const batch = broadcastShapes('matmul', [A.shape.slice(0, -2), B.shape.slice(0, -2)]);
  const an = broadcastNode(A.liveNode('matmul'), [...batch, M, K]);
  const bn = broadcastNode(B.liveNode('matmul'), [...batch, K, N]);
  let out = MetalArray.fromNode(matmulNode(an, bn, dtype));
  if (aVec) out = squeeze(out, out.ndim - 2);
  if (bVec) out = squeeze(out, out.ndim - 1);
  return out;
}

/**
 * NumPy's dot: matmul for 1-D and 2-D operands, a product for scalars, sum over the last axis of a and second-to-last of b otherwise.
 *
 * @example
 * ```ts
 * console.log(ma.dot(ma.array([1, 2]), ma.array([3, 4])).item()); // 11
 * console.log(ma.dot(ma.array([[1, 0], [0, 2]]), ma.array([3, 4])).tolist()); // [ 3, 8 ]
 * ```
 */
export function dot(a: ArrayLike, b: ArrayLike): MetalArray {
  checkArgCount('dot', arguments.length, 2, 'dot(a, b)');
  const [na, nb] = operandNodes('dot', [a, b]);
  if (na.shape.length === 0 || nb.shape.length === 0) return binary('multiply', a, b);
  if (nb.shape.length <= 2) return matmul(a, b);
  // a[..., k] · b[..., k, n]: NumPy's dot, not broadcasting matmul.
  return tensordot(a, b, [[na.shape.length - 1], [nb.shape.length - 2]]);
}

/**
 * Inner product over the last axes (NumPy's inner).
 *
 * @example
 * ```ts
 * console.log(ma.inner(ma.array([[1, 2], [3, 4]]), ma.array([1, 1])).tolist()); // [ 3, 7 ]
 * ```
 */
export function inner(a: ArrayLike, b: ArrayLike): MetalArray {
  checkArgCount('inner', arguments.length, 2, 'inner(a, b)');
  const [na, nb] = operandNodes('inner', [a, b]);
  if (na.shape.length === 0 || nb.shape.length === 0) return binary('multiply', a, b);
  return tensordot(a, b, [[na.shape.length - 1], [nb.shape.length - 1]]);
}

/**
 * Outer product of the flattened operands.
 *
 * @example
 * ```ts
 * console.log(ma.outer(ma.array([1, 2]), ma.array([1, 10, 100])).tolist()); // [ [ 1, 10, 100 ], [ 2, 20, 200 ] ]
 * ```
 */
export function outer(a: ArrayLike, b: ArrayLike): MetalArray {
  checkArgCount('outer', arguments.length, 2, 'outer(a, b)');
  const [na, nb] = operandNodes('outer', [a, b]);
  const A = reshape(MetalArray.fromNode(na), [-1, 1]);
  const B = reshape(MetalArray.fromNode(nb), [1, -1]);
  return binary('multiply', A, B);
}

/**
 * Sum of products over the given axes (NumPy's tensordot): `axes` is a number n (the
 * last n of a with the first n of b) or a pair of axis lists.
 *
 * @example
 * ```ts
 * const a = ma.ones([2, 3, 4]);
 * const b = ma.ones([3, 4, 5]);
 * console.log(ma.tensordot(a, b).shape); // [ 2, 5 ]
 * console.log(ma.tensordot(a, b, [[1], [0]]).shape); // [ 2, 4, 4, 5 ]
 * ```
 */
export function tensordot(a: ArrayLike, b: ArrayLike, axes: number | readonly [readonly number[] | number, readonly number[] | number] = 2): MetalArray {
  checkArgCount('tensordot', arguments.length, 3, 'tensordot(a, b, axes)');
  const [na, nb] = operandNodes('tensordot', [a, b]);
  const ra = na.shape.length;
  const rb = nb.shape.length;
  let axA: number[];
  let axB: number[];
  if (typeof axes === 'number') {
    if (!Number.isInteger(axes) || axes < 0 || axes > ra || axes > rb)
      throw new ArgumentError(`tensordot: axes must be an integer in [0, ${Math.min(ra, rb)}], got ${formatValue(axes)}`);
    axA = [...Array(axes).keys()].map((i) => ra - axes + i);
    axB = [...Array(axes).keys()];
  } else if (Array.isArray(axes) && axes.length === 2) {
    axA = (typeof axes[0] === 'number' ? [axes[0]] : [...axes[0]]).map((x) => normalizeAxis('tensordot', x, ra));
    axB = (typeof axes[1] === 'number' ? [axes[1]] : [...axes[1]]).map((x) => normalizeAxis('tensordot', x, rb));
  } else {
    throw new ArgumentError('tensordot: axes must be an integer or a pair of axis lists');
  }
  if (axA.length !== axB.length) throw new ShapeError(`tensordot: ${axA.length} axes of a against ${axB.length} of b`);
  for (let i = 0; i < axA.length; i++) {
    if (na.shape[axA[i]] !== nb.shape[axB[i]]) {
      throw new ShapeError(`tensordot: axis ${axA[i]} of a (size ${na.shape[axA[i]]}) does not match axis ${axB[i]} of b (size ${nb.shape[axB[i]]})`);
    }
  }
  const freeA = [...Array(ra).keys()].filter((d) => !axA.includes(d));
  const freeB = [...Array(rb).keys()].filter((d) => !axB.includes(d));
  const size = (n: Node, ds: number[]): number => ds.reduce((p, d) => p * n.shape[d], 1);
  const A = reshape(transpose(MetalArray.fromNode(na), [...freeA, ...axA]), [size(na, freeA), size(na, axA)]);
  const B = reshape(transpose(MetalArray.fromNode(nb), [...axB, ...freeB]), [size(nb, axB), size(nb, freeB)]);
  return reshape(matmul(A, B), [...freeA.map((d) => na.shape[d]), ...freeB.map((d) => nb.shape[d])]);
}

// Differentiation rules

function swapLast(x: MetalArray): MetalArray {
  const r = x.ndim;
  return transpose(
    x,
    x.shape.map((_, d) => (d === r - 1 ? r - 2 : d === r - 2 ? r - 1 : d)),
  );
}

/** The batched product (inputs already share the batch shape): g·bᵀ and aᵀ·g; forward mode is bilinear. */
export const matmulRule: NodeRule = {
  vjp({ inputs: [a, b] }, g, wanted) {
    return [wanted[0] ? matmul(g, swapLast(b)) : null, wanted[1] ? matmul(swapLast(a), g) : null];
  },
  jvp({ inputs: [a, b] }, [ta, tb]) {
    const left = ta === null ? null : matmul(ta, b);
    const right = tb === null ? null : matmul(a, tb);
    if (left === null) return right as MetalArray;
    return right === null ? left : binary('add', left, right);
  },
};

// Batching rules

/**
 * Whether `x`'s dims before the last merge into one strided dim: true for a computed
 * node (contiguous once materialized) and for a leaf or a view of one whose strides
 * nest row-major, so the merged [rows, K] operand reads in place (no copy kernel).
 */
function rowsMerge(x: Node): boolean {
  let strides: readonly number[];
  if (x.kind === 'reshape') return false;
  if (x.kind === 'leaf') strides = x.strides as readonly number[];
  else if (x.kind === 'view') {
    const base = x.inputs[0] as Node;
    if (base.kind === 'reshape') return false;
    const baseStrides = base.kind === 'leaf' ? (base.strides as readonly number[]) : contiguousStrides(base.shape);
    const map = x.view as ViewMap;
    strides = map.inDim.map((j, d) => (j >= 0 ? (map.step[d] as number) * (baseStrides[j] as number) : 0));
  } else return true;
  let outer = -1;
  for (let d = x.shape.length - 2; d >= 0; d--) {
    const n = x.shape[d] as number;
    if (n === 1) continue;
    const st = strides[d] as number;
    if (outer >= 0 && st !== outer) return false;
    outer = st * n;
  }
  return true;
}

/**
 * vmap: the batch becomes one more leading batch dim of the product; an unbatched
 * operand is broadcast to it (a stride-0 view, so a shared weight is not copied). A
 * batched left operand times a shared matrix folds the batch into its rows instead:
 * [B·…·M, K] @ [K, N], one large product (a BLAS GEMM) rather than B small ones; the
 * reshapes are index math or strided reads, no copy.
 */
export const matmulBatching: Pick<BatchingTable, 'matmul'> = {
  matmul: (node, inputs, batched, size) => {
    const a = inputs[0] as Node;
    const b = inputs[1] as Node;
    if (batched[0] && !batched[1] && b.shape.length === 2 && rowsMerge(a)) {
      const k = a.shape[a.shape.length - 1] as number;
      const rows = k === 0 ? 0 : a.size / k;
      const product = matmulNode(reshapeNode(a, [rows, k]), b, node.dtype);
      return reshapeNode(product, [size, ...node.shape]);
    }
    return matmulNode(batchedInput(inputs, batched, 0, size), batchedInput(inputs, batched, 1, size), node.dtype);
  },
};
