/**
 * Junk input: fast-check calls every public function and method with junk arguments.
 * Every call either returns or throws a MetalArrayError subclass (never a TypeError or
 * RangeError from inside the library, never a crash); reading any array a call returns
 * does the same. Afterwards memory() is back where it was and results are right.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { collectGarbage } from './gc.js';
import { FUNCTION_NAMES, METHOD_NAMES, foreignArray, freshArrays, junkArbitrary } from './junk.js';

type AnyFn = (...args: unknown[]) => unknown;

/** Library arrays among a call's result (arrays, lists of arrays, records of arrays). */
function arraysIn(r: unknown): ma.MetalArray[] {
  if (r instanceof ma.MetalArray) return [r];
  if (Array.isArray(r)) return r.flatMap(arraysIn);
  return [];
}

const untyped: string[] = [];
function check(where: string, err: unknown): void {
  if (err instanceof ma.MetalArrayError) return;
  untyped.push(`${where}: ${err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err)}`);
}

describe('junk input', () => {
  beforeAll(() => ma.setMemoryLimit(512 * 2 ** 20)); // huge sizes fail fast as OutOfMemoryError
  afterAll(() => ma.setMemoryLimit(Number.POSITIVE_INFINITY));

  // The fuzz cannot know the right answer to a random call; it checks that a call either
  // throws a typed error or returns arrays that read back, and that memory comes back.
  // Right results for the accepted edge-case inputs are the next test's.
  it('every public function and method gives a typed error or a readable result; memory comes back', async () => {
    const baseline = ma.memory();
    let arrays = freshArrays();
    const pending: Promise<unknown>[] = [];
    const names = [...FUNCTION_NAMES.map((n) => `ma.${n}`), ...METHOD_NAMES.map((n) => `a.${n}`)];
    expect(FUNCTION_NAMES.length).toBeGreaterThan(80);
    expect(METHOD_NAMES.length).toBeGreaterThan(80);
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.array(
          junkArbitrary(() => arrays),
          { maxLength: 4 },
        ),
        fc.nat(50),
        (name, args, self) => {
          const [kind, fn] = name.split('.');
          let result: unknown;
          try {
            const target = kind === 'ma' ? (ma as unknown as Record<string, AnyFn>) : (arrays[self % arrays.length] as unknown as Record<string, AnyFn>);
            result = target[fn](...args);
          } catch (err) {
            check(name, err);
            return;
          }
          if (result instanceof Promise) {
            pending.push(
              result.then(arraysIn, (err) => {
                check(`${name} (async)`, err);
                return [];
              }),
            );
            return;
          }
          for (const a of arraysIn(result)) {
            try {
              a.toTypedArray();
            } catch (err) {
              check(`${name} → read`, err);
            }
            if (!arrays.includes(a)) a.dispose();
          }
        },
      ),
      { numRuns: 2500, seed: 20261123 },
    );
    for (const got of await Promise.all(pending)) for (const a of got as ma.MetalArray[]) if (!arrays.includes(a)) a.dispose();
    expect(untyped).toEqual([]);
    for (const a of arrays) a.dispose();
    arrays = [];
    // Every buffer the fuzz made is released. Results were disposed; intermediates that an
    // op built before it threw are unreachable, and their buffers' native finalizers
    // (docs/memory.md) free them in the next GC.
    await collectGarbage();
    expect(ma.memory().activeBytes).toBe(baseline.activeBytes);
    expect(ma.memory().activeBuffers).toBe(baseline.activeBuffers);
    // And the library still computes right.
    const x = ma.arange(12).reshape(3, 4).astype('float32');
    expect(Array.from(ma.sum(x.multiply(2).add(1), 1).toTypedArray() as Float32Array)).toEqual([16, 48, 80]);
  }, 240_000);

  it('edge-case inputs the library accepts give the right results', () => {
    const read = (a: ma.MetalArray): number[] => Array.from(a.toTypedArray() as ArrayLike<number>, Number);
    const empty = ma.zeros([0, 2]);
    expect(read(ma.sum(empty))).toEqual([0]);
    expect(read(ma.sum(empty, 0))).toEqual([0, 0]);
    expect(ma.sum(empty, 1).shape).toEqual([0]);
    expect(read(ma.max(ma.array([1, Number.NaN, 3])))).toEqual([Number.NaN]);
    expect(read(ma.array([1, 2, 3]).add(Number.NaN))).toEqual([Number.NaN, Number.NaN, Number.NaN]);
    expect(read(ma.array([1, 2, 3]).multiply(Number.POSITIVE_INFINITY))).toEqual([Infinity, Infinity, Infinity]);
    expect(read(ma.array([1e300]).astype('float16'))).toEqual([Infinity]);
    expect(read(ma.array([1e300], 'float64').astype('float32'))).toEqual([Infinity]);
    expect(read(ma.array([-0], 'float32').multiply(1))).toEqual([-0]);
    expect(Object.is(read(ma.array([-0], 'float32').multiply(1))[0], -0)).toBe(true);
    expect(read(ma.array([250, 3], 'uint8').add(ma.array([10, 10], 'uint8')))).toEqual([4, 13]); // wraps
    expect(read(ma.sum(ma.array([[true, false, true]]), 1))).toEqual([2]);
    expect(read(ma.arange(24).reshape(2, 3, 4).slice('::-1, :, 1::2').reshape(-1))).toEqual([13, 15, 17, 19, 21, 23, 1, 3, 5, 7, 9, 11]);
    expect(read(ma.arange(6).reshape(2, 3).slice('1:, None, ...'))).toEqual([3, 4, 5]);
    expect(ma.arange(6).reshape(2, 3).slice('1:, None, ...').shape).toEqual([1, 1, 3]);
    expect(read(ma.array([1n, -2n]).multiply(ma.array([2n ** 40n, 3n])))).toEqual([2 ** 40, -6]);
  }, 60_000); // a cold kernel cache compiles each of these

  it('arrays of another backend give BackendMismatchError in ops and BackendUnavailableError when read', () => {
    const here = ma.array([1, 2, 3, 4, 5, 6]).reshape(2, 3);
    const there = foreignArray();
    expect(() => here.add(there)).toThrow(ma.BackendMismatchError);
    expect(() => ma.where(here.greater(2), here, there)).toThrow(ma.BackendMismatchError);
    expect(() => ma.concatenate([here, there])).toThrow(ma.BackendMismatchError);
    expect(() => ma.matmul(here, there.T)).toThrow(ma.BackendMismatchError);
    expect(() => there.toTypedArray()).toThrow(ma.BackendUnavailableError);
    expect(() => ma.eval(here, there)).toThrow(ma.BackendUnavailableError);
    expect(() => here.to('elsewhere')).toThrow(ma.BackendUnavailableError);
    expect(Array.from(here.add(1).toTypedArray() as Float32Array)).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('disposed arrays give DisposedError everywhere, and dispose is idempotent', () => {
    const a = ma.array([1, 2]);
    const b = a.add(1);
    a.dispose();
    a.dispose();
    for (const f of [
      () => a.shape,
      () => a.add(1),
      () => ma.add(2, a),
      () => a.toTypedArray(),
      () => ma.eval(a),
      () => ma.save('/tmp/never.npy', a),
      () => ma.stack([a, a]),
    ]) {
      expect(f).toThrow(ma.DisposedError);
    }
    expect(String(a)).toBe('array(<disposed>)');
    expect(Array.from(b.toTypedArray() as Float32Array)).toEqual([2, 3]); // b keeps its own hold
  });
});
