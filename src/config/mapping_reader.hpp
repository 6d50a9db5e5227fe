// Typed reading of one YAML mapping of the configuration (a profile, or the
// top-level `sync:` block), with the messages a user can act on: every error
// names the file, the mapping and the key (never a secret's value), and keys
// nothing asked for are warned of with the known name they most likely meant.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace bakthat::config {

// `s` in lower case (ASCII).
std::string lower(std::string s);

// A decimal integer with an optional '+', the whole of `s`; nullopt otherwise.
std::optional<long long> parse_int(const std::string& s);

// Contract: each getter returns nullopt when the key is missing or null
// (`key:` with no value, which the Python tool read as None), the value when
// it has the asked-for type, and otherwise throws Error(Config) "ORIGIN:
// SECTION: key 'K' must be WHAT (got ...)". Every key asked for, present or
// not, counts as known for warn_unknown_keys(). Warnings are appended to the
// vector given, which must outlive the reader.
class MappingReader {
 public:
  // `origin` names the file (or "conf"); `section` the mapping in messages:
  // "profile 'default'".
  MappingReader(const YAML::Node& map, std::string origin, std::string section, std::vector<std::string>& warnings)
      : map_(map), origin_(std::move(origin)), section_(std::move(section)), warnings_(warnings) {}

  std::optional<YAML::Node> node(const char* key) const;
  std::optional<std::string> string(const char* key) const;
  std::optional<bool> boolean(const char* key) const;
  // An integer within [min, max]; `what` describes it in the error.
  std::optional<long long> integer(const char* key, long long min, long long max, const std::string& what) const;
  // The same for a node read otherwise (inside a nested mapping): never
  // nullopt, so it throws for a missing value too.
  long long integer_of(const std::string& key, const YAML::Node& n, long long min, long long max,
                       const std::string& what) const;
  // One of `allowed` (compared case-insensitively); returns the allowed
  // spelling.
  std::optional<std::string> choice(const char* key, const std::vector<std::string>& allowed) const;
  // A list of strings; a single string is a list of one.
  std::optional<std::vector<std::string>> strings(const char* key) const;
  // A mapping of names to strings; null values are left out.
  std::optional<std::map<std::string, std::string>> string_map(const char* key) const;

  // Throws the error above for `key`, whose node `n` is not `what`.
  [[noreturn]] void bad(const std::string& key, const std::string& what, const YAML::Node& n) const;

  const std::string& origin() const { return origin_; }

  // One warning for each key of the mapping that nothing asked for and
  // that is not in `also_known` (a misspelt key would otherwise be ignored
  // without a word). Call it after every key was read.
  void warn_unknown_keys(const std::set<std::string>& also_known = {}) const;

  // The same for the names of one nested mapping (`rotation`, `hooks`):
  // "unknown WHAT PREFIX NAME' (did you mean ...?); CONSEQUENCE".
  void warn_unknown(const YAML::Node& map, const std::set<std::string>& known, const std::string& what,
                    const std::string& prefix, const std::string& consequence = "it is ignored") const;

 private:
  YAML::Node map_;
  std::string origin_, section_;
  mutable std::set<std::string> asked_;
  std::vector<std::string>& warnings_;
};

}  // namespace bakthat::config
