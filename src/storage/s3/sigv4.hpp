// AWS Signature Version 4 (docs/formats.md §5): canonical requests, header
// signing and query presigning, as pure functions of their inputs so the
// official test vectors pin them down.
//
// Hand-written because no Debian library offers SigV4 without pulling in a
// whole SDK; the HMAC and SHA-256 primitives come from OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bakthat::storage::s3 {

using Params = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigningKeys {
  std::string access_key, secret_key, session_token;
};

// What a signature covers. `path` is the canonical URI, already encoded
// (see encode_path); query and headers hold raw, unencoded values; headers
// must include host and, for header signing, x-amz-date.
struct CanonicalInput {
  std::string method;
  std::string path;
  Params query;
  Params headers;
  std::string payload_hash;
};

// UriEncode: every byte outside A-Z a-z 0-9 - _ . ~ becomes %XX (uppercase);
// '/' is kept only when keep_slash.
std::string uri_encode(std::string_view s, bool keep_slash);
// An S3 object path ("/bucket/key" or "/key"): encoded once, never normalized.
inline std::string encode_path(std::string_view raw) { return uri_encode(raw, true); }
// name=value pairs encoded and sorted by name then value, joined with '&'.
std::string canonical_query(const Params& query);

std::string canonical_request(const CanonicalInput& in);
std::string signed_headers(const Params& headers);  // "host;x-amz-date"
// "<yyyymmdd>/<region>/<service>/aws4_request"
std::string credential_scope(std::string_view amz_date, std::string_view region,
                             std::string_view service);
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);
std::array<std::uint8_t, 32> signing_key(std::string_view secret, std::string_view date,
                                         std::string_view region, std::string_view service);
std::string signature(const SigningKeys& keys, std::string_view amz_date, std::string_view region,
                      std::string_view service, const CanonicalInput& in);

// The Authorization header value for a request whose headers already carry
// x-amz-date (= amz_date) and, for S3, x-amz-content-sha256.
std::string authorization(const SigningKeys& keys, std::string_view amz_date,
                          std::string_view region, std::string_view service,
                          const CanonicalInput& in);

// The full query string of a presigned URL (X-Amz-* parameters added to
// in.query, signature last). in.headers holds at least host; the payload is
// UNSIGNED-PAYLOAD whatever in.payload_hash says.
std::string presign_query(const SigningKeys& keys, std::string_view amz_date,
                          std::string_view region, std::string_view service,
                          CanonicalInput in, std::int64_t expires_seconds);

// "YYYYMMDDTHHMMSSZ" for a Unix time.
std::string amz_date(std::int64_t unix_seconds);

}  // namespace bakthat::storage::s3
