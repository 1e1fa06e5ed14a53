/**
 * NumPy-style printing: `array([[1, 2], [3, 4]], dtype=int32)`, with `...` past
 * 1000 elements (3 edge items per axis), floats in a shared compact format.
 */
import type { AnyTypedArray, DType } from '../core/dtype.js';
import { bfloatBitsToFloat, floatToBfloatBits, floatToHalfBits, halfBitsToFloat } from './convert.js';

const THRESHOLD = 1000;
const EDGE = 3;

const ROUND_TO: Partial<Record<DType, (x: number) => number>> = {
  float16: (x) => halfBitsToFloat(floatToHalfBits(x)),
  bfloat16: (x) => bfloatBitsToFloat(floatToBfloatBits(x)),
  float32: Math.fround,
};

/** The fewest significant digits that read back as the same value of the dtype. */
function shortestDigits(x: number, dtype: DType): number {
  const round = ROUND_TO[dtype];
  if (!round) return 17;
  for (let p = 1; p < 17; p++) if (round(Number(x.toPrecision(p))) === x) return p;
  return 17;
}

function formatFloat(x: number, dtype: DType): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  if (Object.is(x, -0)) return '-0.';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.`;
  const a = Math.abs(x);
  const p = shortestDigits(x, dtype);
  if (a >= 1e16 || a < 1e-4) return x.toExponential(p - 1).replace(/\.?0+e/, 'e');
  return String(Number(x.toPrecision(p)));
}

/** Formats values of `shape` (row-major, already read back) NumPy-style. */
export function formatArray(values: AnyTypedArray, shape: readonly number[], dtype: DType): string {
  const size = values.length;
  const truncate = size > THRESHOLD;
  const isFloatType = dtype.startsWith('float') || dtype === 'bfloat16';
  const fmt = (v: number | bigint): string => {
    if (dtype === 'bool') return v ? 'True' : 'False';
    if (typeof v === 'bigint') return v.toString();
    return isFloatType ? formatFloat(v, dtype) : String(v);
  };
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  // Width of the widest shown element so columns line up.
  let width = 0;
  const shown = (dim: number, offset: number, visit: (off: number) => void): void => {
    if (dim === shape.length) {
      visit(offset);
      return;
    }
    const n = shape[dim];
    for (let i = 0; i < n; i++) {
      if (truncate && n > 2 * EDGE && i === EDGE) i = n - EDGE;
      shown(dim + 1, offset + i * strides[dim], visit);
    }
  };
  shown(0, 0, (off) => {
    width = Math.max(width, fmt(values[off]).length);
  });
  const prefix = 'array(';
  const render = (dim: number, offset: number, indent: string): string => {
    if (dim === shape.length) return fmt(values[offset]).padStart(width);
    const n = shape[dim];
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      if (truncate && n > 2 * EDGE && i === EDGE) {
        parts.push('...');
        i = n - EDGE;
      }
      parts.push(render(dim + 1, offset + i * strides[dim], `${indent} `));
    }
    const sep = dim === shape.length - 1 ? ', ' : `,${'\n'.repeat(shape.length - 1 - dim)}${indent} `;
    return `[${parts.join(sep)}]`;
  };
  const body = shape.length === 0 ? fmt(values[0]) : size === 0 ? '[]' : render(0, 0, ' '.repeat(prefix.length));
  const showDtype = !(dtype === 'float32' || dtype === 'bool' || dtype === 'int32');
  const extra = size === 0 ? `, shape=[${shape.join(', ')}]` : '';
  return `${prefix}${body}${extra}${showDtype || size === 0 ? `, dtype=${dtype}` : ''})`;
}
