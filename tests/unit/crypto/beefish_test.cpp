// beefish (bakthat 0.6) reader: docs/formats.md §2.3 vectors, and archives made
// by tests/data/beefish/make_beefish.py in both variants.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bakthat/errors.hpp"
#include "crypto/crypto.hpp"
#include "test_streams.hpp"

namespace fs = std::filesystem;
using namespace bakthat;
using namespace bakthat::crypto;

namespace {

std::vector<std::uint8_t> unhex(std::string_view h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

std::vector<std::uint8_t> slurp(const std::string& name) {
  fs::path p = fs::path(BAKTHAT_SOURCE_DIR) / "tests" / "data" / "beefish" / name;
  std::ifstream f(p, std::ios::binary);
  EXPECT_TRUE(f) << p;
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<std::uint8_t> decrypt(Bytes in, const std::string& password, BeefishMode mode = BeefishMode::Auto,
                                  std::size_t step = SIZE_MAX) {
  test::SpanSource src(in, step);
  DecryptOptions opt;
  opt.password = password;
  opt.beefish_mode = mode;
  auto d = make_decryptor(src, opt);
  return test::drain(*d, 1000);
}

std::string text(const std::vector<std::uint8_t>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST(Beefish, FormatsVectors) {
  EXPECT_EQ(text(decrypt(unhex("0001020304050607c539704c842da03a"), "password", BeefishMode::Cbc)), "hello");
  EXPECT_EQ(text(decrypt(unhex("898804d756981d9c"), "password", BeefishMode::Ecb)), "hello");
  EXPECT_EQ(text(decrypt(unhex("000102030405060725e67ccb251a8c6f4fd2b9e3f4c57dbe"), "password", BeefishMode::Cbc)),
            "ABCDEFGH");
  // Not gzip inside: automatic detection refuses them.
  EXPECT_THROW(decrypt(unhex("898804d756981d9c"), "password"), Error);
}

TEST(Beefish, GeneratedArchivesBothVariants) {
  struct {
    const char* file;
    const char* plain;
    std::string password;
  } cases[] = {
      {"small.ecb.tgz.enc", "small.tgz", "password"},
      {"small.cbc.tgz.enc", "small.tgz", "password"},
      {"big.ecb.tgz.enc", "big.tgz", "s3cr3t"},
      {"big.cbc.tgz.enc", "big.tgz", std::string(28, 'x') + std::string(28, 'y')},  // 56 bytes, the maximum
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto enc = slurp(c.file);
    auto plain = slurp(c.plain);
    ASSERT_FALSE(plain.empty());
    EXPECT_EQ(detect(enc), Envelope::Plain);
    EXPECT_EQ(decrypt(enc, c.password), plain);
    EXPECT_EQ(decrypt(enc, c.password, BeefishMode::Auto, 3), plain);  // odd-sized reads
    EXPECT_EQ(decrypt(enc, c.password, BeefishMode::Auto, 4096), plain);
  }
}

TEST(Beefish, WrongPasswordAndDamage) {
  auto enc = slurp("small.cbc.tgz.enc");
  for (const std::string& pw : {std::string("passwore"), std::string("pass"), std::string(57, 'p'), std::string()}) {
    try {
      decrypt(enc, pw);
      ADD_FAILURE() << pw;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Crypto) << e.what();
      EXPECT_STREQ(e.what(), "wrong password or not a bakthat archive");
    }
  }
  // No password at all: not age, so nothing can read it.
  test::SpanSource src(enc);
  EXPECT_THROW(make_decryptor(src, DecryptOptions{}), Error);
  // A length that is not whole blocks is damage.
  std::vector<std::uint8_t> cut(enc.begin(), enc.end() - 3);
  try {
    decrypt(cut, "password");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt) << e.what();
  }
}
