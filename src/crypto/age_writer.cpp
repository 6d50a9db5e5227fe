// age v1 writer (FORMATS.md §1): header with one scrypt stanza or one
// X25519 stanza per recipient, then the STREAM payload in 64 KiB chunks.
#include <cstring>

#include "bakthat/errors.hpp"
#include "crypto/age_format.hpp"
#include "crypto/crypto.hpp"
#include "crypto/keys.hpp"
#include "util/bytes.hpp"

namespace bakthat::crypto {
namespace {

using namespace detail;

// Wraps the file key for a password: scrypt(label || salt) -> AEAD key.
Stanza scrypt_stanza(const std::string& password, int log_n, Bytes file_key) {
  std::uint8_t salt[16];
  random_bytes(salt);
  std::string scrypt_salt(kScryptLabel);
  scrypt_salt.append(reinterpret_cast<const char*>(salt), sizeof salt);
  Key32 wrap = scrypt(password, util::as_bytes(scrypt_salt), log_n);
  Stanza s{"scrypt", {base64_raw_encode(Bytes(salt, sizeof salt)), std::to_string(log_n)}, {}};
  s.body.resize(kFileKey + ChaChaPoly::kTag);
  static const std::uint8_t zero_nonce[12] = {};
  ChaChaPoly(wrap).seal(zero_nonce, file_key, s.body.data());
  wipe(wrap.data(), wrap.size());
  return s;
}

// Wraps the file key for an X25519 recipient with a fresh ephemeral key.
Stanza x25519_stanza(const Key32& recipient, Bytes file_key) {
  Key32 eph;
  random_bytes(eph);
  Key32 share = x25519_public(eph);
  auto shared = x25519(eph, recipient);
  wipe(eph.data(), eph.size());
  if (!shared) throw Error(ErrorKind::Usage, "invalid age recipient " + format_recipient(recipient));
  std::uint8_t salt[64];
  std::memcpy(salt, share.data(), 32);
  std::memcpy(salt + 32, recipient.data(), 32);
  Key32 wrap = hkdf_sha256(*shared, Bytes(salt, sizeof salt), kX25519Label);
  wipe(shared->data(), shared->size());
  Stanza s{"X25519", {base64_raw_encode(share)}, {}};
  s.body.resize(kFileKey + ChaChaPoly::kTag);
  static const std::uint8_t zero_nonce[12] = {};
  ChaChaPoly(wrap).seal(zero_nonce, file_key, s.body.data());
  wipe(wrap.data(), wrap.size());
  return s;
}

// Buffers one chunk of plaintext; a full chunk is sealed as non-final only
// once more data arrives, so the last chunk (full or not) carries flag 1.
class AgeEncryptor : public Sink {
 public:
  AgeEncryptor(Sink& next, const EncryptOptions& options) : next_(next), plain_(kChunk), sealed_(kSealedChunk) {
    std::vector<Key32> recipients;
    for (const auto& r : options.recipients) recipients.push_back(parse_recipient(r));
    if (options.password && !recipients.empty())
      throw Error(ErrorKind::Usage, "a password cannot be combined with age recipients");
    if (!options.password && recipients.empty())
      throw Error(ErrorKind::Usage, "encryption needs a password or at least one recipient");
    if (options.password && options.password->empty()) throw Error(ErrorKind::Usage, "the password is empty");
    if (options.scrypt_work_factor < 1 || options.scrypt_work_factor > 30)
      throw Error(ErrorKind::Usage, "scrypt work factor must be within 1..30");

    std::uint8_t file_key[kFileKey];
    random_bytes(file_key);
    std::string header(kAgeIntro);
    if (options.password) {
      header += serialize_stanza(scrypt_stanza(*options.password, options.scrypt_work_factor, file_key));
    } else {
      for (const auto& r : recipients) header += serialize_stanza(x25519_stanza(r, file_key));
    }
    header += "---";
    Key32 mac_key = hkdf_sha256(file_key, {}, "header");
    Key32 mac = hmac_sha256(mac_key, util::as_bytes(header));
    wipe(mac_key.data(), mac_key.size());
    header += " " + base64_raw_encode(mac) + "\n";

    std::uint8_t nonce[kPayloadNonce];
    random_bytes(nonce);
    Key32 payload_key = hkdf_sha256(file_key, nonce, "payload");
    wipe(file_key, sizeof file_key);
    aead_ = std::make_unique<ChaChaPoly>(payload_key);
    wipe(payload_key.data(), payload_key.size());

    header.append(reinterpret_cast<const char*>(nonce), sizeof nonce);
    next_.write(util::as_bytes(header));
  }

  ~AgeEncryptor() override { wipe(plain_.data(), plain_.size()); }

  void write(Bytes data) override {
    while (!data.empty()) {
      if (fill_ == kChunk) seal(false);
      std::size_t n = std::min(kChunk - fill_, data.size());
      std::memcpy(plain_.data() + fill_, data.data(), n);
      fill_ += n;
      data = data.subspan(n);
    }
  }

  void finish() override {
    // An empty plaintext is one empty final chunk; otherwise the buffer is
    // never empty here (it is refilled right after every flush).
    seal(true);
    next_.finish();
  }

 private:
  void seal(bool last) {
    std::uint8_t nonce[12];
    stream_nonce(counter_++, last, nonce);
    aead_->seal(nonce, Bytes(plain_.data(), fill_), sealed_.data());
    next_.write(Bytes(sealed_.data(), fill_ + ChaChaPoly::kTag));
    fill_ = 0;
  }

  Sink& next_;
  std::unique_ptr<ChaChaPoly> aead_;
  std::vector<std::uint8_t> plain_, sealed_;
  std::size_t fill_ = 0;
  std::uint64_t counter_ = 0;
};

}  // namespace

std::unique_ptr<Sink> make_encryptor(Sink& next, const EncryptOptions& options) {
  return std::make_unique<AgeEncryptor>(next, options);
}

}  // namespace bakthat::crypto
