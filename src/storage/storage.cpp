#include "bakthat/storage.hpp"

#include <algorithm>
#include <vector>

#include "bakthat/errors.hpp"
#include "util/window_source.hpp"

namespace bakthat {

std::string Storage::presign(const std::string&, const std::string&, std::int64_t) {
  throw Error(ErrorKind::Unsupported, "the " + kind() + " destination has no URLs");
}

std::unique_ptr<ObjectWriter> Storage::create_new(const std::string& name, std::optional<std::uint64_t> size_hint) {
  return create(name, size_hint);
}

void Storage::remove_many(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    try {
      remove(name);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound) throw;
    }
  }
}

std::unique_ptr<Source> Storage::open_range(const std::string& name, std::uint64_t offset, std::uint64_t length) {
  return std::make_unique<util::WindowSource>(open(name), offset, length);
}

Readiness Storage::prepare_read(const std::string&) { return Readiness::Ready; }

std::vector<std::string> Storage::abort_incomplete(const std::function<bool(const std::string&)>&, std::int64_t) {
  return {};
}

}  // namespace bakthat
