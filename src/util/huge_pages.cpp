#include "util/huge_pages.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

namespace bakthat::util {
namespace {

std::size_t round_up(std::size_t size) { return (size + kHugePage - 1) & ~(kHugePage - 1); }

}  // namespace

void* map_huge(std::size_t size, bool no_dump) {
  const std::size_t length = round_up(size);
  if (length < size) throw std::bad_alloc();
  // Map one huge page more than needed, then unmap the ends so what is left
  // starts on a 2 MiB boundary (mmap itself only aligns to 4 KiB).
  void* p = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t aligned = (base + kHugePage - 1) & ~(std::uintptr_t{kHugePage} - 1);
  if (aligned > base) munmap(p, aligned - base);
  if (const std::size_t tail = base + kHugePage - aligned; tail > 0)
    munmap(reinterpret_cast<void*>(aligned + length), tail);
  void* region = reinterpret_cast<void*>(aligned);
  madvise(region, length, MADV_HUGEPAGE);
  if (no_dump) madvise(region, length, MADV_DONTDUMP);
  return region;
}

void unmap_huge(void* p, std::size_t size) noexcept {
  if (p) munmap(p, round_up(size));
}

LargeBuffer::LargeBuffer(LargeBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

LargeBuffer& LargeBuffer::operator=(LargeBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

LargeBuffer::~LargeBuffer() { release(); }

void LargeBuffer::release() noexcept {
  if (capacity_ >= kHugePage) unmap_huge(data_, capacity_);
  else ::operator delete(data_);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

void LargeBuffer::reserve(std::size_t n) {
  if (n <= capacity_) return;
  auto* fresh = static_cast<std::uint8_t*>(n >= kHugePage ? map_huge(n) : ::operator new(n));
  if (size_) std::memcpy(fresh, data_, size_);
  const std::size_t size = size_;
  release();
  data_ = fresh;
  size_ = size;
  capacity_ = n;
}

void LargeBuffer::append(std::span<const std::uint8_t> data) {
  if (data.empty()) return;
  if (size_ + data.size() > capacity_) reserve(std::max(size_ + data.size(), 2 * capacity_));
  std::memcpy(data_ + size_, data.data(), data.size());
  size_ += data.size();
}

}  // namespace bakthat::util
