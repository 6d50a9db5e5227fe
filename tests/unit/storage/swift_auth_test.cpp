// Swift authentication replies and requests. Keystone v2/v3 have no server
// here, so their JSON is checked against the shapes of docs/formats.md §6.2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bakthat/errors.hpp"
#include "storage/swift/auth.hpp"

using namespace bakthat;
using namespace bakthat::storage::swift;
using nlohmann::json;

TEST(SwiftAuth, V1ReplyPrefersStorageToken) {
  net::Response r;
  r.status = 200;
  r.headers = {{"x-storage-url", "http://h:8080/v1/AUTH_test"},
               {"x-auth-token", "AUTH_tka"},
               {"x-storage-token", "AUTH_tkb"}};
  Session s = parse_v1_reply(r);
  EXPECT_EQ(s.storage_url, "http://h:8080/v1/AUTH_test");
  EXPECT_EQ(s.token, "AUTH_tkb");
  r.headers.erase("x-storage-token");
  EXPECT_EQ(parse_v1_reply(r).token, "AUTH_tka");
}

TEST(SwiftAuth, V1ReplyWithoutStorageUrlIsAuthError) {
  net::Response r;
  r.status = 200;
  r.headers = {{"x-auth-token", "AUTH_tka"}};
  try {
    parse_v1_reply(r);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Auth);
  }
}

TEST(SwiftAuth, TokenUrls) {
  EXPECT_EQ(keystone_token_url("http://k:5000/v2.0", "2"), "http://k:5000/v2.0/tokens");
  EXPECT_EQ(keystone_token_url("http://k:5000/v2.0/", "2"), "http://k:5000/v2.0/tokens");
  EXPECT_EQ(keystone_token_url("http://k:5000", "2"), "http://k:5000/v2.0/tokens");
  EXPECT_EQ(keystone_token_url("http://k:5000/v2.0/tokens", "2"), "http://k:5000/v2.0/tokens");
  EXPECT_EQ(keystone_token_url("http://k:5000/v3", "3"), "http://k:5000/v3/auth/tokens");
  EXPECT_EQ(keystone_token_url("http://k:5000/", "3"), "http://k:5000/v3/auth/tokens");
  EXPECT_EQ(keystone_token_url("http://k:5000/v3/auth/tokens", "3"), "http://k:5000/v3/auth/tokens");
}

TEST(SwiftAuth, V2RequestBody) {
  Credentials c{"http://k/v2.0", "2", "proj:alice", "s3cret", ""};
  json j = json::parse(keystone_v2_body(c));
  EXPECT_EQ(j["auth"]["tenantName"], "proj");
  EXPECT_EQ(j["auth"]["passwordCredentials"]["username"], "alice");
  EXPECT_EQ(j["auth"]["passwordCredentials"]["password"], "s3cret");
  c.user = "bob";
  j = json::parse(keystone_v2_body(c));
  EXPECT_FALSE(j["auth"].contains("tenantName"));
  EXPECT_EQ(j["auth"]["passwordCredentials"]["username"], "bob");
}

TEST(SwiftAuth, V3RequestBody) {
  Credentials c{"http://k/v3", "3", "proj:alice", "s3cret", ""};
  json j = json::parse(keystone_v3_body(c));
  EXPECT_EQ(j["auth"]["identity"]["methods"], json::array({"password"}));
  const json& user = j["auth"]["identity"]["password"]["user"];
  EXPECT_EQ(user["name"], "alice");
  EXPECT_EQ(user["password"], "s3cret");
  EXPECT_EQ(user["domain"]["name"], "Default");
  EXPECT_EQ(j["auth"]["scope"]["project"]["name"], "proj");
  EXPECT_EQ(j["auth"]["scope"]["project"]["domain"]["name"], "Default");
}

const char* kV2Reply = R"({"access": {
  "token": {"id": "tok2", "expires": "2030-01-01T00:00:00Z"},
  "serviceCatalog": [
    {"type": "identity", "name": "keystone", "endpoints": [{"publicURL": "http://k:5000/v2.0", "region": "r1"}]},
    {"type": "object-store", "name": "swift", "endpoints": [
      {"publicURL": "http://s1:8080/v1/AUTH_p", "internalURL": "http://i1/v1/AUTH_p", "region": "r1"},
      {"publicURL": "http://s2:8080/v1/AUTH_p", "internalURL": "http://i2/v1/AUTH_p", "region": "r2"}]}]}})";

TEST(SwiftAuth, V2ReplyPicksObjectStoreInRegion) {
  Session s = parse_v2_reply(kV2Reply, "r2");
  EXPECT_EQ(s.token, "tok2");
  EXPECT_EQ(s.storage_url, "http://s2:8080/v1/AUTH_p");
  EXPECT_EQ(parse_v2_reply(kV2Reply, "r1").storage_url, "http://s1:8080/v1/AUTH_p");
  try {
    parse_v2_reply(kV2Reply, "us-east-1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("r1, r2"), std::string::npos) << e.what();
  }
}

TEST(SwiftAuth, V3ReplyUsesSubjectTokenAndPublicInterface) {
  const char* body = R"({"token": {"expires_at": "2030-01-01T00:00:00Z", "catalog": [
    {"type": "object-store", "endpoints": [
      {"interface": "internal", "url": "http://internal/v1/AUTH_p", "region_id": "RegionOne"},
      {"interface": "public", "url": "http://public/v1/AUTH_p", "region": "RegionOne", "region_id": "RegionOne"}]},
    {"type": "compute", "endpoints": [{"interface": "public", "url": "http://nova", "region_id": "RegionOne"}]}]}})";
  // The only object-store endpoint serves whatever region the profile names.
  Session s = parse_v3_reply(body, "tok3", "us-east-1");
  EXPECT_EQ(s.token, "tok3");
  EXPECT_EQ(s.storage_url, "http://public/v1/AUTH_p");
  EXPECT_THROW(parse_v3_reply(body, "", "RegionOne"), Error);
  EXPECT_THROW(parse_v3_reply(R"({"token": {"catalog": []}})", "t", "x"), Error);
  EXPECT_THROW(parse_v3_reply("not json", "t", "x"), Error);
}

TEST(SwiftAuth, ProjectUserSplit) {
  EXPECT_EQ(split_project_user("test:tester").project, "test");
  EXPECT_EQ(split_project_user("test:tester").user, "tester");
  EXPECT_EQ(split_project_user("solo").project, "");
  EXPECT_EQ(split_project_user("a:b:c").user, "b:c");
}

// The storage URL an auth reply names may receive the token only over http
// or https, never downgraded from https, and on auth_url's own host unless
// the reply itself came over https.
TEST(SwiftStorageUrl, RefusesWhatCouldLeakTheToken) {
  using bakthat::storage::swift::check_storage_url;
  auto refused = [](const std::string& auth, const std::string& storage) {
    try {
      check_storage_url(auth, storage);
      return false;
    } catch (const bakthat::Error& e) {
      EXPECT_EQ(e.kind(), bakthat::ErrorKind::Auth) << e.what();
      return true;
    }
  };
  EXPECT_FALSE(refused("http://127.0.0.1:18080/auth/v1.0", "http://127.0.0.1:18080/v1/AUTH_test"));
  EXPECT_FALSE(refused("http://Swift.example:5000/v3", "http://swift.example:8080/v1/AUTH_test"));
  EXPECT_FALSE(refused("https://keystone.example/v3", "https://objects.example/v1/AUTH_test"));
  EXPECT_FALSE(refused("http://keystone.example/v3", "https://keystone.example/v1/AUTH_test"));
  EXPECT_TRUE(refused("http://127.0.0.1/auth/v1.0", "file:///tmp/x/v1/AUTH_test"));
  EXPECT_TRUE(refused("http://127.0.0.1/auth/v1.0", "ftp://127.0.0.1/v1/AUTH_test"));
  EXPECT_TRUE(refused("http://127.0.0.1/auth/v1.0", "gopher://127.0.0.1/v1/AUTH_test"));
  EXPECT_TRUE(refused("http://127.0.0.1/auth/v1.0", "not a url"));
  EXPECT_TRUE(refused("https://keystone.example/v3", "http://keystone.example/v1/AUTH_test"));
  EXPECT_TRUE(refused("http://keystone.example/v3", "http://elsewhere.example/v1/AUTH_test"));
  EXPECT_TRUE(refused("http://127.0.0.1/auth/v1.0", "http://localhost/v1/AUTH_test"));
}
