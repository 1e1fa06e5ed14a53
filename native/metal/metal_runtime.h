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
// argOffset, then one word: see below) at nBufs + 1. A command with a 0 grid dimension
// is skipped.
//
// Split reductions (src/codegen/msl.ts, splitTwoPass): a command with scratchBytes > 0
// and gridY > 1 is dispatched twice, as given (each threadgroup writes its partial to
// the scratch) and then over grid (gridX, 1, 2) (the fold, which the kernel recognises
// by its gridZ of 2). Dispatches of one compute encoder run in order, so the fold sees
// every partial; MSL 3.1 has no device-scope fence to do it in one dispatch.
//
// The args block a dispatch gets is the command's argBytes (at least one word) followed
// by one more int64 word: 0, or the pass index of an ordered pass. Ordered passes
// (src/codegen/msl.ts, orderedPasses: scatters, sorts of lines longer than a tile): a
// command with scratchBytes > 0, gridY == 1 and gridZ = P > 1 is dispatched P times
// over grid (gridX, 1, 1), in order, the p-th with pass word p. Each pass sees every
// write of the passes before it, which is how its threadgroups hand values to one
// another; the kernels declare the pass word, so a single dispatch of such a kernel
// (a sort of short lines) is never bound shorter than its declaration either.
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

// What the pipeline cache has done since the process started (see Runtime::Compile).
struct PipelineStats {
  std::uint64_t compiled;  // pipelines Metal built from the function (not in the binary archive)
  std::uint64_t loaded;    // pipelines found in the binary archive (no GPU compile)
  std::uint64_t evicted;   // pipelines dropped by the LRU bound (rebuilt on their next launch)
  std::uint64_t resident;  // pipelines held now
  std::uint64_t limit;     // the LRU bound
  std::uint64_t pending;   // pipelines added to the archive since it was last written
  std::string archiveNote; // why the archive refused a pipeline or a file, or ""
};

// The in-memory pipeline bound's default (METALARRAY_METAL_PIPELINES overrides it from JS).
inline constexpr std::size_t kDefaultPipelineLimit = 512;

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
  // Metal's log. Each pipeline is taken from the binary archive when it holds it
  // (MTLPipelineOptionFailOnBinaryArchiveMiss), else compiled and added to it.
  //
  // Kernel ids stay valid for the life of the process, but at most the pipeline limit
  // of pipeline objects are held (least recently launched evicted first); an evicted
  // kernel's pipeline is rebuilt from its library source (and the archive) at its next
  // launch.
  std::vector<std::int32_t> Compile(const std::string& source, const std::vector<std::string>& names);

  // As Compile, from a metallib the offline compiler made of `source` (xcrun metal; the
  // caller verified the file): Metal loads the library instead of compiling the source.
  // `source` stays with the kernels, so a pipeline evicted and rebuilt after the file is
  // gone comes from it. Throws ERR_MA_COMPILE when Metal cannot read the file.
  std::vector<std::int32_t> LoadLibrary(const std::string& metallibPath, const std::string& source,
                                        const std::vector<std::string>& names);

  // Replaces the binary archive by the one serialized at `path` (already verified by
  // the caller), or by an empty one for "". Returns "" or, when Metal cannot read the
  // file, why (the archive then starts empty). Throws ERR_MA_GPU if Metal can create
  // no archive at all.
  std::string OpenArchive(const std::string& path);

  // Serializes the archive to `path` (the caller renames it into place). Returns false
  // when nothing was added since the last write. Throws ERR_MA_GPU with Metal's error.
  bool SaveArchive(const std::string& path);

  // Bounds the pipelines held in memory (at least 1); evicts down to it now.
  void SetPipelineLimit(std::size_t limit);

  PipelineStats Stats() const;

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
