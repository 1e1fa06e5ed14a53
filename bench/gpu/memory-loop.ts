/**
 * Issue 15 §1 on the GPU: a synchronous loop of 2000 iterations that makes 1M-element
 * float32 temporaries on the cuda backend and never disposes them (no tidy, no await).
 * The GC's finalizers return each buffer to the device pool; the figure is the pool's
 * peak of live device bytes (target < 1 GiB) and the driver's used memory at the end.
 * Run on the GPU machine: `METALARRAY_BACKEND=cuda npx tsx bench/gpu/memory-loop.ts`.
 */
import * as ma from '../../dist/index.js';

const iterations = 2000;
const n = 1 << 20;
ma.setBackend('cuda');
const x = ma.ones([n], 'float32');
let wrong = 0;
let peakActive = 0;
const t0 = performance.now();
for (let i = 0; i < iterations; i++) {
  const y = x.multiply(2).add(i); // 4 MiB of device memory, never disposed
  y.eval();
  if (Number(y.sum().item()) !== (2 + i) * n) wrong++;
  peakActive = Math.max(peakActive, ma.memory().activeBytes);
}
const ms = (performance.now() - t0) / iterations;
const m = ma.memory();
console.log(
  JSON.stringify({
    backend: ma.getBackend(),
    iterations,
    msPerIteration: ms,
    peakActiveMiB: peakActive / 2 ** 20,
    poolPeakMiB: m.peakBytes / 2 ** 20,
    activeMiBAtEnd: m.activeBytes / 2 ** 20,
    wrong,
  }),
);
