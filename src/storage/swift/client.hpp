// One Swift account's request layer: logs in lazily (and again, once, when
// a token is refused with 401), builds URLs, turns error replies into
// bakthat errors and retries (through net/retry) those that may pass.
// Thread-safe: writers and readers send from several threads.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bakthat/errors.hpp"
#include "net/http.hpp"
#include "net/retry.hpp"
#include "storage/swift/auth.hpp"
#include "storage/swift/protocol.hpp"

namespace bakthat::storage::swift {

struct SwiftRequest {
  std::string method = "GET";
  std::string container;  // empty: an account-level request
  std::string object;     // empty: a container-level request
  Params query;
  Params headers;         // besides X-Auth-Token
  Bytes body;             // must outlive the request
  bool send_body = false;
  std::function<void(Bytes)> on_body;
  std::vector<long> accept;  // non-2xx statuses returned instead of thrown
  const std::atomic<bool>* cancel = nullptr;
};

// How a failed reply to `method` on container/object is reported.
net::retry::Failure classify_failure(long status, const std::string& body, const std::string& method,
                         const std::string& container, const std::string& object);

class Client {
 public:
  // `session`, e.g. from an earlier login, is used until refused.
  Client(Credentials credentials, net::retry::Policy policy, std::optional<Session> session = std::nullopt);

  // One attempt (plus one after a re-login on 401): throws
  // net::retry::TransientError or bakthat::Error on failure.
  net::Response send_once(const SwiftRequest& request);
  // send_once under the retry policy.
  net::Response send(const SwiftRequest& request);

  Session session();  // logs in when there is no session yet
  const net::retry::Policy& policy() const { return policy_; }

 private:
  void forget(const std::string& token);  // drops a refused token

  Credentials credentials_;
  net::retry::Policy policy_;
  net::ClientPool pool_;
  std::mutex mutex_;
  std::optional<Session> session_;
};

}  // namespace bakthat::storage::swift
