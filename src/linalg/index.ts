/**
 * Linear algebra (`ma.linalg`), NumPy's `numpy.linalg` with SciPy's triangular solve
 * and LU: solves, factorizations and spectra on the system LAPACK (loaded at run time;
 * cpu backend), batched over leading axes in float32 and float64, with gradient rules;
 * norms, products and the rest on fused ops. See docs/linalg.md.
 *
 * @module
 */
export { inv, solve, solveTriangular, det, slogdet, lu, luFactor, cholesky, choleskyInv, type SolveTriangularOptions, type CholeskyOptions } from './solve.js';
export {
  qr,
  svd,
  svdvals,
  eigh,
  eigvalsh,
  eig,
  eigvals,
  type QrOptions,
  type SvdOptions,
  type ComplexPair,
} from './spectral.js';
export { lstsq, pinv, matrixRank, type LstsqOptions, type PinvOptions } from './least-squares.js';
export {
  norm,
  cond,
  trace,
  diagonal,
  kron,
  multiDot,
  cross,
  matrixPower,
  type NormOrder,
  type LinalgNormOptions,
  type DiagonalOptions,
  type CrossOptions,
} from './products.js';
export { lapackLibraryPath, type MatrixLike, type LinalgDType } from './lapack.js';
