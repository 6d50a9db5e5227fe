#include "storage/swift/protocol.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "bakthat/errors.hpp"
#include "storage/s3/sigv4.hpp"
#include "util/bytes.hpp"

namespace bakthat::storage::swift {
namespace {
using nlohmann::json;
}

std::string object_url(const std::string& storage_url, const std::string& container,
                       const std::string& object, const Params& query) {
  std::string url = storage_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!container.empty()) url += "/" + s3::uri_encode(container, false);
  if (!object.empty()) url += "/" + s3::uri_encode(object, false);
  char sep = '?';
  for (const auto& [k, v] : query) {
    url += sep + s3::uri_encode(k, false);
    if (!v.empty()) url += "=" + s3::uri_encode(v, false);
    sep = '&';
  }
  return url;
}

std::string url_path(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return "/";
  return url.substr(slash, url.find_first_of("?#", slash) - slash);
}

std::int64_t parse_listing_time(const std::string& iso) {
  std::tm tm{};
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::vector<ObjectInfo> parse_listing(const std::string& json_body) {
  std::vector<ObjectInfo> out;
  try {
    for (const auto& e : json::parse(json_body)) {
      if (!e.contains("name")) continue;  // a {"subdir": ...} entry
      ObjectInfo info;
      info.name = e.at("name").get<std::string>();
      info.size = e.value("bytes", std::uint64_t{0});
      info.modified = parse_listing_time(e.value("last_modified", std::string()));
      out.push_back(std::move(info));
    }
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Storage, std::string("Swift: unreadable container listing (") + e.what() + ")");
  }
  return out;
}

std::string slo_manifest(const std::vector<Segment>& segments) {
  json manifest = json::array();
  for (const auto& s : segments)
    manifest.push_back({{"path", "/" + s.container + "/" + s.name}, {"etag", s.etag}, {"size_bytes", s.size}});
  return manifest.dump();
}

std::string segment_container(const std::string& container) { return container + "_segments"; }

std::string segment_name(const std::string& object, const std::string& upload_id, int index) {
  char idx[16];
  std::snprintf(idx, sizeof idx, "%08d", index);
  return object + "/" + upload_id + "/" + idx;
}

std::string bulk_delete_failure(const std::string& json_body) {
  try {
    json j = json::parse(json_body);
    std::string status = j.value("Response Status", std::string());
    if (status.starts_with("2")) return "";
    std::string detail;
    auto errors = j.value("Errors", json::array());
    if (!errors.empty()) detail = ": " + errors.front().dump();
    return (status.empty() ? "no status" : status) + detail;
  } catch (const json::exception&) {
    return "unreadable reply";
  }
}

std::string temp_url_query(const std::string& key, const std::string& method, std::int64_t expires,
                           const std::string& path) {
  std::string body = method + "\n" + std::to_string(expires) + "\n" + path;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(body.data()), body.size(), md, &len))
    throw Error(ErrorKind::Storage, "HMAC-SHA256 failed");
  return "temp_url_sig=" + util::hex(Bytes(md, len)) + "&temp_url_expires=" + std::to_string(expires);
}

}  // namespace bakthat::storage::swift

namespace bakthat::storage::swift {

std::uint64_t first_segment_size(std::uint64_t configured, std::optional<std::uint64_t> size_hint) {
  std::uint64_t base = configured ? configured : kDefaultSegmentSize;
  if (size_hint) {
    std::uint64_t need = (*size_hint + kMaxSegments - 1) / kMaxSegments;
    base = std::max(base, (need + kMiB - 1) / kMiB * kMiB);
  }
  return std::clamp(base, kMinSegmentSize, kMaxSegmentSize);
}

std::uint64_t segment_size_for(std::uint64_t first, int index) {
  std::uint64_t size = first;
  for (int d = index / kSegmentsPerDoubling; d > 0 && size < kMaxSegmentSize; --d) size *= 2;
  return std::min(size, kMaxSegmentSize);
}

}  // namespace bakthat::storage::swift
