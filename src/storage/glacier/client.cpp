#include "storage/glacier/client.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "net/send.hpp"
#include "storage/glacier/tree_hash.hpp"
#include "util/bytes.hpp"

namespace bakthat::storage::glacier {
namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string what_of(const std::string& vault, const std::string& subject) {
  return subject.empty() ? "vault '" + vault + "'" : subject + " in vault '" + vault + "'";
}

}  // namespace

Endpoint resolve_endpoint(const std::string& endpoint, const std::string& region) {
  if (endpoint.empty()) return {"https", "glacier." + region + ".amazonaws.com"};
  auto sep = endpoint.find("://");
  if (sep == std::string::npos)
    throw Error(ErrorKind::Config,
                "glacier_endpoint must be a URL such as https://host:port, not '" + endpoint + "'");
  Endpoint e;
  e.scheme = endpoint.substr(0, sep);
  for (auto& c : e.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (e.scheme != "http" && e.scheme != "https")
    throw Error(ErrorKind::Config, "glacier_endpoint must use http or https: '" + endpoint + "'");
  std::string rest = endpoint.substr(sep + 3);
  e.authority = rest.substr(0, rest.find('/'));
  if (e.authority.empty()) throw Error(ErrorKind::Config, "glacier_endpoint has no host: '" + endpoint + "'");
  // Default ports are not part of the Host header curl sends.
  if ((e.scheme == "http" && e.authority.ends_with(":80")) ||
      (e.scheme == "https" && e.authority.ends_with(":443")))
    e.authority = e.authority.substr(0, e.authority.rfind(':'));
  return e;
}

net::Request build_request(const ClientConfig& config, const Endpoint& endpoint,
                            const GlacierRequest& r, const std::string& amz_date) {
  s3::CanonicalInput in;
  in.method = r.method;
  // '-': the account of the signing credentials.
  in.path = "/-/vaults/" + s3::uri_encode(config.vault, false) + r.path;
  in.payload_hash = util::sha256_hex(r.body);
  in.headers = r.headers;
  in.headers.emplace_back("host", endpoint.authority);
  in.headers.emplace_back("x-amz-date", amz_date);
  in.headers.emplace_back("x-amz-glacier-version", kApiVersion);
  if (r.upload_hashes) {
    in.headers.emplace_back("x-amz-content-sha256", in.payload_hash);
    in.headers.emplace_back("x-amz-sha256-tree-hash", tree_hash_hex(r.body));
  }
  if (!config.keys.session_token.empty())
    in.headers.emplace_back("x-amz-security-token", config.keys.session_token);

  net::Request req;
  req.method = r.method;
  req.url = endpoint.scheme + "://" + endpoint.authority + in.path;
  req.headers = in.headers;
  req.headers.emplace_back("Authorization",
                           s3::authorization(config.keys, amz_date, config.region, "glacier", in));
  req.body = r.body;
  req.send_body = r.send_body;
  req.on_body = r.on_body;
  req.cancel = r.cancel;
  return req;
}

ErrorReply parse_error(const net::Response& response) {
  ErrorReply e;
  auto j = nlohmann::json::parse(response.body, nullptr, false);
  if (j.is_object()) {
    // AWS says "code"; some servers "__type", possibly prefixed "ns#Code".
    for (const char* key : {"code", "__type", "Code"})
      if (j.contains(key) && j[key].is_string()) {
        e.code = j[key].get<std::string>();
        break;
      }
    for (const char* key : {"message", "Message"})
      if (j.contains(key) && j[key].is_string()) {
        e.message = j[key].get<std::string>();
        break;
      }
  }
  if (e.code.empty()) e.code = response.header("x-amzn-errortype");
  if (auto p = e.code.find('#'); p != std::string::npos) e.code = e.code.substr(p + 1);
  if (auto p = e.code.find(':'); p != std::string::npos) e.code = e.code.substr(0, p);
  return e;
}

net::retry::Failure classify_failure(long status, const ErrorReply& reply, const std::string& vault,
                         const std::string& subject, const std::string& method) {
  const std::string& code = reply.code;
  const std::string tag = " (" + (code.empty() ? "HTTP " + std::to_string(status) : code) + ")";
  const std::string v = "vault '" + vault + "'";
  if (status >= 500 || status == 429 || code == "ThrottlingException" ||
      code == "RequestTimeoutException" || code == "ServiceUnavailableException")
    return {ErrorKind::Storage,
            "Glacier: " + method + " " + what_of(vault, subject) + " failed, server busy or failing" + tag, true};
  if (code == "ResourceNotFoundException" || code == "VaultNotFound" || status == 404) {
    if (subject.empty()) return {ErrorKind::NotFound, "Glacier: " + v + " does not exist" + tag, false};
    return {ErrorKind::NotFound, "Glacier: no " + what_of(vault, subject) + tag, false};
  }
  if (code == "InvalidSignatureException" || code == "SignatureDoesNotMatch")
    return {ErrorKind::Auth, "Glacier: wrong secret key for " + v + tag, false};
  if (code == "UnrecognizedClientException" || code == "InvalidClientTokenId")
    return {ErrorKind::Auth, "Glacier: unknown access key for " + v + tag, false};
  if (code == "MissingAuthenticationTokenException")
    return {ErrorKind::Auth, "Glacier: no credentials accepted for " + v + tag, false};
  if (status == 401 || status == 403 || code == "AccessDeniedException")
    return {ErrorKind::Auth, "Glacier: access denied to " + v + tag, false};
  if (code == "PolicyEnforcedException" || code == "InsufficientCapacityException")
    return {ErrorKind::Storage,
            "Glacier: " + v + " cannot retrieve now (" + code + "); try another glacier_tier", false};
  std::string detail = reply.message.empty() ? "" : ": " + reply.message;
  return {ErrorKind::Storage, "Glacier: " + method + " " + what_of(vault, subject) + " failed" + detail + tag, false};
}

JobStatus parse_job(const std::string& json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object() || !j.contains("JobId") || !j["JobId"].is_string())
    throw Error(ErrorKind::Storage, "Glacier: the job description is not JSON with a JobId");
  auto str = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  JobStatus s;
  s.job_id = str("JobId");
  s.action = str("Action");
  s.archive_id = str("ArchiveId");
  s.status_code = str("StatusCode");
  s.status_message = str("StatusMessage");
  s.completed = j.value("Completed", false);
  if (j.contains("ArchiveSizeInBytes") && j["ArchiveSizeInBytes"].is_number_unsigned())
    s.archive_size = j["ArchiveSizeInBytes"].get<std::uint64_t>();
  s.archive_tree_hash = str("ArchiveSHA256TreeHash");
  return s;
}

std::string archive_retrieval_body(const std::string& archive_id, const std::string& tier,
                                   const std::string& description) {
  nlohmann::json j = {{"Type", "archive-retrieval"}, {"ArchiveId", archive_id}, {"Tier", tier}};
  if (!description.empty()) j["Description"] = archive_description(description);
  return j.dump();
}

std::string archive_description(const std::string& name) {
  std::string out = name.substr(0, 1024);
  for (auto& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out;
}

Client::Client(ClientConfig config)
    : config_(std::move(config)),
      endpoint_(resolve_endpoint(config_.endpoint, config_.region)),
      pool_(net::default_options("Glacier", config_.retry.cancel)) {}

net::Response Client::send_once(const GlacierRequest& r) {
  return net::accept_or_raise(
      pool_.perform(build_request(config_, endpoint_, r, s3::amz_date(now_seconds()))), r.accept,
      [&](const net::Response& resp) {
        return classify_failure(resp.status, parse_error(resp), config_.vault, r.subject, r.method);
      });
}

net::Response Client::send(const GlacierRequest& request) {
  return net::retry::run(config_.retry, [&] { return send_once(request); });
}

}  // namespace bakthat::storage::glacier
