/**
 * How an elementwise op block (src/ops/elementwise-ops.ts) registers itself: its dtype
 * rule and cost into the op table of src/core/op-table.ts, its expressions into the
 * renderers' tables of src/codegen/op-expressions.ts, and it gets back its function.
 */
import type { MetalArray } from '../array/array.js';
import type { DType } from '../core/dtype.js';
import type { PromoteOf, RuleResultOf, WeakPromoteOf, WeakScalar } from '../core/dtype-types.js';
import { type DTypeRule, registerElementwiseOp } from '../core/op-table.js';
import type { BinaryOp, ElementwiseOpName, UnaryOp } from '../core/vocabulary.js';
import { type OpRow, registerOpExpressions } from '../codegen/op-expressions.js';
import { type Derivative, registerDerivative } from '../transforms/rules.js';
import { binary, unary } from './elementwise.js';
import type { ArrayLike } from './operand.js';

/** Per-element costs in "simple ALU op" units, for the fusion cost rule. */
export const CHEAP = 1;
export const DIV = 4;
export const TRANSCENDENTAL = 12;

/** What an op block states besides its function: rule, cost, and the C-family expressions. */
export type OpDefinition<R extends DTypeRule = DTypeRule> = {
  readonly rule: R;
  /** Rough per-element cost in "simple ALU op" units, used by the fusion cost rule. */
  readonly cost: number;
  /**
   * The partial derivatives (src/transforms/rules.ts), serving grad, vjp and jvp;
   * `'zero'` for a piecewise-constant op or one with an integer or bool result.
   */
  readonly derivative: Derivative;
  /** Dtype kinds the op rejects (beyond what the rule rejects). */
  readonly rejects?: readonly ('bool' | 'int' | 'uint' | 'float')[];
} & (
  | {
      /** The C dialect's row (cpu). */
      readonly c: OpRow;
      /** The GPU dialects' row (CUDA and MSL; `@fn(` and `%fn(` are resolved per dialect). */
      readonly gpu: OpRow;
    }
  | {
      /** One row for every dialect. */
      readonly both: OpRow;
    }
);

function register(name: ElementwiseOpName, arity: 1 | 2, def: OpDefinition): void {
  registerElementwiseOp(name, arity, def.rule, def.cost, def.rejects);
  registerDerivative(name, def.derivative);
  if ('both' in def) registerOpExpressions(name, def.both, def.both);
  else registerOpExpressions(name, def.c, def.gpu);
}

/**
 * Registers a unary op and returns its function.
 *
 * @example
 * ```ts
 * export const tanh = unaryOp('tanh', { rule: 'float', cost: TRANSCENDENTAL, derivative: ([x], out) => [subtract(1, square(out))], c: { f: 'ma_tanhf($0)', d: 'tanh($0)' }, gpu: { float: '@tanh($0)' } });
 * ```
 */
export function unaryOp<R extends DTypeRule>(name: UnaryOp, def: OpDefinition<R>): UnaryFunction<R> {
  register(name, 1, def);
  // The rule decides the result dtype at run time; the type states the same rule.
  return ((x: ArrayLike): MetalArray => unary(name, x)) as UnaryFunction<R>;
}

/**
 * The type of a unary op's function: the result dtype follows the op's rule (`'same'`
 * keeps the dtype, `'float'` gives the float dtype, `'predicate'` gives bool); an
 * operand of unknown dtype (a JS value) gives `DType`.
 */
export interface UnaryFunction<R extends DTypeRule> {
  <D extends DType>(x: MetalArray<D>): MetalArray<RuleResultOf<R, D>>;
  (x: ArrayLike): MetalArray;
}

/**
 * The type of a binary op's function: two arrays of one dtype keep it through the rule
 * (`'arith'` keeps it, `'compare'` gives bool...); an array and a JS scalar promote
 * weakly (`int32 * 2` stays int32; `int32 * 0.5` is float32); other mixes give `DType`.
 */
export interface BinaryFunction<R extends DTypeRule> {
  <A extends DType, B extends DType>(a: MetalArray<A>, b: MetalArray<B>): MetalArray<RuleResultOf<R, PromoteOf<A, B>>>;
  <A extends DType, S extends WeakScalar>(a: MetalArray<A>, b: S): MetalArray<RuleResultOf<R, WeakPromoteOf<A, S>>>;
  <S extends WeakScalar, B extends DType>(a: S, b: MetalArray<B>): MetalArray<RuleResultOf<R, WeakPromoteOf<B, S>>>;
  (a: ArrayLike, b: ArrayLike): MetalArray;
}

/**
 * Registers a binary op and returns its function (broadcasting, promotion, weak scalars).
 *
 * @example
 * ```ts
 * export const add = binaryOp('add', { rule: 'arith', cost: CHEAP, derivative: () => [1, 1], both: { int: '(T)((W)$0 + (W)$1)', float: '($0 + $1)' } });
 * ```
 */
export function binaryOp<R extends DTypeRule>(name: BinaryOp, def: OpDefinition<R>): BinaryFunction<R> {
  register(name, 2, def);
  return ((a: ArrayLike, b: ArrayLike): MetalArray => binary(name, a, b)) as BinaryFunction<R>;
}

/** Registers an op the library uses internally (no public function): `copy`. */
export function defineInternalOp(name: 'copy', def: OpDefinition & { readonly arity: 1 }): void {
  register(name, def.arity, def);
}
