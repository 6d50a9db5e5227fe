#include "storage/factory.hpp"

#include "bakthat/errors.hpp"
#include "storage/glacier/glacier_storage.hpp"
#include "storage/local/local_storage.hpp"
#include "storage/prefixed.hpp"
#include "storage/s3/credentials.hpp"
#include "storage/s3/s3_storage.hpp"
#include "storage/swift/swift_storage.hpp"
#include "util/bytes.hpp"

namespace bakthat::storage {

std::unique_ptr<Storage> make_storage(const Profile& profile, const std::string& destination, Warn warn,
                                      const CancelToken* cancel,
                                      std::shared_ptr<glacier::InventoryStore> glacier_inventory) {
  if (destination == "local") return std::make_unique<LocalStorage>(profile.local_path);
  if (destination == "s3") return s3::make_s3_storage(profile, "s3", profile.s3_storage_class, cancel, warn);
  // AWS takes no new Glacier vault customers since 2025-12-15: without a
  // vault, `glacier` is the S3 bucket in an archive storage class.
  if (destination == "glacier" && profile.glacier_vault.empty())
    return s3::make_s3_storage(profile, "glacier", profile.glacier_storage_class, cancel, warn);
  if (destination == "glacier")
    return glacier::make_glacier_storage(profile, std::move(glacier_inventory), std::move(warn), cancel);
  if (destination == "swift") return swift::make_swift_storage(profile, cancel);
  throw Error(ErrorKind::Usage, "unknown destination '" + destination +
                                    "' (choose local, s3, glacier or swift)");
}

bool is_reserved(const std::string& name) { return name.starts_with(kReservedPrefix); }

namespace {

// A reserved folder of a destination: .bakthat/<what>/<destination>/.
std::string reserved_folder(const std::string& what, const std::string& destination) {
  return std::string(kReservedPrefix) + what + "/" + destination + "/";
}

// The reserved folder `what` (rows, index) of the profile's destination, kept
// as make_row_storage says.
std::unique_ptr<Storage> reserved_storage(const Profile& profile, const std::string& destination,
                                          const std::string& what) {
  const std::string folder = reserved_folder(what, destination);
  if (destination == "local") return std::make_unique<LocalStorage>(profile.local_path + "/" + folder);
  if (destination == "swift") return std::make_unique<PrefixedStorage>(swift::make_swift_storage(profile), folder);
  if (destination == "glacier" && !profile.glacier_vault.empty() && profile.s3_bucket.empty()) return nullptr;
  if (destination == "s3" || destination == "glacier")
    return std::make_unique<PrefixedStorage>(s3::make_s3_storage(profile, destination, "STANDARD"), folder);
  throw Error(ErrorKind::Usage, "unknown destination '" + destination + "' (choose local, s3, glacier or swift)");
}

}  // namespace

std::unique_ptr<Storage> make_row_storage(const Profile& profile, const std::string& destination) {
  return reserved_storage(profile, destination, "rows");
}

std::unique_ptr<Storage> make_index_storage(const Profile& profile, const std::string& destination) {
  return reserved_storage(profile, destination, "index");
}

std::unique_ptr<Storage> make_row_storage(const std::shared_ptr<Storage>& store) {
  if (store->kind() == "glacier") return nullptr;
  const std::string folder = reserved_folder("rows", store->kind());
  // A directory store's names are file names: its rows are a directory of their own.
  if (auto* local = dynamic_cast<LocalStorage*>(store.get())) return std::make_unique<LocalStorage>(local->location() + "/" + folder);
  return std::make_unique<PrefixedStorage>(store, folder);
}

namespace {

const std::string& container(const Profile& profile, const std::string& destination) {
  return destination == "glacier" && !profile.glacier_vault.empty() ? profile.glacier_vault : profile.s3_bucket;
}

std::string hash_of(const std::string& access_key, const std::string& container) {
  return util::sha512_hex(util::as_bytes(access_key + container));
}

// The access key the destination's requests go out with. Without any
// credentials nothing can be stored, but catalog-only commands still need
// a hash: the profile's (empty) key then.
std::string access_key(const Profile& profile, const std::string& destination) {
  if (destination == "swift") return profile.access_key;
  auto keys = s3::find_credentials(profile);
  return keys ? keys->access_key : profile.access_key;
}

}  // namespace

std::string backend_hash(const Profile& profile, const std::string& destination) {
  if (destination == "local") return util::sha512_hex(util::as_bytes(profile.local_path));
  return hash_of(access_key(profile, destination), container(profile, destination));
}

std::vector<std::string> lookup_hashes(const Profile& profile, const std::string& destination) {
  std::vector<std::string> out{backend_hash(profile, destination)};
  // Accepted whatever the key's source today: a user who moves the keys
  // from ~/.aws/credentials into the profile keeps the old rows. The cost
  // is small: such a row names this very bucket or vault, only without a key.
  if (destination == "s3" || destination == "glacier") {
    std::string legacy = hash_of("", container(profile, destination));
    if (legacy != out.front()) out.push_back(legacy);
  }
  return out;
}

std::vector<std::string> configured_destinations(const Profile& profile) {
  std::vector<std::string> out{"local"};
  if (!profile.s3_bucket.empty()) out.push_back("s3");
  if (!profile.s3_bucket.empty() || !profile.glacier_vault.empty()) out.push_back("glacier");
  if (!profile.s3_bucket.empty() && !profile.auth_url.empty()) out.push_back("swift");
  return out;
}

}  // namespace bakthat::storage
