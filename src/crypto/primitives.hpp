// The cryptographic primitives age needs, each a thin wrapper over OpenSSL 3
// (EVP) except scrypt's ROMix, plus the strict base64 codecs of the age
// header and armor.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bakthat/stream.hpp"

namespace bakthat::crypto::detail {

using Key32 = std::array<std::uint8_t, 32>;

// Fills `out` from the OpenSSL CSPRNG; throws Crypto if it cannot.
void random_bytes(MutableBytes out);

// HKDF-SHA-256 with 32 bytes of output; an empty salt means RFC 5869's
// default (32 zero bytes), as Go's hkdf does.
Key32 hkdf_sha256(Bytes ikm, Bytes salt, std::string_view info);
Key32 hmac_sha256(Bytes key, Bytes data);
// scrypt (RFC 7914) into `out`; throws Crypto on parameters RFC 7914 or this
// implementation (n <= 2^32) refuses. Needs 128*r*n bytes for its duration
// (scrypt.cpp says why it is not OpenSSL's).
void scrypt_kdf(std::string_view password, Bytes salt, std::uint64_t n, std::uint32_t r, std::uint32_t p,
                MutableBytes out);
// age's scrypt: N = 2^log_n, r = 8, p = 1, 32 bytes (the caller bounds log_n).
Key32 scrypt(std::string_view password, Bytes salt, int log_n);

// X25519 public key of a 32-byte scalar.
Key32 x25519_public(Bytes scalar);
// X25519(scalar, point); nullopt when the result is all zeros (a low-order
// point) or OpenSSL refuses the point.
std::optional<Key32> x25519(Bytes scalar, Bytes point);

// SHA-256 and SHA-512 of `data`.
Key32 sha256(Bytes data);
std::array<std::uint8_t, 64> sha512(Bytes data);

// The X25519 public key (Montgomery u = (1 + y) / (1 - y)) of an Ed25519
// public key, as age's ssh-ed25519 recipients use it; nullopt when y = 1.
std::optional<Key32> ed25519_to_x25519(Bytes ed25519_public);

// An RSA key held by OpenSSL: public (n, e), or private too.
class RsaKey {
 public:
  // From the big-endian magnitudes of an SSH key; throws Usage when OpenSSL
  // refuses them. The private parts are empty for a public key.
  static RsaKey from_parts(Bytes n, Bytes e, Bytes d = {}, Bytes p = {}, Bytes q = {}, Bytes iqmp = {});
  int bits() const;
  // RSAES-OAEP with SHA-256 and MGF1-SHA-256 under `label`.
  std::vector<std::uint8_t> oaep_encrypt(Bytes plain, std::string_view label) const;
  // nullopt when the ciphertext does not open under this (private) key.
  std::optional<std::vector<std::uint8_t>> oaep_decrypt(Bytes cipher, std::string_view label) const;

 private:
  std::shared_ptr<void> key_;  // EVP_PKEY
};

// ChaCha20-Poly1305 (RFC 8439) with empty AAD under one key, reusing one
// cipher context across calls so sealing 64 KiB chunks allocates nothing.
class ChaChaPoly {
 public:
  static constexpr std::size_t kTag = 16;
  explicit ChaChaPoly(Bytes key);
  ~ChaChaPoly();
  ChaChaPoly(const ChaChaPoly&) = delete;
  ChaChaPoly& operator=(const ChaChaPoly&) = delete;
  // Writes plaintext.size() + 16 bytes to `out`.
  void seal(const std::uint8_t nonce[12], Bytes plaintext, std::uint8_t* out);
  // Writes ciphertext.size() - 16 bytes to `out` (which the caller must not
  // trust unless this returns true); false when the tag does not verify.
  bool open(const std::uint8_t nonce[12], Bytes ciphertext, std::uint8_t* out);

 private:
  void* enc_;
  void* dec_;
};

// Base64, standard alphabet. The "raw" form has no '=' padding (age
// header); the padded form is the armor's. Decoding is strict: canonical
// only (unused bits zero, no whitespace, no stray characters), else nullopt.
std::string base64_raw_encode(Bytes data);
std::optional<std::vector<std::uint8_t>> base64_raw_decode(std::string_view text);
std::string base64_padded_encode(Bytes data);
std::optional<std::vector<std::uint8_t>> base64_padded_decode(std::string_view text);

// Overwrites a secret before its memory is released.
void wipe(void* data, std::size_t size);

// A key wiped when it is destroyed. Declared as a member before the worker
// pool whose threads read it, it is wiped only after the pool has joined them
// (members are destroyed in reverse order, after the destructor's body).
class WipedKey32 {
 public:
  // Takes the key over: the caller's copy is wiped.
  explicit WipedKey32(Key32&& key) : key_(key) { wipe(key.data(), key.size()); }
  ~WipedKey32() { wipe(key_.data(), key_.size()); }
  WipedKey32(const WipedKey32&) = delete;
  WipedKey32& operator=(const WipedKey32&) = delete;
  const Key32& get() const { return key_; }

 private:
  Key32 key_;
};

}  // namespace bakthat::crypto::detail
