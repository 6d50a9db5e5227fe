#include "net/http.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <chrono>
#include <cstring>
#include <optional>

#include "bakthat/errors.hpp"
#include "net/retry.hpp"

namespace bakthat::net {
namespace {

// Collected bodies are error documents and listings; anything larger is a
// misbehaving server.
constexpr std::size_t kMaxCollected = 64u << 20;
constexpr long kUploadBuffer = 2L << 20;  // curl's maximum (CURL_MAX_READ_SIZE)

struct Transfer {
  const Request* request = nullptr;
  const CancelToken* cancel = nullptr;  // the client's
  Response* response = nullptr;
  CURL* curl = nullptr;
  std::size_t sent = 0;
  std::size_t moved = 0;  // request body sent and 2xx body received
  std::exception_ptr error;
  bool stream = false;  // decided at the first body byte, from the status
  bool status_known = false;
  std::optional<std::chrono::steady_clock::time_point> cancel_seen;
};

// Whether a cancelled transfer has used up its Request::grace_after_cancel.
bool past_grace(Transfer& t) {
  if (t.request->grace_after_cancel.count() == 0) return true;
  auto now = std::chrono::steady_clock::now();
  if (!t.cancel_seen) t.cancel_seen = now;
  return now - *t.cancel_seen >= t.request->grace_after_cancel;
}

size_t on_header(char* data, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new response (after 100-continue or a redirect)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = line.substr(colon + 1);
  auto b = value.find_first_not_of(" \t");
  auto e = value.find_last_not_of(" \t\r\n");
  value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  t->response->headers[name] = value;
  return size * n;
}

size_t on_write(char* data, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  size_t len = size * n;
  if (!t->status_known) {
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    t->stream = t->request->on_body && status >= 200 && status < 300;
    t->status_known = true;
  }
  if (t->stream) {
    t->moved += len;
    try {
      t->request->on_body({reinterpret_cast<const std::uint8_t*>(data), len});
    } catch (...) {
      t->error = std::current_exception();
      return CURL_WRITEFUNC_ERROR;
    }
    return len;
  }
  if (t->response->body.size() + len > kMaxCollected) return CURL_WRITEFUNC_ERROR;
  t->response->body.append(data, len);
  return len;
}

size_t on_read(char* out, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  size_t left = t->request->body.size() - t->sent;
  size_t len = std::min(left, size * n);
  if (len) std::memcpy(out, t->request->body.data() + t->sent, len);
  t->sent += len;
  t->moved += len;
  return len;
}

int on_progress(void* arg, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(arg);
  const bool cancelled = (t->request->cancel && t->request->cancel->load()) ||
                         (!t->request->cleanup && t->cancel && t->cancel->cancelled() && past_grace(*t));
  return cancelled ? 1 : 0;
}

// Seeks back to the start of the body when curl must resend it.
int on_seek(void* arg, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(arg);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->request->body.size())
    return CURL_SEEKFUNC_FAIL;
  t->sent = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

bool transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

struct GlobalInit {
  GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

std::string Response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::uint64_t Response::content_length() const { return std::strtoull(header("content-length").c_str(), nullptr, 10); }

std::int64_t Response::last_modified() const {
  const std::string value = header("last-modified");
  const std::int64_t t = value.empty() ? 0 : static_cast<std::int64_t>(curl_getdate(value.c_str(), nullptr));
  return t < 0 ? 0 : t;
}

Options default_options(std::string service, const CancelToken* cancel) {
  Options o;
  o.cancel = cancel;
  o.service = std::move(service);
  if (const char* v = std::getenv("BAKTHAT_HTTP_TIMEOUT"); v && std::atol(v) > 0)
    o.stall_timeout_s = std::atol(v);
  // The variables the ecosystems' own clients read for a private CA (aws CLI
  // and boto; python-swiftclient), so one setting serves both tools.
  const char* bundle = std::getenv(o.service == "Swift" ? "OS_CACERT" : "AWS_CA_BUNDLE");
  if (bundle && *bundle) o.ca_file = bundle;
  return o;
}

std::string error_gist(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  if (line.find('<') != std::string::npos) return "";
  return line.size() > 200 ? line.substr(0, 200) : line;
}

std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  auto path = url.find('/', scheme_end + 3);
  return url.substr(0, path);
}

Client::Client(Options options) : options_(std::move(options)) {
  static GlobalInit init;
  curl_ = curl_easy_init();
  if (!curl_) throw Error(ErrorKind::Storage, options_.service + ": cannot start libcurl");
}

Client::~Client() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Response Client::perform(const Request& request) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);  // keeps the connection cache
  Response response;
  Transfer t;
  t.request = &request;
  t.cancel = options_.cancel;
  t.response = &response;
  t.curl = c;

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  // A URL from a server's reply (Swift's storage URL) must not reach files
  // or other protocols libcurl speaks.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);

  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.send_body) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    // curl's 64 KiB default means a read callback and a send() per 64 KiB;
    // parts are megabytes, and in a VM each system call costs.
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBuffer);
    if (request.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers)
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  // No 100-continue round trip, and no headers the signature does not cover
  // beyond what HTTP needs.
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Accept:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);

  if (t.error) std::rethrow_exception(t.error);
  if (rc == CURLE_OK) return response;
  // A transfer the network broke after moving data made progress: its retry
  // is not one of those spent on a server that fails at once.
  if (t.moved > 0) retry::note_progress();

  const std::string origin = origin_of(request.url);
  const std::string what = curl_easy_strerror(rc);
  if (rc == CURLE_ABORTED_BY_CALLBACK)
    throw Error(ErrorKind::Interrupted, options_.service + ": transfer cancelled");
  if (rc == CURLE_COULDNT_CONNECT)
    throw retry::TransientError(options_.service + ": cannot connect to " + origin + " (" + what + ")");
  if (rc == CURLE_COULDNT_RESOLVE_HOST)
    throw Error(ErrorKind::Storage, options_.service + ": cannot connect to " + origin + " (" + what + ")");
  if (rc == CURLE_OPERATION_TIMEDOUT)
    throw retry::TransientError(options_.service + ": " + request.method + " to " + origin +
                                " timed out (no data for " +
                                std::to_string(options_.stall_timeout_s) + " s)");
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
    throw Error(ErrorKind::Storage, options_.service + ": TLS certificate of " + origin +
                                        " not trusted (" + (errbuf[0] ? errbuf : what.c_str()) + ")");
  std::string msg = options_.service + ": " + request.method + " to " + origin + " failed (" +
                    (errbuf[0] ? std::string(errbuf) : what) + ")";
  if (transient(rc)) throw retry::TransientError(msg);
  throw Error(ErrorKind::Storage, msg);
}

ClientPool::Lease ClientPool::lease() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(c));
    }
  }
  return Lease(*this, std::make_unique<Client>(options_));
}

void ClientPool::give_back(std::unique_ptr<Client> c) {
  if (!c) return;
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(c));
}

std::array<std::uint8_t, 16> md5(Bytes data) {
  std::array<std::uint8_t, 16> md{};
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_md5(), nullptr) || len != md.size())
    throw Error(ErrorKind::Storage, "MD5 failed");
  return md;
}

}  // namespace bakthat::net
