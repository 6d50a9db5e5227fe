// zstd output of bakthat (one frame per zstd::kFrameInput of input, each
// with its content size) and zstd::FrameScanner: the frame starts it finds
// from headers alone, fed in any piece size, are where each frame lies,
// each frame decompresses alone to its slice of the input, and a frame
// without its content size ends the map.
#include <gtest/gtest.h>
#include <zstd.h>

#include <random>

#include "codec/codec.hpp"
#include "codec/zstd_frames.hpp"

using namespace bakthat;
using namespace bakthat::codec;

namespace {

struct VectorSink : Sink {
  std::vector<std::uint8_t> data;
  void write(Bytes d) override { data.insert(data.end(), d.begin(), d.end()); }
  void finish() override {}
};

std::vector<std::uint8_t> make_data(std::size_t n) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> v(n);
  // Half random, half text: frames of different compressed sizes.
  for (std::size_t i = 0; i < n; ++i) v[i] = (i / 100000) % 2 ? static_cast<std::uint8_t>(rng()) : "abcdefgh\n"[i % 9];
  return v;
}

std::vector<zstd::FrameStart> scan(const std::vector<std::uint8_t>& z, std::size_t piece, bool* seekable) {
  std::vector<zstd::FrameStart> out;
  zstd::FrameScanner s([&](const zstd::FrameStart& f) { out.push_back(f); });
  for (std::size_t i = 0; i < z.size(); i += piece) s.feed(Bytes(z.data() + i, std::min(piece, z.size() - i)));
  *seekable = s.seekable();
  return out;
}

}  // namespace

TEST(ZstdFrames, EachFrameStartsWhereTheScannerSaysAndOpensAlone) {
  const std::size_t n = 2 * zstd::kFrameInput + 12345;
  auto plain = make_data(n);
  VectorSink z;
  auto sink = make_compressor(z, {Codec::Zstd, std::nullopt, 2});
  for (std::size_t i = 0; i < n; i += 100000) sink->write(Bytes(plain.data() + i, std::min<std::size_t>(100000, n - i)));
  sink->finish();
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{4096}, z.data.size()}) {
    SCOPED_TRACE(piece);
    bool seekable = false;
    auto frames = scan(z.data, piece, &seekable);
    EXPECT_TRUE(seekable);
    ASSERT_EQ(frames.size(), 3u);
    for (std::size_t k = 0; k < frames.size(); ++k) {
      EXPECT_EQ(frames[k].uncompressed, k * zstd::kFrameInput);
      const std::size_t c0 = frames[k].compressed;
      const std::size_t c1 = k + 1 < frames.size() ? frames[k + 1].compressed : z.data.size();
      std::vector<std::uint8_t> out(zstd::kFrameInput);
      const std::size_t r = ZSTD_decompress(out.data(), out.size(), z.data.data() + c0, c1 - c0);
      ASSERT_FALSE(ZSTD_isError(r)) << ZSTD_getErrorName(r);
      const std::size_t u1 = std::min(n, (k + 1) * zstd::kFrameInput);
      ASSERT_EQ(r, u1 - frames[k].uncompressed);
      EXPECT_TRUE(std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r),
                             plain.begin() + static_cast<std::ptrdiff_t>(frames[k].uncompressed)));
    }
  }
}

TEST(ZstdFrames, AnEmptyStreamIsOneEmptyFrame) {
  VectorSink z;
  make_compressor(z, {Codec::Zstd, std::nullopt, 1})->finish();
  bool seekable = false;
  auto frames = scan(z.data, 1, &seekable);
  EXPECT_TRUE(seekable);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].compressed, 0u);
}

TEST(ZstdFrames, SkippableFramesArePassedAndAStreamingFrameEndsTheMap) {
  auto plain = make_data(300000);
  std::vector<std::uint8_t> sized(ZSTD_compressBound(plain.size()));
  sized.resize(ZSTD_compress(sized.data(), sized.size(), plain.data(), plain.size(), 3));
  // A skippable frame (magic 0x184D2A5?, 4-byte size) between two frames.
  std::vector<std::uint8_t> z = sized;
  const std::uint8_t skippable[] = {0x53, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'};
  z.insert(z.end(), std::begin(skippable), std::end(skippable));
  z.insert(z.end(), sized.begin(), sized.end());
  bool seekable = false;
  auto frames = scan(z, 7, &seekable);
  EXPECT_TRUE(seekable);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].compressed, sized.size() + sizeof skippable);
  EXPECT_EQ(frames[1].uncompressed, plain.size());
  // A frame written by a streaming compressor does not say its size.
  ZSTD_CCtx* c = ZSTD_createCCtx();
  std::vector<std::uint8_t> streamed(ZSTD_compressBound(plain.size()) + 64);
  ZSTD_outBuffer out{streamed.data(), streamed.size(), 0};
  ZSTD_inBuffer in{plain.data(), plain.size(), 0};
  ZSTD_compressStream2(c, &out, &in, ZSTD_e_continue);
  while (ZSTD_compressStream2(c, &out, &in, ZSTD_e_end) != 0) {}
  ZSTD_freeCCtx(c);
  streamed.resize(out.pos);
  std::vector<std::uint8_t> mixed = sized;
  mixed.insert(mixed.end(), streamed.begin(), streamed.end());
  frames = scan(mixed, 1000, &seekable);
  EXPECT_FALSE(seekable);
  EXPECT_EQ(frames.size(), 1u);
}
