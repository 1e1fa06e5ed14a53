// The Metal runtime behind the addon's metal* entry points (macOS only).
//
// Plain C++ interface over an Objective-C++ implementation (metal_runtime.mm, ARC), so
// the N-API layer (metal_api.mm) and the plan format stay free of Objective-C types.
//
// A GPU plan follows the GPU launch contract of src/runtime/native.ts (shared with the
// CUDA runtime): an Int32Array of commands, each
//
//   [kernelId, argOffset, nBufs, bufId_0 ... bufId_{nBufs-1},
//    gridX, gridY, gridZ, groupX, groupY, groupZ, sharedBytes, argBytes, scratchBytes]
//
// run in order in one command buffer. grid counts threadgroups. Buffers bind at
// indices 0..nBufs-1, the runtime's zeroed scratch buffer (at least scratchBytes) at
// nBufs, the argument block (argBytes bytes of the args BigInt64Array from byte
// argOffset) at nBufs + 1. A command with a 0 grid dimension is skipped.
//
// Split reductions (src/codegen/msl.ts, splitTwoPass): a command with scratchBytes > 0
// and gridY > 1 is dispatched twice, as given (each threadgroup writes its partial to
// the scratch) and then over grid (gridX, 1, 2) (the fold, which the kernel recognises
// by its gridZ of 2). Dispatches of one compute encoder run in order, so the fold sees
// every partial; MSL 3.1 has no device-scope fence to do it in one dispatch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ma::metal {

inline constexpr std::size_t kCommandHeaderInts = 3;  // kernelId, argOffset, nBufs
inline constexpr std::size_t kLaunchInts = 9;  // grid xyz, group xyz, sharedBytes, argBytes, scratchBytes

struct DeviceInfo {
  std::string name;
  std::string family;           // highest Apple/Mac/Metal family the device reports
  std::uint64_t memoryBytes;    // recommendedMaxWorkingSetSize
  std::uint64_t maxBufferLength;
  std::uint64_t maxThreadsPerThreadgroup;
  std::uint64_t threadgroupMemoryBytes;
  std::uint64_t simdWidth;      // threadExecutionWidth of the probe pipeline
  bool unifiedMemory;
  bool simdgroupMatrix;         // a simdgroup_float8x8 probe kernel compiled
  bool bfloat;                  // a bfloat probe kernel compiled
  std::string languageVersion;  // the MSL version kernels are compiled for
};

// A plan validated and with every buffer pinned; the pins drop when it is destroyed.
class PreparedGpuPlan;

class Runtime {
 public:
  // The process-wide runtime; the first call opens the device and throws
  // ERR_MA_GPU (with the reason) when there is none.
  static Runtime& Instance();

  DeviceInfo Info() const;

  // Compiles one library from `source` and returns a kernel id per function name.
  // Sources already compiled return their cached ids. Throws ERR_MA_COMPILE with
  // Metal's log.
  std::vector<std::int32_t> Compile(const std::string& source, const std::vector<std::string>& names);

  // Copies, validates and pins a plan (throws ERR_MA_KERNEL / ERR_MA_BAD_BUFFER).
  std::shared_ptr<PreparedGpuPlan> Prepare(const std::int32_t* commands, std::size_t commandCount,
                                           const std::int64_t* args, std::size_t argCount);

  // Encodes the plan in one command buffer, commits it and waits (throws ERR_MA_KERNEL).
  // Returns the command buffer's GPU time (GPUEndTime - GPUStartTime) in milliseconds.
  double Run(const std::shared_ptr<PreparedGpuPlan>& plan);

  // Encodes and commits; `done` is called on a Metal completion thread with "" or the
  // error message. Encoding errors are thrown before anything is committed.
  void RunAsync(const std::shared_ptr<PreparedGpuPlan>& plan, std::function<void(const std::string&)> done);

  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

 private:
  Runtime();
  ~Runtime();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ma::metal
