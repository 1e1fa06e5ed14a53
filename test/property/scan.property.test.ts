/**
 * Property tests of scans (cumsum, cumprod, cummax, cummin) against the oracle
 * (test/reference/reduce.ts) and the per-prefix accumulation bounds of
 * reduce-bounds.ts (float sums and products run in double and round each prefix to the
 * dtype; integers wrap; cummax/cummin propagate NaN):
 * (a) every scan × every dtype: random shapes (rank 0-4, 0- and 1-sized dims), the
 *     flattened default or an axis (negative too), reverse, exclusive, function and
 *     method forms, strided inputs;
 * (b) scans of fused elementwise producers;
 * (c) fused and unfused evaluation give identical bits;
 * (d) errors (an axis for a 0-d array, an axis out of range) as the oracle.
 *
 * If the library stops exporting the scans, one test fails saying so.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as R from '../reference/index.js';
import type { RefArray } from '../reference/index.js';
import { type Bounds, evalBounds } from './bounds.js';
import {
  buildGraph,
  chance,
  DEFAULT_GRAPH_OPTIONS,
  type Draw,
  drawFromGen,
  drawShape,
  type GraphOptions,
  type Node,
  pick,
  toCode,
  topoOrder,
} from './graphs.js';
import { buildLib, disposeAll, libBits, type MA, ma } from './lib-eval.js';
import { scanBounds } from './reduce-bounds.js';
import { checkAgainst, drawAxis, drawInput, errorKind, PER_DTYPE_RUNS, PROFILES, params, TIMEOUT, thrown } from './reduce-cases.js';
import { BACKEND_DTYPES, FLOAT64_NOTE } from '../support/backend.js';

const SCAN_OPS = ['cumsum', 'cumprod', 'cummax', 'cummin'] as const;
type ScanOp = (typeof SCAN_OPS)[number];

const exported = ma as unknown as Record<string, unknown>;
const hasScans = SCAN_OPS.every((op) => typeof exported[op] === 'function');

type ScanFn = (x: MA, axis: number | null | undefined, reverse: boolean, inclusive: boolean) => MA;
const SCAN_FN: Readonly<Record<ScanOp, ScanFn>> = {
  cumsum: (x, a, r, i) => ma.cumsum(x, a, r, i),
  cumprod: (x, a, r, i) => ma.cumprod(x, a, r, i),
  cummax: (x, a, r, i) => ma.cummax(x, a, r, i),
  cummin: (x, a, r, i) => ma.cummin(x, a, r, i),
};
const SCAN_METHOD: Readonly<Record<ScanOp, ScanFn>> = {
  cumsum: (x, a, r, i) => x.cumsum(a, r, i),
  cumprod: (x, a, r, i) => x.cumprod(a, r, i),
  cummax: (x, a, r, i) => x.cummax(a, r, i),
  cummin: (x, a, r, i) => x.cummin(a, r, i),
};

interface Scan {
  op: ScanOp;
  axis: number | null | undefined;
  reverse: boolean;
  inclusive: boolean;
  method: boolean;
}

function drawScan(d: Draw, rank: number): Scan {
  return { op: pick(d, SCAN_OPS), axis: drawAxis(d, rank), reverse: chance(d, 40), inclusive: !chance(d, 40), method: chance(d, 50) };
}

function scanCode(s: Scan, x: string): string {
  const args = `${s.axis}, ${s.reverse}, ${s.inclusive}`;
  return s.method ? `${x}.${s.op}(${args})` : `ma.${s.op}(${x}, ${args})`;
}

function repro(root: Node, s: Scan): string {
  return `${toCode(root)}\nconst x = t${topoOrder(root).length - 1};\nma.eval(${scanCode(s, 'x')});`;
}

function runScans(root: Node, scans: readonly Scan[]): void {
  const inputBounds = evalBounds(root).get(root) as Bounds;
  const x = inputBounds.val;
  const created: MA[] = [];
  const problems: string[] = [];
  const pending: { s: Scan; got: MA; want: RefArray; b: Bounds }[] = [];
  try {
    const input = buildLib(root, created);
    for (const s of scans) {
      let want: RefArray | null = null;
      const oracleErr = thrown(() => {
        want = R.scan(s.op, x, s.axis, s.reverse, s.inclusive);
      });
      let got: MA | null = null;
      const libErr = thrown(() => {
        got = (s.method ? SCAN_METHOD : SCAN_FN)[s.op](input, s.axis, s.reverse, s.inclusive);
      });
      if (got) created.push(got);
      if (errorKind(oracleErr) !== errorKind(libErr)) {
        problems.push(`${scanCode(s, 'x')}: library gave ${errorKind(libErr)}, oracle ${errorKind(oracleErr)}\n${repro(root, s)}`);
      } else if (got && want) pending.push({ s, got, want, b: scanBounds(s.op, inputBounds, s.axis, s.reverse, s.inclusive) });
    }
    const evalErr = thrown(() => ma.eval(...pending.map((p) => p.got)));
    if (evalErr !== null) problems.push(`eval threw ${errorKind(evalErr)}\n${pending.map((p) => repro(root, p.s)).join('\n---\n')}`);
    else {
      for (const p of pending) {
        const msg = checkAgainst(scanCode(p.s, 'x'), p.got, p.want, p.b);
        if (msg) problems.push(`${msg}\n${repro(root, p.s)}`);
      }
    }
  } finally {
    disposeAll(created);
  }
  if (problems.length > 0) throw new Error(problems.join('\n\n'));
}

const PRODUCER_OPTIONS: Partial<GraphOptions> = {
  maxDepth: 4,
  maxNodes: 5,
  unaryOps: ['negative', 'abs', 'square', 'sqrt', 'exp', 'floor', 'tanh', 'isnan'],
  binaryOps: ['add', 'subtract', 'multiply', 'maximum', 'less'],
  weights: { ...DEFAULT_GRAPH_OPTIONS.weights, unary: 30, binary: 30, view: 20, cast: 6, where: 4, clip: 2, concatenate: 2, stack: 1, split: 1 },
  scalarPercent: 30,
  maxElements: 600,
  profile: PROFILES[1],
};

if (!hasScans) {
  describe('scans', () => {
    it('cumsum, cumprod, cummax and cummin are exported', () => {
      expect(hasScans).toBe(true);
    });
  });
} else {
  beforeAll(() => {
    ma.setFusion(true);
  });
  afterAll(() => {
    ma.setFusion(true);
  });

  describe(`(a) scans × dtypes vs the oracle${FLOAT64_NOTE}`, () => {
    it.each(BACKEND_DTYPES)(
      'scans of %s: flattened or along an axis, reversed, exclusive, strided inputs',
      (dtype) => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const d = drawFromGen(g);
            const shape = drawShape(d, 0, 4, 8);
            // cumprod of long rows leaves every range: tame values keep it meaningful
            const root = drawInput(d, dtype, shape, pick(d, PROFILES));
            runScans(root, [drawScan(d, shape.length), drawScan(d, shape.length)]);
          }),
          params(PER_DTYPE_RUNS, PER_DTYPE_RUNS),
        );
      },
      TIMEOUT,
    );
  });

  describe(`(b) scans of fused elementwise producers${FLOAT64_NOTE}`, () => {
    it(
      'random producer graphs',
      () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const d = drawFromGen(g);
            const c = buildGraph(d, PRODUCER_OPTIONS);
            runScans(c.root, [drawScan(d, c.root.shape.length)]);
          }),
          params(30),
        );
      },
      TIMEOUT,
    );
  });

  describe(`(c) fusion does not change scan results${FLOAT64_NOTE}`, () => {
    it(
      'fused and unfused evaluation give identical bits',
      () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const d = drawFromGen(g);
            const c = buildGraph(d, PRODUCER_OPTIONS);
            const s = drawScan(d, c.root.shape.length);
            const x = (evalBounds(c.root).get(c.root) as Bounds).val;
            if (thrown(() => R.scan(s.op, x, s.axis, s.reverse, s.inclusive)) !== null) return;
            const bits: string[] = [];
            try {
              for (const fused of [true, false]) {
                ma.setFusion(fused);
                const created: MA[] = [];
                try {
                  const r = (s.method ? SCAN_METHOD : SCAN_FN)[s.op](buildLib(c.root, created), s.axis, s.reverse, s.inclusive);
                  created.push(r);
                  bits.push(`${r.dtype} [${r.shape}] ${libBits(r)}`);
                } catch (e) {
                  throw new Error(`library threw ${errorKind(e)} (fusion ${fused ? 'on' : 'off'})\n${repro(c.root, s)}`);
                } finally {
                  disposeAll(created);
                }
              }
            } finally {
              ma.setFusion(true);
            }
            if (bits[0] !== bits[1]) throw new Error(`fused:   ${bits[0]}\nunfused: ${bits[1]}\n${repro(c.root, s)}`);
          }),
          params(25),
        );
      },
      TIMEOUT,
    );
  });

  describe('(d) errors as the oracle', () => {
    it('an axis for a 0-d array, axes out of range', () => {
      const created: MA[] = [];
      const s = ma.array(3, 'float32');
      const m = ma.ones([2, 3]);
      created.push(s, m);
      const rs = R.array(3, 'float32');
      const rm = R.ones([2, 3]);
      const problems: string[] = [];
      try {
        for (const op of SCAN_OPS) {
          const cases: [string, () => unknown, () => unknown][] = [
            [`${op} of a 0-d array along axis 0`, () => SCAN_FN[op](s, 0, false, true), () => R.scan(op, rs, 0)],
            [`${op} of a 0-d array, flattened`, () => SCAN_FN[op](s, undefined, false, true), () => R.scan(op, rs)],
            [`${op} axis 2 of a 2-d array`, () => SCAN_FN[op](m, 2, false, true), () => R.scan(op, rm, 2)],
            [`${op} axis -3 of a 2-d array`, () => SCAN_FN[op](m, -3, false, true), () => R.scan(op, rm, -3)],
          ];
          for (const [what, lib, ref] of cases) {
            let got: unknown = null;
            const libErr = thrown(() => {
              got = lib();
            });
            if (got) created.push(got as MA);
            const want = errorKind(thrown(ref));
            if (errorKind(libErr) !== want) problems.push(`${what}: library ${errorKind(libErr)}, oracle ${want}`);
          }
        }
      } finally {
        disposeAll(created);
      }
      expect(problems).toEqual([]);
    });
  });
}
