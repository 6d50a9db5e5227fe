// KeyValue: a small key-value store of JSON values on any destination, as
// the Python bakthat's helper.KeyValue. Each value is a stream backup whose
// catalog filename is the key (stored name "{key}.{date}.gz", or
// "{key}.{date}" without compression, plus ".enc" when encrypted) with the
// metadata "KeyValue": true and "is_gzipped", so `bakthat show` lists keys
// and `bakthat restore KEY --stdout` prints a value.
//
//   bakthat::Options o;
//   o.config.conf_yaml = nlohmann::json{{"default_destination", "local"}}.dump();  // JSON is YAML
//   bakthat::KeyValue kv(o);
//   kv.set_key("mykey", {{"some", "data"}});
//   nlohmann::json v = kv.get_key("mykey");
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bakthat/bakthat.hpp"

namespace bakthat {

class KeyValue {
 public:
  // `options` apply to every call (configuration, destination, default
  // password, reporter).
  explicit KeyValue(Options options = {});

  struct SetOptions {
    bool compress = true;                 // gzip (the profile's compression codec)
    std::optional<std::string> password;  // unset: the KeyValue's; "": not encrypted
    std::vector<std::string> tags;
  };
  // Stores `value` under `key` (no '/'), then deletes the key's older
  // values, so the key has one value once this returns. Values up to 64 MiB
  // of JSON text.
  BackupRecord set_key(const std::string& key, const nlohmann::json& value, const SetOptions& options);
  BackupRecord set_key(const std::string& key, const nlohmann::json& value) { return set_key(key, value, SetOptions{}); }

  struct GetOptions {
    std::optional<std::string> password;          // unset: the KeyValue's
    std::optional<nlohmann::json> default_value;  // returned when the key is missing
  };
  // The key's value. A missing key gives default_value, or throws NotFound
  // without one. Throws Crypto for a wrong or missing password, Corrupt when
  // the stored bytes are not JSON.
  nlohmann::json get_key(const std::string& key, const GetOptions& options);
  nlohmann::json get_key(const std::string& key) { return get_key(key, GetOptions{}); }

  // A URL allowing `method` on the key's stored object for expires_seconds,
  // without credentials (S3). Throws NotFound for a missing key and
  // Unsupported for destinations without URLs (local). The URL gives the
  // stored bytes: gzip-compressed and encrypted as the key was set.
  std::string get_key_url(const std::string& key, std::int64_t expires_seconds, const std::string& method = "GET");

  // Deletes every value of `key` from the store and marks them deleted.
  // Returns false when the key did not exist.
  bool delete_key(const std::string& key);

  // The key's current catalog record, if any.
  std::optional<BackupRecord> find(const std::string& key);

 private:
  // The key's live records on this destination and store, newest first.
  std::vector<BackupRecord> records(const std::string& key);

  Options options_;
};

}  // namespace bakthat
