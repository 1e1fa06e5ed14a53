/**
 * customVjp, customJvp and checkpoint over array trees: arguments that are nested lists
 * and objects of arrays, and functions that return trees. The custom rules run once per
 * backward (or forward) pass with every output's cotangent (or give every output's
 * tangent), whatever order the outputs are used in; gradients are checked against the
 * same function differentiated through its own graph.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { prng, randomArray } from './derivatives.js';

type M = ma.MetalArray;
type Pair = { readonly a: M; readonly b: M };

function values(x: unknown): number[] {
  return Array.from((x as M).toTypedArray() as Float64Array, Number);
}

function close(a: number[], b: number[], what: string, tol = 1e-12): void {
  expect(a.length, what).toBe(b.length);
  for (const [i, v] of a.entries()) expect(Math.abs(v - b[i]), `${what}, element ${i}: ${v} vs ${b[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
}

/** The plain function: a pair tree and a list in, an object with a list out. */
const plain = (p: Pair, scales: readonly M[]) => ({
  sum: p.a.add(p.b).multiply(scales[0]),
  parts: [p.a.multiply(p.b), p.b.sin().multiply(scales[1])],
});
type Out = ReturnType<typeof plain>;

/** A loss that uses the outputs in an order unlike theirs (parts[1] first, then sum, then parts[0]). */
const lossOf = (out: Out) => out.parts[1].exp().sum().add(out.sum.multiply(out.parts[1]).sum()).add(out.parts[0].square().sum());

describe('customVjp with trees', () => {
  const r = prng(11);
  const p: Pair = { a: randomArray(r, [4]), b: randomArray(r, [4]) };
  const scales = [randomArray(r, [4]), randomArray(r, [1])];

  it('gives bwd the cotangent as a tree like the output, once, and returns gradients like the arguments', () => {
    let bwdCalls = 0;
    const custom = ma.customVjp(
      plain,
      (q: Pair, s: readonly M[]) => [plain(q, s), { q, s }] as const,
      (res: { q: Pair; s: readonly M[] }, g: Out) => {
        bwdCalls++;
        expect(Object.keys(g)).toEqual(['sum', 'parts']);
        expect(g.parts.length).toBe(2);
        const { q, s } = res;
        // The hand-written vjp of `plain`.
        const ga = g.sum.multiply(s[0]).add(g.parts[0].multiply(q.b));
        const gb = g.sum.multiply(s[0]).add(g.parts[0].multiply(q.a)).add(g.parts[1].multiply(q.b.cos()).multiply(s[1]));
        const gs0 = g.sum.multiply(q.a.add(q.b));
        const gs1 = g.parts[1].multiply(q.b.sin()).sum().reshape(1);
        return [{ a: ga, b: gb }, [gs0, gs1]];
      },
    );
    const want = ma.grad((q: Pair, s: readonly M[]) => lossOf(plain(q, s)), [0, 1])(p, scales) as [Pair, M[]];
    const got = ma.grad((q: Pair, s: readonly M[]) => lossOf(custom(q, s)), [0, 1])(p, scales) as [Pair, M[]];
    expect(bwdCalls).toBe(1);
    close(values(got[0].a), values(want[0].a), 'a');
    close(values(got[0].b), values(want[0].b), 'b');
    close(values(got[1][0]), values(want[1][0]), 'scales[0]');
    close(values(got[1][1]), values(want[1][1]), 'scales[1]');
    // The value is f's, and forward mode differentiates f's own graph.
    close(values(custom(p, scales).parts[1]), values(plain(p, scales).parts[1]), 'value');
    const [, t] = ma.jvp((q: Pair) => custom(q, scales).sum, [p], [{ a: ma.onesLike(p.a), b: ma.zerosLike(p.b) }]);
    close(values(t), values(scales[0]), 'jvp through f');
  });

  it('outputs no cotangent reaches get zeros in the cotangent tree', () => {
    let seen: Out | null = null;
    const custom = ma.customVjp(
      plain,
      (q: Pair, s: readonly M[]) => [plain(q, s), q] as const,
      (_q: Pair, g: Out) => {
        seen = g;
        return [{ a: g.sum, b: g.sum.add(g.parts[0]) }, null];
      },
    );
    const g = ma.grad((q: Pair) => custom(q, scales).sum.sum())(p) as Pair;
    close(values(g.a), [1, 1, 1, 1], 'a (the rule passes the cotangent of sum)');
    close(values(g.b), [1, 1, 1, 1], 'b');
    const got = seen as unknown as Out;
    close(values(got.parts[0]), [0, 0, 0, 0], 'zero cotangent of parts[0]');
    close(values(got.parts[1]), [0, 0, 0, 0], 'zero cotangent of parts[1]');
  });

  it('a bwd that returns the wrong structure is a typed error naming customVjp', () => {
    const custom = ma.customVjp(
      plain,
      (q: Pair, s: readonly M[]) => [plain(q, s), q] as const,
      (q: Pair) => [q.a, null],
    );
    expect(() => ma.grad((q: Pair) => lossOf(custom(q, scales)))(p)).toThrow(ma.ArgumentError);
    expect(() => ma.grad((q: Pair) => lossOf(custom(q, scales)))(p)).toThrow(/customVjp: bwd's gradient 0 holds 1 array\(s\), argument 0 holds 2/);
    const short = ma.customVjp(
      plain,
      (q: Pair, s: readonly M[]) => [plain(q, s), q] as const,
      (q: Pair) => [q],
    );
    expect(() => ma.grad((q: Pair) => lossOf(short(q, scales)))(p)).toThrow(/one gradient per argument \(2\)/);
  });
});

describe('customJvp with trees', () => {
  const r = prng(12);
  const p: Pair = { a: randomArray(r, [3]), b: randomArray(r, [3]) };
  const scales = [randomArray(r, [3]), randomArray(r, [1])];

  it('gets tangents like the arguments (null when zero) and gives a tangent like the output', () => {
    let calls = 0;
    const custom = ma.customJvp(plain, ([q, s], [tq, ts]) => {
      calls++;
      expect(ts).toBeNull(); // scales are not differentiated
      const t = tq as Pair;
      const out = plain(q, s);
      const tangent = {
        sum: t.a.add(t.b).multiply(s[0]),
        parts: [t.a.multiply(q.b).add(q.a.multiply(t.b)), q.b.cos().multiply(t.b).multiply(s[1])],
      };
      return [out, tangent] as const;
    });
    const tq: Pair = { a: randomArray(r, [3]), b: randomArray(r, [3]) };
    const [outWant, want] = ma.jvp((q: Pair) => plain(q, scales), [p], [tq]) as [Out, Out];
    const [outGot, got] = ma.jvp((q: Pair) => custom(q, scales), [p], [tq]) as [Out, Out];
    expect(calls).toBe(1);
    close(values(outGot.parts[0]), values(outWant.parts[0]), 'value');
    close(values(got.sum), values(want.sum), 'sum');
    close(values(got.parts[0]), values(want.parts[0]), 'parts[0]');
    close(values(got.parts[1]), values(want.parts[1]), 'parts[1]');
  });

  it('a leaf with no tangent inside a tree comes as zeros; reverse mode walks f', () => {
    let tangentOfB: number[] = [];
    const custom = ma.customJvp(plain, ([q, s], [tq]) => {
      tangentOfB = values((tq as Pair).b);
      return [plain(q, s), null] as const;
    });
    // Differentiate only `a`: b's leaf gets no tangent of its own.
    const [, t] = ma.jvp((a: M) => custom({ a, b: p.b }, scales).sum, [p.a], [ma.onesLike(p.a)]);
    close(tangentOfB, [0, 0, 0], 'b tangent');
    close(values(t), [0, 0, 0], 'a null tangentOut is zero');
    const g = ma.grad((q: Pair) => lossOf(custom(q, scales)))(p) as Pair;
    const want = ma.grad((q: Pair) => lossOf(plain(q, scales)))(p) as Pair;
    close(values(g.b), values(want.b), 'reverse mode');
  });

  it('a tangentOut of the wrong structure is a typed error', () => {
    const custom = ma.customJvp(plain, ([q, s], [tq]) => [plain(q, s), { sum: (tq as Pair).a, parts: [] }] as never);
    expect(() => ma.jvp((q: Pair) => custom(q, scales).sum, [p], [p])).toThrow(/customJvp: jvpRule's tangentOut holds 1 array\(s\), the output holds 3/);
  });
});

describe('checkpoint with trees', () => {
  it('gives the gradients of the plain function for tree arguments and tree outputs', () => {
    const r = prng(13);
    const layer = (params: { w: M; b: M }, x: M) => {
      const h = ma.matmul(x, params.w).add(params.b);
      return { y: h.tanh(), stats: [h.square().mean(), h.max()] };
    };
    const params = { w: randomArray(r, [4, 4]), b: randomArray(r, [4]) };
    const x = randomArray(r, [3, 4]);
    const net = (l: typeof layer) => (p: { w: M; b: M }, input: M) => {
      const first = l(p, input);
      const second = l(p, first.y);
      return second.y.sum().add(first.stats[0]).add(second.stats[1].multiply(0.5));
    };
    const want = ma.grad(net(layer), [0, 1])(params, x) as [{ w: M; b: M }, M];
    const got = ma.grad(net(ma.checkpoint(layer)), [0, 1])(params, x) as [{ w: M; b: M }, M];
    close(values(got[0].w), values(want[0].w), 'w');
    close(values(got[0].b), values(want[0].b), 'b');
    close(values(got[1]), values(want[1]), 'x');
  });

  it('recomputes the block in the backward pass, once per call', () => {
    let calls = 0;
    const block = ma.checkpoint((p: { u: M; v: M }) => {
      calls++;
      return [p.u.multiply(p.v), p.u.add(p.v)];
    });
    const g = ma.grad((p: { u: M; v: M }) => {
      const [m, s] = block(p);
      return s.sum().add(m.sum());
    })({ u: ma.array([1, 2], 'float64'), v: ma.array([3, 5], 'float64') }) as { u: M; v: M };
    expect(calls).toBe(2); // the forward pass and the recomputation
    close(values(g.u), [4, 6], 'u');
    close(values(g.v), [2, 3], 'v');
  });
});
