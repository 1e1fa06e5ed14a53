/**
 * The linalg differentiation rules (VJP and JVP, JAX's) against central finite
 * differences in float64 (test/transforms/derivatives.ts). Inputs are kept well
 * conditioned (diagonal shifts, distinct eigen/singular values) so the differences are
 * accurate; symmetric-input functions (cholesky, eigh) are checked through a
 * symmetric parametrization, as their rules symmetrize the tangent.
 */
import { describe, it } from 'vitest';
import * as ma from '../../src/index.js';
import { checkDerivatives, prng, randomArray } from '../transforms/derivatives.js';

const L = ma.linalg;
const r = prng(2022);
const eye = (n: number): ma.MetalArray => ma.eye(n, null, 0, 'float64');
/** A well-conditioned square matrix: random plus a diagonal shift. */
const square = (n: number, batch: number[] = []): ma.MetalArray => randomArray(r, [...batch, n, n]).add(eye(n).multiply(3));
/** An SPD matrix from any square x. */
const spd = (x: ma.MetalArray): ma.MetalArray => x.matmul(x.swapaxes(-1, -2)).add(eye(x.shape[x.ndim - 1]).multiply(2));
const sym = (x: ma.MetalArray): ma.MetalArray => x.add(x.swapaxes(-1, -2));

describe('linalg gradients vs finite differences (float64)', () => {
  it('inv (batched)', () => {
    checkDerivatives('inv', (a) => L.inv(a), [square(3, [2])]);
  });
  it('solve: matrix and vector right-hand sides, broadcast batch', () => {
    checkDerivatives('solve matrix', (a, b) => L.solve(a, b), [square(3, [2]), randomArray(r, [3, 2])]);
    checkDerivatives('solve vector', (a, b) => L.solve(a, b), [square(4), randomArray(r, [4])]);
  });
  it('solveTriangular: lower, upper transposed, unit diagonal', () => {
    const b = randomArray(r, [3, 2]);
    checkDerivatives('solveTriangular lower', (a, y) => L.solveTriangular(a, y, { lower: true }), [square(3), b]);
    checkDerivatives('solveTriangular upper trans', (a, y) => L.solveTriangular(a, y, { trans: true }), [square(3), b]);
    checkDerivatives('solveTriangular unit', (a, y) => L.solveTriangular(a, y, { lower: true, unitDiagonal: true }), [square(3), b]);
  });
  it('det and slogdet (batched)', () => {
    checkDerivatives('det', (a) => L.det(a), [square(3, [2])]);
    checkDerivatives('slogdet', (a) => L.slogdet(a)[1], [square(3, [2])]);
  });
  it('cholesky through an SPD parametrization', () => {
    checkDerivatives('cholesky', (x) => L.cholesky(spd(x)), [randomArray(r, [2, 3, 3])]);
  });
  it('eigh: values and vectors through a symmetric parametrization', () => {
    const x = randomArray(r, [4, 4]);
    checkDerivatives('eigh values', (a) => L.eigh(sym(a))[0], [x]);
    checkDerivatives('eigvalsh', (a) => L.eigvalsh(sym(a)), [x]);
    // Eigenvectors have a sign freedom: check a sign-invariant function of them.
    checkDerivatives(
      'eigh vectors',
      (a) => {
        const v = L.eigh(sym(a))[1];
        return v.multiply(v);
      },
      [x],
    );
  });
  it('svd: values, and factors through sign-invariant products', () => {
    const x = randomArray(r, [4, 3]);
    checkDerivatives('svd values', (a) => L.svd(a, { computeUv: false }), [x]);
    checkDerivatives(
      'svd u',
      (a) => {
        const u = L.svd(a, { fullMatrices: false })[0];
        return u.multiply(u);
      },
      [x],
    );
    checkDerivatives(
      'svd vh',
      (a) => {
        const vh = L.svd(a, { fullMatrices: false })[2];
        return vh.multiply(vh);
      },
      [x],
    );
    checkDerivatives(
      'svd u·vh (wide)',
      (a) => {
        const [u, , vh] = L.svd(a, { fullMatrices: false });
        return u.matmul(vh);
      },
      [randomArray(r, [3, 5])],
    );
  });
  it('qr (tall and square)', () => {
    checkDerivatives('qr q', (a) => L.qr(a)[0], [randomArray(r, [5, 3])]);
    checkDerivatives('qr r', (a) => L.qr(a)[1], [randomArray(r, [5, 3])]);
    checkDerivatives(
      'qr square',
      (a) => {
        const [q, rr] = L.qr(a);
        return q.add(rr);
      },
      [square(3)],
    );
  });
  it('lstsq and pinv (full rank)', () => {
    checkDerivatives('lstsq', (a, b) => L.lstsq(a, b)[0], [randomArray(r, [5, 3]), randomArray(r, [5, 2])]);
    checkDerivatives('lstsq vector', (a, b) => L.lstsq(a, b)[0], [randomArray(r, [5, 3]), randomArray(r, [5])]);
    checkDerivatives('pinv tall', (a) => L.pinv(a), [randomArray(r, [5, 3])]);
    checkDerivatives('pinv wide', (a) => L.pinv(a), [randomArray(r, [2, 4])]);
  });
  it('composite: norms, cond and trace differentiate through the factorizations', () => {
    checkDerivatives('norm nuc', (a) => L.norm(a, { ord: 'nuc' }), [randomArray(r, [3, 4])]);
    checkDerivatives('cond', (a) => L.cond(a), [square(3)]);
    checkDerivatives('trace(inv)', (a) => L.trace(L.inv(a)), [square(3)]);
  });
});
