// load_profile: reads one profile of ~/.bakthat.yml, checks every known key
// and resolves the defaults and environment overrides.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "bakthat/config.hpp"
#include "bakthat/errors.hpp"
#include "bakthat/events.hpp"
#include "config/files.hpp"
#include "config/mapping_reader.hpp"

namespace fs = std::filesystem;

namespace bakthat {
namespace {

using config::lower;
using config::MappingReader;
using config::parse_int;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kMinPartSize = 5 * kMiB;           // S3's smallest part
constexpr std::uint64_t kMaxPartSize = 5ull * 1024 * kMiB;  // S3's largest part

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Keys the Python bakthat 0.6 read that bakthat does not use (its
// bakmanager.io client): a file it wrote may carry them, so they are not
// warned of.
const std::set<std::string> kPythonOnlyKeys = {"bakmanager_token", "bakmanager_api"};

int parse_week_day(const MappingReader& r, const YAML::Node& n) {
  static const char* names[] = {"monday", "tuesday", "wednesday", "thursday",
                                "friday", "saturday", "sunday"};
  const std::string what = "a day number 0..6 (Monday = 0) or a day name";
  if (n.IsScalar()) {
    if (auto v = parse_int(n.Scalar())) return static_cast<int>(r.integer_of("rotation.first_week_day", n, 0, 6, what));
    std::string s = lower(n.Scalar());
    for (int i = 0; i < 7; ++i)
      if (s == names[i] || (s.size() == 3 && std::string(names[i]).substr(0, 3) == s)) return i;
  }
  r.bad("rotation.first_week_day", what, n);
}

Rotation parse_rotation(const MappingReader& r) {
  Rotation rot;
  auto n = r.node("rotation");
  if (!n) return rot;
  if (!n->IsMap()) r.bad("rotation", "a mapping (days, weeks, months, first_week_day)", *n);
  const std::string count = "a whole number >= 0";
  const std::pair<const char*, int Rotation::*> fields[] = {
      {"years", &Rotation::years}, {"months", &Rotation::months},   {"weeks", &Rotation::weeks},
      {"days", &Rotation::days},   {"hours", &Rotation::hours},     {"minutes", &Rotation::minutes},
      {"seconds", &Rotation::seconds}};
  for (const auto& [name, member] : fields) {
    YAML::Node v = (*n)[name];
    if (!v.IsDefined() || v.IsNull()) continue;
    rot.*member = static_cast<int>(r.integer_of(std::string("rotation.") + name, v, 0, 1000000, count));
  }
  YAML::Node wd = (*n)["first_week_day"];
  if (wd.IsDefined() && !wd.IsNull()) {
    rot.first_week_day = parse_week_day(r, wd);
    if (!parse_int(wd.Scalar())) rot.first_week_day_name = wd.Scalar();
  }
  std::set<std::string> known{"first_week_day"};
  for (const auto& f : fields) known.insert(f.first);
  r.warn_unknown(*n, known, "key '", "rotation.");
  return rot;
}

std::uint64_t parse_part_size(const MappingReader& r) {
  auto n = r.node("part_size");
  if (!n) return 0;
  const std::string what = "a size of 5 MiB to 5 GiB (bytes, or with a K, M or G suffix)";
  if (!n->IsScalar()) r.bad("part_size", what, *n);
  // Sizes are written as bytes or "8M", "16MiB", "1G": binary units, as
  // every S3 tool means them.
  std::string s = n->Scalar();
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  std::string unit = lower(s.substr(digits));
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  std::uint64_t mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1024;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = kMiB;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1024 * kMiB;
  auto num = digits ? parse_int(s.substr(0, digits)) : std::nullopt;
  if (!mult || !num || *num > static_cast<long long>(kMaxPartSize)) r.bad("part_size", what, *n);
  std::uint64_t v = static_cast<std::uint64_t>(*num) * mult;
  if (v < kMinPartSize || v > kMaxPartSize) r.bad("part_size", what, *n);
  return v;
}

std::string absolute_path(const std::string& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(config::expand_user(p), ec);
  if (ec) return config::expand_user(p);
  // No trailing slash: the local store's path is hashed into backend_hash,
  // so "/srv/store/" and "/srv/store" must be the same store.
  std::string out = abs.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

void parse_keys(const MappingReader& r, Profile& p) {
  if (auto v = r.string("access_key")) p.access_key = *v;
  if (auto v = r.string("secret_key")) p.secret_key = *v;
  if (auto v = r.string("session_token")) p.session_token = *v;
  if (auto v = r.string("region_name")) p.region_name = *v;
  if (auto v = r.string("s3_bucket")) p.s3_bucket = *v;
  if (auto v = r.string("glacier_vault")) p.glacier_vault = *v;
  if (auto v = r.choice("default_destination", {"s3", "glacier", "swift", "local"}))
    p.default_destination = *v;
  if (auto v = r.boolean("compress")) p.compress = *v;
  p.rotation = parse_rotation(r);
  if (auto v = r.string("auth_url")) p.auth_url = *v;
  if (auto v = r.choice("auth_version", {"1", "2", "3", "1.0", "2.0", "3.0"}))
    p.auth_version = v->substr(0, 1);
  if (auto v = r.string("plugins_dir")) p.plugins_dir = *v;
  if (auto v = r.strings("plugins")) p.plugins = *v;
  if (auto v = r.string("s3_endpoint")) p.s3_endpoint = *v;
  if (auto v = r.string("glacier_endpoint")) p.glacier_endpoint = *v;
  if (auto v = r.choice("s3_addressing_style", {"path", "virtual", "auto"}))
    p.s3_addressing_style = *v;
  if (auto v = r.choice("s3_storage_class",
                        {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                         "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR",
                         "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE"}))
    p.s3_storage_class = *v;
  if (auto v = r.choice("glacier_storage_class", {"GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"}))
    p.glacier_storage_class = *v;
  if (auto v = r.choice("glacier_tier", {"Standard", "Bulk", "Expedited"})) p.glacier_tier = *v;
  if (auto v = r.string("local_path")) p.local_path = *v;
  if (auto v = r.choice("compression", {"gzip", "zstd"})) p.compression = *v;
  if (p.compression == "gzip") {
    if (auto v = r.integer("compression_level", 0, 12, "a gzip level 0..12")) p.compression_level = int(*v);
  } else {
    if (auto v = r.integer("compression_level", 1, 19, "a zstd level 1..19")) p.compression_level = int(*v);
  }
  if (auto v = r.integer("threads", 1, 1024, "a positive integer")) p.threads = int(*v);
  p.part_size = parse_part_size(r);
  if (auto v = r.integer("retry_time", 1, 86400, "seconds, 1..86400")) p.retry_time = int(*v);
  if (auto v = r.strings("recipients")) p.recipients = *v;
  if (auto v = r.string("identity_file")) p.identity_file = *v;
  if (auto v = r.string("database")) p.database = *v;
  if (auto v = r.string_map("hooks")) p.hooks = *v;
  if (auto v = r.integer("scrypt_work_factor", 10, 22, "an scrypt work factor 10..22"))
    p.scrypt_work_factor = int(*v);
  if (auto v = r.string("password_command")) p.password_command = *v;
  if (auto v = r.boolean("prompt")) p.prompt = *v;
  if (auto v = r.integer("incremental", 1, 1000000, "a number of levels after each full, 1 or more"))
    p.incremental = int(*v);
  r.warn_unknown_keys(kPythonOnlyKeys);
  if (auto hooks = r.node("hooks")) r.warn_unknown(*hooks, event_names(), "hook event '", "", "it never runs");
}

void resolve(Profile& p, const MappingReader& r) {
  if (p.access_key.empty() && p.secret_key.empty()) {
    p.access_key = env("AWS_ACCESS_KEY_ID");
    p.secret_key = env("AWS_SECRET_ACCESS_KEY");
    if (p.session_token.empty()) p.session_token = env("AWS_SESSION_TOKEN");
  }
  if (!r.node("region_name")) {
    if (auto v = env("AWS_REGION"); !v.empty()) p.region_name = v;
    else if (auto d = env("AWS_DEFAULT_REGION"); !d.empty()) p.region_name = d;
  }
  if (p.s3_endpoint.empty()) {
    p.s3_endpoint = env("AWS_ENDPOINT_URL_S3");
    if (p.s3_endpoint.empty()) p.s3_endpoint = env("AWS_ENDPOINT_URL");
  }
  if (p.glacier_endpoint.empty()) {
    p.glacier_endpoint = env("AWS_ENDPOINT_URL_GLACIER");
    if (p.glacier_endpoint.empty()) p.glacier_endpoint = env("AWS_ENDPOINT_URL");
  }
  if (p.default_destination.empty()) p.default_destination = p.s3_bucket.empty() ? "local" : "s3";

  if (p.local_path.empty()) {
    std::string xdg = env("XDG_DATA_HOME");
    // XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
    p.local_path = (!xdg.empty() && xdg[0] == '/') ? xdg + "/bakthat/store"
                                                   : config::home_dir() + "/.local/share/bakthat/store";
  }
  p.local_path = absolute_path(p.local_path);

  if (p.database.empty()) p.database = env("BAKTHAT_DB");
  if (p.database.empty()) p.database = config::home_dir() + "/.bakthat.sqlite";
  p.database = absolute_path(p.database);

  if (!p.identity_file.empty()) p.identity_file = absolute_path(p.identity_file);
  if (!p.plugins_dir.empty()) p.plugins_dir = absolute_path(p.plugins_dir);
  if (p.threads <= 0) p.threads = std::max(1u, std::thread::hardware_concurrency());
}

// A profile's secret_key or the sync block's password; the other
// credentials are useless without one of them.
bool holds_secrets(const YAML::Node& doc) {
  if (!doc.IsMap()) return false;
  for (const auto& kv : doc) {
    if (!kv.second.IsMap()) continue;
    YAML::Node secret = kv.second[kv.first.Scalar() == "sync" ? "password" : "secret_key"];
    if (secret.IsDefined() && secret.IsScalar() && !secret.Scalar().empty()) return true;
  }
  return false;
}

// The config file at `path`, absent only where it was not `named` (-c): a
// misspelt -c path would otherwise mean every default (a backup to the local
// store instead of the bucket) without a word.
std::optional<YAML::Node> read_config_file(const std::string& path, bool named, std::vector<std::string>& warnings) {
  std::optional<YAML::Node> doc = config::read_yaml_file(path);
  if (!doc && named) throw Error(ErrorKind::Config, "config file " + path + " not found");
  if (doc && holds_secrets(*doc)) {
    if (auto w = config::privacy_warning(path)) warnings.push_back(std::move(*w));
  }
  return doc;
}

}  // namespace

std::string config_path(const ConfigSource& source) {
  if (!source.path.empty()) return config::expand_user(source.path);
  return config::home_dir() + "/.bakthat.yml";
}

Profile load_profile(const ConfigSource& source) {
  const std::string name = source.profile.empty() ? "default" : source.profile;
  Profile p;
  std::string origin;
  YAML::Node map;
  if (source.conf_yaml) {
    origin = "conf";
    map = config::parse_yaml(*source.conf_yaml, origin);
  } else {
    origin = config_path(source);
    std::optional<YAML::Node> doc = read_config_file(origin, !source.path.empty(), p.warnings);
    if (doc && !doc->IsNull()) {
      if (!doc->IsMap())
        throw Error(ErrorKind::Config, origin + ": expected a mapping of profile names at the top level");
      map = (*doc)[name];
      // A file holding only a `sync:` block leaves the implicit default
      // profile at its defaults; a file with profiles must have the one
      // used (a misspelt `default:` must not silently mean the local store).
      bool only_sync = source.profile.empty();
      for (const auto& kv : *doc) only_sync = only_sync && kv.first.Scalar() == "sync";
      if (!map.IsDefined() && !only_sync)
        throw Error(ErrorKind::Config, "profile '" + name + "' not found in " + origin);
    } else if (name != "default") {
      throw Error(ErrorKind::Config, "profile '" + name + "' not found in " + origin);
    }
  }
  if (map.IsDefined() && !map.IsNull() && !map.IsMap())
    throw Error(ErrorKind::Config, origin + ": profile '" + name + "' must be a mapping of keys");
  if (!map.IsDefined() || map.IsNull()) map = YAML::Node(YAML::NodeType::Map);

  p.name = name;
  MappingReader reader(map, origin, "profile '" + name + "'", p.warnings);
  parse_keys(reader, p);
  resolve(p, reader);
  return p;
}

std::optional<SyncSettings> load_sync_settings(const ConfigSource& source) {
  const std::string origin = config_path(source);
  SyncSettings s;
  std::optional<YAML::Node> doc = read_config_file(origin, !source.path.empty(), s.warnings);
  if (!doc || !doc->IsMap()) return std::nullopt;
  YAML::Node block = (*doc)["sync"];
  if (!block.IsDefined() || block.IsNull()) return std::nullopt;
  if (!block.IsMap())
    throw Error(ErrorKind::Config, origin + ": 'sync' must be a mapping (url, username, password, auto)");
  MappingReader r(block, origin, "the 'sync' block", s.warnings);
  if (auto v = r.string("url")) s.url = *v;
  if (auto v = r.string("username")) s.username = *v;
  if (auto v = r.string("password")) s.password = *v;
  if (auto v = r.boolean("auto")) s.auto_sync = *v;
  r.warn_unknown_keys();
  while (s.url.ends_with('/')) s.url.pop_back();
  // No url: the destination carries the catalog (sync.hpp).
  if (s.url.empty() && (!s.username.empty() || !s.password.empty()))
    throw Error(ErrorKind::Config, origin + ": the 'sync' block has no url for its username and password");
  if (s.url.empty()) return s;
  if (!s.url.starts_with("http://") && !s.url.starts_with("https://"))
    throw Error(ErrorKind::Config, origin + ": the 'sync' block's url must start with http:// or https://");
  // Credentials inside the URL would end up in messages.
  const std::size_t host = s.url.find("//") + 2;
  const std::size_t path = s.url.find('/', host);
  if (s.url.substr(host, path == std::string::npos ? path : path - host).find('@') != std::string::npos)
    throw Error(ErrorKind::Config, origin + ": the 'sync' block's url holds credentials: give them as username and password");
  return s;
}

}  // namespace bakthat
