// Zstd stages: round trips, interoperability with the zstd tool, corrupt
// input.
#include "codec_test_util.hpp"

namespace bakthat::codec::test {
namespace {

CompressOptions zs(int threads, std::optional<int> level = std::nullopt) {
  return CompressOptions{Codec::Zstd, level, threads};
}

TEST(ZstdCodec, RoundTripsSizesThreadsAndLevels) {
  for (int threads = 1; threads <= 4; ++threads) {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{131071}, std::size_t{5 << 20}}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + " size " + std::to_string(size));
      const Buffer in = mixed_data(size, static_cast<unsigned>(size + 3));
      const Buffer z = compress(in, zs(threads), 1 + size / 5);
      EXPECT_EQ(decompress(z, Codec::Zstd, 1, 999, 4096), in);
    }
  }
  const Buffer in = mixed_data(2 << 20, 8);
  for (int level : {1, 3, 12}) EXPECT_EQ(decompress(compress(in, zs(2, level)), Codec::Zstd), in);
}

TEST(ZstdCodec, InteroperatesWithTheZstdTool) {
  TempDir dir;
  const Buffer in = mixed_data(3 << 20, 12);
  write_file(dir.file("ours.zst"), compress(in, zs(2)));
  ASSERT_EQ(run("zstd -q -dc " + dir.file("ours.zst") + " > " + dir.file("back")), 0);
  EXPECT_EQ(read_file(dir.file("back")), in);

  write_file(dir.file("in"), in);
  ASSERT_EQ(run("zstd -q -9 -c " + dir.file("in") + " > " + dir.file("theirs.zst")), 0);
  ASSERT_EQ(run("zstd -q -c " + dir.file("in") + " >> " + dir.file("theirs.zst")), 0);  // two frames
  Buffer twice = in;
  twice.insert(twice.end(), in.begin(), in.end());
  EXPECT_EQ(decompress(read_file(dir.file("theirs.zst")), Codec::Zstd), twice);
}

TEST(ZstdCodec, CorruptInputThrowsCorrupt) {
  const Buffer in = mixed_data(1 << 20, 13);
  const Buffer z = compress(in, zs(1));
  Buffer bad = z;
  for (std::size_t i = 0; i < 32; ++i) bad[bad.size() / 2 + i] ^= 0x5a;
  expect_corrupt([&] { decompress(bad, Codec::Zstd); });
  Buffer bad_sum = z;
  bad_sum[bad_sum.size() - 1] ^= 1;  // content checksum
  expect_corrupt([&] { decompress(bad_sum, Codec::Zstd); });
  for (std::size_t cut : {std::size_t{3}, z.size() / 2, z.size() - 1}) {
    expect_corrupt([&] { decompress(Bytes(z).first(cut), Codec::Zstd); });
  }
  expect_corrupt([&] { decompress(util_bytes("definitely not zstd"), Codec::Zstd); });
  expect_corrupt([&] { decompress({}, Codec::Zstd); });
}

}  // namespace
}  // namespace bakthat::codec::test
