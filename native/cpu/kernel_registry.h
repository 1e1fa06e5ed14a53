// The process-global table of loaded CPU kernels. Kernel ids index this table; it only
// ever grows, so plans look kernels up without a lock. An entry changes only when a
// faster build of the same kernel replaces it (Replace): an atomic pointer store, so a
// launch calls either the old or the new code, both of which stay loaded.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace ma {

// The kernel ABI (see src/runtime/native.ts):
//   extern "C" void kernel(void *const *bufs, const int64_t *args, int64_t start, int64_t end)
using KernelFn = void (*)(void* const* bufs, const std::int64_t* args, std::int64_t start,
                          std::int64_t end);

class KernelRegistry {
 public:
  static constexpr unsigned kSegmentBits = 12;  // 4096 kernels per segment
  static constexpr std::uint32_t kSegmentSize = std::uint32_t{1} << kSegmentBits;
  static constexpr std::uint32_t kMaxSegments = 256;
  static constexpr std::uint32_t kMaxKernels = kSegmentSize * kMaxSegments;  // 1,048,576

  // Never destroyed: worker threads may still run kernels during static destruction.
  static KernelRegistry& Instance();

  // dlopen()s `path`, resolves every symbol and publishes them as new kernels; returns
  // their ids in order. All or nothing: on any failure no id is published and the
  // library is closed again. Throws ERR_MA_DLOPEN, or ERR_MA_KERNEL when full.
  std::vector<std::uint32_t> Load(const std::string& path, const std::vector<std::string>& symbols);

  // dlopen()s `path` (an optimized build of the same kernels) and points each id at the
  // symbol of the same position. The old code stays loaded: a plan running on another
  // thread may be inside it. All or nothing, like Load. Throws ERR_MA_DLOPEN, or
  // ERR_MA_BAD_ARGUMENT for an id that was never published or a count mismatch.
  void Replace(const std::string& path, const std::vector<std::string>& symbols,
               const std::vector<std::int64_t>& ids);

  // Publishes kernels that live in the addon itself (e.g. the BLAS wrappers); returns
  // their ids in order. Throws ERR_MA_KERNEL when full.
  std::vector<std::uint32_t> Register(const std::vector<KernelFn>& kernels);

  // The kernel with this id, or nullptr. Lock-free: safe against concurrent Load.
  KernelFn Find(std::int64_t id) const noexcept {
    if (id < 0 || id >= count_.load(std::memory_order_acquire)) return nullptr;
    const std::atomic<KernelFn>* segment = segments_[id >> kSegmentBits].load(std::memory_order_relaxed);
    // Acquire pairs with Replace's release store (plain loads on x86 and arm64).
    return segment[id & (kSegmentSize - 1)].load(std::memory_order_acquire);
  }

 private:
  KernelRegistry() = default;

  // Appends kernels to the table; the caller holds loadMu_.
  std::vector<std::uint32_t> Publish(const std::vector<KernelFn>& kernels);

  std::mutex loadMu_;  // serializes loads (and their dlerror() use)
  // Published count; the acquire load in Find makes the segment pointer and entry
  // stores that precede the release store visible.
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::atomic<KernelFn>*> segments_[kMaxSegments] = {};
};

}  // namespace ma
