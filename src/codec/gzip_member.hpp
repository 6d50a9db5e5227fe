// One gzip member of a bakthat parallel gzip stream, and the engines that
// make it.
//
// Member layout (RFC 1952), 20-byte header:
//   1f 8b 08 04 | MTIME=0 (4) | XFL=0 | OS=255 | XLEN=8 (LE16)
//   'B' 'T' | LEN=4 (LE16) | member size (LE32, the whole member: header,
//   deflate data and 8-byte trailer)
//   deflate data | CRC32 (LE32) | ISIZE (LE32)
// The "BT" subfield (like BGZF's "BC") lets a reader find where each member
// ends without inflating it, so members can be inflated in parallel. Every
// gzip reader ignores extra subfields, so the stream stays a plain .gz.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "bakthat/stream.hpp"

struct libdeflate_compressor;
struct libdeflate_decompressor;

namespace bakthat::codec::gzip {

inline constexpr std::size_t kBlockSize = std::size_t{1} << 20;  // input per member
inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::size_t kTrailerSize = 8;
// Members a reader accepts as "ours" for the parallel path; anything larger is
// inflated by the streaming decoder instead, so a hostile size field cannot make
// the reader allocate without bound.
inline constexpr std::size_t kMaxTaggedMember = std::size_t{16} << 20;
// The uncompressed size a tagged member may claim: ours hold kBlockSize; four
// times that leaves room for a later block size, and bounds what a hostile
// claim makes the reader allocate (deflate's 1032:1 alone would allow 1 GiB
// for a 1 MiB member).
inline constexpr std::size_t kMaxTaggedInput = 4 * kBlockSize;

// Members in flight for `threads` workers: enough that no worker waits on
// the owner thread, capped so memory (~2 MiB a slot) does not grow as fast
// as the thread count.
inline std::size_t slots_for(int threads) {
  const auto t = static_cast<std::size_t>(threads);
  return t + (t < 4 ? t : 4);
}

enum class Engine { Stored, Libdeflate, Isal };

// The engine and its own level that a CompressOptions level (1..9, or empty
// for the default) maps to. See gzip_member.cpp for the measurements.
struct EngineChoice {
  Engine engine;
  int level;
};
EngineChoice choose_engine(std::optional<int> level);

// Compresses blocks into complete members. Holds per-thread engine state:
// one instance per worker thread, reused for every block.
class MemberCompressor {
 public:
  explicit MemberCompressor(EngineChoice choice);
  ~MemberCompressor();
  MemberCompressor(const MemberCompressor&) = delete;
  MemberCompressor& operator=(const MemberCompressor&) = delete;

  // Writes one whole member holding `in` (in.size() <= 4 GiB) at the start
  // of `out` and returns its size. `out` grows as needed but never shrinks:
  // reused for every block, it then needs no zero-filling (resizing it back
  // up each time cost ~2% of a backup's CPU). Blocks that look
  // incompressible are stored without trying deflate.
  std::size_t compress(Bytes in, std::vector<std::uint8_t>& out);

 private:
  std::size_t deflate_into(Bytes in, std::uint8_t* out, std::size_t cap);
  void use_libdeflate_instead();
  EngineChoice choice_;
  libdeflate_compressor* libdeflate_ = nullptr;
  std::vector<std::uint8_t> isal_level_buf_;
};

// Cheap guess (sampled byte entropy) that deflate cannot shrink `in`.
bool looks_incompressible(Bytes in);

// Writes `in` as raw deflate stored blocks; returns the bytes written
// (in.size() + 5 per 64 KiB block, at least 5).
std::size_t write_stored(Bytes in, std::uint8_t* out);
std::size_t stored_bound(std::size_t n);

// If `head` (at least kHeaderSize bytes) starts a member carrying the BT
// subfield with a plausible size, that total member size.
std::optional<std::size_t> tagged_member_size(Bytes head);

// Where one member starts in the compressed and in the uncompressed stream.
struct MemberStart {
  std::uint64_t compressed = 0;
  std::uint64_t uncompressed = 0;
};

// Follows a stream of tagged members as it passes, without inflating it,
// and reports each whole member's start: the map that lets a reader inflate
// only the members holding a range of the uncompressed stream. At the first
// member without the size field it stops following (tagged() turns false).
class MemberScanner {
 public:
  explicit MemberScanner(std::function<void(const MemberStart&)> on_member) : on_member_(std::move(on_member)) {}
  void feed(Bytes data);
  bool tagged() const { return tagged_; }
  // Totals of the whole members seen so far.
  std::uint64_t compressed() const { return start_.compressed; }
  std::uint64_t uncompressed() const { return start_.uncompressed; }

 private:
  std::function<void(const MemberStart&)> on_member_;
  bool tagged_ = true;
  MemberStart start_;           // of the member being passed
  std::uint8_t header_[kHeaderSize];
  std::uint8_t isize_[4];
  std::size_t seen_ = 0;        // bytes of the current member passed
  std::size_t member_size_ = 0; // 0 until its header is read
};

// Inflates whole tagged members. Holds per-thread decoder state: one
// instance per worker thread.
class MemberInflater {
 public:
  MemberInflater();
  ~MemberInflater();
  MemberInflater(const MemberInflater&) = delete;
  MemberInflater& operator=(const MemberInflater&) = delete;

  // Replaces `out` with the contents of one whole member (resized to its
  // ISIZE). Throws ErrorKind::Corrupt on a bad stream, CRC or size.
  void inflate(Bytes member, std::vector<std::uint8_t>& out);

 private:
  libdeflate_decompressor* libdeflate_;
};

}  // namespace bakthat::codec::gzip
