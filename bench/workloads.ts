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

// ---------------------------------------------------------------- e. row sum, f. full sum

export const ROWSUM_ROWS = 2048;
export const ROWSUM_COLS = 2048;
export const SUM_N = 16 * 1024 * 1024;

/** Sum of each row of a row-major `rows`×`cols` matrix. */
export function rowSumReference(x: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0, o = r * cols; c < cols; c++) s += x[o + c];
    out[r] = s;
  }
  return out;
}

export function sumReference(x: Float32Array): Float64Array {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return Float64Array.of(s);
}

// ---------------------------------------------------------------- g. softmax

export const SOFTMAX_ROWS = 2048;
export const SOFTMAX_COLS = 2048;

/** Softmax over each row, shifted by the row maximum. */
export function softmaxReference(x: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[o + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += out[o + c] = Math.exp(x[o + c] - m);
    for (let c = 0; c < cols; c++) out[o + c] /= s;
  }
  return out;
}

// ---------------------------------------------------------------- h. layer norm

export const LAYERNORM_ROWS = 4096;
export const LAYERNORM_COLS = 512;
export const LAYERNORM_EPS = 1e-5;

/** `(x - mu) / sqrt(var + eps) * g + b` over the last axis, with `ma.mean` and `ma.var` (two-pass). */
export function layerNorm(x: ma.MetalArray, g: ma.MetalArray, b: ma.MetalArray): ma.MetalArray {
  const mu = ma.mean(x, -1, true);
  const v = ma.var(x, -1, true);
  return x
    .subtract(mu)
    .divide(ma.sqrt(v.add(LAYERNORM_EPS)))
    .multiply(g)
    .add(b);
}

export function layerNormReference(x: Float32Array, g: Float32Array, b: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let mu = 0;
    for (let c = 0; c < cols; c++) mu += x[o + c];
    mu /= cols;
    let v = 0;
    for (let c = 0; c < cols; c++) v += (x[o + c] - mu) ** 2;
    v /= cols;
    const inv = 1 / Math.sqrt(v + LAYERNORM_EPS);
    for (let c = 0; c < cols; c++) out[o + c] = (x[o + c] - mu) * inv * g[c] + b[c];
  }
  return out;
}

// ---------------------------------------------------------------- i. matmul, j. relu(a @ b + bias)

export const MATMUL_N = 1024;

/** Floating-point operations of an m×k by k×n product (one multiply and one add per term). */
export function matmulFlops(m: number, k: number, n: number): number {
  return 2 * m * k * n;
}

export function matmulRelu(a: ma.MetalArray, b: ma.MetalArray, bias: ma.MetalArray): ma.MetalArray {
  return ma.relu(ma.matmul(a, b).add(bias));
}

/** `a @ b` of row-major float32 matrices, accumulated in float64. */
export function matmulReference(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  const bRow = new Float64Array(n);
  for (let p = 0; p < k; p++) {
    for (let j = 0; j < n; j++) bRow[j] = b[p * n + j];
    for (let i = 0; i < m; i++) {
      const av = a[i * k + p];
      const o = i * n;
      for (let j = 0; j < n; j++) out[o + j] += av * bRow[j];
    }
  }
  return out;
}

/** `max(mm + bias, 0)`, `mm` the reference product and `bias` broadcast over its rows. */
export function matmulReluReference(mm: Float64Array, bias: Float32Array, n: number): Float64Array {
  const out = new Float64Array(mm.length);
  for (let i = 0; i < mm.length; i++) out[i] = Math.max(mm[i] + bias[i % n], 0);
  return out;
}

// ---------------------------------------------------------------- k. sort

export const SORT_ROWS = 1000;
export const SORT_COLS = 1000;

/** Each row's stable ascending order (indices), as float64 for maxError. */
export function argsortReference(x: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const order = Array.from({ length: cols }, (_, j) => j).sort((p, q) => x[o + p] - x[o + q] || p - q);
    for (let j = 0; j < cols; j++) out[o + j] = order[j];
  }
  return out;
}

/** Each row sorted ascending (inputs without NaN). */
export function sortReference(x: Float32Array, rows: number, cols: number): Float64Array {
  const order = argsortReference(x, rows, cols);
  return order.map((j, i) => x[i - (i % cols) + j]);
}
