import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { threefryHost } from '../../src/ops/threefry-host.js';
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
    expect(() => ma.random.bits(ma.zeros([3]) as ma.MetalArray)).toThrow(ma.DTypeError);
    expect(() => ma.random.uniform(key, [-1])).toThrow(ma.ArgumentError);
    expect(() => ma.random.uniform(key, [2], 'int32')).toThrow(ma.DTypeError);
  });

  it('split gives distinct keys, deterministically; the same key repeats its numbers', () => {
    const key = ma.random.key(7);
    const keys = ma.random.split(key, 4);
    expect(keys.shape).toEqual([4, 2]);
    const rows = keys.tolist() as number[][];
    expect(new Set(rows.map((r) => r.join(','))).size).toBe(4);
    // JAX's layout: counters 0..7, x0 = 0..3 against x1 = 4..7, all first words then all second words.
    const flat = [0, 1, 2, 3].map((j) => threefryRef(0, 7, j, 4 + j));
    const words = [...flat.map((w) => w[0]), ...flat.map((w) => w[1])];
    expect(rows[2]).toEqual([words[4], words[5]]);
    expect(keys.tolist()).toEqual(ma.random.split(ma.random.key(7), 4).tolist());
    const a = f64(ma.random.uniform(keys.slice(0), [100]));
    const b = f64(ma.random.uniform(keys.slice(0), [100]));
    const c = f64(ma.random.uniform(keys.slice(1), [100]));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("key and split match JAX's values bit for bit (PRNGKey(0), split(PRNGKey(0)))", () => {
    expect(u32(ma.random.key(0))).toEqual([0, 0]);
    // jax.random.split(jax.random.PRNGKey(0)) in JAX's documentation.
    expect(ma.random.split(ma.random.key(0)).tolist()).toEqual([
      [4146024105, 967050713],
      [2718843009, 1272950319],
    ]);
  });

  it('the host cipher (keys) and the device cipher (draws) agree bit for bit', () => {
    const n = 4096;
    const x0 = new Uint32Array(n);
    const x1 = new Uint32Array(n);
    let s = 0x9e3779b9;
    const next = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s;
    };
    for (let i = 0; i < n; i++) {
      x0[i] = i < 4 ? [0, 0xffffffff, 1, 0x80000000][i] : next();
      x1[i] = i < 4 ? [0, 0xffffffff, 0xffffffff, 0x7fffffff][i] : next();
    }
    for (const k of [
      [0, 0],
      [0xffffffff, 0xffffffff],
      [0x13198a2e, 0x03707344],
      [next(), next()],
    ]) {
      const [d0, d1] = ma.random.threefry2x32(ma.array(new Uint32Array(k), 'uint32'), ma.array(x0), ma.array(x1));
      const dev0 = d0.toTypedArray() as Uint32Array;
      const dev1 = d1.toTypedArray() as Uint32Array;
      const host = new Uint32Array(2);
      for (let i = 0; i < n; i++) {
        threefryHost(k[0], k[1], x0[i], x1[i], host, 0, 1);
        if (host[0] !== dev0[i] || host[1] !== dev1[i]) throw new Error(`mismatch at ${i}: host ${host} device ${dev0[i]},${dev1[i]}`);
      }
    }
  });

  it('split destructures into keys; foldIn is JAX fold_in (the cipher of (0, data))', () => {
    const key = ma.random.key(11);
    const [k1, k2, ...rest] = ma.random.split(key);
    expect(rest).toEqual([]);
    expect(k1.shape).toEqual([2]);
    expect(u32(k1)).not.toEqual(u32(k2));
    expect([...ma.random.split(key, 3)].map(u32)).toEqual(ma.random.split(key, 3).tolist());
    expect(ma.random.split(key, 0).shape).toEqual([0, 2]);
    expect(u32(ma.random.foldIn(key, 5))).toEqual(threefryRef(0, 11, 0, 5));
    expect(u32(ma.random.foldIn(key, -1))).toEqual(threefryRef(0, 11, 0, 0xffffffff));
    expect(u32(ma.random.foldIn(key, 2n ** 32n + 3n))).toEqual(u32(ma.random.foldIn(key, 3)));
    expect(u32(ma.random.foldIn(key, 1))).not.toEqual(u32(ma.random.foldIn(key, 2)));
    // keys work as keys: a draw from a destructured key equals one from the sliced row
    expect(u32(ma.random.bits(k2, [8]))).toEqual(u32(ma.random.bits(ma.random.split(key).slice(1), [8])));
    expect(() => ma.random.foldIn(key, 1.5)).toThrow(ma.ArgumentError);
    expect(() => ma.random.split(key, -1)).toThrow(ma.ArgumentError);
  });

  it('a key of the wrong shape or dtype throws a typed error naming the call', () => {
    const keys = ma.random.split(ma.random.key(1), 3);
    const calls: [string, (k: ma.MetalArray) => unknown][] = [
      ['split', (k) => ma.random.split(k)],
      ['foldIn', (k) => ma.random.foldIn(k, 1)],
      ['bits', (k) => ma.random.bits(k, [2])],
      ['uniform', (k) => ma.random.uniform(k, [2])],
      ['normal', (k) => ma.random.normal(k, [2])],
      ['randint', (k) => ma.random.randint(k, [2], 0, 3)],
      ['bernoulli', (k) => ma.random.bernoulli(k, 0.5, [2])],
      ['permutation', (k) => ma.random.permutation(k, 4)],
    ];
    for (const [name, call] of calls) {
      expect(() => call(keys)).toThrow(ma.ShapeError);
      expect(() => call(keys)).toThrow(new RegExp(`random\\.${name}.*shape \\[2\\].*keys\\.slice\\(0\\)`));
      expect(() => call(ma.array([1, 2], 'int32'))).toThrow(ma.DTypeError);
      expect(() => call(ma.array([1, 2], 'int32'))).toThrow(new RegExp(`random\\.${name}: a key is a uint32 array`));
      expect(() => call([1, 2] as unknown as ma.MetalArray)).toThrow(ma.ArgumentError);
    }
    const dead = ma.random.key(3);
    dead.dispose();
    expect(() => ma.random.split(dead)).toThrow(ma.DisposedError);
  });

  it('iteration walks axis 0 with views; a 0-d array is not iterable', () => {
    const a = ma.arange(6).reshape(2, 3);
    expect([...a].map((r) => r.tolist())).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect([...ma.arange(3)].map((x) => x.shape)).toEqual([[], [], []]);
    expect(() => [...ma.array(5)]).toThrow(TypeError);
    expect(() => [...ma.array(5)]).toThrow(/shape \[\]/);
  });

  it('keys are evaluated at once: a 1000-step split loop builds no graph', () => {
    let key = ma.random.key(5);
    const depth = (x: ma.MetalArray) => x.liveNode('test').depth;
    for (let i = 0; i < 1000; i++) {
      const [next, sub] = ma.random.split(key);
      key = next;
      expect(depth(sub)).toBeLessThanOrEqual(1);
      if (i % 100 === 0) expect(depth(ma.random.normal(sub, [4]))).toBeLessThan(100);
    }
    expect(depth(key)).toBeLessThanOrEqual(1);
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
