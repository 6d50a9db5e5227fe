// Bech32 and the age keys built on it (recipients from the command line and
// config, identity lines). Also checks that whatever bech32::decode accepts
// re-encodes to the same text (lowercased): decoding is canonical.
#include <cctype>
#include <cstdlib>
#include <exception>
#include <string>

#include "crypto/bech32.hpp"
#include "crypto/keys.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bakthat::crypto;
  std::string_view text = bakthat::fuzz::text_of(data, size);
  if (auto d = bech32::decode(text)) {
    std::string lower(text);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (bech32::encode(d->hrp, d->data) != lower) std::abort();
  }
  try {
    detail::parse_recipient(text);
  } catch (const std::exception&) {
  }
  try {
    detail::parse_identity(text);
  } catch (const std::exception&) {
  }
  return 0;
}
