/**
 * ma.compile on CUDA: host wall time per call of the compiled 100-op chain on 1024
 * float32 (the replay synchronizes), median of 1000 calls after 1000 warm-up calls.
 * Run twice on the GPU machine to compare one CUDA graph launch per replay with kernel
 * by kernel launches:
 *
 *   npx tsx bench/gpu/compile-graph.ts && METALARRAY_CUDA_GRAPHS=0 npx tsx bench/gpu/compile-graph.ts
 */
import * as ma from '../../src/index.js';

const WARMUP = 1000;
const ITERS = 1000;

function chain(x: ma.MetalArray): ma.MetalArray {
  let y = x;
  for (let i = 0; i < 100; i++) y = i % 3 === 2 ? y.sin() : i % 3 === 0 ? y.multiply(1.0001) : y.add(0.0001);
  return y;
}

const compiled = ma.compile(chain);
const x = ma.random.normal(ma.random.key(0), [1024]).to('cuda');
for (let i = 0; i < WARMUP; i++) compiled(x).dispose();
const before = ma.metrics();
const times: number[] = [];
for (let i = 0; i < ITERS; i++) {
  const t0 = performance.now();
  const y = compiled(x);
  times.push(performance.now() - t0);
  y.dispose();
}
const after = ma.metrics();
times.sort((a, b) => a - b);
const us = (q: number): string => (times[Math.floor(q * (times.length - 1))] * 1000).toFixed(1);
console.log(
  `compiled 100-op chain, 1024 f32, cuda, CUDA graphs ${process.env.METALARRAY_CUDA_GRAPHS === '0' ? 'off' : 'on'}: ` +
    `median ${us(0.5)} µs (p10 ${us(0.1)}, p90 ${us(0.9)}); per call: ${(after.graphLaunches - before.graphLaunches) / ITERS} graph launches, ` +
    `${(after.kernelLaunches - before.kernelLaunches) / ITERS} kernels; device ${ma.deviceInfo('cuda').name}`,
);
