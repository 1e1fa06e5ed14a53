/**
 * compile's graph mode (src/engine/replay.ts) without a GPU: the CPU backend is given a
 * recordGraph that behaves as the CUDA one does (records the commands over the replay's
 * fixed buffers; a replay copies the `before` pairs in, runs, copies the `after` pairs
 * out), so the fixed buffers, the copies in and out and their release are checked here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import type { Backend, DeviceGraph } from '../../src/runtime/backend.js';
import type { BufferRef } from '../../src/core/node.js';
import { backendFor } from '../../src/runtime/registry.js';

type MA = ma.MetalArray;
const bits = (a: MA): string => Array.from(a.storageBits() as ArrayLike<number | bigint>, String).join(',');

describe('compile with a recorded graph (CPU stand-in for CUDA graphs)', () => {
  const cpu = backendFor('cpu') as Backend;
  const originalAlloc = cpu.alloc;
  const live = new Map<number, BufferRef>();
  let launches = 0;
  let recorded = 0;
  let released = 0;

  beforeAll(() => {
    cpu.alloc = (nbytes: number): BufferRef => {
      const b = originalAlloc.call(cpu, nbytes);
      live.set(b.id, b);
      return b;
    };
    const copy = (pairs: Int32Array): void => {
      for (let i = 0; i < pairs.length; i += 2) {
        const src = live.get(pairs[i]) as BufferRef;
        const dst = live.get(pairs[i + 1]) as BufferRef;
        const bytes = new Uint8Array(dst.nbytes);
        cpu.read(src, 0, bytes);
        cpu.write(dst, 0, bytes);
      }
    };
    cpu.recordGraph = (commands: Int32Array, args: BigInt64Array): DeviceGraph => {
      recorded++;
      const c = commands.slice();
      const a = args.slice();
      return {
        replay(before: Int32Array, after: Int32Array): void {
          copy(before);
          cpu.run(c, a);
          copy(after);
          launches++;
        },
        release(): void {
          released++;
        },
      };
    };
  });

  afterAll(() => {
    ma.clearCompileCache();
    cpu.alloc = originalAlloc;
    delete cpu.recordGraph;
  });

  it('replays bit for bit, one recorded launch per call, earlier outputs untouched, graph released on eviction', () => {
    const scale = ma.random.normal(ma.random.key(1), [32]);
    const f = (x: MA, y: MA): MA[] => {
      const h = x.multiply(scale).add(y).tanh();
      return [h.sum(1), h.matmul(y.transpose()).exp(), x];
    };
    const compiled = ma.compile(f);
    const kept: { got: MA[]; want: string[] }[] = [];
    for (let k = 0; k < 4; k++) {
      const x = ma.random.normal(ma.random.key(10 + k), [4, 32]);
      const y = ma.random.uniform(ma.random.key(20 + k), [4, 32]);
      const before = launches;
      const got = compiled(x, y);
      const want = f(x, y).map(bits);
      expect(got.map(bits)).toEqual(want);
      expect(launches - before).toBe(1);
      kept.push({ got, want });
    }
    expect(recorded).toBe(1);
    for (const { got, want } of kept) expect(got.map(bits)).toEqual(want);
    // A strided argument is made dense first.
    const wide = ma.random.normal(ma.random.key(30), [32, 4]).transpose();
    const y = ma.random.uniform(ma.random.key(31), [4, 32]);
    expect(compiled(wide, y).map(bits)).toEqual(f(wide, y).map(bits));
    ma.clearCompileCache();
    expect(released).toBe(1);
  });
});
