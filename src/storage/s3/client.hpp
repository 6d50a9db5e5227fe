// One S3 bucket's request layer: addressing (path or virtual-hosted), SigV4
// signing of every request, error replies turned into bakthat errors, and
// retries (through net/retry) of the failures that may pass.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "bakthat/errors.hpp"
#include "net/http.hpp"
#include "net/retry.hpp"
#include "storage/s3/sigv4.hpp"
#include "storage/s3/xml.hpp"

namespace bakthat::storage::s3 {

// Where a bucket's requests go.
struct Addressing {
  std::string scheme;       // "https" or "http"
  std::string authority;    // Host header: host[:port]
  std::string path_prefix;  // "/bucket" (path style) or "" (virtual-hosted)
  bool path_style = true;
};

// endpoint: "" for AWS in `region`, else a URL such as http://127.0.0.1:9000.
// style: "path", "virtual" or "auto" (virtual-hosted for AWS when the bucket
// name allows it, path style for other endpoints). Throws Config on a bad URL.
Addressing resolve_addressing(const std::string& endpoint, const std::string& style,
                              const std::string& bucket, const std::string& region);

struct ClientConfig {
  SigningKeys keys;
  std::string region = "us-east-1";
  std::string endpoint;
  std::string addressing_style = "auto";
  std::string bucket;
  net::retry::Policy retry;
};

struct S3Request {
  std::string method = "GET";
  std::string key;  // empty: a bucket-level request
  Params query;
  Params headers;   // besides host, x-amz-date, x-amz-content-sha256, token
  Bytes body;
  bool send_body = false;
  std::string payload_hash;  // empty: SHA-256 of body
  std::function<void(Bytes)> on_body;
  std::vector<long> accept;  // non-2xx statuses returned instead of thrown
  const std::atomic<bool>* cancel = nullptr;
  // Aborting an upload: sent even once the operation is cancelled (then
  // tried once, so that Ctrl-C still ends the process at once).
  bool cleanup = false;
  std::chrono::milliseconds grace_after_cancel{0};  // as net::Request's
};

// How a failed reply is reported.
net::retry::Failure classify_failure(long status, const ErrorReply& reply, const std::string& bucket,
                         const std::string& key, const std::string& method);

class Client {
 public:
  explicit Client(ClientConfig config);

  // One attempt: throws net::retry::TransientError or bakthat::Error on failure.
  net::Response send_once(const S3Request& request);
  // send_once under the retry policy.
  net::Response send(const S3Request& request);

  // A presigned URL for method on key; expires in 1..604800 s (else Usage).
  std::string presign(const std::string& method, const std::string& key,
                      std::int64_t expires_seconds);

  const ClientConfig& config() const { return config_; }
  const std::string& bucket() const { return config_.bucket; }
  std::string url_for(const std::string& key) const;  // without query

 private:
  ClientConfig config_;
  Addressing addressing_;
  net::ClientPool pool_;
};

}  // namespace bakthat::storage::s3
