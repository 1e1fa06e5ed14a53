/**
 * Junk arguments for fuzzing the public API, and the list of entry points to call.
 */
import fc from 'fast-check';
import * as ma from '../../src/index.js';
import { constNode } from '../../src/core/build.js';

/** Library functions that change global state, take callbacks, or touch files: not fuzzed blindly. */
export const EXCLUDED_FUNCTIONS = new Set([
  'setMemoryLimit',
  'setCacheLimit',
  'clearCache',
  'setBackend',
  'setFusion',
  'setCpuMatmul',
  'resetMetrics',
  'tidy',
  'save',
  'savez',
  'saveSafetensors',
  'MetalArray',
  'SliceRange', // a class: ma.range(...) is its function
]);

/** Every exported function of the library that the fuzzer calls. */
export const FUNCTION_NAMES: string[] = Object.entries(ma)
  .filter(([name, v]) => typeof v === 'function' && !EXCLUDED_FUNCTIONS.has(name) && !/Error$/.test(name))
  .map(([name]) => name)
  .sort();

/** Methods that are not public API (marked @internal), and dispose (the fuzzer disposes on purpose elsewhere). */
const INTERNAL_METHODS = new Set(['constructor', 'dispose', 'liveNode', 'storageBits']);

/** Methods of MetalArray the fuzzer calls (all public methods except dispose/Symbol.dispose). */
export const METHOD_NAMES: string[] = Object.getOwnPropertyNames(ma.MetalArray.prototype)
  .filter((n) => !INTERNAL_METHODS.has(n) && typeof Object.getOwnPropertyDescriptor(ma.MetalArray.prototype, n)?.value === 'function')
  .sort();

/** An array on a backend that does not exist, built the only way the code allows (a const node). */
export function foreignArray(): ma.MetalArray {
  return ma.MetalArray.fromNode(constNode(1, [2, 3], 'float32', 'elsewhere'));
}

/** A junk or plausible argument; `arrays` supplies live arrays to mix in. */
export function junkArbitrary(arrays: () => ma.MetalArray[]): fc.Arbitrary<unknown> {
  const specials: unknown[] = [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    -1,
    -7,
    0.5,
    1e300,
    2 ** 31,
    2 ** 53,
    2 ** 32 + 1,
    Number.MAX_SAFE_INTEGER,
    '',
    'float32',
    'int64',
    'bfloat16',
    'bool',
    'complex64',
    '::-1',
    '1:, None, ...',
    '[[',
    'cpu',
    'metal',
    null,
    undefined,
    true,
    false,
    0n,
    -(2n ** 70n),
    2n ** 64n,
    {},
    { shape: [2] },
    [],
    [1, 2],
    [2, -1],
    [[1], [2, 3]],
    [Number.NaN],
    [1e12, 1e12],
    [2 ** 31, 2],
    [0, 3],
    ['a'],
    [null, null, -1],
    [0.5],
    new Float32Array([1, 2, 3]),
    new BigInt64Array(2),
    new DataView(new ArrayBuffer(4)),
    Symbol('junk'),
    () => 1,
    Object.create(null),
  ];
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...specials) },
    { weight: 2, arbitrary: fc.integer({ min: -5, max: 6 }) },
    { weight: 4, arbitrary: fc.nat(50).map((i) => arrays()[i % arrays().length]) },
    { weight: 1, arbitrary: fc.array(fc.integer({ min: -3, max: 4 }), { maxLength: 4 }) },
  );
}

/** A fresh set of arrays for one fuzz case: several dtypes and ranks, a view, a disposed one, a foreign one. */
export function freshArrays(): ma.MetalArray[] {
  const disposed = ma.array([1, 2, 3]);
  disposed.dispose();
  return [
    ma.array([1, 2, 3]),
    ma.arange(6).reshape(2, 3),
    ma.array([[true, false]]),
    ma.array([1n, -2n]),
    ma.array(2.5, 'float16'),
    ma.zeros([0, 2]),
    ma.arange(24).reshape(2, 3, 4).slice('::-1, :, 1::2'),
    ma.array([1, 2], 'bfloat16'),
    ma.array([250, 3], 'uint8'),
    ma.array([1.5], 'float64'),
    disposed,
    foreignArray(),
  ];
}
