// Huge-page buffers: alignment and rounding of the mappings, and the
// allocator behind upload parts and download ranges (large requests mapped,
// small ones from the heap, contents kept as a vector grows).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>

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

TEST(HugePages, AllocatorMapsOnlyLargeRequests) {
  util::HugePageAllocator<std::uint8_t> alloc;
  std::uint8_t* small = alloc.allocate(4096);
  std::uint8_t* large = alloc.allocate(util::kHugePage);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(large) % util::kHugePage, 0u);
  EXPECT_NE(mapping_of(large), "");
  alloc.deallocate(small, 4096);
  alloc.deallocate(large, util::kHugePage);
  EXPECT_EQ(mapping_of(large), "");
}

TEST(HugePages, LargeBufferKeepsContentsAcrossGrowth) {
  util::LargeBuffer buffer;
  for (std::size_t i = 0; i < (std::size_t{5} << 20); ++i) buffer.push_back(static_cast<std::uint8_t>(i * 7));
  for (std::size_t i = 0; i < buffer.size(); i += 4093) ASSERT_EQ(buffer[i], static_cast<std::uint8_t>(i * 7));
  util::LargeBuffer moved = std::move(buffer);
  EXPECT_EQ(moved.size(), std::size_t{5} << 20);
  moved.clear();
  moved.shrink_to_fit();
  EXPECT_EQ(moved.capacity(), 0u);
}
