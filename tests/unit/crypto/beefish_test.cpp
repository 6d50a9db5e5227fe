// beefish (bakthat 0.6) reader: docs/formats.md §2.3 vectors, and archives made
// by tests/data/beefish/make_beefish.py in both variants.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <filesystem>
#include <fstream>
#include <random>

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

// beefish's encrypt: padding of pad-1 bytes and a flag byte that is pad
// mod 8; the CBC variant prefixes its IV.
std::vector<std::uint8_t> encrypt(const std::vector<std::uint8_t>& plain, const std::string& password, bool cbc) {
  static OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(nullptr, "legacy");
  static OSSL_PROVIDER* fallback = OSSL_PROVIDER_load(nullptr, "default");
  if (!legacy || !fallback) ADD_FAILURE() << "no legacy provider";
  std::vector<std::uint8_t> in = plain;
  std::size_t pad = 8 - plain.size() % 8;
  in.insert(in.end(), pad - 1, 0x5a);
  in.push_back(static_cast<std::uint8_t>(16 + pad));
  std::vector<std::uint8_t> out;
  const std::uint8_t iv[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  if (cbc) out.assign(iv, iv + 8);
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, cbc ? "BF-CBC" : "BF-ECB", nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  std::size_t at = out.size();
  out.resize(at + in.size() + 8);
  bool ok = EVP_EncryptInit_ex2(ctx, cipher, nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_set_key_length(ctx, static_cast<int>(password.size())) == 1 &&
            EVP_EncryptInit_ex2(ctx, nullptr, reinterpret_cast<const unsigned char*>(password.data()),
                                cbc ? iv : nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
            EVP_EncryptUpdate(ctx, out.data() + at, &len, in.data(), static_cast<int>(in.size())) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
  EXPECT_TRUE(ok);
  out.resize(at + static_cast<std::size_t>(len));
  return out;
}

}  // namespace

TEST(Beefish, FormatsVectors) {
  EXPECT_EQ(text(decrypt(unhex("0001020304050607c539704c842da03a"), "password", BeefishMode::Cbc)), "hello");
  EXPECT_EQ(text(decrypt(unhex("898804d756981d9c"), "password", BeefishMode::Ecb)), "hello");
  EXPECT_EQ(text(decrypt(unhex("000102030405060725e67ccb251a8c6f4fd2b9e3f4c57dbe"), "password", BeefishMode::Cbc)),
            "ABCDEFGH");
  // Not gzip inside: automatic detection reads the text in the only variant
  // 8 bytes can be.
  EXPECT_EQ(text(decrypt(unhex("898804d756981d9c"), "password")), "hello");
}

// What the Python bakthat stored with `compress: false` (and KeyValue
// values without gzip), made by the real beefish 0.1.1 (ECB) and 0.1.2
// (CBC): no gzip magic to tell the variants apart.
TEST(Beefish, RealArchivesWithoutGzipInside) {
  struct {
    const char* file;
    const char* plain;
    std::string password;
  } cases[] = {
      {"notes.txt.20140301120000.ecb.enc", "notes.txt", "s3cret ecb"},
      {"notes.txt.20140301120000.cbc.enc", "notes.txt", "s3cret cbc"},
      {"mykey.20140301120001.ecb.enc", "kv.json", "kv-ecb"},
      {"mykey.20140301120001.cbc.enc", "kv.json", "kv-cbc"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto enc = slurp(c.file);
    auto plain = slurp(c.plain);
    ASSERT_FALSE(plain.empty());
    EXPECT_EQ(decrypt(enc, c.password), plain);
    EXPECT_EQ(decrypt(enc, c.password, BeefishMode::Auto, 5), plain);
    // The other password: refused, not garbage.
    EXPECT_THROW(decrypt(enc, c.password == "kv-ecb" ? "kv-cbc" : "s3cret ecbx"), Error);
  }
}

// Plaintext that looks random (an encrypted file stored as is) cannot tell
// the variants apart: refused rather than guessed. A large structured
// payload is told apart in either variant, ECB's repeated blocks included.
TEST(Beefish, UndecidableAndLargePayloads) {
  std::vector<std::uint8_t> zeros_and_text(200000, 0);
  for (std::size_t i = 0; i < zeros_and_text.size(); i += 3) zeros_and_text[i] = 'a' + i % 26;
  std::vector<std::uint8_t> random_bytes(5000);
  std::mt19937 rng(7);
  for (auto& b : random_bytes) b = static_cast<std::uint8_t>(rng());
  for (bool cbc : {false, true}) {
    SCOPED_TRACE(cbc ? "cbc" : "ecb");
    EXPECT_EQ(decrypt(encrypt(zeros_and_text, "pw", cbc), "pw"), zeros_and_text);
    std::vector<std::uint8_t> zero_blocks(70000, 0);
    EXPECT_EQ(decrypt(encrypt(zero_blocks, "pw", cbc), "pw"), zero_blocks);
    try {
      decrypt(encrypt(random_bytes, "pw", cbc), "pw");
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Crypto) << e.what();
    }
    EXPECT_EQ(decrypt(encrypt(random_bytes, "pw", cbc), "pw", cbc ? BeefishMode::Cbc : BeefishMode::Ecb),
              random_bytes);
  }
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
