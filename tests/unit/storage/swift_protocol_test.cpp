// Swift URLs, listings, SLO manifests, segment sizes and TempURL signatures.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bakthat/errors.hpp"
#include "storage/swift/client.hpp"
#include "storage/swift/protocol.hpp"

using namespace bakthat;
using namespace bakthat::storage::swift;
using nlohmann::json;

TEST(SwiftProtocol, UrlsQuoteEveryReservedByte) {
  const std::string base = "http://h:8080/v1/AUTH_test";
  EXPECT_EQ(object_url(base, "c", ""), base + "/c");
  EXPECT_EQ(object_url(base + "/", "c", "a b+c%d"), base + "/c/a%20b%2Bc%25d");
  EXPECT_EQ(object_url(base, "c", "dir/../x"), base + "/c/dir%2F..%2Fx");
  EXPECT_EQ(object_url(base, "c", "h\xC3\xA9llo \xE2\x98\x83"), base + "/c/h%C3%A9llo%20%E2%98%83");
  EXPECT_EQ(object_url(base, "c", "", {{"format", "json"}, {"marker", "a b&c"}}),
            base + "/c?format=json&marker=a%20b%26c");
  EXPECT_EQ(object_url(base, "", ""), base);
}

TEST(SwiftProtocol, UrlPath) {
  EXPECT_EQ(url_path("http://h:8080/v1/AUTH_test"), "/v1/AUTH_test");
  EXPECT_EQ(url_path("https://h/v1/AUTH_x?y"), "/v1/AUTH_x");
  EXPECT_EQ(url_path("http://h"), "/");
}

TEST(SwiftProtocol, ListingSkipsSubdirsAndReadsTimes) {
  auto page = parse_listing(R"([
    {"name": "a b", "hash": "x", "bytes": 12, "content_type": "t", "last_modified": "2014-01-15T16:41:49.390270"},
    {"subdir": "dir/"},
    {"name": "h\u00e9", "bytes": 0, "last_modified": "1970-01-01T00:00:01"}])");
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].name, "a b");
  EXPECT_EQ(page[0].size, 12u);
  EXPECT_EQ(page[0].modified, 1389804109);
  EXPECT_EQ(page[1].name, "h\xC3\xA9");
  EXPECT_EQ(page[1].modified, 1);
  EXPECT_TRUE(parse_listing("[]").empty());
  EXPECT_THROW(parse_listing("<html>"), Error);
}

TEST(SwiftProtocol, SloManifest) {
  std::vector<Segment> segs = {{"c_segments", "big/1.5-ab/00000000", "d41d8cd98f00b204e9800998ecf8427e", 5},
                               {"c_segments", "big/1.5-ab/00000001", "0123", 3}};
  json j = json::parse(slo_manifest(segs));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["path"], "/c_segments/big/1.5-ab/00000000");
  EXPECT_EQ(j[0]["etag"], "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(j[0]["size_bytes"], 5);
  EXPECT_EQ(j[1]["size_bytes"], 3);
  EXPECT_EQ(segment_container("c"), "c_segments");
  EXPECT_EQ(segment_name("a b", "u", 12), "a b/u/00000012");
}

TEST(SwiftProtocol, SegmentSizes) {
  EXPECT_EQ(first_segment_size(0, std::nullopt), 16 * kMiB);
  EXPECT_EQ(first_segment_size(100, std::nullopt), kMinSegmentSize);
  EXPECT_EQ(first_segment_size(0, 100ull << 30), 103 * kMiB);  // 100 GiB in 1000 segments
  EXPECT_EQ(first_segment_size(1ull << 40, std::nullopt), kMaxSegmentSize);
  EXPECT_EQ(segment_size_for(16 * kMiB, 0), 16 * kMiB);
  EXPECT_EQ(segment_size_for(16 * kMiB, 99), 16 * kMiB);
  EXPECT_EQ(segment_size_for(16 * kMiB, 100), 32 * kMiB);
  EXPECT_EQ(segment_size_for(4ull << 30, 300), kMaxSegmentSize);
}

TEST(SwiftProtocol, BulkDeleteReply) {
  EXPECT_EQ(bulk_delete_failure(R"({"Response Status": "200 OK", "Errors": [], "Number Deleted": 3})"), "");
  EXPECT_EQ(bulk_delete_failure(R"({"Response Status": "400 Bad Request", "Errors": [["/c/x", "409 Conflict"]]})"),
            R"(400 Bad Request: ["/c/x","409 Conflict"])");
  EXPECT_EQ(bulk_delete_failure("oops"), "unreadable reply");
}

TEST(SwiftProtocol, TempUrlSignature) {
  // HMAC-SHA256("mykey", "GET\n1700000000\n/v1/AUTH_test/c/o"), computed with
  // python3 hmac (the algorithm of swift's tempurl middleware).
  EXPECT_EQ(temp_url_query("mykey", "GET", 1700000000, "/v1/AUTH_test/c/o"),
            "temp_url_sig=7d8e44a645aab88cf197df39a844fc98555dad169375805007f6e9b55a5c9370&temp_url_expires=1700000000");
}

TEST(SwiftProtocol, FailuresAreClassified) {
  auto f = classify_failure(503, "", "PUT", "c", "o");
  EXPECT_TRUE(f.transient);
  f = classify_failure(404, "", "GET", "c", "o");
  EXPECT_EQ(f.kind, ErrorKind::NotFound);
  EXPECT_EQ(f.message, "Swift: no object 'o' in container 'c'");
  f = classify_failure(404, "", "GET", "c", "");
  EXPECT_EQ(f.message, "Swift: container 'c' does not exist");
  f = classify_failure(403, "", "PUT", "c", "");
  EXPECT_EQ(f.kind, ErrorKind::Auth);
  EXPECT_FALSE(f.transient);
  EXPECT_TRUE(classify_failure(422, "", "PUT", "c", "o").transient);
  f = classify_failure(400, "Bad manifest\nmore", "PUT", "c", "o");
  EXPECT_EQ(f.message, "Swift: PUT 'o' in container 'c' failed: Bad manifest (400)");
}
