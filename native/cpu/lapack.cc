#include "lapack.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "../common/errors.h"
#include "kernel_registry.h"
#include "shared_library.h"

namespace ma {
namespace {

// LAPACK's Fortran interface (LP64: 32-bit INTEGER), declared here from the reference
// documentation. gfortran passes each CHARACTER argument's length as a hidden size_t
// after all the others; passing them keeps the calls correct for any build.
using Len = std::size_t;
template <typename T>
struct Routines {
  void (*getrf)(const int* m, const int* n, T* a, const int* lda, int* ipiv, int* info);
  void (*getrs)(const char* trans, const int* n, const int* nrhs, const T* a, const int* lda, const int* ipiv,
                T* b, const int* ldb, int* info, Len);
  void (*potrf)(const char* uplo, const int* n, T* a, const int* lda, int* info, Len);
  void (*trtrs)(const char* uplo, const char* trans, const char* diag, const int* n, const int* nrhs, const T* a,
                const int* lda, T* b, const int* ldb, int* info, Len, Len, Len);
  void (*geqrf)(const int* m, const int* n, T* a, const int* lda, T* tau, T* work, const int* lwork, int* info);
  void (*orgqr)(const int* m, const int* n, const int* k, T* a, const int* lda, const T* tau, T* work,
                const int* lwork, int* info);
  void (*gesdd)(const char* jobz, const int* m, const int* n, T* a, const int* lda, T* s, T* u, const int* ldu,
                T* vt, const int* ldvt, T* work, const int* lwork, int* iwork, int* info, Len);
  void (*syevd)(const char* jobz, const char* uplo, const int* n, T* a, const int* lda, T* w, T* work,
                const int* lwork, int* iwork, const int* liwork, int* info, Len, Len);
  void (*geev)(const char* jobvl, const char* jobvr, const int* n, T* a, const int* lda, T* wr, T* wi, T* vl,
               const int* ldvl, T* vr, const int* ldvr, T* work, const int* lwork, int* info, Len, Len);
  void (*gelsd)(const int* m, const int* n, const int* nrhs, T* a, const int* lda, T* b, const int* ldb, T* s,
                const T* rcond, int* rank, T* work, const int* lwork, int* iwork, int* info);
};

// Set once, before the kernels that read them are published (the registry's release
// store orders them); one library per process.
Routines<float> g_s{};
Routines<double> g_d{};

template <typename T>
const Routines<T>& R();
template <>
const Routines<float>& R<float>() { return g_s; }
template <>
const Routines<double>& R<double>() { return g_d; }

constexpr int kNoMemory = -1000;

// OpenBLAS threads its own LAPACK calls, even on tiny matrices, and waking its threads
// costs far more than a small factorization (64 [64, 64] inverses: 3 ms single-threaded,
// 12+ ms threaded on the 2-core dev machine). While any kernel works on matrices this
// small, OpenBLAS is set to one thread (process-wide: a concurrent BLAS call elsewhere
// runs single-threaded meanwhile; results are the same). Optional: other LAPACKs lack
// the calls.
constexpr std::int64_t kSmallMatrix = 96;
using SetThreadsFn = void (*)(int);
using GetThreadsFn = int (*)();
SetThreadsFn g_setThreads = nullptr;
GetThreadsFn g_getThreads = nullptr;

class SingleThreadedBlas {
 public:
  explicit SingleThreadedBlas(std::int64_t maxDim) : active_(maxDim <= kSmallMatrix && g_setThreads != nullptr) {
    if (!active_) return;
    std::lock_guard<std::mutex> lock(Mu());
    if (Depth()++ == 0) {
      Saved() = g_getThreads();
      g_setThreads(1);
    }
  }
  ~SingleThreadedBlas() {
    if (!active_) return;
    std::lock_guard<std::mutex> lock(Mu());
    if (--Depth() == 0) g_setThreads(Saved());
  }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  static std::mutex& Mu() {
    static auto* mu = new std::mutex();  // never destroyed
    return *mu;
  }
  static int& Depth() {
    static int depth = 0;
    return depth;
  }
  static int& Saved() {
    static int saved = 1;
    return saved;
  }
  bool active_;
};

int I(std::int64_t v) { return static_cast<int>(v); }

// A LAPACK workspace query's answer (an optimal size stored as a float) as a count.
template <typename T>
int WorkSize(T query) {
  return std::max(1, static_cast<int>(std::ceil(query)));
}

template <typename T>
bool AllFinite(const T* a, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i)
    if (!std::isfinite(a[i])) return false;
  return true;
}

template <typename T>
void FillNaN(T* out, std::int64_t count) {
  std::fill(out, out + count, std::numeric_limits<T>::quiet_NaN());
}

// dst (cols x rows, row-major) = transpose of src (rows x cols, row-major).
template <typename T>
void Transpose(const T* src, std::int64_t rows, std::int64_t cols, T* dst, std::int64_t ldDst) {
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) dst[j * ldDst + i] = src[i * cols + j];
}

template <typename T>
T* Buf(void* const* bufs, int i) {
  return static_cast<T*>(bufs[i]);
}
std::int32_t* Info(void* const* bufs, int i) { return static_cast<std::int32_t*>(bufs[i]); }

// Every kernel: one batch element per iteration; an allocation failure marks the
// remaining elements of the chunk instead of throwing on a pool thread.
template <typename Body>
void ForBatch(std::int64_t start, std::int64_t end, std::int32_t* info, Body body) {
  std::int64_t b = start;
  try {
    for (; b < end; ++b) body(b);
  } catch (const std::bad_alloc&) {
    if (info != nullptr)
      for (; b < end; ++b) info[b] = kNoMemory;
  }
}

template <typename T>
void Lu(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t m = args[2], n = args[3], k = std::min(m, n);
  const SingleThreadedBlas single(std::max(m, n));
  const T* a = Buf<T>(bufs, 0);
  T* lu = Buf<T>(bufs, 1);
  std::int32_t* piv = Info(bufs, 2);
  std::int32_t* perm = Info(bufs, 3);
  std::int32_t* info = Info(bufs, 4);
  ForBatch(start, end, info, [&](std::int64_t b) {
    std::vector<T> col(static_cast<std::size_t>(m * n));
    Transpose(a + b * m * n, m, n, col.data(), m);
    std::vector<int> ipiv(static_cast<std::size_t>(std::max<std::int64_t>(k, 1)));
    int mm = I(m), nn = I(n), lda = std::max(1, mm), inf = 0;
    if (k > 0) R<T>().getrf(&mm, &nn, col.data(), &lda, ipiv.data(), &inf);
    info[b] = inf;
    Transpose(col.data(), n, m, lu + b * m * n, n);
    std::int32_t* p = perm + b * m;
    for (std::int64_t i = 0; i < m; ++i) p[i] = static_cast<std::int32_t>(i);
    for (std::int64_t i = 0; i < k; ++i) {
      piv[b * k + i] = ipiv[i] - 1;
      std::swap(p[i], p[ipiv[i] - 1]);
    }
  });
}

// The row-major storage read as column-major is Aᵀ; solving Aᵀ X = I there (getrf +
// getrs on an identity, as NumPy does: OpenBLAS's own getrs beats the reference getri)
// gives X = A⁻ᵀ column-major, which read row-major is A⁻¹.
template <typename T>
void Inv(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t n = args[2];
  const SingleThreadedBlas single(n);
  const T* a = Buf<T>(bufs, 0);
  T* x = Buf<T>(bufs, 1);
  std::int32_t* info = Info(bufs, 2);
  std::vector<T> f;
  std::vector<int> ipiv;
  ForBatch(start, end, info, [&](std::int64_t b) {
    T* out = x + b * n * n;
    f.assign(a + b * n * n, a + (b + 1) * n * n);
    ipiv.resize(static_cast<std::size_t>(std::max<std::int64_t>(n, 1)));
    int nn = I(n), lda = std::max(1, nn), inf = 0;
    R<T>().getrf(&nn, &nn, f.data(), &lda, ipiv.data(), &inf);
    std::fill(out, out + n * n, T{0});
    for (std::int64_t i = 0; i < n; ++i) out[i * n + i] = T{1};
    if (inf == 0 && n > 0) R<T>().getrs("N", &nn, &nn, f.data(), &lda, ipiv.data(), out, &lda, &inf, 1);
    info[b] = inf;
  });
}

// A X = B with A's row-major storage read as column-major Aᵀ and solved transposed.
template <typename T>
void Solve(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t n = args[2], k = args[3];
  const SingleThreadedBlas single(std::max(n, k));
  const T* a = Buf<T>(bufs, 0);
  const T* rhs = Buf<T>(bufs, 1);
  T* x = Buf<T>(bufs, 2);
  std::int32_t* info = Info(bufs, 3);
  ForBatch(start, end, info, [&](std::int64_t b) {
    std::vector<T> f(a + b * n * n, a + (b + 1) * n * n);
    std::vector<T> col(static_cast<std::size_t>(n * k));
    Transpose(rhs + b * n * k, n, k, col.data(), n);
    std::vector<int> ipiv(static_cast<std::size_t>(std::max<std::int64_t>(n, 1)));
    int nn = I(n), kk = I(k), lda = std::max(1, nn), inf = 0;
    R<T>().getrf(&nn, &nn, f.data(), &lda, ipiv.data(), &inf);
    if (inf == 0 && k > 0) R<T>().getrs("T", &nn, &kk, f.data(), &lda, ipiv.data(), col.data(), &lda, &inf, 1);
    info[b] = inf;
    Transpose(col.data(), k, n, x + b * n * k, k);
  });
}

// det(Aᵀ) = det(A): the LU of the storage as is; the sign counts the row swaps.
template <typename T>
void Det(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t n = args[2];
  const SingleThreadedBlas single(n);
  const T* a = Buf<T>(bufs, 0);
  T* sign = Buf<T>(bufs, 1);
  T* logabs = Buf<T>(bufs, 2);
  T* det = Buf<T>(bufs, 3);
  ForBatch(start, end, nullptr, [&](std::int64_t b) {
    std::vector<T> f(a + b * n * n, a + (b + 1) * n * n);
    std::vector<int> ipiv(static_cast<std::size_t>(std::max<std::int64_t>(n, 1)));
    int nn = I(n), lda = std::max(1, nn), inf = 0;
    if (n > 0) R<T>().getrf(&nn, &nn, f.data(), &lda, ipiv.data(), &inf);
    T s = 1, l = 0, d = 1;
    for (std::int64_t i = 0; i < n; ++i) {
      const T u = f[i * n + i];
      if (ipiv[i] != i + 1) s = -s;
      if (u < 0) s = -s;
      l += std::log(std::abs(u));
      d *= u;
    }
    for (std::int64_t i = 0; i < n; ++i)
      if (ipiv[i] != i + 1) d = -d;
    // As NumPy: a NaN pivot leaves the sign as counted (log|det| is NaN), a zero one gives 0.
    if (l == -std::numeric_limits<T>::infinity()) s = 0;
    sign[b] = s;
    logabs[b] = l;
    det[b] = d;
  });
}

// The upper factor of the storage read as column-major (A symmetric: Aᵀ = A) is Lᵀ
// there, so the row-major result is the lower factor L.
template <typename T>
void Cholesky(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t n = args[2];
  const SingleThreadedBlas single(n);
  const T* a = Buf<T>(bufs, 0);
  T* l = Buf<T>(bufs, 1);
  std::int32_t* info = Info(bufs, 2);
  ForBatch(start, end, info, [&](std::int64_t b) {
    T* out = l + b * n * n;
    std::copy(a + b * n * n, a + (b + 1) * n * n, out);
    int nn = I(n), lda = std::max(1, nn), inf = 0;
    if (n > 0) R<T>().potrf("U", &nn, out, &lda, &inf, 1);
    info[b] = inf;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = i + 1; j < n; ++j) out[i * n + j] = T{0};
  });
}

template <typename T>
void Trsolve(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t n = args[2], k = args[3];
  const SingleThreadedBlas single(std::max(n, k));
  const bool lower = args[4] != 0, trans = args[5] != 0, unit = args[6] != 0;
  const T* a = Buf<T>(bufs, 0);
  const T* rhs = Buf<T>(bufs, 1);
  T* x = Buf<T>(bufs, 2);
  std::int32_t* info = Info(bufs, 3);
  // The storage read as column-major is Aᵀ: A's lower triangle is its upper one, and
  // op(A) X = B is solved as the other transpose.
  const char* uplo = lower ? "U" : "L";
  const char* op = trans ? "N" : "T";
  const char* diag = unit ? "U" : "N";
  ForBatch(start, end, info, [&](std::int64_t b) {
    std::vector<T> col(static_cast<std::size_t>(n * k));
    Transpose(rhs + b * n * k, n, k, col.data(), n);
    int nn = I(n), kk = I(k), lda = std::max(1, nn), inf = 0;
    if (n > 0 && k > 0) R<T>().trtrs(uplo, op, diag, &nn, &kk, a + b * n * n, &lda, col.data(), &lda, &inf, 1, 1, 1);
    info[b] = inf;
    Transpose(col.data(), k, n, x + b * n * k, k);
  });
}

template <typename T>
void Qr(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t m = args[2], n = args[3], mode = args[4], k = std::min(m, n);
  const SingleThreadedBlas single(std::max(m, n));
  const std::int64_t qCols = mode == 1 ? m : k;  // Q is [m, qCols], R [qCols, n] (mode 2: [k, n])
  const std::int64_t rRows = mode == 1 ? m : k;
  const T* a = Buf<T>(bufs, 0);
  T* q = mode == 2 ? nullptr : Buf<T>(bufs, 1);
  T* r = Buf<T>(bufs, mode == 2 ? 1 : 2);
  ForBatch(start, end, nullptr, [&](std::int64_t b) {
    const std::int64_t cols = std::max(n, qCols);  // room for the complete Q
    std::vector<T> col(static_cast<std::size_t>(std::max<std::int64_t>(m * cols, 1)));
    Transpose(a + b * m * n, m, n, col.data(), m);
    std::vector<T> tau(static_cast<std::size_t>(std::max<std::int64_t>(k, 1)));
    int mm = I(m), nn = I(n), kk = I(k), lda = std::max(1, mm), inf = 0, lwork = -1;
    T query{};
    if (k > 0) {
      R<T>().geqrf(&mm, &nn, col.data(), &lda, tau.data(), &query, &lwork, &inf);
      lwork = WorkSize(query);
      std::vector<T> work(static_cast<std::size_t>(lwork));
      R<T>().geqrf(&mm, &nn, col.data(), &lda, tau.data(), work.data(), &lwork, &inf);
    }
    T* rOut = r + b * rRows * n;
    for (std::int64_t i = 0; i < rRows; ++i)
      for (std::int64_t j = 0; j < n; ++j) rOut[i * n + j] = j >= i ? col[j * m + i] : T{0};
    if (q == nullptr) return;
    int qc = I(qCols);
    if (qCols > 0 && m > 0) {
      lwork = -1;
      R<T>().orgqr(&mm, &qc, &kk, col.data(), &lda, tau.data(), &query, &lwork, &inf);
      lwork = WorkSize(query);
      std::vector<T> work(static_cast<std::size_t>(lwork));
      R<T>().orgqr(&mm, &qc, &kk, col.data(), &lda, tau.data(), work.data(), &lwork, &inf);
    }
    Transpose(col.data(), qCols, m, q + b * m * qCols, qCols);
  });
}

// The storage read as column-major is Aᵀ (n x m); Aᵀ = U' S V'ᵀ gives A = V' S U'ᵀ, and
// LAPACK's column-major U' and V'ᵀ are, read row-major, A's Vᵀ and U: no transposes.
template <typename T>
void Svd(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t m = args[2], n = args[3], job = args[4], k = std::min(m, n);
  const SingleThreadedBlas single(std::max(m, n));
  const std::int64_t uCols = job == 2 ? m : k, vRows = job == 2 ? n : k;
  const T* a = Buf<T>(bufs, 0);
  T* s = Buf<T>(bufs, 1);
  T* u = job == 0 ? nullptr : Buf<T>(bufs, 2);
  T* vt = job == 0 ? nullptr : Buf<T>(bufs, 3);
  std::int32_t* info = Info(bufs, job == 0 ? 2 : 4);
  const char* jobz = job == 0 ? "N" : job == 1 ? "S" : "A";
  ForBatch(start, end, info, [&](std::int64_t b) {
    const T* in = a + b * m * n;
    T* sOut = s + b * k;
    T* uOut = u == nullptr ? nullptr : u + b * m * uCols;
    T* vOut = vt == nullptr ? nullptr : vt + b * vRows * n;
    info[b] = 0;
    if (!AllFinite(in, m * n)) {
      FillNaN(sOut, k);
      if (uOut != nullptr) FillNaN(uOut, m * uCols), FillNaN(vOut, vRows * n);
      return;
    }
    if (k == 0) {
      // Full factors of an empty matrix are identities.
      if (uOut != nullptr) {
        std::fill(uOut, uOut + m * uCols, T{0});
        std::fill(vOut, vOut + vRows * n, T{0});
        for (std::int64_t i = 0; i < std::min(m, uCols); ++i) uOut[i * uCols + i] = T{1};
        for (std::int64_t i = 0; i < std::min(n, vRows); ++i) vOut[i * n + i] = T{1};
      }
      return;
    }
    std::vector<T> f(in, in + m * n);
    int mm = I(n), nn = I(m), lda = std::max(1, mm), ldu = std::max(1, mm), ldvt = std::max(1, I(uCols)), inf = 0;
    int lwork = -1;
    std::vector<int> iwork(static_cast<std::size_t>(8 * k));
    T dummy{};
    T* uPrime = vOut == nullptr ? &dummy : vOut;  // n x vRows column-major = A's Vᵀ
    T* vtPrime = uOut == nullptr ? &dummy : uOut;  // uCols x m column-major = A's U
    T query{};
    R<T>().gesdd(jobz, &mm, &nn, f.data(), &lda, sOut, uPrime, &ldu, vtPrime, &ldvt, &query, &lwork, iwork.data(), &inf, 1);
    lwork = WorkSize(query);
    std::vector<T> work(static_cast<std::size_t>(lwork));
    R<T>().gesdd(jobz, &mm, &nn, f.data(), &lda, sOut, uPrime, &ldu, vtPrime, &ldvt, work.data(), &lwork, iwork.data(), &inf, 1);
    info[b] = inf;
  });
}

// Symmetric: the storage is its own column-major form; A's lower triangle is the upper
// one there. The eigenvectors come back as columns of a column-major V: transposed out.
template <typename T>
void Eigh(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t n = args[2];
  const SingleThreadedBlas single(n);
  const bool vectors = args[3] != 0;
  const T* a = Buf<T>(bufs, 0);
  T* w = Buf<T>(bufs, 1);
  T* v = vectors ? Buf<T>(bufs, 2) : nullptr;
  std::int32_t* info = Info(bufs, vectors ? 3 : 2);
  ForBatch(start, end, info, [&](std::int64_t b) {
    const T* in = a + b * n * n;
    info[b] = 0;
    if (n == 0) return;
    // Only the lower triangle is read (as NumPy's UPLO='L').
    bool finite = true;
    for (std::int64_t i = 0; i < n && finite; ++i)
      for (std::int64_t j = 0; j <= i; ++j)
        if (!std::isfinite(in[i * n + j])) finite = false;
    if (!finite) {
      FillNaN(w + b * n, n);
      if (v != nullptr) FillNaN(v + b * n * n, n * n);
      return;
    }
    std::vector<T> f(in, in + n * n);
    int nn = I(n), lda = nn, inf = 0, lwork = -1, liwork = -1, iquery = 0;
    T query{};
    const char* jobz = vectors ? "V" : "N";
    R<T>().syevd(jobz, "U", &nn, f.data(), &lda, w + b * n, &query, &lwork, &iquery, &liwork, &inf, 1, 1);
    lwork = WorkSize(query);
    liwork = std::max(1, iquery);
    std::vector<T> work(static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    R<T>().syevd(jobz, "U", &nn, f.data(), &lda, w + b * n, work.data(), &lwork, iwork.data(), &liwork, &inf, 1, 1);
    info[b] = inf;
    if (v != nullptr) Transpose(f.data(), n, n, v + b * n * n, n);
  });
}

template <typename T>
void Eig(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t n = args[2];
  const SingleThreadedBlas single(n);
  const bool vectors = args[3] != 0;
  const T* a = Buf<T>(bufs, 0);
  T* wr = Buf<T>(bufs, 1);
  T* wi = Buf<T>(bufs, 2);
  T* vre = vectors ? Buf<T>(bufs, 3) : nullptr;
  T* vim = vectors ? Buf<T>(bufs, 4) : nullptr;
  std::int32_t* info = Info(bufs, vectors ? 5 : 3);
  ForBatch(start, end, info, [&](std::int64_t b) {
    const T* in = a + b * n * n;
    info[b] = 0;
    if (n == 0) return;
    if (!AllFinite(in, n * n)) {
      FillNaN(wr + b * n, n);
      FillNaN(wi + b * n, n);
      if (vre != nullptr) FillNaN(vre + b * n * n, n * n), FillNaN(vim + b * n * n, n * n);
      return;
    }
    std::vector<T> col(static_cast<std::size_t>(n * n));
    Transpose(in, n, n, col.data(), n);
    std::vector<T> vr(vectors ? static_cast<std::size_t>(n * n) : 1);
    int nn = I(n), lda = nn, one = 1, ldvr = vectors ? nn : 1, inf = 0, lwork = -1;
    const char* jobvr = vectors ? "V" : "N";
    T query{}, dummy{};
    R<T>().geev("N", jobvr, &nn, col.data(), &lda, wr + b * n, wi + b * n, &dummy, &one, vr.data(), &ldvr, &query, &lwork, &inf, 1, 1);
    lwork = WorkSize(query);
    std::vector<T> work(static_cast<std::size_t>(lwork));
    R<T>().geev("N", jobvr, &nn, col.data(), &lda, wr + b * n, wi + b * n, &dummy, &one, vr.data(), &ldvr, work.data(), &lwork, &inf, 1, 1);
    info[b] = inf;
    if (vre == nullptr) return;
    // Column j of V (row-major out): a real eigenvalue's vector is VR's column j; a
    // conjugate pair (j, j+1) shares VR[:, j] ± i VR[:, j+1].
    T* re = vre + b * n * n;
    T* im = vim + b * n * n;
    const T* wim = wi + b * n;
    for (std::int64_t j = 0; j < n; ++j) {
      if (wim[j] > 0 && j + 1 < n) {
        for (std::int64_t i = 0; i < n; ++i) {
          const T x = vr[j * n + i], y = vr[(j + 1) * n + i];
          re[i * n + j] = x, im[i * n + j] = y;
          re[i * n + j + 1] = x, im[i * n + j + 1] = -y;
        }
        ++j;
      } else {
        for (std::int64_t i = 0; i < n; ++i) re[i * n + j] = vr[j * n + i], im[i * n + j] = T{0};
      }
    }
  });
}

template <typename T>
void Lstsq(void* const* bufs, const std::int64_t* args, std::int64_t start, std::int64_t end) {
  const std::int64_t m = args[2], n = args[3], k = args[4], mn = std::min(m, n), ld = std::max<std::int64_t>({m, n, 1});
  const SingleThreadedBlas single(std::max({m, n, k}));
  double rcondBits;
  std::memcpy(&rcondBits, &args[5], sizeof rcondBits);
  const T rcond = static_cast<T>(rcondBits);
  const T* a = Buf<T>(bufs, 0);
  const T* rhs = Buf<T>(bufs, 1);
  T* x = Buf<T>(bufs, 2);
  T* s = Buf<T>(bufs, 3);
  std::int32_t* rank = Info(bufs, 4);
  std::int32_t* info = Info(bufs, 5);
  ForBatch(start, end, info, [&](std::int64_t b) {
    const T* in = a + b * m * n;
    const T* r = rhs + b * m * k;
    info[b] = 0;
    rank[b] = 0;
    if (!AllFinite(in, m * n) || !AllFinite(r, m * k)) {
      FillNaN(x + b * n * k, n * k);
      FillNaN(s + b * mn, mn);
      return;
    }
    if (mn == 0 || k == 0) {
      std::fill(x + b * n * k, x + (b + 1) * n * k, T{0});
      return;
    }
    std::vector<T> col(static_cast<std::size_t>(m * n));
    Transpose(in, m, n, col.data(), m);
    std::vector<T> bcol(static_cast<std::size_t>(ld * k), T{0});
    Transpose(r, m, k, bcol.data(), ld);
    int mm = I(m), nn = I(n), kk = I(k), lda = std::max(1, mm), ldb = I(ld), inf = 0, rk = 0, lwork = -1;
    T query{};
    int iquery = 0;
    R<T>().gelsd(&mm, &nn, &kk, col.data(), &lda, bcol.data(), &ldb, s + b * mn, &rcond, &rk, &query, &lwork, &iquery, &inf);
    lwork = WorkSize(query);
    std::vector<T> work(static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(std::max(1, iquery)));
    R<T>().gelsd(&mm, &nn, &kk, col.data(), &lda, bcol.data(), &ldb, s + b * mn, &rcond, &rk, work.data(), &lwork, iwork.data(), &inf);
    info[b] = inf;
    rank[b] = rk;
    T* out = x + b * n * k;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < k; ++j) out[i * k + j] = bcol[j * ld + i];
  });
}

template <typename T>
std::vector<KernelFn> Kernels() {
  return {&Lu<T>, &Inv<T>, &Solve<T>, &Det<T>, &Cholesky<T>, &Trsolve<T>, &Qr<T>, &Svd<T>, &Eigh<T>, &Eig<T>, &Lstsq<T>};
}

template <typename T>
Routines<T> Resolve(const SharedLibrary& lib, char p) {
  const std::string pre(1, p);
  auto sym = [&](const char* name) { return lib.Symbol(pre + name); };
  Routines<T> r{};
  r.getrf = reinterpret_cast<decltype(r.getrf)>(sym("getrf_"));
  r.getrs = reinterpret_cast<decltype(r.getrs)>(sym("getrs_"));
  r.potrf = reinterpret_cast<decltype(r.potrf)>(sym("potrf_"));
  r.trtrs = reinterpret_cast<decltype(r.trtrs)>(sym("trtrs_"));
  r.geqrf = reinterpret_cast<decltype(r.geqrf)>(sym("geqrf_"));
  r.orgqr = reinterpret_cast<decltype(r.orgqr)>(sym("orgqr_"));
  r.gesdd = reinterpret_cast<decltype(r.gesdd)>(sym("gesdd_"));
  r.syevd = reinterpret_cast<decltype(r.syevd)>(sym("syevd_"));
  r.geev = reinterpret_cast<decltype(r.geev)>(sym("geev_"));
  r.gelsd = reinterpret_cast<decltype(r.gelsd)>(sym("gelsd_"));
  return r;
}

std::vector<std::string> DefaultCandidates() {
#if defined(__APPLE__)
  return {"/System/Library/Frameworks/Accelerate.framework/Accelerate"};
#else
  return {"libopenblas.so.0", "libopenblas.so", "liblapack.so.3", "libmkl_rt.so.2", "libmkl_rt.so"};
#endif
}

}  // namespace

const LapackLibrary& LoadLapack(const std::string& request) {
  static std::mutex* const mu = new std::mutex();  // never destroyed
  static LapackLibrary* loaded = nullptr;
  std::lock_guard<std::mutex> lock(*mu);
  if (loaded != nullptr) return *loaded;  // one LAPACK per process, whatever the request
  const std::vector<std::string> candidates =
      request.empty() ? DefaultCandidates() : std::vector<std::string>{request};
  std::string failures;
  for (const std::string& path : candidates) {
    try {
      SharedLibrary library = SharedLibrary::Open(path);
      const Routines<float> s = Resolve<float>(library, 's');
      const Routines<double> d = Resolve<double>(library, 'd');
      g_s = s;
      g_d = d;
      try {
        g_getThreads = reinterpret_cast<GetThreadsFn>(library.Symbol("openblas_get_num_threads"));
        g_setThreads = reinterpret_cast<SetThreadsFn>(library.Symbol("openblas_set_num_threads"));
      } catch (const Error&) {
        g_getThreads = nullptr;  // not OpenBLAS: its own threading stands
        g_setThreads = nullptr;
      }
      const std::vector<std::uint32_t> f32 = KernelRegistry::Instance().Register(Kernels<float>());
      const std::vector<std::uint32_t> f64 = KernelRegistry::Instance().Register(Kernels<double>());
      library.KeepLoadedForever();
      auto* lib = new LapackLibrary();  // lives for the process
      lib->path = path;
      std::copy(f32.begin(), f32.end(), lib->f32);
      std::copy(f64.begin(), f64.end(), lib->f64);
      loaded = lib;
      return *loaded;
    } catch (const Error& e) {
      failures += failures.empty() ? "" : "; ";
      failures += e.what();
    }
  }
  Fail(ErrorCode::kDlopen, "no LAPACK library could be loaded (" + failures + ")");
}

}  // namespace ma
