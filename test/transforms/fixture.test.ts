/**
 * Gradients against an independent framework: test/fixtures/gradients.json holds the
 * inputs, a cotangent and PyTorch autograd's vector-Jacobian product for each case
 * (written by test/fixtures/gradients.py, committed; nothing runs Python here). Each
 * case runs here with metalarray's vjp in the same dtype (float64 and float32).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

type M = ma.MetalArray;

interface FixtureArray {
  shape: number[];
  data: number[];
}
interface FixtureCase {
  name: string;
  dtype: 'float32' | 'float64';
  seed: number;
  inputs: FixtureArray[];
  cotangent: FixtureArray;
  grads: (number[] | null)[];
}

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/gradients.json'), 'utf8')) as { generator: string; cases: FixtureCase[] };

const un = (name: string) => (a: M) => (ma as unknown as Record<string, (x: M) => M>)[name](a);
const bin = (name: string) => (a: M, b: M) => (ma as unknown as Record<string, (x: M, y: M) => M>)[name](a, b);
const UNARY = [
  'negative',
  'abs',
  'square',
  'relu',
  'sqrt',
  'rsqrt',
  'reciprocal',
  'exp',
  'exp2',
  'expm1',
  'log',
  'log2',
  'log10',
  'log1p',
  'sin',
  'cos',
  'tan',
  'arcsin',
  'arccos',
  'arctan',
  'sinh',
  'cosh',
  'tanh',
  'arcsinh',
  'arccosh',
  'arctanh',
  'erf',
  'erfinv',
  'sigmoid',
  'gelu',
  'silu',
];
const BINARY = ['add', 'subtract', 'multiply', 'divide', 'power', 'maximum', 'minimum', 'arctan2', 'logaddexp', 'remainder'];

/** The same functions as the fixture script's CASES, by name. */
const FUNCTIONS: Record<string, (...xs: M[]) => M> = {
  ...Object.fromEntries(UNARY.map((n) => [n, un(n)])),
  ...Object.fromEntries(BINARY.map((n) => [n, bin(n)])),
  'broadcast add': (a, b) => a.add(b),
  where: (a, b) => ma.where(a.greater(0), a.exp(), b.sin()),
  clip: (a) => ma.clip(a, -0.5, 0.7),
  transpose: (a) => a.T.sin(),
  flip: (a) => ma.flip(a, 1).multiply(a),
  'strided slice': (a) => a.slice(':', '::3').square(),
  pad: (a) =>
    ma
      .pad(a, [
        [1, 0],
        [2, 1],
      ])
      .square(),
  concatenate: (a, b) => ma.concatenate([a, b.square()], 1),
  sum: (a) => ma.sum(a.square(), 1),
  prod: (a) => ma.prod(a, 0),
  max: (a) => ma.max(a, 1),
  min: (a) => ma.min(a, 0),
  mean: (a) => ma.mean(a, 1),
  var: (a) => ma.var(a, 1),
  std: (a) => ma.std(a, 0),
  logsumexp: (a) => ma.logsumexp(a, 1),
  softmax: (a) => ma.softmax(a, 1),
  logSoftmax: (a) => ma.logSoftmax(a, 0),
  norm: (a) => ma.norm(a),
  matmul: (a, b) => ma.matmul(a, b),
  'batched matmul': (a, b) => ma.matmul(a, b),
  cumsum: (a) => ma.cumsum(a, 1),
  cumprod: (a) => ma.cumprod(a, 1),
  cummax: (a) => ma.cummax(a, 1),
  cummin: (a) => ma.cummin(a, 0),
  sort: (a) => ma.sort(a, 1),
  take: (a) => ma.take(a, Int32Array.of(2, 0, 2, 1), 1),
  takeAlongAxis: (a) =>
    ma.takeAlongAxis(
      a,
      ma.array(
        [
          [0, 3],
          [1, 1],
          [2, 0],
        ],
        'int32',
      ),
      1,
    ),
  'at add': (a, v) =>
    a
      .at(Int32Array.of(1, 3, 1))
      .add(v.square())
      .sin(),
  'at set': (a, v) => a.at(Int32Array.of(0, 3)).set(v).sin(),
  mlp: (x, w1, w2) => ma.logSoftmax(ma.matmul(ma.gelu(ma.matmul(x, w1)), w2), 1).sum(),
  'layer norm': (x, g) => {
    const c = x.subtract(ma.mean(x, 1, true));
    return c.multiply(ma.var(x, 1, true).add(1e-5).rsqrt()).multiply(g);
  },
};

function load(a: FixtureArray, dtype: 'float32' | 'float64'): M {
  const data = dtype === 'float64' ? Float64Array.from(a.data) : Float32Array.from(a.data);
  return ma.array(data).reshape(...a.shape);
}

describe(`gradients against ${fixture.generator} (test/fixtures/gradients.json)`, () => {
  it('covers every case of the table, a few hundred in all', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(200);
    expect(new Set(fixture.cases.map((c) => c.name))).toEqual(new Set(Object.keys(FUNCTIONS)));
  });

  for (const dtype of ['float64', 'float32'] as const) {
    it(`matches every ${dtype} case`, () => {
      const tol = dtype === 'float64' ? 1e-9 : 2e-4;
      for (const c of fixture.cases.filter((k) => k.dtype === dtype)) {
        const f = FUNCTIONS[c.name];
        const inputs = c.inputs.map((a) => load(a, dtype));
        const [, vjps] = ma.vjp(f as (...a: never[]) => unknown, inputs, [load(c.cotangent, dtype)]);
        c.grads.forEach((want, i) => {
          const got = Array.from((vjps[i] as M).toTypedArray() as Float64Array, Number);
          const expected = want ?? new Array<number>(got.length).fill(0);
          const scale = Math.max(1, ...expected.map(Math.abs));
          const worst = Math.max(0, ...got.map((v, k) => Math.abs(v - expected[k])));
          expect(worst, `${c.name} (${dtype}, seed ${c.seed}), gradient ${i}: ${got} vs ${expected}`).toBeLessThanOrEqual(tol * scale);
        });
      }
    }, 600_000);
  }
});
