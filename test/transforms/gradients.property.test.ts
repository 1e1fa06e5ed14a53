/**
 * Property tests over random differentiable graphs (fast-check): a chain of smooth
 * unary ops, binary ops against a second input (with broadcasting), views and
 * reductions, drawn per run. Checked in float64 on the cpu backend:
 * - the transpose identity ⟨vjp(u), v⟩ = ⟨u, jvp(v)⟩;
 * - both against central finite differences;
 * - grad of the sum of grad against finite differences of grad.
 * Each drawn graph compiles its own kernels (seconds each on a cold cache): long timeouts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { checkDerivatives, dot, prng, randomArray } from './derivatives.js';

type M = ma.MetalArray;

/** One step of a random graph: takes the running value and the second input. */
type Step = (x: M, y: M) => M;

const STEPS: readonly [string, Step][] = [
  ['tanh', (x) => x.tanh()],
  ['sin', (x) => x.sin()],
  ['sigmoid', (x) => x.sigmoid()],
  ['gelu', (x) => ma.gelu(x)],
  ['square/4', (x) => x.square().multiply(0.25)],
  ['exp of tanh', (x) => x.tanh().exp()],
  ['add y', (x, y) => x.add(y)],
  ['times y', (x, y) => x.multiply(y)],
  ['y row broadcast', (x, y) => x.add(y.slice(0).reshape(1, -1))],
  ['transpose twice', (x) => x.T.multiply(0.9).T],
  ['flip', (x) => ma.flip(x, 1)],
  ['softmax', (x) => ma.softmax(x, -1)],
  ['row sum broadcast', (x) => x.subtract(ma.mean(x, -1, true))],
  ['logaddexp y', (x, y) => ma.logaddexp(x, y)],
  ['matmul y', (x, y) => ma.matmul(x, y.T).multiply(0.3)],
  ['cumsum', (x) => ma.cumsum(x, 1).multiply(0.5)],
];

const graphArb = fc.array(fc.integer({ min: 0, max: STEPS.length - 1 }), { minLength: 1, maxLength: 6 });

function build(steps: readonly number[]): (x: M, y: M) => M {
  return (x, y) => steps.reduce((acc, k) => STEPS[k][1](acc, y), x);
}

describe('random differentiable graphs (float64)', () => {
  it('vjp and jvp satisfy the transpose identity and match finite differences', () => {
    fc.assert(
      fc.property(graphArb, fc.integer({ min: 1, max: 1 << 30 }), (steps, seed) => {
        const r = prng(seed);
        const f = build(steps);
        const x = randomArray(r, [3, 3]);
        const y = randomArray(r, [3, 3]);
        const out = f(x, y);
        const u = randomArray(r, out.shape);
        const v = [randomArray(r, [3, 3]), randomArray(r, [3, 3])];
        const [, vjps] = ma.vjp(f as (...a: never[]) => unknown, [x, y], [u]);
        const [, jv] = ma.jvp(f as (...a: never[]) => unknown, [x, y], v);
        const left = dot(vjps[0] as M, v[0]) + dot(vjps[1] as M, v[1]);
        const right = dot(u, jv as M);
        expect(Math.abs(left - right), `${steps.map((k) => STEPS[k][0]).join(' → ')}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(left)));
        checkDerivatives(steps.map((k) => STEPS[k][0]).join(' → '), f, [x, y], { seed, directions: 1 });
      }),
      { numRuns: 12, seed: 19 },
    );
  }, 900_000);

  it('grad of grad matches finite differences of grad', () => {
    fc.assert(
      fc.property(graphArb, fc.integer({ min: 1, max: 1 << 30 }), (steps, seed) => {
        const r = prng(seed);
        const f = build(steps);
        const y = randomArray(r, [3, 3]);
        const g = (x: M) => ma.grad((a: M) => f(a, y).sum())(x) as M;
        checkDerivatives(`grad of ${steps.map((k) => STEPS[k][0]).join(' → ')}`, g, [randomArray(r, [3, 3])], { seed, directions: 1 });
      }),
      { numRuns: 8, seed: 23 },
    );
  }, 900_000);
});
