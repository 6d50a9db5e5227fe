#include "ops/context.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "ops/glacier_inventory.hpp"
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
    rows_ = storage::make_row_storage(storage_);
    rows_opened_ = true;
    indexes_opened_ = true;  // a store of the caller's own keeps no indexes
    destination_ = storage_->kind();
    lookup_hashes_ = {util::sha512_hex(util::as_bytes(storage_->location()))};
    return;
  }
  destination_ = options.destination.empty() ? profile_.default_destination : options.destination;
  if (destination_ != "local" && destination_ != "s3" && destination_ != "glacier" && destination_ != "swift")
    throw Error(ErrorKind::Usage, "unknown destination '" + destination_ + "' (choose local, s3, glacier or swift)");
  lookup_hashes_ = storage::lookup_hashes(profile_, destination_);
}

const std::optional<std::string>& Context::password() const {
  if (password_ || password_command_ran_ || profile_.password_command.empty()) return password_;
  password_command_ran_ = true;
  // Its output is the secret: never shown, not even in the error.
  FILE* pipe = ::popen(profile_.password_command.c_str(), "r");
  if (!pipe) throw Error(ErrorKind::Config, "password_command: cannot run it");
  std::string out;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int status = ::pclose(pipe);
  if (status != 0)
    throw Error(ErrorKind::Config, "password_command failed (exit status " +
                                       std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : status) + ")");
  out = out.substr(0, out.find('\n'));
  if (!out.empty() && out.back() == '\r') out.pop_back();
  if (out.empty()) throw Error(ErrorKind::Config, "password_command printed no password");
  password_ = std::move(out);
  return password_;
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

namespace {

// "a, b, c" of the distinct filenames of rows, in name order.
std::string filenames_of(const std::vector<BackupRecord>& rows) {
  std::set<std::string> names;
  for (const auto& r : rows) names.insert(r.filename);
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::vector<BackupRecord> Context::matches_to_delete(const std::string& name) {
  auto rows = matches(name);
  // A name this catalog lacks: the destination's rows of it, as latest() takes them in.
  if (rows.empty() && latest(name)) rows = matches(name);
  if (rows.empty()) throw no_match(name);
  if (std::any_of(rows.begin(), rows.end(), [&](const BackupRecord& r) { return r.filename != rows[0].filename; }))
    throw Error(ErrorKind::Usage, "'" + name + "' is the start of more than one backup name (" + filenames_of(rows) +
                                      "): give the whole name");
  return rows;
}

Error Context::no_match(const std::string& name) {
  CatalogQuery q;
  q.text = name;
  q.backend = destination_;
  q.backend_hashes = lookup_hashes_;
  auto containing = catalog().search(q);
  std::string text = "No file matched '" + name + "' on " + destination_;
  if (!containing.empty()) text += "; backup names containing it: " + filenames_of(containing);
  return Error(ErrorKind::NotFound, text + " (`bakthat show` lists the backups)");
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
        profile_, destination_, [r = reporter_](const std::string& w) { r->warning(w); }, cancel_,
        destination_ == "glacier" ? catalog_inventory(profile_.database) : nullptr);
  return *storage_;
}

Storage* Context::rows() {
  if (!rows_opened_) {
    rows_ = storage::make_row_storage(profile_, destination_);
    rows_opened_ = true;
  }
  return rows_.get();
}

Storage* Context::indexes() {
  if (!indexes_opened_) {
    indexes_ = storage::make_index_storage(profile_, destination_);
    indexes_opened_ = true;
  }
  return indexes_.get();
}

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace bakthat::ops
