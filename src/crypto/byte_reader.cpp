#include "crypto/byte_reader.hpp"

#include <algorithm>
#include <cstring>

#include "bakthat/errors.hpp"

namespace bakthat::crypto::detail {

bool ByteReader::fill() {
  if (pos_ < end_) return true;
  pos_ = 0;
  end_ = in_.read(MutableBytes(buf_.data(), buf_.size()));
  return end_ > 0;
}

bool ByteReader::read_line(std::string& line, std::size_t max, const char* what) {
  line.clear();
  while (fill()) {
    auto* start = buf_.data() + pos_;
    auto* nl = static_cast<std::uint8_t*>(std::memchr(start, '\n', end_ - pos_));
    std::size_t take = nl ? static_cast<std::size_t>(nl - start) + 1 : end_ - pos_;
    if (line.size() + take > max)
      throw Error(ErrorKind::Corrupt, std::string("archive is damaged at byte ") + std::to_string(offset_) +
                                          " (" + what + " line too long)");
    line.append(reinterpret_cast<const char*>(start), take);
    pos_ += take;
    offset_ += take;
    if (nl) return true;
  }
  return !line.empty();
}

std::size_t ByteReader::read(MutableBytes out) {
  std::size_t total = 0;
  while (total < out.size()) {
    if (pos_ < end_) {
      std::size_t n = std::min(out.size() - total, end_ - pos_);
      std::memcpy(out.data() + total, buf_.data() + pos_, n);
      pos_ += n;
      total += n;
      continue;
    }
    // Large reads bypass the buffer.
    if (out.size() - total >= buf_.size()) {
      std::size_t n = in_.read(out.subspan(total));
      if (n == 0) break;
      total += n;
      continue;
    }
    if (!fill()) break;
  }
  offset_ += total;
  return total;
}

}  // namespace bakthat::crypto::detail
