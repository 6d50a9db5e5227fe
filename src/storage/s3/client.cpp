#include "storage/s3/client.hpp"

#include <algorithm>
#include <chrono>

#include "net/send.hpp"
#include "util/bytes.hpp"

namespace bakthat::storage::s3 {
namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Virtual-hosted addressing needs a bucket name that is a valid DNS label
// sequence without dots (TLS certificates cover one level only).
bool dns_safe(const std::string& bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return bucket.front() != '-' && bucket.back() != '-';
}

std::string what_of(const std::string& bucket, const std::string& key) {
  return key.empty() ? "bucket '" + bucket + "'" : "'" + key + "' in bucket '" + bucket + "'";
}

}  // namespace

Addressing resolve_addressing(const std::string& endpoint, const std::string& style,
                              const std::string& bucket, const std::string& region) {
  if (style != "auto" && style != "path" && style != "virtual")
    throw Error(ErrorKind::Config, "s3_addressing_style must be path, virtual or auto, not '" + style + "'");
  Addressing a;
  std::string host;
  if (endpoint.empty()) {
    a.scheme = "https";
    host = "s3." + region + ".amazonaws.com";
    a.path_style = style == "path" || (style == "auto" && !dns_safe(bucket));
  } else {
    auto sep = endpoint.find("://");
    if (sep == std::string::npos)
      throw Error(ErrorKind::Config, "s3_endpoint must be a URL such as https://host:port, not '" + endpoint + "'");
    a.scheme = endpoint.substr(0, sep);
    for (auto& c : a.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (a.scheme != "http" && a.scheme != "https")
      throw Error(ErrorKind::Config, "s3_endpoint must use http or https: '" + endpoint + "'");
    std::string rest = endpoint.substr(sep + 3);
    host = rest.substr(0, rest.find('/'));
    if (host.empty()) throw Error(ErrorKind::Config, "s3_endpoint has no host: '" + endpoint + "'");
    // Default ports are not part of the Host header curl sends.
    if ((a.scheme == "http" && host.ends_with(":80")) || (a.scheme == "https" && host.ends_with(":443")))
      host = host.substr(0, host.rfind(':'));
    a.path_style = style != "virtual";
  }
  if (a.path_style) {
    a.authority = host;
    a.path_prefix = "/" + bucket;
  } else {
    a.authority = bucket + "." + host;
  }
  return a;
}

net::retry::Failure classify_failure(long status, const ErrorReply& reply, const std::string& bucket,
                         const std::string& key, const std::string& method) {
  const std::string& code = reply.code;
  const std::string tag = " (" + (code.empty() ? "HTTP " + std::to_string(status) : code) + ")";
  if (status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout" ||
      code == "InternalError" || code == "ServiceUnavailable")
    return {ErrorKind::Storage,
            "S3: " + method + " " + what_of(bucket, key) + " failed, server busy or failing" + tag, true};
  if (code == "NoSuchBucket")
    return {ErrorKind::NotFound, "S3: bucket '" + bucket + "' does not exist", false};
  if (code == "NoSuchKey" || (status == 404 && code.empty()))
    return {ErrorKind::NotFound, "S3: no object " + what_of(bucket, key), false};
  if (code == "NoSuchUpload")
    return {ErrorKind::Storage, "S3: the multipart upload of " + what_of(bucket, key) + " was lost" + tag, false};
  if (code == "SignatureDoesNotMatch")
    return {ErrorKind::Auth, "S3: wrong secret key for bucket '" + bucket + "'" + tag, false};
  if (code == "InvalidAccessKeyId")
    return {ErrorKind::Auth, "S3: unknown access key for bucket '" + bucket + "'" + tag, false};
  if (code == "RequestTimeTooSkewed")
    return {ErrorKind::Auth, "S3: this machine's clock is too far off for bucket '" + bucket + "'" + tag, false};
  if (code == "AuthorizationHeaderMalformed")
    return {ErrorKind::Auth, "S3: wrong region for bucket '" + bucket + "'" + tag, false};
  if (code == "InvalidObjectState")
    return {ErrorKind::Storage,
            "S3: object '" + key + "' is in GLACIER; run restore again later" + tag, false};
  if (status == 403 || code == "AccessDenied")
    return {ErrorKind::Auth, "S3: access denied to bucket '" + bucket + "'" + tag, false};
  std::string detail = reply.message.empty() ? "" : ": " + reply.message;
  return {ErrorKind::Storage, "S3: " + method + " " + what_of(bucket, key) + " failed" + detail + tag, false};
}

Client::Client(ClientConfig config)
    : config_(std::move(config)),
      addressing_(resolve_addressing(config_.endpoint, config_.addressing_style, config_.bucket,
                                     config_.region)),
      pool_(net::default_options("S3", config_.retry.cancel)) {}

std::string Client::url_for(const std::string& key) const {
  std::string path = addressing_.path_prefix + "/" + key;
  return addressing_.scheme + "://" + addressing_.authority + encode_path(path);
}

net::Response Client::send_once(const S3Request& r) {
  CanonicalInput in;
  in.method = r.method;
  in.path = encode_path(addressing_.path_prefix + "/" + r.key);
  in.query = r.query;
  in.payload_hash = r.payload_hash.empty() ? util::sha256_hex(r.body) : r.payload_hash;
  const std::string date = amz_date(now_seconds());
  in.headers = r.headers;
  in.headers.emplace_back("host", addressing_.authority);
  in.headers.emplace_back("x-amz-date", date);
  in.headers.emplace_back("x-amz-content-sha256", in.payload_hash);
  if (!config_.keys.session_token.empty())
    in.headers.emplace_back("x-amz-security-token", config_.keys.session_token);

  net::Request req;
  req.method = r.method;
  req.url = addressing_.scheme + "://" + addressing_.authority + in.path;
  if (std::string q = canonical_query(r.query); !q.empty()) req.url += "?" + q;
  req.headers = in.headers;
  req.headers.emplace_back("Authorization", authorization(config_.keys, date, config_.region, "s3", in));
  req.body = r.body;
  req.send_body = r.send_body;
  req.on_body = r.on_body;
  req.cancel = r.cancel;
  req.cleanup = r.cleanup;
  req.grace_after_cancel = r.grace_after_cancel;

  return net::accept_or_raise(pool_.perform(req), r.accept, [&](const net::Response& resp) {
    return classify_failure(resp.status, parse_error(resp.body), config_.bucket, r.key, r.method);
  });
}

net::Response Client::send(const S3Request& request) {
  return net::retry::run(request.cleanup ? net::cleanup_policy(config_.retry) : config_.retry,
                         [&] { return send_once(request); });
}

std::string Client::presign(const std::string& method, const std::string& key,
                            std::int64_t expires_seconds) {
  if (expires_seconds < 1 || expires_seconds > 604800)
    throw Error(ErrorKind::Usage, "a presigned URL expires after 1 to 604800 seconds (7 days)");
  if (method != "GET" && method != "PUT" && method != "DELETE" && method != "HEAD")
    throw Error(ErrorKind::Usage, "presigned URLs are for GET, PUT, DELETE or HEAD, not " + method);
  CanonicalInput in;
  in.method = method;
  in.path = encode_path(addressing_.path_prefix + "/" + key);
  in.headers.emplace_back("host", addressing_.authority);
  std::string q = presign_query(config_.keys, amz_date(now_seconds()), config_.region, "s3", in,
                                expires_seconds);
  return addressing_.scheme + "://" + addressing_.authority + in.path + "?" + q;
}

}  // namespace bakthat::storage::s3
