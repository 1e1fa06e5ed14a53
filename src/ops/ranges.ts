/**
 * Range creation: arange, linspace, eye, identity. They build their values with
 * elementwise ops on an index ramp (an iota, computed in the kernel that reads it), so
 * they live among the ops, not with the leaf constructors in src/array/creation.ts.
 */
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import { array } from '../array/creation.js';
import { bfloatBitsToFloat, floatToBfloatBits, floatToHalfBits, halfBitsToFloat, scalarFor } from '../array/convert.js';
import { ArgumentError, OutOfMemoryError, OverflowError, ShapeError, formatValue } from '../errors.js';
import { constNode, iotaNode } from '../core/build.js';
import { type DType, DTYPES, checkDType } from '../core/dtype.js';
import { checkShape } from '../core/shape.js';
import { getBackendName } from '../runtime/registry.js';
import { astype, binary, where } from './elementwise.js';
import { reshape } from './movement.js';

/** A host Float64Array of n elements, or OutOfMemoryError when the host cannot make one. */
function hostValues(op: string, n: number): Float64Array {
  try {
    return new Float64Array(n);
  } catch {
    throw new OutOfMemoryError(`${op}: cannot allocate ${n} values on the host`);
  }
}

/** The index ramp 0, 1, ..., n-1 as a small leaf. */
function ramp(n: number, dtype: DType): MetalArray {
  const idx = hostValues('eye', n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return array(idx, dtype);
}

/** A 1-D index ramp 0, 1, ..., n-1 of `dtype`, computed in the kernel that reads it (no host data). */
function iota(n: number, dtype: DType): MetalArray {
  return MetalArray.fromNode(iotaNode([n], dtype, getBackendName()));
}

/** `x` rounded to what `dtype` (float32 or float64) holds, as the kernel's constant will be. */
function roundedTo(x: number, dtype: 'float32' | 'float64'): number {
  return dtype === 'float32' ? Math.fround(x) : x;
}

/** `x` as a float dtype stores it (float16 and bfloat16 through their bits). */
function storedAs(x: number, dtype: DType): number {
  if (dtype === 'float16') return halfBitsToFloat(floatToHalfBits(x));
  if (dtype === 'bfloat16') return bfloatBitsToFloat(floatToBfloatBits(x));
  return roundedTo(x, dtype === 'float64' ? 'float64' : 'float32');
}

/** The number of elements of a range, or ShapeError when no array can have that many. */
function rangeLength(op: string, count: number): number {
  const n = Math.max(0, count);
  if (!Number.isFinite(n) || n > 2 ** 52) throw new ShapeError(`${op}: ${count} elements are too many for one array`);
  return n;
}

/**
 * Evenly spaced values in [start, stop) (NumPy's arange). With one argument it is the
 * stop. Integer arguments give int32, or int64 when a value of the range needs it;
 * others give float32 unless `dtype` says otherwise. Lazy: the values are computed in
 * the kernel that reads them (an iota), so `arange(3e9)` costs no host memory.
 *
 * Values are NumPy's: the first two elements are `start` and `start + step` converted to
 * the dtype, and element i is `first + i * (second - first)` computed in the dtype (in
 * float32 for float16 and bfloat16, then rounded). A value of the range that the dtype
 * cannot hold (`arange(300, dtype: 'uint8')`) throws OverflowError.
 *
 * @example
 * ```ts
 * ma.arange(4);                          // int32 [0, 1, 2, 3]
 * ma.arange(2 ** 31 - 2, 2 ** 31 + 2);   // int64 [2147483646, ..., 2147483649]
 * ma.arange(0, 1, 0.25);                 // float32 [0, 0.25, 0.5, 0.75]
 * ma.arange(0, 10, { step: 3, dtype: 'int16' }); // int16 [0, 3, 6, 9]
 * ```
 */
export function arange<T extends DType>(stop: number, options: ArangeOptions<T> & { readonly dtype: T }): MetalArray<T>;
export function arange<T extends DType>(start: number, stop: number, options: ArangeOptions<T> & { readonly dtype: T }): MetalArray<T>;
export function arange<T extends DType>(start: number, stop: number, step: number, options: ArangeOptions<T> & { readonly dtype: T }): MetalArray<T>;
export function arange<T extends DType>(start: number, stop: number | undefined, step: number | undefined, dtype: T): MetalArray<T>;
export function arange(
  start: number,
  stop?: number | ArangeOptions,
  step?: number | ArangeOptions,
  dtype?: DType | ArangeOptions,
): MetalArray<'int32' | 'int64' | 'float32'>;
export function arange(start: number, stop?: number | ArangeOptions, step?: number | ArangeOptions, dtype?: DType | ArangeOptions): MetalArray {
  const op = 'arange';
  const usage = 'arange(stop), arange(start, stop, step, dtype) or arange(start, stop, { step, dtype })';
  // The options object ends the call, after one, two or three numbers.
  const argc = arguments.length;
  const last: unknown = argc === 2 ? stop : argc === 3 ? step : argc === 4 ? dtype : undefined;
  if (isOptionsObject(last)) {
    checkArgCount(op, argc, 4, usage);
    const o = checkOptions(op, last as ArangeOptions, ARANGE_KEYS);
    if (o.step !== undefined && argc === 4) throw new ArgumentError(`${op}: step given twice (positionally and in the options); call it as ${usage}`);
    return arangeOf(start, argc >= 3 ? (stop as number) : undefined, argc === 4 ? (step as number) : (o.step ?? 1), o.dtype);
  }
  checkArgCount(op, argc, 4, usage);
  return arangeOf(start, stop as number | undefined, step === undefined ? 1 : (step as number), dtype as DType | undefined);
}

function arangeOf(start: number, stop: number | undefined, step: number, dtype: DType | undefined): MetalArray {
  const op = 'arange';
  let lo = start;
  let hi = stop;
  if (hi === undefined) {
    hi = lo;
    lo = 0;
  }
  for (const [name, v] of [
    ['start', lo],
    ['stop', hi],
    ['step', step],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${op}: ${name} must be a finite number, got ${formatValue(v)}`);
  }
  if (step === 0) throw new ArgumentError(`${op}: step cannot be zero`);
  const n = rangeLength(op, Math.ceil((hi - lo) / step));
  const integral = [lo, hi, step].every(Number.isInteger);
  let d: DType;
  if (dtype !== undefined) d = checkDType(dtype, op);
  else if (!integral) d = 'float32';
  else {
    const last = n > 0 ? lo + (n - 1) * step : lo;
    d = Math.min(lo, last) >= -(2 ** 31) && Math.max(lo, last) < 2 ** 31 ? 'int32' : 'int64';
  }
  const info = DTYPES[d];
  if (info.kind === 'float') {
    const compute = d === 'float64' ? 'float64' : 'float32';
    // NumPy stores the first two in the dtype, then steps by their difference in the
    // compute type (float for float16: its HALF_fill)
    const first = storedAs(lo, d);
    const second = storedAs(lo + step, d);
    const delta = roundedTo(second - first, compute);
    const i = iota(n, compute);
    // element 1 is `second` itself (NumPy stores it; first + delta may differ by rounding)
    const values = where(binary('equal', i, 1), second, binary('add', binary('multiply', i, delta), first));
    return astype(values, d);
  }
  // Integers: the first two values truncated (as NumPy converts them), the rest in exact
  // steps of their difference; every value must fit the dtype.
  const first = BigInt(Math.trunc(lo));
  const delta = BigInt(Math.trunc(lo + step)) - first;
  const last = n > 0 ? first + BigInt(n - 1) * delta : first;
  for (const v of [first, last]) {
    if (n > 0 && (v < info.min || v > info.max)) {
      throw new OverflowError(`${op}: the value ${v} of the range does not fit ${d} (range [${info.min}, ${info.max}]); pass a wider dtype such as 'int64'`);
    }
  }
  const compute = d === 'uint64' ? 'uint64' : 'int64';
  const values = binary('add', binary('multiply', iota(n, compute), delta), first);
  return astype(values, d);
}

/**
 * `num` evenly spaced values from start to stop (inclusive unless `endpoint` is false),
 * as NumPy's linspace computes them: in float64, element i is `start + i * step` with
 * `step = (stop - start) / div`, and the last is `stop` exactly when `endpoint`; then
 * converted to `dtype`. Lazy (an iota): no host memory. On Metal, which has no float64,
 * the values are computed in float32.
 *
 * @example
 * ```ts
 * ma.linspace(0, 1, { num: 5 });                    // [0, 0.25, 0.5, 0.75, 1]
 * ma.linspace(0, 1, { num: 4, endpoint: false });   // [0, 0.25, 0.5, 0.75]
 * ma.linspace(0, 1, 5, true, 'float64');            // the positional form
 * ```
 */
export function linspace<T extends DType = 'float32'>(start: number, stop: number, options: LinspaceOptions<T>): MetalArray<T>;
export function linspace<T extends DType = 'float32'>(start: number, stop: number, num?: number, endpoint?: boolean, dtype?: T): MetalArray<T>;
export function linspace(start: number, stop: number, num?: number | LinspaceOptions, endpoint?: boolean, dtype?: DType): MetalArray {
  const usage = 'linspace(start, stop, { num, endpoint, dtype }) or linspace(start, stop, num, endpoint, dtype)';
  if (isOptionsObject(num)) {
    checkArgCount('linspace', arguments.length, 3, usage);
    const o = checkOptions('linspace', num as LinspaceOptions, LINSPACE_KEYS);
    return linspaceOf(start, stop, o.num ?? 50, o.endpoint ?? true, o.dtype ?? 'float32');
  }
  checkArgCount('linspace', arguments.length, 5, usage);
  return linspaceOf(start, stop, num ?? 50, endpoint ?? true, dtype ?? 'float32');
}

function linspaceOf(start: number, stop: number, num: unknown, endpoint: unknown, dtype: DType): MetalArray {
  const op = 'linspace';
  if (typeof endpoint !== 'boolean') throw new ArgumentError(`${op}: endpoint must be a boolean, got ${formatValue(endpoint)}`);
  if (typeof num !== 'number' || !Number.isInteger(num) || num < 0)
    throw new ArgumentError(`${op}: num must be a non-negative integer, got ${formatValue(num)}`);
  for (const [name, v] of [
    ['start', start],
    ['stop', stop],
  ] as const) {
    if (typeof v !== 'number') throw new ArgumentError(`${op}: ${name} must be a number, got ${formatValue(v)}`);
  }
  const d = checkDType(dtype, op);
  rangeLength(op, num);
  const compute = getBackendName() === 'metal' ? 'float32' : 'float64';
  const div = endpoint ? num - 1 : num;
  const delta = roundedTo(stop - start, compute);
  const step = delta / div;
  const i = iota(num, compute);
  let y: MetalArray;
  if (div > 0 && step !== 0) y = binary('multiply', i, roundedTo(step, compute));
  else if (div > 0)
    y = binary('multiply', binary('divide', i, div), delta); // step underflowed to 0
  else y = binary('multiply', i, delta);
  y = binary('add', y, roundedTo(start, compute));
  if (endpoint && num > 1) y = where(binary('equal', i, num - 1), roundedTo(stop, compute), y);
  return astype(y, d);
}

/**
 * An n×m matrix with ones on diagonal k (a fused comparison of two index ramps).
 *
 * @example
 * ```ts
 * console.log(ma.eye(2, 3, 1, 'int32').toString()); // array([[0, 1, 0],
 *                                                   //        [0, 0, 1]])
 * ma.eye(2, { m: 3, k: 1, dtype: 'int32' });        // the same, with options
 * ```
 */
export function eye<T extends DType = 'float32'>(n: number, options: EyeOptions<T>): MetalArray<T>;
export function eye<T extends DType = 'float32'>(n: number, m?: number | null, k?: number, dtype?: T): MetalArray<T>;
export function eye(n: number, m?: number | null | EyeOptions, k?: number, dtype?: DType): MetalArray {
  const usage = 'eye(n, { m, k, dtype }) or eye(n, m, k, dtype)';
  if (isOptionsObject(m)) {
    checkArgCount('eye', arguments.length, 2, usage);
    const o = checkOptions('eye', m as EyeOptions, EYE_KEYS);
    return eyeOf(n, o.m ?? null, o.k ?? 0, o.dtype ?? 'float32');
  }
  checkArgCount('eye', arguments.length, 4, usage);
  return eyeOf(n, m ?? null, k ?? 0, dtype ?? 'float32');
}

function eyeOf(n: number, m: number | null, k: number, dtype: DType): MetalArray {
  const cols = m ?? n;
  checkShape('eye', [n, cols]);
  if (typeof k !== 'number' || !Number.isInteger(k)) throw new ArgumentError(`eye: k must be an integer, got ${formatValue(k)}`);
  const d = checkDType(dtype, 'eye');
  const rows = reshape(ramp(n, 'int32'), [n, 1]);
  const colsR = reshape(ramp(cols, 'int32'), [1, cols]);
  const onDiag = binary('equal', binary('subtract', colsR, rows), k);
  return where(
    onDiag,
    MetalArray.fromNode(constNode(scalarFor(1, d), [], d, getBackendName())),
    MetalArray.fromNode(constNode(scalarFor(0, d), [], d, getBackendName())),
  );
}

/**
 * The n×n identity matrix.
 *
 * @example
 * ```ts
 * console.log(ma.identity(2).toString()); // array([[1., 0.],
 *                                         //        [0., 1.]])
 * ```
 */
export function identity<T extends DType = 'float32'>(n: number, dtype?: T | { readonly dtype?: T }): MetalArray<T> {
  checkArgCount('identity', arguments.length, 2, 'identity(n, dtype) or identity(n, { dtype })');
  if (isOptionsObject(dtype)) return eyeOf(n, n, 0, checkOptions('identity', dtype as { dtype?: DType }, ['dtype']).dtype ?? 'float32') as MetalArray<T>;
  return eyeOf(n, n, 0, (dtype as DType | undefined) ?? 'float32') as MetalArray<T>;
}

/** True for an options object (not a number, a dtype name or null). */
function isOptionsObject(x: unknown): x is object {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Options of `arange` (NumPy's keywords). */
export interface ArangeOptions<T extends DType = DType> {
  /** The spacing between values (default 1). */
  readonly step?: number;
  /** The dtype (default: int32, or int64 when a value needs it, for integer arguments; float32 otherwise). */
  readonly dtype?: T;
}
const ARANGE_KEYS = ['step', 'dtype'] as const;

/** Options of `linspace` (NumPy's keywords). */
export interface LinspaceOptions<T extends DType = DType> {
  /** How many values (default 50). */
  readonly num?: number;
  /** Include `stop` as the last value (default true). */
  readonly endpoint?: boolean;
  /** The dtype (default float32). */
  readonly dtype?: T;
}
const LINSPACE_KEYS = ['num', 'endpoint', 'dtype'] as const;

/** Options of `eye` (NumPy's keywords). */
export interface EyeOptions<T extends DType = DType> {
  /** Number of columns (default n). */
  readonly m?: number | null;
  /** The diagonal: 0 the main one, positive above, negative below (default 0). */
  readonly k?: number;
  /** The dtype (default float32). */
  readonly dtype?: T;
}
const EYE_KEYS = ['m', 'k', 'dtype'] as const;
