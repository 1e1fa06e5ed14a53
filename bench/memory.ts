/**
 * The memory section of `npm run bench` (issue 15 §1 and §4), also runnable alone:
 * `npm run build:ts && tsx bench/memory.ts`.
 *
 * - A synchronous loop of 2000 iterations that makes 1M-element float32 temporaries
 *   from one input (`y = x*2 + i; y.eval(); y.sum().item()`), each variant in a fresh
 *   process for its peak RSS: never disposed (the GC frees them), `dispose()`, `tidy`.
 * - gelu on 4M float32: evaluated alone, then evaluated and read with a copy and with
 *   `toTypedArray({ copy: false })`; the zero-copy read's target is ≤ 1.15× eval alone.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ma from '../dist/index.js';
import { GELU_N, gelu, uniform } from './workloads.js';

const LOOP_ITERATIONS = 2000;
const LOOP_N = 1 << 20;
const MiB = 2 ** 20;

type LoopMode = 'gc' | 'dispose' | 'tidy';

/** One loop variant, in this process (the child side). Prints a JSON line. */
function loopChild(mode: LoopMode): void {
  const x = ma.ones([LOOP_N], 'float32');
  let check = 0;
  const t0 = performance.now();
  for (let i = 0; i < LOOP_ITERATIONS; i++) {
    if (mode === 'tidy') {
      check += ma.tidy(() => {
        const y = x.multiply(2).add(i);
        y.eval();
        return Number(y.sum().item());
      });
    } else {
      const y = x.multiply(2).add(i);
      y.eval();
      check += Number(y.sum().item());
      if (mode === 'dispose') y.dispose();
    }
  }
  const ms = performance.now() - t0;
  const want = LOOP_N * (2 * LOOP_ITERATIONS + (LOOP_ITERATIONS * (LOOP_ITERATIONS - 1)) / 2);
  process.stdout.write(
    `${JSON.stringify({ msPerIteration: ms / LOOP_ITERATIONS, maxRssBytes: process.resourceUsage().maxRSS * 1024, right: check === want })}\n`,
  );
}

/** A row of the memory section. */
export interface MemoryRow {
  name: string;
  value: string;
  target: string;
}

function loopRow(mode: LoopMode): MemoryRow {
  const self = fileURLToPath(import.meta.url);
  const run = spawnSync(process.execPath, ['--import', 'tsx', self, `--loop=${mode}`], { encoding: 'utf8', timeout: 300_000 });
  const line = run.stdout?.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) {
    return { name: `loop, ${mode}`, value: `failed: ${(run.stderr ?? '').trim().split('\n').slice(-2).join(' ')}`, target: '' };
  }
  const r = JSON.parse(line) as { msPerIteration: number; maxRssBytes: number; right: boolean };
  const label = { gc: 'no dispose, no tidy, no await (GC frees)', dispose: 'y.dispose() each iteration', tidy: 'ma.tidy each iteration' }[mode];
  const rss = r.maxRssBytes / MiB;
  return {
    name: `2000 × 4 MiB temporaries, ${label}`,
    value: `peak RSS ${rss.toFixed(0)} MB, ${r.msPerIteration.toFixed(2)} ms/iter${r.right ? '' : ' (WRONG VALUES)'}`,
    target: mode === 'gc' ? `< 512 MB: **${rss < 512 ? 'met' : 'missed'}**` : '',
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** gelu 4M: eval alone against eval + read (copy, and zero-copy). */
function geluReadRows(): MemoryRow[] {
  const x = ma.array(uniform(GELU_N, -3, 3, 1));
  const variants: Record<'eval' | 'copy' | 'view', () => void> = {
    eval: () => {
      const y = gelu(x);
      y.eval();
      y.dispose();
    },
    copy: () => {
      const y = gelu(x);
      y.toTypedArray();
      y.dispose();
    },
    view: () => {
      const y = gelu(x);
      y.toTypedArray({ copy: false });
      y.dispose();
    },
  };
  const samples: Record<string, number[]> = { eval: [], copy: [], view: [] };
  for (const f of Object.values(variants)) for (let i = 0; i < 3; i++) f(); // warm up
  // Interleaved rounds, so load from other processes hits every variant alike.
  for (let round = 0; round < 25; round++) {
    for (const [k, f] of Object.entries(variants)) {
      const t0 = performance.now();
      f();
      samples[k].push(performance.now() - t0);
    }
  }
  x.dispose();
  const base = median(samples.eval);
  const copy = median(samples.copy);
  const view = median(samples.view);
  const minRatio = Math.min(...samples.view) / Math.min(...samples.eval);
  return [
    { name: 'gelu 4M f32: eval alone', value: `${base.toFixed(2)} ms`, target: '' },
    { name: 'gelu 4M f32: eval + toTypedArray() (copy)', value: `${copy.toFixed(2)} ms (${(copy / base).toFixed(2)}× eval)`, target: '' },
    {
      name: 'gelu 4M f32: eval + toTypedArray({ copy: false })',
      value: `${view.toFixed(2)} ms (${(view / base).toFixed(2)}× eval; fastest runs ${minRatio.toFixed(2)}×)`,
      target: `≤ 1.15× eval: **${view / base <= 1.15 ? 'met' : 'missed'}**`,
    },
  ];
}

/** Runs the memory section and prints its table; returns the rows. */
export function benchMemory(): MemoryRow[] {
  console.log(`\n[m] memory: GC-freed loops (fresh process each) and zero-copy reads, backend ${ma.getBackend()} ...`);
  const rows = [loopRow('gc'), loopRow('dispose'), loopRow('tidy'), ...geluReadRows()];
  console.log('\n| memory | figure | target |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.value} | ${r.target} |`);
  return rows;
}

const loopArg = process.argv.find((a) => a.startsWith('--loop='));
if (loopArg) loopChild(loopArg.slice('--loop='.length) as LoopMode);
else if (process.argv[1] === fileURLToPath(import.meta.url)) benchMemory();
