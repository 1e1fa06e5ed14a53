/**
 * The metalarray side of the benchmark workloads: input data, graph builders, float64
 * references for a correctness check, and the timing loop. `run.ts` drives these;
 * `numpy_peer.py` has the NumPy twin of every builder.
 */
import * as ma from '../dist/index.js';

/** Deterministic PRNG (mulberry32) so every run times the same data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` float32 values uniform in [lo, hi). */
export function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

// ---------------------------------------------------------------- statistics

/** Summary of per-iteration times, in milliseconds. */
export interface Stats {
  medianMs: number;
  minMs: number;
  p10Ms: number;
  p90Ms: number;
  meanMs: number;
  iterations: number;
  warmup: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samplesMs: readonly number[], warmup: number): Stats {
  const s = [...samplesMs].sort((a, b) => a - b);
  return {
    medianMs: quantile(s, 0.5),
    minMs: s[0],
    p10Ms: quantile(s, 0.1),
    p90Ms: quantile(s, 0.9),
    meanMs: s.reduce((a, b) => a + b, 0) / s.length,
    iterations: s.length,
    warmup,
  };
}

/** How many iterations to time: `iters`, cut short after `maxSeconds` once `minIters` are done. */
export interface Budget {
  warmup: number;
  iters: number;
  minIters: number;
  maxSeconds: number;
}

/**
 * Times what a user pays per iteration: build the graph from the (already evaluated)
 * inputs, `ma.eval` it, dispose the result.
 */
export function timeGraph(build: () => ma.MetalArray, budget: Budget): Stats {
  for (let i = 0; i < budget.warmup; i++) {
    const r = build();
    ma.eval(r);
    r.dispose();
  }
  const samples: number[] = [];
  const deadline = performance.now() + budget.maxSeconds * 1000;
  for (let i = 0; i < budget.iters; i++) {
    const t0 = performance.now();
    const r = build();
    ma.eval(r);
    r.dispose();
    samples.push(performance.now() - t0);
    if (i + 1 >= budget.minIters && performance.now() > deadline) break;
  }
  return summarize(samples, budget.warmup);
}

/** Largest |got - want| / max(1, |want|) over the elements. */
export function maxError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
  }
  return worst;
}

// ---------------------------------------------------------------- a. gelu

export const GELU_N = 4 * 1024 * 1024;

/** `0.5*x*(1+tanh(0.79788456*(x+0.044715*x^3)))` with elementwise ops only. */
export function gelu(x: ma.MetalArray): ma.MetalArray {
  const x3 = x.multiply(x).multiply(x);
  const inner = x.add(x3.multiply(0.044715)).multiply(0.79788456);
  return x.multiply(0.5).multiply(ma.tanh(inner).add(1));
}

export function geluReference(x: Float32Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = 0.5 * v * (1 + Math.tanh(0.79788456 * (v + 0.044715 * v * v * v)));
  }
  return out;
}

// ---------------------------------------------------------------- b. affine

export const AFFINE_ROWS = 2048;
export const AFFINE_COLS = 2048;

/** `(a - mu) * sc + bi`, the row vectors broadcast over the rows of `a`. */
export function affine(a: ma.MetalArray, mu: ma.MetalArray, sc: ma.MetalArray, bi: ma.MetalArray): ma.MetalArray {
  return a.subtract(mu).multiply(sc).add(bi);
}

export function affineReference(a: Float32Array, mu: Float32Array, sc: Float32Array, bi: Float32Array, cols: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const j = i % cols;
    out[i] = (a[i] - mu[j]) * sc[j] + bi[j];
  }
  return out;
}

// ---------------------------------------------------------------- c. chain

export const CHAIN_N = 1024;
export const CHAIN_OPS = 100;

/** The op sequence: (multiply, add, sin) repeated, cut at `count` ops. */
export function chainOps(count: number): ('multiply' | 'add' | 'sin')[] {
  const pattern = ['multiply', 'add', 'sin'] as const;
  return Array.from({ length: count }, (_, i) => pattern[i % 3]);
}

export function chain(x: ma.MetalArray, ops: readonly ('multiply' | 'add' | 'sin')[]): ma.MetalArray {
  let y = x;
  for (const op of ops) {
    if (op === 'multiply') y = y.multiply(1.0001);
    else if (op === 'add') y = y.add(0.0001);
    else y = y.sin();
  }
  return y;
}

export function chainReference(x: Float32Array, ops: readonly ('multiply' | 'add' | 'sin')[]): Float64Array {
  const out = Float64Array.from(x);
  for (let i = 0; i < out.length; i++) {
    let v = out[i];
    for (const op of ops) {
      if (op === 'multiply') v *= 1.0001;
      else if (op === 'add') v += 0.0001;
      else v = Math.sin(v);
    }
    out[i] = v;
  }
  return out;
}

// ---------------------------------------------------------------- d. first eval

/** The ops a first-eval graph is drawn from. */
export const RANDOM_OPS = ['sin', 'exp', 'add', 'multiply', 'tanh', 'abs'] as const;
export type RandomOp = (typeof RANDOM_OPS)[number];

/** `length` ops drawn with a seeded PRNG: the graph's structure, not just its constants, varies. */
export function randomOps(seed: number, length: number): RandomOp[] {
  const next = rng(seed);
  return Array.from({ length }, () => RANDOM_OPS[Math.floor(next() * RANDOM_OPS.length)]);
}

/** Applies the ops to `x`; the binary ones take `y` as their second operand. */
export function randomGraph(x: ma.MetalArray, y: ma.MetalArray, ops: readonly RandomOp[]): ma.MetalArray {
  let z = x;
  for (const op of ops) {
    switch (op) {
      case 'sin':
        z = z.sin();
        break;
      case 'exp':
        z = z.exp();
        break;
      case 'tanh':
        z = z.tanh();
        break;
      case 'abs':
        z = z.abs();
        break;
      case 'add':
        z = z.add(y);
        break;
      case 'multiply':
        z = z.multiply(y);
        break;
    }
  }
  return z;
}
