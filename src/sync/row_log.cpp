#include "sync/row_log.hpp"

#include <ctime>
#include <random>

#include "bakthat/errors.hpp"
#include "codec/codec.hpp"
#include "util/bytes.hpp"
#include "util/string_stream.hpp"
#include "util/time.hpp"

namespace bakthat::catalog_sync {
namespace {

using nlohmann::json;

constexpr int kFormat = 1;

std::string random_hex() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) s.push_back(kDigits[rng() % 16]);
  return s;
}

std::string read_all(Source& in) {
  std::string out;
  std::uint8_t buf[64 * 1024];
  while (std::size_t n = in.read(buf)) out.append(reinterpret_cast<const char*>(buf), n);
  return out;
}

json parse(const std::string& text, const std::string& name) {
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || doc.value("format", 0) != kFormat)
    throw Error(ErrorKind::Corrupt, "destination catalog: " + name + " is not a bakthat row object");
  return doc;
}

}  // namespace

std::string RowLog::write_object(const std::string& prefix, const std::string& bytes) {
  const std::string name =
      prefix + util::format_utc(static_cast<std::int64_t>(std::time(nullptr)), "%Y%m%d%H%M%S") + "-" + random_hex();
  auto writer = rows_.create_new(name, bytes.size());
  writer->write(util::as_bytes(bytes));
  writer->finish();
  return name;
}

std::string RowLog::append(const Entry& entry) {
  json doc = {{"format", kFormat}, {entry.pending ? "pending" : "row", entry.record}};
  doc[entry.pending ? "pending" : "row"].erase("id");
  return write_object(kLogPrefix, doc.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string RowLog::write_pack(const std::vector<BackupRecord>& rows) {
  json list = json::array();
  for (const auto& r : rows) {
    json j = r;
    j.erase("id");
    list.push_back(std::move(j));
  }
  json doc = {{"format", kFormat}, {"rows", std::move(list)}};
  util::StringSink packed;
  auto gzip = codec::make_compressor(packed, {codec::Codec::Gzip, std::nullopt, 1});
  gzip->write(util::as_bytes(doc.dump(-1, ' ', false, json::error_handler_t::replace)));
  gzip->finish();
  return write_object(kPackPrefix, packed.data());
}

RowLog::Listing RowLog::list() {
  Listing out;
  for (auto& o : rows_.list("")) {
    if (o.name.starts_with(kLogPrefix)) out.logs.push_back(std::move(o.name));
    else if (o.name.starts_with(kPackPrefix)) out.packs.push_back(std::move(o.name));
  }
  return out;
}

std::vector<Entry> RowLog::read(const std::string& name) {
  auto src = rows_.open(name);
  std::vector<Entry> out;
  if (name.starts_with(kPackPrefix)) {
    auto plain = codec::make_decompressor(*src, codec::Codec::Gzip, 1);
    json doc = parse(read_all(*plain), name);
    if (!doc["rows"].is_array()) throw Error(ErrorKind::Corrupt, "destination catalog: " + name + " has no rows");
    out.reserve(doc["rows"].size());
    for (const auto& row : doc["rows"]) out.push_back({false, row.get<BackupRecord>()});
    return out;
  }
  json doc = parse(read_all(*src), name);
  const bool pending = doc.contains("pending");
  out.push_back({pending, doc.at(pending ? "pending" : "row").get<BackupRecord>()});
  return out;
}

void RowLog::drop(const std::vector<std::string>& names) { rows_.remove_many(names); }

}  // namespace bakthat::catalog_sync
