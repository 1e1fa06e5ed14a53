// Run-time LAPACK: the system's LAPACK (OpenBLAS ships it inside libopenblas.so.0;
// Debian's liblapack.so.3 otherwise), found with dlopen so the addon neither links
// against one nor needs its headers: the Fortran prototypes are declared in lapack.cc.
//
// Each routine runs as a built-in kernel of the kernel table (one per routine and
// dtype) with the usual kernel ABI, looping over a batch of matrices in [start, end).
// Every array is row-major and contiguous, batch-major ([batch, ...]); the kernels
// reach LAPACK's column-major storage by solving the transposed problem where that is
// free (inv, solve, det, cholesky, svd) and by transposing copies otherwise. Args, in
// int64 words at the command's argOffset: 0 batches (the work count), 1 grain, then per
// kernel (buffers in brackets; `info` is int32 [batch], LAPACK's INFO per matrix):
//   lu       2 m 3 n                     [A, LU, piv int32 [b,k], perm int32 [b,m], info]
//   inv      2 n                         [A, X, info]
//   solve    2 n 3 k                     [A, B, X, info]
//   det      2 n                         [A, sign, logabsdet, det]
//   cholesky 2 n                         [A, L, info]  (lower, zeros above)
//   trsolve  2 n 3 k 4 lower 5 trans 6 unitDiagonal   [A, B, X, info]
//   qr       2 m 3 n 4 mode (0 reduced, 1 complete, 2 r only)   [A, Q, R] (no Q for r)
//   svd      2 m 3 n 4 job (0 values, 1 reduced, 2 full)   [A, S, U, Vt, info] (no U, Vt for values)
//   eigh     2 n 3 vectors               [A, W, V, info] (lower triangle read; no V without vectors)
//   eig      2 n 3 vectors               [A, Wre, Wim, Vre, Vim, info] (no V without vectors)
//   lstsq    2 m 3 n 4 k 5 rcond (the bits of a double)   [A, B, X [b,n,k], S [b,min], rank int32, info]
// A matrix holding NaN or ±Inf gives NaN results (info 0) for the iterative routines
// (svd, eigh, eig, lstsq), which may not converge on them. info is -1000 when a
// workspace could not be allocated.
#pragma once

#include <cstdint>
#include <string>

namespace ma {

enum LapackKernel : int {
  kLu,
  kInv,
  kSolve,
  kDet,
  kCholesky,
  kTrsolve,
  kQr,
  kSvd,
  kEigh,
  kEig,
  kLstsq,
  kLapackKernelCount
};

struct LapackLibrary {
  std::string path;                            // what dlopen was given
  std::uint32_t f32[kLapackKernelCount] = {};  // kernel ids by LapackKernel
  std::uint32_t f64[kLapackKernelCount] = {};
};

// Loads LAPACK once per process (empty request: libopenblas.so.0, libopenblas.so,
// liblapack.so.3, first that loads and has every routine; else exactly that path) and
// registers its kernels. Throws ERR_MA_DLOPEN naming every candidate tried and why.
const LapackLibrary& LoadLapack(const std::string& request);

}  // namespace ma
