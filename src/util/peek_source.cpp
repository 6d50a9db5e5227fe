#include "util/peek_source.hpp"

#include <algorithm>
#include <cstring>

namespace bakthat::util {

Bytes PeekSource::peek(std::size_t n) {
  if (pos_ > 0) {
    buffered_.erase(buffered_.begin(), buffered_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  while (buffered_.size() < n) {
    std::size_t have = buffered_.size();
    buffered_.resize(n);
    std::size_t got = in_.read(MutableBytes(buffered_.data() + have, n - have));
    buffered_.resize(have + got);
    if (got == 0) break;
  }
  return Bytes(buffered_.data(), std::min(n, buffered_.size()));
}

std::size_t PeekSource::read(MutableBytes out) {
  if (pos_ < buffered_.size()) {
    std::size_t n = std::min(out.size(), buffered_.size() - pos_);
    std::memcpy(out.data(), buffered_.data() + pos_, n);
    pos_ += n;
    if (pos_ == buffered_.size()) {
      buffered_.clear();
      pos_ = 0;
    }
    return n;
  }
  return in_.read(out);
}

std::size_t read_full(Source& in, MutableBytes out) {
  std::size_t total = 0;
  while (total < out.size()) {
    std::size_t got = in.read(out.subspan(total));
    if (got == 0) break;
    total += got;
  }
  return total;
}

}  // namespace bakthat::util
