/**
 * The CUDA backend on a machine with an NVIDIA GPU. Skipped, with the reason shown,
 * where CUDA can't run; with REQUIRE_CUDA=1 that skip is a failure instead.
 * The whole property suite also runs on CUDA with METALARRAY_BACKEND=cuda.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { unavailableReason } from '../../src/runtime/registry.js';

const why = unavailableReason('cuda');
const required = process.env.REQUIRE_CUDA === '1';

describe('CUDA availability', () => {
  it(why ? `CUDA is unavailable here: ${why}` : 'CUDA is available', () => {
    if (required) expect(why).toBe('');
    if (why) {
      // The reason names what is missing (the driver library, a device, NVRTC, the addon)...
      expect(why).toMatch(/libcuda\.so\.1 could not be loaded|no CUDA device|cuInit failed|NVRTC|native addon/);
      // ...and choosing the backend throws it, typed.
      expect(() => ma.setBackend('cuda')).toThrow(ma.BackendUnavailableError);
      expect(() => ma.setBackend('cuda')).toThrow(why);
    } else {
      expect(ma.isAvailable('cuda')).toBe(true);
    }
  });
});

function rand(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}

/** Runs `fn` on cpu and on cuda with the same inputs; returns both results. */
function both(fn: (be: string) => ma.MetalArray): [Float64Array, Float64Array] {
  const out: Float64Array[] = [];
  for (const be of ['cpu', 'cuda']) {
    ma.setBackend(be);
    out.push(Float64Array.from(fn(be).toTypedArray() as ArrayLike<number>));
  }
  return [out[0], out[1]];
}

/** Product operands in the layouts the copy paths distinguish: A m×k (plain, offset by one element, or a transposed view), B k×n batched by 2 (plain, or a transposed view: k contiguous). */
type OperandView = 'plain' | 'offset' | 'transposed' | 'b transposed';
function productOperands(m: number, k: number, n: number, view: OperandView, seed: number): [ma.MetalArray, ma.MetalArray] {
  const a =
    view === 'offset'
      ? ma
          .array(rand(m * k + 1, seed))
          .slice(ma.range(1, m * k + 1))
          .reshape(m, k)
      : view === 'transposed'
        ? ma
            .array(rand(k * m, seed))
            .reshape(k, m)
            .transpose([1, 0])
        : ma.array(rand(m * k, seed)).reshape(m, k);
  const b =
    view === 'b transposed'
      ? ma
          .array(rand(2 * n * k, seed + 1))
          .reshape(2, n, k)
          .transpose([0, 2, 1])
      : ma.array(rand(2 * k * n, seed + 1)).reshape(2, k, n);
  return [a, b];
}

function maxRelDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1e-30, Math.abs(a[i]));
    if (!(d <= m)) m = d;
  }
  return m;
}

describe.skipIf(why !== '')('CUDA backend', () => {
  it('elementwise chains (vector path, unaligned views, odd sizes) match the CPU bit for bit', () => {
    for (const n of [1, 3, 4, 1023, 4096 + 3]) {
      const [c, g] = both(() => {
        const x = ma.array(rand(n * 5)).reshape(5, n);
        return x.slice(':', '1:').multiply(1.5).add(x.slice(':', ':-1')).maximum(-0.25);
      });
      expect(g).toEqual(c);
    }
  });

  it('reductions: row, column and full sums, argmax with ties', () => {
    const [c, g] = both(() => {
      const x = ma.array(rand(300 * 257)).reshape(300, 257);
      return ma.concatenate([x.sum(1), x.sum(0), x.sum().reshape(1), x.max(1), x.argmax(1).astype('float32')]);
    });
    expect(maxRelDiff(c, g)).toBeLessThan(1e-6);
  });

  it('split reductions of different sizes in a row (the scratch stays consistent)', () => {
    const [c, g] = both(() => {
      const parts: ma.MetalArray[] = [];
      for (const n of [1 << 20, 5000, 1 << 16, 3 * 4099])
        parts.push(
          ma
            .array(rand(n, n % 97))
            .sum()
            .reshape(1),
        );
      parts.push(
        ma
          .array(rand(3 * 70000, 3))
          .reshape(3, 70000)
          .max(1),
      );
      return ma.concatenate(parts);
    });
    expect(maxRelDiff(c, g)).toBeLessThan(1e-6);
    for (const n of [1 << 20, 5000, 1 << 16]) {
      const [c1, g1] = both(() => ma.array(rand(n, 5)).astype('float16').sum().astype('float64'));
      expect(g1).toEqual(c1);
    }
  });

  it('softmax is at most 2 kernels and matches the CPU', () => {
    ma.setBackend('cuda');
    const x = ma.array(rand(64 * 1000)).reshape(64, 1000);
    const y = ma.softmax(x, -1);
    ma.resetMetrics();
    ma.eval(y);
    expect(ma.metrics().kernelLaunches).toBeLessThanOrEqual(2);
    const [c, g] = both(() => ma.softmax(ma.array(rand(64 * 1000)).reshape(64, 1000), -1));
    expect(maxRelDiff(c, g)).toBeLessThan(1e-5);
  });

  it('matmul with a fused epilogue, transposed and batched operands', () => {
    const [c, g] = both(() => {
      const a = ma.array(rand(3 * 70 * 33, 2)).reshape(3, 70, 33);
      const b = ma.array(rand(3 * 45 * 33, 3)).reshape(3, 45, 33);
      return ma.relu(ma.matmul(a, b.transpose([0, 2, 1])).add(0.5));
    });
    expect(maxRelDiff(c, g)).toBeLessThan(1e-5);
  });

  it('float32 products copy tiles asynchronously (16 bytes where rows are aligned, element by element for offset views, transposes and odd sizes) and stay exact like the CPU', () => {
    const cases: [number, number, number, OperandView][] = [
      [129, 260, 132, 'plain'],
      [130, 261, 70, 'plain'],
      [64, 200, 96, 'offset'],
      [96, 130, 40, 'transposed'],
      [1, 1, 1, 'plain'],
    ];
    for (const [m, k, n, view] of cases) {
      const [c, g] = both(() => {
        const [a, b] = productOperands(m, k, n, view, 6);
        return ma.matmul(a, b).multiply(0.5);
      });
      expect(g, `${m}x${k}x${n} ${view}`).toEqual(c);
    }
  });

  it("setMatmulPrecision('tf32') runs float32 matmuls on tensor cores within TF32 error (edges, offset views, transposes, batches, the epilogue); the default stays exact", () => {
    const build = (): ma.MetalArray => ma.matmul(ma.array(rand(200 * 256, 4)).reshape(200, 256), ma.array(rand(256 * 136, 5)).reshape(256, 136)).add(1);
    const [c, g] = both(build);
    expect(g).toEqual(c); // exact float32 with FMA, like the CPU
    // Normwise relative error: TF32 keeps 10 of float32's 23 mantissa bits.
    const relErr = (want: Float64Array, got: Float64Array): number => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < want.length; i++) {
        num += (got[i] - want[i]) ** 2;
        den += want[i] ** 2;
      }
      return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    };
    const cases: [number, number, number, OperandView][] = [
      [300, 520, 264, 'plain'], // several tiles each way, a partial last K step
      [257, 68, 129, 'plain'],
      [130, 200, 96, 'offset'], // element-by-element copies
      [96, 130, 40, 'transposed'],
      [200, 72, 136, 'b transposed'], // x @ w.T: B's k is contiguous, 16-byte copies staged as [n][k]
      [130, 328, 136, 'b transposed'], // more K steps than stages: every stage is reused
      [33, 0, 20, 'plain'], // no K steps: the epilogue alone
      [70, 33, 50, 'b transposed'], // K % 4 != 0: element copies
      [1, 1, 1, 'plain'],
    ];
    ma.setMatmulPrecision('tf32');
    try {
      const [c2, t] = both(build);
      expect(relErr(c2, t)).toBeLessThan(2e-3);
      expect(relErr(c2, t)).toBeGreaterThan(0); // TF32 rounding shows: the tensor-core kernel ran
      for (const [m, k, n, view] of cases) {
        const [want, got] = both(() => {
          const [a, b] = productOperands(m, k, n, view, 8);
          return ma.relu(ma.matmul(a, b).add(0.25));
        });
        expect(got.length).toBe(want.length);
        expect(relErr(want, got), `${m}x${k}x${n} ${view}`).toBeLessThan(2e-3);
      }
    } finally {
      ma.setMatmulPrecision('highest');
    }
  });

  it('float16 and bfloat16 products run on tensor cores (m16n8k16) and match the cpu to the dtype’s rounding, with edges, batches, transposes and the epilogue', () => {
    for (const dt of ['float16', 'bfloat16'] as const) {
      const cases: [string, () => ma.MetalArray][] = [
        [
          'edges',
          () =>
            ma.matmul(
              ma
                .array(rand(131 * 67, 6))
                .reshape(131, 67)
                .astype(dt),
              ma
                .array(rand(67 * 129, 7))
                .reshape(67, 129)
                .astype(dt),
            ),
        ],
        [
          'batched, transposed, epilogue',
          () => {
            const a = ma
              .array(rand(3 * 40 * 96, 8))
              .reshape(3, 96, 40)
              .astype(dt);
            const b = ma
              .array(rand(3 * 96 * 33, 9))
              .reshape(3, 33, 96)
              .astype(dt);
            return ma.relu(ma.matmul(a.transpose([0, 2, 1]), b.transpose([0, 2, 1])).add(0.25));
          },
        ],
      ];
      for (const [label, build] of cases) {
        ma.setBackend('cuda');
        expect(ma.kernelSources(build(), 'cuda').some((k) => k.source.includes(dt === 'float16' ? 'ma_mma_f16(' : 'ma_mma_bf16('))).toBe(true);
        const [c, g] = both(() => build().astype('float32'));
        // Both accumulate exact products in float32 (in different orders) and round once to the dtype.
        const ulp = dt === 'float16' ? 2 ** -10 : 2 ** -7;
        for (let i = 0; i < c.length; i++) expect(Math.abs(g[i] - c[i]), `${dt} ${label} [${i}]`).toBeLessThanOrEqual(ulp * Math.max(1, Math.abs(c[i])) * 2);
      }
    }
  });

  it('every dtype round-trips and casts like the CPU', () => {
    const dts = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'bfloat16', 'float32', 'float64'] as const;
    for (const d of dts) {
      const [c, g] = both(() => ma.array(rand(37)).multiply(300).astype(d).add(1).astype('float64'));
      expect(g, d).toEqual(c);
    }
  });

  it('scans match the CPU', () => {
    const [c, g] = both(() => ma.cumsum(ma.array(rand(10 * 333)).reshape(10, 333), 1));
    expect(maxRelDiff(c, g)).toBeLessThan(1e-6);
  });

  it('sort, argsort and topk match the CPU exactly: short, tile-sized and long lines, NaN, -0 and ties, every key width', { timeout: 120_000 }, () => {
    // Small integers (many ties), a NaN every 7th, -0 among the zeros.
    const keys = (n: number, seed: number): ma.MetalArray =>
      ma.array(Float32Array.from(rand(n, seed), (v, i) => (i % 7 === 3 ? Number.NaN : Math.round(v * 4) === 0 && i % 2 ? -0 : Math.round(v * 4) / 2)));
    const check = (lines: number, n: number, d: string): void => {
      const [c, g] = both(() => {
        const x = keys(lines * n, n)
          .reshape(lines, n)
          .astype(d as ma.DType);
        return ma.concatenate([ma.sort(x).astype('float64'), ma.argsort(x).astype('float64'), ma.argsort(x.T, 0).T.astype('float64')], 1);
      });
      expect(g, `${d} [${lines}, ${n}]`).toEqual(c);
    };
    // Every key width through one tile and through the scratch merge.
    for (const d of ['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int8', 'bool']) {
      for (const [lines, n] of [
        [3, 1],
        [5, 2],
        [4, 17],
        [3, 1000],
        [2, 5000],
      ])
        check(lines, n, d);
    }
    // Many merge passes, one long line, many lines.
    for (const [lines, n] of [
      [2, 70000],
      [1, 1 << 18],
      [3000, 300],
    ])
      check(lines, n, 'float32');
    const [c, g] = both(() => {
      const x = keys(6 * 5000, 3).reshape(6, 5000);
      const [v, i] = ma.topk(x.multiply(3).subtract(1), 10);
      return ma.concatenate([v, i.astype('float32')], 1);
    });
    expect(g).toEqual(c);
  });

  it('scatter updates match the CPU exactly: repeated indices in order, every op, putAlongAxis, a 2-d slice', () => {
    const [c, g] = both(() => {
      const at = ma.array(Int32Array.from({ length: 5000 }, (_, i) => (i * 7919) % 37));
      const vals = ma.array(rand(5000, 5));
      const x = ma.array(rand(4 * 1000, 4)).reshape(4000);
      return ma.concatenate([
        x.at(at).set(vals),
        x
          .at(at)
          .add(vals), // float sums in index order: rounding shows any other order
        x.at(at).multiply(vals.add(1)),
        x.at(at).max(vals),
        x.at(at).min(vals),
        ma.putAlongAxis(x.reshape(40, 100), ma.array(Int32Array.from({ length: 40 * 3 }, (_, i) => (i * 31) % 100)).reshape(40, 3), 9, 1).reshape(-1),
        x.reshape(40, 100).at('3:30', '::3').add(x.reshape(40, 100).slice('3:30', '::3').multiply(1.5)).reshape(-1),
      ]);
    });
    expect(g).toEqual(c);
  });

  it('math functions give the same bits whether or not fusion made their argument a compile-time constant', () => {
    // isfinite of integers folds to true, so the fused kernel sees exp(-1) with a constant argument, which NVRTC would fold.
    const build = (): ma.MetalArray => {
      const one = ma.array(Int32Array.of(3, 4)).isfinite().astype('float32');
      const xs = [one.negative(), one.add(one)];
      return ma.concatenate(xs.flatMap((x) => [x.exp(), x.sin(), x.tanh(), x.erf(), x.expm1(), ma.arctan(x), x.cosh()]));
    };
    ma.setBackend('cuda');
    try {
      ma.setFusion(true);
      const fused = Array.from(build().toTypedArray() as Float32Array);
      ma.setFusion(false);
      expect(Array.from(build().toTypedArray() as Float32Array)).toEqual(fused);
    } finally {
      ma.setFusion(true);
    }
  });

  it('evalAsync resolves off the JS thread with the same result as eval', async () => {
    ma.setBackend('cuda');
    const build = (): ma.MetalArray => {
      let y = ma.array(rand(1 << 20));
      for (let i = 0; i < 20; i++) y = ma.sin(y).multiply(1.01);
      return y;
    };
    const pending = build().data();
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    const data = await pending;
    await new Promise((r) => setImmediate(r));
    expect(turned).toBe(true);
    expect(Array.from(data as Float32Array)).toEqual(Array.from(build().toTypedArray() as Float32Array));
  });

  it('custom kernels: a body with partial blocks, a 2-d shared-memory transpose, float16 bits, prepare and device timing', () => {
    ma.setBackend('cuda');
    const n = 1000;
    const saxpy = ma.customKernel({
      name: 'saxpy',
      source: { cuda: 'const uint32_t i = thread_position_in_grid.x; out[i] = 2.0f * x[i] + y[i];' },
      inputs: ['x', 'y'],
      outputs: [{ shape: [n], dtype: 'float32', name: 'out' }],
      grid: n,
      threads: 256,
    });
    const xs = rand(n, 3);
    const ys = rand(n, 4);
    const [z] = saxpy.dispatch(ma.array(xs), ma.array(ys));
    expect(z.backend).toBe('cuda');
    const got = z.toTypedArray() as Float32Array;
    for (let i = 0; i < n; i++) expect(got[i]).toBe(Math.fround(Math.fround(2 * xs[i]) + ys[i]));

    const T = 16;
    const transpose = ma.customKernel({
      name: 'transpose',
      source: {
        cuda: `__shared__ float tile[${T}][${T} + 1];
          const uint32_t w = threads_per_grid.x, h = threads_per_grid.y;
          tile[threadIdx.y][threadIdx.x] = a[thread_position_in_grid.y * w + thread_position_in_grid.x];
          __syncthreads();
          const uint32_t ox = blockIdx.y * ${T} + threadIdx.x, oy = blockIdx.x * ${T} + threadIdx.y;
          t[oy * h + ox] = tile[threadIdx.x][threadIdx.y];`,
      },
      inputs: ['a'],
      outputs: [{ shape: [64, 48], dtype: 'float32', name: 't' }],
      grid: [64, 48],
      threads: [T, T],
    });
    const a = ma.array(rand(48 * 64, 5)).reshape(48, 64);
    const [at] = transpose.dispatch(a);
    expect(at.toTypedArray()).toEqual(a.transpose().toTypedArray());

    const widen = ma.customKernel({
      name: 'widen',
      source: { cuda: 'const uint32_t i = thread_position_in_grid.x; w[i] = ma_h2f(h[i]) * 2.0f + (float)h_size * 0.0f;' },
      inputs: ['h'],
      outputs: [{ shape: [5], dtype: 'float32', name: 'w' }],
      grid: 5,
      threads: 32,
    });
    const [wd] = widen.dispatch(ma.array([0.5, -1, 65504, 1e-7, 3], 'float16'));
    expect(Array.from(wd.toTypedArray() as Float32Array)).toEqual([1, -2, 131008, Math.fround(2 * 1.1920928955078125e-7), 6]);

    const p = saxpy.prepare(ma.array(xs), ma.array(ys));
    const ms = p.dispatchTimed();
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(1000);
    expect(p.dispatch()[0]).toBe(p.outputs[0]);
    p.release();

    const bad = ma.customKernel({ name: 'bad', source: { cuda: 'out0[0] = undefined_name;' }, outputs: [{ shape: [1], dtype: 'float32' }], grid: 1 });
    expect(() => bad.dispatch()).toThrow(ma.CompileError);
    expect(() => bad.dispatch()).toThrow(/kernel "bad" \(grid \[1\], threads 1\): the CUDA source does not compile/);
    expect(() => ma.customKernel({ name: 'big', source: { cuda: '' }, outputs: [{ shape: [1], dtype: 'float32' }], grid: 1, threads: 2048 })).toThrow(
      ma.ArgumentError,
    );
  });

  it('random numbers: the same key gives the same bits, uniforms, integers and coin flips as the cpu (normals within float32 rounding of the math functions)', () => {
    const draw = (be: string) => {
      ma.setBackend(be);
      const [k1, k2, k3, k4, k5] = ma.random
        .split(ma.random.key(42), 5)
        .split(5)
        .map((k) => k.reshape(2));
      return {
        bits: Array.from(ma.random.bits(k1, [1000]).toTypedArray() as Uint32Array),
        uniform: Array.from(ma.random.uniform(k2, [1000]).toTypedArray() as Float32Array),
        randint: Array.from(ma.random.randint(k3, [1000], -5, 17).toTypedArray() as Int32Array),
        bernoulli: Array.from(ma.random.bernoulli(k4, 0.3, [1000]).toTypedArray() as Uint8Array),
        normal: Float64Array.from(ma.random.normal(k5, [1000]).toTypedArray() as Float32Array),
      };
    };
    const c = draw('cpu');
    const g = draw('cuda');
    expect(g.bits).toEqual(c.bits);
    expect(g.uniform).toEqual(c.uniform);
    expect(g.randint).toEqual(c.randint);
    expect(g.bernoulli).toEqual(c.bernoulli);
    let worst = 0;
    for (let i = 0; i < 1000; i++) worst = Math.max(worst, Math.abs(g.normal[i] - c.normal[i]) / Math.max(1e-3, Math.abs(c.normal[i])));
    expect(worst).toBeLessThan(1e-6);
  });

  it('memory comes from the CUDA pool and is reused', () => {
    ma.setBackend('cuda');
    const before = ma.memory().activeBytes;
    const a = ma.array(rand(1 << 16));
    ma.eval(a.add(1));
    expect(ma.memory().activeBytes).toBeGreaterThan(before);
    a.dispose();
  });
});
