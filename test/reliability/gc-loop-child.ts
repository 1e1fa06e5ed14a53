/**
 * Run in a fresh process by gc-memory.test.ts (its peak RSS is the figure): a
 * synchronous loop that makes 1M-element float32 temporaries from one input and never
 * disposes them (no tidy, no await), then the same with zero-copy reads. Prints one
 * JSON line: peak RSS in bytes, pool bytes at the end, and how many values were wrong.
 */
import * as ma from '../../src/index.js';

const iterations = Number(process.argv[2] ?? 2000);
const n = 1 << 20;
const x = ma.ones([n], 'float32');
let wrong = 0;
for (let i = 0; i < iterations; i++) {
  const y = x.multiply(2).add(i); // 4 MiB, evaluated and never disposed
  y.eval();
  if (Number(y.sum().item()) !== (2 + i) * n) wrong++;
}
for (let i = 0; i < iterations / 4; i++) {
  const v = x.multiply(3).add(i).toTypedArray({ copy: false }) as Float32Array;
  if (v[n - 1] !== 3 + i) wrong++;
}
const m = ma.memory();
process.stdout.write(`${JSON.stringify({ maxRss: process.resourceUsage().maxRSS * 1024, activeBytes: m.activeBytes, wrong })}\n`);
