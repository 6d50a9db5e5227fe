// The S3 destination against real servers on 127.0.0.1: OpenStack Swift's
// S3 API (which verifies every SigV4 signature and payload hash) and moto (storage classes, RestoreObject), with and without the
// fault-injecting proxy tests/e2e/faultproxy.py in front.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "net/http.hpp"
#include "storage/s3/s3_storage.hpp"
#include "test_servers.hpp"
#include "util/bytes.hpp"

namespace s3 = bakthat::storage::s3;
namespace net = bakthat::net;
using bakthat::Error;
using bakthat::ErrorKind;
using namespace bakthat::test;  // servers, data, put/get, Proxy

namespace {

std::string unique_bucket(const std::string& what) {
  static int n = 0;
  return "bakthat-it-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

s3::Settings swift_settings(const std::string& bucket, std::string endpoint = "") {
  auto env = servers();
  s3::Settings s;
  s.client.keys = {env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"], ""};
  s.client.endpoint = endpoint.empty() ? env["S3_ENDPOINT"] : endpoint;
  s.client.region = env["S3_REGION"];
  s.client.bucket = bucket;
  s.client.retry.first_delay = std::chrono::milliseconds(50);
  return s;
}

s3::Settings moto_settings(const std::string& bucket) {
  s3::Settings s;
  s.client.keys = {"testing", "testing", ""};
  s.client.endpoint = servers()["MOTO_ENDPOINT"];
  s.client.bucket = bucket;
  s.client.retry.first_delay = std::chrono::milliseconds(50);
  return s;
}

// Multipart uploads still open in the bucket (ListMultipartUploads).
std::string open_uploads(const s3::Settings& s) {
  s3::Client c(s.client);
  s3::S3Request r;
  r.query = {{"uploads", ""}};
  auto body = c.send(r).body;
  auto at = body.find("<Upload>");
  return at == std::string::npos ? "" : body.substr(at, 300);
}

ErrorKind kind_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return ErrorKind::Usage;
}

}  // namespace

TEST(S3Swift, SmallObjectRoundTripConflictListStatRemove) {
  s3::S3Storage st(swift_settings(unique_bucket("small")));  // bucket created on first write
  auto data = random_bytes(123457, 1);
  put(st, "one.tgz", data);
  EXPECT_EQ(get(st, "one.tgz"), data);

  auto info = st.stat("one.tgz");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, data.size());
  EXPECT_GT(info->modified, 1600000000);
  EXPECT_FALSE(st.stat("none"));

  EXPECT_EQ(kind_of([&] { st.create("one.tgz", std::nullopt); }), ErrorKind::Conflict);
  put(st, "one.tgz2", {});  // empty object; a name that extends another
  EXPECT_TRUE(get(st, "one.tgz2").empty());

  auto all = st.list("");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "one.tgz");
  EXPECT_EQ(all[0].size, data.size());
  EXPECT_EQ(st.list("one.tgz2").size(), 1u);
  EXPECT_TRUE(st.list("x").empty());

  st.remove("one.tgz");
  EXPECT_FALSE(st.stat("one.tgz"));
  EXPECT_EQ(kind_of([&] { st.remove("one.tgz"); }), ErrorKind::NotFound);
  EXPECT_EQ(kind_of([&] { st.open("one.tgz"); }), ErrorKind::NotFound);
}

TEST(S3Swift, KeysWithSpecialCharacters) {
  s3::S3Storage st(swift_settings(unique_bucket("keys")));
  std::vector<std::string> names = {"with space.tgz", "plus+sign.tgz", "per%cent.tgz",
                                    "été 日本.tgz", "a=b&c;d,e.tgz", "dir/sub/x.tgz"};
  for (std::size_t i = 0; i < names.size(); ++i) put(st, names[i], random_bytes(1000 + i, i));
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(get(st, names[i]), random_bytes(1000 + i, i)) << names[i];
  EXPECT_EQ(st.list("").size(), names.size());
  EXPECT_EQ(st.list("été").size(), 1u);
  EXPECT_EQ(st.list("plus+").size(), 1u);
  for (auto& n : names) st.remove(n);
  EXPECT_TRUE(st.list("").empty());
}

TEST(S3Swift, ListPagination) {
  auto s = swift_settings(unique_bucket("pages"));
  s.list_page_size = 2;
  s3::S3Storage st(s);
  for (int i = 0; i < 7; ++i) put(st, "k" + std::to_string(i), {std::uint8_t(i)});
  auto all = st.list("k");
  ASSERT_EQ(all.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(all[i].name, "k" + std::to_string(i));
}

TEST(S3Swift, MultipartParallelPartsAndRangedReads) {
  auto s = swift_settings(unique_bucket("multi"));
  s.part_size = 5 << 20;
  s.threads = 3;
  s.read_chunk = 3 << 20;
  s3::S3Storage st(s);
  auto data = random_bytes((23 << 20) + 12345, 2);  // 5 parts, the last short
  put(st, "big.tgz", data);
  EXPECT_EQ(st.stat("big.tgz")->size, data.size());
  EXPECT_EQ(get(st, "big.tgz"), data);
  EXPECT_EQ(open_uploads(s), "");
}

TEST(S3Swift, UnfinishedWritersLeaveNothing) {
  auto s = swift_settings(unique_bucket("abort"));
  s.part_size = 5 << 20;
  s3::S3Storage st(s);
  auto data = random_bytes(12 << 20, 3);
  {
    auto w = st.create("gone.tgz", std::nullopt);
    w->write(data);  // two parts uploaded, a multipart upload open
    EXPECT_NE(open_uploads(s), "");
  }
  {
    auto w = st.create("small-gone.tgz", std::nullopt);
    w->write(bakthat::Bytes(data).first(1000));
  }
  EXPECT_FALSE(st.stat("gone.tgz"));
  EXPECT_FALSE(st.stat("small-gone.tgz"));
  EXPECT_EQ(open_uploads(s), "");
}

TEST(S3Swift, WrongSecretIsAClearAuthError) {
  auto good = swift_settings(unique_bucket("auth"));
  s3::S3Storage ok(good);
  put(ok, "x", {1, 2, 3});
  auto bad = good;
  bad.client.keys.secret_key = "wrong";
  s3::S3Storage st(bad);
  std::string msg;
  EXPECT_EQ(kind_of([&] { st.create("y", std::nullopt); }, &msg), ErrorKind::Auth);
  EXPECT_EQ(msg, "S3: wrong secret key for bucket '" + good.client.bucket + "' (SignatureDoesNotMatch)");
  EXPECT_EQ(kind_of([&] { st.open("x"); }, &msg), ErrorKind::Auth);
  EXPECT_NE(msg.find("SignatureDoesNotMatch"), std::string::npos) << msg;
  EXPECT_EQ(kind_of([&] { st.list(""); }), ErrorKind::Auth);
}

// The signed SHA-256 of a body is the checksum every part carries: a body
// changed after signing (as by corruption on the way) is refused, and no
// object appears.
TEST(S3Swift, BodyNotMatchingItsSignedHashIsRefused) {
  auto settings = swift_settings(unique_bucket("digest"));
  s3::S3Storage st(settings);
  put(st, "seed", {1});  // creates the bucket
  s3::Client c(settings.client);
  std::vector<std::uint8_t> sent(100000, 7), signed_for(100000, 8);
  s3::S3Request r;
  r.method = "PUT";
  r.key = "tampered";
  r.body = sent;
  r.send_body = true;
  r.payload_hash = bakthat::util::sha256_hex(signed_for);
  std::string msg;
  EXPECT_EQ(kind_of([&] { c.send_once(r); }, &msg), ErrorKind::Storage);
  EXPECT_NE(msg.find("BadDigest"), std::string::npos) << msg;
  EXPECT_FALSE(st.stat("tampered"));
  r.payload_hash = bakthat::util::sha256_hex(sent);
  c.send_once(r);
  EXPECT_TRUE(st.stat("tampered"));
}

TEST(S3Swift, UnreachableEndpointIsAClearError) {
  auto s = swift_settings("b", "http://127.0.0.1:1");
  s.client.retry.max_attempts = 2;
  s3::S3Storage st(s);
  std::string msg;
  EXPECT_EQ(kind_of([&] { st.list(""); }, &msg), ErrorKind::Storage);
  EXPECT_EQ(msg, "S3: cannot connect to http://127.0.0.1:1 (Couldn't connect to server)");
}

TEST(S3Swift, PresignedUrlsWorkAndExpire) {
  s3::S3Storage st(swift_settings(unique_bucket("presign")));
  auto data = random_bytes(5000, 4);
  put(st, "shared file+.tgz", data);
  net::Client c(net::default_options("test"));
  net::Request r;
  r.url = st.presign("shared file+.tgz", "GET", 60);
  auto resp = c.perform(r);
  EXPECT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(resp.body, std::string(data.begin(), data.end()));

  // The curl command line, which knows nothing of S3, fetches it too.
  std::string file = "/tmp/bakthat-presign-" + std::to_string(::getpid());
  std::string cmd = "curl -sf -o " + file + " '" + r.url + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream fetched(file, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(fetched)), std::istreambuf_iterator<char>());
  std::remove(file.c_str());
  EXPECT_EQ(got, std::string(data.begin(), data.end()));

  r.url = st.presign("shared file+.tgz", "GET", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_EQ(c.perform(r).status, 403);

  net::Request tampered;
  tampered.url = st.presign("shared file+.tgz", "GET", 60);
  tampered.url.replace(tampered.url.find("X-Amz-Expires=60"), 16, "X-Amz-Expires=61");
  EXPECT_EQ(c.perform(tampered).status, 403);

  net::Request put_req;
  put_req.method = "PUT";
  put_req.url = st.presign("uploaded", "PUT", 60);
  std::string body = "hello";
  put_req.body = bakthat::util::as_bytes(body);
  put_req.send_body = true;
  EXPECT_EQ(c.perform(put_req).status, 200);
  EXPECT_EQ(get(st, "uploaded").size(), 5u);

  net::Request del;
  del.method = "DELETE";
  del.url = st.presign("uploaded", "DELETE", 60);
  EXPECT_EQ(c.perform(del).status, 204);
  EXPECT_FALSE(st.stat("uploaded"));

  EXPECT_EQ(kind_of([&] { st.presign("x", "GET", 604801); }), ErrorKind::Usage);
  EXPECT_EQ(kind_of([&] { st.presign("x", "GET", 0); }), ErrorKind::Usage);
  EXPECT_NO_THROW(st.presign("x", "GET", 604800));
}

TEST(S3Faults, TransientFailuresAreRetriedByteForByte) {
  std::string stats = "/tmp/bakthat-faultproxy-" + std::to_string(::getpid()) + ".stats";
  Proxy proxy(servers()["S3_ENDPOINT"].substr(7), {"--seed", "7", "--fail", "0.15", "--drop", "0.05", "--drop-body", "0.1", "--stall", "0.05",
               "--stall-seconds", "1", "--stats", stats});
  auto s = swift_settings(unique_bucket("faults"), proxy.origin());
  s.part_size = 5 << 20;
  s.read_chunk = 2 << 20;
  s.client.retry.max_attempts = 8;
  s3::S3Storage st(s);
  auto data = random_bytes((17 << 20) + 999, 5);
  put(st, "flaky.tgz", data);
  auto small = random_bytes(70000, 6);
  put(st, "small.tgz", small);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(get(st, "flaky.tgz"), data);
    EXPECT_EQ(get(st, "small.tgz"), small);
  }
  EXPECT_EQ(st.list("").size(), 2u);
  EXPECT_EQ(open_uploads(swift_settings(s.client.bucket)), "");
  // The seed is fixed, so every kind of fault happened and was survived.
  expect_every_fault(stats);
}

TEST(S3Faults, PermanentFailureAbortsTheUpload) {
  Proxy proxy(servers()["S3_ENDPOINT"].substr(7), {"--always-fail", "partNumber=3&"});
  auto s = swift_settings(unique_bucket("permanent"), proxy.origin());
  s.part_size = 5 << 20;
  s.client.retry.max_attempts = 3;
  s3::S3Storage st(s);
  auto data = random_bytes(16 << 20, 8);
  std::string msg;
  EXPECT_EQ(kind_of([&] { put(st, "doomed.tgz", data); }, &msg), ErrorKind::Storage);
  EXPECT_NE(msg.find("InternalError"), std::string::npos) << msg;
  auto direct = swift_settings(s.client.bucket);
  s3::S3Storage check(direct);
  EXPECT_FALSE(check.stat("doomed.tgz"));
  EXPECT_EQ(open_uploads(direct), "");
}

TEST(S3Moto, StorageClassesAndGlacierRestore) {
  auto s = moto_settings(unique_bucket("classes"));
  s.storage_class = "GLACIER";
  s3::S3Storage st(s);
  auto data = random_bytes(4000, 9);
  put(st, "cold.tgz", data);
  EXPECT_EQ(st.stat("cold.tgz")->storage_class, "GLACIER");
  EXPECT_EQ(st.list("")[0].storage_class, "GLACIER");
  std::string msg;
  EXPECT_EQ(kind_of([&] { get(st, "cold.tgz"); }, &msg), ErrorKind::Storage);
  EXPECT_NE(msg.find("is in GLACIER; run restore again later"), std::string::npos) << msg;
  auto first = st.prepare_read("cold.tgz");
  EXPECT_TRUE(first == bakthat::Readiness::RetrievalStarted || first == bakthat::Readiness::Ready);
  EXPECT_EQ(st.prepare_read("cold.tgz"), bakthat::Readiness::Ready);  // moto restores at once
  EXPECT_EQ(get(st, "cold.tgz"), data);

  auto ia = moto_settings(s.client.bucket);
  ia.storage_class = "STANDARD_IA";
  s3::S3Storage warm(ia);
  put(warm, "warm.tgz", data);
  EXPECT_EQ(warm.stat("warm.tgz")->storage_class, "STANDARD_IA");
  EXPECT_EQ(warm.prepare_read("warm.tgz"), bakthat::Readiness::Ready);
  auto standard = moto_settings(s.client.bucket);
  s3::S3Storage plain(standard);
  put(plain, "plain.tgz", data);
  EXPECT_EQ(plain.stat("plain.tgz")->storage_class, "STANDARD");
}

TEST(S3Moto, BucketInAnotherRegionIsCreatedWithItsConstraint) {
  auto s = moto_settings(unique_bucket("region"));
  s.client.region = "eu-west-3";
  s3::S3Storage st(s);
  put(st, "r.tgz", {1});
  s3::Client c(s.client);
  s3::S3Request r;
  r.query = {{"location", ""}};
  EXPECT_NE(c.send(r).body.find("eu-west-3"), std::string::npos);
}

TEST(S3Faults, StalledRepliesTimeOutAndAreRetried) {
  ::setenv("BAKTHAT_HTTP_TIMEOUT", "1", 1);
  Proxy proxy(servers()["S3_ENDPOINT"].substr(7), {"--stall", "1.0", "--stall-seconds", "3", "--max-faults", "2"});
  auto s = swift_settings(unique_bucket("stall"), proxy.origin());
  s3::S3Storage st(s);
  ::unsetenv("BAKTHAT_HTTP_TIMEOUT");
  auto data = random_bytes(3000, 10);
  auto start = std::chrono::steady_clock::now();
  put(st, "slow.tgz", data);
  EXPECT_EQ(get(st, "slow.tgz"), data);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}
