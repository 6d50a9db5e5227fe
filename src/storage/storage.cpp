#include "bakthat/storage.hpp"

#include "bakthat/errors.hpp"

namespace bakthat {

std::string Storage::presign(const std::string&, const std::string&, std::int64_t) {
  throw Error(ErrorKind::Unsupported, "the " + kind() + " destination has no URLs");
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

Readiness Storage::prepare_read(const std::string&) { return Readiness::Ready; }

std::vector<std::string> Storage::abort_incomplete(const std::function<bool(const std::string&)>&, std::int64_t) {
  return {};
}

}  // namespace bakthat
