// Codec selection: magic detection and the pass-through codec.
#include "codec_test_util.hpp"

namespace bakthat::codec::test {
namespace {

TEST(Codec, DetectsByMagic) {
  const std::uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00};
  const std::uint8_t zst[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00};
  const std::uint8_t tar[] = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(detect(gz), Codec::Gzip);
  EXPECT_EQ(detect(zst), Codec::Zstd);
  EXPECT_EQ(detect(Bytes(zst).first(3)), Codec::None);
  EXPECT_EQ(detect(tar), Codec::None);
  EXPECT_EQ(detect({}), Codec::None);
  // What our own compressors write is detected as theirs.
  const Buffer in = mixed_data(1000);
  EXPECT_EQ(detect(compress(in, {Codec::Gzip, std::nullopt, 2})), Codec::Gzip);
  EXPECT_EQ(detect(compress(in, {Codec::Zstd, std::nullopt, 2})), Codec::Zstd);
}

TEST(Codec, NonePassesBytesThrough) {
  const Buffer in = mixed_data(300000, 4);
  const Buffer out = compress(in, {Codec::None, std::nullopt, 1}, 777);
  EXPECT_EQ(out, in);
  EXPECT_EQ(decompress(out, Codec::None, 1, 1000), in);
  EXPECT_TRUE(compress({}, {Codec::None, std::nullopt, 1}).empty());
}

}  // namespace
}  // namespace bakthat::codec::test
