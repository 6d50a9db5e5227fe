#include "storage/s3/xml.hpp"

#include <pugixml.hpp>

#include <cstdio>
#include <ctime>
#include <sstream>

#include "bakthat/errors.hpp"

namespace bakthat::storage::s3 {
namespace {

constexpr const char* kNs = "http://s3.amazonaws.com/doc/2006-03-01/";

pugi::xml_document load(const std::string& body, const char* what) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size()))
    throw Error(ErrorKind::Storage, std::string("S3: unreadable ") + what + " reply");
  return doc;
}

std::string to_string(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

}  // namespace

ErrorReply parse_error(const std::string& body) {
  pugi::xml_document doc;
  if (body.empty() || !doc.load_buffer(body.data(), body.size())) return {};
  auto e = doc.child("Error");
  return {e.child_value("Code"), e.child_value("Message")};
}

ListPage parse_list_v2(const std::string& body) {
  auto doc = load(body, "ListObjectsV2");
  auto root = doc.child("ListBucketResult");
  if (!root) throw Error(ErrorKind::Storage, "S3: unexpected ListObjectsV2 reply");
  ListPage page;
  for (auto c : root.children("Contents")) {
    ObjectInfo info;
    info.name = c.child_value("Key");
    info.size = std::strtoull(c.child_value("Size"), nullptr, 10);
    info.modified = parse_iso8601(c.child_value("LastModified"));
    info.storage_class = c.child_value("StorageClass");
    if (info.storage_class.empty()) info.storage_class = "STANDARD";
    page.objects.push_back(std::move(info));
  }
  page.truncated = std::string(root.child_value("IsTruncated")) == "true";
  page.next_token = root.child_value("NextContinuationToken");
  return page;
}

std::string parse_upload_id(const std::string& body) {
  auto doc = load(body, "CreateMultipartUpload");
  std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty()) throw Error(ErrorKind::Storage, "S3: CreateMultipartUpload reply has no UploadId");
  return id;
}

UploadsPage parse_list_uploads(const std::string& body) {
  auto doc = load(body, "ListMultipartUploads");
  auto root = doc.child("ListMultipartUploadsResult");
  if (!root) throw Error(ErrorKind::Storage, "S3: unexpected ListMultipartUploads reply");
  UploadsPage page;
  for (auto u : root.children("Upload"))
    page.uploads.push_back({u.child_value("Key"), u.child_value("UploadId"), parse_iso8601(u.child_value("Initiated"))});
  page.truncated = std::string(root.child_value("IsTruncated")) == "true";
  page.next_key_marker = root.child_value("NextKeyMarker");
  page.next_upload_id_marker = root.child_value("NextUploadIdMarker");
  return page;
}

std::string complete_body(const std::vector<std::pair<int, std::string>>& parts) {
  pugi::xml_document doc;
  auto root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = kNs;
  for (const auto& [n, etag] : parts) {
    auto p = root.append_child("Part");
    p.append_child("PartNumber").text() = n;
    p.append_child("ETag").text() = etag.c_str();
  }
  return to_string(doc);
}

std::string delete_body(const std::vector<std::string>& keys) {
  pugi::xml_document doc;
  auto root = doc.append_child("Delete");
  root.append_attribute("xmlns") = kNs;
  root.append_child("Quiet").text() = "true";
  for (const auto& k : keys) root.append_child("Object").append_child("Key").text() = k.c_str();
  return to_string(doc);
}

std::vector<std::pair<std::string, std::string>> parse_delete_errors(const std::string& body) {
  auto doc = load(body, "DeleteObjects");
  auto root = doc.child("DeleteResult");
  if (!root) throw Error(ErrorKind::Storage, "S3: unexpected DeleteObjects reply");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto e : root.children("Error")) out.emplace_back(e.child_value("Key"), e.child_value("Code"));
  return out;
}

std::string restore_body(const std::string& tier, int days) {
  pugi::xml_document doc;
  auto root = doc.append_child("RestoreRequest");
  root.append_attribute("xmlns") = kNs;
  root.append_child("Days").text() = days;
  root.append_child("GlacierJobParameters").append_child("Tier").text() = tier.c_str();
  return to_string(doc);
}

std::string create_bucket_body(const std::string& region) {
  if (region.empty() || region == "us-east-1") return "";
  pugi::xml_document doc;
  auto root = doc.append_child("CreateBucketConfiguration");
  root.append_attribute("xmlns") = kNs;
  root.append_child("LocationConstraint").text() = region.c_str();
  return to_string(doc);
}

std::int64_t parse_iso8601(const std::string& s) {
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6) return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace bakthat::storage::s3
