// Encryption stages: age v1 (scrypt passphrase or X25519 recipients) for
// writing; age v1 (binary or armored) and the Python bakthat's beefish format
// (Blowfish ECB or CBC) for reading.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bakthat/stream.hpp"

namespace bakthat::crypto {

// One age header (file key, stanzas, MAC) for several files: a backup and
// its index. Each file has a payload nonce of its own, so their payload
// keys differ, yet one unwrap of the header (one scrypt for a password)
// opens them all (DecryptOptions::file_keys).
class SharedHeader;

struct EncryptOptions {
  std::optional<std::string> password;   // scrypt stanza; exclusive with recipients
  std::vector<std::string> recipients;   // "age1...", or SSH public key lines (ssh-ed25519, ssh-rsa)
  int scrypt_work_factor = 18;           // log2(N)
  int threads = 1;                       // workers sealing chunks (at most 4 are used)
  // When set, the header every file written with these options starts with
  // (make_shared_header); else each file draws a file key of its own.
  std::shared_ptr<const SharedHeader> shared_header;
};

// A header for `options` (password or recipients; its other fields are not
// read), a password's key derived on a thread of its own meanwhile. Throws
// Usage for bad options or a bad recipient.
std::shared_ptr<const SharedHeader> make_shared_header(const EncryptOptions& options);

// A sink that writes an age v1 file of everything written into `next`, in
// 64 KiB STREAM chunks sealed on `threads` workers (the caller's thread
// only copies and writes on), and finishes it. Throws Usage for bad options
// or a bad recipient at once. A password's key derivation runs on a thread
// of its own meanwhile: up to 48 MiB of sealed payload (kHeldWhileDeriving,
// age_format.hpp) is held until the header can be written before it.
std::unique_ptr<Sink> make_encryptor(Sink& next, const EncryptOptions& options);

// What the catalog's "encryption" says of a file make_encryptor writes with
// `options` (docs/formats.md): "age-scrypt" for a password; for recipients
// "age-x25519", "age-ssh-ed25519" or "age-ssh-rsa" when all are of that
// kind, else "age-recipients". Throws Usage for a bad recipient.
std::string encryption_scheme(const EncryptOptions& options);
// Whether a file of that scheme is read with identities, not a password:
// every scheme but "age-scrypt" (rows of earlier versions say "age-x25519"
// of SSH keys too).
bool scheme_takes_identities(std::string_view scheme);

// Which beefish variant to read: Auto picks the one that decrypts the first
// block to gzip magic (every bakthat 0.6 .tgz), else the one whose first
// 64 KiB decrypt to clearly structured bytes while the other's look random
// (files stored with `compress: false`, KeyValue values without gzip);
// forcing one reads any payload.
enum class BeefishMode { Auto, Ecb, Cbc };

// File keys already unwrapped in this process, by the exact header they
// were unwrapped from (its MAC checked): a second file with that header (a
// backup's index, a backup opened again by ranges) costs no second unwrap.
// Wiped when the last holder lets go.
class FileKeyCache;
std::shared_ptr<FileKeyCache> make_file_key_cache();

struct DecryptOptions {
  std::optional<std::string> password;
  std::vector<std::string> identity_files;  // files of AGE-SECRET-KEY-1... lines, or OpenSSH private keys
  int max_scrypt_work_factor = 22;
  BeefishMode beefish_mode = BeefishMode::Auto;
  int threads = 1;  // workers opening age chunks (at most 4 are used)
  // Shared by the copies of these options; none: every header is unwrapped.
  std::shared_ptr<FileKeyCache> file_keys;
};

enum class Envelope { Plain, Age, AgeArmored, Beefish };

// How `head` (the first bytes of an object, at least 64 when available) is
// wrapped. Anything not age is reported as Plain: beefish has no magic and
// is recognised only by decrypting (see make_decryptor).
Envelope detect(Bytes head);

// A source of the plaintext of `in`, which must be encrypted: age (binary or
// armored), else beefish (the variant chosen as BeefishMode::Auto says). Wrong password / identity throws
// ErrorKind::Crypto ("wrong password or not encrypted for this identity");
// any damage throws ErrorKind::Corrupt naming the byte offset (in the
// object; for armored input, in its decoded bytes). No plaintext of a chunk
// is returned before that chunk authenticated.
std::unique_ptr<Source> make_decryptor(Source& in, const DecryptOptions& options);

// The header of the age file `head` starts with (binary age), unwrapped
// with `options` (Crypto for a wrong key, Corrupt for damage): a file
// written with it as EncryptOptions::shared_header opens with what opens
// that one (a backup's index made after the backup).
std::shared_ptr<const SharedHeader> read_shared_header(Source& head, const DecryptOptions& options);

// An age v1 file (binary, not armored) read by ranges (docs/formats.md
// §1.4): chunk i of its payload lies at payload_start() + i * kSealedChunk
// in the object and opens alone (its nonce is the counter i and whether it
// is the last one), so a reader fetches and decrypts only the chunks that
// hold the plaintext it needs.
class AgeRanges {
 public:
  static constexpr std::uint64_t kChunk = 64 * 1024;
  static constexpr std::uint64_t kSealedChunk = kChunk + 16;

  // Reads the header and the payload nonce from `head` (the object from its
  // first byte; it may hold more) and unwraps the file key, as
  // make_decryptor does (Crypto for a wrong key, Corrupt for damage).
  // `payload_size`, the plaintext's length, says which chunk is the last.
  AgeRanges(Source& head, const DecryptOptions& options, std::uint64_t payload_size);
  ~AgeRanges();
  AgeRanges(const AgeRanges&) = delete;
  AgeRanges& operator=(const AgeRanges&) = delete;

  std::uint64_t payload_start() const { return payload_start_; }
  // The object's size the payload size implies.
  std::uint64_t object_size() const;

  // The chunks holding plaintext bytes [begin, end): bytes [offset,
  // offset + length) of the object, whose plaintext starts at plain_begin.
  struct Span {
    std::uint64_t offset = 0, length = 0, plain_begin = 0;
  };
  Span span(std::uint64_t begin, std::uint64_t end) const;

  // The plaintext of the span's chunks, read from `sealed` (the object's
  // bytes of that span). No byte of a chunk is returned before its tag
  // verified; a damaged chunk, a chunk missing or the last chunk not
  // marked as such throws Corrupt naming the byte in the object.
  std::unique_ptr<Source> open(Source& sealed, const Span& span) const;

 private:
  struct PayloadKey;
  std::unique_ptr<PayloadKey> key_;
  std::uint64_t payload_start_ = 0, payload_size_ = 0;
  int threads_ = 1;
};

// A fresh age X25519 key: identity "AGE-SECRET-KEY-1..." (secret) and its
// recipient "age1...".
struct KeyPair {
  std::string identity;
  std::string recipient;
};
KeyPair generate_key_pair();
// The recipient of an identity; throws Usage if it is not one.
std::string recipient_of(const std::string& identity);

}  // namespace bakthat::crypto
