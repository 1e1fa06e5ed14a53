// Run-time BLAS: the system's optimized CBLAS gemm (OpenBLAS on Linux, Accelerate on
// macOS), found with dlopen so the addon neither links against one nor needs one.
//
// Its gemm runs as two built-in kernels of the kernel table (float32, float64) with the
// usual kernel ABI. Their args, in int64 words at the command's argOffset:
//   0 batches (the work count)   1 grain (= batches: one call; the BLAS threads itself)
//   2 M  3 N  4 K                5 transA  6 lda  7 transB  8 ldb
//   9 aOffset  10 bOffset (elements)   11 batchRank r
//   12.. r batch dims, then r batch strides of A, then r of B (elements)
// Buffers: [C, A, B]; C is contiguous [batches, M, N]. M, N, K, lda and ldb fit in int32
// (the caller checks; CBLAS takes int).
#pragma once

#include <cstdint>
#include <string>

namespace ma {

struct BlasLibrary {
  std::string path;            // what dlopen was given
  std::uint32_t gemmF32 = 0;   // kernel ids
  std::uint32_t gemmF64 = 0;
};

// Loads the BLAS once per request (empty: the platform's default candidates, first that
// loads and has cblas_sgemm and cblas_dgemm; else exactly that path) and registers its
// kernels. Throws ERR_MA_DLOPEN naming every candidate tried and why it failed.
const BlasLibrary& LoadBlas(const std::string& request);

}  // namespace ma
