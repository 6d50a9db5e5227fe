// Catalog rows as a sync server sends them: parsed as the sync client does
// (json::parse without exceptions, then from_json for each row of a list, or
// the one row), then written back as the catalog stores a row's metadata
// (catalog.cpp) and turned back into JSON (to_json).
#include <cstdlib>
#include <exception>

#include "bakthat/catalog.hpp"
#include "fuzz_util.hpp"

namespace {

void one_row(const nlohmann::json& j) {
  try {
    auto r = j.get<bakthat::BackupRecord>();
    std::string meta = r.metadata.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    nlohmann::json again = nlohmann::json::parse(meta, nullptr, false);
    if (again.is_discarded()) std::abort();  // the catalog could not read it back
    nlohmann::json back = r;
    (void)back.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  if (j.is_array()) {
    for (const auto& row : j) one_row(row);
  } else {
    one_row(j);
  }
  return 0;
}
