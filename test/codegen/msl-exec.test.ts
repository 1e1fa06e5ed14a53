/**
 * The generated MSL, run on the host (test/codegen/msl/host-backend.ts): each kernel is
 * the text the metal backend would hand to Metal, compiled as C++ against the
 * execution shim under ThreadSanitizer, launched with the GPU launch geometry through
 * the real executor, and compared with the oracle (test/reference) on small shapes:
 * elementwise (contiguous, vectorized, strided, gated, reshaped), reductions (per
 * element, per row, column, full, argmax), scans and matrix products (edges, batches,
 * transposes, epilogues). Every case runs twice: under ThreadSanitizer (barrier races,
 * here) and under AddressSanitizer + UBSan (index math past a buffer, undefined
 * behaviour: msl-exec-address.test.ts, a file of its own so the two run side by side).
 * Controls with the barriers removed, and with a bound check off by one, must make
 * the sanitizers report, so the checks are shown to bite.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { execute } from '../../src/engine/executor.js';
import * as R from '../reference/index.js';
import { expectClose, f32, flat } from './msl-cases.js';
import { describeCasesOnHost, SANITIZERS } from './msl-exec-suite.js';
import { HostMslBackend } from './msl/host-backend.js';
import { findClang, missingTools } from './toolchain.js';

const why = missingTools({ clang: true });
const workDir = mkdtempSync(join(tmpdir(), 'metalarray-msl-exec-'));

// The cases under ThreadSanitizer; under AddressSanitizer and UBSan in msl-exec-address.test.ts.
describeCasesOnHost('thread');

describe('a GPU without SIMD-group matrices gets the scalar matmul kernel, which matches the oracle', () => {
  it.skipIf(why !== '')('float32 matmul with edges and an epilogue', { timeout: 300_000 }, () => {
    const host = new HostMslBackend({
      clang: findClang() as string,
      workDir: join(workDir, 'scalar-mm'),
      sanitizer: 'address',
      label: 'scalar-mm',
      noSimdgroupMatrix: true,
    });
    const a = f32([70, 19], 60);
    const b = f32([19, 130], 61);
    const y = ma.matmul(a.lib, b.lib).add(2);
    execute([y.liveNode('test')], host, { fusion: true, cpuMatmul: 'generated' });
    const mm = host.launches.filter((l) => l.strategy === 'matmul');
    expect(mm.length).toBe(1);
    expect(mm[0].source).not.toContain('simdgroup_');
    expect(mm[0].group).toEqual([256, 1, 1]);
    expect(mm[0].grid).toEqual([2, 1, 1]);
    expectClose(flat(y.tolist()), R.toFlat(R.binary('add', R.matmul(a.ref, b.ref), 2)), 1e-5, 'scalar matmul');
  });
});

describe('ordered passes: scatters and long sorts over many threadgroups, threadgroups of a pass run last to first', () => {
  for (const [sanitizer, label] of Object.entries(SANITIZERS) as ['thread' | 'address', string][]) {
    // A sort scratch of 100 000 bytes holds two regions of a float32 line of 5000 (40 000
    // bytes each) or one of an argsort line (80 000): several batches of passes.
    const host =
      why === ''
        ? new HostMslBackend({
            clang: findClang() as string,
            workDir: join(workDir, `passes-${sanitizer}`),
            sanitizer,
            label: `passes-${sanitizer}`,
            reverseGroups: true,
            sortScratchBytes: 100_000,
          })
        : undefined;
    it.skipIf(!host)(`a scatter: the base over several threadgroups, then the updates, ordered and not (${label})`, { timeout: 300_000 }, () => {
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
      for (const l of scatters) {
        expect(l.grid[0]).toBeGreaterThan(1);
        expect(l.grid[2]).toBe(2);
      }
      const base = R.toFlat(x.ref).map(Number);
      const want = [...base];
      for (let i = 2; i < 40; i++) for (let j = 0; j < 100; j += 3) want[i * 100 + j] = Math.fround(want[i * 100 + j] + 1.5);
      const rep = [...base];
      [4999, 7, 7, 4999, 0].forEach((p, k) => {
        rep[p] = Math.fround(rep[p] + [1, 2, 3, 4, 5][k]);
      });
      expectClose(flat(lib.tolist()), [...want, ...rep], 0, 'scatters');
    });

    it.skipIf(!host)(
      `sort and argsort of lines of 5000 in batches: tiles, merges and the scratch cleared, each a dispatch (${label})`,
      { timeout: 300_000 },
      () => {
        const backend = host as HostMslBackend;
        const a = f32([5, 5000], 17);
        const before = backend.launches.length;
        const lib = ma.concatenate([ma.sort(a.lib), ma.argsort(a.lib).astype('float32')], 1);
        execute([lib.liveNode('test')], backend, { fusion: true, cpuMatmul: 'generated' });
        const sorts = backend.launches.slice(before).filter((l) => l.strategy === 'sort');
        // Per batch a tile pass and one merge pass (5000 is under two tiles of 4096 or 2048
        // for argsort: one and two merges), then the clearing pass: 3 batches of 2 lines
        // (sort) → 7 passes; 5 batches of 1 line, 3 steps each (argsort) → 16.
        expect(sorts.map((l) => l.grid[2]).sort((p, q) => p - q)).toEqual([7, 16]);
        const ref = R.concatenate([R.indexing.sortAlong(a.ref, -1, false), R.astype(R.indexing.sortAlong(a.ref, -1, true), 'float32')], 1);
        expectClose(flat(lib.tolist()), R.toFlat(ref), 0, 'sorts in passes');
      },
    );
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

  const matmulControl = (label: string, sanitizer: 'thread' | 'address', mutate: (src: string) => string): (() => void) => {
    const host = new HostMslBackend({ clang: findClang() as string, workDir: join(workDir, label), sanitizer, label, mutate });
    const a = f32([40, 20], 50);
    const b = f32([20, 24], 51);
    const y = ma.matmul(a.lib, b.lib).add(1);
    return () => execute([y.liveNode('test')], host, { fusion: true, cpuMatmul: 'generated' });
  };

  it.skipIf(why !== '')('without its simdgroup_barrier the matmul epilogue reads other lanes’ stores unordered, and TSan says so', { timeout: 300_000 }, () => {
    const run = matmulControl('no-simdgroup-barrier', 'thread', (src) => {
      expect(src).toContain('simdgroup_barrier(mem_flags::mem_threadgroup);');
      return src.replace('simdgroup_barrier(mem_flags::mem_threadgroup);', '');
    });
    expect(run).toThrow(/ThreadSanitizer: data race/);
  });

  it.skipIf(why !== '')('a simdgroup matrix load skipped by one lane is caught as non-uniform', { timeout: 300_000 }, () => {
    const run = matmulControl('divergent-matrix', 'address', (src) => {
      expect(src).toContain('simdgroup_load(fb3,');
      return src.replace('simdgroup_load(fb3,', 'if (lane != 5) simdgroup_load(fb3,');
    });
    expect(run).toThrow(/not called uniformly by the SIMD group/);
  });

  it.skipIf(why !== '')('a matmul that skips half of K differs from the oracle (the comparison bites)', { timeout: 300_000 }, () => {
    const host = new HostMslBackend({
      clang: findClang() as string,
      workDir: join(workDir, 'half-k'),
      sanitizer: 'address',
      label: 'half-k',
      mutate: (src) => src.replace('kk += 8)', 'kk += 16)'),
    });
    const a = f32([9, 40], 52);
    const b = f32([40, 5], 53);
    const y = ma.matmul(a.lib, b.lib);
    execute([y.liveNode('test')], host, { fusion: true, cpuMatmul: 'generated' });
    expect(host.launches.some((l) => l.source.includes('kk += 8)'))).toBe(true);
    expect(() => expectClose(flat(y.tolist()), R.toFlat(R.matmul(a.ref, b.ref)), 1e-4, 'half K')).toThrow();
  });

  it.skipIf(why !== '')('a split reduction without its fold dispatch leaves the output unwritten (the fold is needed)', { timeout: 300_000 }, () => {
    const host = new HostMslBackend({
      clang: findClang() as string,
      workDir: join(workDir, 'no-fold'),
      sanitizer: 'address',
      label: 'no-fold',
      skipFold: true,
    });
    const a = f32([100, 210], 54);
    const y = ma.sum(a.lib);
    execute([y.liveNode('test')], host, { fusion: true, cpuMatmul: 'generated' });
    expect(host.launches.map((l) => l.grid)).toContainEqual([1, 10, 1]);
    expect(() => expectClose(flat(y.tolist()), R.toFlat(R.sum(a.ref)), 1e-5, 'no fold')).toThrow();
  });

  it.skipIf(why !== '')('without its threadgroup barriers a long sort’s tile pass races, and TSan says so', { timeout: 300_000 }, () => {
    const racy = new HostMslBackend({
      clang: findClang() as string,
      workDir: join(workDir, 'racy-sort'),
      sanitizer: 'thread',
      label: 'racy-sort',
      mutate: (src) => src.replaceAll('threadgroup_barrier(mem_flags::mem_threadgroup);', ''),
    });
    const a = f32([1, 5000], 14);
    const s = ma.sort(a.lib);
    expect(() => execute([s.liveNode('test')], racy, { fusion: true, cpuMatmul: 'generated' })).toThrow(/ThreadSanitizer: data race/);
  });

  it.skipIf(why !== '')('a long sort without its clearing pass breaks the launch contract, and the driver says so', { timeout: 300_000 }, () => {
    const dirty = new HostMslBackend({
      clang: findClang() as string,
      workDir: join(workDir, 'dirty-scratch'),
      sanitizer: 'address',
      label: 'dirty-scratch',
      mutate: (src) => {
        expect(src).toContain('((device uint64_t *)scratch)[p] = 0;');
        return src.replace('((device uint64_t *)scratch)[p] = 0;', ';');
      },
    });
    const a = f32([1, 5000], 15);
    const s = ma.sort(a.lib);
    expect(() => execute([s.liveNode('test')], dirty, { fusion: true, cpuMatmul: 'generated' })).toThrow(/scratch byte \d+ left nonzero/);
  });

  for (const [pass, what] of [
    [0, 'a scatter without its base pass'],
    [1, 'a long sort without its merge pass'],
  ] as const) {
    it.skipIf(why !== '')(`${what} differs from the oracle (every ordered pass matters)`, { timeout: 300_000 }, () => {
      const host = new HostMslBackend({
        clang: findClang() as string,
        workDir: join(workDir, `skip-pass-${pass}`),
        sanitizer: 'address',
        label: `skip-pass-${pass}`,
        skipPass: pass,
      });
      const a = f32([1, 5000], 18);
      const lib = pass === 0 ? a.lib.at(0, '::7').add(1) : ma.sort(a.lib);
      const ref =
        pass === 0 ? R.toFlat(a.ref).map((v, i) => (i % 7 === 0 ? Math.fround(Number(v) + 1) : Number(v))) : R.toFlat(R.indexing.sortAlong(a.ref, -1, false));
      execute([lib.liveNode('test')], host, { fusion: true, cpuMatmul: 'generated' });
      expect(host.launches.some((l) => l.grid[2] > pass + 1)).toBe(true);
      expect(() => expectClose(flat(lib.tolist()), ref, 0, what)).toThrow();
    });
  }

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
