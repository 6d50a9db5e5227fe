// Multipart part sizes: every object must fit in 10,000 parts of at most
// 5 GiB, each but the last at least 5 MiB (docs/formats.md §5.3). When the size
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
// 32 MiB rather than the CLI's 8: each request costs the server too
// (authentication, bookkeeping), and against Swift's S3 API on a shared
// 2-core box 64 parts of 16 MiB took ~0.5 s more server CPU per GB than
// 32 parts of 32 MiB (bench/results/2026-11-26.md, "Same-run A/B pairs").
inline constexpr std::uint64_t kDefaultPartSize = 32 * kMiB;
// Bytes of parts uploading at once (the one filling comes on top): enough
// parallel requests to keep a link busy, little enough that a backup's
// peak RSS stays under 200 MB with the default part size.
inline constexpr std::uint64_t kPartsInFlightBytes = 96 * kMiB;
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

// How many parts upload at once: up to `threads`, at least 2, within
// kPartsInFlightBytes of parts of size `first`.
inline int parts_in_flight(int threads, std::uint64_t first) {
  const std::uint64_t by_memory = kPartsInFlightBytes / std::max<std::uint64_t>(first, 1);
  return static_cast<int>(std::clamp<std::uint64_t>(by_memory, 2, static_cast<std::uint64_t>(std::max(threads, 2))));
}

// Size of part `number` (1-based) when the first is `first`.
inline std::uint64_t part_size_for(std::uint64_t first, int number) {
  std::uint64_t size = first;
  for (int doubled = (number - 1) / kPartsPerDoubling; doubled > 0 && size < kMaxPartSize; --doubled)
    size *= 2;
  return std::min(size, kMaxPartSize);
}

}  // namespace bakthat::storage::s3
