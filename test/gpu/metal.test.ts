/**
 * The Metal backend on a real device: the same small cases as the host execution check
 * (test/codegen/msl-cases.ts), compiled by Metal and run on the GPU, against the oracle;
 * deviceInfo, typed errors for float64 and for a buffer over maxBufferLength, and
 * evalAsync through the completion handler. Skips with the reason where Metal cannot
 * run; under REQUIRE_METAL=1 (the macOS CI job) a skip is a failure.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { CASES, expectClose, flat } from '../codegen/msl-cases.js';
import * as R from '../reference/index.js';

const available = ma.isAvailable('metal');
const requireMetal = process.env.REQUIRE_METAL === '1';

function onMetal<T>(fn: () => T): T {
  const previous = ma.getBackend();
  ma.setBackend('metal');
  try {
    return fn();
  } finally {
    ma.setBackend(previous);
  }
}

describe('metal backend on a real device', () => {
  it.skipIf(!available && !requireMetal)(`Metal is available${available ? '' : ' (skipped: not on this machine)'}`, () => {
    expect(available).toBe(true);
  });

  it.skipIf(available)('reports why it is unavailable', () => {
    expect(() => ma.deviceInfo('metal')).toThrow(ma.BackendUnavailableError);
    expect(() => ma.setBackend('metal')).toThrow(/Metal needs macOS on Apple silicon|no usable Metal device|built without the Metal runtime/);
  });

  it.skipIf(!available)('deviceInfo describes the GPU', () => {
    const info = ma.deviceInfo('metal');
    expect(info.backend).toBe('metal');
    expect(info.name.length).toBeGreaterThan(0);
    expect(info.maxThreadsPerGroup).toBeGreaterThanOrEqual(256);
    expect(info.sharedMemoryBytes).toBeGreaterThanOrEqual(16384);
    expect(info.simdWidth).toBe(32);
    expect(info.maxBufferLength).toBeGreaterThanOrEqual(256 * 1024 * 1024);
    expect(typeof info.simdgroupMatrix).toBe('boolean');
    expect(typeof info.bfloat).toBe('boolean');
  });

  it.skipIf(!available)('float matmuls use SIMD-group matrices exactly where the device has them', () => {
    const info = ma.deviceInfo('metal');
    const a = ma.ones([8, 8], 'float32');
    const sources = ma.kernelSources(ma.matmul(a, a), 'metal').map((k) => k.source);
    expect(sources.some((s) => s.includes('simdgroup_multiply_accumulate('))).toBe(info.simdgroupMatrix === true);
  });

  for (const c of CASES) {
    it.skipIf(!available)(c.name, () => {
      onMetal(() => {
        const { lib, ref } = c.run();
        expect(lib.backend).toBe('metal');
        expectClose(flat(lib.tolist()), R.toFlat(ref), c.tol ?? 0, c.name);
      });
    });
  }

  it.skipIf(!available)('custom MSL kernels: buffers by name, partial groups, simd_sum, device timing', () => {
    onMetal(() => {
      const n = 1000;
      const saxpy = ma.customKernel({
        name: 'saxpy',
        source: { msl: 'const uint i = thread_position_in_grid.x; out[i] = 2.0f * x[i] + y[i];' },
        inputs: ['x', 'y'],
        outputs: [{ shape: [n], dtype: 'float32', name: 'out' }],
        grid: n,
        threads: 256,
      });
      const x = ma.arange(0, n).astype('float32');
      const y = ma.ones([n]);
      const p = saxpy.prepare(x, y);
      const ms = p.dispatchTimed();
      expect(ms).toBeGreaterThan(0);
      expect(p.outputs[0].tolist()).toEqual(Array.from({ length: n }, (_, i) => 2 * i + 1));
      p.release();
      const rowsum = ma.customKernel({
        name: 'rowsum',
        source: {
          msl: 'float s = simd_sum(x[threadgroup_position_in_grid.x * 32 + thread_index_in_simdgroup]); if (thread_index_in_simdgroup == 0) out0[threadgroup_position_in_grid.x] = s;',
        },
        inputs: ['x'],
        outputs: [{ shape: [2], dtype: 'float32' }],
        grid: 64,
        threads: 32,
      });
      expect(rowsum.dispatch(ma.arange(0, 64).astype('float32'))[0].tolist()).toEqual([496, 1520]);
      const bad = ma.customKernel({ name: 'bad', source: { msl: 'out0[0] = undefined_name;' }, outputs: [{ shape: [1], dtype: 'float32' }], grid: 1 });
      expect(() => bad.dispatch()).toThrow(/kernel "bad" \(grid \[1\], threads 1\): the MSL source does not compile/);
    });
  });

  it.skipIf(!available)('evalAsync resolves through the completion handler', async () => {
    const previous = ma.getBackend();
    ma.setBackend('metal');
    try {
      const a = ma.arange(0, 1000).astype('float32');
      const s = ma.sum(a.multiply(2));
      await ma.evalAsync(s);
      expect(s.item()).toBe(999000);
    } finally {
      ma.setBackend(previous);
    }
  });

  it.skipIf(!available)('float64 is a DTypeError naming the op', () => {
    onMetal(() => {
      const x = ma.arange(0, 4).astype('float64').exp();
      expect(() => x.toTypedArray()).toThrow(ma.DTypeError);
      expect(() => x.toTypedArray()).toThrow(/float64 is not supported by the metal backend/);
    });
  });

  it.skipIf(!available)('a buffer over maxBufferLength is an OutOfMemoryError', () => {
    onMetal(() => {
      const limit = ma.deviceInfo('metal').maxBufferLength;
      const n = Math.floor(limit / 4) + 1024;
      expect(() => ma.zeros([n], 'float32').add(1).toTypedArray()).toThrow(ma.OutOfMemoryError);
    });
  });
});
