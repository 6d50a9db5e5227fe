// SigV4 against the official vectors (docs/formats.md §5.4): the AWS generic
// test suite, the S3 header-signing examples and the presigned-URL example.
#include "storage/s3/sigv4.hpp"

#include <gtest/gtest.h>

#include "util/bytes.hpp"

namespace s3 = bakthat::storage::s3;

namespace {

const s3::SigningKeys kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const s3::SigningKeys kS3{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kSuiteDate = "20150830T123600Z";
constexpr const char* kS3Date = "20130524T000000Z";
constexpr const char* kS3Host = "examplebucket.s3.amazonaws.com";

s3::CanonicalInput suite_get(std::string path, s3::Params query = {}) {
  s3::CanonicalInput in;
  in.method = "GET";
  in.path = s3::encode_path(path);
  in.query = std::move(query);
  in.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteDate}};
  in.payload_hash = std::string(s3::kEmptyPayloadHash);
  return in;
}

s3::CanonicalInput s3_get(std::string path, s3::Params query = {}) {
  s3::CanonicalInput in;
  in.method = "GET";
  in.path = s3::encode_path(path);
  in.query = std::move(query);
  in.headers = {{"host", kS3Host},
                {"x-amz-content-sha256", std::string(s3::kEmptyPayloadHash)},
                {"x-amz-date", kS3Date}};
  in.payload_hash = std::string(s3::kEmptyPayloadHash);
  return in;
}

}  // namespace

TEST(SigV4Suite, GetVanilla) {
  auto in = suite_get("/");
  EXPECT_EQ(s3::canonical_request(in),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                std::string(s3::kEmptyPayloadHash));
  auto sts = s3::string_to_sign(kSuiteDate, s3::credential_scope(kSuiteDate, "us-east-1", "service"),
                                s3::canonical_request(in));
  EXPECT_EQ(sts.substr(sts.rfind('\n') + 1),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s3::signature(kSuite, kSuiteDate, "us-east-1", "service", in),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(s3::authorization(kSuite, kSuiteDate, "us-east-1", "service", in),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Suite, QueryOrderKeyCase) {
  auto in = suite_get("/", {{"Param2", "value2"}, {"Param1", "value1"}});
  EXPECT_EQ(s3::canonical_query(in.query), "Param1=value1&Param2=value2");
  EXPECT_EQ(s3::signature(kSuite, kSuiteDate, "us-east-1", "service", in),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Suite, GetSpace) {
  auto in = suite_get("/example space/");
  EXPECT_EQ(in.path, "/example%20space/");
  EXPECT_EQ(s3::signature(kSuite, kSuiteDate, "us-east-1", "service", in),
            "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
}

TEST(SigV4S3, GetObjectWithRange) {
  auto in = s3_get("/test.txt");
  in.headers.emplace_back("Range", "bytes=0-9");
  EXPECT_EQ(s3::signed_headers(in.headers), "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(bakthat::util::sha256_hex(bakthat::util::as_bytes(s3::canonical_request(in))),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s3::signature(kS3, kS3Date, "us-east-1", "s3", in),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3, PutObject) {
  std::string body = "Welcome to Amazon S3.";
  auto hash = bakthat::util::sha256_hex(bakthat::util::as_bytes(body));
  ASSERT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  s3::CanonicalInput in;
  in.method = "PUT";
  in.path = s3::encode_path("/test$file.text");
  EXPECT_EQ(in.path, "/test%24file.text");
  in.headers = {{"Host", kS3Host},
                {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"x-amz-date", kS3Date},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                {"x-amz-content-sha256", hash}};
  in.payload_hash = hash;
  EXPECT_EQ(s3::signed_headers(in.headers), "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(s3::signature(kS3, kS3Date, "us-east-1", "s3", in),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3, GetBucketLifecycle) {
  auto in = s3_get("/", {{"lifecycle", ""}});
  EXPECT_EQ(s3::canonical_query(in.query), "lifecycle=");
  EXPECT_EQ(s3::signature(kS3, kS3Date, "us-east-1", "s3", in),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3, ListObjects) {
  auto in = s3_get("/", {{"prefix", "J"}, {"max-keys", "2"}});
  EXPECT_EQ(s3::signature(kS3, kS3Date, "us-east-1", "s3", in),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3, PresignedUrl) {
  s3::CanonicalInput in;
  in.method = "GET";
  in.path = "/test.txt";
  in.headers = {{"host", kS3Host}};
  auto q = s3::presign_query(kS3, kS3Date, "us-east-1", "s3", in, 86400);
  EXPECT_EQ(q,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4S3, PresignedUrlCarriesSessionToken) {
  s3::CanonicalInput in;
  in.method = "GET";
  in.path = "/test.txt";
  in.headers = {{"host", kS3Host}};
  auto keys = kS3;
  keys.session_token = "tok/en+=";
  auto q = s3::presign_query(keys, kS3Date, "us-east-1", "s3", in, 60);
  EXPECT_NE(q.find("X-Amz-Security-Token=tok%2Fen%2B%3D&"), std::string::npos) << q;
  EXPECT_NE(q.find("&X-Amz-Signature="), std::string::npos);
}

TEST(UriEncode, KeysWithSpecialBytes) {
  EXPECT_EQ(s3::encode_path("/b/my file+x%y.tgz"), "/b/my%20file%2Bx%25y.tgz");
  EXPECT_EQ(s3::encode_path("/b/été/日本"), "/b/%C3%A9t%C3%A9/%E6%97%A5%E6%9C%AC");
  EXPECT_EQ(s3::encode_path("/b/a//./../~_-."), "/b/a//./../~_-.");  // never normalized
  EXPECT_EQ(s3::uri_encode("a/b c", false), "a%2Fb%20c");
  EXPECT_EQ(s3::canonical_query({{"prefix", "a b/c+"}, {"list-type", "2"}}),
            "list-type=2&prefix=a%20b%2Fc%2B");
}

TEST(SigV4, HeaderValuesAreTrimmedAndCollapsed) {
  s3::CanonicalInput in;
  in.method = "GET";
  in.path = "/";
  in.headers = {{"X-Amz-Meta-A", "  one   two  "}, {"host", "h"}};
  in.payload_hash = "UNSIGNED-PAYLOAD";
  EXPECT_EQ(s3::canonical_request(in), "GET\n/\n\nhost:h\nx-amz-meta-a:one two\n\nhost;x-amz-meta-a\nUNSIGNED-PAYLOAD");
}

TEST(SigV4, AmzDate) { EXPECT_EQ(s3::amz_date(1369353600), "20130524T000000Z"); }
