/**
 * Property tests of matrix products against the oracle (test/reference/linalg.ts) and
 * the accumulation bounds of reduce-bounds.ts (K FMA steps in float32, or float64 for
 * float64, then one rounding to the dtype; integers exact with wrap-around):
 * (a) matmul: vectors, matrices and broadcast batches, every dtype pair (promotion;
 *     bool @ bool is a DTypeError), operands that are views (.T, transposes and
 *     swapaxes, broadcastTo, slices with steps, flips), function and method forms;
 * (b) dot, inner, outer and tensordot (a number of axes or axis lists, negative axes);
 * (c) elementwise epilogues fused into the product: relu(a @ b + bias), (a @ b) * 2 - c;
 * (d) fused and unfused evaluation give identical bits;
 * (e) shape and dtype errors as the oracle;
 * (f) the harness itself: a simulated correct library stays within the bounds;
 * (g) (a)-(c) again with float products on the system BLAS (skipped, saying why, where
 *     there is none; CI installs OpenBLAS and asserts it is found in test/unit/matmul).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as R from '../reference/index.js';
import type { DType, RefArray } from '../reference/index.js';
import { type Bounds, checkBounds, evalBounds } from './bounds.js';
import { chance, type Draw, drawFromGen, type Node, pick, randomValues, toCode, topoOrder } from './graphs.js';
import { buildLib, disposeAll, libBits, type MA, ma } from './lib-eval.js';
import { binaryBounds, contractionBounds, exactBounds, unaryBounds } from './reduce-bounds.js';
import { checkAgainst, drawInput, errorKind, PER_DTYPE_RUNS, PROFILES, params, TIMEOUT, thrown } from './reduce-cases.js';
import { BACKEND_DTYPES, backendDtypes, FLOAT64_NOTE, onCpuBackend } from '../support/backend.js';

beforeAll(() => {
  ma.setFusion(true);
});
afterAll(() => {
  ma.setFusion(true);
});

/** An operand: a graph node (leaf or view), optionally transposed with `.T` on top. */
interface Operand {
  node: Node;
  /** Apply `.T` to the node (a 2-D operand given transposed). */
  t: boolean;
}

function drawDim(d: Draw): number {
  return chance(d, 4) ? 0 : pick(d, [1, 2, 3, 5, 4]);
}

function drawOperand(d: Draw, dtype: DType, shape: number[]): Operand {
  const profile = pick(d, PROFILES);
  if (shape.length === 2 && chance(d, 30)) return { node: drawInput(d, dtype, [shape[1], shape[0]], profile), t: true };
  return { node: drawInput(d, dtype, shape, profile), t: false };
}

function operandRef(o: Operand): RefArray {
  const v = (evalBounds(o.node).get(o.node) as Bounds).val;
  return o.t ? R.transpose(v) : v;
}

function operandLib(o: Operand, created: MA[]): MA {
  const x = buildLib(o.node, created);
  if (!o.t) return x;
  const y = x.T;
  created.push(y);
  return y;
}

/** Code for the operands (names a and b) and the call. */
function repro(ops: Operand[], call: string): string {
  const lines: string[] = [];
  ops.forEach((o, i) => {
    const name = String.fromCharCode(97 + i);
    const code = toCode(o.node)
      .split('\n')
      .map((l) => l.replace(/\bt(\d+)\b/g, `${name}$1`));
    lines.push(...code, `const ${name} = ${name}${topoOrder(o.node).length - 1}${o.t ? '.T' : ''};`);
  });
  return `${lines.join('\n')}\nma.eval(${call});`;
}

interface Case {
  what: string;
  ops: Operand[];
  lib(xs: MA[]): MA;
  ref(xs: RefArray[]): RefArray;
  bounds(xs: RefArray[]): Bounds;
}

/** Runs cases: errors must match the oracle's; results are evaluated together and checked. */
function runCases(cases: readonly Case[]): void {
  const created: MA[] = [];
  const problems: string[] = [];
  const pending: { c: Case; got: MA; want: RefArray; b: Bounds }[] = [];
  try {
    for (const c of cases) {
      const refs = c.ops.map(operandRef);
      let want: RefArray | null = null;
      const oracleErr = thrown(() => {
        want = c.ref(refs);
      });
      let got: MA | null = null;
      const libErr = thrown(() => {
        got = c.lib(c.ops.map((o) => operandLib(o, created)));
      });
      if (got) created.push(got);
      if (errorKind(oracleErr) !== errorKind(libErr)) {
        problems.push(`${c.what}: library gave ${errorKind(libErr)}, oracle ${errorKind(oracleErr)}\n${repro(c.ops, c.what)}`);
      } else if (got && want) pending.push({ c, got, want, b: c.bounds(refs) });
    }
    const evalErr = thrown(() => ma.eval(...pending.map((p) => p.got)));
    if (evalErr !== null) problems.push(`eval threw ${errorKind(evalErr)}\n${pending.map((p) => repro(p.c.ops, p.c.what)).join('\n---\n')}`);
    else {
      for (const p of pending) {
        const msg = checkAgainst(p.c.what, p.got, p.want, p.b);
        if (msg) problems.push(`${msg}\n${repro(p.c.ops, p.c.what)}`);
      }
    }
  } finally {
    disposeAll(created);
  }
  if (problems.length > 0) throw new Error(problems.join('\n\n'));
}

/** Shapes for matmul: vectors or [...batch, M, K] @ [...batch, K, N] with broadcastable batches. */
function drawMatmulShapes(d: Draw): [number[], number[]] {
  const M = drawDim(d);
  const K = drawDim(d);
  const N = drawDim(d);
  const batch = Array.from({ length: d.int(0, 2) }, () => pick(d, [1, 2, 3]));
  const side = (): number[] => {
    const drop = d.int(0, batch.length);
    return batch.slice(drop).map((s) => (chance(d, 30) ? 1 : s));
  };
  const aVec = chance(d, 15);
  const bVec = chance(d, 15);
  // a mismatched inner dimension now and then (a ShapeError)
  const K2 = chance(d, 5) ? K + 1 : K;
  return [aVec ? [K] : [...side(), M, K], bVec ? [K2] : [...side(), K2, N]];
}

function matmulCase(d: Draw, da: DType, db: DType): Case {
  const [sa, sb] = drawMatmulShapes(d);
  const ops = [drawOperand(d, da, sa), drawOperand(d, db, sb)];
  const method = pick(d, ['fn', 'method', 'dot'] as const);
  // dot is matmul when b has rank <= 2
  const useDot = method === 'dot' && sb.length <= 2;
  return {
    what: useDot ? 'a.dot(b)' : method === 'method' ? 'a.matmul(b)' : 'ma.matmul(a, b)',
    ops,
    lib: ([a, b]) => (useDot ? a.dot(b) : method === 'method' ? a.matmul(b) : ma.matmul(a, b)),
    ref: ([a, b]) => R.matmul(a, b),
    bounds: ([a, b]) => contractionBounds(R.matmulContraction(a, b)),
  };
}

// -----------------------------------------------------------------------------------
// (a) matmul
// -----------------------------------------------------------------------------------

describe(`(a) matmul vs the oracle${FLOAT64_NOTE}`, () => {
  it.each(BACKEND_DTYPES)(
    'matmul with a %s left operand: vectors, batches, views, promotion',
    (da) => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const db = chance(d, 60) ? da : pick(d, BACKEND_DTYPES);
          runCases([matmulCase(d, da, db), matmulCase(d, da, da)]);
        }),
        params(PER_DTYPE_RUNS, PER_DTYPE_RUNS),
      );
    },
    TIMEOUT,
  );
});

// -----------------------------------------------------------------------------------
// (b) dot, inner, outer, tensordot
// -----------------------------------------------------------------------------------

function shapeWith(d: Draw, rank: number, fixed: Map<number, number>): number[] {
  return Array.from({ length: rank }, (_, i) => fixed.get(i) ?? drawDim(d));
}

function shuffle(d: Draw, xs: number[]): number[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = d.int(0, i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function tensordotCase(d: Draw, da: DType, db: DType): Case {
  const ra = d.int(0, 3);
  const rb = d.int(0, 3);
  const n = d.int(0, Math.min(ra, rb, 2));
  const sizes = Array.from({ length: n }, () => drawDim(d));
  let axes: R.TensordotAxes;
  let axA: number[];
  let axB: number[];
  if (chance(d, 40)) {
    axes = n;
    axA = sizes.map((_, i) => ra - n + i);
    axB = sizes.map((_, i) => i);
  } else {
    const pa = shuffle(d, [...Array(ra).keys()]).slice(0, n);
    const pb = shuffle(d, [...Array(rb).keys()]).slice(0, n);
    axA = pa;
    axB = pb;
    const wa = pa.map((a) => (chance(d, 30) ? a - ra : a));
    const wb = pb.map((b) => (chance(d, 30) ? b - rb : b));
    axes = n === 1 && chance(d, 30) ? [wa[0], wb[0]] : [wa, wb];
  }
  const sa = shapeWith(d, ra, new Map(axA.map((a, i) => [a, sizes[i]])));
  const sb = shapeWith(d, rb, new Map(axB.map((b, i) => [b, sizes[i]])));
  // a mismatch now and then (a ShapeError)
  if (n > 0 && chance(d, 5)) sb[axB[0]] += 1;
  const ops = [drawOperand(d, da, sa), drawOperand(d, db, sb)];
  return {
    what: `ma.tensordot(a, b, ${JSON.stringify(axes)})`,
    ops,
    lib: ([a, b]) => ma.tensordot(a, b, axes),
    ref: ([a, b]) => R.tensordot(a, b, axes),
    bounds: ([a, b]) => contractionBounds(R.tensordotContraction(a, b, axes)),
  };
}

function dotInnerCase(d: Draw, da: DType, db: DType, which: 'dot' | 'inner'): Case {
  const ra = d.int(0, 3);
  const rb = d.int(0, 3);
  const K = drawDim(d);
  const sa = Array.from({ length: ra }, () => drawDim(d));
  const sb = Array.from({ length: rb }, () => drawDim(d));
  if (ra > 0) sa[ra - 1] = K;
  if (which === 'inner' && rb > 0) sb[rb - 1] = K;
  if (which === 'dot' && rb > 0) sb[rb === 1 ? 0 : rb - 2] = K;
  const ops = [drawOperand(d, da, sa), drawOperand(d, db, sb)];
  const contraction = (a: RefArray, b: RefArray) => (which === 'dot' ? R.dotContraction(a, b) : R.innerContraction(a, b));
  return {
    what: `ma.${which}(a, b)`,
    ops,
    lib: ([a, b]) => (which === 'dot' ? ma.dot(a, b) : ma.inner(a, b)),
    ref: ([a, b]) => (which === 'dot' ? R.dot(a, b) : R.inner(a, b)),
    bounds: ([a, b]) => {
      const c = contraction(a, b);
      // a 0-d operand: an elementwise multiply, exact
      return c === null ? exactBounds(R.multiply(a, b)) : contractionBounds(c);
    },
  };
}

function outerCase(d: Draw, da: DType, db: DType): Case {
  const sa = Array.from({ length: d.int(0, 2) }, () => drawDim(d));
  const sb = Array.from({ length: d.int(0, 2) }, () => drawDim(d));
  return {
    what: 'ma.outer(a, b)',
    ops: [drawOperand(d, da, sa), drawOperand(d, db, sb)],
    lib: ([a, b]) => ma.outer(a, b),
    ref: ([a, b]) => R.outer(a, b),
    bounds: ([a, b]) => exactBounds(R.outer(a, b)),
  };
}

const PRODUCT_DTYPES: readonly DType[] = backendDtypes(['float32', 'float16', 'bfloat16', 'float64', 'int32', 'uint8', 'int64', 'bool', 'int8']);

describe(`(b) dot, inner, outer, tensordot vs the oracle${FLOAT64_NOTE}`, () => {
  it(
    'random ranks (0-3), axes given as a number or as lists, mixed dtypes',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const da = pick(d, PRODUCT_DTYPES);
          const db = chance(d, 60) ? da : pick(d, PRODUCT_DTYPES);
          runCases([tensordotCase(d, da, db), dotInnerCase(d, da, db, 'dot'), dotInnerCase(d, da, db, 'inner'), outerCase(d, da, db)]);
        }),
        params(25),
      );
    },
    TIMEOUT,
  );
});

// -----------------------------------------------------------------------------------
// (c) epilogues, (d) fusion on/off
// -----------------------------------------------------------------------------------

/** relu(a @ b + bias) or (a @ b) * 2 - c, with a 2-D product. */
function epilogueCase(d: Draw, dtype: DType): Case {
  const M = drawDim(d);
  const K = drawDim(d);
  const N = drawDim(d);
  const a = drawOperand(d, dtype, [M, K]);
  const b = drawOperand(d, dtype, [K, N]);
  const form = pick(d, ['relu', 'scale'] as const);
  const c = drawOperand(d, dtype, form === 'relu' ? [N] : [M, N]);
  const mm = (x: RefArray, y: RefArray) => contractionBounds(R.matmulContraction(x, y));
  if (form === 'relu') {
    return {
      what: 'ma.relu(ma.add(ma.matmul(a, b), c))',
      ops: [a, b, c],
      lib: ([x, y, z]) => ma.relu(ma.add(ma.matmul(x, y), z)),
      ref: ([x, y, z]) => R.relu(R.add(R.matmul(x, y), z)),
      bounds: ([x, y, z]) => unaryBounds('relu', binaryBounds('add', mm(x, y), exactBounds(z))),
    };
  }
  return {
    what: 'a.matmul(b).multiply(2).subtract(c)',
    ops: [a, b, c],
    lib: ([x, y, z]) => x.matmul(y).multiply(2).subtract(z),
    ref: ([x, y, z]) => R.subtract(R.multiply(R.matmul(x, y), 2), z),
    bounds: ([x, y, z]) => binaryBounds('subtract', binaryBounds('multiply', mm(x, y), 2), exactBounds(z)),
  };
}

const EPILOGUE_DTYPES: readonly DType[] = backendDtypes(['float32', 'float16', 'bfloat16', 'float64', 'int32', 'int8']);

describe(`(c) epilogues fused into the product${FLOAT64_NOTE}`, () => {
  it(
    'relu(a @ b + bias) and (a @ b) * 2 - c',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          runCases([epilogueCase(d, pick(d, EPILOGUE_DTYPES))]);
        }),
        params(16),
      );
    },
    TIMEOUT,
  );
});

describe(`(d) fusion does not change product results${FLOAT64_NOTE}`, () => {
  it(
    'fused and unfused evaluation give identical bits',
    () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFromGen(g);
          const dtype = pick(d, EPILOGUE_DTYPES);
          const c = chance(d, 50) ? epilogueCase(d, dtype) : matmulCase(d, dtype, dtype);
          if (thrown(() => c.ref(c.ops.map(operandRef))) !== null) return;
          const bits: string[] = [];
          try {
            for (const fused of [true, false]) {
              ma.setFusion(fused);
              const created: MA[] = [];
              try {
                const r = c.lib(c.ops.map((o) => operandLib(o, created)));
                created.push(r);
                bits.push(`${r.dtype} [${r.shape}] ${libBits(r)}`);
              } catch (e) {
                throw new Error(`library threw ${errorKind(e)} (fusion ${fused ? 'on' : 'off'})\n${repro(c.ops, c.what)}`);
              } finally {
                disposeAll(created);
              }
            }
          } finally {
            ma.setFusion(true);
          }
          if (bits[0] !== bits[1]) throw new Error(`fused:   ${bits[0]}\nunfused: ${bits[1]}\n${repro(c.ops, c.what)}`);
        }),
        params(15),
      );
    },
    TIMEOUT,
  );
});

// -----------------------------------------------------------------------------------
// (g) the system BLAS path: the same cases with every float product a BLAS can read
//     handed to it (setCpuMatmul('blas')); the generated kernel is covered above
// -----------------------------------------------------------------------------------

const BLAS = ma.blasInfo();
const BLAS_DTYPES: readonly DType[] = ['float32', 'float64'];

// The BLAS belongs to the cpu backend: these cases run there whatever the default backend.
describe('(g) the system BLAS path vs the oracle', () => {
  it.skipIf(!BLAS.available)(
    `float32/float64 products, tensordot and epilogues on the cpu backend's ${BLAS.library ?? `no BLAS: ${BLAS.reason}`}`,
    () => {
      ma.setCpuMatmul('blas');
      try {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const d = drawFromGen(g);
            const da = pick(d, BLAS_DTYPES);
            const db = chance(d, 70) ? da : pick(d, PRODUCT_DTYPES);
            onCpuBackend(() => runCases([matmulCase(d, da, db), matmulCase(d, da, da), tensordotCase(d, da, da), epilogueCase(d, da)]));
          }),
          params(20),
        );
      } finally {
        ma.setCpuMatmul('auto');
      }
    },
    TIMEOUT,
  );
});

// -----------------------------------------------------------------------------------
// (e) errors
// -----------------------------------------------------------------------------------

describe('(e) errors as the oracle', () => {
  it('0-d operands, bool @ bool, mismatched dims, bad tensordot axes', () => {
    const created: MA[] = [];
    const m = ma.ones([2, 3]);
    const v = ma.ones([3]);
    const s = ma.array(2, 'float32');
    const bm = ma.array([[true, false]]);
    created.push(m, v, s, bm);
    const rm = R.ones([2, 3]);
    const rv = R.ones([3]);
    const rs = R.array(2, 'float32');
    const rbm = R.array([[true, false]]);
    const cases: [string, () => unknown, () => unknown][] = [
      ['matmul with a 0-d operand', () => ma.matmul(s, v), () => R.matmul(rs, rv)],
      ['matmul mismatched', () => ma.matmul(m, m), () => R.matmul(rm, rm)],
      ['matmul bool @ bool', () => ma.matmul(bm, ma.transpose(bm)), () => R.matmul(rbm, R.transpose(rbm))],
      ['dot bool', () => ma.dot(bm, ma.transpose(bm)), () => R.dot(rbm, R.transpose(rbm))],
      ['dot with a 0-d operand is a product', () => ma.dot(s, m), () => R.dot(rs, rm)],
      ['inner mismatched', () => ma.inner(m, ma.ones([2])), () => R.inner(rm, R.ones([2]))],
      ['outer of bool', () => ma.outer(bm, bm), () => R.outer(rbm, rbm)],
      ['tensordot too many axes', () => ma.tensordot(m, v, 2), () => R.tensordot(rm, rv, 2)],
      ['tensordot negative count', () => ma.tensordot(m, v, -1), () => R.tensordot(rm, rv, -1)],
      ['tensordot axis out of range', () => ma.tensordot(m, v, [[2], [0]]), () => R.tensordot(rm, rv, [[2], [0]])],
      ['tensordot list lengths differ', () => ma.tensordot(m, v, [[0, 1], [0]]), () => R.tensordot(rm, rv, [[0, 1], [0]])],
      ['tensordot size mismatch', () => ma.tensordot(m, v, [[0], [0]]), () => R.tensordot(rm, rv, [[0], [0]])],
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

// -----------------------------------------------------------------------------------
// (f) the harness itself
// -----------------------------------------------------------------------------------

/** fma(a, b, c) rounded once to a format (exact product and sum), IEEE specials as JS. */
function fmaIn(a: number, b: number, c: number, fmt: R.FloatFormat): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) return a * b + c;
  const exact = R.scaledProduct(a, b) + (R.scaledOf(c) << BigInt(-R.SCALE_EXP));
  return exact === 0n ? 0 : R.roundScaled(exact, 2 * R.SCALE_EXP, fmt);
}

describe('(f) harness: a simulated library stays within the contraction bounds', () => {
  it('FMA chains in the compute type, then one rounding to the dtype', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const d = drawFromGen(g);
        const dtype = pick(d, backendDtypes(['float16', 'bfloat16', 'float32', 'float64'] as const satisfies readonly DType[]));
        const k = d.int(0, 30);
        const profile = pick(d, PROFILES);
        const a = R.fromFlat(dtype, [1, k], randomValues(d.int(0, 0x7fffffff), dtype, k, profile));
        const b = R.fromFlat(dtype, [k, 1], randomValues(d.int(0, 0x7fffffff), dtype, k, profile));
        const fmt = R.DTYPES[dtype === 'float64' ? 'float64' : 'float32'].format as R.FloatFormat;
        const as = R.toFlat(a) as number[];
        const bs = R.toFlat(b) as number[];
        let acc = 0;
        for (let i = 0; i < k; i++) acc = fmaIn(as[i], bs[i], acc, fmt);
        const got = R.roundFloat(acc, dtype);
        const bounds = contractionBounds(R.matmulContraction(a, b));
        const msg = checkBounds([got], bounds);
        if (msg) throw new Error(`${msg}\na = [${as}], b = [${bs}] (${dtype})`);
      }),
      params(2000),
    );
  });
});
