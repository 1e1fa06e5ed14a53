/**
 * One AdamW step over an MLP's parameters (float32, cpu backend; `--layers` weight
 * matrices [width, width] and their biases), gradients fixed, in steps per second,
 * beside PyTorch's `torch.optim.AdamW` (foreach and single-tensor, one thread and one
 * per core) in the same run
 * (bench/optimizer_peer.py under /usr/bin/python3 or python3, whichever imports torch).
 * Prints the medians of `--repeats` timed runs of `--steps` steps, the kernels per step
 * and the ratio.
 *
 *   npx tsx bench/optimizer_step.ts [--width 256] [--layers 4] [--steps 100] [--repeats 3]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ma from '../src/index.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const width = option('width', 256);
const layers = option('layers', 4);
const steps = option('steps', 100);
const repeats = option('repeats', 3);

type Params = { weight: ma.MetalArray; bias: ma.MetalArray }[];

let params: Params = [];
const grads: Params = [];
for (let l = 0; l < layers; l++) {
  params.push({ weight: ma.random.normal(ma.random.key(l + 1), [width, width]).eval(), bias: ma.zeros([width]).eval() });
  grads.push({
    weight: ma.random
      .normal(ma.random.key(100 + l), [width, width])
      .multiply(0.01)
      .eval(),
    bias: ma.random
      .normal(ma.random.key(200 + l), [width])
      .multiply(0.01)
      .eval(),
  });
}
const opt = new ma.optimizers.AdamW({ learningRate: 1e-3, weightDecay: 0.01 });
for (let i = 0; i < 20; i++) params = opt.applyGradients(grads, params);
ma.resetMetrics();
params = opt.applyGradients(grads, params);
const kernels = ma.metrics().kernelLaunches;
const rates: number[] = [];
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) params = opt.applyGradients(grads, params);
  rates.push(steps / ((performance.now() - t0) / 1000));
}
rates.sort((a, b) => a - b);
const ours = rates[Math.floor(rates.length / 2)] as number;

const here = dirname(fileURLToPath(import.meta.url));
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) ?? 'python3';
const peer = spawnSync(
  python,
  [join(here, 'optimizer_peer.py'), '--width', String(width), '--layers', String(layers), '--steps', String(steps), '--repeats', String(repeats)],
  { encoding: 'utf8', timeout: 600_000 },
);
type PeerRun = { threads: number; foreach: boolean; stepsPerSecond: number };
const torch = peer.status === 0 ? (JSON.parse(peer.stdout.trim().split('\n').pop() as string) as { version: string; runs: PeerRun[] }) : null;
const count = params.length * 2;
const elements = layers * (width * width + width);
console.log(
  `AdamW step, MLP ${layers} x [${width}, ${width}] + biases (${count} arrays, ${elements} floats), float32, cpu; median of ${repeats} x ${steps} steps`,
);
console.log(`  metalarray: ${ours.toFixed(0)} steps/s, ${kernels} kernels per step`);
if (torch === null) console.log(`  PyTorch: not run (${peer.error?.message ?? peer.stderr.trim().split('\n').pop()})`);
else {
  for (const run of torch.runs) {
    console.log(
      `  PyTorch ${torch.version} AdamW ${run.foreach ? 'foreach' : 'single-tensor'}, ${run.threads} thread(s): ${run.stepsPerSecond.toFixed(0)} steps/s`,
    );
  }
  const foreach = Math.max(...torch.runs.filter((r) => r.foreach).map((r) => r.stepsPerSecond));
  const single = Math.max(...torch.runs.filter((r) => !r.foreach).map((r) => r.stepsPerSecond));
  console.log(`  ratio (metalarray / PyTorch's best): ${(ours / foreach).toFixed(2)}x foreach, ${(ours / single).toFixed(2)}x single-tensor`);
}
