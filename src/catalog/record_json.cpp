// BackupRecord <-> JSON: one spelling of a row for `show --json`, event
// hooks and the sync protocol.
#include <cmath>
#include <sstream>

#include "bakthat/catalog.hpp"
#include "bakthat/errors.hpp"
#include "util/json_depth.hpp"

namespace bakthat {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const char* column, const char* what) {
  throw Error(ErrorKind::Corrupt, std::string("backup row: '") + column + "' must be " + what);
}

const json& column(const json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || it->is_null()) bad(name, "present");
  return *it;
}

std::int64_t integer(const json& in, const char* name) {
  const json& v = column(in, name);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  // Python may send 1732665600.0 for a date.
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e18) return static_cast<std::int64_t>(d);
  }
  bad(name, "a whole number");
}

std::string text(const json& in, const char* name) {
  const json& v = column(in, name);
  if (!v.is_string()) bad(name, "a string");
  return v.get<std::string>();
}

}  // namespace

void to_json(json& out, const BackupRecord& r) {
  out = {{"id", r.id},
         {"backend", r.backend},
         {"backend_hash", r.backend_hash},
         {"backup_date", r.backup_date},
         {"filename", r.filename},
         {"is_deleted", r.is_deleted},
         {"last_updated", r.last_updated},
         {"metadata", r.metadata},
         {"size", r.size},
         {"stored_filename", r.stored_filename},
         {"tags", r.tags}};
}

void from_json(const json& in, BackupRecord& r) {
  if (!in.is_object()) throw Error(ErrorKind::Corrupt, "backup row: not a JSON object");
  r = BackupRecord{};
  if (auto it = in.find("id"); it != in.end() && it->is_number_integer()) r.id = it->get<std::int64_t>();
  r.backend = text(in, "backend");
  if (auto it = in.find("backend_hash"); it != in.end() && !it->is_null()) r.backend_hash = text(in, "backend_hash");
  r.backup_date = integer(in, "backup_date");
  r.filename = text(in, "filename");
  const json& deleted = column(in, "is_deleted");
  if (deleted.is_boolean()) {
    r.is_deleted = deleted.get<bool>();
  } else if (deleted.is_number_integer()) {
    r.is_deleted = deleted.get<std::int64_t>() != 0;
  } else {
    bad("is_deleted", "true, false, 0 or 1");
  }
  r.last_updated = integer(in, "last_updated");
  if (auto it = in.find("metadata"); it != in.end() && !it->is_null()) {
    // The Python tool's JsonField may hand over the column's text as is.
    json parsed;
    if (it->is_string()) parsed = json::parse(it->get<std::string>(), nullptr, false);
    const json& meta = it->is_string() ? parsed : *it;
    if (!meta.is_object()) bad("metadata", "a JSON object");
    // Checked before copying, which recurses.
    if (util::json_too_deep(meta)) bad("metadata", "a JSON object not nested too deeply");
    r.metadata = it->is_string() ? std::move(parsed) : meta;
  }
  r.size = integer(in, "size");
  r.stored_filename = text(in, "stored_filename");
  if (r.stored_filename.empty()) bad("stored_filename", "a name");
  // The sync server of the Python tool kept tags as a list.
  if (auto it = in.find("tags"); it != in.end() && !it->is_null()) {
    if (it->is_string()) {
      r.tags = it->get<std::string>();
    } else if (it->is_array()) {
      std::ostringstream joined;
      for (const auto& t : *it) {
        if (!t.is_string()) bad("tags", "a string or a list of strings");
        joined << (joined.tellp() > 0 ? " " : "") << t.get<std::string>();
      }
      r.tags = joined.str();
    } else {
      bad("tags", "a string or a list of strings");
    }
  }
}

}  // namespace bakthat
