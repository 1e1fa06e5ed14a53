/**
 * The batching-rule table of `vmap`: one rule per node kind, keyed by the vocabulary
 * (a mapped type, so the table that src/ops/batching-table.ts registers fails `tsc`
 * when a kind has no row). The rules themselves are written with the ops, in each op
 * file's `// Batching rules` section; the elementwise kinds share one helper here.
 *
 * A rule sees a node of the traced (per-example) graph and its inputs as vmap rebuilt
 * them: a batched input carries the batch as its leading axis (axis 0), an unbatched
 * one is the original node. It returns the node's batched version, again with the batch
 * at axis 0. Rules build nodes with the core factories (O(rank) each), so a batched
 * graph is the same kind of lazy graph as the unbatched one and fuses the same way.
 */
import { castNode, elementwiseNode, scalarOpNode, viewNode, whereNode } from '../core/build.js';
import type { Node } from '../core/node.js';
import type { NodeKind } from '../core/vocabulary.js';
import { BatchingError } from '../errors.js';

/**
 * Rebuilds `node` over batched inputs. `inputs[i]` has the batch at axis 0 when
 * `batched[i]`, else it is `node.inputs[i]` itself; at least one input is batched.
 * `size` is the batch size. Returns the batched node (batch at axis 0).
 */
export type BatchRule = (node: Node, inputs: readonly Node[], batched: readonly boolean[], size: number) => Node;

/** Every node kind's batching rule: a missing row is a `tsc` error. */
export type BatchingTable = { readonly [K in NodeKind]: BatchRule };

/** The node kinds, listed once at run time (the table test walks it). */
const KIND_LIST: { readonly [K in NodeKind]: true } = {
  leaf: true,
  const: true,
  iota: true,
  unary: true,
  binary: true,
  where: true,
  cast: true,
  view: true,
  reshape: true,
  concat: true,
  reduce: true,
  matmul: true,
  scan: true,
  gather: true,
  scatter: true,
};

/** Every node kind, in table order. */
export const NODE_KINDS: readonly NodeKind[] = Object.keys(KIND_LIST) as NodeKind[];

let table: Partial<Record<NodeKind, BatchRule>> = {};

/** Installs the batching table (src/ops/batching-table.ts, once when the package loads). */
export function registerBatchingRules(rules: BatchingTable): void {
  table = { ...rules };
}

/** The rule of a node kind, or BatchingError naming the node's op when there is none. */
export function batchingRuleFor(node: Node): BatchRule {
  const rule = table[node.kind];
  if (rule === undefined) {
    const what = node.op === '' ? `node kind '${node.kind}'` : `op '${node.op}' (node kind '${node.kind}')`;
    throw new BatchingError(`vmap: ${what} has no batching rule; it cannot be mapped over a batch`);
  }
  return rule;
}

/** `x` with a leading batch axis of `size`: a broadcast view, no copy. */
export function broadcastBatch(x: Node, size: number): Node {
  const r = x.shape.length;
  const inDim = [-1];
  const step = [0];
  for (let d = 0; d < r; d++) {
    inDim.push(d);
    step.push(1);
  }
  return viewNode(x, { inDim, step, start: new Array<number>(r).fill(0) }, [size, ...x.shape]);
}

/** The input with the batch at axis 0: itself when batched, else broadcast to the batch. */
export function batchedInput(inputs: readonly Node[], batched: readonly boolean[], i: number, size: number): Node {
  const x = inputs[i] as Node;
  return batched[i] ? x : broadcastBatch(x, size);
}

/** Every input with the batch at axis 0 (unbatched ones broadcast). */
export function batchedInputs(inputs: readonly Node[], batched: readonly boolean[], size: number): Node[] {
  return inputs.map((_, i) => batchedInput(inputs, batched, i, size));
}

/**
 * The one batching rule of the elementwise kinds (unary, binary, where, cast): the
 * inputs already share the node's shape, so the batched node is the same op over the
 * inputs broadcast to the batch, with one more leading dim.
 */
export const elementwiseBatchRule: BatchRule = (node, inputs, batched, size) => {
  const xs = batchedInputs(inputs, batched, size);
  const shape = [size, ...node.shape];
  switch (node.kind) {
    case 'unary':
      return elementwiseNode(node.op, xs, shape, node.dtype);
    case 'binary':
      if (node.scalarSide >= 0) return scalarOpNode(node.op, xs[0] as Node, node.value, node.scalarSide === 1, node.dtype);
      return elementwiseNode(node.op, xs, shape, node.dtype);
    case 'where':
      return whereNode(xs[0] as Node, xs[1] as Node, xs[2] as Node, shape);
    case 'cast':
      return castNode(xs[0] as Node, node.dtype);
    default:
      throw new BatchingError(`vmap: the elementwise batching rule got a '${node.kind}' node`);
  }
};

/**
 * The rule of nodes without inputs (leaves, constants, iotas): never called with a
 * batched input, since they have none; a node that reads no mapped value is the same
 * for every example, so its batched form is a broadcast.
 */
export const sourceBatchRule: BatchRule = (node, _inputs, _batched, size) => broadcastBatch(node, size);
