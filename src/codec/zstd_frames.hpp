// The frames of a zstd stream (RFC 8878 §3.1): bakthat's zstd output is a
// sequence of independent frames of kFrameInput bytes of input each, every
// one with its content size in its header and a content checksum, so an
// index can map an uncompressed range to the frames that hold it.
#pragma once

#include <cstdint>
#include <functional>

#include "bakthat/stream.hpp"
#include "codec/gzip_member.hpp"

namespace bakthat::codec::zstd {

// Input per frame: a frame starts every 4 MiB of the uncompressed stream
// (docs/formats.md §9.2 says what it costs in size and speed).
inline constexpr std::size_t kFrameInput = std::size_t{4} << 20;

// Where a frame starts, in the compressed and the uncompressed stream.
using FrameStart = gzip::MemberStart;

// Follows a zstd stream fed to it in pieces of any size, reading only
// frame and block headers, and reports each frame's start. At the first
// frame whose header does not carry its content size (one written by a
// streaming compressor) it stops following: seekable() turns false. A
// stream that is not zstd turns it false too (the decompressor, not this,
// reports the damage).
class FrameScanner {
 public:
  explicit FrameScanner(std::function<void(const FrameStart&)> on_frame) : on_frame_(std::move(on_frame)) {}
  void feed(Bytes data);
  bool seekable() const { return seekable_; }

 private:
  enum class State { Magic, Descriptor, Header, BlockHeader, Skip, SkippableSize };
  void on_field();
  std::function<void(const FrameStart&)> on_frame_;
  bool seekable_ = true;
  State state_ = State::Magic;
  std::uint8_t field_[16];
  std::size_t need_ = 4, have_ = 0;
  std::uint64_t skip_ = 0;
  std::uint64_t offset_ = 0;           // compressed bytes fed so far
  std::uint64_t frame_offset_ = 0;     // where the current frame started
  std::uint64_t uncompressed_ = 0;     // content of the frames before it
  std::uint8_t descriptor_ = 0;
  bool checksum_ = false;
  bool after_last_block_ = false;
};

}  // namespace bakthat::codec::zstd
