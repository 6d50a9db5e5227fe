#include "util/bytes.hpp"

#include <openssl/evp.h>

#include "bakthat/errors.hpp"

namespace bakthat::util {

std::string hex(Bytes data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (auto b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::array<std::uint8_t, 32> sha256(Bytes data) {
  Sha256 h;
  h.update(data);
  return h.digest();
}

std::string sha256_hex(Bytes data) {
  auto d = sha256(data);
  return hex(d);
}

std::string sha512_hex(Bytes data) {
  std::array<std::uint8_t, 64> md{};
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha512(), nullptr))
    throw Error(ErrorKind::Io, "SHA-512 failed");
  return hex(md);
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || !EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr))
    throw Error(ErrorKind::Io, "SHA-256 init failed");
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(Bytes data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

std::array<std::uint8_t, 32> Sha256::digest() {
  std::array<std::uint8_t, 32> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md.data(), &len);
  return md;
}

std::string Sha256::hex_digest() {
  auto d = digest();
  return hex(d);
}

}  // namespace bakthat::util
