/**
 * Assembles vmap's batching table from the rules written with the ops (each op file's
 * `// Batching rules` section) and registers it into src/transforms/batching.ts. The
 * object is typed as the full table (a mapped type over the node kinds), so a node kind
 * added to the vocabulary without a rule fails `tsc` here.
 */
import { type BatchingTable, elementwiseBatchRule, registerBatchingRules, sourceBatchRule } from '../transforms/batching.js';
import { indexingBatching } from './indexing.js';
import { joinBatching } from './join.js';
import { matmulBatching } from './matmul.js';
import { movementBatching } from './movement.js';
import { reduceBatching } from './reduce.js';
import { scanBatching } from './scan.js';

/** Every node kind's batching rule. */
export const BATCHING_RULES: BatchingTable = {
  leaf: sourceBatchRule,
  const: sourceBatchRule,
  iota: sourceBatchRule,
  // Every elementwise op shares one rule: the inputs already have the node's shape.
  unary: elementwiseBatchRule,
  binary: elementwiseBatchRule,
  where: elementwiseBatchRule,
  cast: elementwiseBatchRule,
  ...movementBatching,
  ...joinBatching,
  ...reduceBatching,
  ...matmulBatching,
  ...scanBatching,
  ...indexingBatching,
};

registerBatchingRules(BATCHING_RULES);
