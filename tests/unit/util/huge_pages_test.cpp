// Huge-page buffers: alignment and rounding of the mappings, and the buffer
// behind upload parts and download ranges (large capacities mapped, small
// ones from the heap, contents kept as it grows and moves).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "util/huge_pages.hpp"

using namespace bakthat;

namespace {

// The mapping of /proc/self/maps that contains p, as "start-end".
std::string mapping_of(const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const auto dash = line.find('-'), space = line.find(' ');
    const auto start = std::stoull(line.substr(0, dash), nullptr, 16);
    const auto end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
    if (a >= start && a < end) return line.substr(0, space);
  }
  return "";
}

}  // namespace

TEST(HugePages, MappingIsAlignedRoundedAndWritable) {
  for (std::size_t size : {std::size_t{1}, util::kHugePage, util::kHugePage + 1, std::size_t{16} << 20}) {
    auto* p = static_cast<std::uint8_t*>(util::map_huge(size, size == 1));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % util::kHugePage, 0u) << size;
    std::memset(p, 0xab, size);
    EXPECT_EQ(p[size - 1], 0xab);
    util::unmap_huge(p, size);
    // The whole rounded-up region, and nothing of the alignment slack, is gone.
    EXPECT_EQ(mapping_of(p), "") << size;
  }
}

TEST(HugePages, LargeBufferMapsOnlyLargeCapacities) {
  util::LargeBuffer small, large;
  small.reserve(4096);
  large.reserve(util::kHugePage);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(large.data()) % util::kHugePage, 0u);
  const void* mapped = large.data();
  EXPECT_NE(mapping_of(mapped), "");
  large = std::move(small);  // releases the mapping
  EXPECT_EQ(mapping_of(mapped), "");
  EXPECT_EQ(large.capacity(), 4096u);
  EXPECT_EQ(small.capacity(), 0u);
}

TEST(HugePages, LargeBufferKeepsContentsAcrossGrowthAndMoves) {
  std::vector<std::uint8_t> expected;
  util::LargeBuffer buffer;
  // Appends of odd sizes across the heap / huge-page switch and regrowths.
  for (std::size_t piece = 1; expected.size() < (std::size_t{5} << 20); piece = piece * 3 + 1) {
    std::vector<std::uint8_t> chunk(piece % 700001);
    for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<std::uint8_t>((expected.size() + i) * 7);
    buffer.append(chunk);
    expected.insert(expected.end(), chunk.begin(), chunk.end());
    ASSERT_EQ(buffer.size(), expected.size());
    ASSERT_GE(buffer.capacity(), buffer.size());
  }
  util::LargeBuffer moved = std::move(buffer);
  EXPECT_TRUE(buffer.empty());
  ASSERT_EQ(moved.size(), expected.size());
  EXPECT_EQ(std::memcmp(moved.data(), expected.data(), expected.size()), 0);
  const std::size_t capacity = moved.capacity();
  moved.clear();
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ(moved.capacity(), capacity);  // kept for the next part
  moved.append(std::span<const std::uint8_t>(expected.data(), 3));
  EXPECT_EQ(std::span<const std::uint8_t>(moved).size(), 3u);
}
