// A small HTTP/1.1 client on libcurl shared by the network destinations
// (S3, and later Swift and Glacier).
//
// A Client owns one curl easy handle, so consecutive requests reuse its
// connection (keep-alive); it is not thread-safe, and a ClientPool hands one
// to each thread. Request bodies are in memory, so a request can be replayed
// by the retry layer. Transport failures that may pass (refused or dropped
// connections, timeouts) throw retry::TransientError; an HTTP status is
// never an exception here: the protocol layer decides what it means.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bakthat/cancel.hpp"
#include "bakthat/stream.hpp"

namespace bakthat::net {

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
  Bytes body;              // sent with a Content-Length when send_body
  bool send_body = false;  // PUT/POST carry a body (possibly empty)
  // Receives a 2xx reply's body as it arrives instead of Response::body;
  // throwing from it aborts the transfer and the exception propagates.
  std::function<void(Bytes)> on_body;
  const std::atomic<bool>* cancel = nullptr;  // set: abort (Interrupted)
  // A clean-up after a failure (aborting an upload): not stopped by the
  // client's Options::cancel, which may be what it cleans up after.
  bool cleanup = false;
  // How long a request already sent may run on after Options::cancel fires,
  // to get its reply: a short request whose effect must be known to be
  // undone (creating a multipart upload: cut off, the server may still make
  // it after a listing looked for it). Retries still stop at a cancellation.
  std::chrono::milliseconds grace_after_cancel{0};
};

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;  // error replies and small documents (bounded)
  // The header's value, or "" when absent.
  std::string header(const std::string& lower_name) const;
  // Content-Length, 0 when absent; Last-Modified in Unix seconds, 0 when
  // absent or unreadable (a HEAD of an object, for its ObjectInfo).
  std::uint64_t content_length() const;
  std::int64_t last_modified() const;
};

struct Options {
  std::string service = "HTTP";  // prefix of error messages: "S3: ..."
  long connect_timeout_s = 15;
  // A transfer slower than 1 byte/s for this long counts as dropped.
  long stall_timeout_s = 60;
  std::string ca_file;  // empty: the system's trust store
  // Cancelled: every transfer of the client ends (Interrupted).
  const CancelToken* cancel = nullptr;
};

// Options whose stall timeout BAKTHAT_HTTP_TIMEOUT (seconds) can shorten.
// A CA bundle named by AWS_CA_BUNDLE (S3, Glacier) or OS_CACERT (Swift) is
// trusted instead of the system's store, as the aws CLI and swift do.
Options default_options(std::string service, const CancelToken* cancel = nullptr);

class Client {
 public:
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Response perform(const Request& request);

 private:
  Options options_;
  void* curl_;
};

// Idle clients (and so their open connections) for any thread to borrow.
class ClientPool {
 public:
  explicit ClientPool(Options options) : options_(std::move(options)) {}

  class Lease {
   public:
    Lease(ClientPool& pool, std::unique_ptr<Client> c) : pool_(pool), client_(std::move(c)) {}
    ~Lease() { pool_.give_back(std::move(client_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Client* operator->() { return client_.get(); }

   private:
    ClientPool& pool_;
    std::unique_ptr<Client> client_;
  };

  Lease lease();
  Response perform(const Request& request) { return lease()->perform(request); }

 private:
  void give_back(std::unique_ptr<Client> c);

  Options options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Client>> idle_;
};

// The first line of a short text error reply, at most 200 characters, for
// a message; "" when the reply is HTML (a proxy's page says nothing useful).
std::string error_gist(const std::string& body);

// "scheme://host[:port]" of a URL, for messages.
std::string origin_of(const std::string& url);

// MD5 of a body, for the integrity checks the object stores ask for
// (S3 Content-MD5, Swift ETag).
std::array<std::uint8_t, 16> md5(Bytes data);

}  // namespace bakthat::net
