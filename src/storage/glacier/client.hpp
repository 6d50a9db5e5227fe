// The Glacier vault API's request layer (docs/formats.md §4.2, API 2012-06-01):
// every request under /-/vaults/<vault>, signed with SigV4 for the service
// "glacier" and carrying x-amz-glacier-version; JSON error replies turned
// into one-line bakthat errors; replayable requests retried through
// net/retry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bakthat/errors.hpp"
#include "net/http.hpp"
#include "net/retry.hpp"
#include "storage/s3/sigv4.hpp"

namespace bakthat::storage::glacier {

using s3::Params;
using s3::SigningKeys;

inline constexpr const char* kApiVersion = "2012-06-01";

struct Endpoint {
  std::string scheme;     // "https" or "http"
  std::string authority;  // Host header: host[:port]
};

// endpoint: "" for AWS (https://glacier.<region>.amazonaws.com), else a URL
// such as http://127.0.0.1:5000. Throws Config on a bad URL.
Endpoint resolve_endpoint(const std::string& endpoint, const std::string& region);

struct ClientConfig {
  SigningKeys keys;
  std::string region = "us-east-1";
  std::string endpoint;
  std::string vault;
  net::retry::Policy retry;
};

struct GlacierRequest {
  std::string method = "GET";
  std::string path;  // below /-/vaults/<vault>: "" (the vault), "/archives", ...
  Params headers;    // besides host, x-amz-date, x-amz-glacier-version, token
  Bytes body;
  bool send_body = false;
  // Adds x-amz-content-sha256 and x-amz-sha256-tree-hash of the body, which
  // archive and part uploads need.
  bool upload_hashes = false;
  std::function<void(Bytes)> on_body;
  std::vector<long> accept;  // non-2xx statuses returned instead of thrown
  const std::atomic<bool>* cancel = nullptr;
  std::string subject;       // what messages name: "archive 'x'", "" for the vault
};

// The signed HTTP request, a pure function of its inputs (amz_date is
// "YYYYMMDDTHHMMSSZ").
net::Request build_request(const ClientConfig& config, const Endpoint& endpoint,
                            const GlacierRequest& request, const std::string& amz_date);

struct ErrorReply {
  std::string code;  // e.g. ResourceNotFoundException; "" when the body is not JSON
  std::string message;
};
ErrorReply parse_error(const net::Response& response);

net::retry::Failure classify_failure(long status, const ErrorReply& reply, const std::string& vault,
                         const std::string& subject, const std::string& method);

// What DescribeJob says of a retrieval job.
struct JobStatus {
  std::string job_id;
  std::string action;       // ArchiveRetrieval, InventoryRetrieval
  std::string archive_id;
  std::string status_code;  // InProgress, Succeeded, Failed
  std::string status_message;
  bool completed = false;
  std::uint64_t archive_size = 0;  // 0 when the server does not say
  std::string archive_tree_hash;   // "" when the server does not say
};
// Throws Storage when the reply is not a job description.
JobStatus parse_job(const std::string& json);

// The InitiateJob body of an archive retrieval in `tier`.
std::string archive_retrieval_body(const std::string& archive_id, const std::string& tier,
                                   const std::string& description);

// An x-amz-archive-description value: printable ASCII only (others become
// '?'), at most 1024 bytes, as Glacier demands.
std::string archive_description(const std::string& name);

class Client {
 public:
  explicit Client(ClientConfig config);

  // One attempt: throws net::retry::TransientError or bakthat::Error on failure.
  net::Response send_once(const GlacierRequest& request);
  // send_once under the retry policy.
  net::Response send(const GlacierRequest& request);

  const ClientConfig& config() const { return config_; }
  const std::string& vault() const { return config_.vault; }

 private:
  ClientConfig config_;
  Endpoint endpoint_;
  net::ClientPool pool_;
};

}  // namespace bakthat::storage::glacier
