/**
 * Every elementwise op of the vocabulary under vmap (they share one batching rule, so
 * this pins that each op's node rebuilds over the batch), in float32 and int32
 * wherever the op accepts the dtype: vmap(f) equals stacking f over the examples.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { BINARY_OPS, UNARY_OPS } from '../../src/core/vocabulary.js';
import { expectMapsLikeStack } from './vmap-support.js';

type OpFn = (...args: ma.MetalArray[]) => ma.MetalArray;
const OPS = ma as unknown as Record<string, OpFn>;

/** The ops of `names` that accept `probe` operands (the rest throw DTypeError for that dtype). */
function accepted(names: readonly string[], probe: ma.MetalArray[]): string[] {
  return names.filter((op) => {
    try {
      (OPS[op] as OpFn)(...probe);
      return true;
    } catch (e) {
      if (e instanceof ma.DTypeError) return false;
      throw e;
    }
  });
}

describe('vmap: every elementwise op (one shared rule)', () => {
  const cases = [
    { dtype: 'float32', x: ma.linspace(0.1, 0.9, 12).reshape([3, 4]), y: ma.linspace(1.1, 2, 12).reshape([4, 3]) },
    { dtype: 'int32', x: ma.arange(-6, 6).reshape([3, 4]).astype('int32'), y: ma.arange(12).remainder(3).add(1).reshape([4, 3]).astype('int32') },
  ] as const;
  for (const { dtype, x, y } of cases) {
    // One graph of every op (70+), compiled cold: give it the time a loaded CI machine needs.
    it(`${dtype}: all unary and binary ops over mapped operands, either side`, { timeout: 180_000 }, () => {
      const unary = accepted(UNARY_OPS, [x]);
      const binary = accepted(BINARY_OPS, [x, x]);
      expect(unary.length + binary.length).toBeGreaterThan(dtype === 'float32' ? 55 : 30);
      // All results as float32 in one stacked array: one fused graph per side.
      const f = (a: ma.MetalArray, b: ma.MetalArray): ma.MetalArray =>
        ma.stack([
          ...unary.map((op) => (OPS[op] as OpFn)(a).astype('float32')),
          ...binary.map((op) => (OPS[op] as OpFn)(a, b).astype('float32')),
          ...binary.map((op) => (OPS[op] as OpFn)(b.slice(0), a).astype('float32')),
        ]);
      expectMapsLikeStack(f, [x, y], [0, 1]);
    });
  }
  it('identity and constants: f returning its argument or an unmapped array', () => {
    const x = ma.arange(6).reshape([2, 3]);
    expectMapsLikeStack((a) => [a, ma.ones([2]), ma.arange(3)], [x], [1]);
  });
});
