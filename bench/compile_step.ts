/**
 * A training step of a small MLP (2 layers, width 256, batch 64, float32, gelu, mean
 * squared error): valueAndGrad plus an AdamW update written with ops, uncompiled and
 * through ma.compile with the parameters and the Adam moments as `{ inputs, outputs }`
 * state (issue 20 §2). Checks that both give the same parameters after the timed steps,
 * then prints the medians and the speedup.
 *
 *   npx tsx bench/compile_step.ts [--iters 200] [--width 256] [--batch 64]
 */
import * as ma from '../src/index.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const iters = option('iters', 200);
const width = option('width', 256);
const batch = option('batch', 64);
const layers = 2;
const [lr, beta1, beta2, eps, decay] = [1e-3, 0.9, 0.999, 1e-8, 1e-2];

type Layer = { w: ma.MetalArray; b: ma.MetalArray };
interface State {
  params: Layer[];
  m: Layer[];
  v: Layer[];
}

function init(): State {
  const params: Layer[] = [];
  for (let l = 0; l < layers; l++) {
    params.push({
      w: ma.random
        .normal(ma.random.key(l + 1), [width, width])
        .multiply(1 / Math.sqrt(width))
        .eval(),
      b: ma.zeros([width], 'float32'),
    });
  }
  const zeros = (): Layer[] => params.map((p) => ({ w: ma.zerosLike(p.w), b: ma.zerosLike(p.b) }));
  return { params, m: zeros(), v: zeros() };
}

function loss(params: Layer[], x: ma.MetalArray, y: ma.MetalArray): ma.MetalArray {
  let h = x;
  for (const p of params) h = ma.gelu(h.matmul(p.w).add(p.b));
  return h.subtract(y).square().mean();
}

const lossAndGrad = ma.valueAndGrad(loss);

/** One AdamW step on `s` in place; `stepSize` is lr * sqrt(1 - beta2^t) / (1 - beta1^t), a float32 scalar array. */
function trainStep(s: State, x: ma.MetalArray, y: ma.MetalArray, stepSize: ma.MetalArray): ma.MetalArray {
  const [value, grads] = lossAndGrad(s.params, x, y) as [ma.MetalArray, Layer[]];
  for (let l = 0; l < layers; l++) {
    for (const k of ['w', 'b'] as const) {
      const g = (grads[l] as Layer)[k];
      const m = (s.m[l] as Layer)[k].multiply(beta1).add(g.multiply(1 - beta1));
      const v = (s.v[l] as Layer)[k].multiply(beta2).add(g.square().multiply(1 - beta2));
      const p = (s.params[l] as Layer)[k];
      (s.m[l] as Layer)[k] = m;
      (s.v[l] as Layer)[k] = v;
      (s.params[l] as Layer)[k] = p.multiply(1 - lr * decay).subtract(m.divide(v.sqrt().add(eps)).multiply(stepSize));
    }
  }
  return value;
}

const x = ma.random.normal(ma.random.key(100), [batch, width]).eval();
const y = ma.random.normal(ma.random.key(101), [batch, width]).eval();
const stepSizes = Array.from({ length: iters + 20 }, (_, t) => ma.array((lr * Math.sqrt(1 - beta2 ** (t + 1))) / (1 - beta1 ** (t + 1)), 'float32'));

function run(label: string, step: (t: number) => ma.MetalArray, s: State): number {
  const times: number[] = [];
  for (let t = 0; t < iters + 20; t++) {
    const t0 = performance.now();
    const value = step(t);
    ma.eval(value, ...s.params.flatMap((p) => [p.w, p.b]), ...s.m.flatMap((p) => [p.w, p.b]), ...s.v.flatMap((p) => [p.w, p.b]));
    if (t >= 20) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1] as number;
  console.log(`${label}: median ${(median * 1000).toFixed(0)} µs per step (p10 ${((times[Math.floor(times.length / 10)] as number) * 1000).toFixed(0)} µs)`);
  return median;
}

const plain = init();
const uncompiled = run('uncompiled', (t) => trainStep(plain, x, y, stepSizes[t] as ma.MetalArray), plain);
const state = init();
const compiled = ma.compile((xs: ma.MetalArray, ys: ma.MetalArray, size: ma.MetalArray) => trainStep(state, xs, ys, size), { inputs: state, outputs: state });
const fast = run('compiled  ', (t) => compiled(x, y, stepSizes[t] as ma.MetalArray), state);
const diff = plain.params.map(
  (p, l) =>
    p.w
      .subtract((state.params[l] as Layer).w)
      .abs()
      .max()
      .item() as number,
);
console.log(`max |Δw| after ${iters + 20} steps, uncompiled vs compiled: ${Math.max(...diff)}; traces: ${ma.compileCacheInfo().traces}`);
console.log(`speedup: ${(uncompiled / fast).toFixed(2)}× (target ≥ 1.5× on the CPU)`);
