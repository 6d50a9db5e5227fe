// age v1 reader (FORMATS.md §1.2-1.7): strict header, file key unwrapping
// with age 1.1.1's rules, header MAC, then STREAM chunks released only once
// their tag verified.
#include <openssl/crypto.h>

#include <cstring>

#include "bakthat/errors.hpp"
#include "crypto/age_format.hpp"
#include "crypto/keys.hpp"
#include "crypto/stages.hpp"
#include "util/bytes.hpp"

namespace bakthat::crypto::detail {
namespace {

const char* const kWrongKey = "wrong password or not encrypted for this identity";

[[noreturn]] void malformed(const std::string& what) {
  throw Error(ErrorKind::Corrupt, "archive header is malformed: " + what);
}

[[noreturn]] void damaged(std::uint64_t at, const char* why) {
  throw Error(ErrorKind::Corrupt, "archive is damaged at byte " + std::to_string(at) + " (" + why + ")");
}

using FileKey = std::array<std::uint8_t, kFileKey>;

// Opens a 32-byte stanza body; nullopt when the key is not the right one.
std::optional<FileKey> unwrap_body(const Key32& wrap, const std::vector<std::uint8_t>& body, const char* type) {
  // A length check before decrypting, as the spec requires against
  // partitioning oracles.
  if (body.size() != kFileKey + ChaChaPoly::kTag) malformed(std::string(type) + " stanza body is not 32 bytes");
  static const std::uint8_t zero_nonce[12] = {};
  FileKey key;
  if (!ChaChaPoly(wrap).open(zero_nonce, body, key.data())) return std::nullopt;
  return key;
}

std::optional<FileKey> unwrap_scrypt(const Stanza& s, const std::string& password, int max_log_n) {
  if (s.args.size() != 2) malformed("scrypt stanza needs 2 arguments");
  auto salt = base64_raw_decode(s.args[0]);
  if (!salt || salt->size() != 16) malformed("scrypt salt is not 16 bytes of canonical base64");
  const std::string& w = s.args[1];
  bool digits = !w.empty() && w[0] >= '1' && w[0] <= '9';
  for (char c : w) digits = digits && c >= '0' && c <= '9';
  if (!digits) malformed("scrypt work factor '" + w.substr(0, 16) + "' is not a decimal number");
  if (w.size() > 2 || std::stoi(w) > max_log_n)
    throw Error(ErrorKind::Unsupported, "archive's scrypt work factor " + w.substr(0, 16) + " is above the limit " +
                                            std::to_string(max_log_n) + " (max_scrypt_work_factor)");
  std::string scrypt_salt(kScryptLabel);
  scrypt_salt.append(salt->begin(), salt->end());
  Key32 wrap = scrypt(password, util::as_bytes(scrypt_salt), std::stoi(w));
  if (s.body.size() != kFileKey + ChaChaPoly::kTag) malformed("scrypt stanza body is not 32 bytes");
  auto key = unwrap_body(wrap, s.body, "scrypt");
  wipe(wrap.data(), wrap.size());
  return key;
}

// nullopt for a stanza of another type or for another identity; throws for
// a malformed X25519 stanza, as age does.
std::optional<FileKey> unwrap_x25519(const Stanza& s, const X25519Identity& id) {
  if (s.type != "X25519") return std::nullopt;
  if (s.args.size() != 1) malformed("X25519 stanza needs 1 argument");
  auto share = base64_raw_decode(s.args[0]);
  if (!share || share->size() != 32) malformed("X25519 share is not 32 bytes of canonical base64");
  if (s.body.size() != kFileKey + ChaChaPoly::kTag) malformed("X25519 stanza body is not 32 bytes");
  auto shared = x25519(id.scalar, *share);
  if (!shared) malformed("X25519 share is a low-order point");
  std::uint8_t salt[64];
  std::memcpy(salt, share->data(), 32);
  std::memcpy(salt + 32, id.public_key.data(), 32);
  Key32 wrap = hkdf_sha256(*shared, Bytes(salt, sizeof salt), kX25519Label);
  wipe(shared->data(), shared->size());
  auto key = unwrap_body(wrap, s.body, "X25519");
  wipe(wrap.data(), wrap.size());
  return key;
}

FileKey unwrap(const Header& h, const DecryptOptions& options) {
  if (h.stanzas.empty()) malformed("no recipient stanza");
  for (const auto& s : h.stanzas)
    if (s.type == "scrypt" && h.stanzas.size() != 1) malformed("an scrypt stanza must be the only one");
  if (h.stanzas[0].type == "scrypt") {
    if (!options.password) throw Error(ErrorKind::Crypto, "archive is encrypted with a password; none was given");
    auto key = unwrap_scrypt(h.stanzas[0], *options.password, options.max_scrypt_work_factor);
    if (!key) throw Error(ErrorKind::Crypto, kWrongKey);
    return *key;
  }
  if (options.identity_files.empty()) {
    if (options.password) throw Error(ErrorKind::Crypto, kWrongKey);
    throw Error(ErrorKind::Crypto, "archive is encrypted to age recipients; an identity is needed");
  }
  std::vector<X25519Identity> ids;
  for (const auto& f : options.identity_files) {
    auto more = load_identity_file(f);
    ids.insert(ids.end(), more.begin(), more.end());
  }
  struct Wiper {
    std::vector<X25519Identity>& v;
    ~Wiper() {
      for (auto& i : v) wipe(i.scalar.data(), i.scalar.size());
    }
  } wiper{ids};
  for (const auto& id : ids)
    for (const auto& s : h.stanzas)
      if (auto key = unwrap_x25519(s, id)) return *key;
  throw Error(ErrorKind::Crypto, kWrongKey);
}

class AgeReader : public Source {
 public:
  AgeReader(Source& in, const DecryptOptions& options) : in_(in), sealed_(kSealedChunk), plain_(kChunk) {
    Header h = parse_header(in_);
    FileKey file_key = unwrap(h, options);
    Key32 mac_key = hkdf_sha256(file_key, {}, "header");
    Key32 mac = hmac_sha256(mac_key, util::as_bytes(h.mac_input));
    wipe(mac_key.data(), mac_key.size());
    if (CRYPTO_memcmp(mac.data(), h.mac.data(), mac.size()) != 0) {
      wipe(file_key.data(), file_key.size());
      damaged(0, "header MAC mismatch");
    }
    std::uint8_t nonce[kPayloadNonce];
    std::uint64_t at = in_.offset();
    if (in_.read(MutableBytes(nonce, sizeof nonce)) != sizeof nonce) {
      wipe(file_key.data(), file_key.size());
      damaged(at, "truncated before the payload");
    }
    Key32 payload_key = hkdf_sha256(file_key, nonce, "payload");
    wipe(file_key.data(), file_key.size());
    aead_ = std::make_unique<ChaChaPoly>(payload_key);
    wipe(payload_key.data(), payload_key.size());
  }

  ~AgeReader() override { wipe(plain_.data(), plain_.size()); }

  std::size_t read(MutableBytes out) override {
    if (out.empty()) return 0;
    while (pos_ == len_) {
      if (done_) return 0;
      next_chunk();
    }
    std::size_t n = std::min(out.size(), len_ - pos_);
    std::memcpy(out.data(), plain_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  void next_chunk() {
    std::uint64_t at = in_.offset();
    std::size_t n = in_.read(MutableBytes(sealed_.data(), sealed_.size()));
    if (n == 0) damaged(at, "truncated: the final chunk is missing");
    std::uint8_t nonce[12];
    bool last = n < sealed_.size();
    Bytes ct(sealed_.data(), n);
    if (last) {
      if (n < ChaChaPoly::kTag) damaged(at, "truncated chunk");
      if (n == ChaChaPoly::kTag && counter_ != 0) damaged(at, "empty final chunk");
      stream_nonce(counter_, true, nonce);
      if (!aead_->open(nonce, ct, plain_.data())) damaged(at, "chunk authentication failed");
    } else {
      stream_nonce(counter_, false, nonce);
      if (!aead_->open(nonce, ct, plain_.data())) {
        stream_nonce(counter_, true, nonce);
        if (!aead_->open(nonce, ct, plain_.data())) damaged(at, "chunk authentication failed");
        last = true;
      }
    }
    if (last) {
      std::uint8_t extra;
      std::uint64_t end = in_.offset();
      if (in_.read(MutableBytes(&extra, 1)) != 0) damaged(end, "data after the final chunk");
      done_ = true;
    }
    ++counter_;
    pos_ = 0;
    len_ = n - ChaChaPoly::kTag;
  }

  ByteReader in_;
  std::unique_ptr<ChaChaPoly> aead_;
  std::vector<std::uint8_t> sealed_, plain_;
  std::size_t pos_ = 0, len_ = 0;
  std::uint64_t counter_ = 0;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Source> make_age_reader(Source& in, const DecryptOptions& options) {
  return std::make_unique<AgeReader>(in, options);
}

}  // namespace bakthat::crypto::detail
