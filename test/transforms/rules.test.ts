/**
 * Every differentiation rule, reverse and forward mode, against central finite
 * differences in float64 on the cpu backend, at random points away from the points
 * where the op is not differentiable (test/transforms/derivatives.ts).
 */
import { describe, it } from 'vitest';
import * as ma from '../../src/index.js';
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type UnaryOp } from '../../src/core/vocabulary.js';
import { checkDerivatives, type Domain, prng, randomArray } from './derivatives.js';

type M = ma.MetalArray;
/** The op functions by name (the vocabulary lists the names). */
const opFunctions = ma as unknown as Record<string, (...args: (M | number)[]) => M>;

const UNARY_DOMAIN: Partial<Record<UnaryOp, Domain>> = {
  abs: 'nonzero',
  sign: 'nonzero',
  relu: 'nonzero',
  floor: 'awayInt',
  ceil: 'awayInt',
  round: 'awayInt',
  trunc: 'awayInt',
  sqrt: 'pos',
  rsqrt: 'pos',
  reciprocal: 'nonzero',
  log: 'pos',
  log2: 'pos',
  log10: 'pos',
  log1p: 'pos',
  arcsin: 'unit',
  arccos: 'unit',
  arctanh: 'unit',
  erfinv: 'unit',
  arccosh: 'gt1',
  cbrt: 'nonzero',
};
// Integer or bool results: nothing to differentiate (their zero gradient is tested below).
const NON_FLOAT_UNARY = new Set<UnaryOp>(['isnan', 'isinf', 'isfinite', 'logicalNot', 'bitwiseNot', 'signbit']);

const BINARY_DOMAIN: Partial<Record<BinaryOp, [Domain, Domain]>> = {
  divide: ['any', 'nonzero'],
  power: ['pos', 'any'],
  remainder: ['any', 'nonzero'],
  floorDivide: ['any', 'nonzero'],
  arctan2: ['nonzero', 'nonzero'],
  copysign: ['nonzero', 'nonzero'],
  fmod: ['any', 'nonzero'],
};
const FLOAT_BINARY = new Set<BinaryOp>([
  'add',
  'subtract',
  'multiply',
  'divide',
  'floorDivide',
  'remainder',
  'power',
  'maximum',
  'minimum',
  'arctan2',
  'logaddexp',
  'copysign',
  'hypot',
  'fmod',
]);

describe('elementwise rules (float64, finite differences)', () => {
  const r = prng(11);
  for (const op of UNARY_OPS) {
    if (NON_FLOAT_UNARY.has(op)) continue;
    it(op, () => {
      const x = randomArray(r, [2, 3], UNARY_DOMAIN[op] ?? 'any');
      const fn = opFunctions[op];
      checkDerivatives(op, (a) => fn(a), [x]);
    });
  }
  for (const op of BINARY_OPS) {
    if (!FLOAT_BINARY.has(op)) continue;
    it(op, () => {
      const [da, db] = BINARY_DOMAIN[op] ?? ['any', 'any'];
      const fn = opFunctions[op];
      checkDerivatives(op, (a, b) => fn(a, b), [randomArray(r, [2, 3], da), randomArray(r, [2, 3], db)]);
      // The scalar forms (x * 2, 2 - x) fold the scalar into the node.
      checkDerivatives(`${op} with a scalar`, (a) => fn(a, 1.7), [randomArray(r, [3], da)]);
      checkDerivatives(`${op} of a scalar`, (b) => fn(1.3, b), [randomArray(r, [3], db === 'any' && op === 'power' ? 'pos' : db)]);
    });
  }
  it('broadcasting sums over the broadcast axes', () => {
    checkDerivatives('add [3,1] + [1,4]', (a, b) => a.add(b).multiply(a), [randomArray(r, [3, 1]), randomArray(r, [1, 4])]);
    checkDerivatives('multiply [4] * [2,3,4]', (a, b) => ma.multiply(a, b), [randomArray(r, [4]), randomArray(r, [2, 3, 4])]);
  });
  it('where, clip, maximum/minimum with ties split', () => {
    checkDerivatives('where', (a, b) => ma.where(a.greater(0), a.exp(), b.sin()), [randomArray(r, [5], 'nonzero'), randomArray(r, [5])]);
    checkDerivatives('clip', (a) => ma.clip(a, -0.5, 0.7), [randomArray(r, [8], 'any').add(0.01)]);
  });
  it('casts: float to float passes through, integer inputs get none', () => {
    checkDerivatives('float32 round trip', (a) => a.astype('float32').astype('float64').exp(), [randomArray(r, [4])], { eps: 1e-2, rtol: 2e-5 });
    const ints = ma.array([1, -2, 3], 'int32');
    checkDerivatives('times an int cast', (a) => a.multiply(ints.astype('float64')), [randomArray(r, [3])]);
  });
});

describe('views and joins', () => {
  const r = prng(12);
  const x = () => randomArray(r, [3, 4]);
  const cases: [string, (a: M) => M][] = [
    ['transpose', (a) => a.T.sin()],
    ['swapaxes', (a) => ma.swapaxes(a.reshape(3, 2, 2), 0, 2).exp()],
    ['negative-step slice', (a) => a.slice('::-1', '3:0:-2').square()],
    ['strided slice', (a) => a.slice(':', '::3').square()],
    ['integer index', (a) => a.slice(1).square()],
    ['broadcastTo', (a) => ma.broadcastTo(a.slice(0).reshape(1, 4), [3, 4]).multiply(a)],
    ['expandDims/squeeze', (a) => ma.squeeze(ma.expandDims(a, 1).sin(), 1)],
    ['flip', (a) => ma.flip(a, 1).multiply(a)],
    ['reshape mixing dims', (a) => a.reshape(2, 6).T.reshape(4, 3).tanh()],
    ['concatenate', (a) => ma.concatenate([a, a.square()], 1)],
    ['stack', (a) => ma.stack([a, a.exp()], 0)],
    ['split', (a) => ma.split(a, [1, 3], 1)[1].square()],
    [
      'pad constant',
      (a) =>
        ma
          .pad(a, [
            [1, 0],
            [2, 1],
          ])
          .square(),
    ],
    ['pad edge', (a) => ma.pad(a, 1, 'edge').square()],
    ['pad reflect', (a) => ma.pad(a, 1, 'reflect').sin()],
    ['roll', (a) => ma.roll(a, 2, 1).multiply(a)],
    ['tile', (a) => ma.tile(a, [2, 1]).sin()],
    ['repeat', (a) => ma.repeat(a, 2, 0).sin()],
    ['tril', (a) => ma.tril(a).exp()],
  ];
  for (const [name, f] of cases) it(name, () => checkDerivatives(name, f, [x()]));
});

describe('reductions', () => {
  const r = prng(13);
  const x = () => randomArray(r, [3, 4]);
  const cases: [string, (a: M) => M, Domain?][] = [
    ['sum', (a) => ma.sum(a.square(), 1)],
    ['sum all', (a) => a.sin().sum()],
    ['prod', (a) => ma.prod(a, 0)],
    ['prod of several axes', (a) => ma.prod(a.reshape(3, 2, 2), [0, 2])],
    ['max', (a) => ma.max(a, 1)],
    ['min', (a) => ma.min(a, 0)],
    ['mean', (a) => ma.mean(a.square(), 1)],
    ['var', (a) => ma.var(a, 1)],
    ['std', (a) => ma.std(a, 0)],
    ['logsumexp', (a) => ma.logsumexp(a, 1)],
    ['softmax', (a) => ma.softmax(a, 1)],
    ['logSoftmax', (a) => ma.logSoftmax(a, 0)],
    ['norm', (a) => ma.norm(a)],
  ];
  for (const [name, f, domain] of cases) it(name, () => checkDerivatives(name, f, [domain ? randomArray(r, [3, 4], domain) : x()]));
  it('prod with a zero element (exact, no division)', () => {
    checkDerivatives('prod with zero', (a) => ma.prod(a.multiply(ma.array([1, 0, 1, 1], 'float64')), 1), [x()]);
  });
});

describe('matmul and contractions', () => {
  const r = prng(14);
  it('matmul 2-d', () => checkDerivatives('matmul', (a, b) => ma.matmul(a, b), [randomArray(r, [3, 4]), randomArray(r, [4, 2])]));
  it('matmul batched and broadcast', () => checkDerivatives('batched', (a, b) => ma.matmul(a, b), [randomArray(r, [2, 3, 4]), randomArray(r, [4, 5])]));
  it('matrix-vector', () => checkDerivatives('matvec', (a, b) => ma.matmul(a, b), [randomArray(r, [3, 4]), randomArray(r, [4])]));
  it('einsum', () => checkDerivatives('einsum', (a, b) => ma.einsum('ij,jk->ik', a, b), [randomArray(r, [2, 3]), randomArray(r, [3, 2])]));
  it('tensordot', () => checkDerivatives('tensordot', (a, b) => ma.tensordot(a, b, 1), [randomArray(r, [2, 3]), randomArray(r, [3, 2])]));
});

describe('scans and sorting', () => {
  const r = prng(15);
  const x = () => randomArray(r, [2, 5]);
  const cases: [string, (a: M) => M, Domain?][] = [
    ['cumsum', (a) => ma.cumsum(a, 1)],
    ['cumsum reverse exclusive', (a) => ma.cumsum(a, 0, true, false)],
    ['cumprod', (a) => ma.cumprod(a, 1)],
    ['cumprod exclusive', (a) => ma.cumprod(a, 1, false, false)],
    ['cummax', (a) => ma.cummax(a, 1)],
    ['cummin reverse', (a) => ma.cummin(a, 1, true)],
    // The exclusive scan's first element is the identity (-Inf): left out.
    ['cummax exclusive', (a) => ma.cummax(a, 1, false, false).slice(':', '1:')],
    ['sort', (a) => ma.sort(a, 1)],
    ['sort axis 0', (a) => ma.sort(a, 0).multiply(a)],
    ['topk values', (a) => ma.topk(a, 3, 1)[0]],
  ];
  for (const [name, f, domain] of cases) it(name, () => checkDerivatives(name, f, [domain ? randomArray(r, [2, 5], domain) : x()]));
  it('cumprod with zeros (exact: the first zero gets the product of the others)', () => {
    // Row 0 has zeros at 1 and 3, row 1 none; a multilinear function, so differences are exact.
    const zeros = ma.array(
      [
        [1, 0, 1, 0, 1],
        [1, 1, 1, 1, 1],
      ],
      'float64',
    );
    const base = randomArray(r, [2, 5], 'nonzero');
    checkDerivatives('cumprod with zeros', (a) => ma.cumprod(a, 1), [base.multiply(zeros)]);
    checkDerivatives('exclusive cumprod with zeros', (a) => ma.cumprod(a, 1, false, false), [base.multiply(zeros)]);
  });
});

describe('gathers, scatters and random draws', () => {
  const r = prng(16);
  it('take with repeated indices accumulates', () => {
    checkDerivatives('take', (a) => ma.take(a, Int32Array.of(2, 0, 2, -1), 1), [randomArray(r, [3, 4])]);
  });
  it('take with many indices per line (the scatter-add form)', () => {
    const many = Int32Array.from({ length: 20 }, (_, i) => (i * 7) % 4);
    checkDerivatives('take 20', (a) => ma.take(a, many, 1).sin(), [randomArray(r, [3, 4])]);
  });
  it('takeAlongAxis', () => {
    checkDerivatives(
      'takeAlongAxis',
      (a) =>
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
      [randomArray(r, [3, 4])],
    );
  });
  it('advanced indexing', () => {
    checkDerivatives('slice with index arrays', (a) => a.slice(Int32Array.of(2, 0), Int32Array.of(1, 3)).exp(), [randomArray(r, [3, 4])]);
  });
  it('at().add and at().set, to the base and to the values', () => {
    checkDerivatives(
      'at().add',
      (a, v) =>
        a
          .at(Int32Array.of(1, 3, 1))
          .add(v.square())
          .sin(),
      [randomArray(r, [5]), randomArray(r, [3])],
    );
    checkDerivatives('at().set', (a, v) => a.at(Int32Array.of(0, 3)).set(v).sin(), [randomArray(r, [5]), randomArray(r, [2])]);
  });
  it('uniform draws are differentiable in minval and maxval', () => {
    const key = ma.random.key(3);
    checkDerivatives('uniform', (lo, hi) => ma.random.uniform(key, [4], 'float64', lo, hi).square(), [randomArray(r, [4]), randomArray(r, [4], 'pos').add(2)]);
  });
});
