// The Glacier SHA-256 tree hash and part sizes (docs/formats.md §4.3, §4.4).
#include <gtest/gtest.h>

#include <vector>

#include "bakthat/errors.hpp"
#include "storage/glacier/tree_hash.hpp"

namespace bakthat::storage::glacier {
namespace {

std::string tree_of(std::size_t n, std::uint8_t byte) {
  std::vector<std::uint8_t> data(n, byte);
  return tree_hash_hex(data);
}

// Expected values: docs/formats.md §4.3's published vectors.
TEST(GlacierTreeHash, PublishedVectors) {
  EXPECT_EQ(tree_hash_hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(tree_of(kMiB, 0), "30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58");
  EXPECT_EQ(tree_of(3 * kMiB + 1, 0), "ac32541da09906da333d47a263a712b6c269dcca02187baf57ce279d3fd9dc39");
  EXPECT_EQ(tree_of(5 * kMiB, 'a'), "1ca676a2caf9791fcf24580c2c6f9b051ebbf689720da6ff8c41f2d01cdde5ea");
  EXPECT_EQ(tree_of(7 * kMiB, 0), "091961d52b7a7681230b75c5652a1750690133b6762b02f012513265e80dde30");
}

// A small tree built by hand from util::sha256: 2 MiB + 5 bytes of 'b' has
// three leaves; the odd third is carried up and joins the pair's hash.
TEST(GlacierTreeHash, HandBuiltTree) {
  std::vector<std::uint8_t> data(2 * kMiB + 5, 'b');
  Digest l1 = util::sha256(Bytes(data).first(kMiB));
  Digest l2 = util::sha256(Bytes(data).subspan(kMiB, kMiB));
  Digest l3 = util::sha256(Bytes(data).subspan(2 * kMiB));
  auto join = [](const Digest& a, const Digest& b) {
    std::vector<std::uint8_t> cat(a.begin(), a.end());
    cat.insert(cat.end(), b.begin(), b.end());
    return util::sha256(cat);
  };
  EXPECT_EQ(tree_hash_hex(data), util::hex(join(join(l1, l2), l3)));
  EXPECT_NE(tree_hash_hex(data), util::sha256_hex(data));
}

// Up to 1 MiB the tree hash is the plain SHA-256.
TEST(GlacierTreeHash, SmallPayloadIsPlainSha256) {
  std::vector<std::uint8_t> data(1000, 7);
  EXPECT_EQ(tree_hash_hex(data), util::sha256_hex(data));
}

// Feeding the stream in odd pieces gives the same root.
TEST(GlacierTreeHash, IncrementalMatchesWhole) {
  std::vector<std::uint8_t> data(5 * kMiB + 12345);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 31 + (i >> 13));
  TreeHash h;
  std::size_t pos = 0, step = 1;
  while (pos < data.size()) {
    std::size_t n = std::min(step, data.size() - pos);
    h.update(Bytes(data).subspan(pos, n));
    pos += n;
    step = step * 3 + 7;
  }
  EXPECT_EQ(h.size(), data.size());
  EXPECT_EQ(h.hex_digest(), tree_hash_hex(data));
}

TEST(GlacierPartSize, ValidSizes) {
  EXPECT_TRUE(valid_part_size(kMiB));
  EXPECT_TRUE(valid_part_size(4096 * kMiB));
  EXPECT_FALSE(valid_part_size(3 * kMiB));
  EXPECT_FALSE(valid_part_size(kMiB / 2));
  EXPECT_FALSE(valid_part_size(8192 * kMiB));
}

TEST(GlacierPartSize, Choice) {
  EXPECT_EQ(choose_part_size(0, std::nullopt), 32 * kMiB);
  EXPECT_EQ(choose_part_size(5 * kMiB, std::nullopt), 8 * kMiB);  // rounded up to 2^k MiB
  EXPECT_EQ(choose_part_size(1000, std::nullopt), kMiB);
  // 1 TB in 10,000 parts needs 100 MB parts: 128 MiB.
  EXPECT_EQ(choose_part_size(0, 1'000'000'000'000ull), 128 * kMiB);
  for (std::uint64_t size : {0ull, 1ull, 12345678901ull, 40'000'000'000'000ull})
    EXPECT_TRUE(valid_part_size(choose_part_size(0, size)));
  EXPECT_THROW(choose_part_size(0, 50'000'000'000'000ull), Error);
}

}  // namespace
}  // namespace bakthat::storage::glacier
