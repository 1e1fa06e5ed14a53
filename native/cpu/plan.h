// Plans: validation, buffer resolution and execution (see NativeAddon.runPlan in
// src/runtime/native.ts for the command format).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ma {

inline constexpr std::int32_t kMaxCommandBuffers = 64;

// A plan made ready to run: its commands and args are copied (so a SharedArrayBuffer
// written by another thread cannot change them between validation and execution),
// every command is validated, and every buffer is resolved to its pointer and pinned
// before any kernel runs. Pins are dropped by Run() or the destructor. Reusable: the
// sync path keeps one per thread so steady-state runs do not allocate.
class PreparedPlan {
 public:
  PreparedPlan() = default;
  ~PreparedPlan() { Release(); }
  PreparedPlan(const PreparedPlan&) = delete;
  PreparedPlan& operator=(const PreparedPlan&) = delete;

  // Throws ERR_MA_KERNEL for a malformed plan and ERR_MA_BAD_BUFFER for an unknown
  // buffer id; on a throw nothing stays pinned.
  void Prepare(const std::int32_t* commands, std::size_t commandCount, const std::int64_t* args,
               std::size_t argCount);

  // Runs every command in order on the thread pool, each finishing before the next
  // starts; plans from all threads are serialized. Drops the pins when done.
  void Run();

  // Drops the pins without running (no-op if not prepared).
  void Release() noexcept;

 private:
  void Validate();
  [[noreturn]] void ThrowBadBuffer(std::size_t badIndex) const;

  std::vector<std::int32_t> commands_;
  std::vector<std::int64_t> args_;
  std::vector<std::int32_t> bufferIds_;  // every command's buffer ids, in order
  std::vector<void*> bufferPtrs_;        // their data pointers
  bool pinned_ = false;
};

}  // namespace ma
