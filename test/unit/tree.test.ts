import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { flattenTree } from '../../src/transforms/tree.js';

describe('array trees', () => {
  it('flattens depth first and rebuilds the same structure with static leaves kept', () => {
    const a = ma.array([1, 2], 'float32');
    const b = ma.array([3], 'float32');
    const c = ma.array([4], 'float32');
    const { leaves, def } = flattenTree({ w: a, rest: [b, 7, { c, name: 'x' }] });
    expect(leaves.length).toBe(3);
    expect(leaves[0]).toBe(a);
    expect(leaves[1]).toBe(b);
    expect(leaves[2]).toBe(c);
    expect(def.count).toBe(3);
    const rebuilt = def.rebuild(['A', 'B', 'C']);
    expect(rebuilt).toEqual({ w: 'A', rest: ['B', 7, { c: 'C', name: 'x' }] });
    expect(() => def.rebuild(['A'])).toThrow(ma.ArgumentError);
  });

  it('keys differ when structure or static leaves differ', () => {
    const a = ma.zeros([1]);
    const k = (t: unknown): string => flattenTree(t).def.key;
    expect(k({ x: a, y: 1 })).toBe(k({ x: ma.ones([3]), y: 1 }));
    expect(k({ x: a, y: 1 })).not.toBe(k({ x: a, y: 2 }));
    expect(k([a, a])).not.toBe(k([a, [a]]));
    expect(k({ x: a })).not.toBe(k({ y: a }));
  });

  it('rejects cycles with a typed error', () => {
    const t: Record<string, unknown> = { a: ma.zeros([1]) };
    t.self = t;
    expect(() => flattenTree(t)).toThrow(/cycle/);
  });

  it('treeMap over several trees, treeFlatten paths and treeUnflatten round trip', () => {
    const params = { layers: [{ w: ma.ones([2]) }, { w: ma.ones([2]) }], b: ma.zeros([1]) };
    const grads = { layers: [{ w: ma.full([2], 0.5) }, { w: ma.full([2], 1) }], b: ma.ones([1]) };
    const next = ma.treeMap((p, g) => p.subtract(g), params, grads);
    expect(next.layers[1]?.w.tolist()).toEqual([0, 0]);
    expect(next.b.tolist()).toEqual([-1]);
    expect(() => ma.treeMap((p) => p, params, { b: ma.ones([1]) })).toThrow(/different structure/);
    const flat = ma.treeFlatten(params);
    expect(flat.map(([p]) => p)).toEqual(['layers.0.w', 'layers.1.w', 'b']);
    const back = ma.treeUnflatten(flat) as typeof params;
    expect(back.layers[0]?.w).toBe(params.layers[0]?.w);
    expect(back.b).toBe(params.b);
    expect(Array.isArray(back.layers)).toBe(true);
  });
});
