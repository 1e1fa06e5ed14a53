/**
 * Assembles the differentiation rules written beside each op (the `// Differentiation
 * rules` sections, and each elementwise block's `derivative`) into the table of
 * src/transforms/rules.ts. `RuleTable` is a mapped type over the op vocabulary, so a
 * node kind, reduction, scan or scatter without a rule here fails `tsc`.
 */
import { registerRules, type RuleTable } from '../transforms/rules.js';
import { castRule, elementwiseRule, whereRule } from './elementwise.js';
import { gatherRule, reshapeRule, scatterRules, viewRule } from './indexing-rules.js';
import { concatRule } from './join.js';
import { matmulRule } from './matmul.js';
import { reduceRules } from './reduce.js';
import { scanRules } from './sort.js';

const rules = {
  elementwise: elementwiseRule,
  kinds: { where: whereRule, cast: castRule, view: viewRule, reshape: reshapeRule, concat: concatRule, matmul: matmulRule, gather: gatherRule },
  reduce: reduceRules,
  scan: scanRules,
  scatter: scatterRules,
} satisfies RuleTable;

registerRules(rules);
