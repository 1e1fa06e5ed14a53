// Smoke test of the native addon (build/Release/metalarray.node) against the contract
// in src/runtime/native.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, nativeLoadError, type NativeAddon } from '../../src/runtime/native.js';

function requireAddon(): NativeAddon {
  const addon = loadNative();
  if (!addon) throw nativeLoadError() ?? new Error('native addon unavailable');
  return addon;
}

const addon = requireAddon();

// The addon seen as untyped, to pass arguments the TypeScript contract forbids.
const untyped = addon as unknown as Record<string, (...args: unknown[]) => unknown>;

/** Runs fn and returns the `code` of the Error it throws (fails if it does not throw). */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return String((err as Error & { code?: unknown }).code);
  }
  throw new Error('expected a throw');
}

function runAsync(commands: Int32Array, args: BigInt64Array): Promise<void> {
  return new Promise((resolve, reject) => {
    addon.runPlanAsync(commands, args, (err) => (err ? reject(err) : resolve()));
  });
}

describe('buffers', () => {
  it('round-trips data through write and read', () => {
    const id = addon.alloc(40);
    try {
      expect(addon.byteLength(id)).toBe(40);
      const src = new Float32Array([1.5, -2, 3, 4e10, Number.NaN, 0, 7, 8, 9, 10]);
      addon.write(id, 0, src);
      const dst = new Float32Array(10);
      addon.read(id, 0, dst);
      expect(Array.from(dst)).toEqual(Array.from(src));

      // Offsets, DataViews and views into the middle of an ArrayBuffer.
      const bytes = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
      addon.write(id, 36, new DataView(bytes.buffer));
      const backing = new Uint8Array(16);
      const window = new Uint8Array(backing.buffer, 8, 4);
      addon.read(id, 36, window);
      expect(Array.from(backing.subarray(8, 12))).toEqual([0xde, 0xad, 0xbe, 0xef]);
      expect(backing[7]).toBe(0);
      expect(backing[12]).toBe(0);
    } finally {
      addon.free(id);
    }
  });

  it('supports zero-byte buffers', () => {
    const id = addon.alloc(0);
    expect(addon.byteLength(id)).toBe(0);
    addon.write(id, 0, new Uint8Array(0));
    addon.read(id, 0, new Uint8Array(0));
    expect(codeOf(() => addon.read(id, 0, new Uint8Array(1)))).toBe('ERR_MA_BAD_ARGUMENT');
    addon.free(id);
  });

  it('tracks stats and reuses cached blocks of the same size class', () => {
    addon.clearCache();
    const before = addon.memoryStats();
    const id = addon.alloc(100_000);
    const live = addon.memoryStats();
    expect(live.activeBuffers).toBe(before.activeBuffers + 1);
    // activeBytes counts the size class: 100000 rounds up to 128 KiB.
    expect(live.activeBytes - before.activeBytes).toBe(131072);
    expect(live.peakBytes).toBeGreaterThanOrEqual(live.activeBytes);

    addon.free(id);
    const freed = addon.memoryStats();
    expect(freed.activeBytes).toBe(before.activeBytes);
    expect(freed.cachedBuffers).toBe(before.cachedBuffers + 1);
    expect(freed.cachedBytes).toBe(before.cachedBytes + 131072);

    // Same class, different request: served from the cache.
    const again = addon.alloc(120_000);
    const reused = addon.memoryStats();
    expect(reused.cachedBuffers).toBe(before.cachedBuffers);
    expect(reused.cachedBytes).toBe(before.cachedBytes);
    expect(addon.byteLength(again)).toBe(120_000);
    addon.free(again);

    addon.resetPeak();
    const reset = addon.memoryStats();
    expect(reset.peakBytes).toBe(reset.activeBytes);
  });

  it('clearCache frees every cached block', () => {
    const ids = [addon.alloc(1000), addon.alloc(5000), addon.alloc(3 << 20)];
    for (const id of ids) addon.free(id);
    expect(addon.memoryStats().cachedBuffers).toBeGreaterThanOrEqual(3);
    addon.clearCache();
    const stats = addon.memoryStats();
    expect(stats.cachedBuffers).toBe(0);
    expect(stats.cachedBytes).toBe(0);
  });

  it('bounds the cache by its limit', () => {
    const { cacheLimit } = addon.memoryStats();
    try {
      addon.clearCache();
      addon.setCacheLimit(4096);
      const ids = [addon.alloc(4096), addon.alloc(4096), addon.alloc(8192)];
      for (const id of ids) addon.free(id);
      const stats = addon.memoryStats();
      expect(stats.cacheLimit).toBe(4096);
      expect(stats.cachedBytes).toBeLessThanOrEqual(4096);
    } finally {
      addon.setCacheLimit(cacheLimit);
    }
  });

  it('throws ERR_MA_OOM beyond the memory limit and keeps working afterwards', () => {
    const { memoryLimit, activeBytes } = addon.memoryStats();
    const keep = addon.alloc(1 << 20);
    try {
      addon.setMemoryLimit(activeBytes + (2 << 20));
      expect(addon.memoryStats().memoryLimit).toBe(activeBytes + (2 << 20));
      let error: (Error & { code?: string }) | undefined;
      try {
        addon.alloc(4 << 20);
      } catch (err) {
        error = err as Error & { code?: string };
      }
      expect(error?.code).toBe('ERR_MA_OOM');
      expect(error?.message).toContain(String(4 << 20)); // requested bytes
      expect(error?.message).toContain(String(activeBytes + (2 << 20))); // the limit
      // Under the limit still works.
      const small = addon.alloc(1024);
      addon.free(small);
    } finally {
      addon.setMemoryLimit(memoryLimit);
    }
    const big = addon.alloc(4 << 20);
    addon.write(big, (4 << 20) - 4, new Uint32Array([42]));
    const out = new Uint32Array(1);
    addon.read(big, (4 << 20) - 4, out);
    expect(out[0]).toBe(42);
    addon.free(big);
    addon.free(keep);
  });

  it('reports absurd sizes as ERR_MA_OOM', () => {
    expect(codeOf(() => addon.alloc(2 ** 52))).toBe('ERR_MA_OOM');
  });

  it('rejects double frees and unknown ids with ERR_MA_BAD_BUFFER', () => {
    const id = addon.alloc(8);
    addon.free(id);
    expect(codeOf(() => addon.free(id))).toBe('ERR_MA_BAD_BUFFER');
    expect(codeOf(() => addon.byteLength(id))).toBe('ERR_MA_BAD_BUFFER');
    expect(codeOf(() => addon.write(id, 0, new Uint8Array(1)))).toBe('ERR_MA_BAD_BUFFER');
    expect(codeOf(() => addon.read(id, 0, new Uint8Array(1)))).toBe('ERR_MA_BAD_BUFFER');
    for (const bad of [0, 1, 12345, -1, 2 ** 31, 2 ** 40]) {
      expect(codeOf(() => addon.free(bad))).toBe('ERR_MA_BAD_BUFFER');
    }
    // A recycled slot gets a new id; the stale one stays dead.
    const next = addon.alloc(8);
    expect(next).not.toBe(id);
    expect(codeOf(() => addon.free(id))).toBe('ERR_MA_BAD_BUFFER');
    addon.free(next);
  });

  it('throws ERR_MA_BAD_ARGUMENT on malformed arguments instead of crashing', () => {
    const id = addon.alloc(16);
    try {
      for (const size of [-1, Number.NaN, Number.POSITIVE_INFINITY, 1.5, 2 ** 53, '16', undefined, null, 16n]) {
        expect(codeOf(() => untyped.alloc(size))).toBe('ERR_MA_BAD_ARGUMENT');
      }
      expect(codeOf(() => untyped.free('x'))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.free(1.5))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.byteLength())).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.write(id, 0, [1, 2, 3]))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.write(id, 0, new ArrayBuffer(4)))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.write(id, -1, new Uint8Array(1)))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.read(id, Number.NaN, new Uint8Array(1)))).toBe('ERR_MA_BAD_ARGUMENT');
      // Out of bounds, including offsets whose sum would overflow.
      expect(codeOf(() => addon.write(id, 0, new Uint8Array(17)))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => addon.write(id, 9, new Float64Array(1)))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => addon.read(id, 2 ** 53 - 1, new Uint8Array(2)))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.setMemoryLimit(-1))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.setCacheLimit('big'))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.runPlan(new Float64Array(3), new BigInt64Array(2)))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.runPlan(new Int32Array(0), new Int32Array(2)))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.runPlanAsync(new Int32Array(0), new BigInt64Array(0), 'cb'))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.loadKernels('/x.so', 'sym'))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.loadKernels(42, []))).toBe('ERR_MA_BAD_ARGUMENT');
      expect(codeOf(() => untyped.loadKernels('/x.so', ['a\0b']))).toBe('ERR_MA_BAD_ARGUMENT');
    } finally {
      addon.free(id);
    }
  });

  it('runs an empty plan: nothing is allocated or run, and the async form calls back without an error', async () => {
    const before = addon.memoryStats();
    expect(addon.runPlan(new Int32Array(0), new BigInt64Array(0))).toBeUndefined();
    const done = await new Promise<Error | null>((resolve) => addon.runPlanAsync(new Int32Array(0), new BigInt64Array(0), resolve));
    expect(done).toBeNull();
    expect(addon.memoryStats()).toEqual(before);
  });
});

describe('kernels and plans', () => {
  let dir = '';
  let double = -1; // out[i] = a[i] * 2 over float32
  let record = -1; // appends its [start, end) to an int64 log: log[0] = count, then pairs
  let bump = -1; // counter[0] += 1

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'metalarray-native-'));
    const source = join(dir, 'kernels.c');
    const lib = join(dir, 'kernels.so');
    writeFileSync(
      source,
      `#include <stdint.h>
void ma_double(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
  const float *a = (const float *)bufs[0];
  float *out = (float *)bufs[1];
  for (int64_t i = start; i < end; ++i) out[i] = a[i] * 2.0f;
}
void ma_record(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
  int64_t *log = (int64_t *)bufs[0];
  int64_t slot = __atomic_fetch_add(&log[0], 1, __ATOMIC_SEQ_CST);
  log[1 + 2 * slot] = start;
  log[2 + 2 * slot] = end;
}
void ma_bump(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
  ++*(int64_t *)bufs[0];
}
`,
    );
    execFileSync('cc', ['-O2', '-shared', '-fPIC', '-o', lib, source]);
    [double, record, bump] = addon.loadKernels(lib, ['ma_double', 'ma_record', 'ma_bump']);
    expect(codeOf(() => addon.loadKernels(lib, ['ma_double', 'missing']))).toBe('ERR_MA_DLOPEN');
    expect(codeOf(() => addon.loadKernels(join(dir, 'none.so'), ['x']))).toBe('ERR_MA_DLOPEN');
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function doubled(n: number, grain: number, run: (c: Int32Array, a: BigInt64Array) => void): Float32Array {
    const input = new Float32Array(n).map((_, i) => i - n / 2);
    const a = addon.alloc(n * 4);
    const out = addon.alloc(n * 4);
    try {
      addon.write(a, 0, input);
      run(new Int32Array([double, 0, 2, a, out]), new BigInt64Array([BigInt(n), BigInt(grain)]));
      const result = new Float32Array(n);
      addon.read(out, 0, result);
      for (let i = 0; i < n; i++) {
        if (result[i] !== input[i] * 2) throw new Error(`element ${i}: ${result[i]} != ${input[i] * 2}`);
      }
      return result;
    } finally {
      addon.free(a);
      addon.free(out);
    }
  }

  function readLog(id: number): Array<[number, number]> {
    const log = new BigInt64Array(1 + 2 * 256);
    addon.read(id, 0, log);
    const ranges: Array<[number, number]> = [];
    for (let i = 0; i < Number(log[0]); i++) ranges.push([Number(log[1 + 2 * i]), Number(log[2 + 2 * i])]);
    return ranges.sort((x, y) => x[0] - y[0]);
  }

  it('reports a thread count', () => {
    expect(Number.isInteger(addon.threadCount())).toBe(true);
    expect(addon.threadCount()).toBeGreaterThanOrEqual(1);
  });

  it('runs a large kernel on the thread pool (N = 1e6, grain 1000)', () => {
    doubled(1_000_000, 1000, (c, a) => addon.runPlan(c, a));
  });

  it('runs a small kernel inline (N = 10)', () => {
    doubled(10, 1000, (c, a) => addon.runPlan(c, a));
  });

  it('splits work into contiguous chunks, at most one per thread', () => {
    const log = addon.alloc(8 * (1 + 2 * 256));
    try {
      const run = (n: number, grain: number): Array<[number, number]> => {
        addon.write(log, 0, new BigInt64Array(1));
        addon.runPlan(new Int32Array([record, 0, 1, log]), new BigInt64Array([BigInt(n), BigInt(grain)]));
        return readLog(log);
      };
      const threads = addon.threadCount();
      const big = run(1_000_000, 1000);
      expect(big.length).toBe(Math.min(threads, 1000));
      let next = 0;
      for (const [start, end] of big) {
        expect(start).toBe(next);
        expect(end - start).toBeGreaterThanOrEqual(Math.floor(1_000_000 / big.length));
        next = end;
      }
      expect(next).toBe(1_000_000);
      expect(run(10, 1000)).toEqual([[0, 10]]);
      expect(run(0, 1)).toEqual([[0, 0]]);
      expect(run(2500, 1000)).toHaveLength(Math.min(threads, 3));
    } finally {
      addon.free(log);
    }
  });

  it('runs a plan asynchronously on a copy of commands and args', async () => {
    const n = 1_000_000;
    const input = new Float32Array(n).map((_, i) => i % 1000);
    const a = addon.alloc(n * 4);
    const out = addon.alloc(n * 4);
    try {
      addon.write(a, 0, input);
      const commands = new Int32Array([double, 0, 2, a, out]);
      const args = new BigInt64Array([BigInt(n), 1000n]);
      const done = runAsync(commands, args);
      // Copied at submission: reusing the arrays right away must not matter.
      commands.fill(-1);
      args.fill(-1n);
      await done;
      const result = new Float32Array(n);
      addon.read(out, 0, result);
      expect(result.every((v, i) => v === (i % 1000) * 2)).toBe(true);
    } finally {
      addon.free(a);
      addon.free(out);
    }
  });

  it('runs async plans to completion before calling back', async () => {
    const n = 200_000;
    const input = new Float32Array(n).map((_, i) => i);
    const a = addon.alloc(n * 4);
    const out = addon.alloc(n * 4);
    try {
      addon.write(a, 0, input);
      await runAsync(new Int32Array([double, 0, 2, a, out]), new BigInt64Array([BigInt(n), 1000n]));
      const result = new Float32Array(n);
      addon.read(out, 0, result);
      expect(result.every((v, i) => v === i * 2)).toBe(true);
      // Several in flight at once are serialized and all complete.
      await Promise.all(Array.from({ length: 8 }, () => runAsync(new Int32Array([double, 0, 2, out, a]), new BigInt64Array([BigInt(n), 1000n]))));
      addon.read(a, 0, result);
      expect(result.every((v, i) => v === i * 4)).toBe(true);
    } finally {
      addon.free(a);
      addon.free(out);
    }
  });

  it('validates the whole plan before running any kernel', () => {
    const counter = addon.alloc(8);
    try {
      addon.write(counter, 0, new BigInt64Array([0n]));
      const args = new BigInt64Array([1n, 1n, 1n, 1n]);
      const ok = [bump, 0, 1, counter];
      const stale = addon.alloc(8);
      addon.free(stale);
      const cases: Array<[number[], BigInt64Array, string]> = [
        [[...ok, 9999, 0, 1, counter], args, 'ERR_MA_KERNEL'], // unknown kernel id
        [[...ok, -1, 0, 1, counter], args, 'ERR_MA_KERNEL'],
        [[...ok, bump, 32, 1, counter], args, 'ERR_MA_KERNEL'], // argOffset past the block
        [[...ok, bump, 24, 1, counter], args, 'ERR_MA_KERNEL'], // needs 16 bytes at the offset
        [[...ok, bump, 4, 1, counter], args, 'ERR_MA_KERNEL'], // misaligned
        [[...ok, bump, -8, 1, counter], args, 'ERR_MA_KERNEL'],
        [[...ok, bump, 0, 65, counter], args, 'ERR_MA_KERNEL'], // nBufs > 64
        [[...ok, bump, 0, -1], args, 'ERR_MA_KERNEL'],
        [[...ok, bump, 0, 2, counter], args, 'ERR_MA_KERNEL'], // truncated buffer list
        [[...ok, bump, 0], args, 'ERR_MA_KERNEL'], // truncated header
        [ok, new BigInt64Array([-1n, 1n]), 'ERR_MA_KERNEL'], // negative N
        [ok, new BigInt64Array([1n, 0n]), 'ERR_MA_KERNEL'], // grain 0
        [[...ok, bump, 0, 1, 123456], args, 'ERR_MA_BAD_BUFFER'], // unknown buffer id
        [[...ok, bump, 0, 1, stale], args, 'ERR_MA_BAD_BUFFER'], // freed buffer id
      ];
      for (const [commands, planArgs, code] of cases) {
        expect(codeOf(() => addon.runPlan(new Int32Array(commands), planArgs))).toBe(code);
        expect(codeOf(() => addon.runPlanAsync(new Int32Array(commands), planArgs, () => {}))).toBe(code);
      }
      const count = new BigInt64Array(1);
      addon.read(counter, 0, count);
      expect(count[0]).toBe(0n); // nothing ran

      addon.runPlan(new Int32Array([...ok, bump, 16, 1, counter]), args);
      addon.read(counter, 0, count);
      expect(count[0]).toBe(2n);
    } finally {
      addon.free(counter);
    }
  });
});
