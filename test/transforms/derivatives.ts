/**
 * Derivative checks shared by the transformation tests: float64 inputs drawn from a
 * seeded generator, and reverse and forward mode compared with central finite
 * differences along random directions (a directional derivative per direction: cheap,
 * and a wrong entry of a gradient shows up in almost every direction).
 */
import { expect } from 'vitest';
import * as ma from '../../src/index.js';

/** A seeded uniform generator in [0, 1) (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where a case's inputs are drawn, away from the points its ops are not differentiable at. */
export type Domain = 'any' | 'pos' | 'unit' | 'gt1' | 'nonzero' | 'awayInt';

function draw(r: () => number, domain: Domain): number {
  const u = r();
  switch (domain) {
    case 'any':
      return u * 4 - 2;
    case 'pos':
      return 0.3 + u * 1.7;
    case 'unit':
      return u * 1.6 - 0.8;
    case 'gt1':
      return 1.2 + u * 1.8;
    case 'nonzero':
      return (r() < 0.5 ? -1 : 1) * (0.3 + u * 1.7);
    case 'awayInt':
      return Math.floor(r() * 6) - 3 + 0.2 + u * 0.6;
  }
}

/** A float64 array of `shape` drawn from `domain`. */
export function randomArray(r: () => number, shape: readonly number[], domain: Domain = 'any'): ma.MetalArray {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = draw(r, domain);
  return ma.array(data).reshape(...shape);
}

/** ⟨a, b⟩ summed over every element, in float64. */
export function dot(a: ma.MetalArray, b: ma.MetalArray): number {
  return Number(a.astype('float64').multiply(b.astype('float64')).sum().item());
}

export interface CheckOptions {
  readonly eps?: number;
  readonly rtol?: number;
  readonly directions?: number;
  readonly seed?: number;
}

type Fn = (...xs: ma.MetalArray[]) => ma.MetalArray;

/**
 * Checks vjp and jvp of `f` at `inputs` against central differences: for a random
 * output cotangent u and random input directions v, ⟨u, (f(x+εv) - f(x-εv)) / 2ε⟩ must
 * match Σ⟨vjp(u)_i, v_i⟩ and ⟨u, jvp(v)⟩.
 */
export function checkDerivatives(name: string, f: Fn, inputs: readonly ma.MetalArray[], options: CheckOptions = {}): void {
  const { eps = 1e-5, rtol = 1e-6, directions = 2, seed = 7 } = options;
  const r = prng(seed);
  const out = f(...inputs);
  const u = randomArray(r, out.shape).astype(out.dtype);
  const [, vjps] = ma.vjp(f as (...a: never[]) => unknown, inputs, [u]);
  for (let k = 0; k < directions; k++) {
    const vs = inputs.map((x) => randomArray(r, x.shape).astype(x.dtype));
    const plus = f(...inputs.map((x, i) => x.add(vs[i].multiply(eps))));
    const minus = f(...inputs.map((x, i) => x.subtract(vs[i].multiply(eps))));
    const fd = (dot(u, plus) - dot(u, minus)) / (2 * eps);
    const reverse = vjps.reduce((s: number, g, i) => s + dot(g as ma.MetalArray, vs[i]), 0);
    const [, jv] = ma.jvp(f as (...a: never[]) => unknown, inputs, vs);
    const fwd = dot(u, jv as ma.MetalArray);
    const scale = Math.max(1, Math.abs(fd));
    expect(Math.abs(reverse - fd), `${name}: reverse mode ${reverse} vs finite differences ${fd}`).toBeLessThanOrEqual(rtol * scale * 100 + 1e-7);
    expect(Math.abs(fwd - fd), `${name}: forward mode ${fwd} vs finite differences ${fd}`).toBeLessThanOrEqual(rtol * scale * 100 + 1e-7);
  }
}
