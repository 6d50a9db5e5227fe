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
  // The caller's token (Options::cancel), or nullptr.
  const CancelToken* cancel() const { return cancel_; }
  // The password the caller gave, else the BAKTHAT_PASSWORD environment
  // variable, else the first line the profile's password_command prints
  // (run once, when first asked), else none. An empty one means: no
  // encryption.
  const std::optional<std::string>& password() const;
  // What this store's new rows carry: hex SHA-512 of the access key it is
  // reached with + bucket/vault (local: the store's path).
  const std::string& backend_hash() const { return lookup_hashes_.front(); }
  const std::vector<std::string>& lookup_hashes() const { return lookup_hashes_; }
  // Catalog::latest and Catalog::matches within this destination and store:
  // rows under backend_hash() and under the hashes earlier versions wrote
  // for it (storage::lookup_hashes). latest() of a name the catalog does not
  // know first takes in the destination's rows and objects of that name
  // (sync_with_destination), saying so in one line: a new machine restores
  // with nothing but the config.
  std::optional<BackupRecord> latest(const std::string& name);
  std::vector<BackupRecord> matches(const std::string& name);
  // The destination's row folder (storage::make_row_storage), opened on
  // first use; nullptr when the destination keeps no rows.
  Storage* rows();
  // The destination's index folder (storage::make_index_storage), opened
  // on first use; nullptr where rows() is.
  Storage* indexes();
  // matches(name) for a command that deletes: NAME that is only the prefix
  // of more than one backup name is refused (Usage, naming them), as restic
  // refuses an ambiguous ID prefix; none at all is no_match(name).
  std::vector<BackupRecord> matches_to_delete(const std::string& name);
  // The NotFound error for a NAME that matched no backup here: it names NAME,
  // the destination, the backup names that contain it (the Python tool's
  // retention matched *NAME*), and `bakthat show`.
  Error no_match(const std::string& name);

 private:
  ConfigSource config_;
  Profile profile_;
  std::string destination_;
  std::vector<std::string> lookup_hashes_;  // storage::lookup_hashes: never empty
  Reporter* reporter_;
  const CancelToken* cancel_;
  mutable std::optional<std::string> password_;
  mutable bool password_command_ran_ = false;
  std::unique_ptr<Catalog> catalog_;
  std::shared_ptr<Storage> storage_;  // Options::storage, or made on first use
  std::unique_ptr<Storage> rows_;
  bool rows_opened_ = false;
  std::unique_ptr<Storage> indexes_;
  bool indexes_opened_ = false;
};

// The machine's host name: the catalog's "client" and the sync server's
// bakthat-client.
std::string host_name();

// Called by the operations that changed the catalog: syncs it when the
// config's `sync:` block says `auto: true` (with the sync server when the
// block names one, else with the destination). A failure is only a
// warning: the operation itself is done.
void sync_if_auto(Context& ctx);

// The destination's own catalog (docs/destination-catalog.md). Each writes
// one entry to the destination's row log; a failure is a warning (the next
// sync sends what is missing). A destination without rows (Glacier vault
// without s3_bucket) is skipped.
//   note_pending: before a backup's object is created; returns the entry's
//     name ("" when none was written), for drop_entry;
//   note_row: once the object is complete, before the local catalog row;
//     returns the entry's name as note_pending does;
//   drop_entry: a backup that failed (not killed) takes its note or row
//     back, best effort;
//   note_deletion: the row's tombstone, before the object is removed;
//     false when it could not be written;
//   note_checksum: a row without a sha256 (adopted from its object, or
//     the Python tool's) whose object was just read through and found
//     sound (verify, restore): the digest of what was read goes into the
//     catalog and to the destination, so that every later read checks it.
std::string note_pending(Context& ctx, const BackupRecord& row);
std::string note_row(Context& ctx, const BackupRecord& row);
void drop_entry(Context& ctx, const std::string& entry) noexcept;
void note_checksum(Context& ctx, BackupRecord row, const std::string& sha256);
// A row whose metadata changed (an index made later), newer than the one
// it replaces, here and at the destination.
void note_update(Context& ctx, BackupRecord row);
bool note_deletion(Context& ctx, const BackupRecord& row);

// Deletes one backup in the order that never leaves a row without its
// object, killed or failed anywhere: the tombstone (note_deletion), the
// row here marked deleted (`record` says so), then the object, which the
// next sync removes when this did not (the tombstone says to). An object
// already gone is a warning. Throws the catalog's error (nothing removed),
// or the store's (the row stays deleted; the message says sync finishes it).
void delete_backup(Context& ctx, BackupRecord& record);

// Reconciles the catalog with the destination's rows: takes in the rows and
// tombstones it lacks, sends the rows the destination lacks, adopts the
// objects a killed backup left (its pending entry) and, on the first sync
// of this catalog or for `adopt_prefix`, every row-less object whose name
// reads as NAME.YYYYMMDDHHMMSS[.ext][.enc]; packs the log when it grew.
// Throws Config when the destination keeps no rows.
struct DestinationScan {
  bool all = false;                          // adopt every row-less object
  std::optional<std::string> adopt_prefix;   // adopt those whose name starts so
};
SyncReport sync_with_destination(Context& ctx, const DestinationScan& scan = {});
// The `config` table's key of what this catalog has read of the
// destination's rows (reset_sync forgets it).
std::string destination_state_key(Context& ctx);

}  // namespace bakthat::ops
