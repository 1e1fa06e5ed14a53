/**
 * The arity audit (issue 18 §1: no argument is ever silently ignored): every public
 * function of the package (top level and namespaces such as `ma.random`) and every
 * MetalArray method, called with more arguments than any of them takes, throws an
 * ArgumentError naming the call and its usage. The variadic ones (which take any
 * number of arrays or index specs) are listed with what bounds them instead.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

/** Variadic functions and methods, and why an extra argument is not an error for them. */
const VARIADIC: Readonly<Record<string, string>> = {
  eval: 'eval(...arrays): any number of arrays',
  evalAsync: 'evalAsync(...arrays): any number of arrays',
  explain: 'explain(...arrays): any number of arrays',
  einsum: 'einsum(subscripts, ...operands): the subscripts fix the operand count (checked)',
  slice: 'slice(a, ...specs): one index spec per axis (more specs than axes is an IndexError)',
  at: 'at(a, ...specs): one index spec per axis',
  treeMap: 'treeMap(fn, tree, ...rest): any number of trees of the same structure',
  'nn.treeMap': 'treeMap(fn, tree, ...rest): any number of trees of the same structure',
  promoteTypes: 'a reduce callback by design: dtypes.reduce(ma.promoteTypes) passes (acc, dtype, index, list)',
  'MetalArray.slice': 'a.slice(...specs): one index spec per axis',
  'MetalArray.at': 'a.at(...specs): one index spec per axis',
  'MetalArray.reshape': 'a.reshape(...dims): the dims may be given one by one',
  'MetalArray.transpose': 'a.transpose(...axes): the axes may be given one by one',
  // Internal members (@internal, not in the published typings): called by the library only.
  'MetalArray.liveNode': 'internal',
  'MetalArray.denseLeaf': 'internal',
  'MetalArray.storageBits': 'internal',
};

const TOO_MANY = 12;

function publicFunctions(): [string, (...args: unknown[]) => unknown][] {
  const out: [string, (...args: unknown[]) => unknown][] = [];
  for (const [name, value] of Object.entries(ma)) {
    if (/^[A-Z]/.test(name)) continue; // classes and error types
    if (typeof value === 'function') out.push([name, value as (...args: unknown[]) => unknown]);
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, fn] of Object.entries(value)) {
        if (typeof fn === 'function' && !/^[A-Z]/.test(inner)) out.push([`${name}.${inner}`, fn as (...args: unknown[]) => unknown]);
      }
    }
  }
  return out;
}

async function expectArityError(name: string, call: () => unknown): Promise<void> {
  let error: unknown;
  try {
    // An async function reports through its promise.
    await call();
  } catch (e) {
    error = e;
  }
  expect(error, `${name} accepted ${TOO_MANY} arguments`).toBeInstanceOf(ma.ArgumentError);
  expect((error as Error).message, `${name}: the error names the call and its arity`).toMatch(/takes at most \d+ arguments?, got \d+; call it as /);
}

describe('every public function rejects extra arguments', () => {
  const functions = publicFunctions();

  it('walks the exports (more than 150 functions)', () => {
    expect(functions.length).toBeGreaterThan(150);
    for (const name of Object.keys(VARIADIC)) {
      if (name.startsWith('MetalArray.')) continue;
      expect(
        functions.some(([n]) => n === name),
        `${name} is listed as variadic but not exported`,
      ).toBe(true);
    }
  });

  for (const [name, fn] of functions) {
    if (name in VARIADIC) continue;
    it(name, async () => expectArityError(name, () => fn(...new Array<unknown>(TOO_MANY).fill(undefined))));
  }
});

describe('every MetalArray method rejects extra arguments', () => {
  const a = ma.array([1, 2, 3], 'float32');
  const proto = Object.getPrototypeOf(a) as Record<string, unknown>;
  const names = Object.getOwnPropertyNames(proto).filter((n) => {
    if (n === 'constructor') return false;
    const d = Object.getOwnPropertyDescriptor(proto, n);
    return d !== undefined && typeof d.value === 'function';
  });

  it('walks the methods (more than 100)', () => {
    expect(names.length).toBeGreaterThan(100);
  });

  for (const name of names) {
    if (`MetalArray.${name}` in VARIADIC) continue;
    it(`a.${name}`, async () => {
      const method = (a as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
      await expectArityError(`a.${name}`, () => method.apply(a, new Array<unknown>(TOO_MANY).fill(undefined)));
    });
  }
});
