// Envelope detection and the decryptor chain (peek -> [armor] -> age, or
// beefish).
#include "crypto/crypto.hpp"

#include <iterator>
#include <optional>
#include <variant>

#include "bakthat/errors.hpp"
#include "crypto/age_format.hpp"
#include "crypto/keys.hpp"
#include "crypto/stages.hpp"
#include "util/peek_source.hpp"

namespace bakthat::crypto {
namespace {

constexpr std::size_t kMaxLeadingWhitespace = 1024;

std::string_view text_of(Bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// Owns every stage between the caller's source and the plaintext.
class Decryptor : public Source {
 public:
  explicit Decryptor(Source& in) : peek_(in) {}
  std::size_t read(MutableBytes out) override { return top_->read(out); }

  util::PeekSource peek_;
  std::unique_ptr<Source> armor_;
  std::unique_ptr<Source> top_;
};

}  // namespace

Envelope detect(Bytes head) {
  std::string_view s = text_of(head);
  // Any "age-encryption.org/" intro is age, so that other versions and
  // CRLF-mangled files get a precise error rather than "not encrypted".
  if (s.starts_with("age-encryption.org/")) return Envelope::Age;
  std::size_t i = 0;
  while (i < s.size() && i <= kMaxLeadingWhitespace && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
    ++i;
  // Any PEM begin line goes to the armor reader, which names what is wrong.
  if (s.substr(i).starts_with("-----")) return Envelope::AgeArmored;
  return Envelope::Plain;
}

std::string encryption_scheme(const EncryptOptions& options) {
  if (options.recipients.empty()) return "age-scrypt";
  static constexpr const char* kByKind[] = {"age-x25519", "age-ssh-ed25519", "age-ssh-rsa"};
  static_assert(std::size(kByKind) == std::variant_size_v<detail::Recipient>);
  std::optional<std::size_t> kind;
  for (const auto& r : options.recipients) {
    const std::size_t k = detail::parse_any_recipient(r).index();
    if (kind && *kind != k) return "age-recipients";
    kind = k;
  }
  return kByKind[*kind];
}

bool scheme_takes_identities(std::string_view scheme) { return scheme.starts_with("age-") && scheme != "age-scrypt"; }

std::unique_ptr<Source> make_decryptor(Source& in, const DecryptOptions& options) {
  auto d = std::make_unique<Decryptor>(in);
  Bytes head = d->peek_.peek(kMaxLeadingWhitespace + detail::kArmorBegin.size() + 1);
  if (head.empty()) throw Error(ErrorKind::Corrupt, "the encrypted object is empty");
  switch (detect(head)) {
    case Envelope::Age:
      d->top_ = detail::make_age_reader(d->peek_, options);
      break;
    case Envelope::AgeArmored:
      d->armor_ = detail::make_armor_reader(d->peek_);
      d->top_ = detail::make_age_reader(*d->armor_, options);
      break;
    default:
      if (!options.password)
        throw Error(ErrorKind::Crypto, "archive is not age-encrypted; reading a bakthat 0.6 archive needs its password");
      d->top_ = detail::make_beefish_reader(d->peek_, *options.password, options.beefish_mode);
  }
  return d;
}

}  // namespace bakthat::crypto
