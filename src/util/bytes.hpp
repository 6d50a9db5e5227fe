// Small byte helpers shared by every part: hex, SHA-256/512 digests.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "bakthat/stream.hpp"

namespace bakthat::util {

std::string hex(Bytes data);
inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::array<std::uint8_t, 32> sha256(Bytes data);
std::string sha256_hex(Bytes data);
std::string sha512_hex(Bytes data);

// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(Bytes data);
  std::array<std::uint8_t, 32> digest();  // once
  std::string hex_digest();               // once

 private:
  void* ctx_;
};

}  // namespace bakthat::util
