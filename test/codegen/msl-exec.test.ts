/**
 * The generated MSL, run on the host (test/codegen/msl/host-backend.ts): each kernel is
 * the text the metal backend would hand to Metal, compiled as C++ against the
 * execution shim under ThreadSanitizer, launched with the GPU launch geometry through
 * the real executor, and compared with the oracle (test/reference) on small shapes:
 * elementwise (contiguous, vectorized, strided, gated, reshaped), reductions (per
 * element, per row, column, full, argmax), scans and matrix products (edges, batches,
 * transposes, epilogues). Every case runs twice: under ThreadSanitizer (barrier races)
 * and under AddressSanitizer + UBSan (index math past a buffer, undefined behaviour).
 * Controls with the barriers removed, and with a bound check off by one, must make
 * the sanitizers report, so the checks are shown to bite.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { execute } from '../../src/graph/executor.js';
import * as R from '../reference/index.js';
import { CASES, expectClose, f32, flat } from './msl-cases.js';
import { HostMslBackend } from './msl/host-backend.js';
import { findClang, missingTools, requireMslCheck } from './toolchain.js';

const why = missingTools({ clang: true });
const workDir = mkdtempSync(join(tmpdir(), 'metalarray-msl-exec-'));

const SANITIZERS = { thread: 'ThreadSanitizer', address: 'AddressSanitizer and UBSan' } as const;

for (const [sanitizer, label] of Object.entries(SANITIZERS) as ['thread' | 'address', string][]) {
  describe(`generated MSL runs on the host execution shim under ${label} and matches the oracle`, () => {
    it.skipIf(why !== '' && !requireMslCheck)(`tools present${why ? ` (skipped: ${why})` : ''}`, () => {
      expect(why).toBe('');
    });
    const host = why === '' ? new HostMslBackend({ clang: findClang() as string, workDir: join(workDir, sanitizer), sanitizer, label: sanitizer }) : undefined;

    for (const c of CASES) {
      it.skipIf(!host)(c.name, { timeout: 300_000 }, () => {
        const backend = host as HostMslBackend;
        const { lib, ref } = c.run();
        const before = backend.launches.length;
        execute([lib.liveNode('test')], backend, { fusion: true, cpuMatmul: 'generated' });
        const launched = backend.launches.slice(before);
        const ran = launched.map((l) => l.strategy);
        if (c.source) expect(launched.some((l) => c.source?.test(l.source))).toBe(true);
        for (const s of c.strategies) expect(ran, `strategies launched: ${ran.join(', ')}`).toContain(s);
        expect(lib.dtype).toBe(ref.dtype);
        expect(lib.shape).toEqual([...ref.nd.shape]);
        expectClose(flat(lib.tolist()), R.toFlat(ref), c.tol ?? 0, c.name);
      });
    }
  });
}

describe('paths Metal compiles but only the CUDA launch takes, run as MSL on the shim', () => {
  for (const [sanitizer, label] of Object.entries(SANITIZERS) as ['thread' | 'address', string][]) {
    const host =
      why === ''
        ? new HostMslBackend({
            clang: findClang() as string,
            workDir: join(workDir, `cuda-launch-${sanitizer}`),
            sanitizer,
            label: `cuda-launch-${sanitizer}`,
            launch: 'cuda',
          })
        : undefined;
    it.skipIf(!host)(`a scatter over several threadgroups: the last applies the updates, ordered and not (${label})`, { timeout: 300_000 }, () => {
      const backend = host as HostMslBackend;
      const x = f32([50, 100], 16);
      const before = backend.launches.length;
      // Positions that never decrease (a slice: one thread per run) and repeated ones out of order (one thread).
      const ordered = x.lib.at('2:40', '::3').add(1.5);
      const repeated = x.lib
        .reshape([-1])
        .at(ma.array([4999, 7, 7, 4999, 0], 'int32'))
        .add(ma.array([1, 2, 3, 4, 5], 'float32'));
      const lib = ma.concatenate([ordered.reshape([-1]), repeated]);
      execute([lib.liveNode('test')], backend, { fusion: true, cpuMatmul: 'generated' });
      const scatters = backend.launches.slice(before).filter((l) => l.strategy === 'scatter');
      expect(scatters.length).toBe(2);
      for (const l of scatters) expect(l.grid[0]).toBeGreaterThan(1);
      const base = R.toFlat(x.ref).map(Number);
      const want = [...base];
      for (let i = 2; i < 40; i++) for (let j = 0; j < 100; j += 3) want[i * 100 + j] = Math.fround(want[i * 100 + j] + 1.5);
      const rep = [...base];
      [4999, 7, 7, 4999, 0].forEach((p, k) => {
        rep[p] = Math.fround(rep[p] + [1, 2, 3, 4, 5][k]);
      });
      expectClose(flat(lib.tolist()), [...want, ...rep], 0, 'scatters');
    });
  }
});

describe('the sanitizers bite', () => {
  it.skipIf(why !== '')('without its barriers a block reduction races, and TSan says so', { timeout: 300_000 }, () => {
    const racy = new HostMslBackend({
      clang: findClang() as string,
      workDir: join(workDir, 'racy'),
      sanitizer: 'thread',
      label: 'racy',
      mutate: (src) => src.replaceAll('threadgroup_barrier(mem_flags::mem_threadgroup);', ''),
    });
    const a = f32([3, 300], 12);
    const s = ma.sum(a.lib, 1);
    expect(() => execute([s.liveNode('test')], racy, { fusion: true, cpuMatmul: 'generated' })).toThrow(/ThreadSanitizer: data race/);
  });

  it.skipIf(why !== '')('without its device-memory barriers a long sort races in the scratch buffer, and TSan says so', { timeout: 300_000 }, () => {
    const racy = new HostMslBackend({
      clang: findClang() as string,
      workDir: join(workDir, 'racy-sort'),
      sanitizer: 'thread',
      label: 'racy-sort',
      mutate: (src) => src.replaceAll('threadgroup_barrier(mem_flags::mem_device | mem_flags::mem_threadgroup);', ''),
    });
    const a = f32([1, 5000], 14);
    const s = ma.sort(a.lib);
    expect(() => execute([s.liveNode('test')], racy, { fusion: true, cpuMatmul: 'generated' })).toThrow(/ThreadSanitizer: data race/);
  });

  it.skipIf(why !== '')('a long sort that does not zero its scratch region breaks the launch contract, and the driver says so', { timeout: 300_000 }, () => {
    const dirty = new HostMslBackend({
      clang: findClang() as string,
      workDir: join(workDir, 'dirty-scratch'),
      sanitizer: 'address',
      label: 'dirty-scratch',
      mutate: (src) => src.replace(/for \(int64_t p = tid; p < 2 \* len; p \+= nthr\) \{[^}]*\}/, ''),
    });
    const a = f32([1, 5000], 15);
    const s = ma.sort(a.lib);
    expect(() => execute([s.liveNode('test')], dirty, { fusion: true, cpuMatmul: 'generated' })).toThrow(/scratch byte \d+ left nonzero/);
  });

  it.skipIf(why !== '')('a bound check off by one writes past the output, and ASan says so', { timeout: 300_000 }, () => {
    const overflow = new HostMslBackend({
      clang: findClang() as string,
      workDir: join(workDir, 'overflow'),
      sanitizer: 'address',
      label: 'overflow',
      mutate: (src) => src.replace('base + e < N;', 'base + e <= N;'),
    });
    const a = f32([15], 13);
    const y = a.lib.multiply(3).add(1);
    expect(() => execute([y.liveNode('test')], overflow, { fusion: true, cpuMatmul: 'generated' })).toThrow(/AddressSanitizer: heap-buffer-overflow/);
  });
});
