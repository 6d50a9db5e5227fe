// scrypt: RFC 7914's vectors, and agreement with OpenSSL's own scrypt (the
// implementation ours replaces for speed) over many parameter sets.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

#include "bakthat/errors.hpp"
#include "crypto/primitives.hpp"
#include "util/bytes.hpp"

using namespace bakthat;
using namespace bakthat::crypto::detail;

namespace {

std::vector<std::uint8_t> derive(std::string_view password, std::string_view salt, std::uint64_t n, std::uint32_t r,
                                 std::uint32_t p, std::size_t len) {
  std::vector<std::uint8_t> out(len);
  scrypt_kdf(password, {reinterpret_cast<const std::uint8_t*>(salt.data()), salt.size()}, n, r, p, out);
  return out;
}

std::vector<std::uint8_t> openssl_scrypt(std::string_view password, std::string_view salt, std::uint64_t n,
                                         std::uint32_t r, std::uint32_t p, std::size_t len) {
  std::vector<std::uint8_t> out(len);
  const std::uint64_t maxmem = 2 * 128 * std::uint64_t{r} * (n + p) + (1u << 20);
  EXPECT_EQ(EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                           salt.size(), n, r, p, maxmem, out.data(), out.size()),
            1);
  return out;
}

}  // namespace

// RFC 7914 §12 (the 1 GiB fourth vector is left out: too slow for a unit test).
TEST(Scrypt, Rfc7914Vectors) {
  EXPECT_EQ(util::hex(derive("", "", 16, 1, 1, 64)),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
            "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
  EXPECT_EQ(util::hex(derive("password", "NaCl", 1024, 8, 16, 64)),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
  EXPECT_EQ(util::hex(derive("pleaseletmein", "SodiumChloride", 16384, 8, 1, 64)),
            "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
            "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
}

TEST(Scrypt, AgreesWithOpenSsl) {
  std::mt19937 rng(7);
  auto text = [&](std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  struct Params {
    std::uint64_t n;
    std::uint32_t r, p;
    std::size_t len;
  };
  for (Params q : {Params{2, 1, 1, 32}, Params{4, 2, 1, 17}, Params{1024, 8, 1, 32}, Params{256, 3, 2, 100},
                   Params{8, 16, 3, 64}, Params{1u << 14, 1, 1, 1}, Params{1u << 12, 8, 1, 32}}) {
    for (std::size_t len : {0u, 1u, 13u, 64u, 200u}) {
      const std::string pw = text(len), salt = text(len / 2 + 3);
      SCOPED_TRACE("n=" + std::to_string(q.n) + " r=" + std::to_string(q.r) + " p=" + std::to_string(q.p) +
                   " password " + std::to_string(len) + " bytes");
      EXPECT_EQ(derive(pw, salt, q.n, q.r, q.p, q.len), openssl_scrypt(pw, salt, q.n, q.r, q.p, q.len));
    }
  }
}

TEST(Scrypt, AgeWorkFactorMatchesOpenSsl) {
  // age's default cost (N = 2^18, 256 MiB), once: the huge-page mapping at
  // full size, and the index arithmetic on a large V.
  const std::string salt = "age-encryption.org/v1/scrypt0123456789abcdef";
  auto ours = scrypt("correct horse", {reinterpret_cast<const std::uint8_t*>(salt.data()), salt.size()}, 18);
  EXPECT_EQ(std::vector<std::uint8_t>(ours.begin(), ours.end()),
            openssl_scrypt("correct horse", salt, 1u << 18, 8, 1, 32));
}

TEST(Scrypt, RefusesBadParameters) {
  std::vector<std::uint8_t> out(32);
  EXPECT_THROW(scrypt_kdf("pw", {}, 0, 8, 1, out), Error);
  EXPECT_THROW(scrypt_kdf("pw", {}, 1, 8, 1, out), Error);
  EXPECT_THROW(scrypt_kdf("pw", {}, 1000, 8, 1, out), Error);  // not a power of two
  EXPECT_THROW(scrypt_kdf("pw", {}, 1024, 0, 1, out), Error);
  EXPECT_THROW(scrypt_kdf("pw", {}, 1024, 8, 0, out), Error);
  EXPECT_THROW(scrypt_kdf("pw", {}, std::uint64_t{1} << 33, 8, 1, out), Error);
}
