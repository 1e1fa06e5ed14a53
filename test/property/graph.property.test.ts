/**
 * Random graphs with reductions, softmax, scans, matrix products and gathers anywhere
 * in them (graph-combine.ts) against the oracle's bounds: reductions of reductions,
 * reductions over size-1 and broadcast axes (expandDims, broadcastTo, binary
 * broadcasting), reductions feeding binary ops with other reductions, shapes past the
 * tile and vector widths and past 1024-element rows.
 *
 * Per dtype, run k draws its root as COMBINE_OPS[k mod n] on an operand of that dtype,
 * so every (op × dtype) pair the oracle accepts is drawn in every run of the suite
 * (asserted after the runs); the rest of the graph is random.
 *
 * Run counts scale with MA_PROPERTY_SCALE (default 1, at least RUNS_PER_DTYPE per
 * dtype); MA_PROPERTY_SEED (and MA_PROPERTY_PATH) replay a failure, whose message
 * holds a standalone reproduction using `ma`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_DTYPES, FLOAT64_NOTE } from '../support/backend.js';
import { type Bounds, evalBounds } from './bounds.js';
import { COMBINE_OPS, type CombineOp, combinePair, feasible } from './graph-combine.js';
import { combiningGraphArb, RUNS_PER_DTYPE } from './graph-suites.js';
import { type GraphCase, toCode, topoOrder } from './graphs.js';
import { buildLib, disposeAll, type MA, ma } from './lib-eval.js';
import { checkAgainst, errorKind, params, TIMEOUT, thrown } from './reduce-cases.js';

beforeAll(() => {
  ma.setFusion(true);
});
afterAll(() => {
  ma.setFusion(true);
});

/** Evaluates the graph with the library and checks its root against the oracle's bounds. */
function checkGraph(c: GraphCase): void {
  const bounds = evalBounds(c.root).get(c.root) as Bounds;
  const created: MA[] = [];
  let problem: string | null = null;
  try {
    let got: MA | null = null;
    const err = thrown(() => {
      got = buildLib(c.root, created);
      ma.eval(got);
    });
    if (err !== null || got === null) problem = `library threw ${errorKind(err)}`;
    else problem = checkAgainst('root', got, bounds.val, bounds);
  } finally {
    disposeAll(created);
  }
  if (problem) throw new Error(`${problem}\nrepro (depth ${c.depth}):\n${toCode(c.root)}`);
}

describe(`random graphs with reductions, scans, products and gathers anywhere${FLOAT64_NOTE}`, () => {
  const covered = new Set<string>();
  it.each(BACKEND_DTYPES)(
    '%s: every combining op as a root, random graphs below and around',
    (dtype) => {
      const counter = { k: 0 };
      fc.assert(
        fc.property(combiningGraphArb(dtype, counter), (c) => {
          for (const n of topoOrder(c.root)) {
            const p = combinePair(n);
            if (p) covered.add(`${p[0]} ${p[1]}`);
          }
          checkGraph(c);
        }),
        // no shrinking (params): the failure message holds the whole graph as code
        params(RUNS_PER_DTYPE, RUNS_PER_DTYPE),
      );
      const missing = COMBINE_OPS.filter((op: CombineOp) => feasible(op, dtype) && !covered.has(`${op} ${dtype}`));
      expect(missing, `ops never drawn on ${dtype}`).toEqual([]);
    },
    TIMEOUT,
  );
});
