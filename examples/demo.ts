/**
 * `npm run demo`: a 2-D heat-equation stencil written with slices.
 *
 * Each step updates the interior of the grid from its four neighbours and keeps the
 * boundary fixed (a concatenation, fused as a select). The grid is evaluated every
 * few steps; between evaluations the library fuses each step into one kernel and
 * materializes the grid only where the cost rule says recomputing would be dearer.
 * The result is checked against plain JS loops, and timed fused and unfused.
 */
import * as ma from '../src/index.js';

const N = 1024; // grid is N×N (4 MiB per float32 field: larger than the caches, as fusion cares about)
const STEPS = 60;
const EVAL_EVERY = 10;
const ALPHA = 0.2;

function initialGrid(): Float32Array {
  const g = new Float32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const hot = (i - N / 3) ** 2 + (j - N / 2) ** 2 < (N / 8) ** 2;
      g[i * N + j] = hot ? 100 : i === 0 ? 50 : 0; // a hot disc; the top edge held at 50
    }
  }
  return g;
}

/** One explicit Euler step: u + alpha * laplacian(u) on the interior, edges fixed. */
function step(u: ma.MetalArray): ma.MetalArray {
  const center = u.slice('1:-1, 1:-1');
  const laplacian = u.slice(':-2, 1:-1').add(u.slice('2:, 1:-1')).add(u.slice('1:-1, :-2')).add(u.slice('1:-1, 2:')).subtract(center.multiply(4));
  const interior = center.add(laplacian.multiply(ALPHA));
  const middle = ma.concatenate([u.slice('1:-1, :1'), interior, u.slice('1:-1, -1:')], 1);
  return ma.concatenate([u.slice(':1'), middle, u.slice('-1:')], 0);
}

function simulate(initial: Float32Array): Float32Array {
  return ma.tidy(() => {
    let u: ma.MetalArray = ma.array(initial).reshape(N, N);
    for (let s = 1; s <= STEPS; s++) {
      u = step(u);
      if (s % EVAL_EVERY === 0) u.eval();
    }
    return u.toTypedArray() as Float32Array;
  });
}

/** The same computation in plain loops, in float32 like the library. */
function reference(initial: Float32Array): Float32Array {
  let u = Float32Array.from(initial);
  let next = Float32Array.from(initial);
  const f = Math.fround;
  for (let s = 0; s < STEPS; s++) {
    for (let i = 1; i < N - 1; i++) {
      for (let j = 1; j < N - 1; j++) {
        const c = u[i * N + j];
        const sum = f(f(f(u[(i - 1) * N + j] + u[(i + 1) * N + j]) + u[i * N + j - 1]) + u[i * N + j + 1]);
        const lap = f(sum - f(c * 4));
        next[i * N + j] = f(c + f(lap * f(ALPHA)));
      }
    }
    [u, next] = [next, u];
  }
  return u;
}

function time(fn: () => void, repeats: number): number {
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const initial = initialGrid();

console.log(`metalarray demo: ${N}×${N} heat equation, ${STEPS} steps, evaluated every ${EVAL_EVERY} steps (backend: ${ma.getBackend()})\n`);

// The plan for one evaluation window: EVAL_EVERY steps from an evaluated grid.
ma.tidy(() => {
  let u: ma.MetalArray = ma.array(initial).reshape(N, N);
  for (let s = 0; s < EVAL_EVERY; s++) u = step(u);
  console.log(`Fused plan for ${EVAL_EVERY} steps:`);
  console.log(ma.explain(u));
  const [first] = ma.kernelSources(u);
  console.log(`\nGenerated C of the first kernel (${first.name}):\n${first.source.split('\n').slice(0, 40).join('\n')}\n  ...\n`);
});

const result = simulate(initial);
const expected = reference(initial);
let maxErr = 0;
for (let i = 0; i < result.length; i++) maxErr = Math.max(maxErr, Math.abs(result[i] - expected[i]));
const centre = result[Math.floor(N / 3) * N + N / 2];
console.log(`Check against plain loops: max |difference| = ${maxErr.toExponential(2)} (temperature at the disc centre: ${centre.toFixed(3)})`);
if (maxErr > 1e-3) {
  console.error('MISMATCH: the fused result differs from the reference loops');
  process.exit(1);
}

// Statistics of the final field: a reduction fused with its producers and consumers.
// Each row is standardized by its own mean and spread: one kernel computes each row's
// mean and variance (passes over a row that stays in cache) and then writes the row.
ma.tidy(() => {
  const u = ma.array(result).reshape(N, N);
  const standardized = u.subtract(u.mean(1, true)).divide(u.std(1, true).add(1e-6));
  console.log('\nFused plan for row standardization (x - mean) / std:');
  console.log(ma.explain(standardized));
  const heat = u.sum().item() as number;
  let loopHeat = 0;
  for (const v of result) loopHeat += v;
  console.log(`Total heat: ${heat.toFixed(2)} (plain loop in float64: ${loopHeat.toFixed(2)})`);
  const peakRow = u.max(1).argmax().item();
  console.log(
    `Hottest row: ${peakRow}; standardized row ${peakRow} spans [${standardized.slice(Number(peakRow)).min().item()}, ${standardized.slice(Number(peakRow)).max().item()}]`,
  );
});

ma.resetMetrics();
const fusedMs = time(() => simulate(initial), 5);
const fusedMetrics = ma.metrics();
ma.setFusion(false);
ma.resetMetrics();
const unfusedMs = time(() => simulate(initial), 3);
const unfusedMetrics = ma.metrics();
ma.setFusion(true);
const loopMs = time(() => reference(initial), 3);

console.log('\nTime for the whole simulation (median):');
console.log(`  fused:        ${fusedMs.toFixed(1).padStart(8)} ms  (${fusedMetrics.kernelLaunches / 5} kernel launches per run)`);
console.log(`  fusion off:   ${unfusedMs.toFixed(1).padStart(8)} ms  (${unfusedMetrics.kernelLaunches / 3} kernel launches per run)`);
console.log(`  plain loops:  ${loopMs.toFixed(1).padStart(8)} ms`);
console.log(`  fusion speed-up: ${(unfusedMs / fusedMs).toFixed(1)}×`);
console.log('\nmemory:', ma.memory());
