#include "crypto/bech32.hpp"

#include <cctype>

namespace bakthat::crypto::bech32 {
namespace {

constexpr char kCharset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

std::uint32_t polymod(const std::vector<std::uint8_t>& values) {
  static constexpr std::uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  std::uint32_t chk = 1;
  for (auto v : values) {
    std::uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i)
      if ((top >> i) & 1) chk ^= kGen[i];
  }
  return chk;
}

std::vector<std::uint8_t> hrp_expand(std::string_view hrp) {
  std::vector<std::uint8_t> out;
  for (char c : hrp) out.push_back(static_cast<std::uint8_t>(c) >> 5);
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<std::uint8_t>(c) & 31);
  return out;
}

// Regroups bits; when decoding (pad == false) refuses leftover padding of
// 5 bits or more and non-zero padding bits.
std::optional<std::vector<std::uint8_t>> convert_bits(Bytes in, int from, int to, bool pad) {
  std::vector<std::uint8_t> out;
  std::uint32_t acc = 0;
  int bits = 0;
  const std::uint32_t maxv = (1u << to) - 1;
  for (auto v : in) {
    if (v >> from) return std::nullopt;
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & maxv));
    }
  }
  if (pad) {
    if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (to - bits)) & maxv));
  } else if (bits >= from || ((acc << (to - bits)) & maxv) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string encode(std::string_view hrp_in, Bytes data) {
  std::string hrp;
  for (char c : hrp_in) hrp.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  auto values = *convert_bits(data, 8, 5, true);
  auto check_in = hrp_expand(hrp);
  check_in.insert(check_in.end(), values.begin(), values.end());
  check_in.insert(check_in.end(), 6, 0);
  std::uint32_t mod = polymod(check_in) ^ 1;
  std::string out = hrp + "1";
  for (auto v : values) out.push_back(kCharset[v]);
  for (int i = 0; i < 6; ++i) out.push_back(kCharset[(mod >> (5 * (5 - i))) & 31]);
  return out;
}

std::optional<Decoded> decode(std::string_view text) {
  if (text.size() < 8) return std::nullopt;
  bool lower = false, upper = false;
  std::string s;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126) return std::nullopt;
    if (std::islower(u)) lower = true;
    if (std::isupper(u)) upper = true;
    s.push_back(static_cast<char>(std::tolower(u)));
  }
  if (lower && upper) return std::nullopt;
  auto sep = s.rfind('1');
  if (sep == std::string::npos || sep < 1 || sep + 7 > s.size()) return std::nullopt;
  Decoded out;
  out.hrp = s.substr(0, sep);
  std::vector<std::uint8_t> values;
  for (std::size_t i = sep + 1; i < s.size(); ++i) {
    const char* p = std::char_traits<char>::find(kCharset, 32, s[i]);
    if (!p) return std::nullopt;
    values.push_back(static_cast<std::uint8_t>(p - kCharset));
  }
  auto check_in = hrp_expand(out.hrp);
  check_in.insert(check_in.end(), values.begin(), values.end());
  if (polymod(check_in) != 1) return std::nullopt;
  values.resize(values.size() - 6);
  auto data = convert_bits(values, 5, 8, false);
  if (!data) return std::nullopt;
  out.data = std::move(*data);
  return out;
}

}  // namespace bakthat::crypto::bech32
