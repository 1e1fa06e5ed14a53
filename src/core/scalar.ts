/**
 * Casting a constant's value between dtypes with the same semantics as the generated
 * kernels' casts (docs/semantics.md): float → int truncates, NaN → 0, saturates;
 * int → int wraps; anything → bool is `x != 0`.
 */
import { DTYPES, type DType, isWide } from './dtype.js';
import type { ScalarValue } from './node.js';

/** The value `v` (held in dtype `from`) converted to dtype `to`. */
export function castScalar(v: ScalarValue, from: DType, to: DType): ScalarValue {
  const info = DTYPES[to];
  const fromFloat = DTYPES[from].kind === 'float';
  if (info.kind === 'bool') return typeof v === 'bigint' ? v !== 0n : typeof v === 'boolean' ? v : v !== 0;
  if (info.kind === 'float') return typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
  let big: bigint;
  if (typeof v === 'boolean') big = v ? 1n : 0n;
  else if (typeof v === 'bigint') big = v;
  else if (Number.isNaN(v)) big = 0n;
  else if (fromFloat || !Number.isInteger(v)) {
    // Saturating conversion from a float.
    if (v >= Number(info.max) + 1) big = info.max;
    else if (v <= Number(info.min) - 1) big = info.min;
    else big = BigInt(Math.trunc(v));
    if (big > info.max) big = info.max;
    if (big < info.min) big = info.min;
  } else big = BigInt(v);
  big = info.kind === 'int' ? BigInt.asIntN(info.bits, big) : BigInt.asUintN(info.bits, big);
  return isWide(to) ? big : Number(big);
}
