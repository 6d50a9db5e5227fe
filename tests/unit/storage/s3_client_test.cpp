// Pure pieces of the S3 destination: addressing, error classification, part
// sizes, XML replies, credentials files and retry backoff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "net/retry.hpp"
#include "storage/s3/client.hpp"
#include "storage/s3/credentials.hpp"
#include "storage/s3/part_size.hpp"
#include "storage/s3/xml.hpp"

namespace s3 = bakthat::storage::s3;
namespace retry = bakthat::net::retry;
using bakthat::ErrorKind;

TEST(Addressing, AwsAutoIsVirtualHosted) {
  auto a = s3::resolve_addressing("", "auto", "my-bucket", "eu-west-1");
  EXPECT_EQ(a.scheme, "https");
  EXPECT_EQ(a.authority, "my-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(a.path_prefix, "");
}

TEST(Addressing, AwsAutoFallsBackToPathForDottedBuckets) {
  auto a = s3::resolve_addressing("", "auto", "my.bucket", "us-east-1");
  EXPECT_EQ(a.authority, "s3.us-east-1.amazonaws.com");
  EXPECT_EQ(a.path_prefix, "/my.bucket");
}

TEST(Addressing, CustomEndpointAutoIsPathStyle) {
  auto a = s3::resolve_addressing("http://127.0.0.1:18080/", "auto", "b", "us-east-1");
  EXPECT_EQ(a.scheme, "http");
  EXPECT_EQ(a.authority, "127.0.0.1:18080");
  EXPECT_EQ(a.path_prefix, "/b");
  auto v = s3::resolve_addressing("https://minio.example:443", "virtual", "b", "us-east-1");
  EXPECT_EQ(v.authority, "b.minio.example");
  EXPECT_EQ(v.path_prefix, "");
}

TEST(Addressing, BadSettingsAreConfigErrors) {
  try {
    s3::resolve_addressing("127.0.0.1:9000", "auto", "b", "us-east-1");
    FAIL();
  } catch (const bakthat::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
  }
  EXPECT_THROW(s3::resolve_addressing("", "sideways", "b", "us-east-1"), bakthat::Error);
}

TEST(Failures, ClassifiedWithBucketAndCode) {
  auto f = s3::classify_failure(403, {"SignatureDoesNotMatch", "x"}, "bk", "k", "PUT");
  EXPECT_EQ(f.kind, ErrorKind::Auth);
  EXPECT_EQ(f.message, "S3: wrong secret key for bucket 'bk' (SignatureDoesNotMatch)");
  EXPECT_FALSE(f.transient);
  f = s3::classify_failure(403, {"AccessDenied", ""}, "bk", "k", "GET");
  EXPECT_EQ(f.message, "S3: access denied to bucket 'bk' (AccessDenied)");
  EXPECT_EQ(f.kind, ErrorKind::Auth);
  f = s3::classify_failure(404, {"NoSuchKey", ""}, "bk", "k", "GET");
  EXPECT_EQ(f.kind, ErrorKind::NotFound);
  f = s3::classify_failure(404, {}, "bk", "k", "HEAD");
  EXPECT_EQ(f.kind, ErrorKind::NotFound);
  f = s3::classify_failure(403, {"InvalidObjectState", ""}, "bk", "k", "GET");
  EXPECT_EQ(f.kind, ErrorKind::Storage);
  EXPECT_NE(f.message.find("is in GLACIER; run restore again later"), std::string::npos);
  for (auto [status, code] : {std::pair<long, const char*>{500, "InternalError"}, {503, "SlowDown"},
                              {400, "RequestTimeout"}, {429, ""}, {502, ""}})
    EXPECT_TRUE(s3::classify_failure(status, {code, ""}, "b", "k", "PUT").transient) << status << code;
  EXPECT_FALSE(s3::classify_failure(400, {"InvalidArgument", "bad"}, "b", "k", "PUT").transient);
}

TEST(PartSize, DefaultsAndLimits) {
  EXPECT_EQ(s3::first_part_size(0, std::nullopt), s3::kDefaultPartSize);
  EXPECT_EQ(s3::first_part_size(1, std::nullopt), s3::kMinPartSize);
  EXPECT_EQ(s3::first_part_size(100ull << 30, std::nullopt), s3::kMaxPartSize);
  // A 1 TiB object announced in advance fits in 10,000 equal parts.
  auto p = s3::first_part_size(0, 1ull << 40);
  EXPECT_GE(p * s3::kMaxParts, 1ull << 40);
  EXPECT_EQ(p % s3::kMiB, 0u);
}

TEST(PartSize, PartsInFlightStayWithinTheMemoryBudget) {
  // The default part: 3 of 32 MiB at once, whatever the thread count above.
  EXPECT_EQ(s3::parts_in_flight(4, s3::kDefaultPartSize), 3);
  EXPECT_EQ(s3::parts_in_flight(8, s3::kDefaultPartSize), 3);
  // Small parts: up to the thread count; large ones: never fewer than 2.
  EXPECT_EQ(s3::parts_in_flight(8, s3::kMinPartSize), 8);
  EXPECT_EQ(s3::parts_in_flight(4, s3::kMinPartSize), 4);
  EXPECT_EQ(s3::parts_in_flight(8, s3::kMaxPartSize), 2);
  EXPECT_EQ(s3::parts_in_flight(1, s3::kMinPartSize), 2);
  for (std::uint64_t part = s3::kMinPartSize; part <= s3::kMaxPartSize; part *= 2) {
    const int n = s3::parts_in_flight(8, part);
    EXPECT_TRUE(n == 2 || n * part <= s3::kPartsInFlightBytes) << part;
  }
}

TEST(PartSize, GrowthReachesLargeObjectsWithinTenThousandParts) {
  std::uint64_t first = s3::first_part_size(0, std::nullopt);
  std::uint64_t total = 0;
  for (int n = 1; n <= s3::kMaxParts; ++n) {
    auto size = s3::part_size_for(first, n);
    EXPECT_GE(size, s3::kMinPartSize);
    EXPECT_LE(size, s3::kMaxPartSize);
    total += size;
  }
  EXPECT_GE(total, 5ull << 40);  // at least 5 TiB
  EXPECT_EQ(s3::part_size_for(first, 1000), first);
  EXPECT_EQ(s3::part_size_for(first, 1001), 2 * first);
}

TEST(Xml, ListV2Page) {
  auto page = s3::parse_list_v2(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix>
<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
<Contents><Key>a b+%c &amp; é</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>"x"</ETag><Size>434234</Size><StorageClass>GLACIER</StorageClass></Contents>
<Contents><Key>z</Key><LastModified>2013-09-17T18:07:53.000Z</LastModified><Size>0</Size></Contents>
</ListBucketResult>)");
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].name, "a b+%c & é");
  EXPECT_EQ(page.objects[0].size, 434234u);
  EXPECT_EQ(page.objects[0].modified, 1255369830);
  EXPECT_EQ(page.objects[0].storage_class, "GLACIER");
  EXPECT_EQ(page.objects[1].storage_class, "STANDARD");
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(Xml, ErrorAndOtherReplies) {
  auto e = s3::parse_error(R"(<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message><Resource>/x</Resource></Error>)");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The resource you requested does not exist");
  EXPECT_EQ(s3::parse_error("").code, "");
  EXPECT_EQ(s3::parse_error("<html>oops").code, "");
  EXPECT_EQ(s3::parse_upload_id("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>abc-1</UploadId></InitiateMultipartUploadResult>"),
            "abc-1");
  EXPECT_THROW(s3::parse_upload_id("<Other/>"), bakthat::Error);
  auto body = s3::complete_body({{1, "\"e1\""}, {2, "\"e2\""}});
  EXPECT_NE(body.find("<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"), std::string::npos) << body;
  EXPECT_NE(s3::restore_body("Bulk", 1).find("<Days>1</Days><GlacierJobParameters><Tier>Bulk</Tier>"),
            std::string::npos);
  EXPECT_EQ(s3::create_bucket_body("us-east-1"), "");
  EXPECT_NE(s3::create_bucket_body("eu-west-3").find("<LocationConstraint>eu-west-3</LocationConstraint>"),
            std::string::npos);
}

TEST(Xml, DeleteObjects) {
  auto body = s3::delete_body({"a&b", ".bakthat/rows/s3/log-1"});
  EXPECT_NE(body.find("<Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>.bakthat/rows/s3/log-1</Key></Object>"),
            std::string::npos) << body;
  EXPECT_TRUE(s3::parse_delete_errors(R"(<?xml version="1.0"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>)").empty());
  auto failed = s3::parse_delete_errors(
      "<DeleteResult><Deleted><Key>x</Key></Deleted><Error><Key>y</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0], (std::pair<std::string, std::string>{"y", "AccessDenied"}));
  EXPECT_THROW(s3::parse_delete_errors("<Other/>"), bakthat::Error);
}

TEST(Credentials, SharedFileSections) {
  auto dir = std::filesystem::temp_directory_path() / ("bakthat-cred-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "credentials").string();
  std::ofstream(path) << "[default]\naws_access_key_id = AK1\naws_secret_access_key=SK1\n"
                         "# comment\n[work]\naws_access_key_id=AK2\naws_secret_access_key = SK2\n"
                         "aws_session_token = TOK\n";
  auto d = s3::read_credentials_file(path, "default");
  EXPECT_EQ(d.access_key, "AK1");
  EXPECT_EQ(d.secret_key, "SK1");
  EXPECT_EQ(d.session_token, "");
  auto w = s3::read_credentials_file(path, "work");
  EXPECT_EQ(w.access_key, "AK2");
  EXPECT_EQ(w.session_token, "TOK");
  EXPECT_EQ(s3::read_credentials_file(path, "none").access_key, "");

  // Resolution order: profile, environment, file.
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", path.c_str(), 1);
  ::setenv("AWS_PROFILE", "work", 1);
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  bakthat::Profile p;
  EXPECT_EQ(s3::resolve_credentials(p).access_key, "AK2");
  ::setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "ENVSK", 1);
  EXPECT_EQ(s3::resolve_credentials(p).access_key, "ENVAK");
  p.access_key = "PAK";
  p.secret_key = "PSK";
  EXPECT_EQ(s3::resolve_credentials(p).access_key, "PAK");
  p.access_key.clear();
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (dir / "missing").c_str(), 1);
  try {
    s3::resolve_credentials(p);
    FAIL();
  } catch (const bakthat::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
  }
  std::filesystem::remove_all(dir);
}

TEST(Retry, RetriesTransientOnlyAndGivesUp) {
  retry::Policy p;
  p.first_delay = std::chrono::milliseconds(1);
  p.max_attempts = 4;
  int calls = 0;
  EXPECT_EQ(retry::run(p, [&] {
              if (++calls < 3) throw retry::TransientError("busy");
              return 7;
            }),
            7);
  EXPECT_EQ(calls, 3);
  calls = 0;
  try {
    retry::run(p, [&] { ++calls; throw retry::TransientError("S3: still busy"); });
    FAIL();
  } catch (const retry::TransientError&) {
    FAIL() << "the last failure must not look transient to an outer retry";
  } catch (const bakthat::Error& e) {
    EXPECT_EQ(std::string(e.what()), "S3: still busy");
    EXPECT_EQ(e.kind(), ErrorKind::Storage);
  }
  EXPECT_EQ(calls, 4);
  calls = 0;
  EXPECT_THROW(retry::run(p, [&] { ++calls; throw bakthat::Error(ErrorKind::Auth, "no"); }), bakthat::Error);
  EXPECT_EQ(calls, 1);
}

TEST(Retry, BackoffGrowsWithJitterAndCap) {
  retry::Policy p;
  p.first_delay = std::chrono::milliseconds(100);
  p.max_delay = std::chrono::milliseconds(1000);
  for (int i = 0; i < 50; ++i) {
    auto d2 = retry::backoff(p, 2).count();
    EXPECT_GE(d2, 50);
    EXPECT_LE(d2, 100);
    auto d4 = retry::backoff(p, 4).count();
    EXPECT_GE(d4, 200);
    EXPECT_LE(d4, 400);
    EXPECT_LE(retry::backoff(p, 20).count(), 1000);
  }
}
