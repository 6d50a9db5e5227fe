// Shared by the harnesses: an in-memory Source over the fuzz input, a Sink
// that drops everything, and a bounded drain (a decompressor may rightly
// expand a small input a thousandfold; the harness stops reading at a cap).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "bakthat/stream.hpp"

namespace bakthat::fuzz {

struct SpanSource : Source {
  explicit SpanSource(Bytes d) : data(d) {}
  Bytes data;
  std::size_t pos = 0;
  std::size_t read(MutableBytes out) override {
    std::size_t n = std::min(out.size(), data.size() - pos);
    if (n > 0) std::memcpy(out.data(), data.data() + pos, n);
    pos += n;
    return n;
  }
};

// Drops what it is given, but no input of a harness is big enough to make
// 1 GiB of output honestly: more is reported (abort) as unbounded output,
// which would otherwise run until the fuzzer's timeout.
struct NullSink : Sink {
  std::size_t written = 0;
  void write(Bytes d) override {
    written += d.size();
    if (written > (std::size_t{1} << 30)) {
      std::fprintf(stderr, "NullSink: more than 1 GiB of output\n");
      std::abort();
    }
  }
  void finish() override {}
};

// Reads `in` until its end or `cap` bytes; returns the count read.
inline std::size_t drain(Source& in, std::size_t cap = std::size_t{64} << 20) {
  static std::uint8_t buf[1 << 16];
  std::size_t total = 0;
  while (total < cap) {
    std::size_t n = in.read(MutableBytes(buf, sizeof buf));
    if (n == 0) break;
    total += n;
  }
  return total;
}

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace bakthat::fuzz
