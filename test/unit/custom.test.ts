import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { pinCpuBackend } from '../support/backend.js';

const SAXPY = `
void saxpy(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
  const float *x = (const float *)bufs[0], *y = (const float *)bufs[1];
  float *out = (float *)bufs[2];
  for (int64_t i = start; i < end; i++) out[i] = 2.0f * x[i] + y[i];
}`;

describe('custom kernels (cpu, C source)', () => {
  // C kernels run on the cpu backend: pinned there whatever the run's default backend.
  pinCpuBackend();
  const saxpy = (n: number, threads = 1) =>
    ma.customKernel({ name: 'saxpy', source: { c: SAXPY }, inputs: ['x', 'y'], outputs: [{ shape: [n], dtype: 'float32' }], grid: n, threads });

  it('dispatch runs user C over the inputs (views made dense first) on the thread pool', () => {
    const n = 10_000;
    const x = ma
      .arange(2 * n)
      .astype('float32')
      .slice(ma.range(null, null, 2)); // strided view
    const y = ma.ones([n]).add(ma.arange(n).astype('float32'));
    const [out] = saxpy(n, 64).dispatch(x, y);
    const got = out.toTypedArray() as Float32Array;
    for (const i of [0, 1, 4999, n - 1]) expect(got[i]).toBe(2 * (2 * i) + 1 + i);
  });

  it('prepare reuses its outputs; dispatchTimed returns milliseconds; grid dims reach args', () => {
    const p = saxpy(4).prepare(ma.array([1, 2, 3, 4], 'float32'), ma.zeros([4]));
    // The time is the run's, in milliseconds: more than nothing, and within the wall time
    // around the call (microseconds or an unrelated clock would exceed it).
    const t0 = performance.now();
    const ms = p.dispatchTimed();
    const outerMs = performance.now() - t0;
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(outerMs);
    expect(p.outputs[0].tolist()).toEqual([2, 4, 6, 8]);
    expect(p.dispatch()[0]).toBe(p.outputs[0]);
    p.release();
    const dimsKernel = ma.customKernel({
      name: 'grid_dims',
      source: {
        c: `void grid_dims(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
          int64_t *o = (int64_t *)bufs[0];
          for (int64_t i = start; i < end; i++) o[i] = args[0] * 1000 + args[2] * 10 + args[3] + 0 * i;
        }`,
      },
      outputs: [{ shape: [6], dtype: 'int64' }],
      grid: [2, 3],
    });
    expect(dimsKernel.dispatch()[0].tolist()).toEqual(new Array(6).fill(6023n));
  });

  it('errors name the kernel, grid and threads; two kernels of one name do not collide', () => {
    expect(() => saxpy(4).dispatch(ma.zeros([4]))).toThrow(/kernel "saxpy" \(grid \[4\], threads 1\): expects 2 inputs/);
    const bad = ma.customKernel({ name: 'bad', source: { c: 'void bad(void) { not C }' }, outputs: [{ shape: [1], dtype: 'float32' }], grid: 1 });
    expect(() => bad.dispatch()).toThrow(ma.CompileError);
    expect(() => bad.dispatch()).toThrow(/kernel "bad" \(grid \[1\], threads 1\)/);
    expect(() => ma.customKernel({ name: '1x', source: { c: '' }, outputs: [{ shape: [1], dtype: 'float32' }], grid: 1 })).toThrow(ma.ArgumentError);
    expect(() => ma.customKernel({ name: 'k', source: { c: '' }, outputs: [{ shape: [1], dtype: 'float32' }], grid: -1 })).toThrow(ma.ArgumentError);
    expect(() => ma.customKernel({ name: 'k', source: { cuda: '' }, outputs: [{ shape: [1], dtype: 'float32' }], grid: 1 })).toThrow(ma.ArgumentError);
    const fill = (v: number) =>
      ma.customKernel({
        name: 'fill',
        source: {
          c: `void fill(void *const *bufs, const int64_t *args, int64_t start, int64_t end) { float *o = (float *)bufs[0]; for (int64_t i = start; i < end; i++) o[i] = ${v}.0f; }`,
        },
        outputs: [{ shape: [2], dtype: 'float32' }],
        grid: 2,
      });
    expect(fill(3).dispatch()[0].tolist()).toEqual([3, 3]);
    expect(fill(7).dispatch()[0].tolist()).toEqual([7, 7]);
  });
});
