/**
 * One worker of workers.test.ts: evaluates its own graphs with the library and posts
 * what it got. The seed makes each worker's graphs different.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ma from '../../src/index.js';

const { seed, rounds } = workerData as { seed: number; rounds: number };
const sums: number[] = [];
for (let r = 0; r < rounds; r++) {
  const k = seed * 1000 + r;
  const x = ma.arange(100).astype('float32');
  // Shapes vary with the seed, so workers also compile kernels of their own.
  const y = ma.sum(
    x
      .multiply(k % 7)
      .add(seed)
      .reshape(seed % 2 === 0 ? [10, 10] : [4, 25]).T,
    0,
  );
  sums.push(Number(ma.sum(y).item()));
  x.dispose();
  y.dispose();
}
const asyncResult = await ma.arange(10).astype('float32').add(seed).data();
parentPort?.postMessage({ sums, asyncFirst: asyncResult[0], active: ma.memory().activeBytes });
