/**
 * vmap over random graphs (the combining graphs of test/property: reductions, softmax,
 * scans, products and gathers anywhere, with elementwise ops, casts, views and joins
 * around them). Some of the graph's leaves are mapped: each example gives them other
 * values (their values rotated), stacked along a random axis. Every example of
 * vmap(f)'s result, read along a random out axis, must match the oracle's bounds for
 * the graph with that example's leaves: vmap(f) equals stacking f over the batch.
 *
 * Runs scale with MA_PROPERTY_SCALE; MA_PROPERTY_SEED (and MA_PROPERTY_PATH) replay a
 * failure, whose message holds the graph as code.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type Bounds, evalBounds } from '../property/bounds.js';
import { combiningGraphArb } from '../property/graph-suites.js';
import { type LeafNode, type Node, toCode, topoOrder } from '../property/graphs.js';
import { buildLib, disposeAll, type MA, ma, makeLeaf } from '../property/lib-eval.js';
import { checkAgainst, errorKind, params, TIMEOUT, thrown } from '../property/reduce-cases.js';
import { exampleOf } from './vmap-support.js';

const RUNS_PER_DTYPE = 15;

/** The leaf with its values rotated by `by` (the same dtype, shape and value domain). */
function rotated(leaf: LeafNode, by: number): LeafNode {
  const n = leaf.values.length;
  const k = n === 0 ? 0 : by % n;
  return { ...leaf, values: [...leaf.values.slice(k), ...leaf.values.slice(0, k)] };
}

/** A copy of the graph under `root` with some leaves replaced (every field holding a node follows). */
function withLeaves(root: Node, replaced: ReadonlyMap<Node, Node>): Node {
  const memo = new Map<unknown, unknown>(replaced);
  const swap = (v: unknown): unknown => (Array.isArray(v) ? v.map(swap) : memo.has(v) ? memo.get(v) : v);
  for (const n of topoOrder(root)) {
    if (memo.has(n)) continue;
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n)) copy[k] = swap(v);
    memo.set(n, copy);
  }
  return memo.get(root) as Node;
}

/** Checks one graph: null when every example agrees with the oracle, else the problem. */
function checkMapped(root: Node, size: number, mapBits: number, axisSeed: number, outSeed: number): string | null {
  const leaves = topoOrder(root).filter((n): n is LeafNode => n.kind === 'leaf');
  // At least one leaf mapped: the first always, the others by the bits.
  const mapped = leaves.filter((_, i) => i === 0 || ((mapBits >> i) & 1) === 1);
  const created: MA[] = [];
  try {
    const axes = mapped.map((l, i) => (axisSeed >> (2 * i)) % (l.shape.length + 1));
    const batched = mapped.map((l, i) => {
      const examples = Array.from({ length: size }, (_, b) => makeLeaf(rotated(l, b), created));
      const s = ma.stack(examples, axes[i]);
      created.push(s);
      return s;
    });
    const outAxis = outSeed % (root.shape.length + 1);
    let out: MA | null = null;
    const err = thrown(() => {
      const f = (...xs: MA[]): MA => buildLib(root, created, new Map<Node, MA>(mapped.map((l, i) => [l, xs[i] as MA])));
      out = ma.vmap(f, axes, outAxis)(...batched);
      created.push(out);
      ma.eval(out);
    });
    if (err !== null || out === null) return `vmap threw ${errorKind(err)}`;
    for (let b = 0; b < size; b++) {
      const example = withLeaves(root, new Map<Node, Node>(mapped.map((l) => [l, rotated(l, b)])));
      const bounds = evalBounds(example).get(example) as Bounds;
      const got = exampleOf(out, outAxis, b);
      created.push(got);
      const problem = checkAgainst(`example ${b}`, got, bounds.val, bounds);
      if (problem !== null) return `${problem} (mapped leaves ${mapped.length}, in axes [${axes}], out axis ${outAxis}, batch ${size})`;
    }
    return null;
  } finally {
    disposeAll(created);
  }
}

describe('vmap of random graphs equals stacking the graph over the batch', () => {
  it.each(['float32', 'int32'] as const)(
    '%s graphs, random mapped leaves, in and out axes',
    (dtype) => {
      const counter = { k: 0 };
      fc.assert(
        fc.property(combiningGraphArb(dtype, counter), fc.integer({ min: 1, max: 3 }), fc.nat(), fc.nat(), fc.nat(), (c, size, bits, axisSeed, outSeed) => {
          const problem = checkMapped(c.root, size, bits, axisSeed, outSeed);
          if (problem !== null) throw new Error(`${problem}\nrepro (depth ${c.depth}):\n${toCode(c.root)}`);
        }),
        params(RUNS_PER_DTYPE, RUNS_PER_DTYPE),
      );
    },
    TIMEOUT,
  );
});
