// ma.distributed without a launcher: a group of size 1 whose collectives are identities,
// argument checks, and a missing engine (BackendUnavailableError naming what to install).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('distributed on one process', () => {
  const group = ma.distributed.init();

  it('is a group of size 1 on the local engine', () => {
    expect([group.rank, group.size, group.backend]).toEqual([0, 1, 'local']);
    expect(ma.distributed.init()).toBe(group);
    const sub = group.split(3);
    expect([sub.rank, sub.size]).toEqual([0, 1]);
  });

  it('every collective is the identity', () => {
    const x = ma.array([[1, -2, 3]], 'float32');
    for (const f of [ma.distributed.allSum, ma.distributed.allMax, ma.distributed.allMin, ma.distributed.allGather, ma.distributed.reduceScatter]) {
      expect(f(x, group).tolist()).toEqual([[1, -2, 3]]);
    }
    expect(ma.distributed.broadcast(x, 0, group).tolist()).toEqual([[1, -2, 3]]);
    expect(() => ma.distributed.barrier(group)).not.toThrow();
    const grads = { a: x, b: [ma.ones([2], 'float64')] };
    expect(ma.distributed.averageGradients(grads, group)).toBe(grads);
  });

  it('gradients pass through unchanged', () => {
    const g = ma.grad((v: ma.MetalArray) => ma.distributed.allSum(v.square(), group).sum())(ma.array([1, 2], 'float32'));
    expect(g.tolist()).toEqual([2, 4]);
  });

  it('rejects bad arguments with typed errors', () => {
    const x = ma.array([1, 2], 'float32');
    expect(() => ma.distributed.broadcast(x, 1, group)).toThrow(ma.ArgumentError);
    expect(() => ma.distributed.send(x, 0, group)).toThrow(/own rank/);
    expect(() => ma.distributed.recv([2], 'float32', 1, group)).toThrow(ma.ArgumentError);
    expect(() => ma.distributed.recv([2], 'float33' as ma.DType, 0, group)).toThrow(ma.DTypeError);
    expect(() => ma.distributed.allGather(ma.array(1, 'float32'), group)).toThrow(ma.ShapeError);
    expect(() => group.split(-1)).toThrow(ma.ArgumentError);
    expect(() => ma.distributed.averageGradients({ a: ma.array([1, 2]) }, group)).toThrow(ma.DTypeError);
    expect(() => ma.distributed.averageGradients({ a: x }, group, { bucketBytes: -1 })).toThrow(ma.ArgumentError);
    expect(() => ma.distributed.init({ backend: 'gloo' as 'mpi' })).toThrow(ma.ArgumentError);
    expect(() => ma.distributed.init({ timeoutMs: 0 })).toThrow(ma.ArgumentError);
    expect(() => ma.distributed.init({ bogus: 1 } as ma.distributed.InitOptions)).toThrow(ma.ArgumentError);
  });

  it('a missing MPI library is a BackendUnavailableError saying what to install', () => {
    const script = [
      "import * as ma from './src/index.js';",
      "try { ma.distributed.init({ backend: 'mpi', strict: true }); console.log('no error'); }",
      'catch (err) { console.log(err.name + ": " + err.message); }',
      "console.log('fallback', ma.distributed.init({ backend: 'mpi' }) === null);",
    ].join('\n');
    const r = spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(here, '..', '..'),
      encoding: 'utf8',
      env: { ...process.env, METALARRAY_MPI_LIBRARY: '/nonexistent/libmpi.so.40' },
    });
    expect(r.stdout, r.stderr).toMatch(
      /^BackendUnavailableError: distributed.init: cannot load Open MPI .*\/nonexistent\/libmpi.so.40.*apt-get install openmpi-bin/m,
    );
  });
});
