import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { backendDtypes, FLOAT64_NOTE, HAS_FLOAT64 } from '../support/backend.js';

/** An independent Threefry-2x32 (20 rounds) in plain JS 32-bit arithmetic: the oracle. */
function threefryRef(k0: number, k1: number, x0: number, x1: number): [number, number] {
  const R = [13, 15, 26, 6, 17, 29, 16, 24];
  const ks = [k0 >>> 0, k1 >>> 0, (k0 ^ k1 ^ 0x1bd11bda) >>> 0];
  let a = (x0 + ks[0]) >>> 0;
  let b = (x1 + ks[1]) >>> 0;
  for (let i = 0; i < 20; i++) {
    a = (a + b) >>> 0;
    b = (((b << R[i % 8]) | (b >>> (32 - R[i % 8]))) ^ a) >>> 0;
    if (i % 4 === 3) {
      const s = (i + 1) / 4;
      a = (a + ks[s % 3]) >>> 0;
      b = (b + ks[(s + 1) % 3] + s) >>> 0;
    }
  }
  return [a, b];
}

const u32 = (x: ma.MetalArray): number[] => Array.from(x.toTypedArray() as Uint32Array);
const lowest = (v: number[]): number => v.reduce((m, x) => Math.min(m, x), Number.POSITIVE_INFINITY);
const highest = (v: number[]): number => v.reduce((m, x) => Math.max(m, x), Number.NEGATIVE_INFINITY);
const f64 = (x: ma.MetalArray): number[] => Array.from(x.toTypedArray() as ArrayLike<number>, Number);

function moments(v: number[]): { mean: number; variance: number; skew: number; kurtosis: number } {
  const n = v.length;
  const mean = v.reduce((s, x) => s + x, 0) / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (const x of v) {
    const d = x - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  return { mean, variance: m2, skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

describe('random: keys and the Threefry-2x32 core', () => {
  it("matches the cipher's published known-answer vectors and an independent implementation", () => {
    // Random123's known answers for threefry2x32 with 20 rounds.
    const kat: [number[], number[], number[]][] = [
      [
        [0, 0],
        [0, 0],
        [0x6b200159, 0x99ba4efe],
      ],
      [
        [0xffffffff, 0xffffffff],
        [0xffffffff, 0xffffffff],
        [0x1cb996fc, 0xbb002be7],
      ],
      [
        [0x13198a2e, 0x03707344],
        [0x243f6a88, 0x85a308d3],
        [0xc4923a9c, 0x483df7a0],
      ],
    ];
    for (const [k, x, want] of kat) {
      expect(threefryRef(k[0], k[1], x[0], x[1])).toEqual(want);
      const key = ma.array(new Uint32Array(k), 'uint32');
      const [y0, y1] = ma.random.threefry2x32(key, ma.array(new Uint32Array([x[0]])), ma.array(new Uint32Array([x[1]])));
      expect([u32(y0)[0], u32(y1)[0]]).toEqual(want);
    }
  });

  it('key(seed) is [hi, lo] as uint32; bits are the cipher of each element index under the key', () => {
    expect(u32(ma.random.key(42))).toEqual([0, 42]);
    expect(u32(ma.random.key(2 ** 40 + 7))).toEqual([256, 7]);
    expect(u32(ma.random.key(-1))).toEqual([0xffffffff, 0xffffffff]);
    const key = ma.random.key(1234);
    const got = u32(ma.random.bits(key, [3, 5]));
    const want = Array.from({ length: 15 }, (_, i) => threefryRef(0, 1234, i, 0)[0]);
    expect(got).toEqual(want);
    expect(() => ma.random.key(1.5)).toThrow(ma.ArgumentError);
    expect(() => ma.random.bits(ma.zeros([3]) as ma.MetalArray)).toThrow(ma.ArgumentError);
    expect(() => ma.random.uniform(key, [-1])).toThrow(ma.ArgumentError);
    expect(() => ma.random.uniform(key, [2], 'int32')).toThrow(ma.DTypeError);
  });

  it('split gives distinct keys, deterministically; the same key repeats its numbers', () => {
    const key = ma.random.key(7);
    const keys = ma.random.split(key, 4);
    expect(keys.shape).toEqual([4, 2]);
    const rows = keys.tolist() as number[][];
    expect(new Set(rows.map((r) => r.join(','))).size).toBe(4);
    expect(rows[2]).toEqual(threefryRef(0, 7, 2, 0));
    expect(keys.tolist()).toEqual(ma.random.split(ma.random.key(7), 4).tolist());
    const a = f64(ma.random.uniform(keys.slice(0), [100]));
    const b = f64(ma.random.uniform(keys.slice(0), [100]));
    const c = f64(ma.random.uniform(keys.slice(1), [100]));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('a draw fuses into its consumer: one kernel, no input but the key', () => {
    const key = ma.random.key(3);
    key.eval();
    const y = ma.random.normal(key, [1000]).multiply(2).add(1);
    ma.resetMetrics();
    y.eval();
    expect(ma.metrics().kernelLaunches).toBe(1);
    const plan = ma.explain(ma.random.uniform(key, [10, 10]).sum(1));
    expect(plan).toContain('1 kernel');
    expect(plan).toContain('buffer uint32[2]');
  });
});

describe('random: distributions (moments within 5 standard errors)', () => {
  const N = 200_000;
  const key = ma.random.key(2026);

  it(`uniform float32/float64/float16/bfloat16 on [0, 1) and on [lo, hi)${FLOAT64_NOTE}`, () => {
    for (const dtype of backendDtypes(['float32', 'float64', 'float16', 'bfloat16'] as const)) {
      const v = f64(ma.random.uniform(key, [N], dtype));
      expect(lowest(v)).toBeGreaterThanOrEqual(0);
      expect(highest(v)).toBeLessThan(1);
      const m = moments(v);
      expect(Math.abs(m.mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N) + (dtype === 'bfloat16' ? 2 ** -9 : 0));
      expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(0.002);
    }
    // float64 draws use 53 bits: not all on a 2^-24 grid (where the backend has float64)
    if (HAS_FLOAT64) {
      const d = f64(ma.random.uniform(key, [100], 'float64'));
      expect(d.some((x) => x * 2 ** 24 !== Math.floor(x * 2 ** 24))).toBe(true);
    }
    const s = f64(ma.random.uniform(key, [N], 'float32', -3, 5));
    expect(lowest(s)).toBeGreaterThanOrEqual(-3);
    expect(highest(s)).toBeLessThanOrEqual(5);
    expect(Math.abs(moments(s).mean - 1)).toBeLessThan(5 * Math.sqrt(64 / 12 / N));
  });

  it(`normal: mean 0, variance 1, skew 0, kurtosis 3${FLOAT64_NOTE}`, () => {
    for (const dtype of backendDtypes(['float32', 'float64'] as const)) {
      const m = moments(f64(ma.random.normal(key, [N], dtype)));
      expect(Math.abs(m.mean)).toBeLessThan(5 / Math.sqrt(N));
      expect(Math.abs(m.variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
      expect(Math.abs(m.skew)).toBeLessThan(5 * Math.sqrt(6 / N));
      expect(Math.abs(m.kurtosis - 3)).toBeLessThan(5 * Math.sqrt(24 / N));
    }
  });

  it('truncatedNormal stays in its bounds with the truncated mean', () => {
    const v = f64(ma.random.truncatedNormal(key, -1, 2, [N]));
    expect(lowest(v)).toBeGreaterThanOrEqual(-1);
    expect(highest(v)).toBeLessThanOrEqual(2);
    // mean of N(0,1) truncated to [a, b]: (phi(a) - phi(b)) / (Phi(b) - Phi(a))
    const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
    const mass = 0.9772498680518208 - 0.15865525393145707;
    expect(Math.abs(moments(v).mean - (phi(-1) - phi(2)) / mass)).toBeLessThan(0.01);
  });

  it('randint is uniform over [lo, hi) (chi-square), bernoulli has mean p', () => {
    const r = f64(ma.random.randint(key, [N], -3, 7));
    const counts = new Array(10).fill(0);
    for (const x of r) {
      expect(Number.isInteger(x) && x >= -3 && x < 7).toBe(true);
      counts[x + 3]++;
    }
    const chi2 = counts.reduce((s, c) => s + (c - N / 10) ** 2 / (N / 10), 0);
    expect(chi2).toBeLessThan(30); // 9 degrees of freedom: p < 0.001 above 27.9
    expect(() => ma.random.randint(key, [2], 5, 5)).toThrow(ma.ArgumentError);
    for (const p of [0.1, 0.5, 0.9]) {
      const b = f64(ma.random.bernoulli(key, p, [N]));
      expect(Math.abs(moments(b).mean - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    }
  });

  it('categorical draws indices with the softmax of the logits', () => {
    const probs = [0.1, 0.2, 0.7];
    const logits = ma.broadcastTo(ma.log(ma.array(probs)), [N, 3]);
    const draws = f64(ma.random.categorical(key, logits));
    const freq = [0, 1, 2].map((c) => draws.filter((x) => x === c).length / N);
    probs.forEach((p, c) => {
      expect(Math.abs(freq[c] - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    });
  });

  it("permutation shuffles 0..n-1 or an array's rows, reproducibly", () => {
    const p = f64(ma.random.permutation(key, 1000));
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(f64(ma.random.permutation(key, 1000))).toEqual(p);
    const rows = ma.arange(12).reshape(4, 3);
    const shuffled = ma.random.permutation(key, rows).tolist() as number[][];
    expect(shuffled.map((r) => r[0]).sort((x, y) => x - y)).toEqual([0, 3, 6, 9]);
    for (const r of shuffled) expect(r).toEqual([r[0], r[0] + 1, r[0] + 2]);
    // each position takes each value about equally often
    const counts = new Array(5).fill(0);
    for (let s = 0; s < 400; s++) counts[f64(ma.random.permutation(ma.random.key(s), 5))[0]]++;
    for (const c of counts) expect(Math.abs(c - 80)).toBeLessThan(5 * Math.sqrt(400 * 0.2 * 0.8));
  });
});
