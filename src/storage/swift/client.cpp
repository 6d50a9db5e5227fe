#include "storage/swift/client.hpp"

#include <algorithm>

#include "net/send.hpp"

namespace bakthat::storage::swift {
namespace {

std::string what_of(const std::string& container, const std::string& object) {
  if (container.empty()) return "the account";
  if (object.empty()) return "container '" + container + "'";
  return "'" + object + "' in container '" + container + "'";
}

}  // namespace

net::retry::Failure classify_failure(long status, const std::string& body, const std::string& method,
                         const std::string& container, const std::string& object) {
  const std::string tag = " (" + std::to_string(status) + ")";
  if (status >= 500 || status == 429 || status == 408 || status == 498)
    return {ErrorKind::Storage, "Swift: " + method + " " + what_of(container, object) +
                                    " failed, server busy or failing" + tag, true};
  if (status == 404 && !object.empty())
    return {ErrorKind::NotFound, "Swift: no object " + what_of(container, object), false};
  if (status == 404 && !container.empty())
    return {ErrorKind::NotFound, "Swift: container '" + container + "' does not exist", false};
  if (status == 401 || status == 403)
    return {ErrorKind::Auth, "Swift: access denied to " + what_of(container, object) + tag, false};
  // The body arrived damaged: another try sends it again.
  if (status == 422)
    return {ErrorKind::Storage, "Swift: the server's checksum of " + what_of(container, object) +
                                    " does not match what was sent" + tag, true};
  if (status == 413)
    return {ErrorKind::Storage, "Swift: " + what_of(container, object) + " is larger than the server allows" + tag,
            false};
  // Swift's error bodies are short HTML or text.
  std::string detail = net::error_gist(body);
  return {ErrorKind::Storage, "Swift: " + method + " " + what_of(container, object) + " failed" +
                                  (detail.empty() ? "" : ": " + detail) + tag, false};
}

Client::Client(Credentials credentials, net::retry::Policy policy, std::optional<Session> session)
    : credentials_(std::move(credentials)),
      policy_(policy),
      pool_(net::default_options("Swift", policy_.cancel)),
      session_(std::move(session)) {}

Session Client::session() {
  std::lock_guard lock(mutex_);
  if (!session_) session_ = net::retry::run(policy_, [&] { return authenticate(pool_, credentials_); });
  return *session_;
}

void Client::forget(const std::string& token) {
  std::lock_guard lock(mutex_);
  if (session_ && session_->token == token) session_.reset();
}

net::Response Client::send_once(const SwiftRequest& r) {
  net::Response resp;
  for (int attempt = 0; attempt < 2; ++attempt) {
    Session s = session();
    net::Request req;
    req.method = r.method;
    req.url = object_url(s.storage_url, r.container, r.object, r.query);
    req.headers = r.headers;
    req.headers.emplace_back("X-Auth-Token", s.token);
    req.body = r.body;
    req.send_body = r.send_body;
    req.on_body = r.on_body;
    req.cancel = r.cancel;
    resp = pool_.perform(req);
    if (resp.status != 401) break;
    forget(s.token);  // expired or revoked: log in again, once
  }
  return net::accept_or_raise(std::move(resp), r.accept, [&](const net::Response& reply) {
    return classify_failure(reply.status, reply.body, r.method, r.container, r.object);
  });
}

net::Response Client::send(const SwiftRequest& request) {
  return net::retry::run(policy_, [&] { return send_once(request); });
}

}  // namespace bakthat::storage::swift
