#include "crypto/primitives.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

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
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
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

Key32 sha256(Bytes data) {
  Key32 out{};
  if (EVP_Digest(data.data(), data.size(), out.data(), nullptr, EVP_sha256(), nullptr) != 1) fail("SHA-256");
  return out;
}

std::array<std::uint8_t, 64> sha512(Bytes data) {
  std::array<std::uint8_t, 64> out{};
  if (EVP_Digest(data.data(), data.size(), out.data(), nullptr, EVP_sha512(), nullptr) != 1) fail("SHA-512");
  return out;
}

std::optional<Key32> ed25519_to_x25519(Bytes ed25519_public) {
  if (ed25519_public.size() != 32) return std::nullopt;
  struct Bn {
    BIGNUM* v = BN_new();
    ~Bn() { BN_free(v); }
  } p, y, one, num, den, u;
  Owned<BN_CTX> ctx(BN_CTX_new());
  // y is little-endian, its top bit the sign of x (which u does not need).
  std::uint8_t le[32];
  std::memcpy(le, ed25519_public.data(), 32);
  le[31] &= 0x7f;
  static const char* const kP = "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed";  // 2^255 - 19
  if (!ctx || !p.v || !y.v || !one.v || !num.v || !den.v || !u.v || !BN_hex2bn(&p.v, kP) ||
      !BN_lebin2bn(le, 32, y.v) || !BN_one(one.v) || !BN_mod_add(num.v, one.v, y.v, p.v, ctx.get()) ||
      !BN_mod_sub(den.v, one.v, y.v, p.v, ctx.get()))
    fail("Ed25519 to X25519");
  if (BN_is_zero(den.v) || !BN_mod_inverse(den.v, den.v, p.v, ctx.get())) return std::nullopt;
  Key32 out{};
  if (!BN_mod_mul(u.v, num.v, den.v, p.v, ctx.get()) || BN_bn2lebinpad(u.v, out.data(), 32) != 32)
    fail("Ed25519 to X25519");
  return out;
}

RsaKey RsaKey::from_parts(Bytes n, Bytes e, Bytes d, Bytes p, Bytes q, Bytes iqmp) {
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  // The builder keeps pointers to the numbers until OSSL_PARAM_BLD_to_param.
  std::vector<Owned<BIGNUM>> nums;
  auto push = [&](const char* name, Bytes b) {
    nums.emplace_back(BN_bin2bn(b.data(), static_cast<int>(b.size()), nullptr));
    return nums.back() && OSSL_PARAM_BLD_push_BN(bld.get(), name, nums.back().get()) == 1;
  };
  bool ok = bld && push(OSSL_PKEY_PARAM_RSA_N, n) && push(OSSL_PKEY_PARAM_RSA_E, e);
  const bool priv = !d.empty();
  if (ok && priv) {
    // OpenSSL wants the CRT exponents too: d mod (p - 1), d mod (q - 1).
    Owned<BN_CTX> ctx(BN_CTX_new());
    Owned<BIGNUM> bd(BN_bin2bn(d.data(), static_cast<int>(d.size()), nullptr));
    Owned<BIGNUM> pm1(BN_bin2bn(p.data(), static_cast<int>(p.size()), nullptr));
    Owned<BIGNUM> qm1(BN_bin2bn(q.data(), static_cast<int>(q.size()), nullptr));
    BIGNUM* dp = nums.emplace_back(BN_secure_new()).get();
    BIGNUM* dq = nums.emplace_back(BN_secure_new()).get();
    ok = ctx && bd && pm1 && qm1 && dp && dq && BN_sub_word(pm1.get(), 1) && BN_sub_word(qm1.get(), 1) &&
         BN_mod(dp, bd.get(), pm1.get(), ctx.get()) && BN_mod(dq, bd.get(), qm1.get(), ctx.get()) &&
         push(OSSL_PKEY_PARAM_RSA_D, d) && push(OSSL_PKEY_PARAM_RSA_FACTOR1, p) &&
         push(OSSL_PKEY_PARAM_RSA_FACTOR2, q) && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) == 1 &&
         OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) == 1 &&
         push(OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp);
  }
  Owned<OSSL_PARAM> params(ok ? OSSL_PARAM_BLD_to_param(bld.get()) : nullptr);
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    throw Error(ErrorKind::Usage, "invalid RSA key");
  RsaKey out;
  out.key_ = std::shared_ptr<void>(key, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
  return out;
}

int RsaKey::bits() const { return EVP_PKEY_get_bits(static_cast<EVP_PKEY*>(key_.get())); }

namespace {

// An OAEP (SHA-256, MGF1-SHA-256, label) context of `key` for encrypting or
// decrypting.
Owned<EVP_PKEY_CTX> oaep_context(void* key, bool encrypt, std::string_view label) {
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, static_cast<EVP_PKEY*>(key), nullptr));
  if (!ctx || (encrypt ? EVP_PKEY_encrypt_init(ctx.get()) : EVP_PKEY_decrypt_init(ctx.get())) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), "SHA256", nullptr) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), "SHA256", nullptr) != 1)
    fail("RSA-OAEP init");
  // The context takes ownership of the label's copy.
  void* copy = OPENSSL_memdup(label.data(), label.size());
  if (!copy || EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), copy, static_cast<int>(label.size())) != 1) {
    OPENSSL_free(copy);
    fail("RSA-OAEP label");
  }
  return ctx;
}

}  // namespace

std::vector<std::uint8_t> RsaKey::oaep_encrypt(Bytes plain, std::string_view label) const {
  auto ctx = oaep_context(key_.get(), true, label);
  std::size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, plain.data(), plain.size()) != 1) fail("RSA-OAEP encrypt");
  std::vector<std::uint8_t> out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, plain.data(), plain.size()) != 1) fail("RSA-OAEP encrypt");
  out.resize(len);
  return out;
}

std::optional<std::vector<std::uint8_t>> RsaKey::oaep_decrypt(Bytes cipher, std::string_view label) const {
  auto ctx = oaep_context(key_.get(), false, label);
  std::size_t len = 0;
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &len, cipher.data(), cipher.size()) != 1) return std::nullopt;
  std::vector<std::uint8_t> out(len);
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &len, cipher.data(), cipher.size()) != 1) return std::nullopt;
  out.resize(len);
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
