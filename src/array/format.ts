/**
 * NumPy-style printing: `array([[1, 2], [3, 4]], dtype=int32)`, with `...` past
 * 1000 elements (3 edge items per axis), floats in a shared compact format, rows
 * wrapped at 75 characters as NumPy's repr does.
 */
import type { AnyTypedArray, DType } from '../core/dtype.js';
import { bfloatBitsToFloat, floatToBfloatBits, floatToHalfBits, halfBitsToFloat } from './convert.js';

const THRESHOLD = 1000;
/** NumPy's default linewidth. */
const LINE_WIDTH = 75;
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
  // NumPy's _formatArray: rows of the last axis wrap at LINE_WIDTH, continuing under the
  // first element; the ',' or ')' after the body counts against the width.
  const render = (dim: number, offset: number, hanging: string, currWidth: number): string => {
    if (dim === shape.length) return fmt(values[offset]).padStart(width);
    const n = shape[dim];
    const stride = strides[dim];
    const summary = truncate && n > 2 * EDGE;
    const leading = summary ? EDGE : 0;
    const trailing = summary ? EDGE : n;
    const nested = (i: number): string => render(dim + 1, offset + i * stride, `${hanging} `, currWidth - 1);
    let s = '';
    if (dim === shape.length - 1) {
      const elemWidth = currWidth - 1;
      let line = hanging;
      const extend = (word: string): void => {
        // Wrapping a line that holds nothing but the indent would not help.
        if (line.length + word.length > elemWidth && line.length > hanging.length) {
          s += `${line.trimEnd()}\n`;
          line = hanging;
        }
        line += word;
      };
      for (let i = 0; i < leading; i++) {
        extend(nested(i));
        line += ', ';
      }
      if (summary) {
        extend('...');
        line += ', ';
      }
      for (let i = trailing; i > 1; i--) {
        extend(nested(n - i));
        line += ', ';
      }
      extend(nested(n - 1));
      s += line;
    } else {
      const lineSep = `,${'\n'.repeat(shape.length - 1 - dim)}`;
      for (let i = 0; i < leading; i++) s += `${hanging}${nested(i)}${lineSep}`;
      if (summary) s += `${hanging}...${lineSep}`;
      for (let i = trailing; i > 1; i--) s += `${hanging}${nested(n - i)}${lineSep}`;
      s += `${hanging}${nested(n - 1)}`;
    }
    return `[${s.slice(hanging.length)}]`;
  };
  const showDtype = !(dtype === 'float32' || dtype === 'bool' || dtype === 'int32') || size === 0;
  const body =
    shape.length === 0 ? fmt(values[0]) : size === 0 ? `[], shape=[${shape.join(', ')}]` : render(0, 0, ' '.repeat(prefix.length + 1), LINE_WIDTH - 1);
  if (!showDtype) return `${prefix}${body})`;
  // As NumPy: the dtype goes on a line of its own when it would run past the width.
  const text = `${prefix}${body},`;
  const dtypeText = `dtype=${dtype})`;
  const lastLine = text.length - (text.lastIndexOf('\n') + 1);
  return `${text}${lastLine + dtypeText.length + 1 > LINE_WIDTH ? `\n${' '.repeat(prefix.length)}` : ' '}${dtypeText}`;
}
