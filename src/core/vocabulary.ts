/**
 * The op vocabulary: every op name the graph can hold, as literal union types. Per-op
 * tables (the dtype rules and costs in op-table.ts, the renderers' expressions in
 * src/codegen/op-expressions.ts, and soon the VJP, JVP and batching rules) are mapped
 * types over these unions, so `tsc` rejects a table with a missing row. The ops
 * themselves (their forward, rule, cost and expressions) live in src/ops/, which
 * registers them into those tables.
 *
 * Adding an elementwise op: add its name here, write its block in
 * src/ops/elementwise-ops.ts, test it (docs/adding-an-op.md).
 */

/** The unary elementwise ops, in table order (the render corpus iterates this order). */
export const UNARY_OPS = [
  'negative',
  'abs',
  'sign',
  'square',
  'relu',
  'floor',
  'ceil',
  'round',
  'trunc',
  'sqrt',
  'rsqrt',
  'reciprocal',
  'exp',
  'exp2',
  'expm1',
  'log',
  'log2',
  'log10',
  'log1p',
  'sin',
  'cos',
  'tan',
  'arcsin',
  'arccos',
  'arctan',
  'sinh',
  'cosh',
  'tanh',
  'arcsinh',
  'arccosh',
  'arctanh',
  'erf',
  'erfinv',
  'sigmoid',
  'gelu',
  'silu',
  'isnan',
  'isinf',
  'isfinite',
  'logicalNot',
  'bitwiseNot',
  'cbrt',
  'signbit',
] as const;

/** The binary elementwise ops, in table order. */
export const BINARY_OPS = [
  'add',
  'subtract',
  'multiply',
  'divide',
  'floorDivide',
  'remainder',
  'power',
  'maximum',
  'minimum',
  'arctan2',
  'logaddexp',
  'equal',
  'notEqual',
  'less',
  'lessEqual',
  'greater',
  'greaterEqual',
  'logicalAnd',
  'logicalOr',
  'logicalXor',
  'bitwiseAnd',
  'bitwiseOr',
  'bitwiseXor',
  'leftShift',
  'rightShift',
  'copysign',
  'hypot',
  'fmod',
] as const;

/** A unary elementwise op. */
export type UnaryOp = (typeof UNARY_OPS)[number];
/** A binary elementwise op. */
export type BinaryOp = (typeof BINARY_OPS)[number];
/** Every elementwise op: the public ones and `copy` (internal: materializes a strided view). */
export type ElementwiseOpName = UnaryOp | BinaryOp | 'copy';

/** What a node does. Movement ops are views: index math in the consumer's kernel. */
export type NodeKind =
  | 'leaf'
  | 'const'
  | 'iota'
  | 'unary'
  | 'binary'
  | 'where'
  | 'cast'
  | 'view'
  | 'reshape'
  | 'concat'
  | 'reduce'
  | 'matmul'
  | 'scan'
  | 'gather'
  | 'scatter';

/** Scans (along the last axis): the node's `op` is one of these. */
export type ScanOp = 'cumsum' | 'cumprod' | 'cummax' | 'cummin' | 'sort' | 'argsort';

/** Reductions: the node's `op` is one of these and `axes` lists the input dims reduced. */
export type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin' | 'any' | 'all';
