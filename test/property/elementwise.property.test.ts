/**
 * Property tests of the library against the reference oracle (test/reference):
 * (a) every unary/binary op × every dtype on random broadcasting shapes;
 * (b) random expression graphs (depth up to 20) checked against oracle bounds;
 * (c) fused and unfused evaluation give identical bits;
 * (d) movement ops including negative steps and the string slice form;
 * (e) concatenate / stack / split.
 *
 * Run counts scale with MA_PROPERTY_SCALE (default 1); MA_PROPERTY_SEED fixes the seed.
 * On a failure the message contains a standalone reproduction (TypeScript using `ma`).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as R from '../reference/index.js';
import type { BinaryOp, DType, RefArray, Scalar, UnaryOp } from '../reference/index.js';
import { checkBounds, evalBounds } from './bounds.js';
import {
  broadcastPairArb,
  DEFAULT_GRAPH_OPTIONS,
  drawFromGen,
  drawShape,
  type GraphCase,
  type GraphOptions,
  graphArb,
  type LeafNode,
  leafCode,
  pick,
  randomValues,
  toCode,
} from './graphs.js';
import { BINARY_FN, BINARY_METHOD, buildLib, disposeAll, libBits, libFlat, type MA, ma, makeLeaf, type Operand, UNARY_FN, UNARY_METHOD } from './lib-eval.js';
import { compare, inputScale } from './tolerance.js';
import { PER_DTYPE_RUNS, params, TIMEOUT } from './reduce-cases.js';
import { BACKEND_DTYPES, expectFloat64Refused, FLOAT64_NOTE, HAS_FLOAT64, TEST_BACKEND } from '../support/backend.js';

// run counts, seed replay and the enforced run count are shared with the other suites

beforeAll(() => {
  ma.setFusion(true);
});
afterAll(() => {
  ma.setFusion(true);
});

/** Runs fn and returns what it threw (or null). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return null;
  } catch (e) {
    return e;
  }
}

function errorKind(e: unknown): string {
  if (e === null) return 'no error';
  if (e instanceof ma.DTypeError || e instanceof R.DTypeError) return 'DTypeError';
  if (e instanceof ma.ShapeError || e instanceof R.ShapeError) return 'ShapeError';
  return `${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`;
}

function leafOf(dtype: DType, shape: number[], seed: number): LeafNode {
  return { kind: 'leaf', dtype, shape, values: randomValues(seed, dtype, R.sizeOf(shape)), form: 'typed' };
}

/** Checks one library result against the oracle's, by dtype, shape and values. */
function checkResult(what: string, got: MA, want: RefArray, ops: string[], scale?: number[]): string | null {
  if (got.dtype !== want.dtype) return `${what}: dtype ${got.dtype}, expected ${want.dtype}`;
  if (got.shape.join(',') !== R.shapeOf(want).join(',')) return `${what}: shape [${got.shape}], expected [${R.shapeOf(want)}]`;
  const diff = compare(libFlat(got), R.toFlat(want), want.dtype, ops, scale);
  return diff ? `${what}: ${diff}` : null;
}

// -----------------------------------------------------------------------------------
// (a) every op × every dtype
// -----------------------------------------------------------------------------------

describe(`(a) every op × every dtype vs the oracle${FLOAT64_NOTE}`, () => {
  it.each(BACKEND_DTYPES)(
    'unary ops on %s',
    (dtype) => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const leaf = leafOf(dtype, drawShape(d, 0, 4, 4), d.int(0, 0x7fffffff));
          const useMethod = d.int(0, 1) === 1;
          const created: MA[] = [];
          const problems: string[] = [];
          try {
            const x = makeLeaf(leaf, created);
            const xr = R.fromFlat(dtype, leaf.shape, leaf.values);
            const scale = R.toFlat(xr).map((v) => inputScale([v]));
            const pending: [UnaryOp, MA, RefArray][] = [];
            for (const op of R.UNARY_OPS) {
              const call = useMethod ? UNARY_METHOD[op] : UNARY_FN[op];
              let want: RefArray | null = null;
              const oracleErr = thrown(() => {
                want = R.unary(op, xr);
              });
              let got: MA | null = null;
              const libErr = thrown(() => {
                got = call(x);
              });
              if (got) created.push(got);
              if (errorKind(oracleErr) !== errorKind(libErr)) {
                problems.push(`${op}(${dtype}): library gave ${errorKind(libErr)}, oracle ${errorKind(oracleErr)}`);
              } else if (got && want) pending.push([op, got, want]);
            }
            ma.eval(...pending.map(([, got]) => got));
            for (const [op, got, want] of pending) {
              const p = checkResult(`${op}(${dtype})`, got, want, [op], scale);
              if (p) problems.push(p);
            }
          } finally {
            disposeAll(created);
          }
          if (problems.length > 0) throw new Error(`${problems.join('\n')}\ninput: ${leafCode(leaf)}`);
        }),
        params(PER_DTYPE_RUNS, PER_DTYPE_RUNS),
      );
    },
    TIMEOUT,
  );

  it.each(BACKEND_DTYPES)(
    'binary ops with a %s left operand (any right dtype, JS numbers, broadcasting)',
    (dtype) => {
      fc.assert(
        fc.property(broadcastPairArb, fc.gen(), ([sa, sb], g) => {
          const d = drawFromGen(g);
          const rightKind = d.int(0, 9);
          const aLeaf = leafOf(dtype, sa, d.int(0, 0x7fffffff));
          const bDtype = rightKind < 4 ? dtype : pick(d, BACKEND_DTYPES);
          const bScalar =
            rightKind === 9
              ? pick(d, [2, -1, 0, 3, 0.5, -2.5, 300, 0.1, 1 / 3, 70000, 1e-8, 2 ** 32, -(2 ** 31) - 1, Number.NaN, Number.POSITIVE_INFINITY, -0])
              : null;
          const bLeaf = leafOf(bDtype, sb, d.int(0, 0x7fffffff));
          const swap = bScalar !== null && d.int(0, 3) === 0; // sometimes the JS number is on the left
          const useMethod = d.int(0, 1) === 1 && !swap;
          const created: MA[] = [];
          const problems: string[] = [];
          try {
            const a = makeLeaf(aLeaf, created);
            const ar = R.fromFlat(dtype, aLeaf.shape, aLeaf.values);
            const b: Operand = bScalar ?? makeLeaf(bLeaf, created);
            const br: R.Operand = bScalar ?? R.fromFlat(bDtype, bLeaf.shape, bLeaf.values);
            const [la, lb, ra, rb] = swap ? [b, a, br, ar] : [a, b, ar, br];
            const pending: [BinaryOp, MA, RefArray, number[]][] = [];
            for (const op of R.BINARY_OPS) {
              let want: RefArray | null = null;
              const oracleErr = thrown(() => {
                want = R.binary(op, ra, rb);
              });
              let got: MA | null = null;
              const libErr = thrown(() => {
                got = useMethod && typeof la !== 'number' ? BINARY_METHOD[op](la, lb) : BINARY_FN[op](la, lb);
              });
              if (got) created.push(got);
              if (errorKind(oracleErr) !== errorKind(libErr)) {
                problems.push(`${op}: library gave ${errorKind(libErr)}, oracle ${errorKind(oracleErr)}`);
              } else if (got && want) {
                const shape = R.shapeOf(want);
                const fa = typeof ra === 'number' ? new Array<Scalar>(R.sizeOf(shape)).fill(ra) : R.flatBroadcast(ra, shape);
                const fb = typeof rb === 'number' ? new Array<Scalar>(R.sizeOf(shape)).fill(rb) : R.flatBroadcast(rb, shape);
                pending.push([op, got, want, fa.map((x, i) => inputScale([x, fb[i]]))]);
              }
            }
            ma.eval(...pending.map(([, got]) => got));
            for (const [op, got, want, scale] of pending) {
              const p = checkResult(op, got, want, [op], scale);
              if (p) problems.push(p);
            }
          } finally {
            disposeAll(created);
          }
          if (problems.length > 0) {
            const left = swap ? String(bScalar) : leafCode(aLeaf);
            const right = swap ? leafCode(aLeaf) : bScalar !== null ? String(bScalar) : leafCode(bLeaf);
            throw new Error(`${problems.join('\n')}\nleft: ${left}\nright: ${right}${useMethod ? '\n(method form)' : ''}`);
          }
        }),
        params(PER_DTYPE_RUNS, PER_DTYPE_RUNS),
      );
    },
    TIMEOUT,
  );

  it(
    'unary ops on a JS number (float32)',
    () => {
      const problems: string[] = [];
      const created: MA[] = [];
      try {
        for (const x of [2.5, -0.75, 0, 100, Number.NaN]) {
          for (const op of R.UNARY_OPS) {
            let want: RefArray | null = null;
            const oracleErr = thrown(() => {
              want = R.unary(op, x);
            });
            let got: MA | null = null;
            const libErr = thrown(() => {
              got = UNARY_FN[op](x);
            });
            if (got) created.push(got);
            if (errorKind(oracleErr) !== errorKind(libErr)) problems.push(`ma.${op}(${x}): library gave ${errorKind(libErr)}, oracle ${errorKind(oracleErr)}`);
            else if (got && want) {
              const p = checkResult(`ma.${op}(${x})`, got, want, [op], [Math.abs(x)]);
              if (p) problems.push(p);
            }
          }
        }
      } finally {
        disposeAll(created);
      }
      expect(problems).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'where, clip and astype across dtypes',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const shape = drawShape(d, 0, 3, 4);
          const [dc, da, db, dt] = [pick(d, BACKEND_DTYPES), pick(d, BACKEND_DTYPES), pick(d, BACKEND_DTYPES), pick(d, BACKEND_DTYPES)];
          const leaves = [dc, da, db].map((dtype) => leafOf(dtype, shape, d.int(0, 0x7fffffff)));
          const refs = leaves.map((l) => R.fromFlat(l.dtype, l.shape, l.values));
          const created: MA[] = [];
          const problems: string[] = [];
          try {
            const [c, a, b] = leaves.map((l) => makeLeaf(l, created));
            const w = ma.where(c, a, b);
            const clo = ma.clip(a, b, null);
            const chi = ma.clip(a, R.isFloat(da) ? -2.5 : -3, 3);
            const cast = a.astype(dt);
            created.push(w, clo, chi, cast);
            ma.eval(w, clo, chi, cast);
            for (const [what, got, want] of [
              ['where', w, R.where(refs[0], refs[1], refs[2])],
              ['clip(a, b, null)', clo, R.clip(refs[1], refs[2], null)],
              ['clip(a, lo, 3)', chi, R.clip(refs[1], R.isFloat(da) ? -2.5 : -3, 3)],
              [`astype(${dt})`, cast, R.astype(refs[1], dt)],
            ] as const) {
              const p = checkResult(what, got, want, []);
              if (p) problems.push(p);
            }
          } finally {
            disposeAll(created);
          }
          if (problems.length > 0) throw new Error(`${problems.join('\n')}\n${leaves.map(leafCode).join('\n')}`);
        }),
        params(40),
      );
    },
    TIMEOUT,
  );
});

// -----------------------------------------------------------------------------------
// (b), (c) random graphs
// -----------------------------------------------------------------------------------

/** Evaluates a graph with the library; returns the flat result, dtype and shape, or the error. */
function runLib(c: GraphCase): { flat: Scalar[]; bits: string; dtype: string; shape: number[] } {
  const created: MA[] = [];
  try {
    const out = buildLib(c.root, created);
    return { flat: libFlat(out), bits: libBits(out), dtype: out.dtype, shape: out.shape };
  } finally {
    disposeAll(created);
  }
}

function checkGraph(c: GraphCase): void {
  const bounds = evalBounds(c.root).get(c.root);
  if (!bounds) throw new Error('no bounds');
  let got: ReturnType<typeof runLib>;
  try {
    got = runLib(c);
  } catch (e) {
    throw new Error(`library threw ${errorKind(e)}\n${toCode(c.root)}`);
  }
  const want = bounds.val;
  const problems: string[] = [];
  if (got.dtype !== want.dtype) problems.push(`dtype ${got.dtype}, expected ${want.dtype}`);
  else if (got.shape.join(',') !== R.shapeOf(want).join(',')) problems.push(`shape [${got.shape}], expected [${R.shapeOf(want)}]`);
  else {
    const p = checkBounds(got.flat, bounds);
    if (p) problems.push(p);
  }
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\nrepro (depth ${c.depth}):\n${toCode(c.root)}`);
}

// Where the default backend has no float64 (Metal), the draws above leave it out; what
// it does instead is this typed error, for every kind of kernel.
describe(`float64 where the ${TEST_BACKEND} backend has none`, () => {
  it.skipIf(HAS_FLOAT64)('every kind of kernel is a DTypeError naming the op, never a value', () => {
    const x = ma.array(new Float64Array([0.5, 1, 2, 3, 4, 5])).reshape([2, 3]);
    const f = ma.array(new Float32Array([1, 2, 3, 4, 5, 6])).reshape([2, 3]);
    expectFloat64Refused(() => x.exp().toTypedArray());
    expectFloat64Refused(() => x.add(f).toTypedArray());
    expectFloat64Refused(() => f.astype('float64').toTypedArray());
    expectFloat64Refused(() => ma.sum(x, 1).toTypedArray());
    expectFloat64Refused(() => ma.cumsum(x, 1).toTypedArray());
    expectFloat64Refused(() => ma.matmul(x, x.T).toTypedArray());
    // Data in and out needs no kernel: a float64 array still holds and returns its values.
    expect(Array.from(x.toTypedArray() as Float64Array)).toEqual([0.5, 1, 2, 3, 4, 5]);
  });
});

describe(`(b) random expression graphs vs the oracle${FLOAT64_NOTE}`, () => {
  it(
    'depth up to 20, all dtypes and ops',
    () => {
      fc.assert(fc.property(graphArb(), checkGraph), params(160));
    },
    TIMEOUT,
  );
});

describe(`(c) fusion does not change results${FLOAT64_NOTE}`, () => {
  it('setFusion(false) really runs more kernels (so the comparison below is not vacuous)', () => {
    const launches: number[] = [];
    const created: MA[] = [];
    try {
      for (const fused of [true, false]) {
        ma.setFusion(fused);
        const x = ma.array(new Float32Array([1, 2, 3]));
        const y = x.add(1).multiply(2).sin();
        created.push(x, y);
        ma.resetMetrics();
        ma.eval(y);
        launches.push(ma.metrics().kernelLaunches);
      }
    } finally {
      ma.setFusion(true);
      disposeAll(created);
    }
    expect(launches[1]).toBeGreaterThan(launches[0]);
  });

  it(
    'fused and unfused evaluation give identical bits',
    () => {
      fc.assert(
        fc.property(graphArb({ maxNodes: 16 }), (c) => {
          let fused: ReturnType<typeof runLib>;
          let unfused: ReturnType<typeof runLib>;
          try {
            ma.setFusion(true);
            fused = runLib(c);
            ma.setFusion(false);
            unfused = runLib(c);
          } catch (e) {
            throw new Error(`library threw ${errorKind(e)} (fusion ${ma.fusionEnabled() ? 'on' : 'off'})\n${toCode(c.root)}`);
          } finally {
            ma.setFusion(true);
          }
          if (fused.bits !== unfused.bits || fused.dtype !== unfused.dtype) {
            throw new Error(`fused: ${fused.dtype} [${fused.bits}]\nunfused: ${unfused.dtype} [${unfused.bits}]\n${toCode(c.root)}`);
          }
        }),
        params(50),
      );
    },
    TIMEOUT,
  );
});

// -----------------------------------------------------------------------------------
// (d) views, (e) joins
// -----------------------------------------------------------------------------------

const EXACT_UNARY: UnaryOp[] = ['negative', 'abs', 'square', 'floor', 'isnan', 'logicalNot', 'sqrt'];
const EXACT_BINARY: BinaryOp[] = ['add', 'multiply', 'maximum', 'less', 'equal', 'subtract'];

const VIEW_OPTIONS: Partial<GraphOptions> = {
  maxDepth: 12,
  maxNodes: 14,
  unaryOps: EXACT_UNARY,
  binaryOps: EXACT_BINARY,
  weights: { ...DEFAULT_GRAPH_OPTIONS.weights, unary: 4, binary: 6, where: 1, clip: 0, cast: 3, view: 80, concatenate: 2, stack: 1, split: 2 },
  scalarPercent: 15,
};

const JOIN_OPTIONS: Partial<GraphOptions> = {
  maxDepth: 8,
  maxNodes: 12,
  unaryOps: EXACT_UNARY,
  binaryOps: EXACT_BINARY,
  weights: { ...DEFAULT_GRAPH_OPTIONS.weights, unary: 4, binary: 6, where: 0, clip: 0, cast: 4, view: 20, concatenate: 30, stack: 20, split: 20 },
};

describe(`(d) views vs the oracle${FLOAT64_NOTE}`, () => {
  it(
    'chains of movement ops (negative steps, string slices, reshape with -1, broadcast, ...)',
    () => {
      fc.assert(fc.property(graphArb(VIEW_OPTIONS), checkGraph), params(120));
    },
    TIMEOUT,
  );

  it(
    'out-of-range indices and bad reshapes are ShapeErrors, as in the oracle',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const shape = drawShape(d, 1, 3, 0);
          const leaf = leafOf('int32', shape, 1);
          const ax = d.int(0, shape.length - 1);
          const bad = d.int(0, 1) === 0 ? shape[ax] + d.int(0, 2) : -shape[ax] - 1 - d.int(0, 2);
          const specs: R.SliceSpec[] = shape.map((_, i) => (i === ax ? bad : [null, null, null]));
          const created: MA[] = [];
          try {
            const x = makeLeaf(leaf, created);
            const xr = R.fromFlat('int32', shape, leaf.values);
            expect(errorKind(thrown(() => R.slice(xr, ...specs)))).toBe('ShapeError');
            const libSpecs = shape.map((_, i) => (i === ax ? bad : ma.range(null)));
            expect(errorKind(thrown(() => created.push(x.slice(...libSpecs))))).toBe('ShapeError');
            const size = R.sizeOf(shape);
            expect(errorKind(thrown(() => created.push(x.reshape([size + 1]))))).toBe('ShapeError');
            expect(errorKind(thrown(() => created.push(ma.broadcastTo(x, [...shape.slice(0, -1), shape[shape.length - 1] + 1]))))).toBe(
              shape[shape.length - 1] === 1 ? 'no error' : 'ShapeError',
            );
          } finally {
            disposeAll(created);
          }
        }),
        params(30),
      );
    },
    TIMEOUT,
  );
});

describe(`(e) concatenate, stack, split vs the oracle${FLOAT64_NOTE}`, () => {
  it(
    'random graphs built mostly from joins and splits',
    () => {
      fc.assert(fc.property(graphArb(JOIN_OPTIONS), checkGraph), params(80));
    },
    TIMEOUT,
  );

  it(
    'split returns every part (views) with the right shapes and values',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const shape = drawShape(d, 1, 3, 4);
          const dtype = pick(d, BACKEND_DTYPES);
          const leaf = leafOf(dtype, shape, d.int(0, 0x7fffffff));
          const ax = d.int(0, shape.length - 1);
          const len = shape[ax];
          const sections: number | number[] =
            d.int(0, 1) === 0
              ? pick(
                  d,
                  [1, 2, 3, 5].filter((k) => len % k === 0),
                )
              : [d.int(-len - 1, len + 1), d.int(-len - 1, len + 1)];
          const axis = d.int(0, 1) === 0 ? ax : ax - shape.length;
          const created: MA[] = [];
          try {
            const x = makeLeaf(leaf, created);
            const xr = R.fromFlat(dtype, shape, leaf.values);
            const want = R.split(xr, sections, axis);
            const got = ma.split(x, sections, axis);
            created.push(...got);
            expect(got.length).toBe(want.length);
            ma.eval(...got);
            want.forEach((w, i) => {
              const p = checkResult(`part ${i}`, got[i], w, []);
              if (p) throw new Error(`${p}\nma.split(${leafCode(leaf)}, ${JSON.stringify(sections)}, ${axis})`);
            });
          } finally {
            disposeAll(created);
          }
        }),
        params(50),
      );
    },
    TIMEOUT,
  );

  it('mismatched shapes and uneven sections are ShapeErrors, as in the oracle', () => {
    const created: MA[] = [];
    try {
      const a = ma.zeros([2, 3]);
      const b = ma.zeros([3, 3]);
      created.push(a, b);
      const ra = R.zeros([2, 3]);
      const rb = R.zeros([3, 3]);
      expect(errorKind(thrown(() => created.push(ma.concatenate([a, b], 1))))).toBe(errorKind(thrown(() => R.concatenate([ra, rb], 1))));
      expect(errorKind(thrown(() => created.push(ma.stack([a, b]))))).toBe(errorKind(thrown(() => R.stack([ra, rb]))));
      expect(errorKind(thrown(() => created.push(...ma.split(b, 2))))).toBe(errorKind(thrown(() => R.split(rb, 2))));
      expect(errorKind(thrown(() => created.push(ma.add(a, b))))).toBe('ShapeError');
    } finally {
      disposeAll(created);
    }
  });
});
