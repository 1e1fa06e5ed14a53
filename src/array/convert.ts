/**
 * Conversions between JS values and the bytes of each dtype: nested arrays, typed
 * arrays, float16/bfloat16 bit patterns, and int64 as bigint.
 */
import { ArgumentError, OverflowError, ShapeError, formatValue } from '../errors.js';
import { type AnyTypedArray, type DType, DTYPES, STORAGE_ARRAY, isInteger, isWide } from '../core/dtype.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → float16 bits, round to nearest even. */
export function floatToHalfBits(x: number): number {
  f32[0] = x;
  const u = u32[0];
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00 | ((a >>> 13) & 0x3ff);
  // Round from the double directly to avoid double rounding through float32.
  const ax = Math.abs(x);
  if (ax >= 65520) return sign | 0x7c00;
  if (ax < 2 ** -14) return sign | roundHalfEven(ax * 2 ** 24);
  const e = Math.floor(Math.log2(ax));
  const exp = ax >= 2 ** (e + 1) ? e + 1 : ax < 2 ** e ? e - 1 : e;
  const m = roundHalfEven((ax / 2 ** exp - 1) * 1024);
  return sign | (((exp + 15) << 10) + m);
}

/** float16 bits → number. */
export function halfBitsToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  if (e === 0) return s * m * 2 ** -24;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** number → bfloat16 bits, round to nearest even (from the double). */
export function floatToBfloatBits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  f32[0] = x;
  const sign = (u32[0] >>> 16) & 0x8000;
  const ax = Math.abs(x);
  if (ax >= 3.3961775292304e38) return sign | 0x7f80;
  if (ax === 0) return sign;
  if (ax < 2 ** -126) return sign | roundHalfEven(ax * 2 ** 133);
  const e = Math.floor(Math.log2(ax));
  const exp = ax >= 2 ** (e + 1) ? e + 1 : ax < 2 ** e ? e - 1 : e;
  const m = roundHalfEven((ax / 2 ** exp - 1) * 128);
  return sign | (((exp + 127) << 7) + m);
}

/** bfloat16 bits → number. */
export function bfloatBitsToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Converts a JS scalar to the value a const node of `dtype` holds (casts as astype would). */
export function scalarFor(value: number | boolean | bigint, dtype: DType): number | bigint | boolean {
  const info = DTYPES[dtype];
  if (info.kind === 'bool') return typeof value === 'bigint' ? value !== 0n : Boolean(value) && !(typeof value === 'number' && value === 0);
  if (info.kind === 'float') return typeof value === 'boolean' ? Number(value) : Number(value);
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'boolean') big = value ? 1n : 0n;
  else if (Number.isNaN(value)) big = 0n;
  else if (!Number.isFinite(value)) big = value > 0 ? info.max : info.min;
  else big = BigInt(Math.trunc(value));
  // Weak scalars wrap into the array's integer type (C cast semantics).
  big = info.kind === 'int' ? BigInt.asIntN(info.bits, big) : BigInt.asUintN(info.bits, big);
  return isWide(dtype) ? big : Number(big);
}

/** Each dtype's range as doubles (for 64-bit types rounded up to 2^63 / 2^64, refined with bigints). */
const NUMBER_MIN = Object.fromEntries(Object.values(DTYPES).map((i) => [i.name, Number(i.min)])) as Record<DType, number>;
const NUMBER_MAX = Object.fromEntries(Object.values(DTYPES).map((i) => [i.name, Number(i.max)])) as Record<DType, number>;

/**
 * A JS value as an element of integer `dtype`, exactly (NumPy 2's rule for Python
 * ints): a finite number is truncated toward zero (`1.9` → 1, as `np.array([1.9], int)`),
 * and a value whose integer part is outside the dtype's range, NaN or ±Infinity is an
 * `OverflowError` naming the value and the dtype. `astype` is the saturating conversion.
 */
export function exactInteger(value: number | boolean | bigint, dtype: DType, op: string): number | bigint {
  const info = DTYPES[dtype];
  if (typeof value === 'boolean') return isWide(dtype) ? BigInt(value) : Number(value);
  if (typeof value === 'number') {
    const t = Math.trunc(value);
    // NaN fails both comparisons, so it lands here too.
    if (!(t >= NUMBER_MIN[dtype] && t <= NUMBER_MAX[dtype])) throw overflow(op, value, dtype);
    if (!isWide(dtype)) return t;
    const big = BigInt(t);
    if (big < info.min || big > info.max) throw overflow(op, value, dtype); // 2**63 passes the double comparison
    return big;
  }
  if (value < info.min || value > info.max) throw overflow(op, value, dtype);
  return isWide(dtype) ? value : Number(value);
}

function overflow(op: string, value: number | bigint, dtype: DType): OverflowError {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return new OverflowError(`${op}: ${formatValue(value)} cannot be converted to ${dtype} (integers have no NaN or Infinity); use a float dtype`);
  }
  const info = DTYPES[dtype];
  return new OverflowError(
    `${op}: ${formatValue(value)} is out of range for ${dtype} (${info.min} to ${info.max}); pick a wider dtype, or use astype for a saturating conversion`,
  );
}

/** One value as the storage typed array of a float or bool `dtype` holds it. */
function storeInexact(v: number | boolean | bigint, dtype: DType): number {
  if (dtype === 'float16') return floatToHalfBits(Number(v));
  if (dtype === 'bfloat16') return floatToBfloatBits(Number(v));
  if (DTYPES[dtype].kind === 'float') return Number(v);
  return (typeof v === 'number' ? v !== 0 : Boolean(v)) ? 1 : 0; // bool: NaN → true, as astype
}

/** Nested JS arrays (or a scalar) → shape and flat values. */
export function flattenNested(values: unknown, op: string): { shape: number[]; flat: (number | boolean | bigint)[] } {
  const shape: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: (number | boolean | bigint)[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint') {
        throw new ArgumentError(`${op}: expected numbers, booleans or bigints, found ${v === null ? 'null' : typeof v}`);
      }
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new ShapeError(`${op}: ragged nested array: expected length ${shape[depth]} at depth ${depth}, found ${Array.isArray(v) ? v.length : 'a scalar'}`);
    }
    for (const x of v) walk(x, depth + 1);
  };
  walk(values, 0);
  return { shape, flat };
}

/**
 * Flat JS values → the storage typed array of `dtype`. Integer dtypes take the values
 * exactly (`exactInteger`: OverflowError for a value that does not fit, naming `op`);
 * floats round to the dtype, bool is `x != 0`.
 */
export function toStorage(flat: ArrayLike<number | boolean | bigint>, dtype: DType, op: string): AnyTypedArray {
  const out = new STORAGE_ARRAY[dtype](flat.length) as unknown as (number | bigint)[];
  if (isInteger(dtype)) for (let i = 0; i < flat.length; i++) out[i] = exactInteger(flat[i], dtype, op);
  else for (let i = 0; i < flat.length; i++) out[i] = storeInexact(flat[i], dtype);
  return out as unknown as AnyTypedArray;
}

/** The dtype a typed array implies. */
export function dtypeOfTypedArray(t: AnyTypedArray): DType {
  if (t instanceof Float64Array) return 'float64';
  if (t instanceof Float32Array) return 'float32';
  if (t instanceof Int32Array) return 'int32';
  if (t instanceof Uint32Array) return 'uint32';
  if (t instanceof Int16Array) return 'int16';
  if (t instanceof Uint16Array) return 'uint16';
  if (t instanceof Int8Array) return 'int8';
  if (t instanceof BigInt64Array) return 'int64';
  if (t instanceof BigUint64Array) return 'uint64';
  return 'uint8';
}

/** Storage bits → the typed array users read (float16/bfloat16 widen to float32). */
export function fromStorage(raw: AnyTypedArray, dtype: DType): AnyTypedArray {
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const out = new Float32Array(raw.length);
    const conv = dtype === 'float16' ? halfBitsToFloat : bfloatBitsToFloat;
    for (let i = 0; i < raw.length; i++) out[i] = conv(raw[i] as number);
    return out;
  }
  return raw;
}

/** True for any typed array (not DataView). */
export function isTypedArray(x: unknown): x is AnyTypedArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}
