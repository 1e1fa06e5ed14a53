/**
 * The kernel IR: a backend-neutral, shape-independent description of one kernel.
 *
 * A gated load (concatenation, padding) reads only where its gate, a bool SSA value,
 * holds; each gate clause is its own statement so clauses over outer dims hoist.
 *
 * Sizes, strides, offsets and constant values are argument slots (int64 words in the
 * args block), never literals, so one source serves every size of the same rank and
 * layout class. Word 0 of the args is the work count, word 1 the grain (see
 * src/runtime/native.ts), words 2.. the output dims.
 */
import type { DType } from '../core/dtype.js';
import type { ReduceOp } from '../core/node.js';

/**
 * A reference to a loop variable (collapsed output dim), a computed index (the id of an
 * rvar statement, reshape-derived, or of a gidx statement, data-dependent) or a
 * reduction loop variable (numbered per kernel).
 */
export type IndexVar = { readonly dim: number } | { readonly rvar: number } | { readonly loop: number };

/** One term of an index: var * coefficient, where the coefficient is an arg or 1. */
export interface IndexTerm {
  readonly v: IndexVar;
  /** Arg slot of the coefficient, or 'unit' for 1. */
  readonly coef: number | 'unit';
}

/** base + Σ terms; base is an arg slot or -1 for none. */
export interface IndexExpr {
  readonly base: number;
  readonly terms: readonly IndexTerm[];
}

/** lo <= index < hi; lo and hi are arg slots. */
export interface GateClause {
  readonly index: IndexExpr;
  readonly lo: number;
  readonly hi: number;
}

/** A statement. Value statements have an `id` (their SSA name). */
export type Stmt =
  | { readonly k: 'rvar'; readonly id: number; readonly linear: IndexExpr; readonly div: number; readonly mod: number }
  | { readonly k: 'load'; readonly id: number; readonly buf: number; readonly dtype: DType; readonly index: IndexExpr; readonly gate: number | null }
  | { readonly k: 'arg'; readonly id: number; readonly dtype: DType; readonly slot: number }
  /** A data-dependent index: the integer value `src` wrapped once if negative and clamped to [0, a[size]). */
  | { readonly k: 'gidx'; readonly id: number; readonly src: number; readonly size: number }
  /** An index expression's value as an integer of `dtype` (an iota node: the element's linear index). */
  | { readonly k: 'index'; readonly id: number; readonly dtype: DType; readonly index: IndexExpr }
  | { readonly k: 'alu'; readonly id: number; readonly op: string; readonly dtype: DType; readonly result: DType; readonly srcs: readonly number[] }
  | { readonly k: 'cast'; readonly id: number; readonly from: DType; readonly to: DType; readonly src: number }
  | { readonly k: 'where'; readonly id: number; readonly dtype: DType; readonly srcs: readonly [number, number, number] }
  | { readonly k: 'gate'; readonly id: number; readonly clause: GateClause }
  | { readonly k: 'mm'; readonly id: number; readonly dtype: DType }
  | ReduceStmt;

/** A strided operand of a matrix product: arg slots of its offset and strides. */
export interface MatmulOperand {
  readonly buf: number;
  readonly offset: number;
  /** One stride slot per batch dim, then the two matrix dims. */
  readonly strides: readonly number[];
}

/**
 * The matrix product of a 'matmul' kernel: out[..., i, j] = Σ_k A[..., i, k] B[..., k, j],
 * evaluated a block of `rowBlock` rows at a time (the kernel's work items are row blocks
 * of every batch). The kernel's statements are the epilogue, run per output element;
 * its 'mm' statement is the product's value there.
 */
export interface MatmulSpec {
  readonly a: MatmulOperand;
  readonly b: MatmulOperand;
  /** Dtype of the operands (and of the product before the epilogue). */
  readonly dtype: DType;
  readonly batchRank: number;
  /** Arg slots: batch dims, then M, N, K. */
  readonly batchDims: readonly number[];
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly rowBlock: number;
  /**
   * 'tf32': a float32 product may use TensorFloat-32 tensor cores (setMatmulPrecision);
   * 'highest' (or absent): exact float32.
   */
  readonly precision?: 'highest' | 'tf32';
}

/**
 * A reduction: loops over `loops` (outermost first; sizes are arg slots), evaluates
 * `body` at each point and folds the body's `value` into an accumulator. Statements of
 * the body read only values defined before the reduce or inside the body.
 */
export interface ReduceStmt {
  readonly k: 'reduce';
  readonly id: number;
  readonly op: ReduceOp;
  /** Dtype of the values folded. */
  readonly dtype: DType;
  /** Dtype of the result. */
  readonly result: DType;
  readonly loops: readonly { readonly loop: number; readonly size: number }[];
  readonly body: readonly Stmt[];
  readonly value: number;
  /** Whether the body reads any output loop dim (if not, one value serves the chunk). */
  readonly usesDims: boolean;
}

/** Kernel kinds the scheduler makes (reductions and matmul join later). */
export type KernelKind = 'elementwise' | 'reduce' | 'matmul' | 'scan' | 'sort' | 'scatter';

/** Rows of the output one matmul work item computes. */
export const MATMUL_ROW_BLOCK = 4;

/** A kernel, ready for a renderer. */
export interface KernelIR {
  readonly kind: KernelKind;
  /** Collapsed output rank (>= 1). */
  readonly rank: number;
  /** Dtypes of the buffers: [output, ...inputs]. */
  readonly buffers: readonly DType[];
  /** Statements in dependency order; `inner` marks those that vary along the innermost dim. */
  readonly stmts: readonly Stmt[];
  readonly inner: readonly boolean[];
  /** SSA id of the value stored to the output. */
  readonly result: number;
  /** Number of int64 arg words the kernel reads. */
  readonly argWords: number;
  /** For 'matmul' kernels: the product (dims are then not collapsed: one loop dim each). */
  readonly matmul?: MatmulSpec;
  /**
   * For 'scan' kernels: `result` is folded along the last dim, each work item one line
   * (dims are not collapsed). 'sum' | 'prod' | 'max' | 'min' name the fold.
   */
  readonly scan?: { readonly op: 'sum' | 'prod' | 'max' | 'min'; readonly inclusive: boolean };
  /**
   * For 'sort' kernels: `result` is sorted along the last dim (stable, ascending, NaN
   * last), each work item one line; the output is the sorted values or, with
   * `indices`, the positions they came from.
   */
  readonly sort?: { readonly indices: boolean; readonly dtype: DType };
  /**
   * For 'scatter' kernels: the body computes the base at every output element (one
   * chunk on the CPU; one block on a GPU); then `count` (an arg slot) updates from
   * buffer `updates` are combined, in order, into the output at the int64 linear
   * positions in buffer `positions`.
   */
  readonly scatter?: {
    readonly op: 'set' | 'add' | 'multiply' | 'maximum' | 'minimum';
    readonly positions: number;
    readonly updates: number;
    readonly count: number;
  };
}
