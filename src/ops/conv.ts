/**
 * Convolutions, channels last as MLX: an input is [N, ...spatial, C] (NLC, NHWC, NDHWC)
 * and a weight is [O, ...kernel, C / groups]. Each one is a composition of existing
 * differentiable ops: padding (and zero interleaving for input dilation), one strided
 * view per kernel offset, stacked into an im2col matrix, then one matmul (a batched
 * matmul over groups). VJP, JVP and vmap therefore come from the rules of those ops;
 * there is no convolution primitive to keep rules for.
 */
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { pad } from './indexing.js';
import { concatenate } from './join.js';
import { matmul } from './matmul.js';
import { basicSlice, expandDims, flip, reshape, transpose, type RangeTriple } from './movement.js';

/** One value for every spatial axis, or one per axis. */
export type PerAxis = number | readonly number[];

/** Zero padding: one width for every side, one per axis, or a [low, high] pair per axis. */
export type ConvPadding = number | readonly number[] | readonly (readonly [number, number])[];

/** Options of `convGeneral` (every key optional; defaults in brackets). */
export interface ConvGeneralOptions {
  /** Step between output positions [1]. */
  readonly stride?: PerAxis;
  /** Zero padding of the (input-dilated) input, negative widths crop [0]. */
  readonly padding?: ConvPadding;
  /** Spacing between kernel taps (kernel dilation) [1]. */
  readonly dilation?: PerAxis;
  /** Spacing between input elements: `d - 1` zeros are inserted between neighbours [1]. */
  readonly inputDilation?: PerAxis;
  /** Channel groups: input and output channels split into `groups` independent convolutions [1]. */
  readonly groups?: number;
  /** Flip the kernel spatially (a true convolution rather than a cross-correlation) [false]. */
  readonly flip?: boolean;
}

/** Options of `conv1d` and `conv2d`. */
export interface ConvOptions {
  /** Step between output positions [1]. */
  readonly stride?: PerAxis;
  /** Zero padding, widths or [low, high] pairs per spatial axis [0]. */
  readonly padding?: ConvPadding;
  /** Spacing between kernel taps [1]. */
  readonly dilation?: PerAxis;
  /** Channel groups [1]; the weight's last axis is C / groups. */
  readonly groups?: number;
}

/** Options of `convTranspose1d` and `convTranspose2d`. */
export interface ConvTransposeOptions extends ConvOptions {
  /** Extra output positions added at the high end of each spatial axis [0]; less than the stride or the dilation. */
  readonly outputPadding?: PerAxis;
}

export function perAxis(op: string, name: string, value: unknown, dims: number, fallback: number, min: number): number[] {
  if (value === undefined) return new Array<number>(dims).fill(fallback);
  const list = typeof value === 'number' ? new Array<number>(dims).fill(value) : value;
  if (!Array.isArray(list) || list.length !== dims || !list.every((v) => Number.isInteger(v) && v >= min)) {
    throw new ArgumentError(`${op}: ${name} must be an integer >= ${min} or ${dims} of them (one per spatial axis), got ${formatValue(value)}`);
  }
  return list as number[];
}

export function paddingPairs(op: string, value: unknown, dims: number): [number, number][] {
  if (value === undefined) return new Array(dims).fill(0).map(() => [0, 0]);
  if (Number.isInteger(value)) return new Array(dims).fill(0).map(() => [value as number, value as number]);
  if (Array.isArray(value) && value.length === dims) {
    if (value.every((v) => Number.isInteger(v))) return value.map((v: number) => [v, v]);
    if (value.every((p) => Array.isArray(p) && p.length === 2 && p.every((v: unknown) => Number.isInteger(v)))) {
      return value.map((p: [number, number]) => [p[0], p[1]]);
    }
  }
  throw new ArgumentError(`${op}: padding must be an integer, ${dims} integers or ${dims} [low, high] pairs (one per spatial axis), got ${formatValue(value)}`);
}

/** Inserts `d - 1` zeros between neighbours along `axis` (a new axis padded by d - 1 zeros, a reshape, a crop). */
function dilateAxis(x: MetalArray, axis: number, d: number): MetalArray {
  const n = x.shape[axis];
  if (d === 1 || n <= 1) return x;
  const widths = [...x.shape, 1].map((_, i): [number, number] => (i === axis + 1 ? [0, d - 1] : [0, 0]));
  const interleaved = pad(expandDims(x, axis + 1), widths);
  const longShape = x.shape.map((s, i) => (i === axis ? s * d : s));
  const spec = x.shape.map((_, i): RangeTriple => (i === axis ? [0, (n - 1) * d + 1, 1] : [null, null, null]));
  return basicSlice(reshape(interleaved, longShape), spec);
}

/** Pads (or crops, for negative widths) every spatial axis of a channels-last array. */
export function padSpatial(x: MetalArray, pairs: readonly (readonly [number, number])[], value: number): MetalArray {
  const grow = [[0, 0] as [number, number], ...pairs.map(([lo, hi]): [number, number] => [Math.max(lo, 0), Math.max(hi, 0)]), [0, 0] as [number, number]];
  let out = grow.some(([lo, hi]) => lo > 0 || hi > 0) ? pad(x, grow, 'constant', value) : x;
  if (pairs.some(([lo, hi]) => lo < 0 || hi < 0)) {
    const spec = out.shape.map((len, i): RangeTriple => {
      if (i === 0 || i === out.ndim - 1) return [null, null, null];
      const [lo, hi] = pairs[i - 1];
      return [Math.max(-lo, 0), len - Math.max(-hi, 0), 1];
    });
    out = basicSlice(out, spec);
  }
  return out;
}

/**
 * The windows of a padded channels-last input: for every kernel offset, the strided view
 * of the input it reads, stacked on a new axis before the channels:
 * [N, ...out, K, C] with K = prod(kernel). Shared by the convolutions and the pools.
 */
export function extractWindows(x: MetalArray, kernel: readonly number[], stride: readonly number[], dilation: readonly number[]): MetalArray {
  const dims = kernel.length;
  const outShape = kernel.map((k, i) => Math.floor((x.shape[i + 1] - dilation[i] * (k - 1) - 1) / stride[i]) + 1);
  const offsets: number[][] = [[]];
  for (const k of kernel) {
    const next: number[][] = [];
    for (const prefix of offsets) for (let j = 0; j < k; j++) next.push([...prefix, j]);
    offsets.splice(0, offsets.length, ...next);
  }
  const views = offsets.map((offset) => {
    const spec: RangeTriple[] = [[null, null, null]];
    for (let i = 0; i < dims; i++) {
      const start = offset[i] * dilation[i];
      spec.push([start, start + (outShape[i] - 1) * stride[i] + 1, stride[i]]);
    }
    spec.push([null, null, null]);
    return expandDims(basicSlice(x, spec), dims + 1);
  });
  return views.length === 1 ? views[0] : concatenate(views, dims + 1);
}

/** Throws a ShapeError naming the call where a dilated kernel is longer than its (padded) axis. */
export function checkKernelFits(op: string, x: MetalArray, kernel: readonly number[], dilation: readonly number[]): void {
  kernel.forEach((k, i) => {
    const span = dilation[i] * (k - 1) + 1;
    if (x.shape[i + 1] < span) {
      throw new ShapeError(
        `${op}: spatial axis ${i} is ${x.shape[i + 1]} long after padding and input dilation, shorter than the dilated kernel (${span}); pad the input or use a smaller kernel`,
      );
    }
  });
}

/**
 * N-dimensional convolution (cross-correlation, as every deep-learning library),
 * channels last: `x` is [N, ...spatial, C], `w` is [O, ...kernel, C / groups], the
 * result [N, ...out, O]. Options: `stride`, `padding` (widths or [low, high] pairs,
 * negative crops), `dilation` (kernel), `inputDilation`, `groups`, `flip`.
 * out = floor((inputDilation·(n - 1) + 1 + low + high - dilation·(k - 1) - 1) / stride) + 1.
 *
 * @example
 * ```ts
 * const x = ma.arange(5, { dtype: 'float32' }).reshape(1, 5, 1); // N=1, L=5, C=1
 * const w = ma.array([1, 0, -1], 'float32').reshape(1, 3, 1);     // O=1, k=3, I=1
 * console.log(ma.convGeneral(x, w).reshape(-1).tolist()); // [ -2, -2, -2 ]
 * console.log(ma.convGeneral(x, w, { inputDilation: 2, padding: 1 }).shape); // [ 1, 9, 1 ]
 * ```
 */
export function convGeneral(x: MetalArray, w: MetalArray, options?: ConvGeneralOptions): MetalArray {
  checkArgCount('convGeneral', arguments.length, 3, 'convGeneral(x, w, { stride, padding, dilation, inputDilation, groups, flip })');
  return convImpl('convGeneral', x, w, options, -1);
}

function convImpl(op: string, x: MetalArray, w: MetalArray, options: ConvGeneralOptions | undefined, spatialDims: number): MetalArray {
  const o = checkOptions(op, options, ['stride', 'padding', 'dilation', 'inputDilation', 'groups', 'flip']);
  if (!(x instanceof MetalArray) || !(w instanceof MetalArray)) throw new ArgumentError(`${op}: x and w must be MetalArrays`);
  const dims = x.ndim - 2;
  if (dims < 1 || (spatialDims > 0 && dims !== spatialDims)) {
    const want = spatialDims > 0 ? `rank ${spatialDims + 2} ([N, ${spatialDims === 1 ? 'L' : 'H, W'}, C])` : 'rank >= 3 ([N, ...spatial, C])';
    throw new ShapeError(`${op}: the input must have ${want}, got shape [${x.shape.join(', ')}]`);
  }
  if (w.ndim !== x.ndim) {
    throw new ShapeError(`${op}: the weight must be [O, ...kernel, C / groups] of rank ${x.ndim} like the input, got shape [${w.shape.join(', ')}]`);
  }
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ArgumentError(`${op}: groups must be an integer >= 1, got ${formatValue(groups)}`);
  const channels = x.shape[x.ndim - 1];
  const outChannels = w.shape[0];
  const groupChannels = w.shape[w.ndim - 1];
  if (channels % groups !== 0 || outChannels % groups !== 0 || groupChannels * groups !== channels) {
    throw new ShapeError(
      `${op}: with groups=${groups}, the input's ${channels} channels and the weight's ${outChannels} output channels must divide by ${groups} and the weight's last axis must be ${channels / groups}; got input [${x.shape.join(', ')}], weight [${w.shape.join(', ')}]`,
    );
  }
  if (o.flip !== undefined && typeof o.flip !== 'boolean') throw new ArgumentError(`${op}: flip must be a boolean, got ${formatValue(o.flip)}`);
  const stride = perAxis(op, 'stride', o.stride, dims, 1, 1);
  const dilation = perAxis(op, 'dilation', o.dilation, dims, 1, 1);
  const inputDilation = perAxis(op, 'inputDilation', o.inputDilation, dims, 1, 1);
  const padding = paddingPairs(op, o.padding, dims);
  const kernel = w.shape.slice(1, -1);

  let input = x;
  inputDilation.forEach((d, i) => {
    input = dilateAxis(input, i + 1, d);
  });
  input = padSpatial(input, padding, 0);
  checkKernelFits(op, input, kernel, dilation);
  const kernelW = o.flip
    ? flip(
        w,
        kernel.map((_, i) => i + 1),
      )
    : w;

  const windows = extractWindows(input, kernel, stride, dilation); // [N, ...out, K, C]
  const outShape = windows.shape.slice(1, dims + 1);
  const rows = windows.shape[0] * outShape.reduce((p, d) => p * d, 1);
  const taps = kernel.reduce((p, d) => p * d, 1);
  let result: MetalArray;
  if (groups === 1) {
    const patches = reshape(windows, [rows, taps * channels]);
    result = matmul(patches, transpose(reshape(kernelW, [outChannels, taps * channels])));
  } else {
    const perGroup = outChannels / groups;
    const patches = transpose(reshape(windows, [rows, taps, groups, groupChannels]), [2, 0, 1, 3]); // [G, rows, K, Cg]
    const weights = reshape(kernelW, [groups, perGroup, taps * groupChannels]);
    const grouped = matmul(reshape(patches, [groups, rows, taps * groupChannels]), transpose(weights, [0, 2, 1])); // [G, rows, Og]
    result = transpose(grouped, [1, 0, 2]);
  }
  return reshape(result, [x.shape[0], ...outShape, outChannels]);
}

/**
 * 1-D convolution, NLC: `x` [N, L, C], `w` [O, k, C / groups] → [N, Lout, O].
 *
 * @example
 * ```ts
 * const x = ma.ones([2, 8, 4]);
 * const w = ma.ones([6, 3, 4]);
 * console.log(ma.conv1d(x, w, { padding: 1 }).shape); // [ 2, 8, 6 ]
 * console.log(ma.conv1d(x, w, { stride: 2 }).shape); // [ 2, 3, 6 ]
 * ```
 */
export function conv1d(x: MetalArray, w: MetalArray, options?: ConvOptions): MetalArray {
  checkArgCount('conv1d', arguments.length, 3, 'conv1d(x, w, { stride, padding, dilation, groups })');
  checkOptions('conv1d', options, ['stride', 'padding', 'dilation', 'groups']);
  return convImpl('conv1d', x, w, options, 1);
}

/**
 * 2-D convolution, NHWC as MLX: `x` [N, H, W, C], `w` [O, kh, kw, C / groups] →
 * [N, Hout, Wout, O]. (From PyTorch's NCHW / [O, I, kh, kw]: transpose the input by
 * [0, 2, 3, 1] and the weight by [0, 2, 3, 1].)
 *
 * @example
 * ```ts
 * const x = ma.ones([1, 4, 4, 1]);
 * const w = ma.ones([1, 3, 3, 1]);
 * console.log(ma.conv2d(x, w).reshape(-1).tolist()); // [ 9, 9, 9, 9 ]
 * console.log(ma.conv2d(x, w, { padding: 1, stride: 2 }).shape); // [ 1, 2, 2, 1 ]
 * ```
 */
export function conv2d(x: MetalArray, w: MetalArray, options?: ConvOptions): MetalArray {
  checkArgCount('conv2d', arguments.length, 3, 'conv2d(x, w, { stride, padding, dilation, groups })');
  checkOptions('conv2d', options, ['stride', 'padding', 'dilation', 'groups']);
  return convImpl('conv2d', x, w, options, 2);
}

function convTransposeImpl(op: string, x: MetalArray, w: MetalArray, options: ConvTransposeOptions | undefined, dims: number): MetalArray {
  const o = checkOptions(op, options, ['stride', 'padding', 'dilation', 'groups', 'outputPadding']);
  if (!(x instanceof MetalArray) || !(w instanceof MetalArray)) throw new ArgumentError(`${op}: x and w must be MetalArrays`);
  if (w.ndim !== dims + 2) throw new ShapeError(`${op}: the weight must be [O, ...kernel, C / groups] of rank ${dims + 2}, got shape [${w.shape.join(', ')}]`);
  const stride = perAxis(op, 'stride', o.stride, dims, 1, 1);
  const dilation = perAxis(op, 'dilation', o.dilation, dims, 1, 1);
  const outputPadding = perAxis(op, 'outputPadding', o.outputPadding, dims, 0, 0);
  const padding = paddingPairs(op, o.padding, dims);
  outputPadding.forEach((p, i) => {
    if (p >= stride[i] && p >= dilation[i]) {
      throw new ArgumentError(`${op}: outputPadding (${p}) must be smaller than the stride (${stride[i]}) or the dilation (${dilation[i]}) on axis ${i}`);
    }
  });
  const kernel = w.shape.slice(1, -1);
  // The transpose of a strided convolution: stride becomes input dilation, and the kernel,
  // flipped, slides over the input padded by the receptive span minus the forward padding.
  const transposedPadding = kernel.map((k, i): [number, number] => {
    const span = dilation[i] * (k - 1);
    return [span - padding[i][0], span - padding[i][1] + outputPadding[i]];
  });
  return convImpl(op, x, w, { inputDilation: stride, dilation, padding: transposedPadding, groups: o.groups, flip: true }, dims);
}

/**
 * 1-D transposed convolution, NLC: the gradient of `conv1d` with respect to its input.
 * `x` [N, L, C], `w` [O, k, C / groups] → [N, (L - 1)·stride - 2·padding + dilation·(k - 1) + outputPadding + 1, O].
 *
 * @example
 * ```ts
 * const y = ma.convTranspose1d(ma.ones([1, 3, 1]), ma.ones([1, 2, 1]), { stride: 2 });
 * console.log(y.reshape(-1).tolist()); // [ 1, 1, 1, 1, 1, 1 ]
 * ```
 */
export function convTranspose1d(x: MetalArray, w: MetalArray, options?: ConvTransposeOptions): MetalArray {
  checkArgCount('convTranspose1d', arguments.length, 3, 'convTranspose1d(x, w, { stride, padding, dilation, outputPadding, groups })');
  return convTransposeImpl('convTranspose1d', x, w, options, 1);
}

/**
 * 2-D transposed convolution, NHWC as MLX: the gradient of `conv2d` with respect to its
 * input, computed as a convolution with input dilation = stride and the flipped kernel.
 * `x` [N, H, W, C], `w` [O, kh, kw, C / groups] → [N, Hout, Wout, O] with
 * Hout = (H - 1)·stride - 2·padding + dilation·(kh - 1) + outputPadding + 1.
 * (PyTorch's weight [C, O / groups, kh, kw] is this layout transposed by [1, 2, 3, 0].)
 *
 * @example
 * ```ts
 * const x = ma.ones([1, 2, 2, 1]);
 * const w = ma.ones([1, 3, 3, 1]);
 * console.log(ma.convTranspose2d(x, w, { stride: 2, padding: 1, outputPadding: 1 }).shape); // [ 1, 4, 4, 1 ]
 * ```
 */
export function convTranspose2d(x: MetalArray, w: MetalArray, options?: ConvTransposeOptions): MetalArray {
  checkArgCount('convTranspose2d', arguments.length, 3, 'convTranspose2d(x, w, { stride, padding, dilation, outputPadding, groups })');
  return convTransposeImpl('convTranspose2d', x, w, options, 2);
}
