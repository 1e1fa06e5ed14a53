/**
 * ma.linalg against NumPy (fixtures from test/fixtures/linalg.py): the same LAPACK
 * routines NumPy calls, so values match to rounding; factors with a sign freedom (QR,
 * SVD, eigh) are compared up to the sign of each column/row.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { type Nested, decode, expectClose, f64 } from './support.js';

interface Case {
  inputs: Nested[];
  outputs: Nested[];
  mode?: string;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/linalg.json', import.meta.url), 'utf8')) as { cases: Record<string, Case> };
const c = (name: string): { inputs: ma.MetalArray[]; outputs: Nested[]; mode?: string } => {
  const k = fixture.cases[name];
  if (k === undefined) throw new Error(`no fixture ${name}`);
  return { inputs: k.inputs.map(f64), outputs: k.outputs, mode: k.mode };
};
const L = ma.linalg;

/** `x` with each column's sign flipped to match `ref` (a column is defined up to sign). */
function alignColumns(x: ma.MetalArray, ref: ma.MetalArray): ma.MetalArray {
  const signs = x.multiply(ref).sum(-2, true).sign();
  return x.multiply(ma.where(signs.equal(0), 1, signs));
}

describe('linalg vs NumPy: systems and determinants', () => {
  it('inv, single and batched', () => {
    for (const name of ['inv', 'inv_batched']) {
      const { inputs, outputs } = c(name);
      expectClose(L.inv(inputs[0]), outputs[0]);
    }
  });
  it('solve: vector, matrix and broadcast batch right-hand sides', () => {
    for (const name of ['solve_vector', 'solve_matrix', 'solve_broadcast']) {
      const { inputs, outputs } = c(name);
      expectClose(L.solve(inputs[0], inputs[1]), outputs[0]);
    }
  });
  it('det and slogdet', () => {
    expectClose(L.det(c('det').inputs[0]), c('det').outputs[0]);
    const { inputs, outputs } = c('slogdet');
    const [sign, logdet] = L.slogdet(inputs[0]);
    expectClose(sign, outputs[0]);
    expectClose(logdet, outputs[1]);
  });
  it('cholesky (lower, and upper as its transpose)', () => {
    const { inputs, outputs } = c('cholesky');
    expectClose(L.cholesky(inputs[0]), outputs[0]);
    expectClose(L.cholesky(inputs[0], { upper: true }).swapaxes(-1, -2), outputs[0]);
  });
  it('solveTriangular reads one triangle, with trans', () => {
    const lower = c('solve_triangular_lower');
    // Garbage above the diagonal must not be read.
    const noisy = lower.inputs[0].add(ma.triu(ma.ones([4, 4], 'float64').multiply(100), 1));
    expectClose(L.solveTriangular(noisy, lower.inputs[1], { lower: true }), lower.outputs[0]);
    const upper = c('solve_triangular_upper_trans');
    expectClose(L.solveTriangular(upper.inputs[0], upper.inputs[1], { trans: true }), upper.outputs[0]);
  });
});

describe('linalg vs NumPy: factorizations', () => {
  it('qr in every mode, tall and wide', () => {
    for (const shape of ['tall', 'wide']) {
      for (const mode of ['reduced', 'complete'] as const) {
        const { inputs, outputs } = c(`qr_${shape}_${mode}`);
        const [q, r] = L.qr(inputs[0], { mode });
        // Householder QR through the same LAPACK: same signs.
        expectClose(q, outputs[0]);
        expectClose(r, outputs[1]);
      }
      const { inputs, outputs } = c(`qr_${shape}_r`);
      expectClose(L.qr(inputs[0], { mode: 'r' }), outputs[0]);
    }
  });
  it('svd: full factors up to sign, values exactly', () => {
    for (const shape of ['tall', 'wide']) {
      const { inputs, outputs } = c(`svd_${shape}`);
      const [u, s, vh] = L.svd(inputs[0]);
      expectClose(s, outputs[1]);
      const k = s.shape[0];
      const uRef = f64(outputs[0]);
      const vRef = f64(outputs[2]);
      expectClose(alignColumns(u.slice(`:, 0:${k}`), uRef.slice(`:, 0:${k}`)), uRef.slice(`:, 0:${k}`).tolist() as Nested);
      expectClose(alignColumns(vh.slice(`0:${k}`).T, vRef.slice(`0:${k}`).T), vRef.slice(`0:${k}`).T.tolist() as Nested);
      expect(u.shape).toEqual(uRef.shape);
      expect(vh.shape).toEqual(vRef.shape);
      expectClose(L.svdvals(inputs[0]), c(`svdvals_${shape}`).outputs[0]);
    }
    expectClose(L.svd(c('svdvals_batched').inputs[0], { computeUv: false }), c('svdvals_batched').outputs[0]);
  });
  it('eigh and eigvalsh read the lower triangle', () => {
    const { inputs, outputs } = c('eigh');
    const [w, v] = L.eigh(inputs[0]);
    expectClose(w, outputs[0]);
    const vRef = f64(outputs[1]);
    expectClose(alignColumns(v, vRef), outputs[1], { rtol: 1e-8, atol: 1e-9 });
    expectClose(L.eigvalsh(inputs[0]), c('eigvalsh').outputs[0]);
  });
  it('eigvals: real and imaginary parts as NumPy', () => {
    const { inputs, outputs } = c('eigvals');
    const w = L.eigvals(inputs[0]);
    expectClose(w.real, outputs[0]);
    expectClose(w.imag, outputs[1]);
  });
});

describe('linalg vs NumPy: least squares and rank', () => {
  it('lstsq, full rank and rank deficient', () => {
    for (const name of ['lstsq', 'lstsq_rank_deficient']) {
      const { inputs, outputs } = c(name);
      const [x, res, rank, s] = L.lstsq(inputs[0], inputs[1]);
      expectClose(x, outputs[0], { rtol: 1e-8, atol: 1e-9 });
      expectClose(res, outputs[1], { rtol: 1e-7, atol: 1e-9 });
      expect(rank).toBe(decode(outputs[2]));
      expectClose(s, outputs[3]);
    }
  });
  it('pinv and matrixRank', () => {
    expectClose(L.pinv(c('pinv').inputs[0]), c('pinv').outputs[0]);
    expectClose(L.pinv(c('pinv_deficient').inputs[0]), c('pinv_deficient').outputs[0]);
    expect(L.matrixRank(c('matrix_rank').inputs[0]).item()).toBe(decode(c('matrix_rank').outputs[0]));
  });
});

describe('linalg vs NumPy: norms and products', () => {
  it('matrix norms of every order', () => {
    const { inputs, outputs } = c('norms');
    const orders = [null, 'fro', 'nuc', 1, -1, 2, -2, Infinity, -Infinity] as const;
    orders.forEach((ord, i) => {
      expectClose(L.norm(inputs[0], { ord }), outputs[i]);
    });
  });
  it('vector norms of every order', () => {
    const { inputs, outputs } = c('vector_norms');
    const orders = [null, 1, 2, 3, 0, -1, -2, Infinity, -Infinity, 0.5] as const;
    orders.forEach((ord, i) => {
      expectClose(L.norm(inputs[0], { ord }), outputs[i]);
    });
  });
  it('matrix norms over chosen axes, keepdims', () => {
    const { inputs, outputs } = c('norms_axis');
    expectClose(L.norm(inputs[0], { ord: 2, axis: [1, 2] }), outputs[0]);
    expectClose(L.norm(inputs[0], { ord: 'nuc', axis: [2, 1] }), outputs[1]);
    expectClose(L.norm(inputs[0], { ord: 1, axis: [0, 2], keepdims: true }), outputs[2]);
  });
  it('ma.norm still works beside linalg.norm', () => {
    const { inputs, outputs } = c('norms');
    expectClose(ma.norm(inputs[0]), outputs[0]);
  });
  it('cond', () => {
    const { inputs, outputs } = c('cond');
    const ps = [null, -2, 1, -1, Infinity, 'fro'] as const;
    ps.forEach((p, i) => {
      expectClose(L.cond(inputs[0], p), outputs[i], { rtol: 1e-8 });
    });
  });
  it('matrixPower', () => {
    const { inputs, outputs } = c('matrix_power');
    [0, 1, 2, 5, -1, -3].forEach((p, i) => {
      expectClose(L.matrixPower(inputs[0], p), outputs[i], { rtol: 1e-8, atol: 1e-9 });
    });
  });
  it('kron, cross, trace, diagonal, multiDot', () => {
    expectClose(L.kron(c('kron').inputs[0], c('kron').inputs[1]), c('kron').outputs[0]);
    expectClose(L.kron(c('kron_mixed').inputs[0], c('kron_mixed').inputs[1]), c('kron_mixed').outputs[0]);
    expectClose(L.cross(c('cross').inputs[0], c('cross').inputs[1]), c('cross').outputs[0]);
    const { inputs, outputs } = c('trace_diagonal');
    expectClose(L.trace(inputs[0]), outputs[0]);
    expectClose(L.trace(inputs[0], { offset: 1 }), outputs[1]);
    expectClose(L.trace(inputs[0], { offset: -1 }), outputs[2]);
    expectClose(L.diagonal(inputs[0], { offset: 2 }), outputs[3]);
    expectClose(L.diagonal(inputs[0], { offset: -2 }), outputs[4]);
    const md = c('multi_dot');
    expectClose(L.multiDot(md.inputs), md.outputs[0]);
    expectClose(L.multiDot([md.inputs[1], md.inputs[2]]), md.outputs[1]);
  });
});
