// The Glacier SHA-256 tree hash (docs/formats.md §4.3): SHA-256 of each 1 MiB
// chunk, then pairs of raw digests hashed level by level, an odd last node
// carried up unchanged. Glacier checks it on every upload.
//
// Hand-written because no Debian library computes it; SHA-256 is OpenSSL's.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bakthat/stream.hpp"
#include "util/bytes.hpp"

namespace bakthat::storage::glacier {

inline constexpr std::uint64_t kMiB = 1u << 20;

using Digest = std::array<std::uint8_t, 32>;

// The root of a list of leaf digests (one per MiB, at least one).
Digest tree_root(std::vector<Digest> level);

// Incremental tree hash of a stream. Memory: 32 bytes per MiB hashed.
class TreeHash {
 public:
  void update(Bytes data);
  std::string hex_digest();  // once, after the last update
  std::uint64_t size() const { return size_; }

 private:
  std::vector<Digest> leaves_;
  std::unique_ptr<util::Sha256> chunk_;  // the leaf being filled
  std::uint64_t chunk_filled_ = 0;
  std::uint64_t size_ = 0;
};

std::string tree_hash_hex(Bytes data);

// Part sizes Glacier accepts: 1 MiB * 2^k up to 4 GiB.
bool valid_part_size(std::uint64_t bytes);
// The part size for an archive: `configured` (the profile's part_size, 0 for
// automatic: 32 MiB) rounded up to a valid size, grown when size_hint says
// 10,000 parts would not hold the archive.
std::uint64_t choose_part_size(std::uint64_t configured, std::optional<std::uint64_t> size_hint);

}  // namespace bakthat::storage::glacier
