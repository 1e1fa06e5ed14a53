/**
 * conv1d / conv2d / convGeneral / convTranspose: values against direct loops
 * (test/conv/reference.ts), gradients (vjp and jvp) against finite differences in
 * float64, vmap against a loop, and the errors bad input gets.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { checkDerivatives, prng, randomArray } from '../transforms/derivatives.js';
import { type Tensor, refConv, refConvTranspose } from './reference.js';

process.env.METALARRAY_CACHE_DIR ??= '/work/kcache';

function tensor(a: ma.MetalArray): Tensor {
  return { data: Float64Array.from(a.astype('float64').reshape(-1).tolist() as number[]), shape: a.shape };
}

function expectClose(got: ma.MetalArray, want: Tensor, tol = 1e-9): void {
  expect(got.shape).toEqual(want.shape);
  const g = got.reshape(-1).tolist() as number[];
  for (let i = 0; i < g.length; i++) {
    expect(Math.abs(g[i] - want.data[i]), `element ${i}: ${g[i]} vs ${want.data[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want.data[i])));
  }
}

const r = prng(21);

interface Case {
  readonly name: string;
  readonly x: number[];
  readonly w: number[];
  readonly stride?: number[];
  readonly padding?: [number, number][];
  readonly dilation?: number[];
  readonly inputDilation?: number[];
  readonly groups?: number;
}

const cases: Case[] = [
  { name: '1-d plain', x: [2, 7, 3], w: [4, 3, 3] },
  { name: '1-d stride, padding, dilation', x: [2, 9, 2], w: [3, 3, 2], stride: [2], padding: [[2, 1]], dilation: [2] },
  { name: '2-d plain', x: [2, 5, 6, 3], w: [4, 3, 2, 3] },
  {
    name: '2-d stride 2, padding 1',
    x: [1, 7, 6, 2],
    w: [3, 3, 3, 2],
    stride: [2, 2],
    padding: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: '2-d dilation, asymmetric stride',
    x: [1, 8, 7, 2],
    w: [2, 2, 3, 2],
    stride: [1, 2],
    dilation: [3, 1],
    padding: [
      [0, 1],
      [2, 0],
    ],
  },
  {
    name: '2-d groups 2',
    x: [2, 5, 5, 4],
    w: [6, 3, 3, 2],
    groups: 2,
    padding: [
      [1, 1],
      [1, 1],
    ],
  },
  { name: '2-d depthwise', x: [1, 5, 4, 3], w: [3, 2, 2, 1], groups: 3 },
  {
    name: '2-d input dilation',
    x: [1, 4, 3, 2],
    w: [2, 3, 2, 2],
    inputDilation: [2, 3],
    padding: [
      [1, 2],
      [0, 1],
    ],
  },
  {
    name: '2-d negative padding crops',
    x: [1, 7, 7, 1],
    w: [1, 2, 2, 1],
    padding: [
      [-1, 0],
      [0, -2],
    ],
  },
  {
    name: '3-d',
    x: [1, 4, 3, 4, 2],
    w: [2, 2, 2, 3, 2],
    stride: [1, 2, 1],
    padding: [
      [1, 0],
      [0, 0],
      [1, 1],
    ],
  },
];

function run(c: Case, x: ma.MetalArray, w: ma.MetalArray): ma.MetalArray {
  const dims = c.x.length - 2;
  if (c.inputDilation === undefined && dims === 2 && c.padding?.every(([lo, hi]) => lo === hi && lo >= 0) !== false) {
    return ma.conv2d(x, w, { stride: c.stride, padding: c.padding?.map(([lo]) => lo), dilation: c.dilation, groups: c.groups });
  }
  if (c.inputDilation === undefined && dims === 1 && c.padding === undefined)
    return ma.conv1d(x, w, { stride: c.stride, dilation: c.dilation, groups: c.groups });
  return ma.convGeneral(x, w, { stride: c.stride, padding: c.padding, dilation: c.dilation, inputDilation: c.inputDilation, groups: c.groups });
}

describe('convolution values against a direct loop (float64)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const x = randomArray(r, c.x);
      const w = randomArray(r, c.w);
      const dims = c.x.length - 2;
      const ones = new Array<number>(dims).fill(1);
      const want = refConv(tensor(x), tensor(w), {
        stride: c.stride ?? ones,
        padLow: c.padding?.map((p) => p[0]) ?? ones.map(() => 0),
        padHigh: c.padding?.map((p) => p[1]) ?? ones.map(() => 0),
        dilation: c.dilation ?? ones,
        inputDilation: c.inputDilation ?? ones,
        groups: c.groups ?? 1,
      });
      expectClose(run(c, x, w), want);
    });
  }

  it('float32 matches the float64 loop to float32 precision', () => {
    const x = randomArray(r, [2, 6, 6, 8]);
    const w = randomArray(r, [5, 3, 3, 8]);
    const want = refConv(tensor(x), tensor(w), { stride: [1, 1], padLow: [1, 1], padHigh: [1, 1], dilation: [1, 1], inputDilation: [1, 1], groups: 1 });
    const got = ma.conv2d(x.astype('float32'), w.astype('float32'), { padding: 1 });
    expect(got.dtype).toBe('float32');
    expectClose(got, want, 1e-4);
  });
});

describe('transposed convolution', () => {
  const transposeCases = [
    { name: '1-d stride 2', x: [2, 4, 3], w: [2, 3, 3], stride: [2], padding: [0], dilation: [1], outputPadding: [0], groups: 1 },
    {
      name: '2-d stride 2, padding 1, output padding 1',
      x: [1, 3, 4, 2],
      w: [3, 3, 3, 2],
      stride: [2, 2],
      padding: [1, 1],
      dilation: [1, 1],
      outputPadding: [1, 1],
      groups: 1,
    },
    { name: '2-d dilation and groups', x: [2, 3, 3, 4], w: [2, 2, 3, 2], stride: [1, 2], padding: [0, 1], dilation: [2, 1], outputPadding: [0, 1], groups: 2 },
    {
      name: '2-d padding beyond the kernel span',
      x: [1, 5, 5, 1],
      w: [1, 2, 2, 1],
      stride: [1, 1],
      padding: [2, 1],
      dilation: [1, 1],
      outputPadding: [0, 0],
      groups: 1,
    },
  ];
  for (const c of transposeCases) {
    it(`${c.name} matches the scatter definition`, () => {
      const x = randomArray(r, c.x);
      const w = randomArray(r, c.w);
      const want = refConvTranspose(tensor(x), tensor(w), c.stride, c.padding, c.dilation, c.outputPadding, c.groups);
      const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, outputPadding: c.outputPadding, groups: c.groups };
      expectClose(c.x.length === 3 ? ma.convTranspose1d(x, w, opts) : ma.convTranspose2d(x, w, opts), want);
    });
  }

  it('is the gradient of conv2d with respect to its input', () => {
    const x = randomArray(r, [2, 7, 6, 3]);
    const w = randomArray(r, [4, 3, 3, 3]);
    const opts = { stride: 2, padding: 1 };
    const y = ma.conv2d(x, w, opts);
    const u = randomArray(r, y.shape);
    const [, [gx]] = ma.vjp((a: ma.MetalArray) => ma.conv2d(a, w, opts), [x], [u]) as [unknown, ma.MetalArray[]];
    // conv2d's weight [O, kh, kw, I] maps I -> O; its transpose maps O -> I: swap the channel axes.
    const t = ma.convTranspose2d(u, ma.transpose(w, [3, 1, 2, 0]), { ...opts, outputPadding: [0, 1] });
    expectClose(t, tensor(gx));
  });
});

describe('convolution derivatives (finite differences, float64)', () => {
  it('conv2d with stride, padding, dilation', () => {
    checkDerivatives('conv2d', (x, w) => ma.conv2d(x, w, { stride: [2, 1], padding: 1, dilation: [1, 2] }), [
      randomArray(r, [2, 6, 7, 3]),
      randomArray(r, [4, 3, 2, 3]),
    ]);
  });
  it('conv2d with groups', () => {
    checkDerivatives('conv2d groups', (x, w) => ma.conv2d(x, w, { groups: 2, padding: 1 }), [randomArray(r, [1, 5, 4, 4]), randomArray(r, [4, 3, 3, 2])]);
  });
  it('conv1d', () => {
    checkDerivatives('conv1d', (x, w) => ma.conv1d(x, w, { stride: 2, padding: 2 }), [randomArray(r, [2, 9, 3]), randomArray(r, [2, 4, 3])]);
  });
  it('convGeneral with input dilation', () => {
    checkDerivatives('convGeneral', (x, w) => ma.convGeneral(x, w, { inputDilation: 2, padding: [[1, 0]] }), [
      randomArray(r, [1, 3, 2]),
      randomArray(r, [2, 2, 2]),
    ]);
  }, 120_000);
  it('convTranspose2d', () => {
    checkDerivatives('convTranspose2d', (x, w) => ma.convTranspose2d(x, w, { stride: 2, padding: 1, outputPadding: 1 }), [
      randomArray(r, [1, 2, 2, 1]),
      randomArray(r, [2, 3, 3, 1]),
    ]);
  }, 120_000);
  it('second order: the gradient of a squared conv2d output', () => {
    const w = randomArray(r, [2, 2, 2, 2]);
    const g = (x: ma.MetalArray) => ma.grad((a: ma.MetalArray) => ma.conv2d(a, w).square().sum())(x) as ma.MetalArray;
    checkDerivatives('grad of conv2d', g, [randomArray(r, [1, 4, 4, 2])]);
  });
});

describe('vmap through conv2d', () => {
  it('batches over the weights and over the input like a loop', () => {
    const xs = randomArray(r, [3, 1, 5, 5, 2]);
    const ws = randomArray(r, [3, 4, 3, 3, 2]);
    const f = (x: ma.MetalArray, w: ma.MetalArray) => ma.conv2d(x, w, { padding: 1, stride: 2 });
    const batched = ma.vmap(f)(xs, ws) as ma.MetalArray;
    const looped = ma.stack([0, 1, 2].map((i) => f(ma.slice(xs, i), ma.slice(ws, i))));
    expectClose(batched, tensor(looped));
    const sharedW = ma.vmap(f, [0, null])(xs, ma.slice(ws, 0)) as ma.MetalArray;
    expectClose(sharedW, tensor(ma.stack([0, 1, 2].map((i) => f(ma.slice(xs, i), ma.slice(ws, 0))))));
  });
});

describe('convolution errors', () => {
  const x = ma.zeros([1, 5, 5, 4]);
  it('names the call and the shapes', () => {
    expect(() => ma.conv2d(x, ma.zeros([2, 3, 3, 3]))).toThrow(ma.ShapeError);
    expect(() => ma.conv2d(x, ma.zeros([2, 3, 3, 3]))).toThrow(/conv2d: .*weight's last axis must be 4/);
    expect(() => ma.conv2d(ma.zeros([5, 5, 4]), ma.zeros([2, 3, 3, 4]))).toThrow(/conv2d: the input must have rank 4/);
    expect(() => ma.conv1d(x, ma.zeros([2, 3, 3, 4]))).toThrow(/conv1d: the input must have rank 3/);
    expect(() => ma.conv2d(x, ma.zeros([3, 3, 3, 2]), { groups: 2 })).toThrow(/groups=2/);
    expect(() => ma.conv2d(x, ma.zeros([2, 7, 3, 4]))).toThrow(/shorter than the dilated kernel/);
  });
  it('rejects bad options', () => {
    expect(() => ma.conv2d(x, ma.zeros([2, 3, 3, 4]), { stride: 0 })).toThrow(ma.ArgumentError);
    expect(() => ma.conv2d(x, ma.zeros([2, 3, 3, 4]), { stride: [1, 2, 3] })).toThrow(/stride must be an integer >= 1 or 2 of them/);
    expect(() => ma.conv2d(x, ma.zeros([2, 3, 3, 4]), { padding: 1.5 })).toThrow(/padding must be/);
    expect(() => ma.conv2d(x, ma.zeros([2, 3, 3, 4]), { inputDilation: 2 } as ma.ConvOptions)).toThrow(/unknown option 'inputDilation'/);
    expect(() => ma.convTranspose2d(x, ma.zeros([2, 3, 3, 4]), { stride: 2, outputPadding: 2 })).toThrow(/outputPadding \(2\) must be smaller/);
  });
});

describe('kernel counts', () => {
  function launches(...xs: ma.MetalArray[]): number {
    ma.resetMetrics();
    ma.eval(...xs);
    return ma.metrics().kernelLaunches;
  }
  it('a bias and relu after conv2d fuse into its kernels (no extra launch)', () => {
    const x = ma.random.normal(ma.random.key(0), [2, 8, 8, 4]).eval();
    const w = ma.random.normal(ma.random.key(1), [6, 3, 3, 4]).eval();
    const b = ma.random.normal(ma.random.key(2), [6]).eval();
    const plain = launches(ma.conv2d(x, w, { padding: 1 }));
    expect(plain).toBeLessThanOrEqual(3);
    expect(launches(ma.maximum(ma.conv2d(x, w, { padding: 1 }).add(b), 0))).toBe(plain);
    expect(launches(ma.maxPool2d(x, 2))).toBe(1);
  });
});
