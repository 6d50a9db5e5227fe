// The S3 XML documents bakthat reads and writes (pugixml).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bakthat/storage.hpp"

namespace bakthat::storage::s3 {

struct ErrorReply {
  std::string code, message;
};
// The <Error> document of a failed request; empty fields when the body is
// not one (HEAD replies have no body).
ErrorReply parse_error(const std::string& body);

struct ListPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  std::string next_token;
};
ListPage parse_list_v2(const std::string& body);

std::string parse_upload_id(const std::string& body);  // InitiateMultipartUploadResult

struct MultipartUpload {
  std::string key, upload_id;
  std::int64_t initiated = 0;  // Unix seconds
};
struct UploadsPage {
  std::vector<MultipartUpload> uploads;
  bool truncated = false;
  std::string next_key_marker, next_upload_id_marker;
};
UploadsPage parse_list_uploads(const std::string& body);  // ListMultipartUploadsResult

// <CompleteMultipartUpload> with each part's number and ETag, in order.
std::string complete_body(const std::vector<std::pair<int, std::string>>& parts);

// <Delete> of a DeleteObjects request, quiet (the reply lists failures only).
std::string delete_body(const std::vector<std::string>& keys);
// The <Error> entries of a DeleteObjects reply: (key, code), none when every
// object went.
std::vector<std::pair<std::string, std::string>> parse_delete_errors(const std::string& body);

std::string restore_body(const std::string& tier, int days);
std::string create_bucket_body(const std::string& region);  // "" for us-east-1

// "2009-10-12T17:50:30.000Z" -> Unix seconds (0 when unparsable).
std::int64_t parse_iso8601(const std::string& s);

}  // namespace bakthat::storage::s3
