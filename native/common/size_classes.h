// Size classes of the buffer pool.
//
// Blocks are only reused for requests of the same class, so the class layout trades
// rounding waste against cache hit rate:
//   - up to 1 MiB: powers of two, at least 64 bytes (classes 0..14). Small buffers are
//     cheap, and a power-of-two ladder gives scratch buffers of similar sizes a high
//     chance of sharing a block.
//   - above 1 MiB: eight classes per power of two (steps of 2^(p-3) between 2^p and
//     2^(p+1)), so rounding wastes at most 12.5% while the number of classes stays
//     bounded (kNumClasses) and fits a fixed array of free lists.
// The largest block is kMaxBlockBytes (256 TiB); anything beyond cannot be allocated
// on any current machine and is reported as out of memory.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ma {

inline constexpr std::uint64_t kMinBlockBytes = 64;
inline constexpr std::uint64_t kSmallLimitBytes = std::uint64_t{1} << 20;  // 1 MiB
inline constexpr unsigned kSmallClasses = 15;  // 64 B .. 1 MiB
inline constexpr unsigned kStepsPerOctave = 8;
inline constexpr unsigned kMaxBlockLog2 = 48;
inline constexpr std::uint64_t kMaxBlockBytes = std::uint64_t{1} << kMaxBlockLog2;
inline constexpr unsigned kNumClasses =
    kSmallClasses + (kMaxBlockLog2 - 20) * kStepsPerOctave;

static_assert(kNumClasses <= 256, "class indices are stored in a byte");

struct SizeClass {
  unsigned index;       // 0 .. kNumClasses-1
  std::uint64_t bytes;  // block size of the class, >= the request
};

inline unsigned FloorLog2(std::uint64_t x) {  // x > 0
  return 63u - static_cast<unsigned>(__builtin_clzll(x));
}

// Maps a request to its class. Returns false if it exceeds kMaxBlockBytes.
inline bool ClassifySize(std::uint64_t request, SizeClass* out) {
  if (request > kMaxBlockBytes) return false;
  if (request <= kMinBlockBytes) {
    *out = {0, kMinBlockBytes};
    return true;
  }
  if (request <= kSmallLimitBytes) {
    const unsigned log2 = FloorLog2(request - 1) + 1;  // ceil(log2(request))
    *out = {log2 - 6, std::uint64_t{1} << log2};
    return true;
  }
  // request in (2^p, 2^(p+1)] with p >= 20: round up to a multiple of 2^(p-3).
  const unsigned p = FloorLog2(request - 1);
  const unsigned stepLog2 = p - 3;
  const std::uint64_t steps = ((request - 1) >> stepLog2) + 1;  // 9..16
  *out = {kSmallClasses + (p - 20) * kStepsPerOctave + static_cast<unsigned>(steps - 9),
          steps << stepLog2};
  return true;
}

}  // namespace ma
