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

std::optional<std::string> from_hex(std::string_view text) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = digit(text[i]), lo = digit(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
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
