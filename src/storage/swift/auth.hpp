// Swift authentication (docs/formats.md §6.1, §6.2): TempAuth v1 and Keystone
// v2.0/v3 password logins, each yielding an account URL and a token.
//
// The request builders and response parsers are pure functions so they can
// be tested without a Keystone server; authenticate() sends the request.
#pragma once

#include <string>
#include <vector>

#include "net/http.hpp"

namespace bakthat::storage::swift {

struct Credentials {
  std::string auth_url;
  std::string version = "1";  // "1", "2" or "3"
  std::string user;           // "account:user" (v1) or "project:user" (v2/v3)
  std::string key;
  std::string region;         // preferred catalog region; may match nothing
};

// What every storage request needs.
struct Session {
  std::string storage_url;  // account URL, e.g. http://host/v1/AUTH_test
  std::string token;
};

// One object-store endpoint from a Keystone catalog.
struct Endpoint {
  std::string url;
  std::string region;
};

// Keystone v2/v3 take the project from "project:user" like swiftclient does.
struct ProjectUser {
  std::string project, user;
};
ProjectUser split_project_user(const std::string& access_key);

// Throws Auth unless the storage URL an auth reply named may receive the
// token: http or https only; https when auth_url is https; and, when the
// reply came over plain http (which anyone on the path can forge), on
// auth_url's own host.
void check_storage_url(const std::string& auth_url, const std::string& storage_url);

// The token request URL for a Keystone auth_url with or without its version.
std::string keystone_token_url(const std::string& auth_url, const std::string& version);
// The JSON body of a Keystone v2.0 / v3 password token request.
std::string keystone_v2_body(const Credentials& c);
std::string keystone_v3_body(const Credentials& c);

// Parsers of successful replies. They throw Auth errors naming what is missing.
Session parse_v1_reply(const net::Response& reply);
Session parse_v2_reply(const std::string& body, const std::string& region);
Session parse_v3_reply(const std::string& body, const std::string& subject_token,
                       const std::string& region);

// Among a catalog's object-store endpoints: the one in `region`, else the
// only one; several in other regions is a Config error listing them.
std::string choose_endpoint(const std::vector<Endpoint>& endpoints, const std::string& region);

// Logs in. A refusal is an Auth error ("Swift: authentication failed for
// user 'x' at URL (401)"); an unreachable or failing server is transient.
Session authenticate(net::ClientPool& client, const Credentials& c);

}  // namespace bakthat::storage::swift
