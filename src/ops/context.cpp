#include "ops/context.hpp"

#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "storage/factory.hpp"
#include "util/bytes.hpp"

namespace bakthat::ops {

Context::Context(const Options& options)
    : config_(options.config),
      profile_(load_profile(options.config)),
      reporter_(options.reporter ? options.reporter : &silent_reporter()),
      cancel_(options.cancel),
      password_(options.password) {
  report_config_warnings(*reporter_, profile_.warnings);
  if (const char* env = std::getenv("BAKTHAT_PASSWORD"); !password_ && env) password_ = std::string(env);
  if (options.storage) {
    storage_ = options.storage;
    rows_opened_ = true;  // a store of the caller's own keeps no rows
    destination_ = storage_->kind();
    lookup_hashes_ = {util::sha512_hex(util::as_bytes(storage_->location()))};
    return;
  }
  destination_ = options.destination.empty() ? profile_.default_destination : options.destination;
  if (destination_ != "local" && destination_ != "s3" && destination_ != "glacier" && destination_ != "swift")
    throw Error(ErrorKind::Usage, "unknown destination '" + destination_ + "' (choose local, s3, glacier or swift)");
  lookup_hashes_ = storage::lookup_hashes(profile_, destination_);
}

std::optional<BackupRecord> Context::latest(const std::string& name) {
  auto found = catalog().latest(name, destination_, lookup_hashes_);
  if (found || name.empty() || !rows()) return found;
  DestinationScan scan;
  scan.adopt_prefix = name;
  SyncReport got = sync_with_destination(*this, scan);
  reporter_->message(name + " is not in this machine's catalog: looked at " + storage().location() + " (" +
                     std::to_string(got.inserted + got.updated + got.adopted) + " rows taken in)");
  return catalog().latest(name, destination_, lookup_hashes_);
}

std::vector<BackupRecord> Context::matches(const std::string& name) {
  return catalog().matches(name, destination_, lookup_hashes_);
}

void Context::set_storage_class(const std::string& storage_class) {
  if (destination_ == "s3") {
    profile_.s3_storage_class = storage_class;
    return;
  }
  // The override is --s3-reduced-redundancy's, an S3 storage class
  // (REDUCED_REDUNDANCY). Without a vault, `glacier` is the bucket in its
  // archive class: that class is what the catalog's "glacier" and restore's
  // retrieval step stand for, so it is never replaced. Ignored with a
  // warning rather than refused: the Python bakthat handed the flag to its
  // S3 backend only, so scripts that pass it for every destination keep
  // working.
  reporter_->warning("storage class " + storage_class + " applies to the s3 destination only: ignored for " +
                     destination_);
}

Catalog& Context::catalog() {
  if (!catalog_) catalog_ = std::make_unique<Catalog>(profile_.database);
  return *catalog_;
}

Storage& Context::storage() {
  if (!storage_)
    storage_ = storage::make_storage(
        profile_, destination_, [r = reporter_](const std::string& w) { r->warning(w); }, cancel_);
  return *storage_;
}

Storage* Context::rows() {
  if (!rows_opened_) {
    rows_ = storage::make_row_storage(profile_, destination_);
    rows_opened_ = true;
  }
  return rows_.get();
}

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace bakthat::ops
