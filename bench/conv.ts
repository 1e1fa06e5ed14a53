/**
 * conv2d forward + backward (gradients with respect to the input and the weight) of a
 * 3x3, C→C layer, padding 1, NHWC float32 on the cpu backend, beside PyTorch CPU
 * (bench/conv_peer.py under /work/venv-torch/bin/python, or $TORCH_PYTHON) in the same
 * run. Prints the medians and the ratio (PyTorch time / ours: >= 1 means we are faster).
 *
 *   npx tsx bench/conv.ts [--batch 32] [--size 56] [--channels 64] [--iters 3]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ma from '../src/index.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const batch = option('batch', 32);
const size = option('size', 56);
const channels = option('channels', 64);
const iters = option('iters', 3);

const x = ma.random.normal(ma.random.key(1), [batch, size, size, channels]);
const w = ma.random.normal(ma.random.key(2), [channels, 3, 3, channels]).multiply(0.05);
const u = ma.random.normal(ma.random.key(3), [batch, size, size, channels]);
ma.eval(x, w, u);

function step(): void {
  const [y, back] = ma.vjp((a: ma.MetalArray, b: ma.MetalArray) => ma.conv2d(a, b, { padding: 1 }), [x, w], [u]) as [ma.MetalArray, ma.MetalArray[]];
  ma.eval(y, ...back);
}

step();
const times: number[] = [];
for (let i = 0; i < iters; i++) {
  const t = performance.now();
  step();
  times.push((performance.now() - t) / 1000);
}
times.sort((a, b) => a - b);
const ours = times[Math.floor(times.length / 2)];

const python = process.env.TORCH_PYTHON ?? '/work/venv-torch/bin/python';
const peer = spawnSync(
  python,
  [
    join(dirname(fileURLToPath(import.meta.url)), 'conv_peer.py'),
    '--batch',
    `${batch}`,
    '--size',
    `${size}`,
    '--channels',
    `${channels}`,
    '--iters',
    `${iters}`,
  ],
  { encoding: 'utf8' },
);
if (peer.status !== 0) throw new Error(`conv_peer.py failed: ${peer.stderr}`);
const torch = JSON.parse(peer.stdout.trim().split('\n').pop() ?? '{}') as { median_s: number; threads: number; torch: string };
console.log(
  `conv2d 3x3 ${channels}->${channels} on [${batch}, ${size}, ${size}, ${channels}] fwd+bwd: metalarray ${ours.toFixed(3)} s, torch ${torch.torch} (${torch.threads} threads) ${torch.median_s.toFixed(3)} s, ratio torch/ours ${(torch.median_s / ours).toFixed(2)}`,
);
