// age v1 reader (docs/formats.md §1.2-1.7): strict header, file key unwrapping
// with age 1.1.1's rules, header MAC, then STREAM chunks opened in parallel
// and released only once their tag verified.
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "bakthat/errors.hpp"
#include "crypto/age_format.hpp"
#include "crypto/keys.hpp"
#include "crypto/stages.hpp"
#include "util/bytes.hpp"
#include "util/ordered_pool.hpp"

namespace bakthat::crypto {

class FileKeyCache {
 public:
  FileKeyCache() = default;
  FileKeyCache(const FileKeyCache&) = delete;
  FileKeyCache& operator=(const FileKeyCache&) = delete;
  ~FileKeyCache() {
    for (auto& [header, key] : keys_) detail::wipe(key.data(), key.size());
  }
  std::optional<detail::FileKey> find(const std::string& header) {
    std::lock_guard lock(mutex_);
    auto it = keys_.find(header);
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }
  void add(const std::string& header, const detail::FileKey& key) {
    std::lock_guard lock(mutex_);
    keys_.emplace(header, key);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, detail::FileKey> keys_;
};


namespace detail {
namespace {

const char* const kWrongKey = "wrong password or not encrypted for this identity";

[[noreturn]] void malformed(const std::string& what) {
  throw Error(ErrorKind::Corrupt, "archive header is malformed: " + what);
}

[[noreturn]] void damaged(std::uint64_t at, const char* why) {
  throw Error(ErrorKind::Corrupt, "archive is damaged at byte " + std::to_string(at) + " (" + why + ")");
}

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

// The same for an ssh-ed25519 stanza and an SSH ed25519 identity; a stanza
// whose tag names another key is skipped, as age does.
std::optional<FileKey> unwrap_ssh_ed25519(const Stanza& s, const SshEd25519Identity& id) {
  if (s.type != "ssh-ed25519") return std::nullopt;
  if (s.args.size() != 2) malformed("ssh-ed25519 stanza needs 2 arguments");
  auto share = base64_raw_decode(s.args[1]);
  if (!share || share->size() != 32) malformed("ssh-ed25519 share is not 32 bytes of canonical base64");
  if (s.body.size() != kFileKey + ChaChaPoly::kTag) malformed("ssh-ed25519 stanza body is not 32 bytes");
  if (s.args[0] != id.tag) return std::nullopt;
  auto dh = x25519(id.scalar, *share);
  if (!dh) malformed("ssh-ed25519 share is a low-order point");
  auto wrap = ssh_ed25519_wrap_key(*dh, id.wire, *share, id.x25519_public);
  wipe(dh->data(), dh->size());
  if (!wrap) malformed("ssh-ed25519 share is a low-order point");
  auto key = unwrap_body(*wrap, s.body, "ssh-ed25519");
  wipe(wrap->data(), wrap->size());
  return key;
}

// The same for an ssh-rsa stanza (RSA-OAEP-SHA-256) and an SSH RSA identity.
std::optional<FileKey> unwrap_ssh_rsa(const Stanza& s, const SshRsaIdentity& id) {
  if (s.type != "ssh-rsa") return std::nullopt;
  if (s.args.size() != 1) malformed("ssh-rsa stanza needs 1 argument");
  if (s.args[0] != id.tag) return std::nullopt;
  auto plain = id.key.oaep_decrypt(s.body, kSshRsaLabel);
  if (!plain || plain->size() != kFileKey) {
    if (plain) wipe(plain->data(), plain->size());
    return std::nullopt;
  }
  FileKey key;
  std::memcpy(key.data(), plain->data(), kFileKey);
  wipe(plain->data(), plain->size());
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
  Identities ids;
  for (const auto& f : options.identity_files) load_identity_file(f, ids);
  for (const auto& s : h.stanzas) {
    for (const auto& id : ids.x25519)
      if (auto key = unwrap_x25519(s, id)) return *key;
    for (const auto& id : ids.ssh_ed25519)
      if (auto key = unwrap_ssh_ed25519(s, id)) return *key;
    for (const auto& id : ids.ssh_rsa)
      if (auto key = unwrap_ssh_rsa(s, id)) return *key;
  }
  throw Error(ErrorKind::Crypto, kWrongKey);
}

// Reads the header and the payload nonce from `in`; returns the payload
// key. The file key comes from `options.file_keys` when this very header
// was opened before (its MAC is checked again all the same).
// Reads the header from `in` and returns its file key, its MAC checked.
// The key comes from `options.file_keys` when this very header was opened
// before (its MAC is checked again all the same).
FileKey open_header(ByteReader& in, const DecryptOptions& options, Header& h) {
  h = parse_header(in);
  const std::string whole = header_text(h);
  std::optional<FileKey> cached = options.file_keys ? options.file_keys->find(whole) : std::nullopt;
  FileKey file_key = cached ? *cached : unwrap(h, options);
  if (cached) wipe(cached->data(), cached->size());
  Key32 mac_key = hkdf_sha256(file_key, {}, "header");
  Key32 mac = hmac_sha256(mac_key, util::as_bytes(h.mac_input));
  wipe(mac_key.data(), mac_key.size());
  if (CRYPTO_memcmp(mac.data(), h.mac.data(), mac.size()) != 0) {
    wipe(file_key.data(), file_key.size());
    damaged(0, "header MAC mismatch");
  }
  if (options.file_keys && !cached) options.file_keys->add(whole, file_key);
  return file_key;
}

// Reads the header and the payload nonce from `in`; returns the payload
// key.
Key32 read_payload_key(ByteReader& in, const DecryptOptions& options) {
  Header h;
  FileKey file_key = open_header(in, options, h);
  std::uint8_t nonce[kPayloadNonce];
  std::uint64_t at = in.offset();
  if (in.read(MutableBytes(nonce, sizeof nonce)) != sizeof nonce) {
    wipe(file_key.data(), file_key.size());
    damaged(at, "truncated before the payload");
  }
  Key32 payload_key = hkdf_sha256(file_key, nonce, "payload");
  wipe(file_key.data(), file_key.size());
  return payload_key;
}


constexpr std::size_t kJobSealed = kJobChunks * kSealedChunk;

struct OpenJob {
  std::vector<std::uint8_t> sealed, plain;
  std::uint64_t first_counter = 0;
  std::uint64_t offset = 0;  // of sealed[0] in the object
  bool at_end = false;       // the object ends right after `sealed`
  std::size_t plain_len = 0; // plaintext of the chunks that opened, in order
  std::exception_ptr error;  // the damage found after them, if any
};

// Opens the chunks of one job in order, stopping at the first damaged one.
// Which chunk may be the last is known from where the object ends, so the
// rules are those of a sequential reader: a full chunk that is not the end
// must open as non-final (opening as final means data follows the final
// chunk), the end must be a final chunk, and an empty final chunk is only
// allowed as the whole payload.
void open_job(ChaChaPoly& aead, OpenJob& job) {
  job.plain.resize(job.sealed.size());
  job.plain_len = 0;
  job.error = nullptr;
  if (job.sealed.empty()) {  // only ever the first job: nothing after the nonce
    try {
      damaged(job.offset, "truncated: the final chunk is missing");
    } catch (...) {
      job.error = std::current_exception();
    }
    return;
  }
  std::uint8_t nonce[12];
  for (std::size_t start = 0, i = 0; start < job.sealed.size(); start += kSealedChunk, ++i) {
    const std::size_t n = std::min(kSealedChunk, job.sealed.size() - start);
    const std::uint64_t counter = job.first_counter + i, at = job.offset + start;
    const bool ends_object = job.at_end && start + n == job.sealed.size();
    Bytes ct(job.sealed.data() + start, n);
    std::uint8_t* out = job.plain.data() + job.plain_len;
    try {
      if (n < kSealedChunk) {  // short: only the object's end can be
        if (n < ChaChaPoly::kTag) damaged(at, "truncated chunk");
        if (n == ChaChaPoly::kTag && counter != 0) damaged(at, "empty final chunk");
        stream_nonce(counter, true, nonce);
        if (!aead.open(nonce, ct, out)) damaged(at, "chunk authentication failed");
      } else {
        stream_nonce(counter, false, nonce);
        if (aead.open(nonce, ct, out)) {
          if (ends_object) {
            job.plain_len += n - ChaChaPoly::kTag;
            damaged(at + n, "truncated: the final chunk is missing");
          }
        } else {
          stream_nonce(counter, true, nonce);
          if (!aead.open(nonce, ct, out)) damaged(at, "chunk authentication failed");
          if (!ends_object) damaged(at + n, "data after the final chunk");
        }
      }
    } catch (...) {
      job.error = std::current_exception();
      return;
    }
    job.plain_len += n - ChaChaPoly::kTag;
  }
}

// Reads the sealed payload in jobs of kJobChunks chunks, opened on worker
// threads (each with its own cipher context) and handed back in order; a
// job's plaintext is released only after its chunks authenticated, and the
// first damage is reported once the plaintext before it was read. Reading
// a whole file, one byte is read past each job to learn whether the object
// ends there; reading a range of chunks (AgeRanges), the number of the
// last chunk says it.
class AgeReader : public Source {
 public:
  AgeReader(Source& in, const DecryptOptions& options)
      : in_(in),
        payload_key_(read_payload_key(in_, options)),
        pool_(chunk_workers(options.threads), job_slots(chunk_workers(options.threads)),
              [this] { return std::make_unique<ChaChaPoly>(payload_key_.get()); },
              [](std::unique_ptr<ChaChaPoly>& aead, OpenJob& job) { open_job(*aead, job); }) {}

  // The chunks from `first_counter` on, `length` sealed bytes read from
  // `in`, which start at byte `base` of the object; `last_counter` is the
  // payload's last chunk.
  struct Range {
    std::uint64_t first_counter, base, length, last_counter;
  };
  AgeReader(Source& in, Key32 payload_key, int threads, const Range& range)
      : in_(in),
        payload_key_(std::move(payload_key)),
        pool_(chunk_workers(threads), job_slots(chunk_workers(threads)),
              [this] { return std::make_unique<ChaChaPoly>(payload_key_.get()); },
              [](std::unique_ptr<ChaChaPoly>& aead, OpenJob& job) { open_job(*aead, job); }),
        counter_(range.first_counter),
        base_(range.base),
        left_(range.length),
        last_counter_(range.last_counter) {}

  std::size_t read(MutableBytes out) override {
    if (out.empty()) return 0;
    for (;;) {
      if (current_) {
        OpenJob& job = pool_.front();
        if (pos_ < job.plain_len) {
          std::size_t n = std::min(out.size(), job.plain_len - pos_);
          std::memcpy(out.data(), job.plain.data() + pos_, n);
          pos_ += n;
          return n;
        }
        if (job.error) std::rethrow_exception(job.error);
        if (job.at_end) return 0;
        pool_.pop_front();
        current_ = false;
      }
      schedule();
      if (pool_.empty()) return 0;
      pool_.front();  // waits for the oldest job
      current_ = true;
      pos_ = 0;
    }
  }

 private:
  // Reads ahead into free job slots until the object's end.
  void schedule() {
    while (!ended_ && !pool_.full()) {
      if (left_) {
        schedule_range();
        continue;
      }
      OpenJob& job = pool_.back();
      job.sealed.resize(kJobSealed);
      job.offset = in_.offset() - (carry_ ? 1 : 0);
      std::size_t n = 0;
      if (carry_) job.sealed[n++] = *carry_;
      n += in_.read(MutableBytes(job.sealed.data() + n, kJobSealed - n));
      job.sealed.resize(n);
      carry_.reset();
      std::uint8_t next;
      if (n == kJobSealed && in_.read(MutableBytes(&next, 1)) == 1) carry_ = next;
      job.at_end = !carry_;
      ended_ = job.at_end;
      job.first_counter = counter_;
      counter_ += (n + kSealedChunk - 1) / kSealedChunk;
      pool_.submit();
    }
  }

  // The next job of a range: the chunk that ends the range is the object's
  // last one only when its number is last_counter_; a range cut short (an
  // object shorter than its index says) ends in a chunk that cannot open.
  void schedule_range() {
    OpenJob& job = pool_.back();
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kJobSealed, *left_));
    job.sealed.resize(want);
    job.offset = base_ + in_.offset();
    const std::size_t n = in_.read(MutableBytes(job.sealed.data(), want));
    job.sealed.resize(n);
    *left_ -= n;
    job.first_counter = counter_;
    const std::uint64_t chunks = (n + kSealedChunk - 1) / kSealedChunk;
    counter_ += chunks;
    job.at_end = chunks > 0 && counter_ - 1 >= last_counter_;
    ended_ = *left_ == 0 || n < want;
    if (n < want && !job.at_end) {
      // The object ends before the range: the chunk there is missing.
      job.sealed.clear();
      job.at_end = false;
    }
    pool_.submit();
  }

  ByteReader in_;
  WipedKey32 payload_key_;  // read by workers as they start; outlives pool_
  util::OrderedPool<OpenJob, std::unique_ptr<ChaChaPoly>> pool_;
  std::optional<std::uint8_t> carry_;  // the byte read past the last job
  std::uint64_t counter_ = 0;
  std::uint64_t base_ = 0;                 // the object's offset of in_'s first byte
  std::optional<std::uint64_t> left_;      // a range: sealed bytes still to read
  std::uint64_t last_counter_ = 0;         // a range: the payload's last chunk
  bool ended_ = false;
  bool current_ = false;  // pool_.front() is the job being read
  std::size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<Source> make_age_reader(Source& in, const DecryptOptions& options) {
  return std::make_unique<AgeReader>(in, options);
}

}  // namespace detail

std::shared_ptr<FileKeyCache> make_file_key_cache() { return std::make_shared<FileKeyCache>(); }

std::shared_ptr<const SharedHeader> read_shared_header(Source& head, const DecryptOptions& options) {
  detail::ByteReader in(head);
  detail::Header h;
  auto shared = std::make_shared<SharedHeader>();
  shared->file_key = detail::open_header(in, options, h);
  std::promise<std::string> text;
  text.set_value(detail::header_text(h));
  shared->header = text.get_future().share();
  return shared;
}


struct AgeRanges::PayloadKey {
  explicit PayloadKey(detail::Key32&& k) : key(std::move(k)) {}
  detail::WipedKey32 key;
};

AgeRanges::AgeRanges(Source& head, const DecryptOptions& options, std::uint64_t payload_size)
    : payload_size_(payload_size), threads_(options.threads) {
  detail::ByteReader in(head);
  key_ = std::make_unique<PayloadKey>(detail::read_payload_key(in, options));
  payload_start_ = in.offset();
}

AgeRanges::~AgeRanges() = default;

namespace {
// Chunks of a payload of `size` bytes: an empty one is one empty chunk.
std::uint64_t chunk_count(std::uint64_t size) {
  return size == 0 ? 1 : (size + AgeRanges::kChunk - 1) / AgeRanges::kChunk;
}
}  // namespace

std::uint64_t AgeRanges::object_size() const {
  return payload_start_ + payload_size_ + chunk_count(payload_size_) * detail::ChaChaPoly::kTag;
}

AgeRanges::Span AgeRanges::span(std::uint64_t begin, std::uint64_t end) const {
  const std::uint64_t last = chunk_count(payload_size_) - 1;
  const std::uint64_t first = std::min(begin / kChunk, last);
  const std::uint64_t through = end > begin ? std::min((end - 1) / kChunk, last) : first;
  Span s;
  s.offset = payload_start_ + first * kSealedChunk;
  s.length = std::min(object_size(), payload_start_ + (through + 1) * kSealedChunk) - s.offset;
  s.plain_begin = first * kChunk;
  return s;
}

std::unique_ptr<Source> AgeRanges::open(Source& sealed, const Span& span) const {
  detail::Key32 key = key_->key.get();
  const detail::AgeReader::Range range{(span.offset - payload_start_) / kSealedChunk, span.offset, span.length,
                                       chunk_count(payload_size_) - 1};
  return std::make_unique<detail::AgeReader>(sealed, std::move(key), threads_, range);
}

}  // namespace bakthat::crypto
