#include "util/window_source.hpp"

#include <algorithm>
#include <vector>

namespace bakthat::util {

std::size_t WindowSource::read(MutableBytes out) {
  std::vector<std::uint8_t> scratch;
  while (skip_ > 0) {
    scratch.resize(static_cast<std::size_t>(std::min<std::uint64_t>(skip_, 1 << 20)));
    std::size_t n = in_.read(scratch);
    if (n == 0) return 0;
    skip_ -= n;
  }
  if (left_ == 0 || out.empty()) return 0;
  std::size_t n = in_.read(out.first(static_cast<std::size_t>(std::min<std::uint64_t>(left_, out.size()))));
  left_ -= n;
  return n;
}

}  // namespace bakthat::util
