// Reader of the Python bakthat's encrypted archives (beefish, docs/formats.md
// §2): Blowfish keyed with the password bytes, ECB (beefish 0.1.1) or CBC
// with an 8-byte IV prefix (later beefish), custom padding, no MAC.
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <cstring>

#include "bakthat/errors.hpp"
#include "crypto/primitives.hpp"
#include "crypto/stages.hpp"
#include "util/peek_source.hpp"

namespace bakthat::crypto::detail {
namespace {

constexpr std::size_t kBlock = 8;
const char* const kWrong = "wrong password or not a bakthat archive";

// Blowfish lives in OpenSSL's legacy provider; loading a provider disables
// the implicit default one, so load both, once per process (unloaded at
// exit, before OpenSSL's own cleanup, which was registered earlier).
void load_legacy_provider() {
  struct Providers {
    OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(nullptr, "legacy");
    OSSL_PROVIDER* fallback = OSSL_PROVIDER_load(nullptr, "default");
    ~Providers() {
      if (legacy) OSSL_PROVIDER_unload(legacy);
      if (fallback) OSSL_PROVIDER_unload(fallback);
    }
  };
  static const Providers providers;
  if (!providers.legacy || !providers.fallback)
    throw Error(ErrorKind::Unsupported, "reading bakthat 0.6 archives needs OpenSSL's legacy provider (Blowfish)");
}

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

// A Blowfish decryption context; the key length is set before the key,
// else OpenSSL would use a 16-byte zero-padded key.
void init_blowfish(EVP_CIPHER_CTX* ctx, const char* mode, const std::string& password, const std::uint8_t* iv) {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, mode, nullptr);
  bool ok = cipher && ctx && EVP_DecryptInit_ex2(ctx, cipher, nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_set_key_length(ctx, static_cast<int>(password.size())) == 1 &&
            EVP_DecryptInit_ex2(ctx, nullptr, reinterpret_cast<const unsigned char*>(password.data()), iv,
                                nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx, 0) == 1;
  EVP_CIPHER_free(cipher);
  if (!ok) throw Error(ErrorKind::Crypto, std::string("OpenSSL: ") + mode + " init failed");
}

void decrypt_block(EVP_CIPHER_CTX* ctx, const std::uint8_t* in, std::uint8_t* out) {
  int len = 0;
  if (EVP_DecryptUpdate(ctx, out, &len, in, kBlock) != 1 || len != kBlock)
    throw Error(ErrorKind::Crypto, "OpenSSL: Blowfish failed");
}

bool gzip_magic(const std::uint8_t* p) { return p[0] == 0x1f && p[1] == 0x8b && p[2] == 0x08; }

// Holds back the last decrypted block until the end of the input, since
// only the final block's last byte says how much padding to drop.
class BeefishReader : public Source {
 public:
  BeefishReader(Source& in, const std::string& password, BeefishMode mode) : in_(in), inbuf_(kIn), outbuf_(kIn + 2 * kBlock) {
    load_legacy_provider();
    if (password.empty() || password.size() > 56) throw Error(ErrorKind::Crypto, kWrong);
    std::uint8_t head[2 * kBlock];
    std::size_t n = util::read_full(in_, MutableBytes(head, sizeof head));
    if (n < kBlock) throw Error(ErrorKind::Crypto, kWrong);
    // Which variant: the one whose first plaintext block is gzip magic.
    CipherCtx ecb;
    init_blowfish(ecb.ctx, "BF-ECB", password, nullptr);
    std::uint8_t p0[kBlock], p1[kBlock];
    decrypt_block(ecb.ctx, head, p0);
    bool is_ecb = mode == BeefishMode::Ecb || (mode == BeefishMode::Auto && gzip_magic(p0));
    bool is_cbc = mode == BeefishMode::Cbc;
    if (is_cbc && n < sizeof head) throw Error(ErrorKind::Corrupt, "archive is damaged at byte 0 (too short)");
    if (mode == BeefishMode::Auto && !is_ecb && n == sizeof head) {
      decrypt_block(ecb.ctx, head + kBlock, p1);
      for (std::size_t i = 0; i < kBlock; ++i) p1[i] ^= head[i];
      is_cbc = gzip_magic(p1);
    }
    if (!is_ecb && !is_cbc) throw Error(ErrorKind::Crypto, kWrong);
    consumed_ = n;
    if (is_ecb) {
      init_blowfish(ctx_.ctx, "BF-ECB", password, nullptr);
      feed(head, n);
    } else {
      init_blowfish(ctx_.ctx, "BF-CBC", password, head);
      feed(head + kBlock, n - kBlock);
    }
  }

  std::size_t read(MutableBytes out) override {
    while (pos_ == len_) {
      if (done_) return 0;
      std::size_t n = in_.read(MutableBytes(inbuf_.data(), inbuf_.size()));
      if (n == 0) {
        finish();
        break;
      }
      consumed_ += n;
      feed(inbuf_.data(), n);
    }
    std::size_t n = std::min(out.size(), len_ - pos_);
    std::memcpy(out.data(), outbuf_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  static constexpr std::size_t kIn = 64 * 1024;

  // Decrypts `n` more bytes; everything but the last whole block becomes
  // readable.
  void feed(const std::uint8_t* data, std::size_t n) {
    std::memcpy(outbuf_.data(), held_, held_len_);
    int len = 0;
    if (n > 0 && EVP_DecryptUpdate(ctx_.ctx, outbuf_.data() + held_len_, &len, data, static_cast<int>(n)) != 1)
      throw Error(ErrorKind::Crypto, "OpenSSL: Blowfish failed");
    std::size_t total = held_len_ + static_cast<std::size_t>(len);
    held_len_ = std::min(total, kBlock);
    std::memcpy(held_, outbuf_.data() + total - held_len_, held_len_);
    pos_ = 0;
    len_ = total - held_len_;
  }

  void finish() {
    done_ = true;
    pos_ = len_ = 0;
    if (consumed_ % kBlock != 0 || held_len_ != kBlock)
      throw Error(ErrorKind::Corrupt, "archive is damaged at byte " + std::to_string(consumed_ - consumed_ % kBlock) +
                                          " (truncated Blowfish block)");
    std::size_t pad = held_[kBlock - 1] % kBlock;
    if (pad == 0) pad = kBlock;
    len_ = kBlock - pad;
    std::memcpy(outbuf_.data(), held_, len_);
  }

  Source& in_;
  CipherCtx ctx_;
  std::vector<std::uint8_t> inbuf_, outbuf_;
  std::uint8_t held_[kBlock] = {};
  std::size_t held_len_ = 0, pos_ = 0, len_ = 0;
  std::uint64_t consumed_ = 0;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Source> make_beefish_reader(Source& in, const std::string& password, BeefishMode mode) {
  return std::make_unique<BeefishReader>(in, password, mode);
}

}  // namespace bakthat::crypto::detail
