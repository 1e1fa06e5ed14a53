/**
 * NumPy's `cov`, `corrcoef` and `histogram` (issue 22 §3). Compositions of means, a
 * matrix product, comparisons and a scatter-add: lazy (a histogram's automatic range is
 * the data's min and max, computed in the graph) and differentiable where the math is
 * (cov, corrcoef). Integer inputs compute in float32 (NumPy: float64).
 */
import type { MetalArray } from '../array/array.js';
import { zeros } from '../array/creation.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { ArgumentError, formatValue, ShapeError } from '../errors.js';
import { astype, binary, unary, where } from './elementwise.js';
import { take } from './indexing.js';
import { concatenate } from './join.js';
import { matmul } from './matmul.js';
import { reshape, transpose } from './movement.js';
import { asArrays, asFloats } from './numeric.js';
import type { ArrayLike } from './operand.js';
import { arange } from './ranges.js';
import { reduceOp } from './reduce-core.js';

/** Options of `cov` and `corrcoef`. */
export interface CovOptions {
  /** A second set of variables, stacked after `m`'s. */
  readonly y?: MetalArray;
  /** Each row is a variable and each column an observation (default true); false: the transpose. */
  readonly rowvar?: boolean;
  /** Normalize by N instead of N - 1 (default false). */
  readonly bias?: boolean;
  /** Delta degrees of freedom: the divisor is N - ddof (overrides bias). */
  readonly ddof?: number;
}

function covOf(op: string, m: ArrayLike, options: CovOptions | undefined, keys: readonly (keyof CovOptions)[]): MetalArray {
  const o = checkOptions(op, options, keys);
  const rowvar = o.rowvar ?? true;
  const asVariables = (v: MetalArray): MetalArray => {
    if (v.ndim > 2) throw new ShapeError(`${op}: expected 1-D or 2-D input, got shape [${v.shape}]`);
    const two = v.ndim < 2 ? reshape(v, [1, -1]) : v;
    return !rowvar && two.shape[0] !== 1 ? transpose(two) : two;
  };
  const inputs: ArrayLike[] = o.y === undefined ? [m] : [m, o.y];
  const floats = asFloats(op, inputs).map(asVariables);
  const x = floats.length === 1 ? floats[0] : concatenate(floats, 0);
  const n = x.shape[1];
  if (o.ddof !== undefined && (typeof o.ddof !== 'number' || !Number.isSafeInteger(o.ddof))) {
    throw new ArgumentError(`${op}: ddof must be an integer, got ${formatValue(o.ddof)}`);
  }
  const ddof = o.ddof ?? (o.bias === true ? 0 : 1);
  const centered = binary('subtract', x, binary('divide', reduceOp('sum', x, 1, true, op), n));
  const c = binary('divide', matmul(centered, transpose(centered)), Math.max(n - ddof, 0));
  return x.shape[0] === 1 ? reshape(c, []) : c;
}

/**
 * The covariance matrix of the variables in the rows of `m` (NumPy's `cov`; a single
 * variable gives a 0-d array). Divides by N - 1 unless `bias` or `ddof` say otherwise.
 *
 * @example
 * ```ts
 * const m = ma.array([[0, 1, 2], [2, 1, 0]], 'float32');
 * console.log(ma.cov(m).tolist()); // [ [ 1, -1 ], [ -1, 1 ] ]
 * ```
 */
export function cov(m: ArrayLike, options?: CovOptions): MetalArray {
  checkArgCount('cov', arguments.length, 2, 'cov(m, { y, rowvar, bias, ddof })');
  return covOf('cov', m, options, ['y', 'rowvar', 'bias', 'ddof']);
}

/**
 * Pearson correlation coefficients of the variables in the rows of `x` (NumPy's
 * `corrcoef`), clipped to [-1, 1].
 *
 * @example
 * ```ts
 * const x = ma.array([[1, 2, 3], [6, 4, 2]], 'float64');
 * console.log(ma.corrcoef(x).tolist()); // [ [ 1, -1 ], [ -1, 1 ] ]
 * ```
 */
export function corrcoef(x: ArrayLike, options?: Omit<CovOptions, 'bias' | 'ddof'>): MetalArray {
  checkArgCount('corrcoef', arguments.length, 2, 'corrcoef(x, { y, rowvar })');
  const c = covOf('corrcoef', x, options, ['y', 'rowvar']);
  if (c.ndim === 0) return binary('divide', c, c);
  const k = c.shape[0];
  const d = take(
    reshape(c, [-1]),
    Int32Array.from({ length: k }, (_, i) => i * k + i),
  );
  const s = unary('sqrt', d);
  const r = binary('divide', binary('divide', c, reshape(s, [k, 1])), reshape(s, [1, k]));
  return binary('minimum', binary('maximum', r, -1), 1);
}

/** Options of `histogram`. */
export interface HistogramOptions {
  /** The number of equal-width bins (default 10), or the bin edges (1-D, ascending). */
  readonly bins?: number | MetalArray;
  /** The range [lo, hi] of equal-width bins (default: the data's min and max; values outside are ignored). */
  readonly range?: readonly [number, number];
  /** A weight per value (`a`'s shape): the bins sum them instead of counting. */
  readonly weights?: MetalArray;
  /** Return a probability density (each bin's count / total / bin width) instead of counts. */
  readonly density?: boolean;
}

/**
 * NumPy's `histogram`: `[hist, binEdges]`, the last bin closed on the right. Counts are
 * int32 (float with weights or density). Without `range` the edges come from the data's
 * min and max in the graph (no host read); data holding NaN then gives NaN edges (NumPy raises).
 *
 * @example
 * ```ts
 * const [hist, edges] = ma.histogram(ma.array([1, 2, 2, 4], 'float32'), { bins: 3 });
 * console.log(hist.tolist(), edges.tolist()); // [ 1, 2, 1 ] [ 1, 2, 3, 4 ]
 * ```
 */
export function histogram(a: ArrayLike, options?: HistogramOptions): [MetalArray, MetalArray] {
  checkArgCount('histogram', arguments.length, 2, 'histogram(a, { bins, range, weights, density })');
  const o = checkOptions('histogram', options, ['bins', 'range', 'weights', 'density']);
  const [x0] = asFloats('histogram', [a]);
  const x = reshape(x0, [-1]);
  const bins = o.bins ?? 10;
  let edges: MetalArray;
  let index: MetalArray;
  let nbins: number;
  if (typeof bins === 'number') {
    if (!Number.isSafeInteger(bins) || bins < 1)
      throw new ArgumentError(`histogram: bins must be a positive integer or an array of edges, got ${formatValue(bins)}`);
    nbins = bins;
    let lo: MetalArray | number;
    let hi: MetalArray | number;
    if (o.range !== undefined) {
      const [r0, r1] = o.range;
      if (!(typeof r0 === 'number' && typeof r1 === 'number' && r0 <= r1 && Number.isFinite(r0) && Number.isFinite(r1))) {
        throw new ArgumentError(`histogram: range must be [lo, hi] with finite lo <= hi, got ${formatValue(o.range)}`);
      }
      [lo, hi] = r0 === r1 ? [r0 - 0.5, r1 + 0.5] : [r0, r1];
    } else if (x.shape[0] === 0) {
      [lo, hi] = [0, 1];
    } else {
      const mn = reduceOp('min', x, null, false, 'histogram');
      const mx = reduceOp('max', x, null, false, 'histogram');
      const same = binary('equal', mn, mx);
      lo = where(same, binary('subtract', mn, 0.5), mn);
      hi = where(same, binary('add', mx, 0.5), mx);
    }
    // NumPy's linspace(lo, hi, n + 1): lo + k * step, the last edge exactly hi.
    const k = astype(arange(nbins + 1, { dtype: 'int32' }), x.dtype);
    const step = binary('divide', binary('subtract', hi, lo), nbins);
    edges = where(binary('equal', k, nbins), binary('add', binary('multiply', k, 0), hi), binary('add', lo, binary('multiply', k, step)));
    // NumPy's binning: a first guess from the scaled position, then corrected against the edges.
    const scaled = binary('multiply', binary('divide', binary('subtract', x, lo), binary('subtract', hi, lo)), nbins);
    let guess: MetalArray = astype(binary('minimum', binary('maximum', unary('floor', where(unary('isnan', scaled), 0, scaled)), 0), nbins - 1), 'int32');
    guess = where(binary('less', x, take(edges, guess)), binary('maximum', binary('subtract', guess, 1), 0), guess);
    const up = binary('logicalAnd', binary('greaterEqual', x, take(edges, binary('add', guess, 1))), binary('notEqual', guess, nbins - 1));
    index = where(up, binary('add', guess, 1), guess);
  } else {
    const [e] = asFloats('histogram', [bins, x0]);
    if (e.ndim !== 1 || e.shape[0] < 2) throw new ShapeError(`histogram: bin edges must be 1-D with at least 2 entries, got shape [${e.shape}]`);
    edges = e;
    nbins = e.shape[0] - 1;
    // The last edge with edges[j] <= x, the last bin closed on the right.
    const col = reshape(x, [-1, 1]);
    const below = reduceOp('sum', astype(binary('lessEqual', edges, col), 'int32'), -1, false, 'histogram');
    index = binary('minimum', binary('subtract', below, 1), nbins - 1);
  }
  const first = take(edges, Int32Array.of(0)).reshape([]);
  const last = take(edges, Int32Array.of(nbins)).reshape([]);
  const inside = binary('logicalAnd', binary('greaterEqual', x, first), binary('lessEqual', x, last));
  // Values outside the range go to index nbins, which the scatter drops.
  const target = where(inside, index, nbins);
  let hist: MetalArray;
  if (o.weights !== undefined) {
    const [w0] = asArrays('histogram', [o.weights]);
    if (w0.shape.join(',') !== x0.shape.join(',')) throw new ShapeError(`histogram: weights of shape [${w0.shape}] must match a's shape [${x0.shape}]`);
    const w = reshape(w0, [-1]);
    hist = zeros([nbins], w.dtype === 'bool' ? 'int32' : w.dtype)
      .at(target)
      .add(w);
  } else {
    hist = zeros([nbins], 'int32').at(target).add(1);
  }
  if (o.density === true) {
    const widths = binary('subtract', edges.slice('1:'), edges.slice(':-1'));
    const h = astype(hist, x.dtype);
    hist = binary('divide', binary('divide', h, reduceOp('sum', h, null, false, 'histogram')), widths);
  }
  return [hist, edges];
}
