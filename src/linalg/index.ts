/**
 * `ma.linalg`: linear algebra on the system LAPACK (cpu backend) and on fused ops.
 * See docs/linalg.md.
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
  lstsq,
  pinv,
  matrixRank,
  type QrOptions,
  type SvdOptions,
  type ComplexPair,
  type LstsqOptions,
  type PinvOptions,
} from './spectral.js';
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
