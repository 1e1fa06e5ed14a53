/**
 * The elementwise op table: one row per op with its arity, dtype rule and cost, keyed
 * by the op vocabulary (vocabulary.ts). The rows are registered by the op blocks in
 * src/ops/elementwise-ops.ts; the renderers' expressions live in
 * src/codegen/op-expressions.ts.
 */
import { DTypeError } from '../errors.js';
import { DTYPE_NAMES, DTYPES, type DType } from './dtype.js';
import { floatResult, promoteTypes } from './promotion.js';
import type { ElementwiseOpName } from './vocabulary.js';

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

const table = new Map<string, ElementwiseOp>();

/**
 * Every elementwise op, by name (a Map: a keyed read of a 70-property object costs V8
 * several times a Map lookup). Filled by the op blocks of src/ops/elementwise-ops.ts.
 */
export const ELEMENTWISE: ReadonlyMap<string, ElementwiseOp> = table;

/** Registers an op's arity, dtype rule and cost (called once per op by its block in src/ops/). */
export function registerElementwiseOp(name: ElementwiseOpName, arity: 1 | 2, rule: DTypeRule, cost: number, rejects?: ElementwiseOp['rejects']): void {
  if (table.has(name)) throw new Error(`internal: elementwise op ${name} registered twice`);
  table.set(name, { name, arity, rule, cost, rejects, resolved: new Array<OpDTypes | undefined>(N * N).fill(undefined) });
}

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
