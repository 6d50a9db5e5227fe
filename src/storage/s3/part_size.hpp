// Multipart part sizes: every object must fit in 10,000 parts of at most
// 5 GiB, each but the last at least 5 MiB (FORMATS.md §5.3). When the size
// is not known in advance the part size doubles every 1,000 parts, which
// reaches AWS's largest objects while keeping small uploads in small parts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

namespace bakthat::storage::s3 {

inline constexpr std::uint64_t kMiB = 1u << 20;
inline constexpr std::uint64_t kMinPartSize = 5 * kMiB;
inline constexpr std::uint64_t kMaxPartSize = 5ull << 30;
inline constexpr std::uint64_t kDefaultPartSize = 16 * kMiB;
inline constexpr int kMaxParts = 10000;
inline constexpr int kPartsPerDoubling = 1000;

// The first part's size: `configured` (0: the default) within the S3
// limits, raised so that an object of size_hint bytes fits in 10,000 parts
// of that size, rounded up to whole MiB.
inline std::uint64_t first_part_size(std::uint64_t configured, std::optional<std::uint64_t> size_hint) {
  std::uint64_t base = configured ? configured : kDefaultPartSize;
  if (size_hint) {
    std::uint64_t need = (*size_hint + kMaxParts - 1) / kMaxParts;
    need = (need + kMiB - 1) / kMiB * kMiB;
    base = std::max(base, need);
  }
  return std::clamp(base, kMinPartSize, kMaxPartSize);
}

// Size of part `number` (1-based) when the first is `first`.
inline std::uint64_t part_size_for(std::uint64_t first, int number) {
  std::uint64_t size = first;
  for (int doubled = (number - 1) / kPartsPerDoubling; doubled > 0 && size < kMaxPartSize; --doubled)
    size *= 2;
  return std::min(size, kMaxPartSize);
}

}  // namespace bakthat::storage::s3
