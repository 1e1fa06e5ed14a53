// ma.distributed over Open MPI: small scripts under test/distributed/workers run with
// `mpirun -np 2` and `-np 3` (an odd size). They skip when mpirun is absent, unless
// REQUIRE_MPI=1 (CI), which makes a missing mpirun a failure.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const hasMpirun = spawnSync('mpirun', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasMpirun && process.env.REQUIRE_MPI === '1') throw new Error('REQUIRE_MPI=1 but mpirun is not on PATH (apt-get install openmpi-bin)');
const SKIP_REASON = 'mpirun not found: install openmpi-bin (REQUIRE_MPI=1 makes this a failure)';

interface Report {
  rank: number;
  size: number;
  checks: number;
  failures: string[];
}

function mpirun(np: number, worker: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('mpirun', ['-np', String(np), '--oversubscribe', '--allow-run-as-root', 'node', '--import', 'tsx', join(here, 'workers', worker)], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function reports(stdout: string): Report[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{"rank"'))
    .map((l) => JSON.parse(l) as Report)
    .sort((a, b) => a.rank - b.rank);
}

describe.skipIf(!hasMpirun)(`distributed over MPI${hasMpirun ? '' : ` (skipped: ${SKIP_REASON})`}`, () => {
  it('every collective on every dtype matches the single-process result on 3 ranks', { timeout: 240_000 }, () => {
    const r = mpirun(3, 'collectives.ts');
    const got = reports(r.stdout);
    expect(
      got.map((x) => [x.rank, x.size]),
      r.stdout + r.stderr,
    ).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
    ]);
    for (const x of got) {
      expect(x.failures).toEqual([]);
      expect(x.checks).toBe(13 * 7 + 4); // 13 dtypes x 7 collectives, fused, 2 splits, split sum
    }
    expect(r.status).toBe(0);
  });

  it('gradients through collectives, averageGradients and a mismatched call on 2 ranks', { timeout: 240_000 }, () => {
    const r = mpirun(2, 'gradients.ts');
    const got = reports(r.stdout);
    expect(
      got.map((x) => x.rank),
      r.stdout + r.stderr,
    ).toEqual([0, 1]);
    for (const x of got) {
      expect(x.failures).toEqual([]);
      expect(x.checks).toBe(25);
    }
    expect(r.status).toBe(0);
  });

  it('a peer that never arrives is a CollectiveTimeoutError, then the group refuses use', { timeout: 240_000 }, () => {
    const r = mpirun(2, 'timeout.ts');
    const line = r.stdout.split('\n').find((l) => l.startsWith('{"first"'));
    expect(line, r.stdout + r.stderr).toBeDefined();
    const result = JSON.parse(line as string) as { first: string; after: string };
    expect(result.first).toMatch(/^CollectiveTimeoutError: allSum: no completion within 300 ms on rank 0 of 2/);
    expect(result.after).toMatch(/^DistributedError: barrier: the MPI engine is unusable/);
    expect(r.status).not.toBe(0);
  });

  it('a peer that dies ends the job with its exit code instead of hanging', { timeout: 240_000 }, () => {
    const r = mpirun(2, 'timeout.ts', { PEER_DIES: '1' });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Exit code:\s+5/);
  });
});
