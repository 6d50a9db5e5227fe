// Configuration: the profiles of ~/.bakthat.yml (the Python bakthat's file,
// same keys), environment overrides and built-in defaults.
//
// A Profile is fully resolved: every field holds the value that applies,
// whether it came from the file, the environment or a default. Parsing checks
// every key; a bad value is a Config error naming the key and the file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace bakthat {

struct Rotation {
  int years = 0, months = 0, weeks = 0, days = 0;
  int hours = 0, minutes = 0, seconds = 0;
  int first_week_day = 5;  // Python calendar numbering: Monday = 0, Saturday = 5
  // The day's name when one was given ("saturday", "sat"): written back as
  // such, so that a rewrite keeps the form the user chose. Empty: a number.
  std::string first_week_day_name;
  bool configured() const {
    return years || months || weeks || days || hours || minutes || seconds;
  }
};

struct Profile {
  std::string name = "default";
  std::string access_key, secret_key, session_token;
  std::string region_name = "us-east-1";
  std::string s3_bucket;
  std::string glacier_vault;
  std::string default_destination;  // resolved: "s3", "glacier", "swift" or "local"
  bool compress = true;
  Rotation rotation;
  std::string auth_url;
  std::string auth_version;  // "1", "2" or "3"; empty when unused
  std::string plugins_dir;
  std::vector<std::string> plugins;
  std::string s3_endpoint;
  std::string glacier_endpoint;
  std::string s3_addressing_style = "auto";  // "path", "virtual" or "auto"
  std::string s3_storage_class = "STANDARD";
  std::string glacier_storage_class = "GLACIER";
  std::string glacier_tier = "Standard";
  std::string local_path;           // resolved absolute path
  std::string compression = "gzip"; // "gzip" or "zstd"
  std::optional<int> compression_level;
  int threads = 0;                  // resolved: >= 1
  std::uint64_t part_size = 0;      // 0: chosen automatically
  // Seconds a failing request of a network destination is retried without
  // progress (net::retry::Policy::max_stall).
  int retry_time = 900;
  std::vector<std::string> recipients;
  std::string identity_file;
  std::string database;             // resolved catalog path
  std::map<std::string, std::string> hooks;
  int scrypt_work_factor = 18;
  // A shell command whose first output line is the password, run when one
  // is needed and none was given (restic's --password-command).
  std::string password_command;
  // `prompt: no`: never ask for a password, as `--prompt no` (cron jobs).
  bool prompt = true;
  // `incremental: N`: every backup of a directory is an incremental level
  // (BackupOptions::incremental), and a new full starts after N levels.
  // 0: backups are full unless asked otherwise, chains without a limit.
  int incremental = 0;
  // What the reader noticed that is not an error: a misspelt key or hook
  // event, a file holding secrets that others can read. Names keys and
  // files, never values. The operations report them through their Reporter.
  std::vector<std::string> warnings;
};

// Where the configuration comes from. An explicit `conf` mapping (the
// library's "conf" argument) replaces the file's profile entirely.
struct ConfigSource {
  std::string path;     // empty: ~/.bakthat.yml
  std::string profile;  // empty: "default"
  std::optional<std::string> conf_yaml;  // a profile's keys as YAML text
};

// Reads and resolves one profile. A missing ~/.bakthat.yml is not an error
// (every default applies), nor is a file that holds only a `sync:` block; a
// missing file named by `path`, and a profile other than "default" missing
// from the file (or with no file), are.
Profile load_profile(const ConfigSource& source);

// The config file path that load_profile reads for this source.
std::string config_path(const ConfigSource& source);

// The top-level `sync:` block (the Python bakthat's): the sync server that
// catalogs of several machines meet at (sync.hpp).
struct SyncSettings {
  std::string url;                 // base URL, no trailing slash; empty: sync through the destination
  std::string username, password;  // HTTP basic auth; the password is a secret
  bool auto_sync = false;          // `auto`: sync after each change to the catalog
  std::vector<std::string> warnings;  // as Profile::warnings
};

// The `sync:` block of the config file this source names (also when the
// source carries its own `conf`), or nullopt when there is none. A block
// without a url (such as `sync: {auto: true}`) means the destination; one
// with a username or password but no url, or with a bad value, or a
// missing file named by `path`, is a Config error.
std::optional<SyncSettings> load_sync_settings(const ConfigSource& source);

// A value written by save_profile_keys: monostate removes the key; maps are
// `hooks` (strings) and `rotation` (numbers, and a day name).
using ConfigValue = std::variant<std::monostate, std::string, bool, std::int64_t,
                                 std::vector<std::string>, std::map<std::string, std::string>,
                                 std::map<std::string, std::variant<std::int64_t, std::string>>>;

// Writes (creates or replaces) one profile's keys in the YAML file, keeping
// the other profiles and keys (not comments), atomically, with mode 0600.
// Strings that YAML would read as something else are quoted.
void save_profile_keys(const std::string& path, const std::string& profile,
                       const std::map<std::string, ConfigValue>& values);
// The same with text values: those of the boolean and integer keys
// (compress, threads, ...) are written as such when they parse, the others as
// strings.
void save_profile_keys(const std::string& path, const std::string& profile,
                       const std::map<std::string, std::string>& scalars);
void save_rotation(const std::string& path, const std::string& profile, const Rotation& rotation);
// One profile's scalar keys as the file at `path` writes them (no defaults,
// no environment): what configure offers to keep. Empty when the file or the
// profile does not exist.
std::map<std::string, std::string> profile_as_written(const std::string& path, const std::string& profile);

}  // namespace bakthat
