// The process-global buffer pool.
//
// One pool serves every JS environment (main thread and worker_threads) of the process,
// guarded by one mutex. Buffers are named by 31-bit ids: the low kSlotBits bits index a
// slot table, the high bits carry the slot's generation, which changes on every free so
// a stale id (double free, use after free) is rejected instead of aliasing a newer
// buffer. Freed slots are reused first-in first-out, so an id only comes back after
// 255 generations of its slot, i.e. after every other free slot was reused that often.
//
// Memory is 64-byte aligned and rounded up to a size class (size_classes.h). Freed
// blocks go to a per-class cache and are reused; the cache is bounded by the cache
// limit and evicts least recently freed blocks first.
//
// Accounting: activeBytes counts the class size of every live buffer (the memory really
// held, not the bytes requested), and cachedBytes the class size of cached blocks.
//
// Pins: a plan or a copy that is running uses raw pointers outside the mutex. It pins
// the buffers it uses; freeing a pinned buffer invalidates its id at once but returns
// the memory only when the last pin goes, so misuse from another thread cannot free
// memory under a running kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "size_classes.h"

namespace ma {

struct MemoryStats {
  std::uint64_t activeBytes;
  std::uint64_t cachedBytes;
  std::uint64_t peakBytes;
  std::uint64_t activeBuffers;
  std::uint64_t cachedBuffers;
  std::uint64_t cacheLimit;   // UINT64_MAX: unlimited
  std::uint64_t memoryLimit;  // UINT64_MAX: unlimited
};

// What a free released, for external-memory accounting by the caller.
struct FreedBuffer {
  std::uint32_t owner;  // token of the JS environment that allocated it
  std::uint64_t bytes;  // class size
};

class BufferPool {
 public:
  static constexpr unsigned kSlotBits = 23;  // up to 8,388,608 buffers at once
  static constexpr std::uint32_t kMaxSlots = std::uint32_t{1} << kSlotBits;

  // The process-wide pool. Never destroyed: worker threads and late environment
  // teardown may still use it during static destruction at exit.
  static BufferPool& Instance();

  // Allocates `nbytes` (0 is valid) for the environment `owner`; returns the id.
  // Throws ERR_MA_OOM. `*classBytes` receives the bytes accounted for it.
  std::uint32_t Allocate(std::uint64_t nbytes, std::uint32_t owner, std::uint64_t* classBytes);
  // Frees a buffer; throws ERR_MA_BAD_BUFFER for an unknown or already freed id.
  FreedBuffer Free(std::int64_t id);
  // Frees `id` if it is live and was allocated by `owner`; returns whether it did.
  // Never throws: garbage-collection finalizers call it, and a stale id (its
  // environment already released everything it owned) is simply ignored.
  bool FreeIfOwned(std::int64_t id, std::uint32_t owner, FreedBuffer* freed) noexcept;
  // The byte length requested at allocation; throws ERR_MA_BAD_BUFFER.
  std::uint64_t ByteLength(std::int64_t id);

  // Pins ids[0..n) and stores their data pointers in ptrs. All or nothing: on an
  // unknown id nothing stays pinned and the index of that id is returned; returns n on
  // success. The same id may appear several times.
  std::size_t PinAll(const std::int32_t* ids, std::size_t n, void** ptrs);
  // Drops pins taken by a successful PinAll with the same ids.
  void UnpinAll(const std::int32_t* ids, std::size_t n) noexcept;

  // Pins one buffer for a zero-copy view that outlives any JS call: returns its data
  // and byte length and stores the slot to pass to UnpinSlot when the view goes.
  // Freeing the buffer meanwhile only invalidates its id (see Pins above).
  // Throws ERR_MA_BAD_BUFFER.
  void* PinForView(std::int64_t id, std::uint64_t* byteLength, std::uint32_t* slot);
  void UnpinSlot(std::uint32_t slot) noexcept;

  MemoryStats Stats();
  void ClearCache();
  void SetCacheLimit(std::uint64_t bytes);
  void SetMemoryLimit(std::uint64_t bytes);
  void ResetPeak();
  // Frees every live buffer allocated by `owner` (its JS environment is going away, so
  // nothing could free them later).
  void ReleaseOwnedBy(std::uint32_t owner);

  // Pins one buffer for the lifetime of the object (read/write copies).
  class PinnedBuffer {
   public:
    PinnedBuffer(BufferPool& pool, std::int64_t id);  // throws ERR_MA_BAD_BUFFER
    ~PinnedBuffer();
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;
    std::uint8_t* data() const { return data_; }
    std::uint64_t byteLength() const { return byteLength_; }

   private:
    BufferPool& pool_;
    std::uint32_t slot_;
    std::uint8_t* data_;
    std::uint64_t byteLength_;
  };

 private:
  BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  enum class SlotState : std::uint8_t { kFree, kReserved, kLive, kZombie };
  static constexpr std::uint32_t kNoSlot = UINT32_MAX;

  struct Slot {
    void* data = nullptr;
    std::uint64_t byteLength = 0;
    std::uint64_t classBytes = 0;
    std::uint64_t pins = 0;
    std::uint32_t owner = 0;
    std::uint32_t nextFree = kNoSlot;
    std::uint8_t generation = 1;  // 1..255, never 0, so no id is 0
    SlotState state = SlotState::kFree;
    std::uint8_t classIndex = 0;
  };

  // Header written into the memory of a cached block (>= 64 bytes, unused while cached),
  // so caching a block never allocates.
  struct CachedBlock {
    CachedBlock* lruPrev;  // global list, oldest free first
    CachedBlock* lruNext;
    CachedBlock* classPrev;  // per-class list, most recently freed first
    CachedBlock* classNext;
    std::uint64_t bytes;
    unsigned classIndex;
  };
  static_assert(sizeof(CachedBlock) <= kMinBlockBytes, "cache header must fit the smallest block");

  // Blocks to return to the system once the mutex is released (munmap of a large block
  // is slow; other threads should not wait on it). Linked through the blocks' memory.
  class DeferredFrees {
   public:
    DeferredFrees() = default;
    ~DeferredFrees() { FreeAll(); }
    DeferredFrees(const DeferredFrees&) = delete;
    DeferredFrees& operator=(const DeferredFrees&) = delete;
    void Push(void* block) noexcept;
    void FreeAll() noexcept;

   private:
    void* head_ = nullptr;
  };

  Slot* FindLive(std::int64_t id);  // mu_ held; nullptr if unknown or freed
  std::uint32_t AcquireSlot();      // mu_ held; throws ERR_MA_OOM when the table is full
  void RecycleSlot(std::uint32_t index);
  void ReleaseBlock(std::uint32_t index, DeferredFrees& frees);  // live/zombie -> free slot
  void Retire(std::uint32_t index, DeferredFrees& frees);        // on free: bump generation
  void DropPin(std::uint32_t index, DeferredFrees& frees);

  void* TakeCached(unsigned classIndex);
  void CacheBlock(void* block, unsigned classIndex, std::uint64_t bytes, DeferredFrees& frees);
  void EvictOldest(DeferredFrees& frees);
  // Evicts least recently freed blocks until cachedBytes_ <= target.
  void EvictCachedAbove(std::uint64_t target, DeferredFrees& frees);
  // The cache size at which active + cached + extra stays within the memory limit.
  std::uint64_t CacheRoomFor(std::uint64_t extra) const;

  [[noreturn]] void ThrowOom(std::uint64_t request, std::uint64_t classBytes, const char* reason) const;

  std::mutex mu_;
  std::vector<Slot> slots_;
  std::uint32_t freeHead_ = kNoSlot;  // FIFO of free slots
  std::uint32_t freeTail_ = kNoSlot;

  CachedBlock* lruHead_ = nullptr;
  CachedBlock* lruTail_ = nullptr;
  CachedBlock* classHeads_[kNumClasses] = {};

  std::uint64_t activeBytes_ = 0;
  std::uint64_t cachedBytes_ = 0;
  std::uint64_t peakBytes_ = 0;
  std::uint64_t activeBuffers_ = 0;
  std::uint64_t cachedBuffers_ = 0;
  std::uint64_t cacheLimit_;
  std::uint64_t memoryLimit_;
};

}  // namespace ma
