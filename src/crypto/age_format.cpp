#include "crypto/age_format.hpp"

#include <cstring>

#include "bakthat/errors.hpp"

namespace bakthat::crypto::detail {
namespace {

constexpr std::size_t kColumns = 64;
constexpr std::size_t kBytesPerLine = 48;
// No legitimate header comes near these; they bound memory on hostile input.
constexpr std::size_t kMaxLine = 64 * 1024;
constexpr std::size_t kMaxHeader = 16 * 1024 * 1024;

[[noreturn]] void malformed(std::uint64_t at, const std::string& what) {
  throw Error(ErrorKind::Corrupt, "archive header is malformed at byte " + std::to_string(at) + ": " + what);
}

std::vector<std::string> split_spaces(std::string_view line) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto sp = line.find(' ', start);
    parts.emplace_back(line.substr(start, sp == std::string_view::npos ? std::string_view::npos : sp - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  return parts;
}

bool valid_arg(const std::string& a) {
  if (a.empty()) return false;
  for (unsigned char c : a)
    if (c < 33 || c > 126) return false;
  return true;
}

}  // namespace

std::string serialize_stanza(const Stanza& s) {
  std::string out = "-> " + s.type;
  for (const auto& a : s.args) out += " " + a;
  out += "\n";
  std::string b64 = base64_raw_encode(s.body);
  for (std::size_t i = 0; i < b64.size(); i += kColumns) out += b64.substr(i, kColumns) + "\n";
  if (b64.size() % kColumns == 0) out += "\n";
  return out;
}

std::string header_text(const Header& h) { return h.mac_input + " " + base64_raw_encode(h.mac) + "\n"; }

void stream_nonce(std::uint64_t counter, bool last, std::uint8_t out[12]) {
  // Bytes 0..10 are a big-endian 88-bit counter; ours fits in the low 8.
  for (int i = 0; i < 3; ++i) out[i] = 0;
  for (int i = 0; i < 8; ++i) out[10 - i] = static_cast<std::uint8_t>(counter >> (8 * i));
  out[11] = last ? 1 : 0;
}

Header parse_header(ByteReader& in) {
  Header h;
  std::string line;
  std::uint64_t at = in.offset();
  if (!in.read_line(line, kMaxLine, "header")) malformed(at, "the file is empty");
  if (line != kAgeIntro) {
    if (line == "age-encryption.org/v1\r\n") malformed(at, "the intro line ends in CRLF (mangled by a text transfer?)");
    malformed(at, "not an age v1 file (unexpected first line)");
  }
  h.mac_input = line;
  for (;;) {
    at = in.offset();
    if (!in.read_line(line, kMaxLine, "header")) malformed(at, "the header ends before its MAC line");
    if (h.mac_input.size() + line.size() > kMaxHeader) malformed(at, "the header is too large");
    if (line.back() != '\n') malformed(at, "the header ends in the middle of a line");
    std::string_view text(line.data(), line.size() - 1);
    if (line.starts_with("---")) {
      auto parts = split_spaces(text);
      if (parts[0] != "---" || parts.size() != 2) malformed(at, "bad MAC line");
      auto mac = base64_raw_decode(parts[1]);
      if (!mac || mac->size() != 32) malformed(at, "bad MAC line");
      std::copy(mac->begin(), mac->end(), h.mac.begin());
      h.mac_input += "---";
      return h;
    }
    auto parts = split_spaces(text);
    if (parts[0] != "->") malformed(at, "expected a stanza or the MAC line");
    if (parts.size() < 2) malformed(at, "stanza without a type");
    for (std::size_t i = 1; i < parts.size(); ++i)
      if (!valid_arg(parts[i])) malformed(at, "invalid stanza argument");
    Stanza s;
    s.type = parts[1];
    s.args.assign(parts.begin() + 2, parts.end());
    h.mac_input += line;
    for (;;) {
      at = in.offset();
      if (!in.read_line(line, kMaxLine, "header")) malformed(at, "the header ends inside a stanza");
      if (line.back() != '\n') malformed(at, "the header ends inside a stanza");
      if (h.mac_input.size() + line.size() > kMaxHeader) malformed(at, "the header is too large");
      std::string_view body_line(line.data(), line.size() - 1);
      auto bytes = body_line.size() <= kColumns ? base64_raw_decode(body_line) : std::nullopt;
      if (!bytes) {
        if (line.starts_with("-> ") || line.starts_with("---"))
          malformed(at, "stanza ended without a short line (an age beta file?)");
        malformed(at, "invalid stanza body line");
      }
      h.mac_input += line;
      s.body.insert(s.body.end(), bytes->begin(), bytes->end());
      if (bytes->size() < kBytesPerLine) break;
    }
    h.stanzas.push_back(std::move(s));
  }
}

std::optional<Key32> ssh_ed25519_wrap_key(const Key32& dh, Bytes wire, Bytes share, Bytes x25519_public) {
  static const std::uint8_t kNoInput[1] = {};
  Key32 tweak = hkdf_sha256(Bytes(kNoInput, 0), wire, kSshEd25519Label);
  auto shared = x25519(tweak, dh);
  wipe(tweak.data(), tweak.size());
  if (!shared) return std::nullopt;
  std::uint8_t salt[64];
  std::memcpy(salt, share.data(), 32);
  std::memcpy(salt + 32, x25519_public.data(), 32);
  Key32 wrap = hkdf_sha256(*shared, Bytes(salt, sizeof salt), kSshEd25519Label);
  wipe(shared->data(), shared->size());
  return wrap;
}

}  // namespace bakthat::crypto::detail
