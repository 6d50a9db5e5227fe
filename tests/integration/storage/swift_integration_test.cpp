// The swift destination against a real OpenStack Swift (tempauth) on
// 127.0.0.1 started by tests/servers/up.sh: plain objects, Static Large
// Objects and their segments, listing pages, odd names, errors, TempURLs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>

#include "net/http.hpp"
#include "storage/swift/swift_storage.hpp"
#include "test_servers.hpp"
#include "util/bytes.hpp"

namespace swift = bakthat::storage::swift;
namespace net = bakthat::net;
using bakthat::Error;
using bakthat::ErrorKind;
using namespace bakthat::test;  // servers, data, put/get, Proxy

namespace {

// host:port of the Swift proxy server, for a faultproxy in front of it.
std::string swift_target() {
  std::string target = servers()["SWIFT_AUTH_URL"].substr(7);
  return target.substr(0, target.find('/'));
}

std::string unique_container(const std::string& what) {
  static int n = 0;
  return "bakthat-it-swift-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

swift::Settings settings(const std::string& container) {
  auto env = servers();
  swift::Settings s;
  s.credentials = {env["SWIFT_AUTH_URL"], "1", env["SWIFT_USER"], env["SWIFT_KEY"], ""};
  s.retry.first_delay = std::chrono::milliseconds(50);
  s.retry.max_attempts = 3;
  s.container = container;
  return s;
}

std::vector<std::string> names(const std::vector<bakthat::ObjectInfo>& infos) {
  std::vector<std::string> out;
  for (const auto& i : infos) out.push_back(i.name);
  return out;
}

// The segments under `prefix` that still exist. Swift's listings lag its
// objects: an object server answers a DELETE after waiting at most
// container_update_timeout (1 s) for the container server, which under load
// updates the listing later; so what a listing still names is asked for
// itself (HEAD).
std::vector<std::string> left_behind(swift::SwiftStorage& segments, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& name : names(segments.list(prefix)))
    if (segments.stat(name)) out.push_back(name);
  return out;
}

}  // namespace

TEST(SwiftIntegration, SmallAndEmptyRoundTrip) {
  auto c = unique_container("small");
  swift::SwiftStorage s(settings(c));
  EXPECT_TRUE(s.list("").empty());  // no container yet
  auto data = random_bytes(100000, 1);
  auto stored = put(s, "small.bin", data);
  EXPECT_EQ(stored.size, data.size());
  EXPECT_FALSE(stored.provider_id.empty());
  put(s, "empty", {});
  EXPECT_EQ(get(s, "small.bin"), data);
  EXPECT_TRUE(get(s, "empty").empty());
  auto info = s.stat("small.bin");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, data.size());
  EXPECT_GT(info->modified, 1600000000);
  auto listed = s.list("");
  ASSERT_EQ(names(listed), (std::vector<std::string>{"empty", "small.bin"}));
  EXPECT_EQ(listed[1].size, data.size());
  EXPECT_GT(listed[1].modified, 1600000000);
  EXPECT_EQ(s.kind(), "swift");
  EXPECT_EQ(s.location(), "swift://" + c);
}

TEST(SwiftIntegration, LargeObjectIsSegmentedAndAppearsAtFinish) {
  auto c = unique_container("large");
  auto st = settings(c);
  st.segment_size = swift::kMinSegmentSize;
  st.read_chunk = 300000;  // several ranges in flight, across segment ends
  swift::SwiftStorage s(st);
  swift::SwiftStorage segments(settings(swift::segment_container(c)));
  auto data = random_bytes(3 * swift::kMiB + 12345, 2);

  auto w = s.create("big one", data.size());
  w->write(data);
  EXPECT_FALSE(s.stat("big one"));  // segments uploaded, no object yet
  w->finish();
  EXPECT_EQ(w->stored().size, data.size());
  EXPECT_EQ(segments.list("big one/").size(), 4u);
  auto info = s.stat("big one");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, data.size());
  EXPECT_EQ(get(s, "big one"), data);
  auto listed = s.list("");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "big one");
  EXPECT_EQ(listed[0].size, data.size());  // the whole object, not its manifest

  // Exactly one segment's worth stays a plain object.
  auto one = random_bytes(swift::kMinSegmentSize, 3);
  put(s, "exact", one);
  EXPECT_EQ(get(s, "exact"), one);
  EXPECT_TRUE(segments.list("exact/").empty());

  s.remove("big one");
  EXPECT_FALSE(s.stat("big one"));
  EXPECT_EQ(left_behind(segments, "big one/"), std::vector<std::string>{});
}

TEST(SwiftIntegration, AbandonedWriterDeletesItsSegments) {
  auto c = unique_container("abandon");
  auto st = settings(c);
  st.segment_size = swift::kMinSegmentSize;
  swift::SwiftStorage s(st);
  swift::SwiftStorage segments(settings(swift::segment_container(c)));
  {
    auto w = s.create("gone", std::nullopt);
    w->write(random_bytes(2 * swift::kMiB + 5, 4));
  }
  EXPECT_FALSE(s.stat("gone"));
  EXPECT_EQ(left_behind(segments, "gone/"), std::vector<std::string>{});
}

TEST(SwiftIntegration, SpecialNames) {
  auto c = unique_container("names");
  swift::SwiftStorage s(settings(c));
  std::vector<std::string> odd = {"a b+c%d", "h\xC3\xA9llo w\xC3\xB6rld \xE2\x98\x83.tgz", "dir/../x",
                                  "q?x#y&z=1;", "plus+%2B"};
  unsigned seed = 10;
  for (const auto& n : odd) {
    auto data = random_bytes(1000 + seed, seed);
    put(s, n, data);
    EXPECT_EQ(get(s, n), data) << n;
    ++seed;
  }
  auto listed = names(s.list(""));
  auto sorted = odd;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
  EXPECT_EQ(names(s.list("h\xC3\xA9")), (std::vector<std::string>{odd[1]}));
  for (const auto& n : odd) s.remove(n);
  EXPECT_TRUE(s.list("").empty());
}

TEST(SwiftIntegration, ListingPagesAndPrefix) {
  auto c = unique_container("pages");
  auto st = settings(c);
  st.list_page_size = 3;
  swift::SwiftStorage s(st);
  std::vector<std::string> expected;
  for (int i = 0; i < 7; ++i) {
    std::string n = "p/" + std::to_string(i);
    put(s, n, {static_cast<std::uint8_t>(i)});
    expected.push_back(n);
  }
  put(s, "other", {1});
  EXPECT_EQ(names(s.list("p/")), expected);
  EXPECT_EQ(s.list("").size(), 8u);
  EXPECT_TRUE(s.list("zzz").empty());
}

TEST(SwiftIntegration, ConflictsAndMissingObjects) {
  auto c = unique_container("errors");
  swift::SwiftStorage s(settings(c));
  put(s, "x", {1, 2, 3});
  try {
    s.create("x", std::nullopt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Conflict);
  }
  try {
    s.open("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_EQ(std::string(e.what()), "Swift: no object 'nope' in container '" + c + "'");
  }
  EXPECT_THROW(s.remove("nope"), Error);
  EXPECT_FALSE(s.stat("nope"));
}

TEST(SwiftIntegration, WrongKeyIsAuthError) {
  auto st = settings(unique_container("auth"));
  st.credentials.key = "wrong";
  swift::SwiftStorage s(st);
  try {
    s.list("");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Auth);
    std::string m = e.what();
    EXPECT_NE(m.find("authentication failed for user 'test:tester'"), std::string::npos) << m;
    EXPECT_NE(m.find("(401)"), std::string::npos) << m;
    EXPECT_EQ(m.find("wrong"), std::string::npos) << m;  // never the key
  }
}

TEST(SwiftIntegration, TempUrlWithContainerKey) {
  auto c = unique_container("tempurl");
  auto st = settings(c);
  swift::SwiftStorage s(st);
  auto data = random_bytes(5000, 20);
  put(s, "shared file+1", data);
  // No key on the account (the test server's) nor the container yet.
  bool account_has_key = false;
  try {
    s.presign("shared file+1", "GET", 60);
    account_has_key = true;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
  }
  swift::Client client(st.credentials, st.retry);
  swift::SwiftRequest r;
  r.method = "POST";
  r.container = c;
  r.headers = {{"X-Container-Meta-Temp-URL-Key", "k3y"}};
  r.send_body = true;
  client.send(r);
  if (account_has_key) GTEST_SKIP() << "the account has a TempURL key of its own";
  std::string url = s.presign("shared file+1", "GET", 60);
  net::Client plain(net::default_options("test"));
  net::Request get;
  get.url = url;
  auto resp = plain.perform(get);
  ASSERT_EQ(resp.status, 200) << url;
  EXPECT_EQ(resp.body, std::string(data.begin(), data.end()));
  get.url = url + "x";  // damaged signature
  EXPECT_EQ(plain.perform(get).status, 401);
}

TEST(SwiftIntegration, RefusedTokenLogsInAgainOnce) {
  auto env = servers();
  auto st = settings(unique_container("reauth"));
  swift::Client client(st.credentials, st.retry, swift::Session{env["SWIFT_STORAGE_URL"], "AUTH_tkexpired"});
  swift::SwiftRequest r;
  r.method = "HEAD";  // the account
  EXPECT_EQ(client.send(r).status, 204);
  EXPECT_NE(client.session().token, "AUTH_tkexpired");

  // A token refused even after a new login (here: the key changed) is an
  // Auth error, not a loop.
  st.credentials.key = "changed";
  swift::Client stale(st.credentials, st.retry, swift::Session{env["SWIFT_STORAGE_URL"], "AUTH_tkexpired"});
  try {
    stale.send(r);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Auth) << e.what();
  }
}

TEST(SwiftFaults, TransientFailuresAreRetried) {
  std::string stats = "/tmp/bakthat-swift-faultproxy-" + std::to_string(::getpid()) + ".stats";
  Proxy proxy(swift_target(), {"--seed", "3", "--fail", "0.15", "--drop", "0.05", "--drop-body", "0.1", "--stall", "0.05",
               "--stall-seconds", "1", "--stats", stats});
  auto c = unique_container("faults");
  auto st = settings(c);
  // tempauth names the account URL after the Host it was asked on, so the
  // storage requests go through the proxy too.
  st.credentials.auth_url = proxy.origin() + "/auth/v1.0";
  st.retry.max_attempts = 8;
  st.segment_size = swift::kMinSegmentSize;
  st.read_chunk = 400000;
  swift::SwiftStorage s(st);
  auto data = random_bytes(5 * swift::kMiB + 77, 30);
  put(s, "flaky", data);
  auto small = random_bytes(50000, 31);
  put(s, "small", small);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(get(s, "flaky"), data);
    EXPECT_EQ(get(s, "small"), small);
  }
  EXPECT_EQ(names(s.list("")), (std::vector<std::string>{"flaky", "small"}));
  s.remove("flaky");
  swift::SwiftStorage segments(settings(swift::segment_container(c)));
  EXPECT_TRUE(segments.list("").empty());
  // The seed is fixed, so every kind of fault happened and was survived.
  expect_every_fault(stats);
}

TEST(SwiftFaults, PermanentSegmentFailureLeavesNothing) {
  Proxy proxy(swift_target(), {"--always-fail", "%2F00000002 "});  // the third segment
  auto c = unique_container("permanent");
  auto st = settings(c);
  st.credentials.auth_url = proxy.origin() + "/auth/v1.0";
  st.retry.max_attempts = 2;
  st.segment_size = swift::kMinSegmentSize;
  swift::SwiftStorage s(st);
  try {
    put(s, "doomed", random_bytes(4 * swift::kMiB, 40));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Storage);
    EXPECT_NE(std::string(e.what()).find("server busy or failing (500)"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(s.stat("doomed"));
  swift::SwiftStorage segments(settings(swift::segment_container(c)));
  EXPECT_TRUE(segments.list("").empty());
}
