/**
 * Property tests of reductions and their composites against the oracle
 * (test/reference/reduce.ts) and the bounds of the library's formulas
 * (reduce-bounds.ts):
 * (a) every reduction × every dtype on random shapes (rank 0-4, 0- and 1-sized dims),
 *     random axes (one, negative, lists, none), keepdims, function and method forms,
 *     contiguous and strided inputs (transposes, slices with steps, flips, broadcasts);
 * (b) reductions of fused elementwise producers (random graphs), and fixed patterns
 *     such as sum(exp(x - 1), axis) and softmax of a sliced view;
 * (c) fused and unfused evaluation give identical bits;
 * (d) errors: bad axes, empty extents, bad norm orders, as the oracle;
 * (e) the harness itself: the oracle's exact values lie within the formula bounds.
 *
 * Run counts scale with MA_PROPERTY_SCALE (default 1); MA_PROPERTY_SEED fixes the seed.
 * Every failure message holds a standalone reproduction using `ma`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as R from '../reference/index.js';
import type { DType, RefArray } from '../reference/index.js';
import { type Bounds, evalBounds } from './bounds.js';
import {
  buildGraph,
  DEFAULT_GRAPH_OPTIONS,
  type Draw,
  drawFromGen,
  drawShape,
  type GraphOptions,
  type Node,
  chance,
  pick,
  randomValues,
  toCode,
  topoOrder,
} from './graphs.js';
import { buildLib, disposeAll, libBits, libFlat, type MA, ma } from './lib-eval.js';
import { type CompositeCall, checkComposite } from './reduce-composite.js';
import { type AV, exactAV, reduceBounds, rowProd, rowSum } from './reduce-bounds.js';
import { drawReductionShape } from './graph-suites.js';
import {
  axesCode,
  checkAgainst,
  drawAxes,
  drawAxis,
  drawInput,
  errorKind,
  oracleWithin,
  PER_DTYPE_RUNS,
  PROFILES,
  params,
  TIMEOUT,
  thrown,
} from './reduce-cases.js';
import { FORMULA_SLACK_ULPS } from './tolerance.js';
import { BACKEND_DTYPES, FLOAT64_NOTE, backendDtypes } from '../support/backend.js';

beforeAll(() => {
  ma.setFusion(true);
});
afterAll(() => {
  ma.setFusion(true);
});

/** One reduction call: the library's, the oracle's and the bounds', with its code. */
interface Op {
  name: string;
  /** The call as code, applied to the input named `x`. */
  code(x: string): string;
  lib(x: MA): MA;
  ref(x: RefArray): RefArray;
  bounds(b: Bounds): Bounds;
  /** For the composites: the call, checked against the oracle's float64 value too. */
  composite?: CompositeCall;
}

type AxesOp = 'sum' | 'prod' | 'max' | 'min' | 'any' | 'all' | 'mean' | 'logsumexp';
const AXES_FN: Readonly<Record<AxesOp, (x: MA, axis: R.Axes, keepdims: boolean) => MA>> = {
  sum: (x, a, k) => ma.sum(x, a, k),
  prod: (x, a, k) => ma.prod(x, a, k),
  max: (x, a, k) => ma.max(x, a, k),
  min: (x, a, k) => ma.min(x, a, k),
  any: (x, a, k) => ma.any(x, a, k),
  all: (x, a, k) => ma.all(x, a, k),
  mean: (x, a, k) => ma.mean(x, a, k),
  logsumexp: (x, a, k) => ma.logsumexp(x, a, k),
};
const AXES_METHOD: Readonly<Record<AxesOp, (x: MA, axis: R.Axes, keepdims: boolean) => MA>> = {
  sum: (x, a, k) => x.sum(a, k),
  prod: (x, a, k) => x.prod(a, k),
  max: (x, a, k) => x.max(a, k),
  min: (x, a, k) => x.min(a, k),
  any: (x, a, k) => x.any(a, k),
  all: (x, a, k) => x.all(a, k),
  mean: (x, a, k) => x.mean(a, k),
  logsumexp: (x, a, k) => x.logsumexp(a, k),
};
const AXES_REF: Readonly<Record<AxesOp, (x: RefArray, axis: R.Axes, keepdims: boolean) => RefArray>> = {
  sum: R.sum,
  prod: R.prod,
  max: R.max,
  min: R.min,
  any: R.any,
  all: R.all,
  mean: R.mean,
  logsumexp: R.logsumexp,
};

const ALL_OPS = [
  'sum',
  'prod',
  'max',
  'min',
  'any',
  'all',
  'mean',
  'logsumexp',
  'argmax',
  'argmin',
  'var',
  'std',
  'countNonzero',
  'softmax',
  'logSoftmax',
  'norm',
] as const;
type OpName = (typeof ALL_OPS)[number];

const NORM_ORDS: readonly R.NormOrd[] = [null, 'fro', 2, 1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 3, 0.5, -1];

function ordCode(o: R.NormOrd): string {
  if (o === null) return 'null';
  if (o === 'fro') return "'fro'";
  if (o === Number.POSITIVE_INFINITY) return 'Infinity';
  if (o === Number.NEGATIVE_INFINITY) return '-Infinity';
  return String(o);
}

/** Draws the arguments of one reduction over an input of `rank` dims. */
function drawOp(d: Draw, name: OpName, rank: number): Op {
  const keepdims = chance(d, 40);
  const method = chance(d, 50);
  switch (name) {
    case 'argmax':
    case 'argmin': {
      const a = drawAxis(d, rank);
      const axis = a === null ? undefined : a;
      const isMax = name === 'argmax';
      return {
        name,
        code: (x) => (method ? `${x}.${name}(${axis}, ${keepdims})` : `ma.${name}(${x}, ${axis}, ${keepdims})`),
        lib: (x) =>
          method ? (isMax ? x.argmax(axis, keepdims) : x.argmin(axis, keepdims)) : isMax ? ma.argmax(x, axis, keepdims) : ma.argmin(x, axis, keepdims),
        ref: (x) => (isMax ? R.argmax(x, axis, keepdims) : R.argmin(x, axis, keepdims)),
        bounds: (b) => (isMax ? reduceBounds.argmax(b, axis, keepdims) : reduceBounds.argmin(b, axis, keepdims)),
      };
    }
    case 'var':
    case 'std': {
      const axis = drawAxes(d, rank);
      const ddof = pick(d, [0, 0, 1, 2]);
      const isVar = name === 'var';
      return {
        name,
        code: (x) => (method ? `${x}.${name}(${axesCode(axis)}, ${keepdims}, ${ddof})` : `ma.${name}(${x}, ${axesCode(axis)}, ${keepdims}, ${ddof})`),
        lib: (x) =>
          method
            ? isVar
              ? x.var(axis, keepdims, ddof)
              : x.std(axis, keepdims, ddof)
            : isVar
              ? ma.var(x, axis, keepdims, ddof)
              : ma.std(x, axis, keepdims, ddof),
        ref: (x) => (isVar ? R.var(x, axis, keepdims, ddof) : R.std(x, axis, keepdims, ddof)),
        bounds: (b) => (isVar ? reduceBounds.var(b, axis, keepdims, ddof) : reduceBounds.std(b, axis, keepdims, ddof)),
        composite: { op: name, axis, keepdims, ddof, ord: null },
      };
    }
    case 'countNonzero': {
      const axis = drawAxes(d, rank);
      return {
        name,
        code: (x) => `ma.countNonzero(${x}, ${axesCode(axis)}, ${keepdims})`,
        lib: (x) => ma.countNonzero(x, axis, keepdims),
        ref: (x) => R.countNonzero(x, axis, keepdims),
        bounds: (b) => reduceBounds.countNonzero(b, axis, keepdims),
      };
    }
    case 'softmax':
    case 'logSoftmax': {
      // the default axis (-1), one axis, a list, or all
      const k = d.int(0, 4);
      const axis: R.Axes | 'default' = k === 0 ? 'default' : k === 1 ? null : k === 2 ? drawAxes(d, rank) : (drawAxis(d, rank, false) ?? 'default');
      const isSoft = name === 'softmax';
      const arg = axis === 'default' ? '' : `, ${axesCode(axis)}`;
      const libAxis = axis === 'default' ? undefined : axis;
      const refAxis = axis === 'default' ? -1 : axis;
      return {
        name,
        code: (x) => (method ? `${x}.${name}(${arg.slice(2)})` : `ma.${name}(${x}${arg})`),
        lib: (x) => {
          if (method) return isSoft ? x.softmax(libAxis) : x.logSoftmax(libAxis);
          return isSoft ? ma.softmax(x, libAxis) : ma.logSoftmax(x, libAxis);
        },
        ref: (x) => (isSoft ? R.softmax(x, refAxis) : R.logSoftmax(x, refAxis)),
        bounds: (b) => (isSoft ? reduceBounds.softmax(b, refAxis) : reduceBounds.logSoftmax(b, refAxis)),
        composite: { op: name, axis: refAxis, keepdims: false, ddof: 0, ord: null },
      };
    }
    case 'norm': {
      const ord = pick(d, NORM_ORDS);
      const axis = drawAxes(d, rank);
      return {
        name,
        code: (x) => `ma.norm(${x}, ${ordCode(ord)}, ${axesCode(axis)}, ${keepdims})`,
        lib: (x) => ma.norm(x, ord, axis, keepdims),
        ref: (x) => R.norm(x, ord, axis, keepdims),
        bounds: (b) => reduceBounds.norm(b, ord, axis, keepdims),
        composite: { op: 'norm', axis, keepdims, ddof: 0, ord },
      };
    }
    default: {
      const axis = drawAxes(d, rank);
      return {
        name,
        code: (x) => (method ? `${x}.${name}(${axesCode(axis)}, ${keepdims})` : `ma.${name}(${x}, ${axesCode(axis)}, ${keepdims})`),
        lib: (x) => (method ? AXES_METHOD[name](x, axis, keepdims) : AXES_FN[name](x, axis, keepdims)),
        ref: (x) => AXES_REF[name](x, axis, keepdims),
        bounds: (b) => reduceBounds[name](b, axis, keepdims),
        ...(name === 'mean' || name === 'logsumexp' ? { composite: { op: name, axis, keepdims, ddof: 0, ord: null } } : {}),
      };
    }
  }
}

/** A standalone reproduction: the input graph, then the ops applied to it. */
function repro(root: Node, ops: readonly Op[]): string {
  const last = `t${topoOrder(root).length - 1}`;
  return `${toCode(root)}\nconst x = ${last};\n${ops.map((op) => `ma.eval(${op.code('x')});`).join('\n')}`;
}

interface Pending {
  what: string;
  got: MA;
  want: RefArray;
  bounds: Bounds;
  composite?: CompositeCall;
}

/**
 * Runs ops on the input graph `root` with the library and the oracle; compares errors,
 * then evaluates every library result in one eval (one compiler run) and checks them.
 */
function runOps(root: Node, ops: readonly Op[]): void {
  const inputBounds = evalBounds(root).get(root) as Bounds;
  const x = inputBounds.val;
  const created: MA[] = [];
  const problems: string[] = [];
  const pending: Pending[] = [];
  try {
    const input = buildLib(root, created);
    for (const op of ops) {
      const code = op.code('x');
      let want: RefArray | null = null;
      const oracleErr = thrown(() => {
        want = op.ref(x);
      });
      let got: MA | null = null;
      const libErr = thrown(() => {
        got = op.lib(input);
      });
      if (got) created.push(got);
      if (errorKind(oracleErr) !== errorKind(libErr)) {
        problems.push(`${code}: library gave ${errorKind(libErr)}, oracle ${errorKind(oracleErr)}`);
      } else if (got && want) {
        pending.push({ what: code, got, want, bounds: op.bounds(inputBounds), composite: op.composite });
      }
    }
    const evalErr = thrown(() => ma.eval(...pending.map((p) => p.got)));
    if (evalErr !== null) problems.push(`eval threw ${errorKind(evalErr)}`);
    else {
      for (const p of pending) {
        const msg = checkAgainst(p.what, p.got, p.want, p.bounds);
        if (msg) problems.push(msg);
        // the composites also against the oracle's float64 value (exact inputs only: the
        // tolerance is about the function, not about uncertain inputs)
        const exactInput = (R.toFlat(inputBounds.exact) as number[]).every((e) => e === 1);
        const off = !msg && p.composite && exactInput ? checkComposite(p.what, p.composite, x, libFlat(p.got), p.got.dtype) : null;
        if (off) problems.push(off);
      }
    }
  } finally {
    disposeAll(created);
  }
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\n${repro(root, ops)}`);
}

// -----------------------------------------------------------------------------------
// (a) every reduction × every dtype
// -----------------------------------------------------------------------------------

describe(`(a) reductions × dtypes vs the oracle${FLOAT64_NOTE}`, () => {
  it.each(BACKEND_DTYPES)(
    'all reductions on %s: random shapes, axes, keepdims, strided inputs',
    (dtype) => {
      // run k always holds ALL_OPS[k mod n] (and a few random others), so every
      // (op × dtype) pair is drawn in every run of the suite
      let k = 0;
      const drawn = new Set<string>();
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const shape = drawReductionShape(d);
          const profile = pick(d, PROFILES);
          const root = drawInput(d, dtype, shape, profile);
          // one op per input, sometimes a few: each op compiles new kernels (the suite's
          // cost), and the round-robin first op already covers every (op × dtype) pair
          const first = ALL_OPS[k++ % ALL_OPS.length];
          const names = [first, ...ALL_OPS.filter((n) => n !== first && chance(d, 5))];
          for (const n of names) drawn.add(n);
          runOps(
            root,
            names.map((n) => drawOp(d, n, shape.length)),
          );
        }),
        params(PER_DTYPE_RUNS, PER_DTYPE_RUNS),
      );
      expect(ALL_OPS.filter((n) => !drawn.has(n))).toEqual([]);
    },
    TIMEOUT,
  );
});

// -----------------------------------------------------------------------------------
// (b) fused producers
// -----------------------------------------------------------------------------------

const PRODUCER_OPTIONS: Partial<GraphOptions> = {
  maxDepth: 4,
  maxNodes: 5,
  unaryOps: ['negative', 'abs', 'square', 'sqrt', 'exp', 'log', 'floor', 'tanh', 'sigmoid', 'isnan', 'logicalNot'],
  binaryOps: ['add', 'subtract', 'multiply', 'divide', 'maximum', 'less', 'equal'],
  weights: { ...DEFAULT_GRAPH_OPTIONS.weights, unary: 30, binary: 30, view: 20, cast: 6, where: 4, clip: 2, concatenate: 2, stack: 1, split: 1 },
  scalarPercent: 30,
  maxElements: 700,
  profile: PROFILES[1],
};

const FUSED_OPS: readonly OpName[] = [
  'sum',
  'max',
  'min',
  'argmax',
  'argmin',
  'any',
  'all',
  'mean',
  'logsumexp',
  'softmax',
  'logSoftmax',
  'countNonzero',
  'norm',
  'prod',
];

describe(`(b) reductions of fused elementwise producers${FLOAT64_NOTE}`, () => {
  it(
    'random producer graphs, reduced with random axes',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const c = buildGraph(d, PRODUCER_OPTIONS);
          const rank = c.root.shape.length;
          runOps(c.root, [drawOp(d, pick(d, FUSED_OPS), rank), drawOp(d, pick(d, FUSED_OPS), rank)]);
        }),
        params(20),
      );
    },
    TIMEOUT,
  );

  it(
    'patterns: sum(exp(x - 1), axis), softmax of a sliced view, mean of x * y, logsumexp(2 x)',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const dtype = pick(d, backendDtypes(['float32', 'float16', 'bfloat16', 'float64', 'int16'] as const satisfies readonly DType[]));
          const shape = drawShape(d, 1, 3, 5);
          const x = drawInput(d, dtype, shape, pick(d, PROFILES));
          const y = drawInput(d, dtype, shape, PROFILES[2]);
          const f = R.floatResultDType(dtype);
          const sub: Node = { kind: 'binary', op: 'subtract', a: x, b: { kind: 'scalar', value: 1 }, dtype, shape, method: true };
          const ex: Node = { kind: 'unary', op: 'exp', x: sub, dtype: f, shape, method: true };
          const prodNode: Node = { kind: 'binary', op: 'multiply', a: x, b: y, dtype, shape, method: false };
          const twice: Node = { kind: 'binary', op: 'multiply', a: x, b: { kind: 'scalar', value: 2 }, dtype, shape, method: false };
          const rank = shape.length;
          runOps(ex, [drawOp(d, 'sum', rank)]);
          runOps(x, [drawOp(d, 'softmax', rank)]);
          runOps(prodNode, [drawOp(d, 'mean', rank)]);
          runOps(twice, [drawOp(d, 'logsumexp', rank)]);
        }),
        params(8),
      );
    },
    TIMEOUT,
  );
});

// -----------------------------------------------------------------------------------
// (c) fusion on/off
// -----------------------------------------------------------------------------------

describe(`(c) fusion does not change reduction results${FLOAT64_NOTE}`, () => {
  it(
    'fused and unfused evaluation give identical bits',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const c = buildGraph(d, PRODUCER_OPTIONS);
          const op = drawOp(d, pick(d, FUSED_OPS), c.root.shape.length);
          if (thrown(() => op.ref(evalBounds(c.root).get(c.root)?.val as RefArray)) !== null) return;
          const bits: string[] = [];
          try {
            for (const fused of [true, false]) {
              ma.setFusion(fused);
              const created: MA[] = [];
              try {
                const r = op.lib(buildLib(c.root, created));
                created.push(r);
                bits.push(`${r.dtype} [${r.shape}] ${libBits(r)}`);
              } catch (e) {
                throw new Error(`library threw ${errorKind(e)} (fusion ${fused ? 'on' : 'off'})\n${repro(c.root, [op])}`);
              } finally {
                disposeAll(created);
              }
            }
          } finally {
            ma.setFusion(true);
          }
          if (bits[0] !== bits[1]) throw new Error(`fused:   ${bits[0]}\nunfused: ${bits[1]}\n${repro(c.root, [op])}`);
        }),
        params(30),
      );
    },
    TIMEOUT,
  );
});

// -----------------------------------------------------------------------------------
// (d) errors
// -----------------------------------------------------------------------------------

describe('(d) errors as the oracle', () => {
  it('bad axes, empty extents and bad norm orders', () => {
    const created: MA[] = [];
    const x = ma.zeros([2, 0, 3]);
    const m = ma.ones([2, 3]);
    created.push(x, m);
    const rx = R.zeros([2, 0, 3]);
    const rm = R.ones([2, 3]);
    const cases: [string, () => unknown, () => unknown][] = [
      ['sum axis 3', () => ma.sum(m, 2), () => R.sum(rm, 2)],
      ['sum axis -3', () => ma.sum(m, -3), () => R.sum(rm, -3)],
      ['sum repeated axis', () => ma.sum(m, [1, -1]), () => R.sum(rm, [1, -1])],
      ['max over an empty axis', () => ma.max(x, 1), () => R.max(rx, 1)],
      ['min over everything, empty', () => ma.min(x), () => R.min(rx)],
      ['max with empty output, non-empty axis', () => ma.max(x, 2), () => R.max(rx, 2)],
      ['argmax of empty', () => ma.argmax(x), () => R.argmax(rx)],
      ['logsumexp over an empty axis', () => ma.logsumexp(x, 1), () => R.logsumexp(rx, 1)],
      ['softmax over an empty axis', () => ma.softmax(x, 1), () => R.softmax(rx, 1)],
      ['norm ord 1 over two axes', () => ma.norm(m, 1), () => R.norm(rm, 1)],
      ['norm ord inf over two axes', () => ma.norm(m, Number.POSITIVE_INFINITY, [0, 1]), () => R.norm(rm, Number.POSITIVE_INFINITY, [0, 1])],
      ['norm inf of empty', () => ma.norm(x, Number.POSITIVE_INFINITY, 1), () => R.norm(rx, Number.POSITIVE_INFINITY, 1)],
      ['argmax axis out of range', () => ma.argmax(m, 2), () => R.argmax(rm, 2)],
      ['sum over no axes', () => ma.sum(m, []), () => R.sum(rm, [])],
    ];
    const problems: string[] = [];
    try {
      for (const [what, lib, ref] of cases) {
        let got: unknown = null;
        const libErr = thrown(() => {
          got = lib();
        });
        if (got) created.push(got as MA);
        const want = errorKind(thrown(ref));
        if (errorKind(libErr) !== want) problems.push(`${what}: library ${errorKind(libErr)}, oracle ${want}`);
      }
    } finally {
      disposeAll(created);
    }
    expect(problems).toEqual([]);
  });
});

describe(`(d) regressions found by the random tests${FLOAT64_NOTE}`, () => {
  // Was: a reduction over a broadcast of one element of a concatenation did not compile
  // (its folded value, computed outside the reduction, was placed after it).
  it('sum, max and softmax of a broadcast element of a concatenation', () => {
    const x = ma.array([1.5], 'float32');
    const created: MA[] = [x];
    try {
      const picked = ma.concatenate([x, x]).slice(0); // 0-d, 1.5
      const b = ma.broadcastTo(picked, [3]);
      const outs = [b.sum(), ma.concatenate([x, x]).slice(null, 0).max(), b.softmax(), ma.stack([x, x]).slice(null, 0, 0).sum()];
      created.push(picked, b, ...outs);
      ma.eval(...outs);
      expect(outs.map((o) => o.tolist())).toEqual([4.5, 1.5, [1 / 3, 1 / 3, 1 / 3].map(Math.fround), 1.5]);
    } finally {
      disposeAll(created);
    }
  });
});

// -----------------------------------------------------------------------------------
// (e) the harness itself
// -----------------------------------------------------------------------------------

const FLOAT_DTYPES: readonly DType[] = backendDtypes(['float16', 'bfloat16', 'float32', 'float64']);

/** True if x is a value the bounds allow (NaN only where NaN is possible). */
function avContains(b: AV, x: number): boolean {
  if (b.a.exact) return Number.isNaN(x) ? Number.isNaN(R.toNumber(b.v)) : x === R.toNumber(b.v);
  return Number.isNaN(x) ? b.a.nan : x >= b.a.lo && x <= b.a.hi;
}

/**
 * The two-pass variance centers by the mean rounded to the dtype; an error δ of that
 * mean adds n δ^2 to the sum of squares (the cross term vanishes), so the formula's var
 * exceeds the exact one by up to n/(n - ddof) δ^2 with δ about ulp(max|x|), and std by
 * about sqrt(n/(n - ddof)) δ: an absolute slack for the self-check.
 */
function varianceSlack(name: string, a: RefArray): number {
  if (name !== 'var' && name !== 'std') return 0;
  const f = R.floatResultDType(a.dtype);
  const n = Math.max(1, R.sizeOf(R.shapeOf(a)));
  let m = 0;
  for (const v of R.toFlat(a)) {
    const x = Math.abs(R.toNumber(v));
    if (Number.isFinite(x)) m = Math.max(m, x);
  }
  const delta = 2 * R.ulp(m, f);
  return name === 'var' ? 4 * n * delta * delta : 2 * Math.sqrt(n) * delta;
}

/** True if every non-zero finite |x| squares to a normal value of the (float result) dtype, with room for sums. */
function squaresInRange(a: RefArray): boolean {
  const f = R.floatResultDType(a.dtype);
  const fmt = R.DTYPES[f].format as R.FloatFormat;
  const lo = 2 ** (fmt.minExp / 2 + 1);
  const hi = 2 ** (fmt.maxExp / 2 - 6);
  return R.toFlat(a).every((v) => {
    const x = Math.abs(R.toNumber(v));
    return x === 0 || !Number.isFinite(x) || (x >= lo && x <= hi);
  });
}

describe('(e) harness: the oracle lies within the formula bounds (no library)', () => {
  it('a simulated library (double accumulation in random orders and trees) stays within the sum and prod bounds', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const d = drawFromGen(g);
        const dtype = pick(d, FLOAT_DTYPES);
        const n = d.int(0, 40);
        const xs = randomValues(d.int(0, 0x7fffffff), dtype, n, pick(d, PROFILES)) as number[];
        const order = xs.map((_, i) => i);
        for (let i = n - 1; i > 0; i--) {
          const j = d.int(0, i);
          [order[i], order[j]] = [order[j], order[i]];
        }
        const pairwise = chance(d, 50);
        const fold = (f: (p: number, q: number) => number, init: number): number => {
          const v = order.map((i) => xs[i]);
          if (!pairwise) return v.reduce(f, init);
          let level = v.length > 0 ? v : [init];
          while (level.length > 1) {
            const next: number[] = [];
            for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? f(level[i], level[i + 1]) : level[i]);
            level = next;
          }
          return level[0];
        };
        const row = xs.map((x) => exactAV(x, dtype));
        const cases: [string, number, AV][] = [
          [
            'sum',
            R.roundFloat(
              fold((p, q) => p + q, 0),
              dtype,
            ),
            rowSum(row, dtype),
          ],
          [
            'prod',
            R.roundFloat(
              fold((p, q) => p * q, 1),
              dtype,
            ),
            rowProd(row, dtype),
          ],
        ];
        for (const [what, got, b] of cases) {
          if (!avContains(b, got))
            throw new Error(
              `${what} of ${dtype} [${xs.join(', ')}] (${pairwise ? 'pairwise' : 'in order'} ${order}): simulated ${got} outside ${JSON.stringify(b.a)} (formula ${b.v})`,
            );
        }
      }),
      params(3000),
    );
  });

  it(
    'exact values of random inputs, every reduction',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          // integers beyond 2^24 change when cast to float32 first (the library's documented
          // semantics): the oracle's exact value then differs by more than rounding
          const dtype = pick(d, [...FLOAT_DTYPES, 'int16', 'uint8', 'bool'] as const satisfies readonly DType[]);
          const shape = drawShape(d, 0, 3, 8);
          const profile = d.int(0, 2);
          const root = drawInput(d, dtype, shape, PROFILES[profile]);
          const b = evalBounds(root).get(root) as Bounds;
          const squaresSafe = squaresInRange(b.val);
          for (const name of ALL_OPS) {
            const op = drawOp(d, name, shape.length);
            const slack = FORMULA_SLACK_ULPS[name];
            // The composites round every step to the dtype (as documented), so they are
            // compared with the exact values only on tame inputs (no specials, |x| <= 8),
            // where intermediate overflow and the rounding of x - max stay small; var, std
            // and norms square the elements in the dtype, so tiny or huge elements are out
            // (they underflow or overflow there, as NumPy's float16 norm does).
            if (slack !== undefined && profile !== 2) continue;
            if ((name === 'var' || name === 'std' || name === 'norm') && !squaresSafe) continue;
            let want: RefArray | null = null;
            if (thrown(() => (want = op.ref(b.val))) !== null || want === null) continue;
            const msg = oracleWithin(op.code('x'), want, op.bounds(b), slack ?? 0, varianceSlack(name, b.val));
            if (msg) throw new Error(`${msg}\n${toCode(root)}`);
          }
        }),
        params(300),
      );
    },
    TIMEOUT,
  );
});
