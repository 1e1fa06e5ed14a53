/**
 * gelu, silu and sigmoid on 4M float32 elements (uniform over [-10, 10]) on the cpu backend:
 * the median and the minimum of 25 evaluations, kernel compile excluded (the first run is
 * discarded). `npx tsx bench/activations.ts`; figures go to bench/README.md.
 */
import * as ma from '../src/index.js';

const N = 4 * 1024 * 1024;
const data = new Float32Array(N);
for (let i = 0; i < N; i++) data[i] = (((i * 2654435761) % 1000003) / 1000003) * 20 - 10;
const x = ma.array(data, 'float32');
const OPS: Record<string, (a: ma.MetalArray) => ma.MetalArray> = { gelu: ma.gelu, silu: ma.silu, sigmoid: ma.sigmoid };
for (const [name, op] of Object.entries(OPS)) {
  ma.eval(op(x)); // compile
  const times: number[] = [];
  for (let r = 0; r < 25; r++) {
    const t0 = performance.now();
    const y = op(x);
    ma.eval(y);
    times.push(performance.now() - t0);
    y.dispose();
  }
  times.sort((a, b) => a - b);
  console.log(`${name} float32 4M: median ${times[12].toFixed(2)} ms, min ${times[0].toFixed(2)} ms`);
}
