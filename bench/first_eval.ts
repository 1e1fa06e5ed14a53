/**
 * Child process of workload d (first-eval latency). `run.ts` starts it as
 * `node --import tsx bench/first_eval.ts --seed S [--n N]` with METALARRAY_CACHE_DIR
 * set: once on an empty cache directory (cold: the kernel is compiled) and once more on
 * the same directory (warm: the kernel is loaded from disk).
 *
 * Timed inside this process, from the first op of the graph to the result read back:
 *  - `first`: the first eval of this process (the JS of the library has never run);
 *  - `second`: another unseen graph right after it, in the now-warm process.
 * The inputs are created before the clock starts. Prints one JSON line on stdout.
 */
import * as ma from '../dist/index.js';
import { randomGraph, randomOps, uniform } from './workloads.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`first_eval: --${name} needs a number`);
  return v;
}

const seed = arg('seed', 1);
const n = arg('n', 4096);
const OPS = 6;

const firstOps = randomOps(seed, OPS);
let secondSeed = (seed ^ 0x5bd1e995) >>> 0;
let secondOps = randomOps(secondSeed, OPS);
while (secondOps.join() === firstOps.join()) secondOps = randomOps(++secondSeed, OPS);

const x = ma.array(uniform(n, -1, 1, seed));
const y = ma.array(uniform(n, 0.5, 1, seed + 1));

interface Timed {
  ops: string[];
  ms: number;
  checksum: number;
  metrics: ma.Metrics;
}

function timeOne(ops: ReturnType<typeof randomOps>): Timed {
  ma.resetMetrics();
  const t0 = performance.now();
  const r = randomGraph(x, y, ops);
  ma.eval(r);
  const values = r.toTypedArray() as Float32Array;
  const ms = performance.now() - t0;
  const metrics = ma.metrics();
  r.dispose();
  return { ops, ms, checksum: values[0] + values[values.length - 1], metrics };
}

const first = timeOne(firstOps);
const second = timeOne(secondOps);
process.stdout.write(`${JSON.stringify({ seed, n, cacheDir: process.env.METALARRAY_CACHE_DIR ?? null, first, second })}\n`);
