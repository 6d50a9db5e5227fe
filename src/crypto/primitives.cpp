#include "crypto/primitives.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>

#include "bakthat/errors.hpp"

namespace bakthat::crypto::detail {
namespace {

[[noreturn]] void fail(const char* what) {
  throw Error(ErrorKind::Crypto, std::string("OpenSSL: ") + what + " failed");
}

struct KdfDeleter {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
template <class T>
using Owned = std::unique_ptr<T, KdfDeleter>;

Key32 derive(const char* kdf_name, OSSL_PARAM* params) {
  Owned<EVP_KDF> kdf(EVP_KDF_fetch(nullptr, kdf_name, nullptr));
  if (!kdf) fail(kdf_name);
  Owned<EVP_KDF_CTX> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) fail(kdf_name);
  Key32 out{};
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) fail(kdf_name);
  return out;
}

void* uc(const void* p) { return const_cast<void*>(p); }

}  // namespace

void random_bytes(MutableBytes out) {
  if (!out.empty() && RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) fail("RAND_bytes");
}

void wipe(void* data, std::size_t size) { OPENSSL_cleanse(data, size); }

Key32 hkdf_sha256(Bytes ikm, Bytes salt, std::string_view info) {
  OSSL_PARAM params[5];
  int i = 0;
  params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
  params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, uc(ikm.data()), ikm.size());
  if (!salt.empty())
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, uc(salt.data()), salt.size());
  params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, uc(info.data()), info.size());
  params[i] = OSSL_PARAM_construct_end();
  return derive("HKDF", params);
}

Key32 hmac_sha256(Bytes key, Bytes data) {
  Owned<EVP_MAC> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) fail("HMAC");
  Owned<EVP_MAC_CTX> ctx(EVP_MAC_CTX_new(mac.get()));
  OSSL_PARAM params[2] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  Key32 out{};
  std::size_t len = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size())
    fail("HMAC");
  return out;
}

Key32 x25519_public(Bytes scalar) {
  Owned<EVP_PKEY> key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, scalar.data(), scalar.size()));
  Key32 out{};
  std::size_t len = out.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), out.data(), &len) != 1 || len != out.size())
    fail("X25519 key");
  return out;
}

std::optional<Key32> x25519(Bytes scalar, Bytes point) {
  Owned<EVP_PKEY> priv(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, scalar.data(), scalar.size()));
  Owned<EVP_PKEY> pub(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, point.data(), point.size()));
  if (!priv) fail("X25519 key");
  if (!pub) return std::nullopt;
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(priv.get(), nullptr));
  Key32 out{};
  std::size_t len = out.size();
  // OpenSSL fails the derivation itself when the result is all zeros.
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), pub.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != out.size())
    return std::nullopt;
  static const Key32 zeros{};
  if (CRYPTO_memcmp(out.data(), zeros.data(), out.size()) == 0) return std::nullopt;
  return out;
}

// ---- ChaCha20-Poly1305 ----

ChaChaPoly::ChaChaPoly(Bytes key) {
  auto* enc = EVP_CIPHER_CTX_new();
  auto* dec = EVP_CIPHER_CTX_new();
  enc_ = enc;
  dec_ = dec;
  if (!enc || !dec || key.size() != 32 ||
      EVP_EncryptInit_ex(enc, EVP_chacha20_poly1305(), nullptr, key.data(), nullptr) != 1 ||
      EVP_DecryptInit_ex(dec, EVP_chacha20_poly1305(), nullptr, key.data(), nullptr) != 1) {
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
    fail("ChaCha20-Poly1305 init");
  }
}

ChaChaPoly::~ChaChaPoly() {
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(enc_));
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(dec_));
}

void ChaChaPoly::seal(const std::uint8_t nonce[12], Bytes plaintext, std::uint8_t* out) {
  auto* ctx = static_cast<EVP_CIPHER_CTX*>(enc_);
  int len = 0, fin = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
      (!plaintext.empty() &&
       EVP_EncryptUpdate(ctx, out, &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx, out + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTag, out + plaintext.size()) != 1)
    fail("ChaCha20-Poly1305 seal");
}

bool ChaChaPoly::open(const std::uint8_t nonce[12], Bytes ciphertext, std::uint8_t* out) {
  if (ciphertext.size() < kTag) return false;
  auto* ctx = static_cast<EVP_CIPHER_CTX*>(dec_);
  std::size_t n = ciphertext.size() - kTag;
  int len = 0, fin = 0;
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
      (n > 0 && EVP_DecryptUpdate(ctx, out, &len, ciphertext.data(), static_cast<int>(n)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTag, uc(ciphertext.data() + n)) != 1)
    fail("ChaCha20-Poly1305 open");
  return EVP_DecryptFinal_ex(ctx, out + len, &fin) == 1;
}

// ---- Base64 ----
// Written here because OpenSSL's decoder is lenient (it skips whitespace and
// ignores non-zero trailing bits), and age requires canonical encodings.

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string encode(Bytes data, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = data[i] << 16;
    if (rest == 2) v |= data[i + 1] << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

// Decodes unpadded base64; nullopt unless canonical.
std::optional<std::vector<std::uint8_t>> decode_raw(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value_of(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) return std::nullopt;  // non-zero unused bits: not canonical
  return out;
}

}  // namespace

std::string base64_raw_encode(Bytes data) { return encode(data, false); }
std::string base64_padded_encode(Bytes data) { return encode(data, true); }

std::optional<std::vector<std::uint8_t>> base64_raw_decode(std::string_view text) { return decode_raw(text); }

std::optional<std::vector<std::uint8_t>> base64_padded_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  return decode_raw(text.substr(0, text.size() - pad));
}

}  // namespace bakthat::crypto::detail
