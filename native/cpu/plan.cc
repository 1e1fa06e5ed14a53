#include "plan.h"

#include <algorithm>
#include <mutex>
#include <string>

#include "../common/buffer_pool.h"
#include "../common/errors.h"
#include "kernel_registry.h"
#include "thread_pool.h"

namespace ma {
namespace {

constexpr std::size_t kHeaderInts = 3;  // kernelId, argOffset, nBufs

// Serializes plans process-wide (every thread and environment): commands of two plans
// never interleave, and the thread pool has one submitter at a time.
std::mutex& PlanMutex() {
  static std::mutex* const mu = new std::mutex();  // never destroyed, see ThreadPool
  return *mu;
}

[[noreturn]] void Malformed(std::size_t command, const std::string& what) {
  Fail(ErrorCode::kKernel, "malformed plan: command " + std::to_string(command) + ": " + what);
}

// Number of chunks for a command: ceil(n / grain), at least 1 and at most threads.
int ChunkCount(std::int64_t n, std::int64_t grain, int threads) {
  const std::int64_t chunks = n / grain + (n % grain != 0 ? 1 : 0);
  return static_cast<int>(std::clamp<std::int64_t>(chunks, 1, threads));
}

}  // namespace

void PreparedPlan::Prepare(const std::int32_t* commands, std::size_t commandCount,
                           const std::int64_t* args, std::size_t argCount) {
  Release();  // a reused plan must not keep the previous run's pins
  commands_.assign(commands, commands + commandCount);
  args_.assign(args, args + argCount);
  Validate();
  bufferPtrs_.resize(bufferIds_.size());
  const std::size_t bad =
      BufferPool::Instance().PinAll(bufferIds_.data(), bufferIds_.size(), bufferPtrs_.data());
  if (bad != bufferIds_.size()) ThrowBadBuffer(bad);
  pinned_ = true;
}

void PreparedPlan::PrepareReplay(const std::int32_t* commands, std::size_t commandCount, const std::int64_t* args,
                                 std::size_t argCount, const std::int32_t* patch, std::size_t patchCount) {
  Release();
  commands_.assign(commands, commands + commandCount);
  args_.assign(args, args + argCount);
  Validate();
  // Command word position -> index into bufferIds_ (-1 for header words).
  std::vector<std::int64_t> bufferIndexOfWord(commands_.size(), -1);
  std::size_t next = 0;
  for (std::size_t pos = 0; pos < commands_.size();) {
    const auto nBufs = static_cast<std::size_t>(commands_[pos + 2]);
    for (std::size_t i = 0; i < nBufs; i++) bufferIndexOfWord[pos + kHeaderInts + i] = static_cast<std::int64_t>(next++);
    pos += kHeaderInts + nBufs;
  }
  patchIndex_.resize(patchCount);
  for (std::size_t k = 0; k < patchCount; k++) {
    const std::int32_t word = patch[k];
    if (word < 0 || static_cast<std::size_t>(word) >= commands_.size() || bufferIndexOfWord[static_cast<std::size_t>(word)] < 0) {
      Fail(ErrorCode::kKernel, "malformed replay patch: position " + std::to_string(word) + " is not a buffer id word of the plan");
    }
    patchIndex_[k] = static_cast<std::size_t>(bufferIndexOfWord[static_cast<std::size_t>(word)]);
  }
  bufferPtrs_.resize(bufferIds_.size());
}

void PreparedPlan::RunWith(const std::int32_t* ids, std::size_t idCount) {
  if (idCount != patchIndex_.size()) {
    Fail(ErrorCode::kBadArgument, "replay got " + std::to_string(idCount) + " buffer ids for " +
                                      std::to_string(patchIndex_.size()) + " patch positions");
  }
  Release();
  for (std::size_t k = 0; k < idCount; k++) bufferIds_[patchIndex_[k]] = ids[k];
  const std::size_t bad = BufferPool::Instance().PinAll(bufferIds_.data(), bufferIds_.size(), bufferPtrs_.data());
  if (bad != bufferIds_.size()) ThrowBadBuffer(bad);
  pinned_ = true;
  Run();
}

void PreparedPlan::Validate() {
  const KernelRegistry& kernels = KernelRegistry::Instance();
  bufferIds_.clear();
  std::size_t index = 0;
  for (std::size_t pos = 0; pos < commands_.size(); ++index) {
    if (commands_.size() - pos < kHeaderInts) {
      Malformed(index, "truncated header (needs kernelId, argOffset, nBufs)");
    }
    const std::int32_t kernelId = commands_[pos];
    const std::int32_t argOffset = commands_[pos + 1];
    const std::int32_t nBufs = commands_[pos + 2];
    if (kernels.Find(kernelId) == nullptr) {
      Malformed(index, "unknown kernel id " + std::to_string(kernelId));
    }
    // The kernel reads at least N and grain at argOffset.
    if (argOffset < 0 || argOffset % 8 != 0 ||
        static_cast<std::size_t>(argOffset) / 8 + 2 > args_.size()) {
      Malformed(index, "argOffset " + std::to_string(argOffset) +
                           " is not an 8-byte aligned offset with 16 bytes left in the " +
                           std::to_string(args_.size() * 8) + "-byte args block");
    }
    const auto argIndex = static_cast<std::size_t>(argOffset / 8);
    const std::int64_t n = args_[argIndex];
    const std::int64_t grain = args_[argIndex + 1];
    if (n < 0) Malformed(index, "negative work count N = " + std::to_string(n));
    if (grain < 1) Malformed(index, "grain must be >= 1, got " + std::to_string(grain));
    if (nBufs < 0 || nBufs > kMaxCommandBuffers) {
      Malformed(index, "nBufs " + std::to_string(nBufs) + " is outside [0, " +
                           std::to_string(kMaxCommandBuffers) + "]");
    }
    const auto count = static_cast<std::size_t>(nBufs);
    pos += kHeaderInts;
    if (commands_.size() - pos < count) {
      Malformed(index, "truncated: " + std::to_string(count) + " buffer ids expected, " +
                           std::to_string(commands_.size() - pos) + " left");
    }
    bufferIds_.insert(bufferIds_.end(), commands_.data() + pos, commands_.data() + pos + count);
    pos += count;
  }
}

void PreparedPlan::ThrowBadBuffer(std::size_t badIndex) const {
  // Cold path: walk the commands again to name the command that holds the bad id.
  std::size_t seen = 0;
  std::size_t index = 0;
  for (std::size_t pos = 0; pos < commands_.size(); ++index) {
    const auto nBufs = static_cast<std::size_t>(commands_[pos + 2]);
    if (badIndex < seen + nBufs) {
      Fail(ErrorCode::kBadBuffer, "plan command " + std::to_string(index) + " (kernel " +
                                      std::to_string(commands_[pos]) + "), buffer " +
                                      std::to_string(badIndex - seen) +
                                      ": unknown or freed buffer id " +
                                      std::to_string(bufferIds_[badIndex]));
    }
    seen += nBufs;
    pos += kHeaderInts + nBufs;
  }
  Fail(ErrorCode::kBadBuffer, "unknown or freed buffer id " + std::to_string(bufferIds_[badIndex]));
}

void PreparedPlan::Run() {
  struct Unpin {  // drops the pins however Run ends
    PreparedPlan& plan;
    ~Unpin() { plan.Release(); }
  } unpin{*this};
  if (!pinned_) return;
  const KernelRegistry& kernels = KernelRegistry::Instance();
  ThreadPool& pool = ThreadPool::Instance();
  const int threads = pool.threadCount();
  std::lock_guard<std::mutex> lock(PlanMutex());
  void* const* bufs = bufferPtrs_.data();
  for (std::size_t pos = 0; pos < commands_.size();) {
    const KernelFn fn = kernels.Find(commands_[pos]);  // validated: never null
    const std::int64_t* args = args_.data() + static_cast<std::size_t>(commands_[pos + 1] / 8);
    const auto nBufs = static_cast<std::size_t>(commands_[pos + 2]);
    const std::int64_t n = args[0];
    const int chunks = ChunkCount(n, args[1], threads);
    if (chunks == 1) {
      fn(bufs, args, 0, n);  // small work: no thread hand-off at all
    } else {
      pool.Run(fn, bufs, args, n, chunks);
    }
    bufs += nBufs;
    pos += kHeaderInts + nBufs;
  }
}

void PreparedPlan::Release() noexcept {
  if (!pinned_) return;
  pinned_ = false;
  BufferPool::Instance().UnpinAll(bufferIds_.data(), bufferIds_.size());
}

}  // namespace ma
