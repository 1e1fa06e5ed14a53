#include "buffer_pool.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>

#include "errors.h"

namespace ma {
namespace {

// 64 bytes: a cache line and the widest SIMD register (AVX-512), so generated kernels
// may use aligned vector loads on every buffer.
constexpr std::size_t kAlignment = 64;
constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;

std::uint64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0) return 0;  // unknown
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(pageSize);
}

void* AlignedAlloc(std::uint64_t bytes) {
  if (bytes > SIZE_MAX) return nullptr;
  void* block = nullptr;
  // posix_memalign rather than aligned_alloc: it has no size-multiple requirement and
  // reports failure through its return value on every libc.
  std::size_t alignment = kAlignment;
#ifdef __APPLE__
  // Page-aligned blocks of whole pages can be handed to Metal in place
  // (newBufferWithBytesNoCopy); classes of a page or more are page multiples.
  const std::size_t page = static_cast<std::size_t>(getpagesize());
  if (bytes >= page) alignment = page;
#endif
  if (posix_memalign(&block, alignment, static_cast<std::size_t>(bytes)) != 0) return nullptr;
  return block;
}

std::uint32_t SlotOf(std::int64_t id) {
  return static_cast<std::uint32_t>(id) & (BufferPool::kMaxSlots - 1);
}

std::uint32_t MakeId(std::uint32_t slot, std::uint8_t generation) {
  return (static_cast<std::uint32_t>(generation) << BufferPool::kSlotBits) | slot;
}

std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

std::string LimitText(std::uint64_t limit) {
  return limit == UINT64_MAX ? std::string("none") : std::to_string(limit) + " bytes";
}

[[noreturn]] void ThrowBadBuffer(std::int64_t id) {
  Fail(ErrorCode::kBadBuffer, "unknown or freed buffer id " + std::to_string(id));
}

}  // namespace

// ---- DeferredFrees ----

void BufferPool::DeferredFrees::Push(void* block) noexcept {
  *static_cast<void**>(block) = head_;
  head_ = block;
}

void BufferPool::DeferredFrees::FreeAll() noexcept {
  while (head_ != nullptr) {
    void* next = *static_cast<void**>(head_);
    std::free(head_);
    head_ = next;
  }
}

// ---- construction ----

BufferPool& BufferPool::Instance() {
  static BufferPool* const pool = new BufferPool();  // intentionally never destroyed
  return *pool;
}

// Defaults: the memory limit is the physical RAM, so a runaway allocation fails with
// ERR_MA_OOM instead of swapping or meeting the OOM killer; the cache keeps at most
// min(1 GiB, RAM / 4), enough to recycle the temporaries of large evaluations without
// hoarding memory on small machines.
BufferPool::BufferPool() {
  const std::uint64_t ram = PhysicalMemoryBytes();
  memoryLimit_ = ram != 0 ? ram : UINT64_MAX;
  cacheLimit_ = ram != 0 ? std::min(kGiB, ram / 4) : kGiB;
}

// ---- slots ----

BufferPool::Slot* BufferPool::FindLive(std::int64_t id) {
  if (id <= 0 || id > INT32_MAX) return nullptr;
  const std::uint32_t index = SlotOf(id);
  if (index >= slots_.size()) return nullptr;
  Slot& slot = slots_[index];
  const auto generation = static_cast<std::uint32_t>(id) >> kSlotBits;
  if (slot.state != SlotState::kLive || slot.generation != generation) return nullptr;
  return &slot;
}

std::uint32_t BufferPool::AcquireSlot() {
  if (freeHead_ != kNoSlot) {
    const std::uint32_t index = freeHead_;
    freeHead_ = slots_[index].nextFree;
    if (freeHead_ == kNoSlot) freeTail_ = kNoSlot;
    slots_[index].nextFree = kNoSlot;
    return index;
  }
  if (slots_.size() >= kMaxSlots) {
    Fail(ErrorCode::kOom, "too many live buffers (the pool holds at most " +
                              std::to_string(kMaxSlots) + ")");
  }
  slots_.emplace_back();  // may throw bad_alloc; nothing to undo yet
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

void BufferPool::RecycleSlot(std::uint32_t index) {
  Slot& slot = slots_[index];
  slot.state = SlotState::kFree;
  slot.data = nullptr;
  slot.pins = 0;
  slot.nextFree = kNoSlot;
  if (freeTail_ == kNoSlot) {
    freeHead_ = index;
  } else {
    slots_[freeTail_].nextFree = index;
  }
  freeTail_ = index;
}

void BufferPool::ReleaseBlock(std::uint32_t index, DeferredFrees& frees) {
  Slot& slot = slots_[index];
  activeBytes_ -= slot.classBytes;
  activeBuffers_ -= 1;
  CacheBlock(slot.data, slot.classIndex, slot.classBytes, frees);
  RecycleSlot(index);
}

void BufferPool::Retire(std::uint32_t index, DeferredFrees& frees) {
  Slot& slot = slots_[index];
  // A new generation makes every copy of the old id stale; 0 is skipped so no id is 0.
  slot.generation = slot.generation == 255 ? 1 : static_cast<std::uint8_t>(slot.generation + 1);
  if (slot.pins != 0) {
    slot.state = SlotState::kZombie;  // the last DropPin releases it
  } else {
    ReleaseBlock(index, frees);
  }
}

void BufferPool::DropPin(std::uint32_t index, DeferredFrees& frees) {
  Slot& slot = slots_[index];
  if (--slot.pins == 0 && slot.state == SlotState::kZombie) ReleaseBlock(index, frees);
}

// ---- cache ----

void* BufferPool::TakeCached(unsigned classIndex) {
  CachedBlock* block = classHeads_[classIndex];
  if (block == nullptr) return nullptr;
  classHeads_[classIndex] = block->classNext;
  if (block->classNext != nullptr) block->classNext->classPrev = nullptr;
  (block->lruPrev != nullptr ? block->lruPrev->lruNext : lruHead_) = block->lruNext;
  (block->lruNext != nullptr ? block->lruNext->lruPrev : lruTail_) = block->lruPrev;
  cachedBytes_ -= block->bytes;
  cachedBuffers_ -= 1;
  return block;
}

void BufferPool::CacheBlock(void* memory, unsigned classIndex, std::uint64_t bytes,
                            DeferredFrees& frees) {
  if (bytes > cacheLimit_) {
    frees.Push(memory);
    return;
  }
  CachedBlock* block = new (memory) CachedBlock{lruTail_, nullptr, nullptr,
                                                classHeads_[classIndex], bytes, classIndex};
  (lruTail_ != nullptr ? lruTail_->lruNext : lruHead_) = block;
  lruTail_ = block;
  if (block->classNext != nullptr) block->classNext->classPrev = block;
  classHeads_[classIndex] = block;
  cachedBytes_ += bytes;
  cachedBuffers_ += 1;
  EvictCachedAbove(cacheLimit_, frees);
}

void BufferPool::EvictOldest(DeferredFrees& frees) {
  CachedBlock* block = lruHead_;
  lruHead_ = block->lruNext;
  (lruHead_ != nullptr ? lruHead_->lruPrev : lruTail_) = nullptr;
  (block->classPrev != nullptr ? block->classPrev->classNext : classHeads_[block->classIndex]) =
      block->classNext;
  if (block->classNext != nullptr) block->classNext->classPrev = block->classPrev;
  cachedBytes_ -= block->bytes;
  cachedBuffers_ -= 1;
  frees.Push(block);
}

void BufferPool::EvictCachedAbove(std::uint64_t target, DeferredFrees& frees) {
  while (cachedBytes_ > target && lruHead_ != nullptr) EvictOldest(frees);
}

std::uint64_t BufferPool::CacheRoomFor(std::uint64_t extra) const {
  if (memoryLimit_ == UINT64_MAX) return UINT64_MAX;
  const std::uint64_t needed = SaturatingAdd(activeBytes_, extra);
  return needed >= memoryLimit_ ? 0 : memoryLimit_ - needed;
}

void BufferPool::ThrowOom(std::uint64_t request, std::uint64_t classBytes, const char* reason) const {
  Fail(ErrorCode::kOom, "cannot allocate " + std::to_string(request) + " bytes (size class " +
                            std::to_string(classBytes) + " bytes): " + reason + "; active " +
                            std::to_string(activeBytes_) + " bytes, memory limit " +
                            LimitText(memoryLimit_));
}

// ---- public API ----

std::uint32_t BufferPool::Allocate(std::uint64_t nbytes, std::uint32_t owner,
                                   std::uint64_t* classBytes) {
  SizeClass sc{};
  if (!ClassifySize(nbytes, &sc)) {
    std::lock_guard<std::mutex> lock(mu_);
    ThrowOom(nbytes, nbytes, "larger than the largest supported block (2^48 bytes)");
  }
  DeferredFrees frees;  // declared before the locks: freed after they are released
  std::uint32_t index = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sc.bytes > memoryLimit_ || activeBytes_ > memoryLimit_ - sc.bytes) {
      // Emptying the cache cannot help here: the limit bounds live buffers.
      ThrowOom(nbytes, sc.bytes, "it would exceed the memory limit");
    }
    index = AcquireSlot();
    void* cached = TakeCached(sc.index);
    if (cached == nullptr) {
      // Fresh memory: first shrink the cache so the pool's whole footprint (live plus
      // cached) stays within the memory limit.
      EvictCachedAbove(CacheRoomFor(sc.bytes), frees);
    }
    Slot& slot = slots_[index];
    slot.byteLength = nbytes;
    slot.classBytes = sc.bytes;
    slot.classIndex = static_cast<std::uint8_t>(sc.index);
    slot.owner = owner;
    slot.pins = 0;
    // Reserve the bytes now, so concurrent allocations see them against the limit
    // while the system allocator runs without the mutex.
    activeBytes_ += sc.bytes;
    activeBuffers_ += 1;
    *classBytes = sc.bytes;
    if (cached != nullptr) {
      slot.data = cached;
      slot.state = SlotState::kLive;
      peakBytes_ = std::max(peakBytes_, activeBytes_);
      return MakeId(index, slot.generation);
    }
    slot.state = SlotState::kReserved;  // invisible to lookups until live
  }
  frees.FreeAll();
  void* block = AlignedAlloc(sc.bytes);
  if (block == nullptr) {
    // The system is out of memory: give back everything cached and retry once.
    {
      std::lock_guard<std::mutex> lock(mu_);
      EvictCachedAbove(0, frees);
    }
    frees.FreeAll();
    block = AlignedAlloc(sc.bytes);
  }
  std::lock_guard<std::mutex> lock(mu_);
  Slot& slot = slots_[index];
  if (block == nullptr) {
    activeBytes_ -= sc.bytes;
    activeBuffers_ -= 1;
    RecycleSlot(index);
    ThrowOom(nbytes, sc.bytes, "the system allocator failed");
  }
  slot.data = block;
  slot.state = SlotState::kLive;
  peakBytes_ = std::max(peakBytes_, activeBytes_);
  return MakeId(index, slot.generation);
}

FreedBuffer BufferPool::Free(std::int64_t id) {
  DeferredFrees frees;
  std::lock_guard<std::mutex> lock(mu_);
  Slot* slot = FindLive(id);
  if (slot == nullptr) ThrowBadBuffer(id);
  const FreedBuffer freed{slot->owner, slot->classBytes};
  Retire(SlotOf(id), frees);
  return freed;
}

bool BufferPool::FreeIfOwned(std::int64_t id, std::uint32_t owner, FreedBuffer* freed) noexcept {
  DeferredFrees frees;
  std::lock_guard<std::mutex> lock(mu_);
  Slot* slot = FindLive(id);
  if (slot == nullptr || slot->owner != owner) return false;
  *freed = FreedBuffer{slot->owner, slot->classBytes};
  Retire(SlotOf(id), frees);
  return true;
}

void* BufferPool::PinForView(std::int64_t id, std::uint64_t* byteLength, std::uint32_t* slot) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot* s = FindLive(id);
  if (s == nullptr) ThrowBadBuffer(id);
  s->pins += 1;
  *slot = SlotOf(id);
  *byteLength = s->byteLength;
  return s->data;
}

void BufferPool::UnpinSlot(std::uint32_t slot) noexcept {
  DeferredFrees frees;
  std::lock_guard<std::mutex> lock(mu_);
  DropPin(slot, frees);
}

std::uint64_t BufferPool::ByteLength(std::int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot* slot = FindLive(id);
  if (slot == nullptr) ThrowBadBuffer(id);
  return slot->byteLength;
}

std::size_t BufferPool::PinAll(const std::int32_t* ids, std::size_t n, void** ptrs) {
  DeferredFrees frees;
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < n; ++i) {
    Slot* slot = FindLive(ids[i]);
    if (slot == nullptr) {
      for (std::size_t j = 0; j < i; ++j) DropPin(SlotOf(ids[j]), frees);
      return i;
    }
    slot->pins += 1;
    ptrs[i] = slot->data;
  }
  return n;
}

void BufferPool::UnpinAll(const std::int32_t* ids, std::size_t n) noexcept {
  DeferredFrees frees;
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < n; ++i) DropPin(SlotOf(ids[i]), frees);
}

MemoryStats BufferPool::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return {activeBytes_, cachedBytes_,  peakBytes_,  activeBuffers_,
          cachedBuffers_, cacheLimit_, memoryLimit_};
}

void BufferPool::ClearCache() {
  DeferredFrees frees;
  std::lock_guard<std::mutex> lock(mu_);
  EvictCachedAbove(0, frees);
}

void BufferPool::SetCacheLimit(std::uint64_t bytes) {
  DeferredFrees frees;
  std::lock_guard<std::mutex> lock(mu_);
  cacheLimit_ = bytes;
  EvictCachedAbove(cacheLimit_, frees);
}

void BufferPool::SetMemoryLimit(std::uint64_t bytes) {
  DeferredFrees frees;
  std::lock_guard<std::mutex> lock(mu_);
  memoryLimit_ = bytes;
  // Live buffers above a lowered limit stay valid; only new allocations fail.
  EvictCachedAbove(CacheRoomFor(0), frees);
}

void BufferPool::ResetPeak() {
  std::lock_guard<std::mutex> lock(mu_);
  peakBytes_ = activeBytes_;
}

void BufferPool::ReleaseOwnedBy(std::uint32_t owner) {
  DeferredFrees frees;
  std::lock_guard<std::mutex> lock(mu_);
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].state == SlotState::kLive && slots_[i].owner == owner) Retire(i, frees);
  }
}

// ---- PinnedBuffer ----

BufferPool::PinnedBuffer::PinnedBuffer(BufferPool& pool, std::int64_t id) : pool_(pool) {
  std::lock_guard<std::mutex> lock(pool_.mu_);
  Slot* slot = pool_.FindLive(id);
  if (slot == nullptr) ThrowBadBuffer(id);
  slot->pins += 1;
  slot_ = SlotOf(id);
  data_ = static_cast<std::uint8_t*>(slot->data);
  byteLength_ = slot->byteLength;
}

BufferPool::PinnedBuffer::~PinnedBuffer() {
  DeferredFrees frees;
  std::lock_guard<std::mutex> lock(pool_.mu_);
  pool_.DropPin(slot_, frees);
}

}  // namespace ma
