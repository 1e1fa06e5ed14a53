// ma.distributed's NCCL engine: libnccl.so.2 dlopen()ed on first use (no nccl.h at
// build time; the pip package nvidia-nccl-cu13 or a system install), collectives on the
// CUDA backend's stream over its device buffers.
//
// NCCL facts used: ncclUniqueId is 128 opaque bytes passed by value; ncclResult_t 0 is
// success and 7 ncclInProgress; the data types ncclInt8 0, ncclUint8 1, ncclInt32 2,
// ncclUint32 3, ncclInt64 4, ncclUint64 5, ncclFloat16 6, ncclFloat32 7, ncclFloat64 8,
// ncclBfloat16 9; the reductions ncclSum 0, ncclMax 2, ncclMin 3.
//
// As with MPI (mpi_api.cc), each operation starts with a header all-gather the ranks
// compare, and completion is polled (cuStreamQuery and ncclCommGetAsyncError) up to a
// deadline; on timeout the communicator is aborted (ncclCommAbort) and JS gets a status.
//
// JS entry points: ncclOpen(path) -> version, ncclUniqueId() -> Uint8Array(128),
// ncclInit(id, size, rank) -> comm, ncclSplit(comm, color, key) -> {comm, rank, size},
// ncclRun(...) -> status.
#include <dlfcn.h>
#include <sched.h>
#include <time.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "../common/errors.h"
#include "../common/exports.h"
#include "../common/js_args.h"
#include "../common/js_errors.h"
#include "cuda_runtime.h"

namespace ma {
namespace {

using Comm = void*;
struct UniqueId {
  char internal[128];
};

constexpr int kNcclSuccess = 0;
constexpr int kNcclInProgress = 7;
constexpr int kCudaSuccess = 0;
constexpr int kCudaNotReady = 600;

struct Nccl {
  int (*getVersion)(int*);
  int (*getUniqueId)(UniqueId*);
  int (*commInitRank)(Comm*, int, UniqueId, int);
  int (*commSplit)(Comm, int, int, Comm*, void*);
  int (*commAbort)(Comm);
  int (*commGetAsyncError)(Comm, int*);
  int (*commCount)(Comm, int*);
  int (*commUserRank)(Comm, int*);
  const char* (*errorString)(int);
  int (*allReduce)(const void*, void*, std::size_t, int, int, Comm, cuda::CUstream);
  int (*allGather)(const void*, void*, std::size_t, int, Comm, cuda::CUstream);
  int (*reduceScatter)(const void*, void*, std::size_t, int, int, Comm, cuda::CUstream);
  int (*broadcast)(const void*, void*, std::size_t, int, int, Comm, cuda::CUstream);
  int (*send)(const void*, std::size_t, int, int, Comm, cuda::CUstream);
  int (*recv)(void*, std::size_t, int, int, Comm, cuda::CUstream);
  int (*streamQuery)(cuda::CUstream);  // the driver's cuStreamQuery
};

enum Operation { kAllReduce, kAllGather, kReduceScatter, kBroadcast, kSend, kRecv, kBarrier };
constexpr int kDone = 0;
constexpr int kTimedOut = 1;
constexpr int kMismatch = 2;
constexpr int kUnsupported = 3;

// By the engine's dtype code (bool, int8, int16, int32, int64, uint8, uint16, uint32,
// uint64, float16, bfloat16, float32, float64): NCCL's type, -1 where it has none
// (int16/uint16 move as bytes but cannot be reduced).
constexpr int kNcclType[13] = {1, 0, -1, 2, 4, 1, -1, 3, 5, 6, 9, 7, 8};
constexpr std::size_t kElementBytes[13] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8};
constexpr int kUint8 = 1;
constexpr int kInt64 = 4;

Nccl g_nccl{};
bool g_open = false;
std::mutex g_mu;
std::vector<Comm> g_comms;

void Check(int rc, const char* call) {
  if (rc != kNcclSuccess && rc != kNcclInProgress) {
    Fail(ErrorCode::kGpu, std::string(call) + " failed: " + (g_nccl.errorString != nullptr ? g_nccl.errorString(rc) : "NCCL error " + std::to_string(rc)));
  }
}

template <typename T>
void Bind(T*& slot, void* lib, const char* name, const std::string& path) {
  void* p = dlsym(lib, name);
  if (p == nullptr) Fail(ErrorCode::kDlopen, path + " has no symbol " + name + " (NCCL 2.18 or later is needed)");
  slot = reinterpret_cast<T*>(p);
}

void Open(const std::string& path) {
  // NVLink SHARP/multicast stays off unless the user chose otherwise (see KINDS notes in
  // docs/distributed.md); NCCL reads it at communicator creation.
  setenv("NCCL_NVLS_ENABLE", "0", 0);
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    Fail(ErrorCode::kDlopen, "cannot load " + path + ": " + (why != nullptr ? why : "unknown error"));
  }
  Nccl n{};
  Bind(n.getVersion, lib, "ncclGetVersion", path);
  Bind(n.getUniqueId, lib, "ncclGetUniqueId", path);
  Bind(n.commInitRank, lib, "ncclCommInitRank", path);
  Bind(n.commSplit, lib, "ncclCommSplit", path);
  Bind(n.commAbort, lib, "ncclCommAbort", path);
  Bind(n.commGetAsyncError, lib, "ncclCommGetAsyncError", path);
  Bind(n.commCount, lib, "ncclCommCount", path);
  Bind(n.commUserRank, lib, "ncclCommUserRank", path);
  Bind(n.errorString, lib, "ncclGetErrorString", path);
  Bind(n.allReduce, lib, "ncclAllReduce", path);
  Bind(n.allGather, lib, "ncclAllGather", path);
  Bind(n.reduceScatter, lib, "ncclReduceScatter", path);
  Bind(n.broadcast, lib, "ncclBroadcast", path);
  Bind(n.send, lib, "ncclSend", path);
  Bind(n.recv, lib, "ncclRecv", path);
  cuda::Runtime::Instance().MakeCurrent();  // loads libcuda.so.1, which has cuStreamQuery
  void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (driver == nullptr) Fail(ErrorCode::kDlopen, "libcuda.so.1 is not loaded");
  Bind(n.streamQuery, driver, "cuStreamQuery", "libcuda.so.1");
  g_nccl = n;
  g_open = true;  // stays loaded for the life of the process
}

Comm CommArg(const Napi::Value& v) {
  if (!g_open) Fail(ErrorCode::kBadArgument, "NCCL is not loaded (call ncclOpen first)");
  if (!v.IsNumber()) Fail(ErrorCode::kBadArgument, "comm must be a number");
  const std::int64_t i = v.As<Napi::Number>().Int64Value();
  if (i < 0 || i >= static_cast<std::int64_t>(g_comms.size()) || g_comms[static_cast<std::size_t>(i)] == nullptr) {
    Fail(ErrorCode::kBadArgument, "unknown or aborted communicator " + std::to_string(i));
  }
  return g_comms[static_cast<std::size_t>(i)];
}

int IntArg(const Napi::Value& v, const char* what, int lo, int hi) {
  if (!v.IsNumber()) Fail(ErrorCode::kBadArgument, std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || d != static_cast<double>(static_cast<std::int64_t>(d)))
    Fail(ErrorCode::kBadArgument, std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(d);
}

// Waits for everything issued on the stream, polling up to the deadline; false on timeout.
bool WaitFor(Comm comm, cuda::CUstream stream, std::chrono::steady_clock::time_point deadline) {
  const auto start = std::chrono::steady_clock::now();
  for (int spins = 0;; ++spins) {
    const int q = g_nccl.streamQuery(stream);
    if (q == kCudaSuccess) return true;
    if (q != kCudaNotReady) Fail(ErrorCode::kGpu, "cuStreamQuery failed with CUDA error " + std::to_string(q) + " during an NCCL collective");
    int async = kNcclSuccess;
    Check(g_nccl.commGetAsyncError(comm, &async), "ncclCommGetAsyncError");
    Check(async, "NCCL (asynchronous error)");
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

Napi::Value NcclOpen(const Napi::CallbackInfo& info) {
  const std::string path = CStringArg(info[0], "path");
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_open) Open(path);
  int version = 0;
  Check(g_nccl.getVersion(&version), "ncclGetVersion");
  return Napi::Number::New(info.Env(), version);
}

Napi::Value NcclUniqueId(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_open) Fail(ErrorCode::kBadArgument, "NCCL is not loaded (call ncclOpen first)");
  UniqueId id{};
  Check(g_nccl.getUniqueId(&id), "ncclGetUniqueId");
  Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), sizeof(id));
  std::memcpy(out.Data(), id.internal, sizeof(id));
  return out;
}

Napi::Value NcclInit(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_open) Fail(ErrorCode::kBadArgument, "NCCL is not loaded (call ncclOpen first)");
  const ByteSpan bytes = ArrayBufferViewArg(info[0], "id");
  if (bytes.size != sizeof(UniqueId)) Fail(ErrorCode::kBadArgument, "id must hold 128 bytes");
  const int size = IntArg(info[1], "size", 1, INT_MAX);
  const int rank = IntArg(info[2], "rank", 0, size - 1);
  UniqueId id{};
  std::memcpy(id.internal, bytes.data, sizeof(id));
  cuda::Runtime::Instance().MakeCurrent();
  Comm comm = nullptr;
  Check(g_nccl.commInitRank(&comm, size, id, rank), "ncclCommInitRank");
  g_comms.push_back(comm);
  return Napi::Number::New(info.Env(), static_cast<double>(g_comms.size() - 1));
}

Napi::Value NcclSplit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mu);
  Comm comm = CommArg(info[0]);
  const int color = IntArg(info[1], "color", 0, INT_MAX);
  const int key = IntArg(info[2], "key", INT_MIN, INT_MAX);
  Comm sub = nullptr;
  Check(g_nccl.commSplit(comm, color, key, &sub, nullptr), "ncclCommSplit");
  int rank = 0;
  int size = 0;
  Check(g_nccl.commUserRank(sub, &rank), "ncclCommUserRank");
  Check(g_nccl.commCount(sub, &size), "ncclCommCount");
  g_comms.push_back(sub);
  Napi::Object out = Napi::Object::New(env);
  out.Set("comm", static_cast<double>(g_comms.size() - 1));
  out.Set("rank", rank);
  out.Set("size", size);
  return out;
}

// ncclRun(operation, comm, header BigInt64Array(4), seen BigInt64Array, headerBufId,
//         sendId, recvId, count, dtype, reduceOp, peer, timeoutMs) -> status.
// headerBufId: a device buffer of at least (size + 1) * 32 bytes for the header exchange.
Napi::Value NcclRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mu);
  const int operation = IntArg(info[0], "operation", kAllReduce, kBarrier);
  const std::int64_t commIndex = info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : -1;
  Comm comm = CommArg(info[1]);
  const TypedSpan<std::int64_t> header = BigInt64ArrayArg(info[2], "header");
  const TypedSpan<std::int64_t> seen = BigInt64ArrayArg(info[3], "seen");
  const int headerId = IntArg(info[4], "headerBufId", 0, INT_MAX);
  const int sendId = IntArg(info[5], "sendId", -1, INT_MAX);
  const int recvId = IntArg(info[6], "recvId", -1, INT_MAX);
  const int count = IntArg(info[7], "count", 0, INT_MAX);
  const int dtype = IntArg(info[8], "dtype", 0, 12);
  const int reduceOp = IntArg(info[9], "reduceOp", 0, 2);
  const int peer = IntArg(info[10], "peer", 0, INT_MAX);
  if (!info[11].IsNumber()) Fail(ErrorCode::kBadArgument, "timeoutMs must be a number");
  const double timeoutMs = info[11].As<Napi::Number>().DoubleValue();
  int size = 0;
  Check(g_nccl.commCount(comm, &size), "ncclCommCount");
  const bool pointToPoint = operation == kSend || operation == kRecv;
  if (header.length != 4 || seen.length != (pointToPoint ? 4u : static_cast<std::size_t>(size) * 4u)) Fail(ErrorCode::kBadArgument, "header or seen has the wrong length");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<std::int64_t>(timeoutMs >= 1e12 ? 1e15 : timeoutMs * 1000.0));
  cuda::Runtime& rt = cuda::Runtime::Instance();
  cuda::CUstream stream = rt.Stream();
  const auto timedOut = [&]() {
    g_nccl.commAbort(comm);  // the communicator cannot finish: free its resources
    g_comms[static_cast<std::size_t>(commIndex)] = nullptr;
    return Napi::Number::New(env, kTimedOut);
  };

  // 1. Header exchange: [own header | everyone's] in the device scratch buffer.
  const std::size_t headerBytes = 32;
  const cuda::CUdeviceptr scratch = rt.DeviceSpan(headerId, headerBytes * (static_cast<std::size_t>(size) + 1), "header exchange");
  rt.Write(headerId, 0, reinterpret_cast<const std::uint8_t*>(header.data), headerBytes);
  void* mine = reinterpret_cast<void*>(scratch);
  void* all = reinterpret_cast<void*>(scratch + headerBytes);
  if (operation == kSend) {
    Check(g_nccl.send(mine, 4, kInt64, peer, comm, stream), "ncclSend");
    Check(g_nccl.recv(all, 4, kInt64, peer, comm, stream), "ncclRecv");
  } else if (operation == kRecv) {
    Check(g_nccl.recv(all, 4, kInt64, peer, comm, stream), "ncclRecv");
    Check(g_nccl.send(mine, 4, kInt64, peer, comm, stream), "ncclSend");
  } else {
    Check(g_nccl.allGather(mine, all, 4, kInt64, comm, stream), "ncclAllGather");
  }
  if (!WaitFor(comm, stream, deadline)) return timedOut();
  rt.Read(headerId, headerBytes, reinterpret_cast<std::uint8_t*>(const_cast<std::int64_t*>(seen.data)), seen.length * 8);
  for (std::size_t i = 0; i < seen.length; ++i) {
    if (seen.data[i] != header.data[i % 4]) return Napi::Number::New(env, kMismatch);
  }
  if (operation == kBarrier) return Napi::Number::New(env, kDone);

  // 2. The data. Types NCCL lacks move as bytes where nothing is reduced.
  const bool reduces = operation == kAllReduce || operation == kReduceScatter;
  int type = kNcclType[dtype];
  std::size_t n = static_cast<std::size_t>(count);
  if (type < 0) {
    if (reduces) return Napi::Number::New(env, kUnsupported);
    type = kUint8;
    n *= kElementBytes[dtype];
  }
  // bool: a sum saturates to logical or (max), as on MPI.
  const int op = dtype == 0 && reduceOp == 0 ? 2 : (reduceOp == 0 ? 0 : reduceOp == 1 ? 2 : 3);
  const std::size_t bytes = static_cast<std::size_t>(count) * kElementBytes[dtype];
  const std::size_t recvBytes = operation == kAllGather ? bytes * static_cast<std::size_t>(size) : operation == kReduceScatter ? bytes / static_cast<std::size_t>(size) : bytes;
  void* send = sendId >= 0 ? reinterpret_cast<void*>(rt.DeviceSpan(sendId, bytes, "send buffer")) : nullptr;
  void* recv = recvId >= 0 ? reinterpret_cast<void*>(rt.DeviceSpan(recvId, recvBytes, "receive buffer")) : nullptr;
  switch (operation) {
    case kAllReduce:
      Check(g_nccl.allReduce(send, recv, n, type, op, comm, stream), "ncclAllReduce");
      break;
    case kAllGather:
      Check(g_nccl.allGather(send, recv, n, type, comm, stream), "ncclAllGather");
      break;
    case kReduceScatter:
      Check(g_nccl.reduceScatter(send, recv, n / static_cast<std::size_t>(size), type, op, comm, stream), "ncclReduceScatter");
      break;
    case kBroadcast:  // the root passes its input as send; the others only recv
      Check(g_nccl.broadcast(send != nullptr ? send : recv, recv, n, type, peer, comm, stream), "ncclBroadcast");
      break;
    case kSend:
      Check(g_nccl.send(send, n, type, peer, comm, stream), "ncclSend");
      break;
    default:  // kRecv
      Check(g_nccl.recv(recv, n, type, peer, comm, stream), "ncclRecv");
      break;
  }
  if (!WaitFor(comm, stream, deadline)) return timedOut();
  return Napi::Number::New(env, kDone);
}

}  // namespace

void RegisterNcclApi(Napi::Env env, Napi::Object exports) {
  exports.Set("ncclOpen", Napi::Function::New<Guarded<NcclOpen, ErrorCode::kDlopen>>(env, "ncclOpen"));
  exports.Set("ncclUniqueId", Napi::Function::New<Guarded<NcclUniqueId, ErrorCode::kGpu>>(env, "ncclUniqueId"));
  exports.Set("ncclInit", Napi::Function::New<Guarded<NcclInit, ErrorCode::kGpu>>(env, "ncclInit"));
  exports.Set("ncclSplit", Napi::Function::New<Guarded<NcclSplit, ErrorCode::kGpu>>(env, "ncclSplit"));
  exports.Set("ncclRun", Napi::Function::New<Guarded<NcclRun, ErrorCode::kGpu>>(env, "ncclRun"));
}

}  // namespace ma
