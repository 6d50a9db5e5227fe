// Helpers shared by the codec unit tests: in-memory sinks/sources, test data
// and running the real command-line tools.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bakthat/errors.hpp"
#include "codec/codec.hpp"

namespace bakthat::codec::test {

using Buffer = std::vector<std::uint8_t>;

struct VectorSink : Sink {
  Buffer data;
  bool finished = false;
  void write(Bytes b) override {
    EXPECT_FALSE(finished);
    data.insert(data.end(), b.begin(), b.end());
  }
  void finish() override { finished = true; }
};

// Hands out at most `chunk` bytes per read, to exercise short reads.
struct SpanSource : Source {
  explicit SpanSource(Bytes d, std::size_t chunk = SIZE_MAX) : data(d), chunk(chunk) {}
  Bytes data;
  std::size_t chunk;
  std::size_t pos = 0;
  std::size_t read(MutableBytes out) override {
    const std::size_t n = std::min({out.size(), data.size() - pos, chunk});
    if (n) std::memcpy(out.data(), data.data() + pos, n);
    pos += n;
    return n;
  }
};

// Text-like lines, then random bytes, in alternating runs of varied sizes.
inline Buffer mixed_data(std::size_t size, unsigned seed = 1) {
  std::mt19937 rng(seed);
  Buffer out;
  out.reserve(size);
  bool text = true;
  while (out.size() < size) {
    const std::size_t run = std::min<std::size_t>(size - out.size(), 1 + rng() % (700 * 1024));
    const std::size_t end = out.size() + run;
    while (out.size() < end) {
      if (text) {
        std::string line = "line " + std::to_string(rng() % 5000) + " value=" +
                           std::to_string(rng() % 97) + " the quick brown fox\n";
        for (char c : line) {
          if (out.size() == end) break;
          out.push_back(static_cast<std::uint8_t>(c));
        }
      } else {
        out.push_back(static_cast<std::uint8_t>(rng()));
      }
    }
    text = !text;
  }
  return out;
}

inline Bytes util_bytes(const char* s) {
  return {reinterpret_cast<const std::uint8_t*>(s), std::strlen(s)};
}

inline Buffer random_data(std::size_t size, unsigned seed = 7) {
  std::mt19937 rng(seed);
  Buffer out(size);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

inline Buffer compress(Bytes in, const CompressOptions& opt, std::size_t write_chunk = 100000) {
  VectorSink sink;
  auto c = make_compressor(sink, opt);
  for (std::size_t pos = 0; pos < in.size(); pos += write_chunk) {
    c->write(in.subspan(pos, std::min(write_chunk, in.size() - pos)));
  }
  c->finish();
  EXPECT_TRUE(sink.finished);
  return sink.data;
}

inline Buffer decompress(Bytes in, Codec codec, int threads = 2, std::size_t read_chunk = SIZE_MAX,
                         std::size_t out_chunk = 70000) {
  SpanSource src(in, read_chunk);
  auto d = make_decompressor(src, codec, threads);
  Buffer out, buf(out_chunk);
  while (std::size_t n = d->read(buf)) out.insert(out.end(), buf.begin(), buf.begin() + n);
  return out;
}

// Expects `fn` to throw bakthat::Error of kind Corrupt.
template <class Fn>
void expect_corrupt(Fn fn) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt) << e.what();
  }
}

// A scratch directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bakthat-codec-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline void write_file(const std::string& path, Bytes data) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(f.good());
}

inline Buffer read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Buffer(std::istreambuf_iterator<char>(f), {});
}

// Runs a shell command; returns its exit status.
inline int run(const std::string& cmd) {
  const int r = std::system(cmd.c_str());
  return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

}  // namespace bakthat::codec::test
