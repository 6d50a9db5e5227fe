// Glacier request building, error replies and job descriptions.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "storage/glacier/client.hpp"
#include "storage/glacier/tree_hash.hpp"
#include "util/bytes.hpp"

namespace bakthat::storage::glacier {
namespace {

std::string header_of(const net::Request& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

ClientConfig example_config() {
  ClientConfig c;
  c.keys = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  c.region = "us-east-1";
  c.vault = "examplevault";
  return c;
}

// docs/formats.md §4.2: the Glacier documentation's example signature.
TEST(GlacierRequest, DocumentedSignature) {
  ClientConfig c = example_config();
  Endpoint e = resolve_endpoint("", "us-east-1");
  EXPECT_EQ(e.authority, "glacier.us-east-1.amazonaws.com");
  GlacierRequest r;
  r.method = "PUT";
  net::Request req = build_request(c, e, r, "20120525T002453Z");
  EXPECT_EQ(req.url, "https://glacier.us-east-1.amazonaws.com/-/vaults/examplevault");
  EXPECT_EQ(header_of(req, "x-amz-glacier-version"), "2012-06-01");
  EXPECT_EQ(header_of(req, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20120525/us-east-1/glacier/aws4_request, "
            "SignedHeaders=host;x-amz-date;x-amz-glacier-version, "
            "Signature=3ce5b2f2fffac9262b4da9256f8d086b4aaf42eba5f111c21681a65a127b7c2a");
  EXPECT_EQ(header_of(req, "x-amz-content-sha256"), "");
}

TEST(GlacierRequest, UploadCarriesBothHashesAndSignsThem) {
  ClientConfig c = example_config();
  c.keys.session_token = "tok";
  Endpoint e = resolve_endpoint("http://127.0.0.1:15000/", "us-east-1");
  std::vector<std::uint8_t> body(2 * kMiB + 3, 'z');
  GlacierRequest r;
  r.method = "POST";
  r.path = "/archives";
  r.headers = {{"x-amz-archive-description", "a.tgz"}};
  r.body = body;
  r.send_body = true;
  r.upload_hashes = true;
  net::Request req = build_request(c, e, r, "20240101T000000Z");
  EXPECT_EQ(req.url, "http://127.0.0.1:15000/-/vaults/examplevault/archives");
  EXPECT_EQ(header_of(req, "host"), "127.0.0.1:15000");
  EXPECT_EQ(header_of(req, "x-amz-content-sha256"), util::sha256_hex(body));
  EXPECT_EQ(header_of(req, "x-amz-sha256-tree-hash"), tree_hash_hex(body));
  EXPECT_NE(header_of(req, "x-amz-sha256-tree-hash"), util::sha256_hex(body));
  EXPECT_EQ(header_of(req, "x-amz-security-token"), "tok");
  EXPECT_NE(header_of(req, "Authorization")
                .find("SignedHeaders=host;x-amz-archive-description;x-amz-content-sha256;x-amz-date;"
                      "x-amz-glacier-version;x-amz-security-token;x-amz-sha256-tree-hash,"),
            std::string::npos);
  EXPECT_TRUE(req.send_body);
  EXPECT_EQ(req.body.size(), body.size());
}

TEST(GlacierRequest, EndpointErrors) {
  EXPECT_THROW(resolve_endpoint("127.0.0.1:5000", "us-east-1"), Error);
  EXPECT_THROW(resolve_endpoint("ftp://h", "us-east-1"), Error);
  EXPECT_EQ(resolve_endpoint("https://g.example:443", "x").authority, "g.example");
  EXPECT_EQ(resolve_endpoint("", "eu-west-3").authority, "glacier.eu-west-3.amazonaws.com");
}

TEST(GlacierRequest, DescriptionIsPrintableAscii) {
  EXPECT_EQ(archive_description("caf\xc3\xa9\n.tgz"), "caf???.tgz");
  EXPECT_EQ(archive_description(std::string(2000, 'a')).size(), 1024u);
}

TEST(GlacierJobs, RetrievalBody) {
  auto j = nlohmann::json::parse(archive_retrieval_body("ID-1", "Expedited", "bakthat x"));
  EXPECT_EQ(j["Type"], "archive-retrieval");
  EXPECT_EQ(j["ArchiveId"], "ID-1");
  EXPECT_EQ(j["Tier"], "Expedited");
  EXPECT_EQ(j["Description"], "bakthat x");
}

TEST(GlacierJobs, ParsesDescribeJob) {
  // A reply shaped as the AWS documentation's DescribeJob example.
  JobStatus s = parse_job(R"({
    "Action": "ArchiveRetrieval",
    "ArchiveId": "NkbByEejwEggmBz2fTHgJrg0XBoDfjP4q6iu87-TjhqG6eGoOY9Z8i1_AUyUsuhPAdTqLHy8pTl5nfCFJmDl2yEZONi5L26Omw12vcs01MNGntHEQL8MBfGlqrEXAMPLEArchiveId",
    "ArchiveSizeInBytes": 16777216,
    "ArchiveSHA256TreeHash": "beb0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60",
    "Completed": true,
    "CompletionDate": "2012-05-15T17:21:39.339Z",
    "CreationDate": "2012-05-15T17:21:39.339Z",
    "JobId": "HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID",
    "StatusCode": "Succeeded",
    "StatusMessage": "Succeeded",
    "Tier": "Bulk",
    "VaultARN": "arn:aws:glacier:us-west-2:012345678901:vaults/examplevault"
  })");
  EXPECT_EQ(s.action, "ArchiveRetrieval");
  EXPECT_TRUE(s.completed);
  EXPECT_EQ(s.status_code, "Succeeded");
  EXPECT_EQ(s.archive_size, 16777216u);
  EXPECT_EQ(s.archive_tree_hash, "beb0fe31a1c7ca8c6c04d574ea906e3f97b31fdca7571defb5b44dca89b5af60");
  EXPECT_EQ(s.job_id.substr(0, 8), "HkF9p6o7");

  JobStatus p = parse_job(R"({"JobId":"j","Completed":false,"StatusCode":"InProgress","ArchiveSizeInBytes":0})");
  EXPECT_FALSE(p.completed);
  EXPECT_EQ(p.status_code, "InProgress");
  EXPECT_THROW(parse_job("<html>500</html>"), Error);
  EXPECT_THROW(parse_job(R"({"StatusCode":"Succeeded"})"), Error);
}

TEST(GlacierErrors, ParsesJsonAndHeader) {
  net::Response r;
  r.status = 404;
  r.body = R"({"code":"ResourceNotFoundException","message":"Vault not found for ARN: x","type":"Client"})";
  auto e = parse_error(r);
  EXPECT_EQ(e.code, "ResourceNotFoundException");
  EXPECT_EQ(e.message, "Vault not found for ARN: x");
  net::Response h;
  h.status = 400;
  h.headers["x-amzn-errortype"] = "VaultNotFound:http://internal.amazon.com/";
  h.body = "not json";
  EXPECT_EQ(parse_error(h).code, "VaultNotFound");
}

TEST(GlacierErrors, Classification) {
  auto f = classify_failure(404, {"ResourceNotFoundException", ""}, "v", "", "PUT");
  EXPECT_EQ(f.kind, ErrorKind::NotFound);
  EXPECT_EQ(f.message, "Glacier: vault 'v' does not exist (ResourceNotFoundException)");
  EXPECT_FALSE(f.transient);
  f = classify_failure(404, {"ResourceNotFoundException", ""}, "v", "archive 'a'", "DELETE");
  EXPECT_EQ(f.kind, ErrorKind::NotFound);
  EXPECT_EQ(f.message, "Glacier: no archive 'a' in vault 'v' (ResourceNotFoundException)");
  f = classify_failure(403, {"InvalidSignatureException", "x"}, "v", "", "GET");
  EXPECT_EQ(f.kind, ErrorKind::Auth);
  EXPECT_EQ(f.message, "Glacier: wrong secret key for vault 'v' (InvalidSignatureException)");
  EXPECT_EQ(classify_failure(403, {"UnrecognizedClientException", ""}, "v", "", "GET").kind, ErrorKind::Auth);
  EXPECT_EQ(classify_failure(403, {}, "v", "", "GET").kind, ErrorKind::Auth);
  EXPECT_TRUE(classify_failure(500, {}, "v", "", "GET").transient);
  EXPECT_TRUE(classify_failure(400, {"ThrottlingException", ""}, "v", "", "GET").transient);
  f = classify_failure(400, {"InvalidParameterValueException", "bad part"}, "v", "part 2 of 'a'", "PUT");
  EXPECT_EQ(f.kind, ErrorKind::Storage);
  EXPECT_FALSE(f.transient);
  EXPECT_EQ(f.message, "Glacier: PUT part 2 of 'a' in vault 'v' failed: bad part (InvalidParameterValueException)");
}

}  // namespace
}  // namespace bakthat::storage::glacier
