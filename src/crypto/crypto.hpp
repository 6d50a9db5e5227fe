// Encryption stages: age v1 (scrypt passphrase or X25519 recipients) for
// writing; age v1 (binary or armored) and the Python bakthat's beefish format
// (Blowfish ECB or CBC) for reading.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bakthat/stream.hpp"

namespace bakthat::crypto {

struct EncryptOptions {
  std::optional<std::string> password;   // scrypt stanza; exclusive with recipients
  std::vector<std::string> recipients;   // "age1...", or SSH public key lines (ssh-ed25519, ssh-rsa)
  int scrypt_work_factor = 18;           // log2(N)
  int threads = 1;                       // workers sealing chunks (at most 4 are used)
};

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

struct DecryptOptions {
  std::optional<std::string> password;
  std::vector<std::string> identity_files;  // files of AGE-SECRET-KEY-1... lines, or OpenSSH private keys
  int max_scrypt_work_factor = 22;
  BeefishMode beefish_mode = BeefishMode::Auto;
  int threads = 1;  // workers opening age chunks (at most 4 are used)
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
