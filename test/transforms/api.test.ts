/**
 * The transformation API: trees, argnums, hasAux, composition (grad of grad, jvp of
 * grad, closures), eval inside a traced function, stopGradient, custom rules,
 * checkpoint, non-differentiable paths, typed errors, and the rule table's coverage.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { BINARY_OPS, UNARY_OPS } from '../../src/core/vocabulary.js';
import { type RuledKind, registeredDerivatives, ruleTable } from '../../src/transforms/rules.js';
import { checkDerivatives, prng, randomArray } from './derivatives.js';

type M = ma.MetalArray;

function values(x: unknown): number[] {
  return Array.from((x as M).toTypedArray() as Float64Array | Float32Array, Number);
}

function close(a: number[], b: number[], tol = 1e-6): void {
  expect(a.length).toBe(b.length);
  for (const [i, v] of a.entries()) expect(Math.abs(v - b[i]), `element ${i}: ${v} vs ${b[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
}

describe('rule coverage', () => {
  it('every elementwise op of the vocabulary registered a derivative, and the table has every row', () => {
    const registered = new Set<string>(registeredDerivatives());
    for (const op of [...UNARY_OPS, ...BINARY_OPS, 'copy']) expect(registered.has(op), `elementwise op ${op} has no derivative`).toBe(true);
    const table = ruleTable();
    expect(table).not.toBeNull();
    const kinds: RuledKind[] = ['where', 'cast', 'view', 'reshape', 'concat', 'matmul', 'gather'];
    for (const k of kinds) expect(table?.kinds[k], `node kind ${k}`).toBeDefined();
    for (const op of ['sum', 'prod', 'max', 'min', 'argmax', 'argmin', 'any', 'all'] as const) expect(table?.reduce[op]).toBeDefined();
    for (const op of ['cumsum', 'cumprod', 'cummax', 'cummin', 'sort', 'argsort'] as const) expect(table?.scan[op]).toBeDefined();
    for (const op of ['set', 'add', 'multiply', 'maximum', 'minimum'] as const) expect(table?.scatter[op]).toBeDefined();
  });
});

describe('grad and valueAndGrad', () => {
  it('trees in, trees out, with argnums', () => {
    const loss = (p: { w: M; b: M[] }, x: M) => p.w.multiply(x).add(p.b[0]).square().sum();
    const params = { w: ma.array([1, 2], 'float64'), b: [ma.array([0.5], 'float64')] };
    const x = ma.array([3, -1], 'float64');
    const g = ma.grad(loss)(params, x) as { w: M; b: M[] };
    // d/dw (w x + b)^2 = 2 (w x + b) x; w x + b = [3.5, -1.5]
    close(values(g.w), [21, 3]);
    close(values(g.b[0]), [4]);
    const [gp, gx] = ma.grad(loss, [0, 1])(params, x) as [{ w: M }, M];
    close(values(gp.w), [21, 3]);
    close(values(gx), [7, -6]);
  });

  it('valueAndGrad with hasAux returns [[loss, aux], grads]', () => {
    const f = (x: M): [M, { peak: M }] => [x.square().sum(), { peak: x.max() }];
    const [[loss, aux], g] = ma.valueAndGrad(f, 0, { hasAux: true })(ma.array([1, 3], 'float64'));
    expect(loss.item()).toBe(10);
    expect(aux.peak.item()).toBe(3);
    close(values(g), [2, 6]);
  });

  it('integer arguments and integer paths get zero gradients', () => {
    const f = (x: M, i: M) => x.multiply(i.astype('float64')).sum().add(ma.argmax(x).astype('float64'));
    const [gx, gi] = ma.grad(f, [0, 1])(ma.array([1, 2], 'float64'), ma.array([3, 4], 'int32')) as [M, M];
    close(values(gx), [3, 4]);
    expect(gi.dtype).toBe('int32');
    expect(Array.from(gi.toTypedArray() as Int32Array)).toEqual([0, 0]);
  });

  it('an unused argument gets zeros; a closed-over array is a constant', () => {
    const c = ma.array([2, 5], 'float64');
    const [gx, gy] = ma.grad((x: M, _y: M) => x.multiply(c).sum(), [0, 1])(ma.array([1, 1], 'float64'), ma.array([7], 'float64')) as [M, M];
    close(values(gx), [2, 5]);
    close(values(gy), [0]);
  });

  it('an eval inside the function does not cut the gradient', () => {
    const f = (x: M) => {
      const y = x.exp();
      y.eval();
      const z = y.multiply(x);
      ma.eval(z);
      return z.sum();
    };
    const x = ma.array([0.5, -1], 'float64');
    const g = values(ma.grad(f)(x));
    close(
      g,
      [0.5, -1].map((v) => Math.exp(v) * (1 + v)),
    );
  });

  it('grad(grad(f)) and jvp(grad(f)) (a Hessian-vector product)', () => {
    const f = (x: M) => x.sin().multiply(x.square()).sum();
    const x = ma.array([0.3, 1.2], 'float64');
    // f'' of sin(x) x^2: (2 - x^2) sin x + 4 x cos x
    const d2 = (v: number) => (2 - v * v) * Math.sin(v) + 4 * v * Math.cos(v);
    const second = ma.grad((y: M) => (ma.grad(f)(y) as M).sum());
    close(values(second(x)), [d2(0.3), d2(1.2)]);
    const [, hv] = ma.jvp((y: M) => ma.grad(f)(y) as M, [x], [ma.array([1, 0], 'float64')]);
    close(values(hv), [d2(0.3), 0]);
  });

  it('grad of grad agrees with finite differences of grad', () => {
    const r = prng(21);
    const f = (x: M) => ma.logsumexp(x.tanh().multiply(x), 0).add(ma.softmax(x, 0).max());
    const g = (x: M) => ma.grad(f)(x) as M;
    checkDerivatives('grad of a composite', g, [randomArray(r, [5])]);
  });
});

describe('stopGradient, custom rules, checkpoint', () => {
  it('stopGradient blocks the gradient but not the value', () => {
    const [v, g] = ma.valueAndGrad((x: M) => x.multiply(ma.stopGradient(x.square())).sum())(ma.array([2], 'float64'));
    expect(v.item()).toBe(8);
    close(values(g), [4]);
  });

  it('customVjp uses the user rule in reverse mode and f for the value', () => {
    let bwdCalls = 0;
    const clipGrad = ma.customVjp(
      (x: M) => x.multiply(3),
      (x: M) => [x.multiply(3), x] as const,
      (_res: M, g: M) => {
        bwdCalls++;
        return [ma.clip(g, -1, 1)];
      },
    );
    const [v, g] = ma.valueAndGrad((x: M) => clipGrad(x).multiply(5).sum())(ma.array([1, 2], 'float64'));
    expect(v.item()).toBe(45);
    close(values(g), [1, 1]);
    expect(bwdCalls).toBe(1);
    // Forward mode differentiates f's own graph.
    const [, t] = ma.jvp(clipGrad, [ma.array([1], 'float64')], [ma.array([1], 'float64')]);
    close(values(t), [3]);
  });

  it('customJvp uses the user rule in forward mode and f in reverse mode', () => {
    const f = ma.customJvp(
      (x: M) => x.exp(),
      ([x]: M[], [t]: (M | null)[]) => [x.exp(), (t as M).multiply(100)] as const,
    );
    const [, t] = ma.jvp(f, [ma.array([0], 'float64')], [ma.array([1], 'float64')]);
    close(values(t), [100]);
    close(values(ma.grad((x: M) => f(x).sum())(ma.array([0], 'float64'))), [1]);
  });

  it('checkpoint gives the same gradient, recomputing the block', () => {
    const block = (x: M, w: M) => ma.matmul(x, w).tanh();
    const r = prng(5);
    const x = randomArray(r, [3, 4]);
    const w = randomArray(r, [4, 4]);
    const plain = ma.grad((a: M, b: M) => block(block(a, b), b).sum(), [0, 1])(x, w) as M[];
    const saved = ma.checkpoint(block);
    const check = ma.grad((a: M, b: M) => saved(saved(a, b), b).sum(), [0, 1])(x, w) as M[];
    close(values(check[0]), values(plain[0]), 1e-12);
    close(values(check[1]), values(plain[1]), 1e-12);
  });
});

describe('errors', () => {
  it('a non-scalar loss, a non-function, bad argnums and options are typed errors', () => {
    expect(() => ma.grad((x: M) => x)(ma.array([1, 2]))).toThrow(ma.ShapeError);
    expect(() => ma.grad(3 as unknown as (x: M) => M)).toThrow(ma.ArgumentError);
    expect(() => ma.grad((x: M) => x.sum(), -1)).toThrow(ma.ArgumentError);
    expect(() => ma.grad((x: M) => x.sum(), 2)(ma.array([1]))).toThrow(/argnums asks for argument 2/);
    expect(() => ma.valueAndGrad((x: M) => x.sum(), 0, { aux: true } as never)).toThrow(/unknown option 'aux'/);
    expect(() => ma.grad((x: M) => x.astype('int32').sum())(ma.array([1]))).toThrow(/floating-point/);
    expect(() => ma.vjp((x: M) => x, [ma.array([1, 2])], [ma.array([1])])).toThrow(ma.ShapeError);
  });

  it('a gradient through an op without a rule names the op', () => {
    const f = (x: M) => ma.zeros([3], 'float64').at(Int32Array.of(1)).multiply(x).sum();
    expect(() => ma.grad(f)(ma.array([2], 'float64'))).toThrow(ma.NotDifferentiableError);
    expect(() => ma.grad(f)(ma.array([2], 'float64'))).toThrow(/multiply scatter/);
  });
});
