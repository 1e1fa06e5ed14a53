#include "kernel_registry.h"

#include <memory>

#include "../common/errors.h"
#include "shared_library.h"

namespace ma {

KernelRegistry& KernelRegistry::Instance() {
  static KernelRegistry* const registry = new KernelRegistry();  // intentionally never destroyed
  return *registry;
}

std::vector<std::uint32_t> KernelRegistry::Load(const std::string& path,
                                                const std::vector<std::string>& symbols) {
  std::lock_guard<std::mutex> lock(loadMu_);
  SharedLibrary library = SharedLibrary::Open(path);
  std::vector<KernelFn> kernels;
  kernels.reserve(symbols.size());
  for (const std::string& name : symbols) {
    kernels.push_back(reinterpret_cast<KernelFn>(library.Symbol(name)));
  }

  std::vector<std::uint32_t> ids = Publish(kernels);
  library.KeepLoadedForever();
  return ids;
}

void KernelRegistry::Replace(const std::string& path, const std::vector<std::string>& symbols,
                             const std::vector<std::int64_t>& ids) {
  if (symbols.size() != ids.size()) {
    Fail(ErrorCode::kBadArgument, "replaceKernels: " + std::to_string(symbols.size()) + " symbols but " +
                                      std::to_string(ids.size()) + " ids");
  }
  std::lock_guard<std::mutex> lock(loadMu_);
  const std::int64_t count = count_.load(std::memory_order_relaxed);
  for (const std::int64_t id : ids) {
    if (id < 0 || id >= count) Fail(ErrorCode::kBadArgument, "replaceKernels: no kernel has id " + std::to_string(id));
  }
  SharedLibrary library = SharedLibrary::Open(path);
  std::vector<KernelFn> kernels;
  kernels.reserve(symbols.size());
  for (const std::string& name : symbols) {
    kernels.push_back(reinterpret_cast<KernelFn>(library.Symbol(name)));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::atomic<KernelFn>* segment = segments_[ids[i] >> kSegmentBits].load(std::memory_order_relaxed);
    segment[ids[i] & (kSegmentSize - 1)].store(kernels[i], std::memory_order_release);
  }
  library.KeepLoadedForever();
}

std::vector<std::uint32_t> KernelRegistry::Register(const std::vector<KernelFn>& kernels) {
  std::lock_guard<std::mutex> lock(loadMu_);
  return Publish(kernels);
}

std::vector<std::uint32_t> KernelRegistry::Publish(const std::vector<KernelFn>& kernels) {
  const auto first = static_cast<std::uint32_t>(count_.load(std::memory_order_relaxed));
  if (kernels.size() > kMaxKernels - first) {
    Fail(ErrorCode::kKernel, "too many kernels loaded (at most " + std::to_string(kMaxKernels) + ")");
  }
  std::vector<std::uint32_t> ids;
  ids.reserve(kernels.size());
  for (std::size_t i = 0; i < kernels.size(); ++i) {
    const std::uint32_t id = first + static_cast<std::uint32_t>(i);
    std::atomic<std::atomic<KernelFn>*>& slot = segments_[id >> kSegmentBits];
    std::atomic<KernelFn>* segment = slot.load(std::memory_order_relaxed);
    if (segment == nullptr) {
      // Segments live as long as the registry (the process); a segment allocated by a
      // load that fails later is simply used by the next one.
      segment = new std::atomic<KernelFn>[kSegmentSize]();
      slot.store(segment, std::memory_order_relaxed);
    }
    segment[id & (kSegmentSize - 1)].store(kernels[i], std::memory_order_relaxed);
    ids.push_back(id);
  }
  count_.store(first + static_cast<std::int64_t>(kernels.size()), std::memory_order_release);
  return ids;
}

}  // namespace ma
