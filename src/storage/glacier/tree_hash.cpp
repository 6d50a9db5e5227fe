#include "storage/glacier/tree_hash.hpp"

#include <algorithm>
#include <bit>

#include "bakthat/errors.hpp"

namespace bakthat::storage::glacier {

Digest tree_root(std::vector<Digest> level) {
  if (level.empty()) level.push_back(util::sha256({}));
  while (level.size() > 1) {
    std::vector<Digest> up;
    up.reserve((level.size() + 1) / 2);
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
      std::uint8_t pair[64];
      std::copy(level[i].begin(), level[i].end(), pair);
      std::copy(level[i + 1].begin(), level[i + 1].end(), pair + 32);
      up.push_back(util::sha256(Bytes(pair, 64)));
    }
    if (level.size() % 2) up.push_back(level.back());
    level = std::move(up);
  }
  return level.front();
}

void TreeHash::update(Bytes data) {
  size_ += data.size();
  while (!data.empty()) {
    if (!chunk_) chunk_ = std::make_unique<util::Sha256>();
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kMiB - chunk_filled_, data.size()));
    chunk_->update(data.first(n));
    chunk_filled_ += n;
    data = data.subspan(n);
    if (chunk_filled_ == kMiB) {
      leaves_.push_back(chunk_->digest());
      chunk_.reset();
      chunk_filled_ = 0;
    }
  }
}

std::string TreeHash::hex_digest() {
  if (chunk_) {
    leaves_.push_back(chunk_->digest());
    chunk_.reset();
  }
  Digest root = tree_root(std::move(leaves_));
  leaves_.clear();
  return util::hex(root);
}

std::string tree_hash_hex(Bytes data) {
  TreeHash h;
  h.update(data);
  return h.hex_digest();
}

bool valid_part_size(std::uint64_t bytes) {
  return bytes >= kMiB && bytes <= 4096 * kMiB && bytes % kMiB == 0 && std::has_single_bit(bytes / kMiB);
}

std::uint64_t choose_part_size(std::uint64_t configured, std::optional<std::uint64_t> size_hint) {
  std::uint64_t part = configured ? configured : 32 * kMiB;
  std::uint64_t need = size_hint ? (*size_hint + 9999) / 10000 : 0;
  part = std::max({part, need, kMiB});
  std::uint64_t mib = std::bit_ceil((part + kMiB - 1) / kMiB);
  if (mib > 4096)
    throw Error(ErrorKind::Usage, "Glacier: an archive holds at most 10,000 parts of 4 GiB");
  return mib * kMiB;
}

}  // namespace bakthat::storage::glacier
