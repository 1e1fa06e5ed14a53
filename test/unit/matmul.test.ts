import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

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

describe('matmul fusion', () => {
  const a = ma.array(values(64 * 48, 3)).reshape(64, 48);
  const b = ma.array(values(48 * 40, 5)).reshape(48, 40);
  const bias = ma.array(values(40, 9));
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
