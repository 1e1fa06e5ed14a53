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

  // For compile's replays: copies and validates the plan once; `patch` holds the command
  // word positions of the buffer ids each RunWith replaces (each must be a buffer word).
  // Throws ERR_MA_KERNEL for a malformed plan or patch.
  void PrepareReplay(const std::int32_t* commands, std::size_t commandCount, const std::int64_t* args,
                     std::size_t argCount, const std::int32_t* patch, std::size_t patchCount);

  // Puts `ids` (one per patch position) into the plan, pins every buffer and runs as Run.
  // Throws ERR_MA_BAD_ARGUMENT for a wrong count, ERR_MA_BAD_BUFFER for an unknown id.
  void RunWith(const std::int32_t* ids, std::size_t idCount);

 private:
  void Validate();
  [[noreturn]] void ThrowBadBuffer(std::size_t badIndex) const;

  std::vector<std::int32_t> commands_;
  std::vector<std::int64_t> args_;
  std::vector<std::int32_t> bufferIds_;  // every command's buffer ids, in order
  std::vector<void*> bufferPtrs_;        // their data pointers
  std::vector<std::size_t> patchIndex_;  // PrepareReplay: the bufferIds_ index of each patch position
  bool pinned_ = false;
};

}  // namespace ma
