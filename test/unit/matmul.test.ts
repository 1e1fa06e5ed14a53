import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { pinCpuBackend } from '../support/backend.js';

/** Reference batched matmul in float64 over row-major data (independent of the library). */
function refMatmul(a: number[], aShape: number[], b: number[], bShape: number[]): { shape: number[]; values: number[] } {
  const aVec = aShape.length === 1;
  const bVec = bShape.length === 1;
  const as = aVec ? [1, aShape[0]] : aShape;
  const bs = bVec ? [bShape[0], 1] : bShape;
  const [M, K] = as.slice(-2);
  const N = bs[bs.length - 1];
  const ab = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = ab[ab.length - rank + i] ?? 1;
    const y = bb[bb.length - rank + i] ?? 1;
    batch.push(Math.max(x, y));
  }
  const nb = batch.reduce((p, d) => p * d, 1);
  const values: number[] = [];
  const batchIndex = (flat: number, shape: number[]): number => {
    // index into an operand's batch dims with broadcasting against `batch`
    let idx = 0;
    let rest = flat;
    const coords: number[] = [];
    for (let i = rank - 1; i >= 0; i--) {
      coords[i] = rest % batch[i];
      rest = Math.floor(rest / batch[i]);
    }
    const off = rank - shape.length;
    for (let i = 0; i < shape.length; i++) idx = idx * shape[i] + (shape[i] === 1 ? 0 : coords[off + i]);
    return idx;
  };
  for (let t = 0; t < nb; t++) {
    const ai = batchIndex(t, ab) * M * K;
    const bi = batchIndex(t, bb) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ai + i * K + k] * b[bi + k * N + j];
        values.push(s);
      }
    }
  }
  let shape = [...batch, M, N];
  if (aVec) shape = shape.filter((_, i) => i !== shape.length - 2);
  if (bVec) shape = shape.slice(0, -1);
  return { shape, values };
}

const dims = fc.constantFrom(1, 2, 3, 5, 8, 33);
const caseArb = fc
  .record({
    m: dims,
    n: dims,
    k: fc.constantFrom(0, 1, 3, 7, 40),
    batchA: fc.array(fc.constantFrom(1, 2, 3), { maxLength: 2 }),
    batchB: fc.array(fc.constantFrom(1, 2, 3), { maxLength: 2 }),
    aVec: fc.boolean(),
    bVec: fc.boolean(),
    transA: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
  })
  .filter(({ batchA, batchB }) => {
    const r = Math.max(batchA.length, batchB.length);
    for (let i = 0; i < r; i++) {
      const x = batchA[batchA.length - r + i] ?? 1;
      const y = batchB[batchB.length - r + i] ?? 1;
      if (x !== y && x !== 1 && y !== 1) return false;
    }
    return true;
  });

function values(n: number, seed: number): number[] {
  const out: number[] = [];
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out.push(Math.round((s / 2147483648) * 8 - 4));
  }
  return out;
}

describe('matmul against a float64 reference', () => {
  it('random shapes: 1-D promotion, broadcast batch dims, transposed operands, K = 0', () => {
    fc.assert(
      fc.property(caseArb, ({ m, n, k, batchA, batchB, aVec, bVec, transA, seed }) => {
        const aShape = aVec ? [k] : [...batchA, m, k];
        const bShape = bVec ? [k] : [...batchB, k, n];
        const av = values(
          aShape.reduce((p: number, d: number) => p * d, 1),
          seed,
        );
        const bv = values(
          bShape.reduce((p: number, d: number) => p * d, 1),
          seed + 7,
        );
        let A = ma.array(av).reshape(aShape);
        // The same values through a transposed buffer: exercises strided operands.
        if (transA && !aVec) A = ma.array(av).reshape(aShape).swapaxes(-1, -2).eval().swapaxes(-1, -2);
        const B = ma.array(bv).reshape(bShape);
        const ref = refMatmul(av, aShape, bv, bShape);
        const y = ma.matmul(A, B);
        expect(y.shape).toEqual(ref.shape);
        // small integers: every product and sum is exact in float32
        expect(Array.from(y.toTypedArray() as Float32Array)).toEqual(ref.values);
      }),
      { numRuns: 80 },
    );
  });

  it('integer and float16 dtypes; mismatched shapes are a ShapeError', () => {
    expect(ma.matmul(ma.array([[1, 2]], 'int8'), ma.array([[100], [100]], 'int8')).tolist()).toEqual([[44]]); // 300 wraps
    expect(ma.matmul(ma.array([[1, 2]], 'float16'), ma.array([[3], [4]], 'float16')).dtype).toBe('float16');
    expect(ma.matmul(ma.array([[1, 2]], 'int32'), ma.array([[0.5], [1]])).dtype).toBe('float32');
    expect(() => ma.matmul(ma.ones([2, 3]), ma.ones([2, 3]))).toThrow(/matmul: shapes \[2, 3\] and \[2, 3\]/);
    expect(() => ma.matmul(ma.ones([2]), 3)).toThrow(ma.ShapeError);
  });

  it('dot, inner, outer and tensordot follow NumPy', () => {
    expect(ma.dot(ma.array([1, 2, 3]), ma.array([4, 5, 6])).item()).toBe(32);
    expect(ma.dot(ma.array([[1, 2]]), 3).tolist()).toEqual([[3, 6]]);
    expect(
      ma
        .inner(
          ma.array([
            [1, 2],
            [3, 4],
          ]),
          ma.array([
            [1, 0],
            [0, 1],
          ]),
        )
        .tolist(),
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(ma.outer(ma.array([1, 2]), ma.array([3, 4, 5])).tolist()).toEqual([
      [3, 4, 5],
      [6, 8, 10],
    ]);
    const t = ma.tensordot(ma.arange(24).reshape(2, 3, 4).astype('float32'), ma.ones([4, 3]), [
      [1, 2],
      [1, 0],
    ]);
    expect(t.tolist()).toEqual([66, 210]);
    const d3 = ma.dot(ma.ones([2, 3]), ma.ones([4, 3, 5]));
    expect(d3.shape).toEqual([2, 4, 5]);
  });
});

describe('einsum', () => {
  const a = ma.array([
    [1, 2],
    [3, 4],
  ]);
  const b = ma.array([
    [5, 6],
    [7, 8],
  ]);
  it('one operand: trace, diagonal, transpose, total', () => {
    expect(ma.einsum('ii', a).item()).toBe(5);
    expect(ma.einsum('ii->i', a).tolist()).toEqual([1, 4]);
    expect(ma.einsum('ij->ji', a).tolist()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(ma.einsum('ij->', a).item()).toBe(10);
    expect(ma.einsum('...ij->...ji', ma.ones([2, 3, 4])).shape).toEqual([2, 4, 3]);
  });
  it('two operands: matmul, implicit output, outer, batched, row-wise dot', () => {
    expect(ma.einsum('ij,jk->ik', a, b).tolist()).toEqual([
      [19, 22],
      [43, 50],
    ]);
    expect(ma.einsum('ij,jk', a, b).tolist()).toEqual([
      [19, 22],
      [43, 50],
    ]);
    expect(ma.einsum('i,j->ij', ma.array([1, 2]), ma.array([3, 4, 5])).tolist()).toEqual([
      [3, 4, 5],
      [6, 8, 10],
    ]);
    expect(ma.einsum('ij,ij->i', a, b).tolist()).toEqual([17, 53]);
    const x = ma.arange(24).reshape(2, 3, 4).astype('float32');
    const y = ma.arange(40).reshape(2, 4, 5).astype('float32');
    expect(ma.einsum('bij,bjk->bik', x, y).tolist()).toEqual(ma.matmul(x, y).tolist());
    expect(ma.einsum('bij,bjk->ik', x, y).tolist()).toEqual(ma.sum(ma.matmul(x, y), 0).tolist());
  });
  it('bad subscripts are typed errors', () => {
    expect(() => ma.einsum('ij,jk->ik', a)).toThrow(ma.ArgumentError);
    expect(() => ma.einsum('ijk', a)).toThrow(ma.ShapeError);
    expect(() => ma.einsum('ij,jk->iz', a, b)).toThrow(ma.ArgumentError);
    expect(() => ma.einsum('ij,ij->i', a, ma.ones([2, 3]))).toThrow(ma.ShapeError);
  });
});

describe('matmul fusion (generated kernels)', () => {
  beforeAll(() => ma.setCpuMatmul('generated'));
  afterAll(() => ma.setCpuMatmul('auto'));
  const a = ma.array(values(64 * 48, 3), 'float32').reshape(64, 48);
  const b = ma.array(values(48 * 40, 5), 'float32').reshape(48, 40);
  const bias = ma.array(values(40, 9), 'float32');
  const launches = (y: ma.MetalArray): number => {
    ma.resetMetrics();
    ma.eval(y);
    return ma.metrics().kernelLaunches;
  };

  it('relu(a @ b + bias) is 1 kernel launch, with transposed and broadcast operands read by strides', () => {
    expect(launches(ma.relu(ma.matmul(a, b).add(bias)))).toBe(1);
    expect(launches(ma.relu(ma.matmul(b.T, a.T).multiply(0.5).add(bias.reshape(40, 1))))).toBe(1);
    expect(launches(ma.matmul(ma.broadcastTo(a, [3, 64, 48]), b))).toBe(1);
  });

  it('the fused epilogue gives the same values as separate kernels', () => {
    const fused = Array.from(ma.relu(ma.matmul(a, b).add(bias)).toTypedArray() as Float32Array);
    ma.setFusion(false);
    try {
      const unfused = Array.from(ma.relu(ma.matmul(a, b).add(bias)).toTypedArray() as Float32Array);
      expect(fused).toEqual(unfused);
    } finally {
      ma.setFusion(true);
    }
  });

  it('a computed operand is materialized first; a transposed product result is not fused into a view', () => {
    expect(launches(ma.matmul(a.exp(), b))).toBe(2);
    expect(launches(ma.matmul(a, b).T.add(1))).toBe(2);
  });
});

describe('the system BLAS path (cpu backend, whatever the default)', () => {
  const blas = ma.blasInfo();
  // The BLAS serves the cpu backend: its arrays live there even when a GPU backend is the default.
  const previous = ma.getBackend();
  ma.setBackend('cpu');
  const a = ma.array(values(64 * 48, 3), 'float32').reshape(64, 48);
  const b = ma.array(values(48 * 40, 5), 'float32').reshape(48, 40);
  const bias = ma.array(values(40, 9), 'float32');
  ma.setBackend(previous);
  pinCpuBackend();
  const inMode = <T>(mode: 'auto' | 'blas' | 'generated', fn: () => T): T => {
    ma.setCpuMatmul(mode);
    try {
      return fn();
    } finally {
      ma.setCpuMatmul('auto');
    }
  };

  it('is found where a BLAS is installed (REQUIRE_BLAS=1: always), says why where not, and products use what it says', () => {
    if (process.env.REQUIRE_BLAS === '1') expect(blas).toMatchObject({ available: true, reason: null });
    // Linux: a BLAS the dynamic loader knows (one of the names the addon tries) must be found.
    const known = spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
    if (!process.env.METALARRAY_BLAS && /libopenblas\.so\.0|libmkl_rt\.so|libblis\.so\.4/.test(known)) {
      expect(blas.available).toBe(true);
    }
    if (blas.available) {
      expect(blas.library).toMatch(/blas|mkl|blis|Accelerate/i);
      expect(blas.reason).toBeNull();
      expect(inMode('blas', () => ma.explain(ma.matmul(a, b)))).toContain(`matmul via ${blas.library}`);
    } else {
      expect(blas.library).toBeNull();
      expect(blas.reason).toMatch(/BLAS|blas|mkl|blis/);
      // Asking for the BLAS then is a typed error carrying the reason; products stay generated.
      expect(() => ma.setCpuMatmul('blas')).toThrow(ma.BackendUnavailableError);
      expect(() => ma.setCpuMatmul('blas')).toThrow(blas.reason as string);
      expect(ma.explain(ma.matmul(a, b))).not.toContain('matmul via');
    }
  });

  it('a bad mode is an ArgumentError; the default is auto', () => {
    expect(ma.getCpuMatmul()).toBe('auto');
    expect(() => ma.setCpuMatmul('fast' as 'auto')).toThrow(ma.ArgumentError);
    expect(ma.getCpuMatmul()).toBe('auto');
  });

  it.skipIf(!blas.available)('runs float32/float64 products, transposed and batched, with the epilogue as a second kernel', () => {
    const y = () => ma.relu(ma.matmul(b.T, a.T).multiply(0.5).add(bias.reshape(40, 1)));
    const generated = inMode('generated', () => y().toTypedArray() as Float32Array);
    const viaBlas = inMode('blas', () => {
      const out = y();
      expect(ma.explain(out)).toContain(`matmul via ${blas.library}`);
      ma.resetMetrics();
      const v = out.toTypedArray() as Float32Array;
      expect(ma.metrics().kernelLaunches).toBe(2);
      return v;
    });
    for (let i = 0; i < generated.length; i++) expect(viaBlas[i]).toBeCloseTo(generated[i], 3);
    // float64, broadcast batch dims, a flipped batch axis (negative batch stride)
    const a64 = ma.array(Float64Array.from(values(2 * 3 * 5 * 4, 1), (v) => v / 7)).reshape(2, 3, 5, 4);
    const b64 = ma.array(Float64Array.from(values(3 * 4 * 6, 2), (v) => v / 3)).reshape(3, 4, 6);
    const prod = () => ma.matmul(ma.flip(a64, 1), b64).toTypedArray() as Float64Array;
    const g64 = inMode('generated', prod);
    const l64 = inMode('blas', prod);
    expect(l64.length).toBe(2 * 3 * 5 * 6);
    for (let i = 0; i < g64.length; i++) expect(Math.abs(l64[i] - g64[i])).toBeLessThan(1e-12 * (1 + Math.abs(g64[i])));
  });

  it.skipIf(!blas.available)('leaves what a BLAS cannot take to the generated kernel', () => {
    inMode('blas', () => {
      // integer and half dtypes, stride-0 (broadcast) matrix dims, empty products
      expect(ma.explain(ma.matmul(a.astype('int32'), b.astype('int32')))).not.toContain('matmul via');
      expect(ma.explain(ma.matmul(a.astype('float16'), b.astype('float16')))).not.toContain('matmul via');
      expect(ma.explain(ma.matmul(ma.broadcastTo(bias.reshape(1, 40), [48, 40]).T, b))).not.toContain('matmul via');
      const empty = ma.matmul(ma.zeros([3, 0]), ma.zeros([0, 2]));
      expect(ma.explain(empty)).not.toContain('matmul via');
      expect(Array.from(empty.toTypedArray() as Float32Array)).toEqual([0, 0, 0, 0, 0, 0]);
    });
  });

  it.skipIf(!blas.available)('auto mode hands large float products to the BLAS and keeps small ones fused', () => {
    const big = ma.ones([128, 128]).add(0);
    expect(ma.explain(ma.matmul(big, big))).toContain('matmul via');
    expect(ma.explain(ma.relu(ma.matmul(a, b).add(bias)))).not.toContain('matmul via');
  });

  it('METALARRAY_BLAS=off or a missing library: no BLAS, with the reason, and products still right', () => {
    const script = `
      import * as ma from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).pathname)};
      const info = ma.blasInfo();
      let blasMode = 'ok';
      try { ma.setCpuMatmul('blas'); } catch (e) { blasMode = e.name; }
      const y = ma.matmul(ma.ones([200, 200]), ma.ones([200, 200]));
      console.log(JSON.stringify({ info, blasMode, sum: ma.sum(y).item(), explain: ma.explain(ma.matmul(ma.ones([200, 200]), ma.ones([200, 200]))) }));
    `;
    for (const env of ['off', '/nonexistent/libopenblas.so.0']) {
      const file = join(tmpdir(), `ma-blas-${process.pid}-${Math.random().toString(36).slice(2)}.ts`);
      writeFileSync(file, script);
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
        encoding: 'utf8',
        env: { ...process.env, METALARRAY_BLAS: env, METALARRAY_BACKEND: 'cpu' },
      });
      rmSync(file, { force: true });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
      expect(out.info.available).toBe(false);
      expect(out.info.reason).toContain(env === 'off' ? 'METALARRAY_BLAS=off' : '/nonexistent/libopenblas.so.0');
      expect(out.blasMode).toBe('BackendUnavailableError');
      expect(out.sum).toBe(200 * 200 * 200);
      expect(out.explain).not.toContain('matmul via');
    }
  });
});
