/**
 * GPU benchmarks: the library's CUDA backend beside PyTorch eager, torch.compile and
 * jax.jit (bench/gpu/peers.py, run first in the same job; its JSON is passed with
 * --peers=FILE). Library times are device times from CUDA events around each run of the
 * workload's plan (the same launches eval() issues), medians after warm-up; the chain is
 * host wall time per eval, graph building and sync included. It imports the built
 * library (dist/, as users run it; `npm run build:ts` first), not the sources through
 * tsx, whose helpers cost the chain about 40 µs per eval. Run on the GPU machine:
 *
 *   python3 bench/gpu/peers.py > peers.json && npx tsx bench/gpu/run.ts --peers=peers.json
 */
import { readFileSync } from 'node:fs';
import * as ma from '../../dist/index.js';
import { bindPlan, planFor } from '../../dist/engine/executor.js';
import type { Node } from '../../dist/core/node.js';
import type { CudaBackend } from '../../dist/runtime/cuda/backend.js';
import { backendFor } from '../../dist/runtime/registry.js';

const WARMUP = 5;
const ITERS = 30;
/** Host wall time (the chain) needs a long warm-up, as in peers.py: V8's optimizing tiers settle over hundreds of calls. */
const CHAIN_WARMUP = 1000;
const CHAIN_ITERS = 1000;

interface Workload {
  name: string;
  /** 'GB/s' (bytes moved at least once) or 'TFLOP/s', or 'us'/'ms' for host wall time. */
  unit: 'GB/s' | 'TFLOP/s' | 'us' | 'ms';
  /** Bytes or FLOPs per run. */
  amount: number;
  build?: () => ma.MetalArray;
  note?: string;
  /** Float32 matmul precision while the plan is built. */
  precision?: ma.MatmulPrecision;
  /** The peers' workload to compare with, when not `name`. */
  peer?: string;
}

function randn(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 2) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = (s + 1) / 4294967297;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = s / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

function input(shape: number[], seed: number): ma.MetalArray {
  const x = ma
    .array(
      randn(
        shape.reduce((p, d) => p * d, 1),
        seed,
      ),
    )
    .reshape(shape);
  x.eval();
  return x;
}

function nodeOf(x: ma.MetalArray): Node {
  // liveNode is internal (left out of the published .d.ts by stripInternal), so typed here.
  return (x as unknown as { liveNode(op: string): Node }).liveNode('bench');
}

function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Device ms (median) of the plan that evaluates `y`. */
function deviceTime(backend: CudaBackend, y: ma.MetalArray): { ms: number; kernels: number } {
  const { plan, nodes } = planFor([nodeOf(y)], backend, { fusion: true, cpuMatmul: 'generated' });
  const run = bindPlan(plan, nodes);
  try {
    backend.time(run.commands, run.args, WARMUP);
    return { ms: median(backend.time(run.commands, run.args, ITERS)), kernels: plan.kernelCount };
  } finally {
    run.abandon();
  }
}

function chainOnce(x: ma.MetalArray): void {
  let y = x;
  for (let i = 0; i < 100; i++) y = i % 2 === 0 ? y.multiply(1.0001) : y.add(0.0001);
  y.eval();
  y.dispose();
}

type MlpParams = { w: ma.MetalArray; b: ma.MetalArray }[];

/** Issue 19 §3: the 4-layer MLP of bench/grad_mlp.ts (width 1024, batch 512, gelu, MSE). */
function mlpLoss(params: MlpParams, x: ma.MetalArray, y: ma.MetalArray): ma.MetalArray {
  let h = x;
  params.forEach((p, l) => {
    h = ma.matmul(h, p.w).add(p.b);
    if (l < params.length - 1) h = ma.gelu(h);
  });
  return h.subtract(y).square().mean();
}

/** Host wall ms (median) of one valueAndGrad step of the MLP, gradients evaluated (eval waits for the device), and its launches. */
function mlpGradTime(): { ms: number; kernels: number } {
  const width = 1024;
  const params: MlpParams = [];
  for (let l = 0; l < 4; l++)
    params.push({
      w: input([width, width], 40 + l)
        .multiply(1 / Math.sqrt(width))
        .eval(),
      b: ma.zeros([width]).eval(),
    });
  const x = input([512, width], 50);
  const y = input([512, width], 51);
  const step = ma.valueAndGrad(mlpLoss);
  const times: number[] = [];
  let kernels = 0;
  for (let i = 0; i < 60; i++) {
    ma.resetMetrics();
    const t0 = performance.now();
    const [value, grads] = step(params, x, y);
    const outs = [value, ...grads.flatMap((g) => [g.w, g.b])];
    ma.eval(...outs);
    const t1 = performance.now();
    kernels = ma.metrics().kernelLaunches;
    for (const o of outs) o.dispose();
    if (i >= 10) times.push(t1 - t0);
  }
  return { ms: median(times), kernels };
}

// The same chain through ma.compile (issue 20): traced once, then one bind + launch + sync per call.
const compiledChain = ma.compile((x: ma.MetalArray) => {
  let y = x;
  for (let i = 0; i < 100; i++) y = i % 2 === 0 ? y.multiply(1.0001) : y.add(0.0001);
  return y;
});

function compiledChainOnce(x: ma.MetalArray): void {
  compiledChain(x).dispose();
}

function main(): void {
  const peersArg = process.argv.find((a) => a.startsWith('--peers='));
  const peers = peersArg ? JSON.parse(readFileSync(peersArg.slice(8), 'utf8')) : { workloads: {}, copy_gbps: Number.NaN };
  ma.setBackend('cuda');
  const backend = backendFor('cuda') as CudaBackend;
  const M4 = 4096;
  const x16m = input([1 << 24], 1);
  const a4k = input([M4, M4], 2);
  const mu = input([M4], 3);
  const sc = input([M4], 4);
  const bi = input([M4], 5);
  const x64m = input([1 << 26], 6);
  const ln = input([8192, 1024], 7);
  const lg = input([1024], 8);
  const lb = input([1024], 9);
  const ma4 = input([M4, M4], 10);
  const mb4 = input([M4, M4], 11);
  const bias = input([M4], 12);
  const c1k = input([1024], 13);
  const f = 4;
  const mmFlops = 2 * M4 ** 3;
  const workloads: Workload[] = [
    { name: 'gelu', unit: 'GB/s', amount: 2 * f * 2 ** 24, build: () => ma.gelu(x16m) },
    { name: 'affine', unit: 'GB/s', amount: 2 * f * M4 * M4, build: () => a4k.subtract(mu).multiply(sc).add(bi) },
    { name: 'rowsum', unit: 'GB/s', amount: f * M4 * M4, build: () => a4k.sum(1) },
    { name: 'sum', unit: 'GB/s', amount: f * 2 ** 26, build: () => x64m.sum() },
    { name: 'softmax', unit: 'GB/s', amount: 2 * f * M4 * M4, build: () => ma.softmax(a4k, -1) },
    {
      name: 'layernorm',
      unit: 'GB/s',
      amount: 2 * f * 8192 * 1024,
      build: () => {
        const m = ma.mean(ln, -1, true);
        const v = ma.var(ln, -1, true);
        return ln
          .subtract(m)
          .divide(ma.sqrt(v.add(1e-5)))
          .multiply(lg)
          .add(lb);
      },
    },
    { name: 'matmul', unit: 'TFLOP/s', amount: mmFlops, build: () => ma.matmul(ma4, mb4) },
    {
      name: 'matmul-tf32',
      unit: 'TFLOP/s',
      amount: mmFlops,
      precision: 'tf32',
      build: () => ma.matmul(ma4, mb4),
    },
    { name: 'matmul-relu', unit: 'TFLOP/s', amount: mmFlops, build: () => ma.relu(ma.matmul(ma4, mb4).add(bias)) },
    { name: 'chain', unit: 'us', amount: 0 },
    { name: 'chain (ma.compile)', unit: 'us', amount: 0, peer: 'chain' },
    { name: 'mlp-grad', unit: 'ms', amount: 0, note: 'valueAndGrad of a 4-layer MLP (width 1024, batch 512): host ms per step, sync included' },
  ];
  const peerNames = ['torch eager', 'torch.compile', 'jax.jit'];
  const wall = (w: Workload): boolean => w.unit === 'us' || w.unit === 'ms';
  const rate = (w: Workload, ms: number): number =>
    w.unit === 'us' ? ms * 1000 : w.unit === 'ms' ? ms : w.amount / (ms * 1e-3) / (w.unit === 'GB/s' ? 1e9 : 1e12);
  const fmt = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
  const rows: string[] = [];
  rows.push(
    `device: ${peers.device ?? 'unknown'}; torch ${peers.torch ?? '?'}, jax ${peers.jax ?? '?'}; device-to-device copy ${fmt(peers.copy_gbps)} GB/s (read + write)`,
  );
  rows.push('');
  rows.push('| workload | unit | metalarray | kernels | torch eager | torch.compile | jax.jit | vs eager | vs compile | % of copy BW |');
  rows.push('|---|---|---|---|---|---|---|---|---|---|');
  const result: Record<string, unknown> = {};
  let chainNative = Number.NaN;
  for (const w of workloads) {
    let ms = Number.NaN;
    let kernels = 0;
    if (w.unit === 'us') {
      const once = w.name === 'chain' ? chainOnce : compiledChainOnce;
      for (let i = 0; i < CHAIN_WARMUP; i++) once(c1k);
      const t: number[] = [];
      for (let i = 0; i < CHAIN_ITERS; i++) {
        const t0 = performance.now();
        once(c1k);
        t.push(performance.now() - t0);
      }
      ms = median(t);
      kernels = 1;
    }
    if (w.name === 'chain') {
      // Where the time goes: the native launch + stream sync alone, on a bound plan.
      let y = c1k;
      for (let i = 0; i < 100; i++) y = i % 2 === 0 ? y.multiply(1.0001) : y.add(0.0001);
      const { plan, nodes } = planFor([nodeOf(y)], backend, { fusion: true, cpuMatmul: 'generated' });
      const run = bindPlan(plan, nodes);
      const t2: number[] = [];
      for (let i = 0; i < CHAIN_ITERS; i++) {
        const t0 = performance.now();
        backend.run(run.commands, run.args);
        t2.push(performance.now() - t0);
      }
      run.abandon();
      chainNative = median(t2) * 1000;
    } else if (w.name === 'mlp-grad') {
      ({ ms, kernels } = mlpGradTime());
    } else {
      try {
        const y = (w.build as () => ma.MetalArray)();
        ma.setMatmulPrecision(w.precision ?? 'highest');
        const r = deviceTime(backend, y);
        ma.setMatmulPrecision('highest');
        ms = r.ms;
        kernels = r.kernels;
      } catch (err) {
        console.error(`bench: ${w.name} failed: ${(err as Error).message}`);
        rows.push(`| ${w.name} | ${w.unit} | failed: ${(err as Error).message.split('\n')[0]} |`);
        continue;
      }
    }
    const mine = rate(w, ms);
    const peerMs: Record<string, number> = peers.workloads[w.peer ?? w.name] ?? {};
    const peerRate = peerNames.map((p) => (peerMs[p] === undefined ? undefined : rate(w, peerMs[p])));
    // Ratios: > 1 means metalarray is faster (times for 'us', rates otherwise).
    const ratio = (p: number | undefined): string => {
      if (p === undefined) return 'n/a';
      return (wall(w) ? p / mine : mine / p).toFixed(2);
    };
    const bw = w.unit === 'GB/s' ? `${((100 * mine) / peers.copy_gbps).toFixed(0)}%` : '';
    rows.push(
      `| ${w.name}${w.note ? ' *' : ''} | ${w.unit} | ${fmt(mine)} | ${kernels} | ${peerRate.map(fmt).join(' | ')} | ${ratio(peerRate[0])} | ${ratio(peerRate[1])} | ${bw} |`,
    );
    result[w.name] = { ms, rate: mine, kernels, peers: peerMs };
    console.error(`bench: ${w.name} ${fmt(mine)} ${w.unit}`);
  }
  rows.push('');
  rows.push(`chain: of the host time per eval, ${fmt(chainNative)} µs is the native launch and stream synchronization of the bound plan.`);
  rows.push('Ratios > 1: metalarray faster. GB/s counts each input read once and each output written once. chain: host µs per eval (lower is better).');
  for (const w of workloads) if (w.note) rows.push(`* ${w.name}: ${w.note}.`);
  console.log(rows.join('\n'));
  console.log(`\nJSON ${JSON.stringify({ date: new Date().toISOString(), peers, result })}`);
}

main();
