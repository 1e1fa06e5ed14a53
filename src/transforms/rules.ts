/**
 * The differentiation rule tables. The rules themselves live with the ops (each op
 * file's `// Differentiation rules` section, and the `derivative` field of every
 * elementwise op block); they are written with ops, so a backward pass is an ordinary
 * lazy graph. src/ops/differentiation.ts assembles them into one `RuleTable`, a mapped
 * type over the op vocabulary (src/core/vocabulary.ts), so `tsc` rejects a missing row.
 */
import { MetalArray } from '../array/array.js';
import { constNode } from '../core/build.js';
import type { ScatterOp } from '../core/build.js';
import type { DType } from '../core/dtype.js';
import type { NodeHistory } from '../core/node.js';
import type { ElementwiseOpName, NodeKind, ReduceOp, ScanOp } from '../core/vocabulary.js';
import { NotDifferentiableError } from '../errors.js';

/** What a rule reads of the node it differentiates: kind, op, attributes, shape and dtype. */
export type Primitive = Omit<NodeHistory, 'inputs'> & { readonly shape: readonly number[]; readonly dtype: DType; readonly backend: string };

/** A node as a rule sees it: the primitive, its inputs and its output, wrapped as arrays. */
export interface RuleArgs {
  readonly node: Primitive;
  readonly inputs: readonly MetalArray[];
  readonly output: MetalArray;
}

/**
 * A node's reverse- and forward-mode rules. `vjp` returns each input's cotangent (null
 * where `wanted[i]` is false or the input gets none); `jvp` gets null for an input with
 * a zero tangent and returns the output's tangent. Shapes and dtypes match the inputs
 * (or output); the walker checks.
 */
export interface NodeRule {
  vjp(args: RuleArgs, cotangent: MetalArray, wanted: readonly boolean[]): readonly (MetalArray | null)[];
  jvp(args: RuleArgs, tangents: readonly (MetalArray | null)[]): MetalArray;
}

/**
 * One elementwise op's partial derivatives, serving both modes: given the node's inputs
 * (broadcast to the output shape, the scalar of `x * 2` as a 0-d array) and its output,
 * the derivative of the output with respect to each input (a number for a constant
 * one: 1 passes the cotangent through untouched). `'zero'` marks an op whose
 * derivative is zero wherever it exists (floor, sign, comparisons: JAX's convention).
 */
export type Derivative = ((inputs: readonly MetalArray[], output: MetalArray) => readonly (MetalArray | number)[]) | 'zero';

/** A rule, or `'zero'` for an op whose output carries no gradient (integer or piecewise constant). */
export type RuleOrZero = NodeRule | 'zero';

/** The node kinds that carry one rule each (unary and binary nodes use their op's Derivative). */
export type RuledKind = Exclude<NodeKind, 'leaf' | 'const' | 'iota' | 'unary' | 'binary' | 'reduce' | 'scan' | 'scatter'>;

/** Every rule, typed over the vocabulary: a missing row fails `tsc`. */
export interface RuleTable {
  readonly elementwise: NodeRule;
  readonly kinds: { readonly [K in RuledKind]: NodeRule };
  readonly reduce: { readonly [K in ReduceOp]: RuleOrZero };
  readonly scan: { readonly [K in ScanOp]: RuleOrZero };
  readonly scatter: { readonly [K in ScatterOp]: RuleOrZero | { readonly noRule: string } };
}

const derivatives = new Map<ElementwiseOpName, Derivative>();
let table: RuleTable | null = null;

/** Registers an elementwise op's derivative (called by its block, src/ops/define-op.ts). */
export function registerDerivative(op: ElementwiseOpName, derivative: Derivative): void {
  derivatives.set(op, derivative);
}

/** The derivative of an elementwise op (undefined if its block registered none). */
export function derivativeOf(op: string): Derivative | undefined {
  return derivatives.get(op as ElementwiseOpName);
}

/** Installs the rule table (src/ops/differentiation.ts, once when the ops load). */
export function registerRules(rules: RuleTable): void {
  table = rules;
}

/** The elementwise op names that registered a derivative (the op-table test reads it). */
export function registeredDerivatives(): ElementwiseOpName[] {
  return [...derivatives.keys()];
}

/** The installed table (the op-table test reads it). */
export function ruleTable(): RuleTable | null {
  return table;
}

/** The rule of a node, `'zero'`, or NotDifferentiableError naming the op. */
export function ruleFor(node: Primitive, mode: string): RuleOrZero {
  if (table === null) throw new NotDifferentiableError(`${mode}: no differentiation rules are loaded (import the package through its index)`);
  switch (node.kind) {
    case 'unary':
    case 'binary':
      return table.elementwise;
    case 'reduce':
      return table.reduce[node.op as ReduceOp];
    case 'scan':
      return table.scan[node.op as ScanOp];
    case 'scatter': {
      const rule = table.scatter[node.op as ScatterOp];
      if (typeof rule === 'object' && 'noRule' in rule)
        throw new NotDifferentiableError(`${mode}: the ${node.op} scatter (at().${node.op}) has no derivative rule; ${rule.noRule}`);
      return rule;
    }
    case 'leaf':
    case 'const':
    case 'iota':
      return 'zero';
    default:
      return table.kinds[node.kind];
  }
}

/** A zero array shaped like `like` (a constant node: no memory until read), for a missing tangent. */
export function zeroLike(like: MetalArray): MetalArray {
  const n = like.liveNode('zeroLike');
  return MetalArray.fromNode(constNode(0, n.shape, n.dtype, n.backend));
}

/** The tangents with each null (zero) replaced by zeros shaped like the matching input. */
export function denseTangents(tangents: readonly (MetalArray | null)[], inputs: readonly MetalArray[]): MetalArray[] {
  return tangents.map((t, i) => t ?? zeroLike(inputs[i]));
}
