/**
 * The Metal backend's public surface on any machine: kernelSources renders MSL without
 * a device, float64 is refused with a DTypeError naming the op, deviceInfo reports the
 * cpu and explains why Metal is unavailable where it is.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

describe('metal on any machine', () => {
  it('kernelSources renders MSL kernels with the launch-facing signature', () => {
    const a = ma.arange(0, 12).reshape([3, 4]).astype('float32');
    const srcs = ma.kernelSources(ma.softmax(a.exp(), -1), 'metal');
    expect(srcs.length).toBeGreaterThanOrEqual(1);
    for (const k of srcs) {
      expect(k.source).toMatch(/^kernel void k_[0-9a-f]{24}\(device /);
      expect(k.source).toMatch(/constant MaArgs<\d+> &a \[\[buffer\(\d+\)\]\]/);
    }
    expect(ma.explain(a.add(1))).toContain(`plan on ${ma.getBackend()}`);
  });

  it('float64 is a DTypeError that names the op', () => {
    const x = ma.arange(0, 4).astype('float64');
    expect(() => ma.kernelSources(x.sin(), 'metal')).toThrow(ma.DTypeError);
    expect(() => ma.kernelSources(x.sin(), 'metal')).toThrow(/float64 is not supported by the metal backend/);
    const m = ma.array(new Float64Array([1, 2, 3, 4])).reshape([2, 2]);
    expect(() => ma.kernelSources(ma.matmul(m, m), 'metal')).toThrow(/^matmul: float64/);
  });

  it('deviceInfo describes the cpu', () => {
    const info = ma.deviceInfo('cpu');
    expect(info.backend).toBe('cpu');
    expect(info.name.length).toBeGreaterThan(0);
    expect(info.memoryBytes).toBeGreaterThan(0);
    expect(info.maxThreadsPerGroup).toBeGreaterThanOrEqual(1);
    expect([4, 8, 16]).toContain(info.simdWidth);
    expect(info.maxBufferLength).toBe(2 ** 48);
  });

  it.skipIf(ma.isAvailable('metal'))('says why Metal is unavailable here', () => {
    expect(ma.isAvailable('metal')).toBe(false);
    expect(() => ma.deviceInfo('metal')).toThrow(ma.BackendUnavailableError);
    expect(() => ma.deviceInfo('metal')).toThrow(/backend "metal" is unavailable: /);
  });
});
