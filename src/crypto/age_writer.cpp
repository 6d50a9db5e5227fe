// age v1 writer (FORMATS.md §1): header with one scrypt stanza or one
// X25519 stanza per recipient, then the STREAM payload in 64 KiB chunks,
// sealed in parallel.
#include <algorithm>
#include <cstring>
#include <memory>

#include "bakthat/errors.hpp"
#include "crypto/age_format.hpp"
#include "crypto/crypto.hpp"
#include "crypto/keys.hpp"
#include "util/bytes.hpp"
#include "util/ordered_pool.hpp"

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

// The header for a fresh file key: intro, stanzas, MAC.
std::string make_header(const EncryptOptions& options, Bytes file_key) {
  std::vector<Key32> recipients;
  for (const auto& r : options.recipients) recipients.push_back(parse_recipient(r));
  if (options.password && !recipients.empty())
    throw Error(ErrorKind::Usage, "a password cannot be combined with age recipients");
  if (!options.password && recipients.empty())
    throw Error(ErrorKind::Usage, "encryption needs a password or at least one recipient");
  if (options.password && options.password->empty()) throw Error(ErrorKind::Usage, "the password is empty");
  if (options.scrypt_work_factor < 1 || options.scrypt_work_factor > 30)
    throw Error(ErrorKind::Usage, "scrypt work factor must be within 1..30");

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
  return header;
}

constexpr std::size_t kJobBytes = kJobChunks * kChunk;

struct SealJob {
  std::vector<std::uint8_t> plain, sealed;
  std::uint64_t first_counter = 0;
  bool last = false;  // its final chunk ends the stream
};

void seal_job(ChaChaPoly& aead, SealJob& job) {
  const std::size_t chunks = std::max<std::size_t>(1, (job.plain.size() + kChunk - 1) / kChunk);
  job.sealed.resize(job.plain.size() + chunks * ChaChaPoly::kTag);
  std::uint8_t* out = job.sealed.data();
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::size_t from = i * kChunk;
    const std::size_t n = std::min(kChunk, job.plain.size() - from);
    std::uint8_t nonce[12];
    stream_nonce(job.first_counter + i, job.last && i + 1 == chunks, nonce);
    aead.seal(nonce, Bytes(job.plain.data() + from, n), out);
    out += n + ChaChaPoly::kTag;
  }
}

// Writes the header at once, then seals the payload on worker threads:
// chunk i's nonce depends only on i, so jobs of kJobChunks chunks are sealed
// in parallel (each worker with its own cipher context) and written on in
// order. Sealing stays off the caller's thread, which already reads files
// and hashes what is stored. A full job is submitted only once more data
// arrives, so the chunk that ends the stream, full or not, carries the last
// flag; an empty stream is one empty final chunk.
class AgeEncryptor : public Sink {
 public:
  AgeEncryptor(Sink& next, const EncryptOptions& options)
      : next_(next), payload_key_(start(next, options)),
        pool_(chunk_workers(options.threads), job_slots(chunk_workers(options.threads)),
              [this] { return std::make_unique<ChaChaPoly>(payload_key_); },
              [](std::unique_ptr<ChaChaPoly>& aead, SealJob& job) { seal_job(*aead, job); }) {}

  ~AgeEncryptor() override { wipe(payload_key_.data(), payload_key_.size()); }

  void write(Bytes data) override {
    while (!data.empty()) {
      SealJob& job = current();
      if (job.plain.size() == kJobBytes) {
        submit(false);
        continue;
      }
      const std::size_t n = std::min(kJobBytes - job.plain.size(), data.size());
      job.plain.insert(job.plain.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
      data = data.subspan(n);
    }
  }

  void finish() override {
    current();
    submit(true);
    while (!pool_.empty()) retire();
    next_.finish();
  }

 private:
  // Writes the header into `next` and returns the payload key.
  static Key32 start(Sink& next, const EncryptOptions& options) {
    std::uint8_t file_key[kFileKey];
    random_bytes(file_key);
    std::string header;
    try {
      header = make_header(options, file_key);
    } catch (...) {
      wipe(file_key, sizeof file_key);
      throw;
    }
    std::uint8_t nonce[kPayloadNonce];
    random_bytes(nonce);
    Key32 payload_key = hkdf_sha256(file_key, nonce, "payload");
    wipe(file_key, sizeof file_key);
    header.append(reinterpret_cast<const char*>(nonce), sizeof nonce);
    next.write(util::as_bytes(header));
    return payload_key;
  }

  SealJob& current() {
    if (!filling_) {
      while (pool_.full()) retire();
      SealJob& job = pool_.back();
      job.plain.clear();
      job.plain.reserve(kJobBytes);
      job.first_counter = counter_;
      filling_ = true;
    }
    return pool_.back();
  }

  void submit(bool last) {
    SealJob& job = pool_.back();
    job.last = last;
    counter_ += job.plain.size() / kChunk;
    pool_.submit();
    filling_ = false;
    while (pool_.front_ready()) retire();
  }

  void retire() {
    SealJob& job = pool_.front();
    next_.write(job.sealed);
    pool_.pop_front();
  }

  Sink& next_;
  Key32 payload_key_;  // read by workers as they start; wiped last
  util::OrderedPool<SealJob, std::unique_ptr<ChaChaPoly>> pool_;
  bool filling_ = false;  // pool_.back() is the job being filled
  std::uint64_t counter_ = 0;
};

}  // namespace

std::unique_ptr<Sink> make_encryptor(Sink& next, const EncryptOptions& options) {
  return std::make_unique<AgeEncryptor>(next, options);
}

}  // namespace bakthat::crypto
