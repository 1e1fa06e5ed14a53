/**
 * Counter-based random numbers (`ma.random`), JAX style: a key is a uint32 array of shape
 * [2]; the same key gives the same numbers, and `split` derives independent keys.
 *
 * Every draw is ordinary elementwise integer arithmetic on each element's linear index
 * (an iota node) and the key: the Threefry-2x32 block cipher with 20 rounds (Salmon et
 * al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011). The graph fuses into the
 * kernel that consumes it, nothing goes through the host, and the bits are identical on
 * every backend (wrapping uint32 adds, shifts and xors are exact everywhere). Floats are
 * made from the bits with exact integer-to-float steps; the transcendental steps of
 * `normal`, `truncatedNormal` and `categorical` agree across backends to rounding.
 * Keys themselves (`key`, `split`, `foldIn`) are computed on the host at once
 * (threefry-host.ts) and are always small evaluated arrays, never pending graphs.
 *
 * @module
 */
import { MetalArray } from '../array/array.js';
import { fromStorageArray } from '../array/creation.js';
import { ArgumentError, DTypeError, ShapeError, formatValue } from '../errors.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { type DType, DTYPES, checkDType } from '../core/dtype.js';
import { constNode, iotaNode } from '../core/build.js';
import { argmax } from './reduce.js';
import { astype, binary, clip, unary } from './elementwise.js';
import { take } from './indexing.js';
import { argsort } from './sort.js';
import type { ArrayLike } from './operand.js';
import { KS_PARITY, ROTATIONS, foldInHost, splitHost } from './threefry-host.js';

/** A shape argument: a size or a list of sizes. */
export type Shape = number | readonly number[];

function shapeOf(op: string, shape: Shape): number[] {
  const dims = typeof shape === 'number' ? [shape] : Array.isArray(shape) ? [...shape] : null;
  if (dims === null || !dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ArgumentError(`random.${op}: shape must be a non-negative integer or a list of them, got ${JSON.stringify(shape)}`);
  }
  return dims;
}

function floatDType(op: string, dtype: DType): DType {
  checkDType(dtype, `random.${op}`);
  if (DTYPES[dtype].kind !== 'float') throw new DTypeError(`random.${op}: dtype must be a float dtype, got ${dtype}`);
  return dtype;
}

/** Throws a typed error naming `random.<op>` unless `key` is a uint32 array of shape [2]. */
function checkKey(op: string, key: unknown): asserts key is MetalArray {
  if (!(key instanceof MetalArray)) {
    throw new ArgumentError(`random.${op}: key must be a MetalArray from random.key, random.split or random.foldIn, got ${formatValue(key)}`);
  }
  const n = key.liveNode(`random.${op}`);
  const got = `${n.dtype} [${n.shape.join(', ')}]`;
  if (n.dtype !== 'uint32') throw new DTypeError(`random.${op}: a key is a uint32 array of shape [2], got ${got}; make keys with random.key(seed)`);
  if (n.shape.length !== 1 || n.shape[0] !== 2) {
    const hint = n.shape.length === 2 && n.shape[1] === 2 ? '; this looks like split() output: take one row, e.g. keys.slice(0) or const [k1, k2] = keys' : '';
    throw new ShapeError(`random.${op}: a key is a uint32 array of shape [2], got ${got}${hint}`);
  }
}

/** The two uint32 words of a single key (0-d views), checked. */
function keyWords(op: string, key: MetalArray): [MetalArray, MetalArray] {
  checkKey(op, key);
  return [key.slice(0), key.slice(1)];
}

/** The key's two words on the host (evaluating it if it is pending: a few bytes). */
function hostKey(op: string, key: MetalArray): Uint32Array {
  checkKey(op, key);
  return key.toTypedArray() as Uint32Array;
}

/** A concrete key array (a leaf) of the given uint32 words and shape. */
function keyArray(words: Uint32Array, shape: readonly number[]): MetalArray {
  return fromStorageArray(words, shape, 'uint32');
}

const rotl = (x: MetalArray, r: number): MetalArray => binary('bitwiseOr', binary('leftShift', x, r), binary('rightShift', x, 32 - r));

/** Threefry-2x32, 20 rounds: encrypts the counter pair (x0, x1) under the key (k0, k1). */
function threefry(k0: MetalArray, k1: MetalArray, x0: MetalArray, x1: MetalArray): [MetalArray, MetalArray] {
  const ks = [k0, k1, binary('bitwiseXor', binary('bitwiseXor', k0, k1), KS_PARITY)];
  let a = binary('add', x0, ks[0]);
  let b = binary('add', x1, ks[1]);
  for (let round = 0; round < 20; round++) {
    a = binary('add', a, b);
    b = binary('bitwiseXor', rotl(b, ROTATIONS[round % 8]), a);
    if (round % 4 === 3) {
      const s = (round + 1) / 4;
      a = binary('add', a, ks[s % 3]);
      b = binary('add', binary('add', b, ks[(s + 1) % 3]), s);
    }
  }
  return [a, b];
}

/**
 * The Threefry-2x32 (20 rounds) block cipher itself: encrypts counter pairs (x0, x1)
 * (uint32 arrays, broadcast together) under a key; returns the two output words. Every
 * draw is this function of the key and each element's index.
 *
 * @example
 * ```ts
 * const [w0, w1] = ma.random.threefry2x32(ma.random.key(0), ma.arange(3, { dtype: 'uint32' }), 0);
 * console.log(w0.dtype, w0.shape, w1.shape); // uint32 [ 3 ] [ 3 ]
 * ```
 */
export function threefry2x32(key: MetalArray, x0: ArrayLike, x1: ArrayLike): [MetalArray<'uint32'>, MetalArray<'uint32'>];
export function threefry2x32(key: MetalArray, x0: ArrayLike, x1: ArrayLike): [MetalArray, MetalArray] {
  checkArgCount('random.threefry2x32', arguments.length, 3, 'threefry2x32(key, x0, x1)');
  const [k0, k1] = keyWords('threefry2x32', key);
  const word = (x: ArrayLike): MetalArray =>
    x instanceof MetalArray ? x : MetalArray.fromNode(constNode(x, [], 'uint32', k0.liveNode('random.threefry2x32').backend));
  for (const x of [x0, x1]) {
    if (x instanceof MetalArray && x.dtype !== 'uint32') throw new DTypeError(`random.threefry2x32: counters must be uint32, got ${x.dtype}`);
  }
  return threefry(k0, k1, word(x0), word(x1));
}

/** The counter of each element of a draw of `shape`: its linear index, as uint32. */
function counters(op: string, key: MetalArray, shape: readonly number[]): MetalArray {
  const size = shape.reduce((p, d) => p * d, 1);
  if (size > 2 ** 32) throw new ArgumentError(`random.${op}: one draw holds at most 2^32 numbers, asked for ${size}; split the key and draw in parts`);
  return MetalArray.fromNode(iotaNode(shape, 'uint32', key.liveNode(`random.${op}`).backend));
}

/** 32 random bits per element (uint32) and, when asked, a second independent word. */
function bitPairs(op: string, key: MetalArray, shape: readonly number[]): [MetalArray, MetalArray] {
  const [k0, k1] = keyWords(op, key);
  const zero = MetalArray.fromNode(constNode(0, [], 'uint32', k0.liveNode(op).backend));
  return threefry(k0, k1, counters(op, key, shape), zero);
}

/**
 * A key from an integer seed (up to 64 bits; a negative seed is taken modulo 2^64): an
 * evaluated uint32 array of shape [2], high word first (JAX's `PRNGKey(seed)`).
 *
 * @example
 * ```ts
 * console.log(ma.random.key(42).tolist()); // [ 0, 42 ]
 * // The seed's high 32-bit word comes first.
 * console.log(ma.random.key(2n ** 32n + 1n).tolist()); // [ 1, 1 ]
 * ```
 */
export function key(seed: number | bigint): MetalArray<'uint32'>;
export function key(seed: number | bigint): MetalArray {
  checkArgCount('random.key', arguments.length, 1, 'key(seed)');
  let s: bigint;
  if (typeof seed === 'bigint') s = seed;
  else if (typeof seed === 'number' && Number.isSafeInteger(seed)) s = BigInt(seed);
  else throw new ArgumentError(`random.key: seed must be a safe integer or a bigint, got ${String(seed)}`);
  s = BigInt.asUintN(64, s);
  // Evaluated at once (8 bytes uploaded): a key is never part of a pending graph.
  return keyArray(Uint32Array.of(Number(s >> 32n), Number(s & 0xffffffffn)), [2]);
}

/**
 * `n` new independent keys from `key`, as an evaluated uint32 array of shape [n, 2],
 * bit for bit JAX's `random.split` (threefry of the counters 0..2n-1). Computed on the
 * host at once, so a loop that splits its key every step never grows a graph. The
 * result iterates over its rows, so it destructures.
 *
 * @example
 * ```ts
 * let key = ma.random.key(0);
 * for (let step = 0; step < 1000; step++) {
 *   const [next, sub] = ma.random.split(key);
 *   key = next;
 *   const noise = ma.random.normal(sub, [1024, 1024]);
 * }
 * ```
 */
export function split(key: MetalArray, n?: number): MetalArray<'uint32'>;
export function split(key: MetalArray, n = 2): MetalArray {
  checkArgCount('random.split', arguments.length, 2, 'split(key, n)');
  if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 31) {
    throw new ArgumentError(`random.split: n must be an integer in [0, 2^31], got ${formatValue(n)}`);
  }
  const [k0, k1] = hostKey('split', key);
  return keyArray(splitHost(k0, k1, n), [n, 2]);
}

/**
 * A new key from `key` and an integer (`data` modulo 2^32, as JAX's `fold_in` takes a
 * uint32): bit for bit JAX's `random.fold_in`. Use it to derive a key per step or per
 * worker from one key without splitting in sequence.
 *
 * @example
 * ```ts
 * const base = ma.random.key(42);
 * for (let step = 0; step < 10; step++) {
 *   const x = ma.random.uniform(ma.random.foldIn(base, step), [8]);
 * }
 * ```
 */
export function foldIn(key: MetalArray, data: number | bigint): MetalArray<'uint32'>;
export function foldIn(key: MetalArray, data: number | bigint): MetalArray {
  checkArgCount('random.foldIn', arguments.length, 2, 'foldIn(key, data)');
  let d: number;
  if (typeof data === 'bigint') d = Number(BigInt.asUintN(32, data));
  else if (typeof data === 'number' && Number.isSafeInteger(data)) d = Number(BigInt.asUintN(32, BigInt(data)));
  else throw new ArgumentError(`random.foldIn: data must be a safe integer or a bigint, got ${formatValue(data)}`);
  const [k0, k1] = hostKey('foldIn', key);
  return keyArray(foldInHost(k0, k1, d), [2]);
}

/**
 * Uniformly distributed uint32 bits of the given shape.
 *
 * @example
 * ```ts
 * const bits = ma.random.bits(ma.random.key(0), [2, 3]);
 * console.log(bits.shape, bits.dtype); // [ 2, 3 ] uint32
 * ```
 */
export function bits(key: MetalArray, shape?: Shape): MetalArray<'uint32'>;
export function bits(key: MetalArray, shape: Shape = []): MetalArray {
  checkArgCount('random.bits', arguments.length, 2, 'bits(key, shape)');
  return bitPairs('bits', key, shapeOf('bits', shape))[0];
}

/** Bits of each float dtype's significand a uniform draw uses, so the cast is exact. */
const SIGNIFICAND: Partial<Record<DType, number>> = { float16: 11, bfloat16: 8, float32: 24 };

/** Uniform in [0, 1) in `dtype`, exactly representable (k / 2^p). */
function unitUniform(op: string, key: MetalArray, shape: readonly number[], dtype: DType): MetalArray {
  const [y0, y1] = bitPairs(op, key, shape);
  if (dtype === 'float64') {
    // 53 bits from both words: (hi27 * 2^26 + lo26) / 2^53.
    const hi = astype(binary('rightShift', y0, 5), 'float64');
    const lo = astype(binary('rightShift', y1, 6), 'float64');
    return binary('multiply', binary('add', binary('multiply', hi, 2 ** 26), lo), 2 ** -53);
  }
  const p = SIGNIFICAND[dtype] as number;
  return astype(binary('multiply', astype(binary('rightShift', y0, 32 - p), 'float32'), 2 ** -p), dtype);
}

/** Uniform in the open interval (0, 1), float32, exact: (2k + 1) / 2^24 for a 23-bit k. */
function openUniform(op: string, key: MetalArray, shape: readonly number[]): MetalArray {
  const [y0] = bitPairs(op, key, shape);
  const odd = binary('add', binary('multiply', astype(binary('rightShift', y0, 9), 'float32'), 2), 1);
  return binary('multiply', odd, 2 ** -24);
}

/** A plain options object (not an array, a MetalArray or a typed array). */
function isOptions(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof MetalArray) && !ArrayBuffer.isView(v);
}

/** The dtype argument of a draw: a dtype name, or an options object's `dtype` (a default otherwise). */
function dtypeOr(dtype: unknown, fallback: DType): DType {
  return dtype === undefined ? fallback : (dtype as DType);
}

/** Options of `uniform`. */
export interface UniformOptions<D extends DType = DType> {
  /** A float dtype (default float32). */
  readonly dtype?: D;
  /** The lower bound, included (default 0); an array broadcasts against the shape. */
  readonly low?: ArrayLike;
  /** The upper bound, excluded (default 1); an array broadcasts against the shape. */
  readonly high?: ArrayLike;
}

/**
 * Uniform numbers in [low, high) (default [0, 1)) of a float dtype. The unit draw has
 * as many random bits as the dtype's significand (53 for float64). Takes an options
 * object `{ dtype, low, high }`, or JAX's positional `(key, shape, dtype, minval, maxval)`.
 *
 * @example
 * ```ts
 * const key = ma.random.key(0);
 * const u = ma.random.uniform(key, [2, 3], { low: -1, high: 1 }); // float32 in [-1, 1)
 * const same = ma.random.uniform(key, [2, 3], 'float32', -1, 1);  // the positional form
 * console.log(u.shape, ma.all(ma.equal(u, same)).item()); // [ 2, 3 ] true
 * ```
 */
export function uniform<D extends DType>(
  key: MetalArray,
  shape: Shape,
  options: D | (UniformOptions<D> & { readonly dtype: D }),
  minval?: ArrayLike,
  maxval?: ArrayLike,
): MetalArray<D>;
export function uniform(key: MetalArray, shape?: Shape, options?: UniformOptions<never>): MetalArray<'float32'>;
export function uniform(key: MetalArray, shape?: Shape, options?: UniformOptions | DType, minval?: ArrayLike, maxval?: ArrayLike): MetalArray;
export function uniform(key: MetalArray, shape: Shape = [], options?: UniformOptions | DType, minval?: ArrayLike, maxval?: ArrayLike): MetalArray {
  const op = 'random.uniform';
  let dtype: DType;
  let low: ArrayLike = 0;
  let high: ArrayLike = 1;
  if (isOptions(options)) {
    checkArgCount(op, arguments.length, 3, 'uniform(key, shape, { dtype, low, high })');
    const o = checkOptions(op, options as UniformOptions, ['dtype', 'low', 'high']);
    dtype = dtypeOr(o.dtype, 'float32');
    low = o.low ?? 0;
    high = o.high ?? 1;
  } else {
    checkArgCount(op, arguments.length, 5, 'uniform(key, shape, { dtype, low, high }) or uniform(key, shape, dtype, minval, maxval)');
    dtype = dtypeOr(options, 'float32');
    low = minval ?? 0;
    high = maxval ?? 1;
  }
  const dims = shapeOf('uniform', shape);
  const u = unitUniform('uniform', key, dims, floatDType('uniform', dtype));
  if (low === 0 && high === 1) return u;
  return astype(binary('add', binary('multiply', u, binary('subtract', high, low)), low), dtype);
}

/** Options of `normal`. */
export interface NormalOptions<D extends DType = DType> {
  /** A float dtype (default float32). */
  readonly dtype?: D;
  /** The mean (default 0); an array broadcasts against the shape. */
  readonly loc?: ArrayLike;
  /** The standard deviation (default 1); an array broadcasts against the shape. */
  readonly scale?: ArrayLike;
}

/**
 * Normal numbers, `loc + scale · z` for standard normal z (default loc 0, scale 1), by
 * the Box–Muller transform of the two words of each counter: √(−2 ln u₁) · cos(2π u₂)
 * with u₁ in (0, 1] and u₂ in [0, 1), both exact 24-bit fractions; computed in float32
 * (float64 for a float64 draw) with vectorized math. Takes `{ dtype, loc, scale }` or a
 * dtype.
 *
 * @example
 * ```ts
 * const z = ma.random.normal(ma.random.key(1), [1000], { loc: 5, scale: 2 });
 * console.log(Math.abs(ma.mean(z).item() as number - 5) < 0.5); // true
 * ```
 */
export function normal<D extends DType>(key: MetalArray, shape: Shape, options: D | (NormalOptions<D> & { readonly dtype: D })): MetalArray<D>;
export function normal(key: MetalArray, shape?: Shape, options?: NormalOptions<never>): MetalArray<'float32'>;
export function normal(key: MetalArray, shape?: Shape, options?: NormalOptions | DType): MetalArray;
export function normal(key: MetalArray, shape: Shape = [], options?: NormalOptions | DType): MetalArray {
  const op = 'random.normal';
  checkArgCount(op, arguments.length, 3, 'normal(key, shape, { dtype, loc, scale })');
  const o = isOptions(options) ? checkOptions(op, options as NormalOptions, ['dtype', 'loc', 'scale']) : { dtype: options as DType | undefined };
  const dtype = dtypeOr(o.dtype, 'float32');
  const dims = shapeOf('normal', shape);
  const compute = floatDType('normal', dtype) === 'float64' ? 'float64' : 'float32';
  const [y0, y1] = bitPairs('normal', key, dims);
  const fraction = (y: MetalArray, plusOne: boolean): MetalArray => {
    const k = astype(binary('rightShift', y, 8), compute);
    return binary('multiply', plusOne ? binary('add', k, 1) : k, 2 ** -24);
  };
  const radius = unary('sqrt', binary('multiply', unary('log', fraction(y0, true)), -2));
  const angle = binary('multiply', fraction(y1, false), 2 * Math.PI);
  let z = binary('multiply', radius, unary('cos', angle));
  const loc = 'loc' in o ? o.loc : undefined;
  const scale = 'scale' in o ? o.scale : undefined;
  if (scale !== undefined && scale !== 1) z = binary('multiply', z, scale);
  if (loc !== undefined && loc !== 0) z = binary('add', z, loc);
  return astype(z, dtype);
}

/** Options of `truncatedNormal`. */
export interface TruncatedNormalOptions<D extends DType = DType> {
  /** The lower bound, in standard deviations (required). */
  readonly lower: ArrayLike;
  /** The upper bound, in standard deviations (required). */
  readonly upper: ArrayLike;
  /** A float dtype (default float32). */
  readonly dtype?: D;
}

/**
 * Standard normal numbers truncated to [lower, upper] (inverse-CDF sampling between the
 * bounds' probabilities, clipped against rounding). Takes `(key, shape, { lower, upper,
 * dtype })` or JAX's positional `(key, lower, upper, shape, dtype)`.
 *
 * @example
 * ```ts
 * const t = ma.random.truncatedNormal(ma.random.key(2), [100], { lower: -1, upper: 1 });
 * console.log(ma.max(ma.abs(t)).item() <= 1); // true
 * ```
 */
export function truncatedNormal<D extends DType>(key: MetalArray, shape: Shape, options: TruncatedNormalOptions<D> & { readonly dtype: D }): MetalArray<D>;
export function truncatedNormal(key: MetalArray, shape: Shape, options: TruncatedNormalOptions<never>): MetalArray<'float32'>;
export function truncatedNormal<D extends DType>(key: MetalArray, lower: ArrayLike, upper: ArrayLike, shape: Shape | undefined, dtype: D): MetalArray<D>;
export function truncatedNormal(key: MetalArray, lower: ArrayLike, upper: ArrayLike, shape?: Shape): MetalArray<'float32'>;
export function truncatedNormal(
  key: MetalArray,
  shapeOrLower: Shape | ArrayLike,
  options: TruncatedNormalOptions | ArrayLike,
  shape?: Shape,
  dtype?: DType,
): MetalArray;
export function truncatedNormal(
  key: MetalArray,
  shapeOrLower: Shape | ArrayLike,
  options: TruncatedNormalOptions | ArrayLike,
  shape?: Shape,
  dtype?: DType,
): MetalArray {
  const op = 'random.truncatedNormal';
  let lower: ArrayLike;
  let upper: ArrayLike;
  let dims: number[];
  let d: DType;
  if (isOptions(options)) {
    checkArgCount(op, arguments.length, 3, 'truncatedNormal(key, shape, { lower, upper, dtype })');
    const o = checkOptions(op, options as unknown as TruncatedNormalOptions, ['lower', 'upper', 'dtype']);
    if (o.lower === undefined || o.upper === undefined)
      throw new ArgumentError(`${op}: the options need lower and upper, got { ${Object.keys(options).join(', ')} }`);
    lower = o.lower;
    upper = o.upper;
    dims = shapeOf('truncatedNormal', shapeOrLower as Shape);
    d = dtypeOr(o.dtype, 'float32');
  } else {
    checkArgCount(op, arguments.length, 5, 'truncatedNormal(key, shape, { lower, upper, dtype }) or truncatedNormal(key, lower, upper, shape, dtype)');
    lower = shapeOrLower as ArrayLike;
    upper = options as ArrayLike;
    dims = shapeOf('truncatedNormal', shape ?? []);
    d = dtypeOr(dtype, 'float32');
  }
  floatDType('truncatedNormal', d);
  const a = unary('erf', binary('multiply', lower, Math.SQRT1_2));
  const b = unary('erf', binary('multiply', upper, Math.SQRT1_2));
  const u01 = openUniform('truncatedNormal', key, dims);
  const u = binary('add', a, binary('multiply', u01, binary('subtract', b, a)));
  return astype(clip(binary('multiply', unary('erfinv', u), Math.SQRT2), lower, upper), d);
}

/** Options of `randint`. */
export interface RandintOptions<D extends DType = DType> {
  /** The lowest value, included (required). */
  readonly low: number;
  /** The bound, excluded (required). */
  readonly high: number;
  /** An integer dtype (default int32). */
  readonly dtype?: D;
}

/**
 * Integers uniform in [low, high) (int32 by default), by the multiply-shift map of 32
 * random bits onto the range (bias below range / 2^32). Takes `{ low, high, dtype }` or
 * JAX's positional `(key, shape, minval, maxval, dtype)`.
 *
 * @example
 * ```ts
 * const dice = ma.random.randint(ma.random.key(3), [10], { low: 1, high: 7 });
 * console.log(dice.dtype, ma.min(dice).item() >= 1, ma.max(dice).item() <= 6); // int32 true true
 * ```
 */
export function randint<D extends DType>(key: MetalArray, shape: Shape, options: RandintOptions<D> & { readonly dtype: D }): MetalArray<D>;
export function randint(key: MetalArray, shape: Shape, options: RandintOptions<never>): MetalArray<'int32'>;
export function randint<D extends DType>(key: MetalArray, shape: Shape, minval: number, maxval: number, dtype: D): MetalArray<D>;
export function randint(key: MetalArray, shape: Shape, minval: number, maxval: number): MetalArray<'int32'>;
export function randint(key: MetalArray, shape: Shape, options: RandintOptions | number, maxval?: number, dtype?: DType): MetalArray;
export function randint(key: MetalArray, shape: Shape, options: RandintOptions | number, maxval?: number, dtype?: DType): MetalArray {
  const op = 'random.randint';
  let minval: number;
  let d: DType;
  if (isOptions(options)) {
    checkArgCount(op, arguments.length, 3, 'randint(key, shape, { low, high, dtype })');
    const o = checkOptions(op, options as unknown as RandintOptions, ['low', 'high', 'dtype']);
    minval = o.low as number;
    maxval = o.high;
    d = dtypeOr(o.dtype, 'int32');
  } else {
    checkArgCount(op, arguments.length, 5, 'randint(key, shape, { low, high, dtype }) or randint(key, shape, minval, maxval, dtype)');
    minval = options as number;
    d = dtypeOr(dtype, 'int32');
  }
  const dims = shapeOf('randint', shape);
  checkDType(d, op);
  if (DTYPES[d].kind !== 'int' && DTYPES[d].kind !== 'uint') throw new DTypeError(`${op}: dtype must be an integer dtype, got ${d}`);
  if (!Number.isSafeInteger(minval) || !Number.isSafeInteger(maxval) || (maxval as number) <= minval || (maxval as number) - minval > 2 ** 32) {
    throw new ArgumentError(`${op}: needs integers low < high with high - low <= 2^32, got [${formatValue(minval)}, ${formatValue(maxval)})`);
  }
  const high = maxval as number;
  const [y0] = bitPairs('randint', key, dims);
  const offset = binary('rightShift', binary('multiply', astype(y0, 'uint64'), high - minval), 32);
  return astype(binary('add', astype(offset, 'int64'), minval), d);
}

/** Options of `bernoulli`. */
export interface BernoulliOptions {
  /** The probability of true (default 0.5); an array broadcasts against the shape. */
  readonly p?: ArrayLike;
}

/**
 * True with probability `p` (default 0.5; an array of probabilities broadcasts against
 * `shape`). Takes `(key, shape, { p })` or JAX's positional `(key, p, shape)`.
 *
 * @example
 * ```ts
 * const coin = ma.random.bernoulli(ma.random.key(4), [8], { p: 0.25 });
 * console.log(coin.dtype, coin.shape); // bool [ 8 ]
 * ```
 */
export function bernoulli(key: MetalArray, pOrShape?: ArrayLike | Shape, shapeOrOptions?: Shape | BernoulliOptions): MetalArray<'bool'>;
export function bernoulli(key: MetalArray, pOrShape: ArrayLike | Shape = 0.5, shapeOrOptions?: Shape | BernoulliOptions): MetalArray {
  const op = 'random.bernoulli';
  checkArgCount(op, arguments.length, 3, 'bernoulli(key, shape, { p }) or bernoulli(key, p, shape)');
  let p: ArrayLike;
  let dims: number[];
  if (isOptions(shapeOrOptions)) {
    const o = checkOptions(op, shapeOrOptions as BernoulliOptions, ['p']);
    p = o.p ?? 0.5;
    dims = shapeOf('bernoulli', pOrShape as Shape);
  } else {
    p = pOrShape as ArrayLike;
    dims = shapeOrOptions === undefined ? (p instanceof MetalArray ? [...p.shape] : []) : shapeOf('bernoulli', shapeOrOptions as Shape);
  }
  return binary('less', unitUniform('bernoulli', key, dims, 'float32'), p);
}

/** Options of `categorical` and `permutation`. */
export interface AxisOptions {
  /** The axis (categorical: the last by default; permutation: 0). */
  readonly axis?: number;
}

/** An axis given as a number or as `{ axis }`. */
function axisOf(op: string, axis: number | AxisOptions | undefined, fallback: number): number {
  if (isOptions(axis)) return checkOptions(op, axis as AxisOptions, ['axis']).axis ?? fallback;
  return (axis as number | undefined) ?? fallback;
}

/**
 * Draws category indices from unnormalized log-probabilities along `axis` (the
 * Gumbel-max trick: argmax of logits plus Gumbel noise). int32. The axis is the last by
 * default, given as a number or `{ axis }`.
 *
 * @example
 * ```ts
 * const logits = ma.log(ma.array([[0.1, 0.9], [0.8, 0.2]]));
 * console.log(ma.random.categorical(ma.random.key(5), logits, { axis: -1 }).shape); // [ 2 ]
 * ```
 */
export function categorical(key: MetalArray, logits: MetalArray, axis?: number | AxisOptions): MetalArray<'int32'>;
export function categorical(key: MetalArray, logits: MetalArray, axis?: number | AxisOptions): MetalArray {
  const op = 'random.categorical';
  checkArgCount(op, arguments.length, 3, 'categorical(key, logits, { axis })');
  if (!(logits instanceof MetalArray)) throw new ArgumentError(`${op}: logits must be a MetalArray, got ${formatValue(logits)}`);
  const ax = axisOf(op, axis, -1);
  const u = openUniform('categorical', key, logits.shape);
  const gumbel = unary('negative', unary('log', unary('negative', unary('log', u))));
  const noisy = binary('add', astype(logits, DTYPES[logits.dtype].kind === 'float' ? logits.dtype : 'float32'), gumbel);
  return argmax(noisy, ax);
}

/**
 * A random permutation: of 0..n-1 (int32) for a number, or of an array's rows (along
 * `axis`, 0 by default). The order is the argsort of 32 random bits per position (a
 * stable sort, so the rare equal keys keep their order: still a permutation).
 *
 * @example
 * ```ts
 * const key = ma.random.key(0);
 * const p = ma.random.permutation(key, 5);
 * console.log(p.sort().tolist()); // [ 0, 1, 2, 3, 4 ]
 * console.log(ma.random.permutation(key, ma.arange(6).reshape(3, 2)).shape); // [ 3, 2 ]
 * ```
 */
export function permutation(key: MetalArray, x: number, options?: number | AxisOptions): MetalArray<'int32'>;
export function permutation<D extends DType>(key: MetalArray, x: MetalArray<D>, options?: number | AxisOptions): MetalArray<D>;
export function permutation(key: MetalArray, x: number | MetalArray, options?: number | AxisOptions): MetalArray {
  checkArgCount('random.permutation', arguments.length, 3, 'permutation(key, x, { axis })');
  checkKey('permutation', key);
  const axis = axisOf('random.permutation', options, 0);
  if (typeof x === 'number') {
    if (!Number.isSafeInteger(x) || x < 0) throw new ArgumentError(`random.permutation: n must be a non-negative integer, got ${x}`);
    return argsort(bits(key, [x]));
  }
  if (!(x instanceof MetalArray)) throw new ArgumentError('random.permutation: expected a number or a MetalArray');
  if (x.ndim === 0) throw new ArgumentError('random.permutation: a zero-dimensional array has nothing to permute');
  const ax = axis < 0 ? axis + x.ndim : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= x.ndim) throw new ArgumentError(`random.permutation: axis ${axis} is out of bounds for rank ${x.ndim}`);
  return take(x, argsort(bits(key, [x.shape[ax]])), ax);
}

// More distributions (issue 22 §3), each an inverse-CDF transform of one open-interval
// uniform draw (no rejection loop, so every draw is one fused kernel).

/** Options of `exponential`, `gumbel`, `laplace`, `logistic` and `cauchy`. */
export interface LocScaleOptions {
  /** A float dtype (default float32). */
  readonly dtype?: DType;
  /** The location (default 0; exponential has none); an array broadcasts against the shape. */
  readonly loc?: ArrayLike;
  /** The scale (default 1); an array broadcasts against the shape. */
  readonly scale?: ArrayLike;
}

/** A uniform draw in the open interval (0, 1) of `dtype` (float16/bfloat16 draw in float32). */
function openUnit(op: string, key: MetalArray, shape: Shape, dtype: DType): MetalArray {
  const dims = shapeOf(op, shape);
  const d = floatDType(op, dtype);
  if (d !== 'float64') return openUniform(op, key, dims);
  const u = unitUniform(op, key, dims, 'float64');
  return binary('add', u, binary('multiply', binary('equal', u, 0), 2 ** -54));
}

/** The draw `x` scaled and shifted, in the requested dtype. */
function locScale(op: string, x: MetalArray, options: LocScaleOptions | undefined, keys: readonly (keyof LocScaleOptions)[]): MetalArray {
  const o = checkOptions(op, options, keys);
  const dtype = floatDType(op, dtypeOr(o.dtype, 'float32'));
  let y = x;
  if (o.scale !== undefined) y = binary('multiply', y, o.scale);
  if (o.loc !== undefined) y = binary('add', y, o.loc);
  return astype(y, dtype);
}

function drawDType(options: LocScaleOptions | undefined): DType {
  return typeof options === 'object' && options !== null && options.dtype !== undefined ? options.dtype : 'float32';
}

/**
 * Exponential numbers with mean `scale` (default 1): `-scale · ln u`, u uniform in (0, 1).
 *
 * @example
 * ```ts
 * const x = ma.random.exponential(ma.random.key(3), [20000], { scale: 2 });
 * console.log(Math.abs((ma.mean(x).item() as number) - 2) < 0.1); // true
 * ```
 */
export function exponential(key: MetalArray, shape: Shape = [], options?: Omit<LocScaleOptions, 'loc'>): MetalArray {
  checkArgCount('random.exponential', arguments.length, 3, 'exponential(key, shape, { dtype, scale })');
  checkKey('random.exponential', key);
  const u = openUnit('random.exponential', key, shape, drawDType(options));
  return locScale('random.exponential', unary('negative', unary('log', u)), options, ['dtype', 'scale']);
}

/**
 * Gumbel numbers (the maximum-value type I law): `loc - scale · ln(-ln u)`.
 *
 * @example
 * ```ts
 * const g = ma.random.gumbel(ma.random.key(4), [20000]);
 * console.log(Math.abs((ma.mean(g).item() as number) - 0.5772) < 0.05); // true
 * ```
 */
export function gumbel(key: MetalArray, shape: Shape = [], options?: LocScaleOptions): MetalArray {
  checkArgCount('random.gumbel', arguments.length, 3, 'gumbel(key, shape, { dtype, loc, scale })');
  checkKey('random.gumbel', key);
  const u = openUnit('random.gumbel', key, shape, drawDType(options));
  return locScale('random.gumbel', unary('negative', unary('log', unary('negative', unary('log', u)))), options, ['dtype', 'loc', 'scale']);
}

/**
 * Laplace (double exponential) numbers: `loc - scale · sign(v) · ln(1 - 2|v|)`, v uniform in (-½, ½).
 *
 * @example
 * ```ts
 * const x = ma.random.laplace(ma.random.key(5), [20000], { loc: 1 });
 * console.log(Math.abs((ma.mean(x).item() as number) - 1) < 0.05); // true
 * ```
 */
export function laplace(key: MetalArray, shape: Shape = [], options?: LocScaleOptions): MetalArray {
  checkArgCount('random.laplace', arguments.length, 3, 'laplace(key, shape, { dtype, loc, scale })');
  checkKey('random.laplace', key);
  const v = binary('subtract', openUnit('random.laplace', key, shape, drawDType(options)), 0.5);
  const x = unary('negative', binary('multiply', unary('sign', v), unary('log1p', binary('multiply', unary('abs', v), -2))));
  return locScale('random.laplace', x, options, ['dtype', 'loc', 'scale']);
}

/**
 * Logistic numbers: `loc + scale · ln(u / (1 - u))`.
 *
 * @example
 * ```ts
 * const x = ma.random.logistic(ma.random.key(6), [20000]);
 * console.log(Math.abs(ma.mean(x).item() as number) < 0.1); // true
 * ```
 */
export function logistic(key: MetalArray, shape: Shape = [], options?: LocScaleOptions): MetalArray {
  checkArgCount('random.logistic', arguments.length, 3, 'logistic(key, shape, { dtype, loc, scale })');
  checkKey('random.logistic', key);
  const u = openUnit('random.logistic', key, shape, drawDType(options));
  return locScale('random.logistic', binary('subtract', unary('log', u), unary('log1p', unary('negative', u))), options, ['dtype', 'loc', 'scale']);
}

/**
 * Cauchy (Lorentz) numbers: `loc + scale · tan(π (u - ½))`. No mean: test them by quantiles.
 *
 * @example
 * ```ts
 * const x = ma.random.cauchy(ma.random.key(7), [20000]);
 * console.log(Math.abs(ma.median(x).item() as number) < 0.05); // true
 * ```
 */
export function cauchy(key: MetalArray, shape: Shape = [], options?: LocScaleOptions): MetalArray {
  checkArgCount('random.cauchy', arguments.length, 3, 'cauchy(key, shape, { dtype, loc, scale })');
  checkKey('random.cauchy', key);
  const u = openUnit('random.cauchy', key, shape, drawDType(options));
  return locScale('random.cauchy', unary('tan', binary('multiply', binary('subtract', u, 0.5), Math.PI)), options, ['dtype', 'loc', 'scale']);
}
