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

/** Non-finite values as NumPy prints them. */
function nonFinite(x: number): string {
  return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
}

/** The fewest fractional digits (at most 8, NumPy's precision) that read back as `x` in its dtype. */
function fractionDigits(x: number, dtype: DType): number {
  const round = ROUND_TO[dtype] ?? ((v: number) => v);
  for (let k = 0; k < 8; k++) if (round(Number(x.toFixed(k))) === x) return k;
  return 8;
}

/**
 * NumPy's float formatter for the shown values (floatmode 'maxprec', precision 8): one
 * mode for all of them. Scientific when the largest magnitude is 1e8 or more, the
 * smallest non-zero one below 1e-4, or their ratio above 1000; then every mantissa has
 * the same number of digits (zero-padded) and a two-digit exponent (`1.5e-05`).
 * Otherwise positional, each value with the fewest digits that read back, aligned on
 * the decimal point (`[0.  , 0.25, 0.5 ]`).
 */
function floatFormatter(shown: readonly number[], dtype: DType): (x: number) => string {
  let max = 0;
  let min = Number.POSITIVE_INFINITY;
  for (const x of shown) {
    const a = Math.abs(x);
    if (!Number.isFinite(a) || a === 0) continue;
    if (a > max) max = a;
    if (a < min) min = a;
  }
  const scientific = max > 0 && (max >= 1e8 || min < 1e-4 || max / min > 1e3);
  if (scientific) {
    let digits = 0;
    for (const x of shown) if (Number.isFinite(x) && x !== 0) digits = Math.max(digits, Math.min(8, shortestDigits(x, dtype) - 1));
    return (x) => {
      if (!Number.isFinite(x)) return nonFinite(x);
      const [mantissa, exponent] = x.toExponential(digits).split('e');
      const sign = exponent.startsWith('-') ? '-' : '+';
      const text = `${mantissa}${digits === 0 ? '.' : ''}e${sign}${exponent.replace(/^[-+]/, '').padStart(2, '0')}`;
      return Object.is(x, -0) ? `-${text}` : text;
    };
  }
  let left = 0;
  let right = 0;
  const parts = (x: number): [string, string] => {
    // At the 8-digit cap the digits are rounded, and trailing zeros go (0.1 + 0.2 prints 0.3).
    const text = x.toFixed(fractionDigits(x, dtype));
    const [whole, digits = ''] = text.split('.');
    const fraction = digits.replace(/0+$/, '');
    return [Object.is(x, -0) ? '-0' : whole, fraction];
  };
  for (const x of shown) {
    if (!Number.isFinite(x)) continue;
    const [whole, fraction] = parts(x);
    left = Math.max(left, whole.length);
    right = Math.max(right, fraction.length);
  }
  return (x) => {
    if (!Number.isFinite(x)) return nonFinite(x);
    const [whole, fraction] = parts(x);
    return `${whole.padStart(left)}.${fraction.padEnd(right)}`;
  };
}

/** Visits the offsets of the elements printed (all, or 3 per edge of each axis past the threshold). */
function visitShown(shape: readonly number[], strides: readonly number[], truncate: boolean, visit: (off: number) => void, dim = 0, offset = 0): void {
  if (dim === shape.length) {
    visit(offset);
    return;
  }
  const n = shape[dim];
  for (let i = 0; i < n; i++) {
    if (truncate && n > 2 * EDGE && i === EDGE) i = n - EDGE;
    visitShown(shape, strides, truncate, visit, dim + 1, offset + i * strides[dim]);
  }
}

/** Formats values of `shape` (row-major, already read back) NumPy-style. */
export function formatArray(values: AnyTypedArray, shape: readonly number[], dtype: DType): string {
  const size = values.length;
  const truncate = size > THRESHOLD;
  const isFloatType = dtype.startsWith('float') || dtype === 'bfloat16';
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  let formatFloat: (x: number) => string = String;
  if (isFloatType) {
    const shownValues: number[] = [];
    if (shape.length === 0) shownValues.push(values[0] as number);
    else if (size > 0) visitShown(shape, strides, truncate, (off) => shownValues.push(values[off] as number));
    formatFloat = floatFormatter(shownValues, dtype);
  }
  const fmt = (v: number | bigint): string => {
    if (dtype === 'bool') return v ? 'True' : 'False';
    if (typeof v === 'bigint') return v.toString();
    return isFloatType ? formatFloat(v) : String(v);
  };
  // Width of the widest shown element so columns line up.
  let width = 0;
  if (size > 0) {
    visitShown(shape, strides, truncate, (off) => {
      width = Math.max(width, fmt(values[off]).length);
    });
  }
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
