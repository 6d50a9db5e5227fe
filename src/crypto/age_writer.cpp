// age v1 writer (docs/formats.md §1): header with one scrypt stanza or one
// X25519, ssh-ed25519 or ssh-rsa stanza per recipient, then the STREAM
// payload in 64 KiB chunks, sealed in parallel.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "bakthat/errors.hpp"
#include "crypto/age_format.hpp"
#include "crypto/crypto.hpp"
#include "crypto/keys.hpp"
#include "util/bytes.hpp"
#include "util/ordered_pool.hpp"

namespace bakthat::crypto {
namespace {

using namespace detail;

// A stanza's body: the file key sealed under `wrap` with the all-zero nonce
// (each wrap key seals only this one message); `wrap` is wiped.
std::vector<std::uint8_t> wrap_file_key(Key32& wrap, Bytes file_key) {
  std::vector<std::uint8_t> body(kFileKey + ChaChaPoly::kTag);
  static const std::uint8_t zero_nonce[12] = {};
  ChaChaPoly(wrap).seal(zero_nonce, file_key, body.data());
  wipe(wrap.data(), wrap.size());
  return body;
}

// Wraps the file key for a password: scrypt(label || salt) -> AEAD key.
Stanza scrypt_stanza(const std::string& password, int log_n, Bytes file_key) {
  std::uint8_t salt[16];
  random_bytes(salt);
  std::string scrypt_salt(kScryptLabel);
  scrypt_salt.append(reinterpret_cast<const char*>(salt), sizeof salt);
  Key32 wrap = scrypt(password, util::as_bytes(scrypt_salt), log_n);
  return {"scrypt", {base64_raw_encode(Bytes(salt, sizeof salt)), std::to_string(log_n)},
          wrap_file_key(wrap, file_key)};
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
  return {"X25519", {base64_raw_encode(share)}, wrap_file_key(wrap, file_key)};
}

// Wraps the file key for an SSH ed25519 key: X25519 as above with the
// key's Montgomery form, tweaked by the key itself.
Stanza ssh_ed25519_stanza(const SshEd25519Recipient& recipient, Bytes file_key) {
  Key32 eph;
  random_bytes(eph);
  Key32 share = x25519_public(eph);
  auto dh = x25519(eph, recipient.x25519);
  wipe(eph.data(), eph.size());
  std::optional<Key32> wrap;
  if (dh) wrap = ssh_ed25519_wrap_key(*dh, recipient.wire, share, recipient.x25519);
  if (dh) wipe(dh->data(), dh->size());
  if (!wrap) throw Error(ErrorKind::Usage, "invalid SSH ed25519 recipient (a low-order point)");
  return {"ssh-ed25519", {recipient.tag, base64_raw_encode(share)}, wrap_file_key(*wrap, file_key)};
}

// Wraps the file key for an SSH RSA key: RSA-OAEP-SHA-256.
Stanza ssh_rsa_stanza(const SshRsaRecipient& recipient, Bytes file_key) {
  return {"ssh-rsa", {recipient.tag}, recipient.key.oaep_encrypt(file_key, kSshRsaLabel)};
}

Stanza recipient_stanza(const Recipient& recipient, Bytes file_key) {
  if (auto* x = std::get_if<Key32>(&recipient)) return x25519_stanza(*x, file_key);
  if (auto* ed = std::get_if<SshEd25519Recipient>(&recipient)) return ssh_ed25519_stanza(*ed, file_key);
  return ssh_rsa_stanza(std::get<SshRsaRecipient>(recipient), file_key);
}

// Refuses options no header can be made of; before any work starts.
void check_options(const EncryptOptions& options) {
  if (options.password && !options.recipients.empty())
    throw Error(ErrorKind::Usage, "a password cannot be combined with age recipients");
  if (!options.password && options.recipients.empty())
    throw Error(ErrorKind::Usage, "encryption needs a password or at least one recipient");
  if (options.password && options.password->empty()) throw Error(ErrorKind::Usage, "the password is empty");
  if (options.scrypt_work_factor < 1 || options.scrypt_work_factor > 30)
    throw Error(ErrorKind::Usage, "scrypt work factor must be within 1..30");
}

// The header, intro to MAC, around the given stanzas.
std::string finish_header(const std::vector<Stanza>& stanzas, Bytes file_key) {
  std::string header(kAgeIntro);
  for (const auto& s : stanzas) header += serialize_stanza(s);
  header += "---";
  Key32 mac_key = hkdf_sha256(file_key, {}, "header");
  Key32 mac = hmac_sha256(mac_key, util::as_bytes(header));
  wipe(mac_key.data(), mac_key.size());
  header += " " + base64_raw_encode(mac) + "\n";
  return header;
}

// The header thread's own copies of the secrets, wiped when it is done.
struct PasswordSecrets {
  PasswordSecrets(std::string p, const FileKey& k) : password(std::move(p)), file_key(k) {}
  ~PasswordSecrets() {
    wipe(password.data(), password.size());
    wipe(file_key.data(), file_key.size());
  }
  std::string password;
  FileKey file_key;
};

}  // namespace

std::shared_ptr<const SharedHeader> make_shared_header(const EncryptOptions& options) {
  check_options(options);
  std::vector<Recipient> recipients;
  for (const auto& r : options.recipients) recipients.push_back(parse_any_recipient(r));
  auto shared = std::make_shared<SharedHeader>();
  random_bytes(shared->file_key);
  if (options.password) {
    auto secrets = std::make_unique<PasswordSecrets>(*options.password, shared->file_key);
    shared->header = std::async(std::launch::async, [secrets = std::move(secrets), log_n = options.scrypt_work_factor] {
                       return finish_header({scrypt_stanza(secrets->password, log_n, secrets->file_key)},
                                            secrets->file_key);
                     }).share();
  } else {
    std::vector<Stanza> stanzas;
    for (const auto& r : recipients) stanzas.push_back(recipient_stanza(r, shared->file_key));
    std::promise<std::string> ready;
    ready.set_value(finish_header(stanzas, shared->file_key));
    shared->header = ready.get_future().share();
  }
  return shared;
}

namespace {

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

// Seals the payload on worker threads: chunk i's nonce depends only on i,
// so jobs of kJobChunks chunks are sealed in parallel (each worker with its
// own cipher context) and written on in order. Sealing stays off the
// caller's thread, which already reads files and hashes what is stored. A
// full job is submitted only once more data arrives, so the chunk that ends
// the stream, full or not, carries the last flag; an empty stream is one
// empty final chunk.
//
// A password's header costs scrypt (at logN 18 half a second of work and
// 256 MB of fresh memory, which a virtual machine may take seconds to back),
// yet the payload key depends only on the file key and nonce. So the header
// is made on a thread of its own while the payload already streams, and
// sealed jobs wait for it, up to kHeldWhileDeriving bytes, before the writer
// blocks: the key derivation overlaps the backup instead of preceding it.
class AgeEncryptor : public Sink {
 public:
  AgeEncryptor(Sink& next, const EncryptOptions& options)
      : next_(next), payload_key_(start(options)),
        pool_(chunk_workers(options.threads), job_slots(chunk_workers(options.threads)),
              [this] { return std::make_unique<ChaChaPoly>(payload_key_.get()); },
              [](std::unique_ptr<ChaChaPoly>& aead, SealJob& job) { seal_job(*aead, job); }) {}

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
    if (!header_written_) write_header();
    next_.finish();
  }

 private:
  // Draws the nonce, takes the header (its own, or the shared one) and
  // returns the payload key.
  Key32 start(const EncryptOptions& options) {
    shared_ = options.shared_header ? options.shared_header : make_shared_header(options);
    header_ = shared_->header;
    random_bytes(nonce_);
    return hkdf_sha256(shared_->file_key, nonce_, "payload");
  }

  // Writes the header and the payload held back for it; waits for the key
  // derivation if it still runs.
  void write_header() {
    std::string header = header_.get();
    header_written_ = true;
    header.append(reinterpret_cast<const char*>(nonce_.data()), nonce_.size());
    next_.write(util::as_bytes(header));
    for (const auto& sealed : held_) next_.write(sealed);
    held_.clear();
    held_bytes_ = 0;
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
    if (!header_written_) {
      const bool derived = header_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
      if (!derived && held_bytes_ + job.sealed.size() <= kHeldWhileDeriving) {
        held_bytes_ += job.sealed.size();
        held_.push_back(std::move(job.sealed));
        pool_.pop_front();
        return;
      }
      write_header();
    }
    next_.write(job.sealed);
    pool_.pop_front();
  }

  Sink& next_;
  std::array<std::uint8_t, kPayloadNonce> nonce_{};
  std::shared_ptr<const SharedHeader> shared_;
  // The header (a password's still being derived).
  std::shared_future<std::string> header_;
  bool header_written_ = false;
  std::vector<std::vector<std::uint8_t>> held_;
  std::size_t held_bytes_ = 0;
  WipedKey32 payload_key_;  // read by workers as they start; outlives pool_
  util::OrderedPool<SealJob, std::unique_ptr<ChaChaPoly>> pool_;
  bool filling_ = false;  // pool_.back() is the job being filled
  std::uint64_t counter_ = 0;
};

}  // namespace

std::unique_ptr<Sink> make_encryptor(Sink& next, const EncryptOptions& options) {
  return std::make_unique<AgeEncryptor>(next, options);
}

}  // namespace bakthat::crypto
