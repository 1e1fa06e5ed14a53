/**
 * Self-tests of the property harness (no library needed):
 * - the oracle's value of every node lies in its bounds (evalBounds asserts it);
 * - an oracle whose inexact results are moved within the tolerance table, and whose
 *   maximum(-0, +0) picks either zero, stays within the bounds of the clean oracle, so
 *   the bounds do not report a library that is within tolerance;
 * - the tolerance comparison accepts what it should and rejects what it should.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as R from '../reference/index.js';
import type { BinaryOp, DType, RefArray, Scalar, UnaryOp } from '../reference/index.js';
import { type Bounds, checkBounds, evalBounds, exactFraction } from './bounds.js';
import { BACKEND_DTYPES } from '../support/backend.js';
import { COMBINE_OPS, combinePair, feasible } from './graph-combine.js';
import { combiningGraphArb, drawReductionShape, type GraphFeatures, graphFeatures, RUNS_PER_DTYPE } from './graph-suites.js';
import { type CompositeCall, checkComposite } from './reduce-composite.js';
import { buildGraph, drawFromGen, drawFromSeed, evalRef, type GraphCase, graphArb, prng, sliceString, toCode, topoOrder } from './graphs.js';
import { allowedError, compare, inputScale, isInexact, toleranceOf } from './tolerance.js';

function perturber(seed: number) {
  const rng = prng(seed);
  return (op: string, _compute: DType, result: RefArray, args: Scalar[][]): RefArray => {
    const dt = result.dtype;
    const flat = R.toFlat(result);
    const out = flat.map((v, i) => {
      const [x0, x1] = [args[0][i], args[1]?.[i]];
      if ((op === 'maximum' || op === 'minimum') && x0 === 0 && x1 === 0 && !Object.is(x0, x1)) return rng() < 0.5 ? 0 : -0;
      if (op === 'relu' && Object.is(args[0][i], -0)) return rng() < 0.5 ? 0 : -0;
      if (!isInexact(op, dt) || typeof v !== 'number' || Number.isNaN(v)) return v;
      const xs = args.map((a) => a[i] as number);
      const raw = xs.length === 1 ? R.floatUnary(op as UnaryOp, xs[0]) : R.floatBinary(op as BinaryOp, xs[0], xs[1]);
      if (!Number.isFinite(raw)) return v;
      const scale = inputScale(xs);
      // the float32 (or float64) part of the tolerance: what a correct kernel may be off by
      // before the final rounding to a 16-bit dtype
      const inner = dt === 'float64' ? 'float64' : 'float32';
      const e = allowedError(raw, inner, toleranceOf(op), scale);
      const u = rng();
      const delta = u < 0.15 ? e : u < 0.3 ? -e : (rng() * 2 - 1) * e;
      return R.roundFloat(raw + delta, dt);
    });
    return R.fromFlat(dt, result.nd.shape, out);
  };
}

function checkCase(c: GraphCase, seed: number): void {
  const bounds = evalBounds(c.root);
  const b = bounds.get(c.root);
  if (!b) throw new Error('no bounds for root');
  const clean = checkBounds(R.toFlat(evalRef(c.root)), b);
  if (clean) throw new Error(`clean oracle out of bounds:\n${clean}\n${toCode(c.root)}`);
  const noisy = checkBounds(R.toFlat(evalRef(c.root, perturber(seed))), b);
  if (noisy) throw new Error(`perturbed oracle out of bounds:\n${noisy}\n${toCode(c.root)}`);
}

describe('property harness', () => {
  it('bounds hold for the oracle and for an oracle perturbed within tolerance (seeded graphs)', () => {
    const seeds = Number(process.env.MA_HARNESS_SEEDS ?? 400);
    for (let seed = 1; seed <= seeds; seed++) {
      const c = buildGraph(drawFromSeed(seed));
      checkCase(c, seed * 7919);
    }
  }, 600_000);

  it('bounds hold on fast-check graphs', () => {
    fc.assert(
      fc.property(graphArb(), fc.integer(), (c, seed) => {
        checkCase(c, seed);
      }),
      { numRuns: 150 },
    );
  }, 600_000);

  it('bounds hold on the combining graphs of graph.property.test.ts', () => {
    for (const dtype of BACKEND_DTYPES) {
      const cases = fc.sample(combiningGraphArb(dtype, { k: 0 }), { numRuns: 12, seed: 99 });
      cases.forEach((c, i) => {
        checkCase(c, i + 1);
      });
    }
  }, 600_000);

  it('generates deep graphs and every node kind', () => {
    const kinds = new Set<string>();
    let maxDepth = 0;
    let exactSum = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const c = buildGraph(drawFromSeed(seed));
      maxDepth = Math.max(maxDepth, c.depth);
      exactSum += exactFraction(evalBounds(c.root).get(c.root) as Bounds);
      const code = toCode(c.root);
      for (const k of ['ma.where', 'ma.clip', '.astype', '.slice', 'ma.concatenate', 'ma.stack', 'ma.split']) {
        if (code.includes(k)) kinds.add(k);
      }
    }
    expect(maxDepth).toBeGreaterThanOrEqual(15);
    // most root elements must be checked bit-exactly, or the graph tests would say little
    expect(exactSum / 300).toBeGreaterThan(0.5);
    for (const k of ['ma.where', 'ma.clip', '.astype', '.slice', 'ma.concatenate', 'ma.stack', 'ma.split']) expect(kinds.has(k), k).toBe(true);
  }, 600_000);

  it('slice string form round-trips through the oracle', () => {
    const x = R.reshape(R.arange(60), [3, 4, 5]);
    const specs: R.SliceSpec[] = [[-1, null, -2], null, [1, 100, 2], '...', 3];
    const s = sliceString(specs);
    expect(s).toBe('-1::-2, None, 1:100:2, ..., 3');
    expect(R.toFlat(R.slice(x, s))).toEqual(R.toFlat(R.slice(x, ...specs)));
  });
});

/**
 * The distribution the property suites draw, measured on the suites' own arbitraries
 * (graph-suites.ts), sampled the way fc.assert draws them. Figures go to the log.
 */
describe('what the suites draw', () => {
  const perDtype = new Map<string, GraphCase[]>();
  const sampleSuite = (): GraphCase[] => {
    const all: GraphCase[] = [];
    for (const dtype of BACKEND_DTYPES) {
      const counter = { k: 0 };
      const cases = fc.sample(combiningGraphArb(dtype, counter), { numRuns: RUNS_PER_DTYPE, seed: 20261207 + dtype.length });
      perDtype.set(dtype, cases);
      all.push(...cases);
    }
    return all;
  };
  const fraction = (fs: GraphFeatures[], p: (f: GraphFeatures) => boolean) => fs.filter(p).length / fs.length;

  it('combining graphs: few empty arrays, long axes, reductions of reductions and over size-1 and broadcast axes', () => {
    const cases = sampleSuite();
    const fs = cases.map((c) => graphFeatures(c.root));
    const arrays = fs.reduce((s, f) => s + f.arrays, 0);
    const empty = fs.reduce((s, f) => s + f.emptyArrays, 0) / arrays;
    const rootsEmpty = cases.filter((c) => c.root.shape.includes(0)).length / cases.length;
    const figures = {
      graphs: cases.length,
      emptyArrayFraction: empty,
      emptyRootFraction: rootsEmpty,
      past128: fraction(fs, (f) => f.maxDim > 128),
      past1024: fraction(fs, (f) => f.maxDim > 1024),
      reductionOfReduction: fraction(fs, (f) => f.reductionOfReduction),
      overSizeOne: fraction(fs, (f) => f.overSizeOne),
      overExpandDims: fraction(fs, (f) => f.overExpandDims),
      overBroadcast: fraction(fs, (f) => f.overBroadcast),
      reductionsIntoBinary: fraction(fs, (f) => f.reductionsIntoBinary),
    };
    console.log(`combining-graph suite distribution: ${JSON.stringify(figures)}`);
    expect(empty).toBeLessThanOrEqual(0.1);
    expect(rootsEmpty).toBeLessThanOrEqual(0.1);
    expect(figures.past128).toBeGreaterThanOrEqual(0.05);
    expect(figures.past1024).toBeGreaterThanOrEqual(0.01);
    expect(figures.reductionOfReduction).toBeGreaterThanOrEqual(0.15);
    expect(figures.overSizeOne).toBeGreaterThanOrEqual(0.15);
    expect(figures.overExpandDims).toBeGreaterThanOrEqual(0.03);
    expect(figures.overBroadcast).toBeGreaterThanOrEqual(0.05);
    expect(figures.reductionsIntoBinary).toBeGreaterThanOrEqual(0.03);
  }, 120_000);

  it('every feasible (combining op × dtype) pair is drawn in every run of the suite', () => {
    if (perDtype.size === 0) sampleSuite();
    for (const dtype of BACKEND_DTYPES) {
      const seen = new Set<string>();
      for (const c of perDtype.get(dtype) ?? []) {
        for (const n of topoOrder(c.root)) {
          const p = combinePair(n);
          if (p && p[1] === dtype) seen.add(p[0]);
        }
      }
      const missing = COMBINE_OPS.filter((op) => feasible(op, dtype) && !seen.has(op));
      expect(missing, dtype).toEqual([]);
    }
  }, 120_000);

  it('per-dtype reduction inputs: at most ~10% empty, some past 1024 elements', () => {
    const shapes = fc.sample(
      fc.gen().map((g) => drawReductionShape(drawFromGen(g))),
      { numRuns: 2000, seed: 7 },
    );
    const empty = shapes.filter((s) => s.includes(0)).length / shapes.length;
    const atMostOne = shapes.filter((s) => s.reduce((p, x) => p * x, 1) <= 1).length / shapes.length;
    const longRow = shapes.filter((s) => s.some((x) => x > 1024)).length / shapes.length;
    const past128 = shapes.filter((s) => s.some((x) => x > 128)).length / shapes.length;
    console.log(`reduction-input shapes: ${JSON.stringify({ empty, atMostOne, past128, longRow })}`);
    expect(empty).toBeLessThanOrEqual(0.1);
    // rank 0 alone is a fifth of the draws
    expect(atMostOne).toBeLessThanOrEqual(0.35);
    expect(past128).toBeGreaterThanOrEqual(0.04);
    expect(longRow).toBeGreaterThanOrEqual(0.01);
  }, 120_000);

  it('elementwise graphs (graphArb, as elementwise (b) draws them): at most ~10% empty', () => {
    const cases = fc.sample(graphArb(), { numRuns: 400, seed: 11 });
    const fs = cases.map((c) => graphFeatures(c.root));
    const rootsEmpty = cases.filter((c) => c.root.shape.includes(0)).length / cases.length;
    console.log(`elementwise graphs: ${JSON.stringify({ emptyRootFraction: rootsEmpty, past128: fraction(fs, (f) => f.maxDim > 128) })}`);
    expect(rootsEmpty).toBeLessThanOrEqual(0.12);
  }, 120_000);
});

describe('composites against the float64 oracle (reduce-composite.ts)', () => {
  const f32 = (xs: number[], shape: number[]) =>
    R.fromFlat(
      'float32',
      shape,
      xs.map((v) => Math.fround(v)),
    );
  const call = (op: CompositeCall['op'], axis: R.Axes = -1, ddof = 0, ord: R.NormOrd = null): CompositeCall => ({ op, axis, keepdims: false, ddof, ord });

  it("accepts the oracle's own correctly rounded float32 results", () => {
    const rng = prng(5);
    for (let t = 0; t < 40; t++) {
      const n = 1 + Math.floor(rng() * 300);
      const x = f32(
        Array.from({ length: 2 * n }, () => (rng() * 2 - 1) * 2 ** Math.floor(rng() * 20 - 10)),
        [2, n],
      );
      const cases: [CompositeCall, RefArray][] = [
        [call('mean'), R.mean(x, -1)],
        [call('var', -1, 1), R.var(x, -1, false, 1)],
        [call('std'), R.std(x, -1)],
        [call('logsumexp'), R.logsumexp(x, -1)],
        [call('softmax'), R.softmax(x, -1)],
        [call('logSoftmax'), R.logSoftmax(x, -1)],
        [call('norm', -1, 0, 3), R.norm(x, 3, -1)],
        [call('norm', null), R.norm(x, null, null)],
      ];
      for (const [c, want] of cases) expect(checkComposite(c.op, c, x, R.toFlat(want), 'float32'), c.op).toBeNull();
    }
  }, 120_000);

  it('rejects a one-pass variance that cancels, though it follows a formula exactly', () => {
    // mean 4096, spread 1: E[x^2] - E[x]^2 in float32 loses every digit of the variance
    const xs = Array.from({ length: 64 }, (_, i) => 4096 + (i % 2 === 0 ? 1 : -1) * (1 + i / 128));
    const x = f32(xs, [64]);
    const m = Math.fround(xs.reduce((a, v) => Math.fround(a + Math.fround(v)), 0) / 64);
    const m2 = Math.fround(xs.reduce((a, v) => Math.fround(a + Math.fround(Math.fround(v) * Math.fround(v))), 0) / 64);
    const onePass = Math.fround(m2 - m * m);
    expect(checkComposite('var', call('var'), x, [onePass], 'float32')).not.toBeNull();
    expect(checkComposite('var', call('var'), x, R.toFlat(R.var(x, -1)), 'float32')).toBeNull();
  });

  it('rejects a softmax or logsumexp a few hundred ulps off', () => {
    const x = f32([0.5, -1.25, 3, 2.5, -0.75], [5]);
    const s = R.toFlat(R.softmax(x, -1)) as number[];
    expect(
      checkComposite(
        'softmax',
        call('softmax'),
        x,
        s.map((v, i) => (i === 2 ? v * (1 + 400 * 2 ** -24) : v)),
        'float32',
      ),
    ).not.toBeNull();
    const l = R.toFlat(R.logsumexp(x, -1)) as number[];
    expect(checkComposite('logsumexp', call('logsumexp'), x, [l[0] + 300 * R.ulp(l[0], 'float32')], 'float32')).not.toBeNull();
  });
});

describe('composites of half and wide inputs against the float64 oracle (reduce-composite.ts)', () => {
  const call = (op: CompositeCall['op'], axis: R.Axes = -1, ord: R.NormOrd = null): CompositeCall => ({ op, axis, keepdims: false, ddof: 0, ord });
  const f16 = (xs: number[]) => R.fromFlat('float16', [xs.length], xs);

  it('a softmax whose exponent error overflows e^δ allows [0, 1], not NaN (which rejected every value)', () => {
    // uint32-sized values in float32: δ is in the hundreds, the tolerance 1
    const x = R.fromFlat('float32', [3], [Math.fround(1056719497), 1, 94]);
    const want = R.toFlat(R.softmax(x, null)) as number[];
    expect(checkComposite('softmax', call('softmax', null), x, want, 'float32')).toBeNull();
    expect(checkComposite('softmax', call('softmax', null), x, [1, 0.5, 0], 'float32')).toBeNull();
  });

  it('float16 logSoftmax stepping in float16 passes, one off by 0.5 does not', () => {
    const x = f16([1.2890625, -5.5, 0.876953125, -6, 2.5]);
    const want = R.toFlat(R.logSoftmax(x, -1)) as number[];
    // each element rounded through float16 steps: within a few float16 ulps of (1 + max|x|)
    const halfSteps = want.map((v) => R.roundFloat(v + 4 * 2 ** -11 * 7, 'float16'));
    expect(checkComposite('logSoftmax', call('logSoftmax'), x, halfSteps, 'float16')).toBeNull();
    expect(
      checkComposite(
        'logSoftmax',
        call('logSoftmax'),
        x,
        want.map((v, i) => (i === 1 ? v + 0.5 : v)),
        'float16',
      ),
    ).not.toBeNull();
  });

  it('a float16 1-norm past 65504 may be Inf; one in range may not', () => {
    const big = f16([-65504, 13448, 5, -1]);
    expect(checkComposite('norm', call('norm', -1, 1), big, [Number.POSITIVE_INFINITY], 'float16')).toBeNull();
    const small = f16([-6504, 1348, 5, -1]);
    expect(checkComposite('norm', call('norm', -1, 1), small, [Number.POSITIVE_INFINITY], 'float16')).not.toBeNull();
  });
});

describe('tolerance compare', () => {
  it('exact ops are exact, NaN = NaN, -0 = +0', () => {
    expect(compare([1, Number.NaN, -0], [1, Number.NaN, 0], 'float32', ['add'])).toBeNull();
    expect(compare([1.0000001192092896], [1], 'float32', ['add'])).not.toBeNull();
    expect(compare([1n, -2n], [1n, -2n], 'int64', [])).toBeNull();
    expect(compare([3], [4], 'int32', ['exp'])).not.toBeNull();
  });

  it('transcendentals get a few ulps, float16 one more ulp', () => {
    const one32 = 2 ** -23;
    expect(compare([1 + 3 * one32], [1], 'float32', ['exp'])).toBeNull();
    expect(compare([1 + 9 * one32], [1], 'float32', ['exp'])).not.toBeNull();
    expect(compare([1 + 2 ** -10], [1], 'float16', ['sin'])).toBeNull();
    expect(compare([1 + 2 ** -9], [1], 'float16', ['sin'])).not.toBeNull();
    expect(compare([Number.POSITIVE_INFINITY], [65504], 'float16', ['exp'])).toBeNull();
    expect(compare([Number.POSITIVE_INFINITY], [65504], 'float16', ['add'])).not.toBeNull();
    expect(compare([Number.NEGATIVE_INFINITY], [Number.POSITIVE_INFINITY], 'float32', ['exp'])).not.toBeNull();
    expect(compare([Number.NaN], [1], 'float32', ['exp'])).not.toBeNull();
  });

  it('subnormal results of inexact ops may be any tiny value of the same sign', () => {
    expect(compare([0], [3.783505853677006e-44], 'float32', ['sigmoid'])).toBeNull();
    expect(compare([-1.4e-42], [-1.38e-42], 'float32', ['silu'])).toBeNull();
    expect(compare([-1e-44], [1e-44], 'float32', ['sigmoid'])).not.toBeNull();
    expect(compare([0], [1e-44], 'float32', ['multiply'])).not.toBeNull();
    expect(compare([1.2e-38], [1e-39], 'float32', ['exp'])).not.toBeNull();
  });

  it('no absolute part for gelu: the error of the 1 + erf formula at -5 is rejected, one ulp is not', () => {
    // gelu(-5) is about -1.43e-6; the old float32 formula was off by ~|x| * eps / 2 there.
    const bits = new Float32Array([-1.4333e-6]);
    const e = bits[0];
    new Uint32Array(bits.buffer)[0] += 1; // the next float32 away from zero
    expect(compare([bits[0]], [e], 'float32', ['gelu'], [5])).toBeNull();
    expect(compare([e + 3e-7], [e], 'float32', ['gelu'], [5])).not.toBeNull();
  });
});
