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
#include <span>

namespace bakthat::util {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

// A private anonymous mapping of `size` bytes (rounded up to 2 MiB), aligned
// to 2 MiB, with huge pages requested (advice: without them it still works);
// `no_dump` keeps it out of core dumps (secrets). Throws std::bad_alloc.
void* map_huge(std::size_t size, bool no_dump = false);
// Releases what map_huge(size) returned.
void unmap_huge(void* p, std::size_t size) noexcept;

// A byte buffer for upload parts and download ranges: contents up to a
// capacity that only grows, on huge pages from kHugePage up (on the heap
// below). Appends are one memcpy (a std::vector with a custom allocator
// copies byte by byte). Move-only.
class LargeBuffer {
 public:
  LargeBuffer() = default;
  LargeBuffer(LargeBuffer&& other) noexcept;
  LargeBuffer& operator=(LargeBuffer&& other) noexcept;
  ~LargeBuffer();

  // Capacity for at least n bytes; the contents are kept.
  void reserve(std::size_t n);
  // Appends data, growing the capacity (doubling) when it must.
  void append(std::span<const std::uint8_t> data);
  // Empties it, keeping the capacity.
  void clear() { size_ = 0; }

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  operator std::span<const std::uint8_t>() const { return {data_, size_}; }

 private:
  void release() noexcept;

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace bakthat::util
