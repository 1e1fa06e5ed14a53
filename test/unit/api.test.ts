import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { HAS_FLOAT64 } from '../support/backend.js';

describe('creation and readback', () => {
  it('infers dtypes from JS values and typed arrays', () => {
    expect(ma.array(3).dtype).toBe('int32'); // MLX's inference: whole numbers are int32
    expect(ma.array(3.5).dtype).toBe('float32');
    expect(ma.array([1, 2.5]).dtype).toBe('float32');
    expect(ma.array([1, 2], 'float32').dtype).toBe('float32');
    expect(ma.array(3).shape).toEqual([]);
    expect(ma.array([true, false]).dtype).toBe('bool');
    expect(ma.array(new Int16Array([1, 2])).dtype).toBe('int16');
    expect(ma.array(new Float64Array([1, 2])).dtype).toBe('float64');
    expect(ma.array(new BigInt64Array([1n, -2n])).dtype).toBe('int64');
    expect(ma.array([[1, 2, 3]], 'uint8').shape).toEqual([1, 3]);
    expect(() => ma.array([[1, 2], [3]])).toThrow(ma.ShapeError);
    expect(() => ma.array(['a'] as unknown as number[])).toThrow(ma.ArgumentError);
  });

  it('toTypedArray returns the documented typed array per dtype', () => {
    expect(ma.array([1.5], 'float16').toTypedArray() as unknown).toBeInstanceOf(Float32Array);
    expect(ma.array([1.5], 'bfloat16').toTypedArray() as unknown).toBeInstanceOf(Float32Array);
    expect(ma.array([1.5], 'float64').toTypedArray() as unknown).toBeInstanceOf(Float64Array);
    expect(ma.array([1], 'int64').toTypedArray() as unknown).toBeInstanceOf(BigInt64Array);
    expect(ma.array([1], 'uint64').toTypedArray() as unknown).toBeInstanceOf(BigUint64Array);
    expect(ma.array([true]).toTypedArray() as unknown).toBeInstanceOf(Uint8Array);
    expect(ma.array([1], 'uint16').toTypedArray() as ArrayLike<number>).toBeInstanceOf(Uint16Array);
    expect(Array.from(ma.array([0.1, 65519, 1e-8], 'float16').toTypedArray() as ArrayLike<number>)).toEqual([0.0999755859375, 65504, 0]);
  });

  it('item and tolist give JS values', () => {
    expect(
      ma
        .array([
          [1, 2],
          [3, 4],
        ])
        .slice(1, 0)
        .item(),
    ).toBe(3);
    expect(ma.array([true]).item()).toBe(true);
    expect(ma.array([5n], 'int64').item()).toBe(5n);
    expect(
      ma
        .array(
          [
            [1, 2],
            [3, 4],
          ],
          'int32',
        )
        .T.tolist(),
    ).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(() => ma.ones([2]).item()).toThrow(ma.ShapeError);
  });

  it('constants, ranges and identity', () => {
    expect(Array.from(ma.full([2, 2], 7, 'int32').toTypedArray() as ArrayLike<number>)).toEqual([7, 7, 7, 7]);
    expect(ma.arange(5).dtype).toBe('int32');
    expect(Array.from(ma.arange(1, 2, 0.25).toTypedArray() as ArrayLike<number>)).toEqual([1, 1.25, 1.5, 1.75]);
    expect(Array.from(ma.linspace(0, 1, 5).toTypedArray() as ArrayLike<number>)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(ma.eye(2, 3, 1).tolist()).toEqual([
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(ma.identity(2, 'int8').tolist()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    // Constants cast with the kernels' cast semantics (truncate, saturate, wrap).
    expect(ma.full([2], 2.7).astype('int32').tolist()).toEqual([2, 2]);
    expect(ma.full([2], -1e10).astype('uint8').tolist()).toEqual([0, 0]);
    expect(ma.full([2], 300, 'int32').astype('uint8').tolist()).toEqual([44, 44]);
    expect(
      ma
        .full([1], 2 ** 40, 'int64')
        .astype('int32')
        .tolist(),
    ).toEqual([0]);
    const a = ma.array([[1, 2]]);
    expect(ma.zerosLike(a).tolist()).toEqual([[0, 0]]);
    expect(ma.onesLike(a, 'int32').dtype).toBe('int32');
    expect(ma.fullLike(a, 3).tolist()).toEqual([[3, 3]]);
  });

  it('round-trips through the ndarray package', () => {
    // float64 where the default backend computes in it; else float32 (Metal).
    const F = HAS_FLOAT64 ? Float64Array : Float32Array;
    const nd = ndarray(new F([1, 2, 3, 4, 5, 6]), [2, 3]).transpose(1, 0);
    const a = ma.fromNdarray(nd);
    expect(a.shape).toEqual([3, 2]);
    expect(a.dtype).toBe(HAS_FLOAT64 ? 'float64' : 'float32');
    expect(a.tolist()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const back = ma.toNdarray(a.multiply(2));
    expect(back.shape).toEqual([3, 2]);
    expect(back.get(2, 1)).toBe(12);
  });

  it('prints NumPy-style, truncating large arrays', () => {
    expect(
      ma
        .array(
          [
            [1, 2],
            [3, 4],
          ],
          'int32',
        )
        .toString(),
    ).toBe('array([[1, 2],\n       [3, 4]])');
    expect(String(ma.array([1.5, Number.NaN, Number.NEGATIVE_INFINITY]))).toBe('array([ 1.5,  nan, -inf])');
    expect(String(ma.array([1, 2], 'uint8'))).toBe('array([1, 2], dtype=uint8)');
    const big = String(ma.arange(5000));
    expect(big).toContain('...');
    expect(big.length).toBeLessThan(200);
    expect(inspect(ma.array([true, false]))).toBe('array([ True, False])');
  });

  it('Symbol.dispose releases the array', () => {
    const base = ma.memory().activeBytes;
    {
      using a = ma.array(new Float32Array(4096));
      expect(ma.memory().activeBytes).toBeGreaterThan(base);
      expect(a.size).toBe(4096);
    }
    expect(ma.memory().activeBytes).toBe(base);
  });

  it('to() on the same backend gives an equal array; other backends say why they are missing', () => {
    const a = ma.array([1, 2, 3]);
    expect(Array.from(a.to('cpu').toTypedArray() as ArrayLike<number>)).toEqual([1, 2, 3]);
    expect(() => a.to('nope')).toThrow(ma.BackendUnavailableError);
  });

  it('string slices match the spec form', () => {
    const a = ma.arange(24).reshape(2, 3, 4);
    expect(a.slice('1:, ::-1, None, ...').tolist()).toEqual(a.slice(ma.range(1, null), ma.range(null, null, -1), null, '...').tolist());
    expect(a.slice('..., -1').shape).toEqual([2, 3]);
    expect(a.slice('0, 1:3, ::2').tolist()).toEqual([
      [4, 6],
      [8, 10],
    ]);
  });
});

describe('disk cache', () => {
  const script = () => `
    import * as ma from ${JSON.stringify(join(process.cwd(), 'src/index.ts'))};
    const x = ma.array([1, 2, 3, 4]);
    const y = ma.tanh(x.multiply(0.37).add(0.11)).subtract(ma.cosh(x));
    y.eval();
    const m = ma.metrics();
    process.stdout.write(JSON.stringify({ compiled: m.kernelsCompiled, hits: m.kernelCacheHits, v: Array.from(y.toTypedArray() as ArrayLike<number>) }));
  `;
  const run = (cacheDir: string, extraEnv: Record<string, string> = {}) => {
    const file = join(tmpdir(), `ma-probe-${process.pid}-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(file, script());
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
        // The cpu backend's disk cache of compiled kernels, whatever the run's default backend.
        // 'full': no background -O3 build rewrites the entries after the child exits.
        env: { ...process.env, METALARRAY_BACKEND: 'cpu', METALARRAY_CACHE_DIR: cacheDir, METALARRAY_COMPILE: 'full', ...extraEnv },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      if (r.status !== 0) throw new Error(`the probe process failed (${r.status}):\n${r.stderr}`);
      // stderr carries the process's warnings.
      return { ...(JSON.parse(r.stdout) as { compiled: number; hits: number; v: number[] }), stderr: r.stderr };
    } finally {
      rmSync(file, { force: true });
    }
  };

  it('a second process loads kernels from disk and compiles nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'ma-cache-'));
    const dir = join(root, 'c');
    const first = run(dir);
    expect(first.compiled).toBe(1);
    const second = run(dir);
    expect(second.compiled).toBe(0);
    expect(second.hits).toBe(1);
    expect(second.v).toEqual(first.v);
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('a corrupt cache entry is rebuilt, and an unwritable cache directory falls back with a warning', () => {
    const root = mkdtempSync(join(tmpdir(), 'ma-cache-'));
    const dir = join(root, 'c');
    const first = run(dir);
    for (const f of readdirSync(join(dir, 'cpu'))) if (f.startsWith('k_')) writeFileSync(join(dir, 'cpu', f), 'garbage');
    const again = run(dir);
    expect(again.compiled).toBe(1);
    expect(again.v).toEqual(first.v);
    const locked = join(root, 'locked');
    writeFileSync(locked, 'not a directory');
    chmodSync(locked, 0o444);
    const fallback = run(join(locked, 'sub'));
    expect(fallback.v).toEqual(first.v);
    // The fallback is announced once, naming the unusable directory; a usable one warns nothing.
    const warning = `kernel cache ${join(locked, 'sub', 'cpu')} is not writable; using `;
    expect(fallback.stderr.split(warning).length - 1).toBe(1);
    expect(first.stderr).not.toContain('is not writable');
    expect(again.stderr).not.toContain('is not writable');
    rmSync(root, { recursive: true, force: true });
  }, 60_000);
});
