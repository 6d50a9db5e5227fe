#include "config/mapping_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "bakthat/errors.hpp"
#include "util/edit_distance.hpp"

namespace bakthat::config {
namespace {

// The known name a misspelling most likely meant ("s3-bucket",
// "S3_Bucket", "s3_buckt" -> "s3_bucket"; "after_backup" -> "on_backup"),
// or "".
std::string nearest(const std::string& name, const std::set<std::string>& known) {
  std::string canon = lower(name);
  std::replace(canon.begin(), canon.end(), '-', '_');
  std::replace(canon.begin(), canon.end(), ' ', '_');
  std::string best;
  std::size_t best_distance = 3;  // at most 2 edits
  for (const auto& k : known) {
    std::size_t d = util::edit_distance(canon, k);
    if (d < best_distance) best_distance = d, best = k;
  }
  if (!best.empty()) return best;
  // An event named with another prefix: after_backup, post_restore.
  for (const auto& k : known)
    if (k.rfind("on_", 0) == 0 && canon.size() > k.size() - 2 &&
        canon.compare(canon.size() - (k.size() - 2), k.size() - 2, k, 2) == 0)
      return k;
  return "";
}

}  // namespace

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<long long> parse_int(const std::string& s) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  long long v = 0;
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || ptr != e || b == e) return std::nullopt;
  return v;
}

std::optional<YAML::Node> MappingReader::node(const char* key) const {
  asked_.insert(key);
  YAML::Node n = map_[key];
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  return n;
}

std::optional<std::string> MappingReader::string(const char* key) const {
  auto n = node(key);
  if (!n) return std::nullopt;
  if (!n->IsScalar()) bad(key, "a string", *n);
  return n->Scalar();
}

std::optional<bool> MappingReader::boolean(const char* key) const {
  auto n = node(key);
  if (!n) return std::nullopt;
  bool v = false;
  if (!n->IsScalar() || !YAML::convert<bool>::decode(*n, v)) bad(key, "true or false", *n);
  return v;
}

std::optional<long long> MappingReader::integer(const char* key, long long min, long long max,
                                                const std::string& what) const {
  auto n = node(key);
  if (!n) return std::nullopt;
  return integer_of(key, *n, min, max, what);
}

long long MappingReader::integer_of(const std::string& key, const YAML::Node& n, long long min, long long max,
                                    const std::string& what) const {
  std::optional<long long> v;
  if (n.IsScalar()) v = parse_int(n.Scalar());
  if (!v || *v < min || *v > max) bad(key, what, n);
  return *v;
}

std::optional<std::string> MappingReader::choice(const char* key, const std::vector<std::string>& allowed) const {
  auto s = string(key);
  if (!s) return std::nullopt;
  for (const auto& a : allowed)
    if (lower(a) == lower(*s)) return a;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  bad(key, "one of " + list, *node(key));
}

std::optional<std::vector<std::string>> MappingReader::strings(const char* key) const {
  auto n = node(key);
  if (!n) return std::nullopt;
  std::vector<std::string> out;
  if (n->IsScalar()) {
    if (!n->Scalar().empty()) out.push_back(n->Scalar());
    return out;
  }
  if (!n->IsSequence()) bad(key, "a list of strings", *n);
  for (const auto& item : *n) {
    if (!item.IsScalar()) bad(key, "a list of strings", *n);
    out.push_back(item.Scalar());
  }
  return out;
}

std::optional<std::map<std::string, std::string>> MappingReader::string_map(const char* key) const {
  auto n = node(key);
  if (!n) return std::nullopt;
  if (!n->IsMap()) bad(key, "a mapping of names to strings", *n);
  std::map<std::string, std::string> out;
  for (const auto& kv : *n) {
    if (!kv.first.IsScalar()) bad(key, "a mapping of names to strings", *n);
    if (kv.second.IsNull()) continue;
    if (!kv.second.IsScalar()) bad(key + std::string(".") + kv.first.Scalar(), "a string", kv.second);
    out[kv.first.Scalar()] = kv.second.Scalar();
  }
  return out;
}

void MappingReader::bad(const std::string& key, const std::string& what, const YAML::Node& n) const {
  std::string got;
  if (n.IsScalar()) {
    got = "'" + n.Scalar() + "'";
  } else if (n.IsSequence()) {
    got = "a list";
  } else if (n.IsMap()) {
    got = "a mapping";
  } else {
    got = "nothing";
  }
  // A secret's value stays out of the message.
  if (key == "secret_key" || key == "access_key" || key == "session_token" || key == "password") got = "a non-string";
  throw Error(ErrorKind::Config,
              origin_ + ": " + section_ + ": key '" + key + "' must be " + what + " (got " + got + ")");
}

void MappingReader::warn_unknown_keys(const std::set<std::string>& also_known) const {
  std::set<std::string> known = also_known;
  known.insert(asked_.begin(), asked_.end());
  warn_unknown(map_, known, "key '", "");
}

void MappingReader::warn_unknown(const YAML::Node& map, const std::set<std::string>& known, const std::string& what,
                                 const std::string& prefix, const std::string& consequence) const {
  if (!map.IsMap()) return;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar() || known.count(kv.first.Scalar())) continue;
    // Only the key is named, never its value: values may be secrets.
    std::string text = origin_ + ": " + section_ + ": unknown " + what + prefix + kv.first.Scalar() + "'";
    std::string near = nearest(kv.first.Scalar(), known);
    if (!near.empty()) text += " (did you mean '" + prefix + near + "'?)";
    warnings_.push_back(text + "; " + consequence);
  }
}
}  // namespace bakthat::config
