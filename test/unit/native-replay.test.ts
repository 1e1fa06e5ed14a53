// The addon's prepared replays (replayCreate / replayRun, used by compile's replays on
// the CPU): a plan validated once and run with new buffer ids in its patched words.
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
const untyped = addon as unknown as Record<string, (...args: unknown[]) => unknown>;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return String((err as Error & { code?: unknown }).code);
  }
  throw new Error('expected a throw');
}

describe('prepared replays', () => {
  let dir = '';
  let double = -1; // out[i] = a[i] * 2 over float32

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'metalarray-replay-'));
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
`,
    );
    execFileSync('cc', ['-O2', '-shared', '-fPIC', '-o', lib, source]);
    [double] = addon.loadKernels(lib, ['ma_double']);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const n = 64;
  // Two commands: b = a * 2, then c = b * 2; words 3, 4 and 8, 9 are buffer ids (0 until patched).
  const commands = (): Int32Array => new Int32Array([0, 0, 2, 0, 0, 0, 0, 2, 0, 0]).map((w, i) => (i === 0 || i === 5 ? double : w));
  const args = new BigInt64Array([BigInt(n), 16n]);
  const patch = new Int32Array([3, 4, 8, 9]);

  it('runs with new buffer ids on each call and gives the plain run result', () => {
    const handle = addon.replayCreate(commands(), args, patch);
    for (let call = 0; call < 3; call++) {
      const input = new Float32Array(n).map((_, i) => i * (call + 1) - 7);
      const [a, b, c] = [addon.alloc(n * 4), addon.alloc(n * 4), addon.alloc(n * 4)];
      try {
        addon.write(a, 0, input);
        addon.replayRun(handle, new Int32Array([a, b, b, c]));
        const got = new Float32Array(n);
        addon.read(c, 0, got);
        expect(Array.from(got)).toEqual(Array.from(input, (x) => x * 4));
      } finally {
        for (const id of [a, b, c]) addon.free(id);
      }
    }
  });

  it('rejects a malformed plan or patch, a wrong id count, a freed buffer and a foreign handle', () => {
    expect(codeOf(() => addon.replayCreate(new Int32Array([double, 0]), args, new Int32Array(0)))).toBe('ERR_MA_KERNEL');
    expect(codeOf(() => addon.replayCreate(commands(), args, new Int32Array([2])))).toBe('ERR_MA_KERNEL');
    expect(codeOf(() => addon.replayCreate(commands(), args, new Int32Array([10])))).toBe('ERR_MA_KERNEL');
    const handle = addon.replayCreate(commands(), args, patch);
    expect(codeOf(() => addon.replayRun(handle, new Int32Array(3)))).toBe('ERR_MA_BAD_ARGUMENT');
    const freed = addon.alloc(n * 4);
    addon.free(freed);
    const live = addon.alloc(n * 4);
    try {
      expect(codeOf(() => addon.replayRun(handle, new Int32Array([live, live, live, freed])))).toBe('ERR_MA_BAD_BUFFER');
      // A failed run leaves the plan usable.
      addon.replayRun(handle, new Int32Array([live, live, live, live]));
    } finally {
      addon.free(live);
    }
    expect(codeOf(() => untyped.replayRun({}, new Int32Array(4)))).toBe('ERR_MA_BAD_ARGUMENT');
    expect(codeOf(() => untyped.replayRun(handle, new Float64Array(4)))).toBe('ERR_MA_BAD_ARGUMENT');
  });
});
