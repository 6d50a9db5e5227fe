// A buffered reader over a Source for the text-then-binary formats read
// here (the age header, the armor lines): whole lines with a length bound,
// then raw bytes, with the offset of everything consumed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bakthat/stream.hpp"

namespace bakthat::crypto::detail {

class ByteReader {
 public:
  explicit ByteReader(Source& in) : in_(in), buf_(kBuffer) {}
  // Appends the next line, '\n' included when present, to `line` (cleared
  // first). False at the end of the stream with nothing read; throws
  // Corrupt (naming `what`) if no '\n' comes within max bytes.
  bool read_line(std::string& line, std::size_t max, const char* what);
  // Reads until `out` is full or the stream ends; returns the count.
  std::size_t read(MutableBytes out);
  // Offset of the next byte to be consumed.
  std::uint64_t offset() const { return offset_; }

 private:
  static constexpr std::size_t kBuffer = 16 * 1024;
  bool fill();
  Source& in_;
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0, end_ = 0;
  std::uint64_t offset_ = 0;
};

}  // namespace bakthat::crypto::detail
