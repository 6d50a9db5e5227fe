// A string read as a Source in pieces, and a Sink collecting into one.
#include <gtest/gtest.h>

#include <string>

#include "util/bytes.hpp"
#include "util/string_stream.hpp"

using namespace bakthat;

TEST(StringStream, SourceReadsInPiecesThenEnds) {
  util::StringSource in("abcdefg");
  std::uint8_t buf[3];
  std::string got;
  while (std::size_t n = in.read(buf)) got.append(reinterpret_cast<const char*>(buf), n);
  EXPECT_EQ(got, "abcdefg");
  EXPECT_EQ(in.read(buf), 0u) << "stays at its end";
}

TEST(StringStream, SinkCollects) {
  util::StringSink out;
  out.write(util::as_bytes(std::string("ab")));
  out.write(util::as_bytes(std::string("cd")));
  out.finish();
  EXPECT_EQ(out.data(), "abcd");
}
