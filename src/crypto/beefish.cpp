// Reader of the Python bakthat's encrypted archives (beefish, docs/formats.md
// §2): Blowfish keyed with the password bytes, ECB (beefish 0.1.1) or CBC
// with an 8-byte IV prefix (later beefish), custom padding, no MAC.
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <vector>

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

// beefish's last byte is its padding length mod 8, drawn from 1..248.
bool valid_pad_flag(std::uint8_t flag) { return flag >= 1 && flag <= 248; }

// n * KL(k/n || p): a Chernoff bound, in nats, on how unlikely k or more
// hits in n draws of probability p are (0 when k/n <= p).
double tail_nats(std::size_t n, std::size_t k, double p) {
  double q = static_cast<double>(k) / static_cast<double>(n);
  if (q <= p) return 0;
  double d = q * std::log(q / p);
  if (q < 1) d += (1 - q) * std::log((1 - q) / (1 - p));
  return static_cast<double>(n) * d;
}

// How far `data` is from uniformly random bytes, in nats (about -ln of the
// chance that random bytes look as structured): its text bytes, its most
// frequent byte value, and, given enough bytes, the spread of all values.
// The wrong variant (or password) decrypts to uniform bytes, where this
// stays below ~12; text, tar, JSON, executables go far above.
double nats_of_structure(const std::uint8_t* data, std::size_t n) {
  if (n == 0) return 0;
  std::size_t counts[256] = {};
  std::size_t text = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t b = data[i];
    ++counts[b];
    text += (b >= 0x20 && b < 0x7f) || b == '\t' || b == '\n' || b == '\r';
  }
  std::size_t top = *std::max_element(std::begin(counts), std::end(counts));
  double nats = std::max(tail_nats(n, text, 98.0 / 256), tail_nats(n, top, 1.0 / 256));
  if (n >= 4096) {
    // 2n * KL(counts || uniform) is chi-square with 255 degrees of freedom
    // for random bytes: its z-score, as nats of a normal tail.
    double kl = 0;
    for (std::size_t c : counts)
      if (c) kl += static_cast<double>(c) / static_cast<double>(n) * std::log(256.0 * static_cast<double>(c) / static_cast<double>(n));
    double z = (2 * static_cast<double>(n) * kl - 255) / std::sqrt(510.0);
    if (z > 0) nats = std::max(nats, z * z / 2);
  }
  return nats;
}

// One way of reading the probe: its plaintext (without the padding when the
// probe is the whole input) and whether it can be that variant at all.
struct Candidate {
  bool possible = false;
  std::vector<std::uint8_t> plain;
  double nats = 0;
};

Candidate read_as(const char* mode, const std::string& password, const std::uint8_t* probe, std::size_t n,
                  bool whole) {
  Candidate c;
  bool cbc = std::strcmp(mode, "BF-CBC") == 0;
  std::size_t skip = cbc ? kBlock : 0;
  n -= n % kBlock;
  if (n < skip + kBlock) return c;
  CipherCtx ctx;
  init_blowfish(ctx.ctx, mode, password, cbc ? probe : nullptr);
  c.plain.resize(n - skip);
  for (std::size_t i = skip; i < n; i += kBlock) decrypt_block(ctx.ctx, probe + i, c.plain.data() + i - skip);
  if (whole) {
    if (!valid_pad_flag(c.plain.back())) return c;
    std::size_t pad = c.plain.back() % kBlock;
    c.plain.resize(c.plain.size() - (pad == 0 ? kBlock : pad));
  } else {
    c.plain.resize(c.plain.size() - kBlock);  // the last block may be padding
  }
  c.possible = true;
  c.nats = nats_of_structure(c.plain.data(), c.plain.size());
  return c;
}

// Which variant the probe (the first bytes of the input; `whole` if they
// are all of it) was written in. Nothing tells them apart but their
// plaintext: the one that decrypts to gzip magic (every bakthat 0.6 .tgz),
// else the one whose plaintext is clearly not random while the other's is.
// A wrong password makes both random: refused, not guessed.
BeefishMode choose_variant(const std::string& password, const std::uint8_t* probe, std::size_t n, bool whole) {
  Candidate ecb = read_as("BF-ECB", password, probe, n, whole);
  Candidate cbc = read_as("BF-CBC", password, probe, n, whole);
  auto gzip = [](const Candidate& c) { return c.possible && c.plain.size() >= 3 && gzip_magic(c.plain.data()); };
  if (gzip(ecb)) return BeefishMode::Ecb;
  if (gzip(cbc)) return BeefishMode::Cbc;
  if (ecb.possible && !cbc.possible) {
    // Too short for CBC (under 16 bytes): a few bytes of text suffice.
    if (ecb.nats >= 4) return BeefishMode::Ecb;
    throw Error(ErrorKind::Crypto, kWrong);
  }
  // Clearly structured, and at least twice as structured as the other
  // reading (an ECB file read as CBC keeps some of ECB's repeated blocks).
  constexpr double kStructured = 20;
  const Candidate& best = ecb.nats >= cbc.nats ? ecb : cbc;
  const Candidate& other = &best == &ecb ? cbc : ecb;
  if (best.possible && best.nats >= kStructured && (!other.possible || other.nats * 2 <= best.nats))
    return &best == &ecb ? BeefishMode::Ecb : BeefishMode::Cbc;
  throw Error(ErrorKind::Crypto, kWrong);
}

// Holds back the last decrypted block until the end of the input, since
// only the final block's last byte says how much padding to drop.
class BeefishReader : public Source {
 public:
  BeefishReader(Source& in, const std::string& password, BeefishMode mode) : in_(in), inbuf_(kIn), outbuf_(kIn + 2 * kBlock) {
    load_legacy_provider();
    if (password.empty() || password.size() > 56) throw Error(ErrorKind::Crypto, kWrong);
    // The first 64 KiB decide the variant, then are decrypted as the rest.
    std::size_t n = util::read_full(in_, MutableBytes(inbuf_.data(), inbuf_.size()));
    if (n < kBlock) throw Error(ErrorKind::Crypto, kWrong);
    if (mode == BeefishMode::Auto) mode = choose_variant(password, inbuf_.data(), n, n < inbuf_.size());
    if (mode == BeefishMode::Cbc && n < 2 * kBlock)
      throw Error(ErrorKind::Corrupt, "archive is damaged at byte 0 (too short)");
    consumed_ = n;
    if (mode == BeefishMode::Ecb) {
      init_blowfish(ctx_.ctx, "BF-ECB", password, nullptr);
      feed(inbuf_.data(), n);
    } else {
      init_blowfish(ctx_.ctx, "BF-CBC", password, inbuf_.data());
      feed(inbuf_.data() + kBlock, n - kBlock);
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
