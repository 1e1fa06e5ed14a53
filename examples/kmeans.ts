/**
 * `npm run example:kmeans`: k-means clustering of random points, end to end.
 *
 * Points are drawn around K random centers (all randomness from `ma.random` keys), the
 * centroids are seeded with k-means++ (each new one drawn with probability proportional
 * to its squared distance from the nearest one so far), then Lloyd's iterations assign
 * each point to its nearest centroid and move each centroid to the mean of its points
 * until no centroid moves more than a tolerance. Prints the centroids, the inertia and
 * the time taken; issue 15's cold-start target is ≤ 2 s for the whole program with an
 * empty kernel cache.
 */
import * as ma from '../src/index.js';

const N = 4000; // points
const D = 2; // dimensions
const K = 5; // clusters
const SPREAD = 0.6; // standard deviation of the points around their true center
const TOLERANCE = 1e-4; // stop once no centroid moves further than this
const MAX_ITERATIONS = 100;

const t0 = performance.now();

/** Squared distance of every point to every centroid: [N, K]. */
function squaredDistances(points: ma.MetalArray, centroids: ma.MetalArray): ma.MetalArray {
  const diff = points.reshape([N, 1, D]).subtract(centroids.reshape([1, K, D]));
  return ma.sum(diff.multiply(diff), 2);
}

/** K random true centers in [-10, 10)^D and N points scattered around them. */
function makePoints(key: ma.MetalArray): ma.MetalArray {
  const [kCenters, kLabels, kNoise] = ma.split(ma.random.split(key, 3), 3, 0).map((k) => k.reshape([2]));
  const centers = ma.random.uniform(kCenters, [K, D], { low: -10, high: 10 });
  const labels = ma.random.randint(kLabels, [N], { low: 0, high: K });
  return ma.take(centers, labels, 0).add(ma.random.normal(kNoise, [N, D]).multiply(SPREAD));
}

/** k-means++ seeding: the first centroid uniformly, each next one weighted by squared distance. */
function kmeansPlusPlus(points: ma.MetalArray, key: ma.MetalArray): ma.MetalArray {
  const keys = ma.split(ma.random.split(key, K), K, 0).map((k) => k.reshape([2]));
  const first = ma.random.randint(keys[0], [1], { low: 0, high: N });
  let chosen = ma.take(points, first, 0); // [1, D]
  const picked = [chosen];
  let nearest = ma.sum(points.subtract(chosen).square(), 1); // [N]: squared distance to the nearest pick
  for (let j = 1; j < K; j++) {
    const index = ma.random.categorical(keys[j], ma.log(nearest.add(1e-12)).reshape([1, N]));
    chosen = ma.take(points, index, 0);
    picked.push(chosen);
    nearest = ma.minimum(nearest, ma.sum(points.subtract(chosen).square(), 1));
    nearest.eval(); // keeps each step's graph the same size (one set of kernels for all steps)
  }
  return ma.concatenate(picked, 0); // [K, D]
}

/** One Lloyd step: assign points, move centroids to their means (an empty cluster stays put). */
function lloydStep(points: ma.MetalArray, centroids: ma.MetalArray): { centroids: ma.MetalArray; shift: number; inertia: number } {
  const distances = squaredDistances(points, centroids);
  const assignment = ma.argmin(distances, 1); // [N]
  const oneHot = ma.equal(assignment.reshape([N, 1]), ma.arange(K).reshape([1, K])).astype('float32'); // [N, K]
  const counts = ma.sum(oneHot, 0).reshape([K, 1]);
  const sums = ma.matmul(oneHot.transpose(), points); // [K, D]
  const moved = ma.where(counts.greater(0), sums.divide(ma.maximum(counts, 1)), centroids);
  const shift = ma.max(ma.sum(moved.subtract(centroids).square(), 1)).item() as number;
  const inertia = ma.sum(ma.min(distances, 1)).item() as number;
  moved.eval();
  return { centroids: moved, shift: Math.sqrt(shift), inertia };
}

const root = ma.random.key(2024);
const [dataKey, initKey] = ma.split(ma.random.split(root, 2), 2, 0).map((k) => k.reshape([2]));
const points = makePoints(dataKey);
points.eval();

let centroids = kmeansPlusPlus(points, initKey);
let inertia = Number.NaN;
let iterations = 0;
for (; iterations < MAX_ITERATIONS; iterations++) {
  const step = lloydStep(points, centroids);
  centroids = step.centroids;
  inertia = step.inertia;
  if (step.shift <= TOLERANCE) {
    iterations++;
    break;
  }
}

const values = centroids.toTypedArray() as Float32Array;
console.log(`k-means: ${N} points in ${D}-D, k = ${K}: converged in ${iterations} iterations`);
for (let c = 0; c < K; c++) {
  const coords = Array.from(values.subarray(c * D, (c + 1) * D), (v) => v.toFixed(3).padStart(8));
  console.log(`  centroid ${c}: (${coords.join(', ')})`);
}
console.log(`  inertia (sum of squared distances to the nearest centroid, before the last move): ${inertia.toFixed(3)}`);
const m = ma.metrics();
console.log(
  `  ${(performance.now() - t0).toFixed(0)} ms in this process; ${m.kernelsCompiled} kernels compiled (${m.compileMs.toFixed(0)} ms), ${m.kernelCacheHits} kernel-cache hits`,
);
