// bin/metalarray-launch.mjs: the environment each process gets, failure propagation, and
// the MPI mode (mpirun underneath; skipped without mpirun unless REQUIRE_MPI=1).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const launcher = join(root, 'bin', 'metalarray-launch.mjs');
const hasMpirun = spawnSync('mpirun', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasMpirun && process.env.REQUIRE_MPI === '1') throw new Error('REQUIRE_MPI=1 but mpirun is not on PATH (apt-get install openmpi-bin)');

function launch(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [launcher, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
}

const lines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .sort((a, b) => Number(a.rank) - Number(b.rank));

describe('metalarray-launch', () => {
  it('gives each process its rank, size, GPU and the rendezvous file', () => {
    const r = launch(['-n', '3', '--gpus', '4,5,6', join(here, 'workers', 'launch-env.mjs')]);
    expect(r.status, r.stderr).toBe(0);
    const got = lines(r.stdout);
    expect(got.map((x) => [x.rank, x.local, x.size, x.gpu])).toEqual([
      ['0', '0', '3', '4'],
      ['1', '1', '3', '5'],
      ['2', '2', '3', '6'],
    ]);
    expect(new Set(got.map((x) => x.file)).size).toBe(1);
  });

  it('numbers ranks across nodes', () => {
    const r = launch([
      '-n',
      '2',
      '--nnodes',
      '2',
      '--node-rank',
      '1',
      '--rendezvous-file',
      join(root, 'nonexistent-shared', 'id'),
      join(here, 'workers', 'launch-env.mjs'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stdout).map((x) => [x.rank, x.local, x.size, x.gpu])).toEqual([
      ['2', '0', '4', '0'],
      ['3', '1', '4', '1'],
    ]);
  });

  it('stops the others and exits with the code of a failed process', () => {
    const r = launch(['-n', '2', join(here, 'workers', 'launch-env.mjs')], { FAIL_RANK: '1' });
    expect(r.status).toBe(7);
    expect(r.stderr).toMatch(/rank 1 exited with code 7; stopping the others/);
  });

  it('rejects bad usage', () => {
    expect(launch(['-n', '0', 'x.js']).status).toBe(2);
    expect(launch(['--backend', 'gloo', 'x.js']).stderr).toMatch(/--backend must be nccl or mpi/);
    expect(launch(['-n', '2']).stderr).toMatch(/no script given/);
    expect(launch(['-n', '2', '--nnodes', '2', 'x.js']).stderr).toMatch(/--rendezvous-file/);
  });

  it.skipIf(!hasMpirun)('runs the job under mpirun with --backend mpi', { timeout: 120_000 }, () => {
    const r = launch(['-n', '2', '--backend', 'mpi', '--mpi-args', '--oversubscribe --allow-run-as-root', join(here, 'workers', 'launch-sum.ts')], {
      NODE_OPTIONS: '--import tsx',
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([
      { rank: 0, size: 2, backend: 'mpi', total: [3] },
      { rank: 1, size: 2, backend: 'mpi', total: [3] },
    ]);
  });
});
