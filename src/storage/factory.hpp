// Builds the Storage for a destination name from a profile. A network
// destination (s3, glacier, swift) retries each of its requests under the
// profile's retry policy (retry_time; net/retry.hpp, net/send.hpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bakthat/cancel.hpp"
#include "bakthat/config.hpp"
#include "bakthat/storage.hpp"
#include "storage/glacier/inventory_store.hpp"
#include "storage/warn.hpp"

namespace bakthat::storage {

// destination: "local", "s3", "glacier" or "swift". Throws Config when the
// profile lacks what the destination needs, Usage for an unknown name.
// Its requests and the waits between retries stop (Interrupted) once
// `cancel` is cancelled. A glacier vault keeps its names and retrieval jobs
// in `glacier_inventory` (required for it, unused by the others).
std::unique_ptr<Storage> make_storage(const Profile& profile, const std::string& destination, Warn warn = {},
                                      const CancelToken* cancel = nullptr,
                                      std::shared_ptr<glacier::InventoryStore> glacier_inventory = nullptr);

// The folder of a destination that holds bakthat's own objects (the
// catalog rows, docs/destination-catalog.md): never a backup, so `ls` and
// the adoption of row-less objects pass over it.
inline constexpr const char* kReservedPrefix = ".bakthat/";
bool is_reserved(const std::string& name);

// Where the destination keeps its catalog rows: a folder of its own bucket
// or container (.bakthat/rows/<destination>/; local: that folder of the
// store's directory), written in the S3 STANDARD class whatever the
// backups' class, so that rows are readable without a retrieval. Glacier
// with a vault keeps them in the profile's s3_bucket, beside the inventory
// copy (a vault lists its archives only through a day-old inventory job);
// without one there is none: nullptr.
std::unique_ptr<Storage> make_row_storage(const Profile& profile, const std::string& destination);
// The same for a store of the caller's own (Options::storage): the row
// folder of that store (for a LocalStorage, that directory under its own),
// named after its kind(). A store of kind "glacier" keeps none (nullptr):
// a vault lists its archives only through a day-old inventory job, and
// objects in an archive class are not readable without a retrieval.
std::unique_ptr<Storage> make_row_storage(const std::shared_ptr<Storage>& store);

// Where the destination keeps its backups' indexes (docs/formats.md §13):
// .bakthat/index/<destination>/, beside the rows and as they are kept;
// nullptr where there are no rows.
std::unique_ptr<Storage> make_index_storage(const Profile& profile, const std::string& destination);

// The catalog's backend_hash for this profile and destination, new rows are
// written with: hex SHA-512 of the access key the store is reached with
// (s3, glacier: the signing key, from the profile, the environment or
// ~/.aws/credentials; swift: the user) + the bucket, vault or container;
// local: of the store's path.
std::string backend_hash(const Profile& profile, const std::string& destination);

// Every backend_hash this profile's rows of `destination` may carry:
// backend_hash() first, then for s3 and glacier the hash of the bucket or
// vault with an empty access key, which earlier versions wrote whenever the
// key came from ~/.aws/credentials.
std::vector<std::string> lookup_hashes(const Profile& profile, const std::string& destination);

// The destinations this profile configures: local always, s3 and swift with
// s3_bucket (swift also needs auth_url), glacier with a vault or a bucket.
std::vector<std::string> configured_destinations(const Profile& profile);

}  // namespace bakthat::storage
