#include "crypto/keys.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "bakthat/errors.hpp"
#include "crypto/bech32.hpp"
#include "crypto/crypto.hpp"

namespace bakthat::crypto::detail {
namespace {
constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kIdentityHrp = "age-secret-key-";
constexpr std::size_t kMaxKeyFile = 16 << 20;
}  // namespace

Key32 parse_recipient(std::string_view text) {
  auto d = bech32::decode(text);
  if (!d || d->hrp != kRecipientHrp || d->data.size() != 32)
    throw Error(ErrorKind::Usage, "invalid age recipient '" + std::string(text) + "'");
  Key32 out;
  std::memcpy(out.data(), d->data.data(), 32);
  return out;
}

X25519Identity parse_identity(std::string_view text) {
  if (text.starts_with("AGE-SECRET-KEY-PQ-1"))
    throw Error(ErrorKind::Unsupported, "post-quantum age identities (AGE-SECRET-KEY-PQ-1...) are not supported");
  auto d = bech32::decode(text);
  // Never echo a secret key, even a malformed one, beyond its prefix.
  if (!d || d->hrp != kIdentityHrp || d->data.size() != 32)
    throw Error(ErrorKind::Usage, "invalid age identity (" + std::string(text.substr(0, 15)) + "...)");
  X25519Identity id;
  std::memcpy(id.scalar.data(), d->data.data(), 32);
  wipe(d->data.data(), d->data.size());
  id.public_key = x25519_public(id.scalar);
  return id;
}

std::string format_recipient(Bytes public_key) { return bech32::encode(kRecipientHrp, public_key); }

std::string format_identity(Bytes scalar) {
  std::string s = bech32::encode(kIdentityHrp, scalar);
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::vector<X25519Identity> load_identity_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    int e = errno;
    throw Error(e == ENOENT ? ErrorKind::NotFound : ErrorKind::Io,
                "cannot read identity file '" + path + "': " + std::strerror(e));
  }
  std::vector<X25519Identity> out;
  std::string line;
  std::size_t total = 0, number = 0;
  while (std::getline(f, line)) {
    ++number;
    total += line.size() + 1;
    if (total > kMaxKeyFile) throw Error(ErrorKind::Usage, "identity file '" + path + "' is too large");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line.starts_with("age-encryption.org/") || line.starts_with("-----BEGIN AGE"))
      throw Error(ErrorKind::Unsupported, "identity file '" + path + "' is itself age-encrypted; decrypt it first");
    if (line.starts_with("-----BEGIN") || line.starts_with("ssh-"))
      throw Error(ErrorKind::Unsupported, "identity file '" + path + "' holds an SSH key; only age X25519 keys are supported");
    try {
      out.push_back(parse_identity(line));
    } catch (const Error& e) {
      wipe(line.data(), line.size());
      throw Error(e.kind(), "identity file '" + path + "' line " + std::to_string(number) + ": " + e.what());
    }
    wipe(line.data(), line.size());
  }
  if (f.bad()) throw Error(ErrorKind::Io, "cannot read identity file '" + path + "'");
  if (out.empty()) throw Error(ErrorKind::Usage, "identity file '" + path + "' holds no age identity");
  return out;
}

}  // namespace bakthat::crypto::detail

namespace bakthat::crypto {

KeyPair generate_key_pair() {
  detail::Key32 scalar;
  detail::random_bytes(scalar);
  KeyPair kp{detail::format_identity(scalar), detail::format_recipient(detail::x25519_public(scalar))};
  detail::wipe(scalar.data(), scalar.size());
  return kp;
}

std::string recipient_of(const std::string& identity) {
  auto id = detail::parse_identity(identity);
  detail::wipe(id.scalar.data(), id.scalar.size());
  return detail::format_recipient(id.public_key);
}

}  // namespace bakthat::crypto
