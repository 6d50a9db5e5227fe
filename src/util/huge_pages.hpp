// Memory for large buffers (MiBs and up) on transparent huge pages.
//
// Why: on the VMs backups often run on, every first touch of a 4 KiB page is
// a trap to the hypervisor (~15 us measured on the project's machine), so a
// fresh 16 MiB upload part costs 4,096 of them; on 2 MiB pages it costs 8.
// Buffers this size are few and long-lived, so the rounding up to 2 MiB
// wastes little.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace bakthat::util {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

// A private anonymous mapping of `size` bytes (rounded up to 2 MiB), aligned
// to 2 MiB, with huge pages requested (advice: without them it still works);
// `no_dump` keeps it out of core dumps (secrets). Throws std::bad_alloc.
void* map_huge(std::size_t size, bool no_dump = false);
// Releases what map_huge(size) returned.
void unmap_huge(void* p, std::size_t size) noexcept;

// A std::allocator that takes requests of kHugePage bytes or more from
// map_huge, smaller ones from the heap.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n * sizeof(T) < kHugePage) return std::allocator<T>().allocate(n);
    return static_cast<T*>(map_huge(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kHugePage) return std::allocator<T>().deallocate(p, n);
    unmap_huge(p, n * sizeof(T));
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

// The buffer type of upload parts and download ranges.
using LargeBuffer = std::vector<std::uint8_t, HugePageAllocator<std::uint8_t>>;

}  // namespace bakthat::util
