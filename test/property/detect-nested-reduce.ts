/**
 * Issue 14's "done" item, measured: how often the combining-graph generator (the cases
 * graph.property.test.ts draws) finds the nested-reduction fusion bug on the commit before
 * its fix. Per seed, the suite's 25 draws for one dtype in order, until the first kernel
 * that fails to compile with an undeclared value. Not a test: run it in a worktree of
 * `edfc3ec^` with this test/ folder copied in (figures: bench/README.md):
 *
 *   METALARRAY_COMPILE=fast npx tsx test/property/detect-nested-reduce.ts float32 1 40
 *
 * (dtype, first seed, number of seeds). On a fixed commit every seed reports "not found".
 */
import fc from 'fast-check';
import type { DType } from '../reference/index.js';
import { combiningGraphArb } from './graph-suites.js';
import { buildLib, disposeAll, type MA, ma } from './lib-eval.js';
const dtype = (process.argv[2] ?? 'float32') as DType;
const first = Number(process.argv[3] ?? 1);
const seeds = Number(process.argv[4] ?? 40);
const perSeed = 25;
let found = 0;
let other = 0;
const firsts: number[] = [];
const t0 = performance.now();
for (let seed = first; seed < first + seeds; seed++) {
  const cases = fc.sample(combiningGraphArb(dtype, { k: 0 }), { numRuns: perSeed, seed });
  let hit = 0;
  for (let i = 0; i < cases.length && hit === 0; i++) {
    const created: MA[] = [];
    try {
      ma.eval(buildLib(cases[i].root, created));
    } catch (e) {
      const msg = String((e as Error)?.message ?? e);
      if ((e as Error)?.name === 'CompileError' && /undeclared/.test(msg)) hit = i + 1;
      else other++;
    } finally {
      disposeAll(created);
    }
  }
  if (hit) {
    found++;
    firsts.push(hit);
  }
  console.log(`seed ${seed}: ${hit ? `undeclared-value CompileError at case ${hit}` : 'not found'} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
console.log(JSON.stringify({ dtype, seeds, perSeed, found, firsts, otherErrors: other }));
