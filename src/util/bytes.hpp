// Small byte helpers shared by every part: hex, little-endian integers,
// SHA-256/512 digests.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bakthat/stream.hpp"

namespace bakthat::util {

std::string hex(Bytes data);
// The bytes a lowercase or uppercase hex string spells, or nullopt when it
// is not one.
std::optional<std::string> from_hex(std::string_view text);
inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Little-endian 16- and 32-bit integers (gzip fields, scrypt words).
inline void put_le16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
inline void put_le32(std::uint8_t* p, std::uint32_t v) {
  put_le16(p, v & 0xffff);
  put_le16(p + 2, v >> 16);
}
inline std::uint32_t get_le16(const std::uint8_t* p) { return p[0] | (std::uint32_t{p[1]} << 8); }
inline std::uint32_t get_le32(const std::uint8_t* p) { return get_le16(p) | (get_le16(p + 2) << 16); }

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
