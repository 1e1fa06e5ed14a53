// The CUDA runtime of the addon: one device (0), its primary context, one stream,
// a pool of device memory (cuMemAlloc, never managed memory) with freed blocks cached
// by size class, pinned staging for host transfers, NVRTC compilation, loaded kernels,
// and GPU plans (the launch contract in src/runtime/native.ts).
//
// Every driver and NVRTC result is checked; failures throw ma::Error with kGpu (the
// call and CUDA's error name and text; for launches the kernel, grid and block),
// kCompile (NVRTC's log), kOom or kBadBuffer/kBadArgument/kKernel for bad input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "../common/buffer_pool.h"
#include "cuda_driver.h"

namespace ma::cuda {

struct DeviceInfo {
  std::string name;
  int major = 0;
  int minor = 0;
  int multiprocessors = 0;
  std::string nvrtc;
};

// A validated GPU plan: launches ready to issue.
struct Launch {
  CUfunction fn;
  unsigned grid[3];
  unsigned block[3];
  unsigned sharedBytes;
  std::size_t firstPtr;  // index into Plan::ptrs
  std::size_t nBufs;
  const void* argBlob;  // into the caller's args (read by cuLaunchKernel at launch)
  CUdeviceptr argCopy;  // device copy of a blob too large to pass inline, else 0
  std::uint32_t kernel;
};

// Owns the device copies of large args blobs; they are freed when the plan is, which
// callers do only after the stream has finished the plan.
struct Plan {
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  Plan(Plan&&) = default;
  ~Plan();
  std::vector<Launch> launches;
  std::vector<CUdeviceptr> ptrs;
  std::vector<CUdeviceptr> argCopies;
};

// A plan recorded once as a CUDA graph (compile's replays, native/cuda/cuda_graph.cc).
// The graph bakes in its buffers' device pointers, its args and the scratch pointer:
// the caller keeps those buffers alive until DestroyGraph, and a replay recaptures if
// the scratch was regrown since. Owns copies of the commands and args (the launches
// point into them) and the plan (its device copies of large args).
struct GraphRecord {
  GraphRecord() = default;
  GraphRecord(const GraphRecord&) = delete;
  GraphRecord& operator=(const GraphRecord&) = delete;
  ~GraphRecord();
  std::vector<std::int32_t> commands;
  std::vector<std::int64_t> args;
  std::unique_ptr<Plan> plan;
  CUgraph graph = nullptr;
  CUgraphExec exec = nullptr;
  CUdeviceptr scratchAtCapture = 0;
  const DriverApi* api = nullptr;
};

class Runtime {
 public:
  // The process-wide runtime; never destroyed (worker threads may use it at exit).
  static Runtime& Instance();

  // '' if usable, else why not. Initializes on first call.
  std::string Probe();
  const DeviceInfo& Info();

  std::uint32_t Alloc(std::uint64_t nbytes);
  void Free(std::int64_t id);
  // Free for GC finalizers (buffer handles): never throws; false for an unknown id.
  // Stream order keeps work already issued on the block safe, as for Free.
  bool FreeQuietly(std::int64_t id) noexcept;
  void Write(std::int64_t id, std::uint64_t offset, const std::uint8_t* src, std::size_t n);
  void Read(std::int64_t id, std::uint64_t offset, std::uint8_t* dst, std::size_t n);
  MemoryStats Stats();
  void ClearCache();
  void SetCacheLimit(std::uint64_t bytes);
  void SetMemoryLimit(std::uint64_t bytes);

  std::vector<char> Compile(const std::string& name, const std::string& source, const std::string& arch);
  std::vector<std::uint32_t> LoadModule(const std::uint8_t* image, std::size_t size,
                                        const std::vector<std::string>& names);

  // Validates commands against kernels, buffers and args (throws on malformed input).
  // Free the result only after the stream finished it (it owns device copies of args).
  Plan Prepare(const std::int32_t* commands, std::size_t nCommands, const std::int64_t* args,
               std::size_t nArgs);
  // Issues a prepared plan's launches on the stream (returns before they finish).
  void Issue(const Plan& plan);
  // Waits for the stream; a failure names the kernels of `plan`.
  void Synchronize(const Plan* plan);
  // Records an event after everything issued so far; WaitEvent blocks on it (any thread).
  CUevent RecordEvent();
  void WaitEvent(CUevent event, const std::string& what);
  // Times `reps` issues of the plan with events; milliseconds each.
  std::vector<double> Time(const Plan& plan, int reps);

  // CUDA graphs: '' where usable, else why not.
  std::string GraphSupport();
  // Validates the plan and records its launches as a graph; returns the graph's id.
  std::uint32_t CreateGraph(const std::int32_t* commands, std::size_t nCommands, const std::int64_t* args, std::size_t nArgs);
  // Copies each (source id, destination id) pair of `before` (the destination's bytes),
  // launches the graph once, copies the pairs of `after`, and waits for the stream.
  void ReplayGraph(std::uint32_t id, const std::int32_t* before, std::size_t nBefore, const std::int32_t* after,
                   std::size_t nAfter);
  // Frees a graph (after the stream finished it); false for an unknown id.
  bool DestroyGraph(std::uint32_t id);

  // Makes the context current on the calling thread.
  void MakeCurrent();
  // ma.distributed's NCCL engine (nccl_api.cc): the stream its collectives are issued on
  // (in order with the plans), and the device address of a buffer's first `n` bytes.
  CUstream Stream() {
    MakeCurrent();
    return stream_;
  }
  CUdeviceptr DeviceSpan(std::int64_t id, std::size_t n, const char* what) { return Span(id, 0, n, what); }
  // Frees device memory outside the pool (large args copies).
  void FreeRaw(CUdeviceptr ptr) noexcept;

 private:
  Runtime() = default;
  void InitLocked();
  void Check(CUresult r, const char* call);
  [[noreturn]] void FailGpu(CUresult r, const std::string& what);
  std::string DescribePlan(const Plan* plan) const;

  struct Block {
    CUdeviceptr ptr;
    std::uint64_t bytes;       // requested
    std::uint64_t classBytes;  // allocated
  };
  struct Cached {
    CUdeviceptr ptr;
    std::uint64_t classBytes;
  };
  CUdeviceptr TakeCached(std::uint64_t classBytes);
  void EvictTo(std::uint64_t target);
  Block* Find(std::int64_t id);
  CUdeviceptr Span(std::int64_t id, std::uint64_t offset, std::size_t n, const char* what);

  std::mutex initMu_;
  bool initTried_ = false;
  std::string why_;
  const DriverApi* api_ = nullptr;
  CUcontext ctx_ = nullptr;
  CUstream stream_ = nullptr;
  DeviceInfo info_;

  std::mutex memMu_;
  std::unordered_map<std::uint32_t, Block> live_;
  std::uint32_t nextId_ = 1;
  std::list<Cached> lru_;  // oldest first
  std::multimap<std::uint64_t, std::list<Cached>::iterator> byClass_;
  std::uint64_t activeBytes_ = 0;
  std::uint64_t cachedBytes_ = 0;
  std::uint64_t peakBytes_ = 0;
  std::uint64_t cacheLimit_ = UINT64_MAX;
  std::uint64_t memoryLimit_ = UINT64_MAX;

  std::mutex stagingMu_;
  void* staging_ = nullptr;
  static constexpr std::size_t kStagingBytes = std::size_t{8} << 20;

  // Zero-initialized scratch shared by every launch (kernels leave it zeroed); grown
  // (after the stream drains) when a plan needs more.
  void EnsureScratch(std::uint64_t bytes);
  CUdeviceptr scratch_ = 0;
  std::uint64_t scratchBytes_ = 0;

  void Capture(GraphRecord& g);
  void CopyPairs(const std::int32_t* pairs, std::size_t n, const char* what);
  std::mutex graphMu_;
  std::unordered_map<std::uint32_t, std::unique_ptr<GraphRecord>> graphs_;
  std::uint32_t nextGraphId_ = 1;

  std::mutex kernelMu_;
  std::vector<CUfunction> kernels_;
  std::vector<std::string> kernelNames_;
};

}  // namespace ma::cuda
