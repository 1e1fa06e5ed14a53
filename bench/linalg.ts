/**
 * ma.linalg beside numpy.linalg in the same run (issue 22 §1 speed targets): solve,
 * cholesky, svd and eigh of a 1024 x 1024 float64 matrix, and inv of a batch of 64
 * [64, 64] matrices. Each metalarray call includes evaluating its outputs; inputs are
 * evaluated before timing. Prints the median milliseconds per call of both and the
 * ratio NumPy / metalarray (≥ 1: metalarray as fast or faster).
 *
 * Run: `npm run build:ts && npx tsx bench/linalg.ts [--repeats 5]`.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ma from '../dist/index.js';

const repeatsArg = process.argv.indexOf('--repeats');
const REPEATS = repeatsArg > 0 ? Number(process.argv[repeatsArg + 1]) : 5;
const N = 1024;

function medianMs(run: () => void, repeats: number): number {
  ma.tidy(run);
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    ma.tidy(run);
    samples.push(performance.now() - t0);
  }
  samples.sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)] as number;
}

const evalAll = (...xs: ma.MetalArray[]): void => {
  ma.eval(...xs);
};

const key = ma.random.key(0);
const [k1, k2, k3] = ma.random.split(key, 3) as unknown as ma.MetalArray[];
const x = ma.random.normal(k1 as ma.MetalArray, [N, N], 'float64').eval();
const eye = ma.eye(N, null, 0, 'float64');
const a = x.add(eye.multiply(Math.sqrt(N))).eval();
const b = ma.random.normal(k2 as ma.MetalArray, [N], 'float64').eval();
const spd = x.matmul(x.T).add(eye.multiply(N)).eval();
const sym = x.add(x.T).eval();
const batch = ma.random
  .normal(k3 as ma.MetalArray, [64, 64, 64], 'float64')
  .add(ma.eye(64, null, 0, 'float64').multiply(8))
  .eval();
const L = ma.linalg;

const ours: Record<string, number> = {
  'solve 1024x1024 f64': medianMs(() => evalAll(L.solve(a, b)), REPEATS),
  'cholesky 1024x1024 f64': medianMs(() => evalAll(L.cholesky(spd)), REPEATS),
  'svd 1024x1024 f64': medianMs(() => evalAll(...L.svd(x)), Math.max(3, Math.floor(REPEATS / 2))),
  'eigh 1024x1024 f64': medianMs(() => evalAll(...L.eigh(sym)), Math.max(3, Math.floor(REPEATS / 2))),
  'inv 64x[64,64] f64': medianMs(() => evalAll(L.inv(batch)), REPEATS * 4),
};

const peerPath = join(dirname(fileURLToPath(import.meta.url)), 'linalg_peer.py');
const peer = spawnSync(process.env.PYTHON ?? 'python3', [peerPath, '--repeats', String(REPEATS)], { encoding: 'utf8' });
const numpy = peer.status === 0 ? (JSON.parse(peer.stdout) as { numpy: string; rows: Record<string, number> }) : null;

console.log(`LAPACK: ${L.lapackLibraryPath()}; NumPy ${numpy?.numpy ?? `not run (${peer.stderr.trim()})`}`);
console.log('| call | metalarray ms | NumPy ms | NumPy / metalarray |');
console.log('|---|---|---|---|');
for (const [name, ms] of Object.entries(ours)) {
  const np = numpy?.rows[name];
  console.log(`| ${name} | ${ms.toFixed(1)} | ${np === undefined ? '-' : np.toFixed(1)} | ${np === undefined ? '-' : (np / ms).toFixed(2)} |`);
}
