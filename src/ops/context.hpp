// What every operation needs, resolved once from its Options: the profile,
// the destination, the catalog, the store (opened on first use, so that
// catalog-only commands work without credentials) and the reporter.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bakthat/bakthat.hpp"

namespace bakthat::ops {

class Context {
 public:
  explicit Context(const Options& options);

  const Profile& profile() const { return profile_; }
  const ConfigSource& config_source() const { return config_; }
  // Overrides the storage class objects of the s3 destination are created
  // with (before storage()); any other destination keeps its own, with a
  // warning.
  void set_storage_class(const std::string& storage_class);
  const std::string& destination() const { return destination_; }
  Catalog& catalog();
  Storage& storage();
  Reporter& reporter() const { return *reporter_; }
  // The password the caller gave, else the BAKTHAT_PASSWORD environment
  // variable, else none. An empty one means: no encryption.
  const std::optional<std::string>& password() const { return password_; }
  // What this store's new rows carry: hex SHA-512 of the access key it is
  // reached with + bucket/vault (local: the store's path).
  const std::string& backend_hash() const { return lookup_hashes_.front(); }
  // Catalog::latest and Catalog::matches within this destination and store:
  // rows under backend_hash() and under the hashes earlier versions wrote
  // for it (storage::lookup_hashes).
  std::optional<BackupRecord> latest(const std::string& name);
  std::vector<BackupRecord> matches(const std::string& name);

 private:
  ConfigSource config_;
  Profile profile_;
  std::string destination_;
  std::vector<std::string> lookup_hashes_;  // storage::lookup_hashes: never empty
  Reporter* reporter_;
  std::optional<std::string> password_;
  std::unique_ptr<Catalog> catalog_;
  std::shared_ptr<Storage> storage_;  // Options::storage, or made on first use
};

// The machine's host name: the catalog's "client" and the sync server's
// bakthat-client.
std::string host_name();

// Called by the operations that changed the catalog: syncs it when the
// config's `sync:` block says `auto: true`. A failure is only a warning: the
// operation itself is done.
void sync_if_auto(Context& ctx);

}  // namespace bakthat::ops
