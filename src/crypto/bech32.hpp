// BIP-173 Bech32 (checksum constant 1, no length limit), as age uses it for
// its keys: recipients "age1..." and identities "AGE-SECRET-KEY-1...".
// Written here because no Debian C/C++ library provides it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bakthat/stream.hpp"

namespace bakthat::crypto::bech32 {

struct Decoded {
  std::string hrp;  // lowercased
  std::vector<std::uint8_t> data;
};

// Lowercase encoding of `data` (8-bit bytes) under `hrp`.
std::string encode(std::string_view hrp, Bytes data);
// nullopt unless `text` is valid Bech32: one case throughout, characters
// 33..126, a separator, a valid checksum and zero padding bits.
std::optional<Decoded> decode(std::string_view text);

}  // namespace bakthat::crypto::bech32
