#include "crypto/keys.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include "bakthat/errors.hpp"
#include "crypto/bech32.hpp"
#include "crypto/crypto.hpp"

namespace bakthat::crypto::detail {
namespace {
constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kIdentityHrp = "age-secret-key-";
constexpr std::size_t kMaxKeyFile = 16 << 20;
constexpr std::string_view kOpensshBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kOpensshEnd = "-----END OPENSSH PRIVATE KEY-----";
constexpr int kMinRsaBits = 2048;  // as age

// The SSH wire format (RFC 4251 section 5): uint32 lengths before strings
// and mpints. nullopt past the end.
class WireReader {
 public:
  explicit WireReader(Bytes data) : data_(data) {}
  std::optional<std::uint32_t> u32() {
    if (data_.size() - pos_ < 4) return std::nullopt;
    std::uint32_t v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
                      (std::uint32_t{data_[pos_ + 2]} << 8) | data_[pos_ + 3];
    pos_ += 4;
    return v;
  }
  std::optional<Bytes> string() {
    auto n = u32();
    if (!n || data_.size() - pos_ < *n) return std::nullopt;
    Bytes out = data_.subspan(pos_, *n);
    pos_ += *n;
    return out;
  }
  std::optional<std::string_view> text() {
    auto s = string();
    if (!s) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(s->data()), s->size());
  }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  Bytes data_;
  std::size_t pos_ = 0;
};

std::string ssh_tag(Bytes wire) {
  Key32 h = sha256(wire);
  return base64_raw_encode(Bytes(h.data(), 4));
}

// An RSA public key of its wire encoding, large enough for age.
std::optional<RsaKey> rsa_public(WireReader& r) {
  auto e = r.string();
  auto n = r.string();
  if (!e || !n) return std::nullopt;
  RsaKey key = RsaKey::from_parts(*n, *e);
  if (key.bits() < kMinRsaBits)
    throw Error(ErrorKind::Usage, "an ssh-rsa key of " + std::to_string(key.bits()) + " bits is too small for age (" +
                                      std::to_string(kMinRsaBits) + " at least)");
  return key;
}

// An SSH public key's wire encoding, parsed as a recipient; nullopt when it
// is not one of ours.
std::optional<Recipient> ssh_recipient(Bytes wire) {
  WireReader r(wire);
  auto type = r.text();
  if (type == "ssh-ed25519") {
    auto pub = r.string();
    if (!pub || pub->size() != 32 || !r.at_end()) return std::nullopt;
    auto x = ed25519_to_x25519(*pub);
    if (!x) return std::nullopt;
    return SshEd25519Recipient{{wire.begin(), wire.end()}, ssh_tag(wire), *x};
  }
  if (type == "ssh-rsa") {
    auto key = rsa_public(r);
    if (!key || !r.at_end()) return std::nullopt;
    return SshRsaRecipient{{wire.begin(), wire.end()}, ssh_tag(wire), std::move(*key)};
  }
  return std::nullopt;
}

// The keys of an unencrypted OpenSSH private key file (PROTOCOL.key), the
// PEM text `pem`, into `into`. `where` names the file in errors, which never
// quote its content.
void load_openssh_identity(const std::string& pem, const std::string& where, Identities& into) {
  auto bad = [&](const char* why) { return Error(ErrorKind::Usage, where + " is not a valid OpenSSH private key (" + why + ")"); };
  std::size_t end = pem.find(kOpensshEnd);
  if (end == std::string::npos) throw bad("no end line");
  std::string b64;
  for (std::size_t i = pem.find(kOpensshBegin) + kOpensshBegin.size(); i < end; ++i)
    if (pem[i] != '\n' && pem[i] != '\r' && pem[i] != ' ' && pem[i] != '\t') b64.push_back(pem[i]);
  auto blob = base64_padded_decode(b64);
  wipe(b64.data(), b64.size());
  if (!blob) throw bad("bad base64");
  struct Wipe {
    std::vector<std::uint8_t>& v;
    ~Wipe() { wipe(v.data(), v.size()); }
  } wipe_blob{*blob};
  static constexpr char kMagic[] = "openssh-key-v1";  // with its NUL
  if (blob->size() < sizeof kMagic || std::memcmp(blob->data(), kMagic, sizeof kMagic) != 0)
    throw bad("no openssh-key-v1 magic");
  WireReader r(Bytes(*blob).subspan(sizeof kMagic));
  auto cipher = r.text();
  auto kdf = r.text();
  auto kdf_options = r.string();
  auto count = r.u32();
  if (!cipher || !kdf || !kdf_options || !count) throw bad("truncated header");
  if (*cipher != "none")
    throw Error(ErrorKind::Unsupported, where + " is a passphrase-protected SSH key; use an unprotected copy "
                                                "(ssh-keygen -p -N '' -f COPY) or an age identity");
  if (*count != 1) throw bad("not one key");
  auto public_wire = r.string();
  auto secret = r.string();
  if (!public_wire || !secret) throw bad("truncated");
  WireReader s(*secret);
  auto check1 = s.u32(), check2 = s.u32();
  if (!check1 || !check2 || *check1 != *check2) throw bad("check bytes differ");
  auto type = s.text();
  if (type == "ssh-ed25519") {
    auto pub = s.string();
    auto priv = s.string();  // seed || public key
    if (!pub || pub->size() != 32 || !priv || priv->size() != 64 ||
        std::memcmp(priv->data() + 32, pub->data(), 32) != 0)
      throw bad("bad ed25519 key");
    SshEd25519Identity id;
    id.wire.assign(public_wire->begin(), public_wire->end());
    id.tag = ssh_tag(*public_wire);
    auto digest = sha512(priv->subspan(0, 32));
    std::memcpy(id.scalar.data(), digest.data(), 32);
    wipe(digest.data(), digest.size());
    id.x25519_public = x25519_public(id.scalar);
    into.ssh_ed25519.push_back(std::move(id));
    return;
  }
  if (type == "ssh-rsa") {
    auto n = s.string(), e = s.string(), d = s.string(), iqmp = s.string(), p = s.string(), q = s.string();
    if (!n || !e || !d || !iqmp || !p || !q) throw bad("bad RSA key");
    into.ssh_rsa.push_back({ssh_tag(*public_wire), RsaKey::from_parts(*n, *e, *d, *p, *q, *iqmp)});
    return;
  }
  throw Error(ErrorKind::Unsupported, where + " holds an SSH key of a type age cannot use (only ssh-ed25519 and ssh-rsa)");
}

}  // namespace

Identities::~Identities() {
  for (auto& i : x25519) wipe(i.scalar.data(), i.scalar.size());
  for (auto& i : ssh_ed25519) wipe(i.scalar.data(), i.scalar.size());
}

Recipient parse_any_recipient(std::string_view text) {
  if (!text.starts_with("ssh-")) return parse_recipient(text);
  // "TYPE BASE64 [comment]", as in authorized_keys and .pub files.
  std::string_view rest = text;
  auto word = [&rest] {
    std::size_t start = rest.find_first_not_of(" \t");
    if (start == std::string_view::npos) return std::string_view();
    rest.remove_prefix(start);
    std::size_t stop = std::min(rest.find_first_of(" \t"), rest.size());
    std::string_view w = rest.substr(0, stop);
    rest.remove_prefix(stop);
    return w;
  };
  std::string_view type = word();
  auto wire = base64_padded_decode(word());
  if (type != "ssh-ed25519" && type != "ssh-rsa")
    throw Error(ErrorKind::Unsupported, "SSH keys of type " + std::string(type.substr(0, 32)) +
                                            " cannot be age recipients (only ssh-ed25519 and ssh-rsa)");
  if (wire) {
    WireReader r(*wire);
    if (r.text() == type)
      if (auto recipient = ssh_recipient(*wire)) return std::move(*recipient);
  }
  throw Error(ErrorKind::Usage, "invalid SSH public key '" + std::string(text.substr(0, 80)) + "'");
}

Key32 parse_recipient(std::string_view text) {
  auto d = bech32::decode(text);
  if (!d || d->hrp != kRecipientHrp || d->data.size() != 32) {
    // What stands in a recipient's place may be a secret (an identity
    // given by mistake): only the start of it is shown, and none of a key.
    if (text.starts_with("AGE-SECRET-KEY-"))
      throw Error(ErrorKind::Usage, "an age secret key was given as a recipient: give its public key (age-keygen -y)");
    throw Error(ErrorKind::Usage, "invalid age recipient '" + std::string(text.substr(0, 8)) +
                                      (text.size() > 8 ? "...'" : "'"));
  }
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

void load_identity_file(const std::string& path, Identities& into) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    int e = errno;
    throw Error(e == ENOENT ? ErrorKind::NotFound : ErrorKind::Io,
                "cannot read identity file '" + path + "': " + std::strerror(e));
  }
  if (f.peek() == '-') {
    // A PEM file: an OpenSSH private key, read whole.
    std::string pem(kMaxKeyFile + 1, '\0');
    f.read(pem.data(), static_cast<std::streamsize>(pem.size()));
    pem.resize(static_cast<std::size_t>(f.gcount()));
    struct Wipe {
      std::string& s;
      ~Wipe() { wipe(s.data(), s.size()); }
    } wipe_pem{pem};
    if (pem.size() > kMaxKeyFile) throw Error(ErrorKind::Usage, "identity file '" + path + "' is too large");
    if (pem.starts_with("-----BEGIN AGE"))
      throw Error(ErrorKind::Unsupported, "identity file '" + path + "' is itself age-encrypted; decrypt it first");
    if (!pem.starts_with(kOpensshBegin))
      throw Error(ErrorKind::Unsupported, "identity file '" + path + "' is a PEM file but not an OpenSSH private key "
                                          "(age X25519 keys and unencrypted OpenSSH ed25519 / RSA keys are supported)");
    load_openssh_identity(pem, "identity file '" + path + "'", into);
    return;
  }
  std::vector<X25519Identity>& out = into.x25519;
  const std::size_t before = out.size();
  std::string line;
  std::size_t total = 0, number = 0;
  while (std::getline(f, line)) {
    ++number;
    total += line.size() + 1;
    if (total > kMaxKeyFile) throw Error(ErrorKind::Usage, "identity file '" + path + "' is too large");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line.starts_with("age-encryption.org/"))
      throw Error(ErrorKind::Unsupported, "identity file '" + path + "' is itself age-encrypted; decrypt it first");
    if (line.starts_with("ssh-"))
      throw Error(ErrorKind::Usage, "identity file '" + path + "' holds an SSH public key; give its private key "
                                    "(the file without .pub)");
    try {
      out.push_back(parse_identity(line));
    } catch (const Error& e) {
      wipe(line.data(), line.size());
      throw Error(e.kind(), "identity file '" + path + "' line " + std::to_string(number) + ": " + e.what());
    }
    wipe(line.data(), line.size());
  }
  if (f.bad()) throw Error(ErrorKind::Io, "cannot read identity file '" + path + "'");
  if (out.size() == before) throw Error(ErrorKind::Usage, "identity file '" + path + "' holds no age identity");
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
