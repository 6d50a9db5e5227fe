#include "ops/context.hpp"

#include <unistd.h>

#include <climits>

#include "storage/factory.hpp"

namespace bakthat::ops {

Context::Context(const Options& options)
    : config_(options.config),
      profile_(load_profile(options.config)),
      reporter_(options.reporter ? options.reporter : &silent_reporter()) {
  destination_ = options.destination.empty() ? profile_.default_destination : options.destination;
  if (destination_ != "local" && destination_ != "s3" && destination_ != "glacier" && destination_ != "swift")
    throw Error(ErrorKind::Usage, "unknown destination '" + destination_ + "' (choose local, s3, glacier or swift)");
  backend_hash_ = storage::backend_hash(profile_, destination_);
}

void Context::set_storage_class(const std::string& storage_class) {
  profile_.s3_storage_class = storage_class;
  profile_.glacier_storage_class = storage_class;
}

Catalog& Context::catalog() {
  if (!catalog_) catalog_ = std::make_unique<Catalog>(profile_.database);
  return *catalog_;
}

Storage& Context::storage() {
  if (!storage_) storage_ = storage::make_storage(profile_, destination_);
  return *storage_;
}

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace bakthat::ops
