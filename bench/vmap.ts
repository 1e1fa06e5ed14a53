/**
 * vmap against a JS loop over the batch (issue 19): a per-example two-layer MLP score
 * (x [64] → matmul [64, 128] → relu → matmul [128, 10] → logsumexp) over a batch of
 * 512, as `vmap(f)(xs)` (one batched graph, read once) and as a JS loop that builds,
 * evaluates and reads `f(xs[b])` per example, beside the model batched by hand. (Stacking the 512 lazy results instead
 * fails today: one concat kernel would bind 513 buffers, past the cpu runner's 64.)
 * Prints the median time per call, the kernels each launches, and the speedup.
 *
 * Run: `npm run build:ts && npx tsx bench/vmap.ts`.
 */
import * as ma from '../dist/index.js';

const BATCH = 512;
const REPEATS = 15;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function timeIt(run: () => void): { ms: number; kernels: number } {
  ma.tidy(run); // warm: compile and plan caches
  const samples: number[] = [];
  let kernels = 0;
  for (let i = 0; i < REPEATS; i++) {
    ma.resetMetrics();
    const t0 = performance.now();
    ma.tidy(run);
    samples.push(performance.now() - t0);
    kernels = ma.metrics().kernelLaunches;
  }
  return { ms: median(samples), kernels };
}

const key = ma.random.key(0);
const [k1, k2, k3] = ma.random.split(key, 3) as unknown as ma.MetalArray[];
const w1 = ma.random
  .normal(k1 as ma.MetalArray, [64, 128])
  .multiply(0.1)
  .eval();
const w2 = ma.random
  .normal(k2 as ma.MetalArray, [128, 10])
  .multiply(0.1)
  .eval();
const xs = ma.random.normal(k3 as ma.MetalArray, [BATCH, 64]).eval();
const score = (x: ma.MetalArray): ma.MetalArray => ma.logsumexp(ma.matmul(ma.matmul(x, w1).relu(), w2));

const batched = timeIt(() => {
  ma.vmap(score)(xs).toTypedArray();
});
// The same model written batched by hand (logsumexp over the last axis): vmap's target.
const byHand = timeIt(() => {
  ma.logsumexp(ma.matmul(ma.matmul(xs, w1).relu(), w2), -1).toTypedArray();
});
const looped = timeIt(() => {
  for (let b = 0; b < BATCH; b++) score(xs.slice(b)).toTypedArray();
});
console.log(`vmap MLP score, batch ${BATCH} (median of ${REPEATS}, build + eval + read):`);
console.log(`  vmap(f)(xs)      ${batched.ms.toFixed(2)} ms, ${batched.kernels} kernel launches`);
console.log(`  batched by hand  ${byHand.ms.toFixed(2)} ms, ${byHand.kernels} kernel launches`);
console.log(`  loop f(xs[b])    ${looped.ms.toFixed(2)} ms, ${looped.kernels} kernel launches`);
console.log(`  speedup ${(looped.ms / batched.ms).toFixed(1)}x`);
