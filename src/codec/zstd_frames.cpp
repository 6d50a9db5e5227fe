#include "codec/zstd_frames.hpp"

#include <algorithm>
#include <cstring>

namespace bakthat::codec::zstd {
namespace {

constexpr std::uint32_t kMagic = 0xFD2FB528;
constexpr std::uint32_t kSkippableMask = 0xFFFFFFF0, kSkippable = 0x184D2A50;

std::uint64_t le(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

void FrameScanner::feed(Bytes data) {
  while (!data.empty() && seekable_) {
    if (state_ == State::Skip) {
      const std::uint64_t n = std::min<std::uint64_t>(skip_, data.size());
      skip_ -= n;
      offset_ += n;
      data = data.subspan(static_cast<std::size_t>(n));
      if (skip_ == 0) {
        if (after_last_block_) {
          state_ = State::Magic;
          need_ = 4;
        } else {
          state_ = State::BlockHeader;
          need_ = 3;
        }
        have_ = 0;
      }
      continue;
    }
    const std::size_t n = std::min(need_ - have_, data.size());
    std::memcpy(field_ + have_, data.data(), n);
    have_ += n;
    offset_ += n;
    data = data.subspan(n);
    if (have_ == need_) on_field();
  }
}

void FrameScanner::on_field() {
  have_ = 0;
  switch (state_) {
    case State::Magic: {
      const auto magic = static_cast<std::uint32_t>(le(field_, 4));
      frame_offset_ = offset_ - 4;
      if (magic == kMagic) {
        state_ = State::Descriptor;
        need_ = 1;
      } else if ((magic & kSkippableMask) == kSkippable) {
        state_ = State::SkippableSize;
        need_ = 4;
      } else {
        seekable_ = false;
      }
      return;
    }
    case State::SkippableSize:
      skip_ = le(field_, 4);
      after_last_block_ = true;
      state_ = skip_ ? State::Skip : State::Magic;
      need_ = 4;
      return;
    case State::Descriptor: {
      descriptor_ = field_[0];
      const unsigned fcs_flag = descriptor_ >> 6, single = (descriptor_ >> 5) & 1, dict_flag = descriptor_ & 3;
      if ((descriptor_ >> 3) & 1) {  // the reserved bit
        seekable_ = false;
        return;
      }
      checksum_ = (descriptor_ >> 2) & 1;
      static const std::size_t kDict[] = {0, 1, 2, 4}, kFcs[] = {0, 2, 4, 8};
      const std::size_t fcs = fcs_flag == 0 ? (single ? 1 : 0) : kFcs[fcs_flag];
      if (fcs == 0) {  // no content size: the frames after this one cannot be placed
        seekable_ = false;
        return;
      }
      need_ = (single ? 0 : 1) + kDict[dict_flag] + fcs;
      state_ = State::Header;
      return;
    }
    case State::Header: {
      const unsigned fcs_flag = descriptor_ >> 6;
      static const std::size_t kFcs[] = {1, 2, 4, 8};
      const std::size_t fcs = kFcs[fcs_flag];
      std::uint64_t content = le(field_ + need_ - fcs, fcs);
      if (fcs == 2) content += 256;
      on_frame_({frame_offset_, uncompressed_});
      uncompressed_ += content;
      state_ = State::BlockHeader;
      need_ = 3;
      after_last_block_ = false;
      return;
    }
    case State::BlockHeader: {
      const std::uint32_t h = static_cast<std::uint32_t>(le(field_, 3));
      const bool last = h & 1;
      const unsigned type = (h >> 1) & 3;
      const std::uint32_t size = h >> 3;
      if (type == 3) {
        seekable_ = false;
        return;
      }
      after_last_block_ = last;
      skip_ = type == 1 ? 1 : size;
      if (last && checksum_) skip_ += 4;
      if (skip_ == 0) {
        state_ = last ? State::Magic : State::BlockHeader;
        need_ = last ? 4 : 3;
      } else {
        state_ = State::Skip;
      }
      return;
    }
    case State::Skip:
      return;
  }
}

}  // namespace bakthat::codec::zstd
