/**
 * The Metal backend on a real device: the same small cases as the host execution check
 * (test/codegen/msl-cases.ts), compiled by Metal and run on the GPU, against the oracle;
 * deviceInfo, typed errors for float64 and for a buffer over maxBufferLength, and
 * evalAsync through the completion handler; the pipeline disk cache (a second process
 * compiles no pipeline) and the in-memory pipeline bound. Skips with the reason where Metal cannot
 * run; under REQUIRE_METAL=1 (the macOS CI job) a skip is a failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import type { MetalPipelineStats } from '../../src/runtime/metal/pipeline-cache.js';
import { CASES, expectClose, flat } from '../codegen/msl-cases.js';
import { backendFor } from '../../src/runtime/registry.js';
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

  it.skipIf(!available)('a second process takes every pipeline from the disk archive and compiles none', { timeout: 300_000 }, () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'metalarray-mtlcache-'));
    const script = join(cacheDir, 'child.ts');
    const src = resolve(import.meta.dirname, '../../src');
    // Several kernel kinds (elementwise, reduction, scan, matmul), then the pipeline
    // stats and the results' bits; the archive is written at exit.
    writeFileSync(
      script,
      `import * as ma from '${src}/index.js';
       import { backendFor } from '${src}/runtime/registry.js';
       ma.setBackend('metal');
       const x = ma.arange(0, 4096).astype('float32').reshape([64, 64]);
       const outs = [x.multiply(0.5).exp(), ma.sum(x.sin(), 1), ma.cumsum(x, 1), ma.matmul(x, x.transpose())];
       const bits = outs.map((o) => Array.from(new Uint32Array(o.toTypedArray().buffer)).join(','));
       const stats = backendFor('metal').pipelineStats();
       process.stdout.write(JSON.stringify({ stats, bits }));`,
    );
    const run = (): { stats: MetalPipelineStats; bits: string[] } => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
        env: { ...process.env, METALARRAY_CACHE_DIR: cacheDir, METALARRAY_BACKEND: 'metal' },
        encoding: 'utf8',
        timeout: 240_000,
      });
      if (r.status !== 0) throw new Error(`child failed (status ${r.status}): ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    try {
      const first = run();
      expect(first.stats.compiled).toBeGreaterThanOrEqual(4);
      expect(first.stats.loaded).toBe(0);
      expect(first.stats.archiveNote).toBe('');
      const dir = join(cacheDir, 'metal');
      const [identity] = readdirSync(dir);
      expect(readdirSync(join(dir, identity))).toContain('pipelines.json');
      const second = run();
      expect(second.stats.compiled).toBe(0);
      expect(second.stats.loaded).toBe(first.stats.compiled);
      expect(second.bits).toEqual(first.bits);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it.skipIf(!available)('the in-memory pipeline bound evicts the least recently launched, and an evicted kernel still runs', () => {
    onMetal(() => {
      const backend = backendFor('metal') as unknown as { pipelineStats(): MetalPipelineStats; setPipelineLimit(n: number): void };
      const before = backend.pipelineStats();
      expect(before.limit).toBe(512);
      expect(() => backend.setPipelineLimit(0)).toThrow(ma.ArgumentError);
      try {
        backend.setPipelineLimit(1);
        const x = ma.arange(0, 100).astype('float32');
        const a = x.multiply(3).add(1).tolist();
        const b = x.sqrt().tolist();
        const mid = backend.pipelineStats();
        expect(mid.resident).toBe(1);
        expect(mid.evicted).toBeGreaterThan(before.evicted);
        // The first kernel again: rebuilt from its source and the archive, same bits.
        expect(x.multiply(3).add(1).tolist()).toEqual(a);
        expect(x.sqrt().tolist()).toEqual(b);
      } finally {
        backend.setPipelineLimit(before.limit);
      }
    });
  });
});
