// A Source that lets a reader look at the first bytes of a stream (to detect
// a format by its magic) before consuming them.
#pragma once

#include <vector>

#include "bakthat/stream.hpp"

namespace bakthat::util {

class PeekSource : public Source {
 public:
  explicit PeekSource(Source& in) : in_(in) {}
  // Up to n bytes from the current position, without consuming them; fewer
  // only at the end of the stream.
  Bytes peek(std::size_t n);
  std::size_t read(MutableBytes out) override;

 private:
  Source& in_;
  std::vector<std::uint8_t> buffered_;
  std::size_t pos_ = 0;
};

// Reads until out is full or the stream ends; returns the count read.
std::size_t read_full(Source& in, MutableBytes out);

}  // namespace bakthat::util
