/**
 * Turning op arguments (MetalArrays or JS scalars) into nodes, and NumPy broadcasting.
 */
import { MetalArray } from '../array/array.js';
import { scalarFor } from '../array/convert.js';
import { scalarDefaultDType, weakScalarDType } from '../core/promotion.js';
import { defaultBackend } from '../array/context.js';
import { ArgumentError, BackendMismatchError, ShapeError, formatValue } from '../errors.js';
import { castNode, constNode, viewNode } from '../core/build.js';
import type { DType } from '../core/dtype.js';
import type { Node } from '../core/node.js';

/** What every op accepts where an array goes: an array or a JS scalar. */
export type ArrayLike = MetalArray | number | boolean | bigint;

/** True for a JS scalar operand. */
export function isScalar(x: unknown): x is number | boolean | bigint {
  return typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint';
}

/** The node of an array operand (checks it is live). */
export function nodeOf(x: MetalArray, op: string): Node {
  if (!(x instanceof MetalArray)) {
    throw new ArgumentError(`${op}: expected a MetalArray or a number, got ${describe(x)}`);
  }
  return x.liveNode(op);
}

/** A short description of a bad argument for error messages. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'a JS array (wrap it with ma.array)';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object';
  return typeof x;
}

/**
 * Nodes for the operands of an n-ary op. JS scalars become weakly typed constants that
 * take the dtype of the arrays around them (see docs/semantics.md).
 */
export function operandNodes(op: string, xs: readonly ArrayLike[]): Node[] {
  let arrayDType: DType | undefined;
  let backend: string | undefined;
  for (const x of xs) {
    if (isScalar(x)) continue;
    const n = nodeOf(x as MetalArray, op);
    if (backend !== undefined && n.backend !== backend) {
      throw new BackendMismatchError(`${op}: operands live on different backends (${backend} and ${n.backend}); move one with .to('${backend}')`);
    }
    backend = n.backend;
    arrayDType = arrayDType === undefined ? n.dtype : arrayDType;
  }
  const be = backend ?? defaultBackend();
  return xs.map((x) => {
    if (!isScalar(x)) return (x as MetalArray).liveNode(op);
    const dtype = arrayDType === undefined ? scalarDefaultDType(x) : weakScalarDType(arrayDType, x);
    return constNode(scalarFor(x, dtype), [], dtype, be);
  });
}

/** The broadcast shape of several shapes, or a ShapeError naming the op and shapes. */
export function broadcastShapes(op: string, shapes: readonly (readonly number[])[]): number[] {
  let rank = 0;
  for (const s of shapes) rank = Math.max(rank, s.length);
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i];
      const o = out[off + i];
      if (d === o || d === 1) continue;
      if (o === 1) out[off + i] = d;
      else throw new ShapeError(`${op}: shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')} cannot be broadcast together`);
    }
  }
  return out;
}

/** A view of `n` broadcast to `shape` (which must be compatible). */
export function broadcastNode(n: Node, shape: readonly number[]): Node {
  const r = shape.length;
  const off = r - n.shape.length;
  if (off === 0 && n.shape.every((d, i) => d === shape[i])) return n;
  const inDim: number[] = [];
  const step: number[] = [];
  for (let d = 0; d < r; d++) {
    const j = d - off;
    if (j < 0 || (n.shape[j] === 1 && shape[d] !== 1)) {
      inDim.push(-1);
      step.push(0);
    } else {
      inDim.push(j);
      step.push(1);
    }
  }
  return viewNode(n, { inDim, step, start: new Array<number>(n.shape.length).fill(0) }, shape);
}

/** Casts and broadcasts operand nodes to a common dtype and shape. */
export function conform(nodes: readonly Node[], dtype: DType, shape: readonly number[]): Node[] {
  return nodes.map((n) => broadcastNode(castNode(n, dtype), shape));
}

/** Normalizes an axis (negative counts from the end) or throws ShapeError. */
/** A user's axis argument (one axis or an array of axes) as a list; ArgumentError for anything else. */
export function axisList(op: string, axis: unknown): unknown[] {
  if (typeof axis === 'number') return [axis];
  if (Array.isArray(axis)) return [...axis];
  throw new ArgumentError(`${op}: axis must be an integer or an array of integers, got ${formatValue(axis)}`);
}

export function normalizeAxis(op: string, axis: unknown, rank: number): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis)) throw new ShapeError(`${op}: axis must be an integer, got ${formatValue(axis)}`);
  if (axis < -rank || axis >= rank) throw new ShapeError(`${op}: axis ${axis} is out of bounds for an array of rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}
