/**
 * ma.linalg by identities (A·inv(A) = I, QR = A, U S Vᵀ = A, P L U = A, A V = V diag(w)),
 * batched, in float32 and float64, plus edge cases: empty and 0-size inputs, NaN and
 * ±Inf, integer promotion, and the typed errors (LinAlgError naming the batch element,
 * ShapeError naming both dims, BackendUnavailableError when no LAPACK loads).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { prng, randomArray } from '../transforms/derivatives.js';
import { expectClose } from './support.js';

const L = ma.linalg;
const r = prng(22);
const eye = (n: number, dtype: ma.DType = 'float64'): ma.MetalArray => ma.eye(n, null, 0, dtype);
const near = (got: ma.MetalArray, want: ma.MetalArray, tol: number): void => {
  expect(got.shape).toEqual(want.shape);
  expectClose(got, want.astype('float64').tolist() as never, { rtol: tol, atol: tol });
};

describe('identities, batched, float64 and float32', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    const tol = dtype === 'float64' ? 1e-10 : 2e-4;
    const a = randomArray(r, [3, 2, 4, 4]).add(eye(4).multiply(4)).astype(dtype);
    it(`${dtype}: A inv(A) = I, solve, det = product of eigenvalues of the LU`, () => {
      const x = L.inv(a);
      expect(x.dtype).toBe(dtype);
      near(a.matmul(x), eye(4, dtype).broadcastTo(a.shape), tol);
      const b = randomArray(r, [2, 4, 3]).astype(dtype);
      near(a.matmul(L.solve(a, b)), b.broadcastTo([3, 2, 4, 3]), tol);
      const [sign, logabs] = L.slogdet(a);
      near(sign.multiply(logabs.exp()), L.det(a), tol * 10);
    });
    it(`${dtype}: QR = A with orthonormal Q and upper R; P L U = A`, () => {
      const m = randomArray(r, [2, 5, 3]).astype(dtype);
      const [q, rr] = L.qr(m);
      near(q.matmul(rr), m, tol);
      near(q.swapaxes(-1, -2).matmul(q), eye(3, dtype).broadcastTo([2, 3, 3]), tol);
      near(ma.tril(rr, -1), rr.multiply(0), 0);
      const [p, l, u] = L.lu(m);
      near(p.matmul(l).matmul(u), m, tol);
      near(ma.triu(l, 1), l.multiply(0), 0);
    });
    it(`${dtype}: U S Vᵀ = A (full and reduced), A V = V diag(w), L Lᵀ = A`, () => {
      const m = randomArray(r, [2, 3, 5]).astype(dtype);
      const [u, s, vh] = L.svd(m, { fullMatrices: false });
      near(u.multiply(s.expandDims(-2)).matmul(vh), m, tol);
      const [uf, sf, vhf] = L.svd(m);
      expect([uf.shape, vhf.shape]).toEqual([
        [2, 3, 3],
        [2, 5, 5],
      ]);
      near(vhf.matmul(vhf.swapaxes(-1, -2)), eye(5, dtype).broadcastTo([2, 5, 5]), tol);
      near(sf, s, tol);
      const sym = m.matmul(m.swapaxes(-1, -2));
      const [w, v] = L.eigh(sym);
      near(sym.matmul(v), v.multiply(w.expandDims(-2)), tol * 10);
      const c = L.cholesky(sym.add(eye(3, dtype)));
      near(c.matmul(c.swapaxes(-1, -2)), sym.add(eye(3, dtype)), tol * 10);
      near(L.choleskyInv(c).matmul(sym.add(eye(3, dtype))), eye(3, dtype).broadcastTo([2, 3, 3]), tol * 10);
    });
  }
  it('eig: A v = λ v in complex arithmetic, conjugate pairs', () => {
    const a = ma.array(
      [
        [0, -2, 0],
        [1, 0, 0],
        [0, 0, 3],
      ],
      'float64',
    );
    const [w, v] = L.eig(a);
    // (A (vr + i vi)) = (wr + i wi)(vr + i vi)
    const avr = a.matmul(v.real);
    const avi = a.matmul(v.imag);
    const wr = w.real.expandDims(0);
    const wi = w.imag.expandDims(0);
    near(avr, v.real.multiply(wr).subtract(v.imag.multiply(wi)), 1e-12);
    near(avi, v.real.multiply(wi).add(v.imag.multiply(wr)), 1e-12);
    expect((w.imag.tolist() as number[]).map((x) => Math.abs(x))).toEqual([Math.SQRT2, Math.SQRT2, 0].map((x) => expect.closeTo(x, 12)));
  });
  it('lstsq x satisfies the normal equations; pinv is a generalized inverse', () => {
    const a = randomArray(r, [6, 3]);
    const b = randomArray(r, [6, 2]);
    const [x] = L.lstsq(a, b);
    near(a.T.matmul(a.matmul(x).subtract(b)), ma.zeros([3, 2], 'float64'), 1e-10);
    const p = L.pinv(a);
    near(a.matmul(p).matmul(a), a, 1e-10);
  });
});

describe('edge cases', () => {
  it('empty and 0-size inputs give empty results (identities for full factors, det 1)', () => {
    expect(L.inv(ma.zeros([0, 0], 'float64')).shape).toEqual([0, 0]);
    expect(L.inv(ma.zeros([0, 3, 3], 'float64')).shape).toEqual([0, 3, 3]);
    expect(L.det(ma.zeros([0, 0], 'float64')).item()).toBe(1);
    expect(L.det(ma.zeros([2, 0, 0], 'float64')).tolist()).toEqual([1, 1]);
    const [u, s, vh] = L.svd(ma.zeros([0, 3], 'float64'));
    expect([u.shape, s.shape]).toEqual([[0, 0], [0]]);
    expect(vh.tolist()).toEqual(eye(3).tolist());
    const [q, rr] = L.qr(ma.zeros([3, 0], 'float64'), { mode: 'complete' });
    expect([q.tolist(), rr.shape]).toEqual([eye(3).tolist(), [3, 0]]);
    expect(L.eigh(ma.zeros([0, 0], 'float64'))[0].shape).toEqual([0]);
    expect(L.solve(eye(2), ma.zeros([2, 0], 'float64')).shape).toEqual([2, 0]);
    expect(L.pinv(ma.zeros([0, 2], 'float64')).shape).toEqual([2, 0]);
    expect(L.matrixRank(ma.zeros([0, 2], 'float64')).item()).toBe(0);
  });
  it('integers promote to float64, float16 computes in float32 (as NumPy promotes)', () => {
    expect(
      L.inv([
        [2, 0],
        [0, 4],
      ]).dtype,
    ).toBe('float64');
    expectClose(
      L.inv([
        [2, 0],
        [0, 4],
      ]),
      [
        [0.5, 0],
        [0, 0.25],
      ],
    );
    expect(
      L.det(
        ma.array(
          [
            [1, 2],
            [3, 4],
          ],
          'int64',
        ),
      ).dtype,
    ).toBe('float64');
    expect(
      L.inv(
        ma.array(
          [
            [2, 0],
            [0, 4],
          ],
          'float16',
        ),
      ).dtype,
    ).toBe('float32');
  });
  it('NaN and ±Inf in give NaN out, never a hang', () => {
    const nan = ma.array(
      [
        [Number.NaN, 0],
        [0, 1],
      ],
      'float64',
    );
    const inf = ma.array(
      [
        [Number.POSITIVE_INFINITY, 1],
        [1, 1],
      ],
      'float64',
    );
    for (const m of [nan, inf]) {
      expect((L.svd(m, { computeUv: false }).tolist() as number[]).some((x) => Number.isNaN(x))).toBe(true);
      expect((L.eigh(m)[0].tolist() as number[]).every((x) => Number.isNaN(x))).toBe(true);
      expect((L.eigvals(m).real.tolist() as number[]).every((x) => Number.isNaN(x))).toBe(true);
      expect((L.lstsq(m, ma.ones([2], 'float64'))[0].tolist() as number[]).every((x) => Number.isNaN(x))).toBe(true);
    }
    // LU solves propagate as LAPACK does (NumPy's results): NaN spreads, an infinite pivot gives its limit.
    expect((L.solve(nan, ma.ones([2], 'float64')).tolist() as number[]).some((x) => Number.isNaN(x))).toBe(true);
    expect(L.solve(inf, ma.ones([2], 'float64')).tolist()).toEqual([0, 1]);
    expect(L.det(nan).item()).toBeNaN();
    expect(L.slogdet(nan)[1].item()).toBeNaN();
    expect((L.pinv(nan).tolist() as number[][]).flat().every((x) => Number.isNaN(x))).toBe(true);
  });
  it('singular matrices: LinAlgError naming the batch element; det 0 and slogdet (0, -Inf)', () => {
    const batch = ma.stack([eye(2), eye(2), ma.zeros([2, 2], 'float64')]).reshape([3, 1, 2, 2]);
    let err: unknown;
    try {
      L.inv(batch);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ma.LinAlgError);
    expect((err as ma.LinAlgError).batchIndex).toBe(2);
    expect((err as Error).message).toMatch(/linalg\.inv: singular matrix.*batch element 2, index \[2, 0\]/);
    expect(() => L.solve(ma.zeros([2, 2], 'float64'), ma.ones([2], 'float64'))).toThrow(ma.LinAlgError);
    expect(() => L.solveTriangular(ma.zeros([2, 2], 'float64'), ma.ones([2], 'float64'))).toThrow(/diagonal is zero/);
    expect(() =>
      L.cholesky(
        ma.array(
          [
            [1, 2],
            [2, 1],
          ],
          'float64',
        ),
      ),
    ).toThrow(/not positive definite/);
    expect(L.det(ma.zeros([2, 2], 'float64')).item()).toBe(0);
    const [sign, logabs] = L.slogdet(ma.zeros([2, 2], 'float64'));
    expect([sign.item(), logabs.item()]).toEqual([0, Number.NEGATIVE_INFINITY]);
  });
  it('shape and option errors name what is wrong', () => {
    expect(() => L.det(ma.zeros([2, 3], 'float64'))).toThrow(/must be square in its last two dims, got 2 x 3/);
    expect(() => L.inv(ma.zeros([3], 'float64'))).toThrow(ma.ShapeError);
    expect(() => L.solve(eye(3), ma.ones([2], 'float64'))).toThrow(/a is 3 x 3 but b has 2 rows/);
    expect(() => L.svd(eye(2), { full_matrices: true } as never)).toThrow(/unknown option 'full_matrices'/);
    expect(() => L.qr(eye(2), { mode: 'x' } as never)).toThrow(ma.ArgumentError);
    expect(() => L.norm(eye(2), { ord: 3 })).toThrow(/invalid matrix norm order/);
    expect(() => L.matrixPower(eye(2), 1.5)).toThrow(ma.ArgumentError);
  });
  it('a missing LAPACK is a BackendUnavailableError saying what to install', () => {
    const script = `import * as ma from './src/index.js';
try { ma.linalg.inv(ma.eye(2)); console.log('no error'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, METALARRAY_LAPACK_LIBRARY: '/nonexistent/liblapack.so' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stdout).toMatch(
      /BackendUnavailableError: linalg\.inv: no LAPACK library could be loaded: .*\/nonexistent\/liblapack\.so.*libopenblas0-pthread/s,
    );
  });
});
