/**
 * valueAndGrad of a 4-layer MLP (width 1024, batch 512, float32, gelu, mean squared
 * error) on the cpu backend, beside PyTorch's `loss.backward()` on the same model
 * (bench/torch_peer.py, under `--python <path>` if given, else /usr/bin/python3 or python3,
 * whichever imports torch: Debian's python3-torch or pip's torch). Prints the medians, the
 * ratio, the peak pool bytes of one step and, like for like with PyTorch's figure, the growth
 * of the process's peak RSS over the steps (getrusage's maxrss in both processes).
 *
 *   npx tsx bench/grad_mlp.ts [--iters 10] [--width 1024] [--batch 512] [--python /path/to/python]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ma from '../src/index.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const iters = option('iters', 10);
const width = option('width', 1024);
const batch = option('batch', 512);
const layers = 4;

type Params = { w: ma.MetalArray; b: ma.MetalArray }[];

function init(): Params {
  const params: Params = [];
  for (let l = 0; l < layers; l++) {
    const key = ma.random.key(l + 1);
    params.push({
      w: ma.random
        .normal(key, [width, width])
        .multiply(1 / Math.sqrt(width))
        .eval(),
      b: ma.zeros([width]).eval(),
    });
  }
  return params;
}

function loss(params: Params, x: ma.MetalArray, y: ma.MetalArray): ma.MetalArray {
  let h = x;
  params.forEach((p, l) => {
    h = ma.matmul(h, p.w).add(p.b);
    if (l < layers - 1) h = ma.gelu(h);
  });
  return h.subtract(y).square().mean();
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const params = init();
const x = ma.random.normal(ma.random.key(10), [batch, width]).eval();
const y = ma.random.normal(ma.random.key(11), [batch, width]).eval();
const step = ma.valueAndGrad(loss);
// Peak RSS before the steps (KiB, getrusage's maxrss), as torch_peer.py takes it after its setup.
const rssBefore = process.resourceUsage().maxRSS;
const times: number[] = [];
let launches = 0;
let peak = 0;
for (let i = 0; i < iters + 2; i++) {
  const base = ma.memory().activeBytes;
  const t0 = performance.now();
  ma.resetMetrics();
  const [value, grads] = step(params, x, y);
  ma.eval(value, ...grads.flatMap((g) => [g.w, g.b]));
  const t1 = performance.now();
  launches = ma.metrics().kernelLaunches;
  peak = Math.max(peak, ma.memory().peakBytes - base);
  if (i >= 2) times.push(t1 - t0);
}
const maMs = median(times);
const rssGrowth = (process.resourceUsage().maxRSS - rssBefore) * 1024;

const here = dirname(fileURLToPath(import.meta.url));
// Debian's python3-torch installs for /usr/bin/python3; a pyenv or venv python3 may have pip's torch.
const pythonFlag = process.argv.indexOf('--python');
const python =
  pythonFlag >= 0
    ? (process.argv[pythonFlag + 1] as string)
    : (['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) ?? 'python3');
const peer = spawnSync(python, [join(here, 'torch_peer.py'), '--iters', String(iters), '--width', String(width), '--batch', String(batch)], {
  encoding: 'utf8',
  timeout: 600_000,
});
const torch =
  peer.status === 0
    ? (JSON.parse(peer.stdout.trim().split('\n').pop() as string) as { ms: number; version: string; threads: number; peakBytes: number | null })
    : null;
console.log(`MLP valueAndGrad, ${layers} layers, width ${width}, batch ${batch}, float32, cpu; ${iters} iterations after 2 warm-up`);
console.log(
  `  metalarray: median ${maMs.toFixed(1)} ms, ${launches} kernel launches, pool peak above the inputs ${(peak / 2 ** 20).toFixed(0)} MiB, peak RSS growth ${(rssGrowth / 2 ** 20).toFixed(0)} MiB`,
);
if (torch === null) console.log(`  PyTorch: not run (${peer.error?.message ?? peer.stderr.trim().split('\n').pop()})`);
else {
  console.log(
    `  PyTorch ${torch.version} (${torch.threads} threads): median ${torch.ms.toFixed(1)} ms${torch.peakBytes === null ? '' : `, peak RSS growth ${(torch.peakBytes / 2 ** 20).toFixed(0)} MiB`}`,
  );
  console.log(`  speed ratio (PyTorch time / metalarray time): ${(torch.ms / maMs).toFixed(2)}x`);
  if (torch.peakBytes !== null && torch.peakBytes > 0)
    console.log(`  peak RSS growth ratio (metalarray / PyTorch): ${(rssGrowth / torch.peakBytes).toFixed(2)}x`);
}
