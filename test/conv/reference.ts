/**
 * Direct-loop references for the convolution and pooling tests: plain JS over flat
 * row-major Float64Arrays, written from the definitions (no im2col), channels last.
 */
export interface Tensor {
  readonly data: Float64Array;
  readonly shape: readonly number[];
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

function* positions(shape: readonly number[]): Generator<number[]> {
  const total = shape.reduce((p, d) => p * d, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < total; n++) {
    yield idx.slice();
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++idx[i] < shape[i]) break;
      idx[i] = 0;
    }
  }
}

export interface RefConvOptions {
  stride: number[];
  padLow: number[];
  padHigh: number[];
  dilation: number[];
  inputDilation: number[];
  groups: number;
}

/**
 * y[n, p, o] = Σ_{k, c} x[n, q, g·Cg + c] · w[o, k, c] where the (input-dilated) position
 * q·inputDilation = p·stride + k·dilation - padLow, g = o / (O / groups).
 */
export function refConv(x: Tensor, w: Tensor, o: RefConvOptions): Tensor {
  const dims = x.shape.length - 2;
  const [batch] = x.shape;
  const outChannels = w.shape[0];
  const cg = w.shape[dims + 1];
  const og = outChannels / o.groups;
  const kernel = w.shape.slice(1, dims + 1);
  const outSpatial = kernel.map((k, i) => {
    const len = (x.shape[i + 1] - 1) * o.inputDilation[i] + 1 + o.padLow[i] + o.padHigh[i];
    return Math.floor((len - o.dilation[i] * (k - 1) - 1) / o.stride[i]) + 1;
  });
  const outShape = [batch, ...outSpatial, outChannels];
  const out = new Float64Array(outShape.reduce((p, d) => p * d, 1));
  const xs = strides(x.shape);
  const ws = strides(w.shape);
  const ys = strides(outShape);
  for (const pos of positions(outShape)) {
    const [n] = pos;
    const oc = pos[dims + 1];
    const g = Math.floor(oc / og);
    let acc = 0;
    for (const k of positions(kernel)) {
      let xOff = n * xs[0];
      let inside = true;
      for (let i = 0; i < dims; i++) {
        const q = pos[i + 1] * o.stride[i] + k[i] * o.dilation[i] - o.padLow[i];
        if (q < 0 || q % o.inputDilation[i] !== 0 || q / o.inputDilation[i] >= x.shape[i + 1]) inside = false;
        xOff += (q / o.inputDilation[i]) * xs[i + 1];
      }
      if (!inside) continue;
      let wOff = oc * ws[0];
      for (let i = 0; i < dims; i++) wOff += k[i] * ws[i + 1];
      for (let c = 0; c < cg; c++) acc += x.data[xOff + g * cg + c] * w.data[wOff + c];
    }
    let yOff = 0;
    for (let i = 0; i < pos.length; i++) yOff += pos[i] * ys[i];
    out[yOff] = acc;
  }
  return { data: out, shape: outShape };
}

/** Transposed convolution by its scatter definition: y[n, i·s - p + k·d, o] += x[n, i, g·Cg + c] · w[o, k, c]. */
export function refConvTranspose(
  x: Tensor,
  w: Tensor,
  stride: number[],
  padding: number[],
  dilation: number[],
  outputPadding: number[],
  groups: number,
): Tensor {
  const dims = x.shape.length - 2;
  const [batch] = x.shape;
  const outChannels = w.shape[0];
  const cg = w.shape[dims + 1];
  const og = outChannels / groups;
  const kernel = w.shape.slice(1, dims + 1);
  const outSpatial = kernel.map((k, i) => (x.shape[i + 1] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k - 1) + outputPadding[i] + 1);
  const outShape = [batch, ...outSpatial, outChannels];
  const out = new Float64Array(outShape.reduce((p, d) => p * d, 1));
  const xs = strides(x.shape);
  const ws = strides(w.shape);
  const ys = strides(outShape);
  for (const pos of positions(x.shape)) {
    const [n] = pos;
    const ic = pos[dims + 1];
    const g = Math.floor(ic / cg);
    const v = x.data[pos.reduce((s, p, i) => s + p * xs[i], 0)];
    for (const k of positions(kernel)) {
      let yOff = n * ys[0];
      let inside = true;
      for (let i = 0; i < dims; i++) {
        const q = pos[i + 1] * stride[i] - padding[i] + k[i] * dilation[i];
        if (q < 0 || q >= outSpatial[i]) inside = false;
        yOff += q * ys[i + 1];
      }
      if (!inside) continue;
      for (let j = 0; j < og; j++) {
        const oc = g * og + j;
        let wOff = oc * ws[0] + (ic - g * cg);
        for (let i = 0; i < dims; i++) wOff += k[i] * ws[i + 1];
        out[yOff + oc] += v * w.data[wOff];
      }
    }
  }
  return { data: out, shape: outShape };
}

/** 2-D pooling, NHWC; padded cells count as -Infinity (max) or 0 (mean, counted in the divisor). */
export function refPool2d(x: Tensor, kernel: number[], stride: number[], padding: number[], kind: 'max' | 'mean'): Tensor {
  const [batch, height, width, channels] = x.shape;
  const oh = Math.floor((height + 2 * padding[0] - kernel[0]) / stride[0]) + 1;
  const ow = Math.floor((width + 2 * padding[1] - kernel[1]) / stride[1]) + 1;
  const out = new Float64Array(batch * oh * ow * channels);
  let at = 0;
  for (let n = 0; n < batch; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let c = 0; c < channels; c++) {
          let acc = kind === 'max' ? Number.NEGATIVE_INFINITY : 0;
          for (let a = 0; a < kernel[0]; a++)
            for (let b = 0; b < kernel[1]; b++) {
              const h = i * stride[0] + a - padding[0];
              const wv = j * stride[1] + b - padding[1];
              const inside = h >= 0 && h < height && wv >= 0 && wv < width;
              const v = inside ? x.data[((n * height + h) * width + wv) * channels + c] : kind === 'max' ? Number.NEGATIVE_INFINITY : 0;
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
            }
          out[at++] = kind === 'max' ? acc : acc / (kernel[0] * kernel[1]);
        }
  return { data: out, shape: [batch, oh, ow, channels] };
}
