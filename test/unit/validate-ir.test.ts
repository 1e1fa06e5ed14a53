/**
 * The kernel IR validator (src/codegen/validate-ir.ts): it accepts well-formed kernels
 * and names the defect of malformed ones, such as the nested-reduce shape that once
 * rendered `'v0' undeclared` (an inner reduction emitted before the loop whose body
 * defines what it reads). The suite runs it on every kernel it plans
 * (METALARRAY_VALIDATE_IR=1 from vitest.config.ts).
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import type { IndexExpr, KernelIR, Stmt } from '../../src/codegen/ir.js';
import { VALIDATE_IR, kernelIRProblems, validateKernelIR } from '../../src/codegen/validate-ir.js';

const at = (v: IndexExpr['terms'][number]['v']): IndexExpr => ({ base: -1, terms: [{ v, coef: 'unit' }] });

function kernel(stmts: Stmt[], result: number, extra: Partial<KernelIR> = {}): KernelIR {
  return { kind: 'reduce', rank: 1, buffers: ['float32', 'float32'], stmts, inner: stmts.map(() => false), result, argWords: 4, ...extra };
}

/** out[i] = Σ_j exp(x[j] + Σ_k x[k]): an inner reduction inside an outer one's loop. */
const nested = (): Stmt[] => [
  {
    k: 'reduce',
    id: 4,
    op: 'sum',
    dtype: 'float32',
    result: 'float32',
    loops: [{ loop: 0, size: 3 }],
    usesDims: false,
    value: 3,
    body: [
      { k: 'load', id: 0, buf: 1, dtype: 'float32', index: at({ loop: 0 }), gate: null },
      {
        k: 'reduce',
        id: 1,
        op: 'sum',
        dtype: 'float32',
        result: 'float32',
        loops: [{ loop: 1, size: 3 }],
        usesDims: false,
        value: 5,
        body: [{ k: 'load', id: 5, buf: 1, dtype: 'float32', index: at({ loop: 1 }), gate: null }],
      },
      { k: 'alu', id: 2, op: 'add', dtype: 'float32', result: 'float32', srcs: [0, 1] },
      { k: 'alu', id: 3, op: 'exp', dtype: 'float32', result: 'float32', srcs: [2] },
    ],
  },
];

describe('kernel IR validator', () => {
  it('is on in the test suite', () => {
    expect(VALIDATE_IR).toBe(true);
  });

  it('accepts a well-formed nested reduction', () => {
    expect(kernelIRProblems(kernel(nested(), 4))).toEqual([]);
    expect(() => validateKernelIR(kernel(nested(), 4))).not.toThrow();
  });

  it("rejects the old 'v0 undeclared' shape: an inner reduce hoisted before the loop that defines what it reads", () => {
    const outer = nested()[0] as Extract<Stmt, { k: 'reduce' }>;
    const [load, inner, add, exp] = outer.body;
    // The inner reduce reads v0 (loaded in the outer loop's body) but was emitted before it.
    const hoisted: Stmt = {
      ...(inner as Extract<Stmt, { k: 'reduce' }>),
      value: 6,
      body: [{ k: 'alu', id: 6, op: 'exp', dtype: 'float32', result: 'float32', srcs: [0] }],
    };
    const ir = kernel([hoisted, { ...outer, body: [load, add, exp] }], 4);
    expect(kernelIRProblems(ir)).toEqual(expect.arrayContaining([expect.stringMatching(/v0 is used but not declared/)]));
    expect(() => validateKernelIR(ir)).toThrow(/malformed reduce kernel IR/);
  });

  it('rejects a body value read after its reduction, a loop variable outside its loop, a buffer and an arg slot out of range', () => {
    const stmts: Stmt[] = [
      ...nested(),
      { k: 'alu', id: 7, op: 'add', dtype: 'float32', result: 'float32', srcs: [4, 0] }, // v0 lives in the body only
      { k: 'load', id: 8, buf: 2, dtype: 'float32', index: at({ loop: 0 }), gate: null }, // no buffer 2, loop 0 ended
      { k: 'arg', id: 9, dtype: 'float32', slot: 4 }, // argWords is 4
    ];
    const problems = kernelIRProblems(kernel(stmts, 7));
    expect(problems.join('\n')).toMatch(/v0 is used but not declared/);
    expect(problems.join('\n')).toMatch(/loop 0 is not an enclosing reduction loop/);
    expect(problems.join('\n')).toMatch(/buffer 2 outside \[0, 2\)/);
    expect(problems.join('\n')).toMatch(/arg slot 4 outside \[0, 4\)/);
  });

  it('rejects dtype disagreements and a value declared twice', () => {
    const stmts: Stmt[] = [
      { k: 'load', id: 0, buf: 1, dtype: 'int32', index: at({ dim: 0 }), gate: null }, // the buffer is float32
      { k: 'cast', id: 1, from: 'float32', to: 'int32', src: 0 }, // v0 is int32
      { k: 'alu', id: 1, op: 'negative', dtype: 'int32', result: 'int32', srcs: [1] },
    ];
    const problems = kernelIRProblems(kernel(stmts, 1, { kind: 'elementwise' }));
    expect(problems.join('\n')).toMatch(/loads int32 from a float32 buffer/);
    expect(problems.join('\n')).toMatch(/v0 is int32, expected float32/);
    expect(problems.join('\n')).toMatch(/v1 is declared twice/);
  });

  it('passes the kernels of a nested reduction the library plans and runs', () => {
    // Σ exp(max over a size-1 axis): the graph that once rendered the undeclared value.
    const y = ma.sum(ma.exp(ma.max(ma.expandDims(ma.array([1, 2, 3], 'float32'), -1), 1)));
    expect(y.item()).toBeCloseTo(Math.E + Math.exp(2) + Math.exp(3), 4);
  });
});
