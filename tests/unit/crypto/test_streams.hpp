// In-memory Sink/Source for the crypto tests.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "bakthat/stream.hpp"

namespace bakthat::test {

struct VectorSink : Sink {
  std::vector<std::uint8_t> data;
  bool finished = false;
  void write(Bytes d) override { data.insert(data.end(), d.begin(), d.end()); }
  void finish() override { finished = true; }
};

// Serves `data` in reads of at most `step` bytes, to exercise short reads.
struct SpanSource : Source {
  explicit SpanSource(Bytes d, std::size_t step = SIZE_MAX) : data(d), step(step) {}
  Bytes data;
  std::size_t step;
  std::size_t pos = 0;
  std::size_t read(MutableBytes out) override {
    std::size_t n = std::min({out.size(), data.size() - pos, step});
    if (n > 0) std::memcpy(out.data(), data.data() + pos, n);
    pos += n;
    return n;
  }
};

// Reads `in` to the end, in reads of `step` bytes.
inline std::vector<std::uint8_t> drain(Source& in, std::size_t step = 100000) {
  std::vector<std::uint8_t> out, buf(step);
  for (;;) {
    std::size_t n = in.read(MutableBytes(buf.data(), buf.size()));
    if (n == 0) return out;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
}

inline Bytes bytes_of(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

}  // namespace bakthat::test
