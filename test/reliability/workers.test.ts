/**
 * Worker threads: the library works in several worker_threads at once, each building
 * and evaluating its own graphs (sync and async) while the main thread computes too.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

interface WorkerResult {
  sums: number[];
  asyncFirst: number;
  active: number;
}

// The worker runs the TypeScript sources through tsx's loader, registered in its own thread.
const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
const body = new URL('./worker-body.ts', import.meta.url).href;
const BOOTSTRAP = `import(${JSON.stringify(tsxApi)}).then((t) => { t.register(); return import(${JSON.stringify(body)}); });`;

function runWorker(seed: number, rounds: number): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(BOOTSTRAP, { eval: true, workerData: { seed, rounds } });
    w.once('message', (m: WorkerResult) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker ${seed} exited with ${code}`));
    });
  });
}

/** What worker `seed` must get in round r: the sum of (i * (k % 7) + seed) for i < 100. */
function expectedSum(seed: number, r: number): number {
  const k = seed * 1000 + r;
  return (k % 7) * 4950 + 100 * seed;
}

describe('worker threads', () => {
  it('four workers and the main thread evaluate their own graphs at once, all right', async () => {
    const rounds = 40;
    const seeds = [1, 2, 3, 4];
    const running = seeds.map((s) => runWorker(s, rounds));
    // The main thread keeps computing meanwhile.
    for (let i = 0; i < 50; i++) {
      const v = ma.arange(8).astype('float32').multiply(i);
      expect(Number(ma.sum(v).item())).toBe(28 * i);
      v.dispose();
    }
    const results = await Promise.all(running);
    results.forEach((res, w) => {
      const seed = seeds[w];
      expect(res.sums).toEqual(Array.from({ length: rounds }, (_, r) => expectedSum(seed, r)));
      expect(res.asyncFirst).toBe(seed);
    });
  }, 120_000);
});
