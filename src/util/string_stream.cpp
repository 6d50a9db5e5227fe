#include "util/string_stream.hpp"

#include <algorithm>
#include <cstring>

namespace bakthat::util {

std::size_t StringSource::read(MutableBytes out) {
  const std::size_t n = std::min(out.size(), data_.size() - pos_);
  std::memcpy(out.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

}  // namespace bakthat::util
