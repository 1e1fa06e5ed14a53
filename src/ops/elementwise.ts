/**
 * Elementwise ops: unary, binary, where, clip, astype. Each validates, infers dtype
 * and shape (NumPy broadcasting), and makes one node.
 */
import { checkArgCount } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import { ArgumentError, DTypeError, NotDifferentiableError } from '../errors.js';
import { castNode, constNode, elementwiseNode, scalarOpNode, whereNode } from '../core/build.js';
import { type NodeRule, type RuleArgs, derivativeOf, zeroLike } from '../transforms/rules.js';
import type { Node } from '../core/node.js';
import { castScalar } from '../core/scalar.js';
import { bfloatBitsToFloat, floatToBfloatBits, floatToHalfBits, halfBitsToFloat, scalarFor } from '../array/convert.js';
import { weakScalarDType } from '../core/promotion.js';
import { type DType, checkDType, isFloat as isFloatDType } from '../core/dtype.js';
import type { ClipOf, PromoteOf, WeakPromoteOf, WeakScalar } from '../core/dtype-types.js';
import { promoteTypes } from '../core/promotion.js';
import { ELEMENTWISE, type ElementwiseOp, opDTypes } from '../core/op-table.js';
import type { BinaryOp, UnaryOp } from '../core/vocabulary.js';
import { type ArrayLike, broadcastShapes, conform, isScalar, nodeOf, operandNodes } from './operand.js';

/** Applies a unary op from the table. */
export function unary(name: UnaryOp, x: ArrayLike): MetalArray {
  const op = ELEMENTWISE.get(name) as ElementwiseOp;
  const [n] = operandNodes(name, [x]);
  const { compute, result } = opDTypes(op, n.dtype);
  return MetalArray.fromNode(elementwiseNode(name, [castNode(n, compute)], n.shape, result));
}

/** Applies a binary op from the table, with broadcasting and promotion. */
export function binary(name: BinaryOp, a: ArrayLike, b: ArrayLike): MetalArray {
  const op = ELEMENTWISE.get(name) as ElementwiseOp;
  // Fast path for `array op scalar`: the weak scalar becomes one constant of the result shape.
  if (a instanceof MetalArray && isScalar(b)) return arrayScalar(op, a.liveNode(name), b, false);
  if (b instanceof MetalArray && isScalar(a)) return arrayScalar(op, b.liveNode(name), a, true);
  const [na, nb] = operandNodes(name, [a, b]);
  const { compute, result } = opDTypes(op, na.dtype, nb.dtype);
  const shape = broadcastShapes(name, [na.shape, nb.shape]);
  return MetalArray.fromNode(elementwiseNode(name, conform([na, nb], compute, shape), shape, result));
}

function arrayScalar(op: ElementwiseOp, n: Node, s: number | boolean | bigint, scalarFirst: boolean): MetalArray {
  const sd = weakScalarDType(n.dtype, s);
  const { compute, result } = opDTypes(op, n.dtype, sd);
  const x = castNode(n, compute);
  // The weak scalar takes the array's dtype first (1e-8 in float16 is 0), then the op's
  // compute dtype: a float16 value cast to bool must see the rounded value.
  const raw = scalarFor(s, sd);
  const held = typeof raw === 'number' ? roundToFloatDType(raw, sd) : raw;
  const value = compute === sd ? held : castScalar(held, sd, compute);
  return MetalArray.fromNode(scalarOpNode(op.name, x, value, scalarFirst, result));
}

/** A JS number rounded to a float dtype's precision (unchanged for other dtypes). */
function roundToFloatDType(v: number, dtype: DType): number {
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'float16') return halfBitsToFloat(floatToHalfBits(v));
  if (dtype === 'bfloat16') return bfloatBitsToFloat(floatToBfloatBits(v));
  return v;
}

/**
 * The indices of the non-zero elements of `cond`, one int32 array per axis (NumPy's one-argument where; evaluates now).
 *
 * @example
 * ```ts
 * const x = ma.array([-1, 2, -3]);
 * console.log(ma.where(ma.greater(x, 0), x, 0).tolist()); // [ 0, 2, 0 ]
 * console.log(ma.where(ma.array([0, 1, 1])).map((i) => i.tolist())); // [ [ 1, 2 ] ]
 * ```
 */
export function where(cond: MetalArray): MetalArray[];
/** `cond ? a : b` elementwise, broadcasting all three; result dtype promote(a, b). */
export function where<A extends DType, B extends DType>(cond: ArrayLike, a: MetalArray<A>, b: MetalArray<B>): MetalArray<PromoteOf<A, B>>;
/** `cond ? a : b` with a JS scalar on one side: it promotes weakly, as in binary ops. */
export function where<A extends DType, S extends WeakScalar>(cond: ArrayLike, a: MetalArray<A>, b: S): MetalArray<WeakPromoteOf<A, S>>;
/** `cond ? a : b` with a JS scalar on one side: it promotes weakly, as in binary ops. */
export function where<S extends WeakScalar, B extends DType>(cond: ArrayLike, a: S, b: MetalArray<B>): MetalArray<WeakPromoteOf<B, S>>;
/** `cond ? a : b` elementwise, broadcasting all three; result dtype promote(a, b). */
export function where(cond: ArrayLike, a: ArrayLike, b: ArrayLike): MetalArray;
export function where(cond: ArrayLike, a?: ArrayLike, b?: ArrayLike): MetalArray | MetalArray[] {
  checkArgCount('where', arguments.length, 3, 'where(cond, a, b)');
  if (a === undefined && b === undefined) {
    if (!(cond instanceof MetalArray)) throw new ArgumentError('where: with one argument, the condition must be a MetalArray');
    return cond.nonzero();
  }
  if (a === undefined || b === undefined) throw new ArgumentError('where: needs one argument (the condition) or three');
  // All three checked together (liveness, backends); the condition's dtype must not
  // steer the weak scalars' dtype, so the values are resolved on their own.
  const [nc] = operandNodes('where', [cond, a, b]);
  const [wa, wb] = operandNodes('where', [a, b]);
  const dtype = promoteTypes(wa.dtype, wb.dtype);
  const shape = broadcastShapes('where', [nc.shape, wa.shape, wb.shape]);
  const [c] = conform([nc], 'bool', shape);
  const [x, y] = conform([wa, wb], dtype, shape);
  return MetalArray.fromNode(whereNode(c, x, y, shape));
}

/**
 * Limits values to [lo, hi]; `null` leaves a side open (JS scalar bounds promote weakly).
 *
 * @example
 * ```ts
 * console.log(ma.clip(ma.array([-2, 0.5, 3], 'float32'), 0, 1).tolist()); // [ 0, 0.5, 1 ]
 * console.log(ma.clip(ma.array([-2, 5]), 0, null).tolist()); // [ 0, 5 ]
 * ```
 */
export function clip<D extends DType, L extends WeakScalar | null, H extends WeakScalar | null>(a: MetalArray<D>, lo: L, hi: H): MetalArray<ClipOf<D, L, H>>;
/** Limits values to [lo, hi]; `null` leaves a side open. */
export function clip(a: ArrayLike, lo: ArrayLike | null, hi: ArrayLike | null): MetalArray;
export function clip(a: ArrayLike, lo: ArrayLike | null, hi: ArrayLike | null): MetalArray {
  checkArgCount('clip', arguments.length, 3, 'clip(a, lo, hi)');
  let out = a instanceof MetalArray ? a : MetalArray.fromNode(operandNodes('clip', [a])[0]);
  if (lo !== null && lo !== undefined) out = binary('maximum', out, lo);
  if (hi !== null && hi !== undefined) out = binary('minimum', out, hi);
  return out === a ? MetalArray.fromNode(nodeOf(a as MetalArray, 'clip')) : out;
}

/**
 * Converts to `dtype` (float → int truncates, NaN → 0, saturates; see docs/semantics.md).
 *
 * @example
 * ```ts
 * const h = ma.astype(ma.array([1.5, 2.5]), 'float16'); // MetalArray<'float16'>
 * ```
 */
export function astype<T extends DType>(a: ArrayLike, dtype: T): MetalArray<T> {
  checkArgCount('astype', arguments.length, 2, 'astype(a, dtype)');
  const d = checkDType(dtype, 'astype');
  const [n] = operandNodes('astype', [a]);
  if (d === 'float64' && n.backend === 'metal') throw new DTypeError('astype: float64 is not supported on the metal backend');
  return MetalArray.fromNode<T>(castNode(n, d));
}

// Differentiation rules

/** The node's operands as its derivative sees them: a folded scalar (`x * 2`) back as a 0-d array. */
function operandsOf(args: RuleArgs): MetalArray[] {
  const { node, inputs } = args;
  if (node.kind !== 'binary' || node.scalarSide < 0) return inputs.slice();
  const x = inputs[0];
  const scalar = MetalArray.fromNode(constNode(node.value, [], x.dtype, node.backend));
  return node.scalarSide === 0 ? [x, scalar] : [scalar, x];
}

/** `g * d` for a partial derivative `d` (a number 1 or -1 costs nothing). */
function scaled(g: MetalArray, d: MetalArray | number): MetalArray {
  if (d === 1) return g;
  if (d === -1) return unary('negative', g);
  return binary('multiply', g, d);
}

/** The shared rule of every unary and binary node: its op's Derivative, in both modes. */
export const elementwiseRule: NodeRule = {
  vjp(args, cotangent, wanted) {
    const d = derivativeOf(args.node.op);
    if (d === undefined) throw new NotDifferentiableError(`vjp: the elementwise op ${args.node.op} has no derivative`);
    if (d === 'zero') return wanted.map(() => null);
    const parts = d(operandsOf(args), args.output);
    const side = args.node.scalarSide;
    // With a folded scalar the node has one input: the array operand.
    if (args.node.kind === 'binary' && side >= 0) return [scaled(cotangent, parts[side === 0 ? 0 : 1])];
    return parts.map((p, i) => (wanted[i] ? scaled(cotangent, p) : null));
  },
  jvp(args, tangents) {
    const d = derivativeOf(args.node.op);
    if (d === undefined) throw new NotDifferentiableError(`jvp: the elementwise op ${args.node.op} has no derivative`);
    if (d === 'zero') return zeroLike(args.output);
    const parts = d(operandsOf(args), args.output);
    const side = args.node.scalarSide;
    const ts = args.node.kind === 'binary' && side >= 0 ? (side === 0 ? [tangents[0], null] : [null, tangents[0]]) : tangents;
    let sum: MetalArray | null = null;
    ts.forEach((t, i) => {
      if (t === null) return;
      const term = scaled(t, parts[i]);
      sum = sum === null ? term : binary('add', sum, term);
    });
    return sum ?? zeroLike(args.output);
  },
};

/** where(cond, a, b): the cotangent goes to the branch each element took. */
export const whereRule: NodeRule = {
  vjp({ inputs }, g, wanted) {
    const cond = inputs[0];
    return [null, wanted[1] ? where(cond, g, 0) : null, wanted[2] ? where(cond, 0, g) : null];
  },
  jvp({ inputs }, [, ta, tb]) {
    return where(inputs[0], ta ?? 0, tb ?? zeroLike(inputs[2]));
  },
};

/** A cast: float to float passes the derivative through (cast back); integer or bool inputs get none. */
export const castRule: NodeRule = {
  vjp({ inputs }, g) {
    const x = inputs[0];
    return [isFloatDType(x.dtype) ? astype(g, x.dtype) : null];
  },
  jvp({ node }, [t]) {
    return astype(t as MetalArray, node.dtype);
  },
};
