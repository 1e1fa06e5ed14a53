/**
 * The elementwise op table: one row per op with its arity, dtype rule and cost.
 * Renderers hold the matching per-language expression tables (src/codegen/*).
 */
import { DTypeError } from '../errors.js';
import { DTYPE_NAMES, DTYPES, type DType } from './dtype.js';
import { floatResult, promoteTypes } from './promotion.js';

/**
 * How an op picks dtypes: `compute` is the dtype its inputs are converted to, `result`
 * the dtype it produces. Each rule throws DTypeError for inputs it does not accept.
 */
export type DTypeRule =
  | 'arith' // promote; bool stays bool
  | 'arithNoBool' // promote; bool rejected
  | 'float' // promote; integers compute in float32
  | 'intDiv' // promote; two bools compute in int8
  | 'compare' // promote; result bool
  | 'logical' // inputs by truthiness; result bool
  | 'bitwise' // integers and bool only
  | 'shift' // integers only
  | 'same' // unary: keeps the dtype
  | 'predicate'; // unary: result bool

/** One op of the table. */
export interface ElementwiseOp {
  readonly name: string;
  readonly arity: 1 | 2;
  readonly rule: DTypeRule;
  /** Rough per-element cost in "simple ALU op" units, used by the fusion cost rule. */
  readonly cost: number;
  /** Dtype kinds the op rejects (beyond what the rule rejects). */
  readonly rejects?: readonly ('bool' | 'int' | 'uint' | 'float')[];
  /** opDTypes' answers by input dtype ids (a * dtype count + b), filled on first use. */
  readonly resolved: (OpDTypes | undefined)[];
}

const N = DTYPE_NAMES.length;
const CHEAP = 1;
const DIV = 4;
const TRANSCENDENTAL = 12;

function op(name: string, arity: 1 | 2, rule: DTypeRule, cost: number, rejects?: ElementwiseOp['rejects']): ElementwiseOp {
  return { name, arity, rule, cost, rejects, resolved: new Array<OpDTypes | undefined>(N * N).fill(undefined) };
}

/** Every elementwise op, by name (a Map: a keyed read of a 70-property object costs V8 several times a Map lookup). */
export const ELEMENTWISE: ReadonlyMap<string, ElementwiseOp> = new Map(
  [
    // unary
    op('negative', 1, 'same', CHEAP, ['bool']),
    op('abs', 1, 'same', CHEAP, ['bool']),
    op('sign', 1, 'same', CHEAP, ['bool']),
    op('square', 1, 'same', CHEAP),
    op('relu', 1, 'same', CHEAP),
    op('floor', 1, 'same', CHEAP),
    op('ceil', 1, 'same', CHEAP),
    op('round', 1, 'same', CHEAP),
    op('trunc', 1, 'same', CHEAP),
    op('sqrt', 1, 'float', DIV),
    op('rsqrt', 1, 'float', DIV),
    op('reciprocal', 1, 'float', DIV),
    op('exp', 1, 'float', TRANSCENDENTAL),
    op('exp2', 1, 'float', TRANSCENDENTAL),
    op('expm1', 1, 'float', TRANSCENDENTAL),
    op('log', 1, 'float', TRANSCENDENTAL),
    op('log2', 1, 'float', TRANSCENDENTAL),
    op('log10', 1, 'float', TRANSCENDENTAL),
    op('log1p', 1, 'float', TRANSCENDENTAL),
    op('sin', 1, 'float', TRANSCENDENTAL),
    op('cos', 1, 'float', TRANSCENDENTAL),
    op('tan', 1, 'float', TRANSCENDENTAL),
    op('arcsin', 1, 'float', TRANSCENDENTAL),
    op('arccos', 1, 'float', TRANSCENDENTAL),
    op('arctan', 1, 'float', TRANSCENDENTAL),
    op('sinh', 1, 'float', TRANSCENDENTAL),
    op('cosh', 1, 'float', TRANSCENDENTAL),
    op('tanh', 1, 'float', TRANSCENDENTAL),
    op('arcsinh', 1, 'float', TRANSCENDENTAL),
    op('arccosh', 1, 'float', TRANSCENDENTAL),
    op('arctanh', 1, 'float', TRANSCENDENTAL),
    op('erf', 1, 'float', TRANSCENDENTAL),
    op('erfinv', 1, 'float', TRANSCENDENTAL),
    op('sigmoid', 1, 'float', TRANSCENDENTAL),
    op('gelu', 1, 'float', TRANSCENDENTAL),
    op('silu', 1, 'float', TRANSCENDENTAL),
    op('copy', 1, 'same', 0), // internal: materializes a strided view contiguously
    op('isnan', 1, 'predicate', CHEAP),
    op('isinf', 1, 'predicate', CHEAP),
    op('isfinite', 1, 'predicate', CHEAP),
    op('logicalNot', 1, 'logical', CHEAP),
    op('bitwiseNot', 1, 'bitwise', CHEAP),
    // binary
    op('add', 2, 'arith', CHEAP),
    op('subtract', 2, 'arithNoBool', CHEAP),
    op('multiply', 2, 'arith', CHEAP),
    op('divide', 2, 'float', DIV),
    op('floorDivide', 2, 'intDiv', DIV),
    op('remainder', 2, 'intDiv', DIV),
    op('power', 2, 'intDiv', TRANSCENDENTAL),
    op('maximum', 2, 'arith', CHEAP),
    op('minimum', 2, 'arith', CHEAP),
    op('arctan2', 2, 'float', TRANSCENDENTAL),
    op('logaddexp', 2, 'float', TRANSCENDENTAL),
    op('equal', 2, 'compare', CHEAP),
    op('notEqual', 2, 'compare', CHEAP),
    op('less', 2, 'compare', CHEAP),
    op('lessEqual', 2, 'compare', CHEAP),
    op('greater', 2, 'compare', CHEAP),
    op('greaterEqual', 2, 'compare', CHEAP),
    op('logicalAnd', 2, 'logical', CHEAP),
    op('logicalOr', 2, 'logical', CHEAP),
    op('logicalXor', 2, 'logical', CHEAP),
    op('bitwiseAnd', 2, 'bitwise', CHEAP),
    op('bitwiseOr', 2, 'bitwise', CHEAP),
    op('bitwiseXor', 2, 'bitwise', CHEAP),
    op('leftShift', 2, 'shift', CHEAP),
    op('rightShift', 2, 'shift', CHEAP),
  ].map((o) => [o.name, o]),
);

/** Names of the unary ops, in table order. */
export const UNARY_OPS: readonly string[] = [...ELEMENTWISE.values()].filter((o) => o.arity === 1 && o.name !== 'copy').map((o) => o.name);
/** Names of the binary ops, in table order. */
export const BINARY_OPS: readonly string[] = [...ELEMENTWISE.values()].filter((o) => o.arity === 2).map((o) => o.name);

function rejectDTypes(o: ElementwiseOp, why: string, a: DType, b: DType): never {
  throw new DTypeError(`${o.name}: ${why} (got ${o.arity === 1 ? a : `${a} and ${b}`})`);
}

/** An op's compute and result dtypes. */
export interface OpDTypes {
  readonly compute: DType;
  readonly result: DType;
}

/** The compute and result dtypes of an op for the given input dtypes (DTypeError if it rejects them). */
export function opDTypes(o: ElementwiseOp, a: DType, b: DType = a): OpDTypes {
  // Memoized: ops are built once per step of a user's loop, and the rules are many
  // lookups and branches. Rejections are not stored; they throw each time.
  const i = DTYPES[a].id * N + DTYPES[b].id;
  let r = o.resolved[i];
  if (r === undefined) {
    r = Object.freeze(applyRule(o, a, b));
    o.resolved[i] = r;
  }
  return r;
}

function applyRule(o: ElementwiseOp, a: DType, b: DType): OpDTypes {
  const promoted = promoteTypes(a, b);
  const kind = DTYPES[promoted].kind;
  const reject = (why: string): never => rejectDTypes(o, why, a, b);
  if (o.rejects?.includes(kind)) reject(`does not accept ${kind} inputs`);
  switch (o.rule) {
    case 'arith':
    case 'same':
      return { compute: promoted, result: promoted };
    case 'arithNoBool':
      if (kind === 'bool') reject('does not accept bool inputs; use logicalXor or logicalNot');
      return { compute: promoted, result: promoted };
    case 'float': {
      const f = floatResult(promoted);
      return { compute: f, result: f };
    }
    case 'intDiv': {
      const d = kind === 'bool' ? 'int8' : promoted;
      return { compute: d, result: d };
    }
    case 'compare':
    case 'predicate':
      return { compute: promoted, result: 'bool' };
    case 'logical':
      return { compute: 'bool', result: 'bool' };
    case 'bitwise':
      if (kind === 'float') reject('needs integer or bool inputs');
      return { compute: promoted, result: promoted };
    case 'shift':
      if (kind === 'float' || kind === 'bool') reject('needs integer inputs');
      return { compute: promoted, result: promoted };
  }
}
