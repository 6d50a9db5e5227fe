// age X25519 keys: parsing and formatting recipients ("age1...") and
// identities ("AGE-SECRET-KEY-1..."), and reading identity files.
#pragma once

#include <string>
#include <string_view>
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

// Every identity of an age identity file: one key per line, blank lines and
// '#' comments ignored, CRLF tolerated, at most 16 MiB. Throws NotFound/Io
// when it cannot be read, Usage when a line is not a key.
std::vector<X25519Identity> load_identity_file(const std::string& path);

}  // namespace bakthat::crypto::detail
