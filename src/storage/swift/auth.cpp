#include "storage/swift/auth.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <utility>

#include "bakthat/errors.hpp"
#include "net/retry.hpp"
#include "util/bytes.hpp"

namespace bakthat::storage::swift {
namespace {

using nlohmann::json;

std::string trim_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string str_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json parse_json(const std::string& body, const char* what) {
  try {
    return json::parse(body);
  } catch (const json::exception&) {
    throw Error(ErrorKind::Auth, std::string("Swift: the ") + what + " reply is not JSON");
  }
}

struct UrlParts {
  std::string scheme, host;  // lower case
};

// The scheme and host of a URL (libcurl's parser, the one the request will
// use); empty when it is not a URL.
UrlParts url_parts(const std::string& url) {
  UrlParts out;
  CURLU* u = curl_url();
  if (!u) throw Error(ErrorKind::Storage, "Swift: out of memory");
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
    for (auto [part, into] : {std::pair{CURLUPART_SCHEME, &out.scheme}, std::pair{CURLUPART_HOST, &out.host}}) {
      char* value = nullptr;
      if (curl_url_get(u, part, &value, 0) == CURLUE_OK && value) *into = value;
      curl_free(value);
    }
  }
  curl_url_cleanup(u);
  for (auto* s : {&out.scheme, &out.host})
    for (auto& ch : *s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

ProjectUser split_project_user(const std::string& access_key) {
  auto colon = access_key.find(':');
  if (colon == std::string::npos) return {"", access_key};
  return {access_key.substr(0, colon), access_key.substr(colon + 1)};
}

std::string keystone_token_url(const std::string& auth_url, const std::string& version) {
  std::string base = trim_slashes(auth_url);
  if (version == "2") {
    if (base.ends_with("/tokens")) return base;
    if (base.ends_with("/v2.0")) return base + "/tokens";
    return base + "/v2.0/tokens";
  }
  if (base.ends_with("/auth/tokens")) return base;
  if (base.ends_with("/v3")) return base + "/auth/tokens";
  return base + "/v3/auth/tokens";
}

std::string keystone_v2_body(const Credentials& c) {
  auto pu = split_project_user(c.user);
  json auth = {{"passwordCredentials", {{"username", pu.user}, {"password", c.key}}}};
  if (!pu.project.empty()) auth["tenantName"] = pu.project;
  return json{{"auth", auth}}.dump();
}

std::string keystone_v3_body(const Credentials& c) {
  auto pu = split_project_user(c.user);
  json domain = {{"name", "Default"}};
  json auth = {{"identity",
                {{"methods", {"password"}},
                 {"password", {{"user", {{"name", pu.user}, {"domain", domain}, {"password", c.key}}}}}}}};
  if (!pu.project.empty()) auth["scope"] = {{"project", {{"name", pu.project}, {"domain", domain}}}};
  return json{{"auth", auth}}.dump();
}

Session parse_v1_reply(const net::Response& reply) {
  Session s;
  s.storage_url = reply.header("x-storage-url");
  s.token = reply.header("x-storage-token");
  if (s.token.empty()) s.token = reply.header("x-auth-token");
  if (s.storage_url.empty() || s.token.empty())
    throw Error(ErrorKind::Auth, "Swift: the v1 auth reply has no X-Storage-Url or X-Auth-Token");
  return s;
}

std::string choose_endpoint(const std::vector<Endpoint>& endpoints, const std::string& region) {
  if (endpoints.empty()) throw Error(ErrorKind::Config, "Swift: the service catalog has no object-store endpoint");
  for (const auto& e : endpoints)
    if (!region.empty() && e.region == region) return e.url;
  if (endpoints.size() == 1) return endpoints.front().url;
  std::string regions;
  for (const auto& e : endpoints) regions += (regions.empty() ? "" : ", ") + e.region;
  throw Error(ErrorKind::Config, "Swift: no object-store endpoint in region '" + region +
                                     "'; set region_name to one of: " + regions);
}

Session parse_v2_reply(const std::string& body, const std::string& region) {
  json j = parse_json(body, "Keystone v2");
  Session s;
  std::vector<Endpoint> endpoints;
  try {
    const json& access = j.at("access");
    s.token = str_at(access.at("token"), "id");
    for (const auto& svc : access.value("serviceCatalog", json::array()))
      if (str_at(svc, "type") == "object-store")
        for (const auto& e : svc.value("endpoints", json::array()))
          if (!str_at(e, "publicURL").empty()) endpoints.push_back({str_at(e, "publicURL"), str_at(e, "region")});
  } catch (const json::exception&) {
    throw Error(ErrorKind::Auth, "Swift: the Keystone v2 reply has no access.token");
  }
  if (s.token.empty()) throw Error(ErrorKind::Auth, "Swift: the Keystone v2 reply has no token id");
  s.storage_url = choose_endpoint(endpoints, region);
  return s;
}

Session parse_v3_reply(const std::string& body, const std::string& subject_token,
                       const std::string& region) {
  if (subject_token.empty()) throw Error(ErrorKind::Auth, "Swift: the Keystone v3 reply has no X-Subject-Token");
  json j = parse_json(body, "Keystone v3");
  std::vector<Endpoint> endpoints;
  try {
    for (const auto& svc : j.at("token").value("catalog", json::array()))
      if (str_at(svc, "type") == "object-store")
        for (const auto& e : svc.value("endpoints", json::array()))
          if (str_at(e, "interface") == "public") {
            std::string r = str_at(e, "region_id");
            if (r.empty()) r = str_at(e, "region");
            endpoints.push_back({str_at(e, "url"), r});
          }
  } catch (const json::exception&) {
    throw Error(ErrorKind::Auth, "Swift: the Keystone v3 reply has no token");
  }
  return {choose_endpoint(endpoints, region), subject_token};
}

void check_storage_url(const std::string& auth_url, const std::string& storage_url) {
  const UrlParts auth = url_parts(auth_url), storage = url_parts(storage_url);
  const std::string named = "Swift: the auth reply's storage URL " + net::origin_of(storage_url);
  if (storage.scheme != "http" && storage.scheme != "https")
    throw Error(ErrorKind::Auth, named + " is not http or https: refused");
  if (auth.scheme == "https" && storage.scheme != "https")
    throw Error(ErrorKind::Auth, named + " would carry the token unencrypted (auth_url is https): refused");
  if (auth.scheme != "https" && storage.host != auth.host)
    throw Error(ErrorKind::Auth, named + " is on another host than auth_url, named over plain http: refused "
                                         "(an https auth_url may name other hosts)");
}

Session authenticate(net::ClientPool& client, const Credentials& c) {
  if (c.auth_url.empty()) throw Error(ErrorKind::Config, "the swift destination needs auth_url in the profile");
  if (c.version != "1" && c.version != "2" && c.version != "3")
    throw Error(ErrorKind::Config, "auth_version must be 1, 2 or 3, not '" + c.version + "'");
  net::Request r;
  std::string body;  // outlives the request, which only points at it
  if (c.version == "1") {
    r.url = c.auth_url;
    r.headers = {{"X-Auth-User", c.user}, {"X-Auth-Key", c.key}};
  } else {
    body = c.version == "2" ? keystone_v2_body(c) : keystone_v3_body(c);
    r.method = "POST";
    r.url = keystone_token_url(c.auth_url, c.version);
    r.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    r.body = util::as_bytes(body);
    r.send_body = true;
  }
  net::Response reply = client.perform(r);
  const std::string tag = " (" + std::to_string(reply.status) + ")";
  if (reply.status >= 500 || reply.status == 429)
    throw net::retry::TransientError("Swift: the auth server at " + r.url + " is failing" + tag);
  if (reply.status == 401 || reply.status == 403)
    throw Error(ErrorKind::Auth, "Swift: authentication failed for user '" + c.user + "' at " + r.url + tag);
  if (reply.status < 200 || reply.status >= 300)
    throw Error(ErrorKind::Auth, "Swift: authentication at " + r.url + " failed" + tag +
                                     "; check auth_url and auth_version");
  Session s = c.version == "1"   ? parse_v1_reply(reply)
              : c.version == "2" ? parse_v2_reply(reply.body, c.region)
                                 : parse_v3_reply(reply.body, reply.header("x-subject-token"), c.region);
  check_storage_url(r.url, s.storage_url);
  return s;
}

}  // namespace bakthat::storage::swift
