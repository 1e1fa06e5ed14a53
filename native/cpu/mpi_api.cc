// ma.distributed's MPI engine: Open MPI's libmpi.so.40, dlopen()ed on first use (no
// mpi.h at build time), running collectives on host buffers of the pool.
//
// Open MPI's ABI: every handle (communicator, datatype, op, request, error handler) is a
// pointer; the predefined ones are the addresses of exported objects
// (MPI_COMM_WORLD is &ompi_mpi_comm_world, MPI_FLOAT &ompi_mpi_float, ...), and
// MPI_STATUS_IGNORE is a null pointer. Those are the only Open MPI facts used here.
//
// Every operation is nonblocking (MPI_I*) and polled with MPI_Test up to a deadline, so a
// peer that never arrives is a timeout status returned to JS, not a hang. Before the data,
// the ranks exchange a 4-word header (operation, dtype, shape hash, root or peer) and
// compare it, so a mismatched call is reported on every rank instead of corrupting data.
//
// JS entry points: mpiOpen(path) -> {rank, size, version}, mpiSplit(comm, color, key) ->
// {comm, rank, size}, mpiRun(...) -> status, mpiFinalize().
#include <dlfcn.h>
#include <sched.h>
#include <time.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "../common/buffer_pool.h"
#include "../common/errors.h"
#include "../common/exports.h"
#include "../common/js_args.h"
#include "../common/js_errors.h"

namespace ma {
namespace {

using Handle = void*;
using UserFn = void (*)(void* in, void* inout, int* len, Handle* type);

// Open MPI's values of the thread levels and MPI_SUCCESS (MPI standard numbering).
constexpr int kSuccess = 0;
constexpr int kThreadSerialized = 2;

struct Mpi {
  int (*initialized)(int*);
  int (*initThread)(int*, char***, int, int*);
  int (*finalized)(int*);
  int (*finalize)();
  int (*commRank)(Handle, int*);
  int (*commSize)(Handle, int*);
  int (*commSplit)(Handle, int, int, Handle*);
  int (*commSetErrhandler)(Handle, Handle);
  int (*errorString)(int, char*, int*);
  int (*libraryVersion)(char*, int*);
  int (*iallreduce)(const void*, void*, int, Handle, Handle, Handle, Handle*);
  int (*iallgather)(const void*, int, Handle, void*, int, Handle, Handle, Handle*);
  int (*ireduceScatterBlock)(const void*, void*, int, Handle, Handle, Handle, Handle*);
  int (*ibcast)(void*, int, Handle, int, Handle, Handle*);
  int (*isend)(const void*, int, Handle, int, int, Handle, Handle*);
  int (*irecv)(void*, int, Handle, int, int, Handle, Handle*);
  int (*ibarrier)(Handle, Handle*);
  int (*test)(Handle*, int*, void*);
  int (*opCreate)(UserFn, int, Handle*);
  Handle commWorld, errorsReturn, int64Type;
  Handle types[13];      // by DtypeCode
  Handle ops[3][13];     // [ReduceOp][DtypeCode]
};

// Dtype codes, in src/distributed/mpi-engine.ts's order.
enum DtypeCode { kBool, kInt8, kInt16, kInt32, kInt64, kUint8, kUint16, kUint32, kUint64, kFloat16, kBfloat16, kFloat32, kFloat64 };
enum ReduceOp { kSum, kMax, kMin };
enum Operation { kAllReduce, kAllGather, kReduceScatter, kBroadcast, kSend, kRecv, kBarrier };

constexpr std::size_t kElementBytes[13] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8};

// Status words returned to JS.
constexpr int kDone = 0;
constexpr int kTimedOut = 1;
constexpr int kMismatch = 2;

Mpi g_mpi{};
bool g_open = false;
bool g_finalized = false;
std::mutex g_mu;  // MPI runs at MPI_THREAD_SERIALIZED: one call at a time
std::vector<Handle> g_comms;

std::string ErrorText(int code) {
  char text[512];
  int len = 0;
  if (g_mpi.errorString == nullptr || g_mpi.errorString(code, text, &len) != kSuccess) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<std::size_t>(len));
}

void Check(int rc, const char* call) {
  if (rc != kSuccess) Fail(ErrorCode::kKernel, std::string(call) + " failed: " + ErrorText(rc));
}

// float16 / bfloat16 <-> float, round to nearest even (MPI has no 16-bit float types:
// these travel as MPI_UINT16_T and reduce through the user ops below).
float HalfToFloat(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalize
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    bits = sign | (static_cast<std::uint32_t>(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::uint16_t FloatToHalf(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return sign | (absx > 0x7f800000u ? 0x7e00u : 0x7c00u);  // NaN, inf
  if (absx >= 0x477ff000u) return sign | 0x7c00u;                                   // overflows to inf
  if (absx < 0x38800000u) {                                                          // subnormal or zero
    if (absx < 0x33000000u) return sign;
    const std::uint32_t e = absx >> 23;
    const std::uint32_t m = (absx & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - e;  // 14..24
    std::uint32_t r = m >> shift;
    const std::uint32_t rem = m & ((1u << shift) - 1);
    const std::uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return sign | static_cast<std::uint16_t>(r);
  }
  std::uint32_t r = absx - 0x38000000u;  // rebias exponent 127 -> 15
  r = (r + 0xfffu + ((r >> 13) & 1u)) >> 13;
  return sign | static_cast<std::uint16_t>(r);
}

float BfloatToFloat(std::uint16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::uint16_t FloatToBfloat(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<std::uint16_t>(x >> 16);
}

template <float (*Load)(std::uint16_t), std::uint16_t (*Store)(float), int Op>
void Reduce16(void* in, void* inout, int* len, Handle* /*type*/) {
  const auto* a = static_cast<const std::uint16_t*>(in);
  auto* b = static_cast<std::uint16_t*>(inout);
  for (int i = 0; i < *len; ++i) {
    const float x = Load(a[i]);
    const float y = Load(b[i]);
    float r;
    if constexpr (Op == kSum) {
      r = x + y;
    } else if constexpr (Op == kMax) {
      r = (x > y || x != x) ? x : y;  // NaN propagates, as ma.maximum does
    } else {
      r = (x < y || x != x) ? x : y;
    }
    b[i] = Store(r);
  }
}

void* Sym(void* lib, const char* name, const std::string& path) {
  void* p = dlsym(lib, name);
  if (p == nullptr) Fail(ErrorCode::kDlopen, std::string(path) + " has no symbol " + name + " (is it Open MPI 4 or later?)");
  return p;
}

template <typename T>
void Bind(T*& slot, void* lib, const char* name, const std::string& path) {
  slot = reinterpret_cast<T*>(Sym(lib, name, path));
}

void Open(const std::string& path) {
  // RTLD_GLOBAL: Open MPI's own plugins (mca_*.so) link against libmpi's symbols.
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    Fail(ErrorCode::kDlopen, "cannot load " + path + ": " + (why != nullptr ? why : "unknown error"));
  }
  Mpi m{};
  Bind(m.initialized, lib, "MPI_Initialized", path);
  Bind(m.initThread, lib, "MPI_Init_thread", path);
  Bind(m.finalized, lib, "MPI_Finalized", path);
  Bind(m.finalize, lib, "MPI_Finalize", path);
  Bind(m.commRank, lib, "MPI_Comm_rank", path);
  Bind(m.commSize, lib, "MPI_Comm_size", path);
  Bind(m.commSplit, lib, "MPI_Comm_split", path);
  Bind(m.commSetErrhandler, lib, "MPI_Comm_set_errhandler", path);
  Bind(m.errorString, lib, "MPI_Error_string", path);
  Bind(m.libraryVersion, lib, "MPI_Get_library_version", path);
  Bind(m.iallreduce, lib, "MPI_Iallreduce", path);
  Bind(m.iallgather, lib, "MPI_Iallgather", path);
  Bind(m.ireduceScatterBlock, lib, "MPI_Ireduce_scatter_block", path);
  Bind(m.ibcast, lib, "MPI_Ibcast", path);
  Bind(m.isend, lib, "MPI_Isend", path);
  Bind(m.irecv, lib, "MPI_Irecv", path);
  Bind(m.ibarrier, lib, "MPI_Ibarrier", path);
  Bind(m.test, lib, "MPI_Test", path);
  Bind(m.opCreate, lib, "MPI_Op_create", path);
  m.commWorld = Sym(lib, "ompi_mpi_comm_world", path);
  m.errorsReturn = Sym(lib, "ompi_mpi_errors_return", path);
  m.int64Type = Sym(lib, "ompi_mpi_int64_t", path);
  const char* typeNames[13] = {"ompi_mpi_uint8_t",  "ompi_mpi_int8_t",   "ompi_mpi_int16_t",  "ompi_mpi_int32_t", "ompi_mpi_int64_t",
                               "ompi_mpi_uint8_t",  "ompi_mpi_uint16_t", "ompi_mpi_uint32_t", "ompi_mpi_uint64_t",
                               "ompi_mpi_uint16_t", "ompi_mpi_uint16_t", "ompi_mpi_float",    "ompi_mpi_double"};
  for (int t = 0; t < 13; ++t) m.types[t] = Sym(lib, typeNames[t], path);
  Handle sum = Sym(lib, "ompi_mpi_op_sum", path);
  Handle max = Sym(lib, "ompi_mpi_op_max", path);
  Handle min = Sym(lib, "ompi_mpi_op_min", path);
  Handle lor = Sym(lib, "ompi_mpi_op_lor", path);
  Handle land = Sym(lib, "ompi_mpi_op_land", path);
  for (int t = 0; t < 13; ++t) {
    m.ops[kSum][t] = sum;
    m.ops[kMax][t] = max;
    m.ops[kMin][t] = min;
  }
  // bool (one byte, 0 or 1): a sum saturates to logical or, as max does; min is and.
  m.ops[kSum][kBool] = lor;
  m.ops[kMax][kBool] = lor;
  m.ops[kMin][kBool] = land;

  int ready = 0;
  Check(m.initialized(&ready), "MPI_Initialized");
  if (ready == 0) {
    int provided = 0;
    Check(m.initThread(nullptr, nullptr, kThreadSerialized, &provided), "MPI_Init_thread");
  }
  g_mpi = m;  // the user ops below need the library initialized
  Check(m.commSetErrhandler(m.commWorld, m.errorsReturn), "MPI_Comm_set_errhandler");
  const UserFn halfOps[3] = {Reduce16<HalfToFloat, FloatToHalf, kSum>, Reduce16<HalfToFloat, FloatToHalf, kMax>,
                             Reduce16<HalfToFloat, FloatToHalf, kMin>};
  const UserFn bfloatOps[3] = {Reduce16<BfloatToFloat, FloatToBfloat, kSum>, Reduce16<BfloatToFloat, FloatToBfloat, kMax>,
                               Reduce16<BfloatToFloat, FloatToBfloat, kMin>};
  for (int op = 0; op < 3; ++op) {
    Check(m.opCreate(halfOps[op], 1, &g_mpi.ops[op][kFloat16]), "MPI_Op_create");
    Check(m.opCreate(bfloatOps[op], 1, &g_mpi.ops[op][kBfloat16]), "MPI_Op_create");
  }
  g_comms.push_back(m.commWorld);
  g_open = true;  // the library stays loaded for the life of the process
}

Handle CommArg(const Napi::Value& v) {
  if (!g_open) Fail(ErrorCode::kBadArgument, "MPI is not initialized (call mpiOpen first)");
  if (!v.IsNumber()) Fail(ErrorCode::kBadArgument, "comm must be a number");
  const std::int64_t i = v.As<Napi::Number>().Int64Value();
  if (i < 0 || i >= static_cast<std::int64_t>(g_comms.size())) Fail(ErrorCode::kBadArgument, "unknown communicator " + std::to_string(i));
  return g_comms[static_cast<std::size_t>(i)];
}

int IntArg(const Napi::Value& v, const char* what, int lo, int hi) {
  if (!v.IsNumber()) Fail(ErrorCode::kBadArgument, std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || d != static_cast<double>(static_cast<std::int64_t>(d)))
    Fail(ErrorCode::kBadArgument, std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(d);
}

// Polls `req` until it completes (true) or the deadline passes (false). Spins for 2 ms
// (as MPI's own blocking calls do: a yield on a loaded host can cost a whole time
// slice), then yields the core between polls up to 50 ms (collectives of tens of MiB
// finish within that at full speed), then sleeps 200 us between polls, so a rank
// waiting for a slow peer does not take a core from it (tests run more ranks than cores).
bool WaitFor(Handle* req, std::chrono::steady_clock::time_point deadline) {
  const auto start = std::chrono::steady_clock::now();
  for (int spins = 0;; ++spins) {
    int flag = 0;
    Check(g_mpi.test(req, &flag, nullptr), "MPI_Test");
    if (flag != 0) return true;
    if (spins < 256) continue;
    const auto now = std::chrono::steady_clock::now();
    if (now > deadline) return false;
    const auto waited = now - start;
    if (waited < std::chrono::milliseconds(2)) {
      continue;  // spin: a yield on a busy host can cost a whole time slice
    } else if (waited < std::chrono::milliseconds(50)) {
      sched_yield();
    } else {
      const timespec pause{0, 200000};
      nanosleep(&pause, nullptr);
    }
  }
}

Napi::Value MpiOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = CStringArg(info[0], "path");
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_open) Open(path);
  int rank = 0;
  int size = 0;
  Check(g_mpi.commRank(g_mpi.commWorld, &rank), "MPI_Comm_rank");
  Check(g_mpi.commSize(g_mpi.commWorld, &size), "MPI_Comm_size");
  char version[8192];
  int len = 0;
  Check(g_mpi.libraryVersion(version, &len), "MPI_Get_library_version");
  Napi::Object out = Napi::Object::New(env);
  out.Set("rank", rank);
  out.Set("size", size);
  out.Set("version", Napi::String::New(env, std::string(version, static_cast<std::size_t>(len))));
  return out;
}

// mpiSplit(comm, color, key) -> {comm, rank, size}: MPI_Comm_split (collective over comm).
Napi::Value MpiSplit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mu);
  Handle comm = CommArg(info[0]);
  const int color = IntArg(info[1], "color", 0, INT_MAX);
  const int key = IntArg(info[2], "key", INT_MIN, INT_MAX);
  Handle sub = nullptr;
  Check(g_mpi.commSplit(comm, color, key, &sub), "MPI_Comm_split");
  Check(g_mpi.commSetErrhandler(sub, g_mpi.errorsReturn), "MPI_Comm_set_errhandler");
  int rank = 0;
  int size = 0;
  Check(g_mpi.commRank(sub, &rank), "MPI_Comm_rank");
  Check(g_mpi.commSize(sub, &size), "MPI_Comm_size");
  g_comms.push_back(sub);
  Napi::Object out = Napi::Object::New(env);
  out.Set("comm", static_cast<double>(g_comms.size() - 1));
  out.Set("rank", rank);
  out.Set("size", size);
  return out;
}

// Pins the buffers of one operation; they stay pinned if it never completes (the
// library may still write into them), so a timed-out run leaks its pins on purpose.
class OperationPins {
 public:
  OperationPins(const std::int32_t* ids, std::size_t n, void** ptrs) : n_(n) {
    std::memcpy(ids_, ids, n * sizeof(std::int32_t));
    if (n > 0 && BufferPool::Instance().PinAll(ids_, n, ptrs) != n) Fail(ErrorCode::kBadBuffer, "mpiRun: unknown buffer id");
  }
  ~OperationPins() {
    if (n_ > 0 && !leaked_) BufferPool::Instance().UnpinAll(ids_, n_);
  }
  OperationPins(const OperationPins&) = delete;
  OperationPins& operator=(const OperationPins&) = delete;
  void Leak() { leaked_ = true; }

 private:
  std::int32_t ids_[2];
  std::size_t n_;
  bool leaked_ = false;
};

constexpr int kHeaderTag = 0x4d41;
constexpr int kAckTag = 0x4d42;
constexpr int kDataTag = 0x4d43;

// mpiRun(operation, comm, header BigInt64Array(4), seen BigInt64Array, sendId, recvId,
//        count, dtype, reduceOp, peer, timeoutMs) -> status (kDone, kTimedOut, kMismatch).
// `seen` receives every rank's header (collectives: size * 4 words) or the peer's (4).
// sendId/recvId are -1 where unused; count counts elements of the send buffer (recv for kRecv).
Napi::Value MpiRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_finalized) Fail(ErrorCode::kBadArgument, "MPI was finalized");
  const int operation = IntArg(info[0], "operation", kAllReduce, kBarrier);
  Handle comm = CommArg(info[1]);
  TypedSpan<std::int64_t> header = BigInt64ArrayArg(info[2], "header");
  TypedSpan<std::int64_t> seen = BigInt64ArrayArg(info[3], "seen");
  const int sendId = IntArg(info[4], "sendId", -1, INT_MAX);
  const int recvId = IntArg(info[5], "recvId", -1, INT_MAX);
  const int count = IntArg(info[6], "count", 0, INT_MAX);
  const int dtype = IntArg(info[7], "dtype", 0, 12);
  const int reduceOp = IntArg(info[8], "reduceOp", 0, 2);
  const int peer = IntArg(info[9], "peer", 0, INT_MAX);
  if (!info[10].IsNumber()) Fail(ErrorCode::kBadArgument, "timeoutMs must be a number");
  const double timeoutMs = info[10].As<Napi::Number>().DoubleValue();
  if (header.length != 4) Fail(ErrorCode::kBadArgument, "header must hold 4 words");
  int size = 0;
  Check(g_mpi.commSize(comm, &size), "MPI_Comm_size");
  const bool pointToPoint = operation == kSend || operation == kRecv;
  if (seen.length != (pointToPoint ? 4u : static_cast<std::size_t>(size) * 4u)) Fail(ErrorCode::kBadArgument, "seen has the wrong length");

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::microseconds(static_cast<std::int64_t>(timeoutMs >= 1e12 ? 1e15 : timeoutMs * 1000.0));
  const auto timedOut = [&](OperationPins* pins) {
    if (pins != nullptr) pins->Leak();
    return Napi::Number::New(env, kTimedOut);
  };

  // 1. The header exchange: the header arrays stay alive in JS (the caller keeps them
  // for the group's life), so a timed-out exchange writes into memory that still exists.
  Handle req = nullptr;
  if (operation == kSend) {
    Check(g_mpi.isend(header.data, 4, g_mpi.int64Type, peer, kHeaderTag, comm, &req), "MPI_Isend");
    if (!WaitFor(&req, deadline)) return timedOut(nullptr);
    Check(g_mpi.irecv(const_cast<std::int64_t*>(seen.data), 4, g_mpi.int64Type, peer, kAckTag, comm, &req), "MPI_Irecv");
    if (!WaitFor(&req, deadline)) return timedOut(nullptr);
  } else if (operation == kRecv) {
    Check(g_mpi.irecv(const_cast<std::int64_t*>(seen.data), 4, g_mpi.int64Type, peer, kHeaderTag, comm, &req), "MPI_Irecv");
    if (!WaitFor(&req, deadline)) return timedOut(nullptr);
    Check(g_mpi.isend(header.data, 4, g_mpi.int64Type, peer, kAckTag, comm, &req), "MPI_Isend");
    if (!WaitFor(&req, deadline)) return timedOut(nullptr);
  } else {
    Check(g_mpi.iallgather(header.data, 4, g_mpi.int64Type, const_cast<std::int64_t*>(seen.data), 4, g_mpi.int64Type, comm, &req), "MPI_Iallgather");
    if (!WaitFor(&req, deadline)) return timedOut(nullptr);
  }
  for (std::size_t i = 0; i < seen.length; ++i) {
    if (seen.data[i] != header.data[i % 4]) return Napi::Number::New(env, kMismatch);
  }

  // 2. The data.
  std::int32_t ids[2];
  std::size_t n = 0;
  if (sendId >= 0) ids[n++] = sendId;
  if (recvId >= 0) ids[n++] = recvId;
  void* ptrs[2] = {nullptr, nullptr};
  OperationPins pins(ids, n, ptrs);
  void* send = sendId >= 0 ? ptrs[0] : nullptr;
  void* recv = recvId >= 0 ? ptrs[sendId >= 0 ? 1 : 0] : nullptr;
  Handle type = g_mpi.types[dtype];
  Handle op = g_mpi.ops[reduceOp][dtype];
  switch (operation) {
    case kAllReduce:
      Check(g_mpi.iallreduce(send, recv, count, type, op, comm, &req), "MPI_Iallreduce");
      break;
    case kAllGather:
      Check(g_mpi.iallgather(send, count, type, recv, count, type, comm, &req), "MPI_Iallgather");
      break;
    case kReduceScatter:
      if (count % size != 0) Fail(ErrorCode::kBadArgument, "reduceScatter: count is not a multiple of the group size");
      Check(g_mpi.ireduceScatterBlock(send, recv, count / size, type, op, comm, &req), "MPI_Ireduce_scatter_block");
      break;
    case kBroadcast:  // in place on recv; the root passes its input as send
      if (send != nullptr) std::memcpy(recv, send, static_cast<std::size_t>(count) * kElementBytes[dtype]);
      Check(g_mpi.ibcast(recv, count, type, peer, comm, &req), "MPI_Ibcast");
      break;
    case kSend:
      Check(g_mpi.isend(send, count, type, peer, kDataTag, comm, &req), "MPI_Isend");
      break;
    case kRecv:
      Check(g_mpi.irecv(recv, count, type, peer, kDataTag, comm, &req), "MPI_Irecv");
      break;
    default:  // kBarrier: the header exchange above was one
      return Napi::Number::New(env, kDone);
  }
  if (!WaitFor(&req, deadline)) return timedOut(&pins);
  return Napi::Number::New(env, kDone);
}

// mpiFinalize(): MPI_Finalize, once (process exit). Later runs throw.
Napi::Value MpiFinalize(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_open && !g_finalized) {
    int done = 0;
    Check(g_mpi.finalized(&done), "MPI_Finalized");
    if (done == 0) Check(g_mpi.finalize(), "MPI_Finalize");
    g_finalized = true;
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterMpiApi(Napi::Env env, Napi::Object exports) {
  exports.Set("mpiOpen", Napi::Function::New<Guarded<MpiOpen, ErrorCode::kDlopen>>(env, "mpiOpen"));
  exports.Set("mpiSplit", Napi::Function::New<Guarded<MpiSplit, ErrorCode::kKernel>>(env, "mpiSplit"));
  exports.Set("mpiRun", Napi::Function::New<Guarded<MpiRun, ErrorCode::kKernel>>(env, "mpiRun"));
  exports.Set("mpiFinalize", Napi::Function::New<Guarded<MpiFinalize, ErrorCode::kKernel>>(env, "mpiFinalize"));
}

}  // namespace ma
