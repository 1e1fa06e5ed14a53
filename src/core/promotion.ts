/**
 * Type promotion (JAX/MLX lattice) and weak JS scalars. See docs/semantics.md.
 */
import { DTYPE_NAMES, DTYPES, type DType, checkDType } from './dtype.js';

const SIGNED_BY_BITS: Record<number, DType> = { 8: 'int8', 16: 'int16', 32: 'int32', 64: 'int64' };

function promotePair(a: DType, b: DType): DType {
  if (a === b) return a;
  const ia = DTYPES[a];
  const ib = DTYPES[b];
  if (ia.kind === 'bool') return b;
  if (ib.kind === 'bool') return a;
  if (ia.kind === 'float' || ib.kind === 'float') {
    if (ia.kind !== 'float') return b;
    if (ib.kind !== 'float') return a;
    if (ia.bits !== ib.bits) return ia.bits > ib.bits ? a : b;
    return 'float32'; // float16 with bfloat16
  }
  if (ia.kind === ib.kind) return ia.bits >= ib.bits ? a : b;
  const [u, s] = ia.kind === 'uint' ? [ia, ib] : [ib, ia];
  if (s.bits > u.bits) return s.name;
  if (u.bits === 64) return 'float32';
  return SIGNED_BY_BITS[u.bits * 2];
}

// The 13x13 table, precomputed once so promotion on the hot path is one lookup.
const N = DTYPE_NAMES.length;
const TABLE: DType[] = new Array(N * N);
for (const a of DTYPE_NAMES) for (const b of DTYPE_NAMES) TABLE[DTYPES[a].id * N + DTYPES[b].id] = promotePair(a, b);

/**
 * The dtype two array dtypes promote to.
 *
 * @example
 * ```ts
 * console.log(ma.promoteTypes('uint8', 'int8')); // int16
 * ```
 */
export function promoteTypes(a: DType, b: DType): DType {
  checkDType(a, 'promoteTypes');
  checkDType(b, 'promoteTypes');
  return TABLE[DTYPES[a].id * N + DTYPES[b].id];
}

/**
 * The dtype of `array op scalar` for a weak JS scalar: the array's dtype unless the
 * scalar can't be held by its kind (a fraction with an integer array, a number with a
 * bool array).
 */
export function weakScalarDType(arrayDType: DType, scalar: number | boolean | bigint): DType {
  const kind = DTYPES[arrayDType].kind;
  if (typeof scalar === 'boolean') return arrayDType;
  if (kind === 'float') return arrayDType;
  const integral = typeof scalar === 'bigint' || Number.isInteger(scalar);
  if (kind === 'bool') return integral ? 'int32' : 'float32';
  return integral ? arrayDType : 'float32';
}

/** The dtype of a lone JS scalar (both operands of an op are JS values). */
export function scalarDefaultDType(scalar: number | boolean | bigint): DType {
  if (typeof scalar === 'boolean') return 'bool';
  if (typeof scalar === 'bigint') return 'int64';
  return 'float32';
}

/** The float dtype integer inputs become for float-valued ops. */
export function floatResult(d: DType): DType {
  return DTYPES[d].kind === 'float' ? d : 'float32';
}
