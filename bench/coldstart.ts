/**
 * Cold and warm start on the cpu backend (issue 15 §3, issue 16 §4), each case in a fresh
 * process: cold on an empty kernel-cache directory, warm on the same directory once its
 * background -O3 builds have landed.
 *
 *  - elementwise: the first eval of a new fused elementwise graph (target cold ≤ 100 ms;
 *    warm is the cached-plan start, target ≤ 5 ms: plan, verified cache lookup, dlopen, run);
 *  - normal: the first `random.normal` from a fresh key (target cold ≤ 300 ms);
 *  - kmeans: `examples/kmeans.ts` end to end, process start to exit (target cold ≤ 2 s).
 *
 * Besides wall time each row gives the CPU time of the process and the compilers it
 * waited for (from /proc/self/stat's cutime/cstime in this parent): on a machine shared
 * with other jobs the wall time mostly measures the wait for a core.
 *
 * `npx tsx bench/coldstart.ts` (also `npm run bench -- --only=coldstart`). The child
 * mode (`--case NAME`) prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);
const ROOT = join(dirname(HERE), '..');

/** The child: times one case from its first library call to the result read back. */
async function child(name: string): Promise<void> {
  const ma = await import('../src/index.js');
  const salt = Number(process.env.COLDSTART_SALT ?? 1);
  const cpu0 = process.cpuUsage();
  const children0 = childrenCpuMs();
  const t0 = performance.now();
  let checksum = 0;
  let secondMs: number | undefined;
  if (name === 'elementwise') {
    const x = ma.linspace(-1, 1, 4096, true, 'float32');
    const y = ma
      .tanh(x.multiply(1.25 + salt / 1024).add(0.5))
      .multiply(ma.exp(x.negative()))
      .subtract(x.square());
    const v = y.toTypedArray() as Float32Array;
    checksum = v[0] + v[v.length - 1];
    // A second unseen graph, in a process whose library code and addon are loaded:
    // warm, this is the cached-plan start (plan, verified cache lookup, dlopen, run).
    const t1 = performance.now();
    const w = ma
      .sin(x.multiply(0.75 + salt / 2048))
      .add(ma.sqrt(x.square().add(1)))
      .divide(3)
      .toTypedArray() as Float32Array;
    checksum += w[0];
    secondMs = performance.now() - t1;
  } else if (name === 'normal') {
    const v = ma.random.normal(ma.random.key(salt), [1024]).toTypedArray() as Float32Array;
    checksum = v[0] + v[v.length - 1];
  } else {
    throw new Error(`coldstart: unknown case ${name}`);
  }
  const ms = performance.now() - t0 - (secondMs ?? 0);
  // CPU time of the whole span (both graphs for 'elementwise'): this process and the
  // compilers it waited for; on a loaded machine the wall time is mostly the wait for a core.
  const own = process.cpuUsage(cpu0);
  const spanCpuMs = (own.user + own.system) / 1000 + childrenCpuMs() - children0;
  const m = ma.metrics();
  process.stdout.write(`${JSON.stringify({ ms, secondMs, spanCpuMs, checksum, compiled: m.kernelsCompiled, hits: m.kernelCacheHits })}\n`);
}

/** CPU seconds of waited-for children so far (utime + stime of descendants, Linux). */
function childrenCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // After "pid (comm) ": state is field 3; cutime and cstime are fields 16 and 17.
    const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

interface Measured {
  wallMs: number;
  cpuMs: number;
  report?: { ms: number; secondMs?: number; spanCpuMs?: number; compiled: number; hits: number };
}

function runProcess(args: string[], cacheDir: string, salt: number): Measured {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, METALARRAY_BACKEND: 'cpu', METALARRAY_CACHE_DIR: cacheDir, COLDSTART_SALT: String(salt) },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`coldstart: ${args.join(' ')} failed (${r.status}): ${r.stderr.split('\n').slice(0, 12).join('\n')}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  const report = last.startsWith('{') ? JSON.parse(last) : undefined;
  return { wallMs, cpuMs: childrenCpuMs() - cpu0, report };
}

/** Waits until every entry in the cache is an -O3 build (the background builds landed). */
function waitForFullBuilds(cacheDir: string): number {
  const t0 = performance.now();
  const dir = join(cacheDir, 'cpu');
  while (performance.now() - t0 < 180_000) {
    const entries = readdirSync(dir).filter((f) => f.endsWith('.json'));
    const pending = entries.filter((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { opt: number }).opt < 3);
    if (entries.length > 0 && pending.length === 0) break;
    spawnSync('sleep', ['0.2']);
  }
  return performance.now() - t0;
}

interface Row {
  name: string;
  target: string;
  cold: Measured;
  warm: Measured;
  upgradeWaitMs: number;
}

function measure(name: string, args: string[], target: string, salt: number): Row {
  const cacheDir = mkdtempSync(join(os.tmpdir(), 'ma-coldstart-'));
  try {
    const cold = runProcess(args, cacheDir, salt);
    const upgradeWaitMs = waitForFullBuilds(cacheDir);
    const warm = runProcess(args, cacheDir, salt);
    return { name, target, cold, warm, upgradeWaitMs };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

function parent(): void {
  const salt = Date.now() % 100_000; // a graph no earlier run compiled
  console.log(`cold start (cpu), each case in a fresh process; load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores`);
  // --only=elementwise,normal,kmeans picks cases (all by default).
  const only = process.argv
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const want = (name: string): boolean => !only || only.includes(name);
  const rows: Row[] = [];
  if (want('elementwise')) rows.push(measure('first eval, fused elementwise graph', [HERE, '--case', 'elementwise'], 'cold ≤ 100 ms', salt));
  if (want('normal')) rows.push(measure('first random.normal from a fresh key', [HERE, '--case', 'normal'], 'cold ≤ 300 ms', salt));
  if (want('kmeans')) rows.push(measure('k-means example, whole process', [join(ROOT, 'examples', 'kmeans.ts')], 'cold ≤ 2 s', salt));
  const fmt = (m: Measured): string =>
    `${(m.report ? m.report.ms : m.wallMs).toFixed(1).padStart(9)} ms${m.report ? ` (${m.report.compiled} compiled)` : ''}`.padEnd(32);
  const spanCpu = (m: Measured): string => (m.report?.spanCpuMs !== undefined ? `${m.report.spanCpuMs.toFixed(0)} ms` : '-');
  console.log(`${'case'.padEnd(40)}${'cold: timed span'.padEnd(32)}${'cold: process wall / CPU'.padEnd(28)}${'warm: timed span'.padEnd(32)}target`);
  for (const r of rows) {
    const wallCpu = `${r.cold.wallMs.toFixed(0)} / ${r.cold.cpuMs.toFixed(0)} ms`.padEnd(28);
    console.log(
      `${r.name.padEnd(40)}${fmt(r.cold)}${wallCpu}${fmt(r.warm)}${r.target}; warm process wall / CPU ${r.warm.wallMs.toFixed(0)} / ${r.warm.cpuMs.toFixed(0)} ms`,
    );
    const cold2 = r.cold.report?.secondMs;
    const warm2 = r.warm.report?.secondMs;
    if (cold2 !== undefined && warm2 !== undefined) {
      const ms = (v: number): string => `${v.toFixed(1).padStart(9)} ms`;
      console.log(`${'  then a second new graph'.padEnd(40)}${ms(cold2).padEnd(60)}${ms(warm2).padEnd(32)}warm (cached plan) ≤ 5 ms`);
    }
  }
  for (const r of rows) {
    if (r.cold.report)
      console.log(
        `  ${r.name}: CPU of the timed span${r.cold.report.secondMs !== undefined ? ' (both graphs)' : ''}: cold ${spanCpu(r.cold)}, warm ${spanCpu(r.warm)}`,
      );
  }
  console.log(
    `(timed span: in-process, first library call to result read back; for k-means the whole process wall time. CPU: the process and the compilers it waited for. First tier: ${process.env.METALARRAY_TCC === '0' ? 'GCC -O0 (METALARRAY_TCC=0)' : 'TinyCC where installed'}.)`,
  );
  console.log(`background -O3 builds landed ${rows.map((r) => `${(r.upgradeWaitMs / 1000).toFixed(1)} s`).join(', ')} after each cold run exited`);
}

const caseIndex = process.argv.indexOf('--case');
if (caseIndex >= 0) await child(process.argv[caseIndex + 1]);
else parent();
