#include "blas.h"

#include <map>
#include <mutex>
#include <vector>

#include "../common/errors.h"
#include "kernel_registry.h"
#include "shared_library.h"

namespace ma {
namespace {

// CBLAS's enum values (the C interface standard; every implementation uses these).
constexpr int kRowMajor = 101;
constexpr int kNoTrans = 111;
constexpr int kTrans = 112;

using SgemmFn = void (*)(int order, int transA, int transB, int m, int n, int k, float alpha,
                         const float* a, int lda, const float* b, int ldb, float beta, float* c,
                         int ldc);
using DgemmFn = void (*)(int order, int transA, int transB, int m, int n, int k, double alpha,
                         const double* a, int lda, const double* b, int ldb, double beta,
                         double* c, int ldc);

// Set once, before the kernels that read them are published (the registry's release
// store orders them); only one library's functions are ever used per process.
SgemmFn g_sgemm = nullptr;
DgemmFn g_dgemm = nullptr;

struct GemmArgs {
  std::int64_t m, n, k, transA, lda, transB, ldb, aOffset, bOffset, batchRank;
  const std::int64_t* batchDims;
  const std::int64_t* aBatchStrides;
  const std::int64_t* bBatchStrides;
};

GemmArgs ReadArgs(const std::int64_t* args) {
  const std::int64_t r = args[11];
  return {args[2], args[3],  args[4],  args[5],      args[6],          args[7],
          args[8], args[9],  args[10], r,            args + 12,        args + 12 + r,
          args + 12 + 2 * r};
}

// Element offsets of batch `b`'s A and B matrices (row-major over the batch dims).
void BatchOffsets(const GemmArgs& g, std::int64_t b, std::int64_t* aOff, std::int64_t* bOff) {
  *aOff = g.aOffset;
  *bOff = g.bOffset;
  for (std::int64_t d = g.batchRank - 1; d >= 0; --d) {
    const std::int64_t i = b % g.batchDims[d];
    b /= g.batchDims[d];
    *aOff += i * g.aBatchStrides[d];
    *bOff += i * g.bBatchStrides[d];
  }
}

template <typename T, typename Fn>
void RunGemm(Fn gemm, void* const* bufs, const std::int64_t* args, std::int64_t start,
             std::int64_t end) {
  const GemmArgs g = ReadArgs(args);
  T* c = static_cast<T*>(bufs[0]);
  const T* a = static_cast<const T*>(bufs[1]);
  const T* b = static_cast<const T*>(bufs[2]);
  const auto m = static_cast<int>(g.m);
  const auto n = static_cast<int>(g.n);
  const auto k = static_cast<int>(g.k);
  for (std::int64_t batch = start; batch < end; ++batch) {
    std::int64_t aOff = 0;
    std::int64_t bOff = 0;
    BatchOffsets(g, batch, &aOff, &bOff);
    gemm(kRowMajor, g.transA != 0 ? kTrans : kNoTrans, g.transB != 0 ? kTrans : kNoTrans, m, n, k,
         T{1}, a + aOff, static_cast<int>(g.lda), b + bOff, static_cast<int>(g.ldb), T{0},
         c + batch * g.m * g.n, n);
  }
}

void GemmF32(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  RunGemm<float>(g_sgemm, bufs, args, start, end);
}

void GemmF64(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  RunGemm<double>(g_dgemm, bufs, args, start, end);
}

std::vector<std::string> DefaultCandidates() {
#if defined(__APPLE__)
  return {"/System/Library/Frameworks/Accelerate.framework/Accelerate"};
#else
  // Optimized implementations only: Debian's plain libblas.so.3 may be the reference
  // BLAS, slower than the generated kernel.
  return {"libopenblas.so.0", "libopenblas.so", "libmkl_rt.so.2", "libmkl_rt.so", "libblis.so.4"};
#endif
}

}  // namespace

const BlasLibrary& LoadBlas(const std::string& request) {
  static std::mutex* const mu = new std::mutex();                        // never destroyed
  static auto* const loaded = new std::map<std::string, BlasLibrary>();  // by request
  std::lock_guard<std::mutex> lock(*mu);
  if (auto it = loaded->find(request); it != loaded->end()) return it->second;
  if (g_sgemm != nullptr && !loaded->empty()) {
    // One BLAS per process: another request gets the one already loaded.
    return loaded->emplace(request, loaded->begin()->second).first->second;
  }
  const std::vector<std::string> candidates =
      request.empty() ? DefaultCandidates() : std::vector<std::string>{request};
  std::string failures;
  for (const std::string& path : candidates) {
    try {
      SharedLibrary library = SharedLibrary::Open(path);
      auto sgemm = reinterpret_cast<SgemmFn>(library.Symbol("cblas_sgemm"));
      auto dgemm = reinterpret_cast<DgemmFn>(library.Symbol("cblas_dgemm"));
      g_sgemm = sgemm;
      g_dgemm = dgemm;
      const std::vector<std::uint32_t> ids = KernelRegistry::Instance().Register({&GemmF32, &GemmF64});
      library.KeepLoadedForever();
      return loaded->emplace(request, BlasLibrary{path, ids[0], ids[1]}).first->second;
    } catch (const Error& e) {
      failures += failures.empty() ? "" : "; ";
      failures += e.what();
    }
  }
  Fail(ErrorCode::kDlopen, "no BLAS library could be loaded (" + failures + ")");
}

}  // namespace ma
