// age keys: parsing and formatting X25519 recipients ("age1...") and
// identities ("AGE-SECRET-KEY-1..."), SSH public keys as recipients and
// unencrypted OpenSSH private keys as identities (as age -R / -i take
// them), and reading identity files.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "crypto/primitives.hpp"

namespace bakthat::crypto::detail {

struct X25519Identity {
  Key32 scalar;
  Key32 public_key;
};

// The public key of an "age1..." recipient; throws Usage if it is not one.
Key32 parse_recipient(std::string_view text);
// The key of an "AGE-SECRET-KEY-1..." line; throws Usage if it is not one.
X25519Identity parse_identity(std::string_view text);
std::string format_recipient(Bytes public_key);
std::string format_identity(Bytes scalar);

// An SSH key as age's ssh-ed25519 / ssh-rsa stanzas name it: its wire
// encoding (RFC 4253) and tag, the base64 of that encoding's SHA-256's
// first 4 bytes.
struct SshEd25519Recipient {
  std::vector<std::uint8_t> wire;
  std::string tag;
  Key32 x25519;  // the Ed25519 key's Montgomery form
};
struct SshRsaRecipient {
  std::vector<std::uint8_t> wire;
  std::string tag;
  RsaKey key;
};
using Recipient = std::variant<Key32, SshEd25519Recipient, SshRsaRecipient>;

// An "age1..." recipient or an SSH public key line ("ssh-ed25519 AAAA...
// [comment]", "ssh-rsa AAAA... [comment]", RSA of 2048 bits or more);
// throws Usage (naming the text, which is public) otherwise.
Recipient parse_any_recipient(std::string_view text);

struct SshEd25519Identity {
  std::vector<std::uint8_t> wire;
  std::string tag;
  Key32 scalar;  // SHA-512(seed)[0..32], the X25519 secret
  Key32 x25519_public;
};
struct SshRsaIdentity {
  std::string tag;
  RsaKey key;
};

// Every key of the identity files read; scalars are wiped on destruction.
struct Identities {
  std::vector<X25519Identity> x25519;
  std::vector<SshEd25519Identity> ssh_ed25519;
  std::vector<SshRsaIdentity> ssh_rsa;
  Identities() = default;
  Identities(const Identities&) = delete;
  Identities& operator=(const Identities&) = delete;
  Identities(Identities&&) = default;
  ~Identities();
  bool empty() const { return x25519.empty() && ssh_ed25519.empty() && ssh_rsa.empty(); }
};

// Adds the keys of an identity file to `into`: either an age identity file
// (one key per line, blank lines and '#' comments ignored, CRLF tolerated)
// or an unencrypted OpenSSH private key (ed25519 or RSA); at most 16 MiB.
// Throws NotFound/Io when it cannot be read, Usage when it holds no key or
// a line is not one, Unsupported for a passphrase-protected SSH key. No
// error echoes the file's content.
void load_identity_file(const std::string& path, Identities& into);

}  // namespace bakthat::crypto::detail
