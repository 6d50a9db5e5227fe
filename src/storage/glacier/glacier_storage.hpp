// The `glacier` destination with a vault: archives in one Amazon Glacier
// vault through the vault API (docs/formats.md §4).
//
// Glacier names archives by ids it chooses, and its own inventory lags by a
// day, so an InventoryStore (inventory_store.hpp; the command line's is in
// the catalog file) maps names to archive ids and is what list() and stat()
// read, and keeps the retrieval job of each name between runs. Reading takes two steps: prepare_read() starts a
// retrieval job (hours on AWS) and reports its progress; open() streams the
// finished job's output, checked against Glacier's tree hash when given.
//
// Writers buffer one part (memory: one part size). An archive no larger
// than a part goes up in a single UploadArchive; a larger one as a multipart
// upload, parts one after the other, completed in finish() and aborted when
// the writer dies unfinished. When the profile names an S3 bucket, the
// inventory is copied to its key `bakthat_glacier_inventory` after every
// change (best effort: a failure is only a warning).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "bakthat/config.hpp"
#include "bakthat/storage.hpp"
#include "storage/glacier/client.hpp"
#include "storage/glacier/inventory_store.hpp"
#include "storage/glacier/tree_hash.hpp"
#include "storage/warn.hpp"

namespace bakthat::storage::glacier {

inline constexpr const char* kInventoryKey = "bakthat_glacier_inventory";

struct Settings {
  ClientConfig client;
  std::shared_ptr<InventoryStore> inventory;  // required
  std::string tier = "Standard";   // Expedited, Standard or Bulk
  std::uint64_t part_size = 0;     // 0: automatic (32 MiB)
  std::uint64_t read_buffer = 16 * kMiB;  // bytes of job output read ahead
  // Where the inventory copy goes; empty profile.s3_bucket: nowhere.
  std::shared_ptr<const Profile> inventory_profile;
  // Told when the inventory copy fails (the operation itself succeeded).
  Warn warn;
};

class GlacierStorage : public Storage {
 public:
  explicit GlacierStorage(Settings settings);
  ~GlacierStorage() override;

  std::string kind() const override { return "glacier"; }
  std::string location() const override { return "glacier://" + client_.vault(); }
  std::unique_ptr<ObjectWriter> create(const std::string& name,
                                       std::optional<std::uint64_t> size_hint) override;
  std::unique_ptr<Source> open(const std::string& name) override;
  void remove(const std::string& name) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  std::optional<ObjectInfo> stat(const std::string& name) override;
  Readiness prepare_read(const std::string& name) override;

  // Records a finished upload (called by writers) and copies the inventory.
  void add_archive(const std::string& name, const std::string& archive_id);

 private:
  void ensure_vault();
  std::string archive_of(const std::string& name);  // throws NotFound
  // The archive id of `name`: the inventory's, else the one in the backup's
  // record (a row another machine's backup wrote and `bakthat sync` brought
  // here; then added to the inventory).
  std::optional<std::string> known_archive(const std::string& name);
  // nullopt when Glacier no longer knows the job (expired).
  std::optional<JobStatus> describe_job(const std::string& name, const std::string& job_id);
  Readiness start_retrieval(const std::string& name, const std::string& archive_id);
  void copy_inventory();
  ObjectInfo info_of(const std::string& name);

  Settings settings_;
  Client client_;
  std::shared_ptr<InventoryStore> inventory_;
  std::once_flag vault_checked_;
};

// The destination for a profile with glacier_vault set: credentials,
// endpoint (glacier_endpoint), region, tier and part size from it; the
// names and jobs kept in `inventory`; `warn` as Settings::warn.
std::unique_ptr<Storage> make_glacier_storage(const Profile& profile, std::shared_ptr<InventoryStore> inventory,
                                              Warn warn = {}, const CancelToken* cancel = nullptr);

}  // namespace bakthat::storage::glacier
