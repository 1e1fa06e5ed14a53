/**
 * Loops that run for 1000 iterations without `eval` in the body (issue 15 §2): the cost
 * of an iteration must not grow with the iteration count. Each loop times every
 * iteration; a row compares the mean iteration time over an early window with a late
 * one. The windows are 400 iterations long because a loop without reads pays for its
 * work in bursts: most iterations only build nodes, and every few dozen an automatic
 * evaluation (setAutoEval's depth bound) runs the pending steps at once. A window holds
 * a whole number of bursts give or take one, so the longer it is, the less the phase of
 * the bursts moves the ratio (200-iteration windows moved it by up to 17%).
 *
 * Run alone: `npm run build:ts && npx tsx bench/loops.ts`; `npm run bench` runs it as
 * workload 'loops'.
 */
import { fileURLToPath } from 'node:url';
import * as ma from '../dist/index.js';
import type { Stats } from './workloads.js';

export const LOOP_ITERATIONS = 1000;
/** Iterations [start, end) of each window. */
export const EARLY_WINDOW = [10, 410] as const;
export const LATE_WINDOW = [600, 1000] as const;
/** The target: the late window costs at most this multiple of the early one. */
export const LOOP_GROWTH_LIMIT = 1.2;

/** One loop's per-iteration times (ms) and what it launched. */
export interface LoopRun {
  name: string;
  samplesMs: number[];
  /**
   * Per-iteration CPU time of the whole process (all threads, process.cpuUsage), ms: on a
   * machine shared with other jobs the wall time of a window also measures the load of
   * its moment, which can change between the early and the late window; CPU time much less.
   */
  cpuSamplesMs: number[];
  kernelLaunches: number;
  autoEvals: number;
  /** Largest pending depth seen at the end of an iteration. */
  maxPendingDepth: number;
}

/** Mean, median of a window of samples. */
export interface WindowStats {
  meanMs: number;
  medianMs: number;
}

export function windowStats(samples: readonly number[], [start, end]: readonly [number, number]): WindowStats {
  const w = samples.slice(start, end);
  const sorted = [...w].sort((a, b) => a - b);
  return { meanMs: w.reduce((s, x) => s + x, 0) / w.length, medianMs: sorted[Math.floor(sorted.length / 2)] };
}

/** The internal handle method (left out of the published .d.ts by stripInternal, so typed here). */
type WithLiveNode = { liveNode(op: string): { readonly depth: number } };

function pendingDepth(x: ma.MetalArray): number {
  return (x as unknown as WithLiveNode).liveNode('bench').depth;
}

function timeLoop(name: string, init: () => () => ma.MetalArray): LoopRun {
  const step = init();
  ma.resetMetrics();
  const samplesMs: number[] = [];
  const cpuSamplesMs: number[] = [];
  let maxPendingDepth = 0;
  for (let i = 0; i < LOOP_ITERATIONS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const state = step();
    samplesMs.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuSamplesMs.push((c.user + c.system) / 1000);
    maxPendingDepth = Math.max(maxPendingDepth, pendingDepth(state));
  }
  const m = ma.metrics();
  return { name, samplesMs, cpuSamplesMs, kernelLaunches: m.kernelLaunches, autoEvals: m.autoEvals, maxPendingDepth };
}

/** Split the key, draw a [1024, 1024] normal and use it (its mean), every iteration. */
export function randomLoop(): LoopRun {
  return timeLoop('split + normal [1024, 1024]', () => {
    let key = ma.random.key(0);
    return () => {
      const [next, sub] = ma.random.split(key);
      key = next;
      const x = ma.random.normal(sub, [1024, 1024]);
      const m = ma.mean(x);
      m.item();
      x.dispose();
      m.dispose();
      return key;
    };
  });
}

export const KMEANS_POINTS = 16384;
export const KMEANS_DIMS = 8;
export const KMEANS_CLUSTERS = 16;

/**
 * One Lloyd step: assign each point to its nearest centroid, move each centroid to the
 * mean of its points (an empty cluster keeps its centroid).
 */
export function kmeansStep(points: ma.MetalArray, centroids: ma.MetalArray): ma.MetalArray {
  const k = centroids.shape[0];
  const diff = points.expandDims(1).subtract(centroids.expandDims(0)); // [n, k, d]
  const dist = ma.sum(diff.multiply(diff), -1); // [n, k]
  const assign = ma.argmin(dist, 1); // [n]
  const onehot = ma.astype(ma.equal(assign.expandDims(1), ma.arange(0, k, 1, 'int32').expandDims(0)), 'float32'); // [n, k]
  const counts = ma.sum(onehot, 0); // [k]
  const sums = ma.matmul(onehot.T, points); // [k, d]
  const means = sums.divide(ma.maximum(counts, 1).expandDims(1));
  return ma.where(counts.greater(0).expandDims(1), means, centroids);
}

/** 1000 Lloyd steps with no eval: the centroids stay a pending graph between auto-evaluations. */
export function kmeansLoop(): LoopRun {
  return timeLoop(`k-means step, ${KMEANS_POINTS}x${KMEANS_DIMS}, k=${KMEANS_CLUSTERS}`, () => {
    const points = ma.random.normal(ma.random.key(1), [KMEANS_POINTS, KMEANS_DIMS]).eval();
    let centroids: ma.MetalArray = points.slice(ma.range(0, KMEANS_CLUSTERS)).eval();
    return () => {
      centroids = kmeansStep(points, centroids);
      return centroids;
    };
  });
}

export const ADAM_SIZE = 1024 * 1024;

/** Adam on a quadratic loss 0.5 * |p - target|^2 (gradient p - target), no eval in the loop. */
export function adamLoop(): LoopRun {
  return timeLoop(`Adam update, ${ADAM_SIZE} float32 params`, () => {
    const target = ma.random.uniform(ma.random.key(2), [ADAM_SIZE]).eval();
    let p: ma.MetalArray = ma.zeros([ADAM_SIZE]);
    let m: ma.MetalArray = ma.zeros([ADAM_SIZE]);
    let v: ma.MetalArray = ma.zeros([ADAM_SIZE]);
    const [lr, b1, b2, eps] = [1e-3, 0.9, 0.999, 1e-8];
    let t = 0;
    return () => {
      t++;
      const g = p.subtract(target);
      m = m.multiply(b1).add(g.multiply(1 - b1));
      v = v.multiply(b2).add(g.multiply(g).multiply(1 - b2));
      const mHat = m.divide(1 - b1 ** t);
      const vHat = v.divide(1 - b2 ** t);
      p = p.subtract(mHat.divide(ma.sqrt(vHat).add(eps)).multiply(lr));
      return p;
    };
  });
}

/** A row's figures: early and late windows, their ratio, launches per iteration. */
export interface LoopSummary {
  run: LoopRun;
  early: WindowStats;
  late: WindowStats;
  /** late mean / early mean. */
  growth: number;
  /** The same ratio of CPU time (see LoopRun.cpuSamplesMs). */
  cpuGrowth: number;
}

export function summarizeLoop(run: LoopRun): LoopSummary {
  const early = windowStats(run.samplesMs, EARLY_WINDOW);
  const late = windowStats(run.samplesMs, LATE_WINDOW);
  const cpuEarly = windowStats(run.cpuSamplesMs, EARLY_WINDOW);
  const cpuLate = windowStats(run.cpuSamplesMs, LATE_WINDOW);
  return { run, early, late, growth: late.meanMs / early.meanMs, cpuGrowth: cpuLate.meanMs / cpuEarly.meanMs };
}

/** Every loop, once (a warm-up pass of each first, so compiles are not in the windows). */
export function runLoops(): LoopSummary[] {
  const loops = [randomLoop, kmeansLoop, adamLoop];
  return loops.map((loop) => {
    loop(); // compiles every kernel the loop needs (the disk cache keeps them)
    const s = summarizeLoop(loop());
    printSummary(s);
    return s;
  });
}

function windowAsStats(samples: readonly number[], [start, end]: readonly [number, number]): Stats {
  const w = samples.slice(start, end).sort((a, b) => a - b);
  const q = (f: number) => w[Math.min(w.length - 1, Math.floor(f * w.length))];
  return {
    medianMs: q(0.5),
    minMs: w[0],
    p10Ms: q(0.1),
    p90Ms: q(0.9),
    meanMs: w.reduce((a, b) => a + b, 0) / w.length,
    iterations: w.length,
    warmup: start,
  };
}

/**
 * The loops as rows of `npm run bench` (bench/run.ts records them): the late window's
 * figures, judged against LOOP_GROWTH_LIMIT times the early window's mean (compare the
 * means: the loops pay in bursts, see the top of this file).
 */
export function loopRows() {
  return runLoops().map((s, i) => {
    return {
      id: 'loops',
      name: `l${i + 1}. loop: ${s.run.name}`,
      description: `${LOOP_ITERATIONS} iterations, no eval in the body; mean ms/iteration over iterations ${LATE_WINDOW.join('-')} vs ${EARLY_WINDOW.join('-')}`,
      unit: 'ms' as const,
      metalarray: { ...windowAsStats(s.run.samplesMs, LATE_WINDOW), medianMs: s.late.meanMs },
      metalarrayNoFusion: null,
      numpy: null,
      target: { kind: 'time-at-most' as const, value: LOOP_GROWTH_LIMIT * s.early.meanMs, unit: 'ms' as const },
      details: {
        earlyMeanMs: s.early.meanMs,
        lateMeanMs: s.late.meanMs,
        earlyMedianMs: s.early.medianMs,
        lateMedianMs: s.late.medianMs,
        growth: s.growth,
        cpuGrowth: s.cpuGrowth,
        kernelLaunchesPerIteration: s.run.kernelLaunches / LOOP_ITERATIONS,
        autoEvals: s.run.autoEvals,
        maxPendingDepth: s.run.maxPendingDepth,
      },
    };
  });
}

function printSummary(s: LoopSummary): void {
  const f = (x: number) => x.toFixed(3);
  console.log(
    `  ${s.run.name}: iterations ${EARLY_WINDOW.join('-')} mean ${f(s.early.meanMs)} ms (median ${f(s.early.medianMs)}), ` +
      `${LATE_WINDOW.join('-')} mean ${f(s.late.meanMs)} ms (median ${f(s.late.medianMs)}): ${s.growth.toFixed(2)}x (CPU time ${s.cpuGrowth.toFixed(2)}x); ` +
      `${(s.run.kernelLaunches / LOOP_ITERATIONS).toFixed(2)} launches/iteration, ${s.run.autoEvals} auto-evals, pending depth <= ${s.run.maxPendingDepth}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  loopRows();
}
