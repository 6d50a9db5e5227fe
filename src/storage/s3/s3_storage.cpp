#include "storage/s3/s3_storage.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <deque>
#include <future>

#include "storage/s3/credentials.hpp"
#include "storage/s3/part_size.hpp"
#include "util/bytes.hpp"

namespace bakthat::storage::s3 {
namespace {

std::string content_md5(Bytes data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr))
    throw Error(ErrorKind::Storage, "MD5 failed");
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int n = EVP_EncodeBlock(b64, md, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(b64), static_cast<std::size_t>(n));
}

bool archived_class(const std::string& storage_class) {
  return storage_class == "GLACIER" || storage_class == "DEEP_ARCHIVE";
}

// Waits for every future, keeping none of their errors: used when an
// operation is already failing or being abandoned.
template <class T>
void drain(std::deque<std::future<T>>& futures) {
  for (auto& f : futures) {
    try {
      if (f.valid()) f.get();
    } catch (...) {
    }
  }
  futures.clear();
}

class S3Writer : public ObjectWriter {
 public:
  S3Writer(Client& client, std::string key, Params object_headers, std::uint64_t first_part,
           int threads)
      : client_(client),
        key_(std::move(key)),
        object_headers_(std::move(object_headers)),
        first_part_(first_part),
        threads_(std::max(1, threads)) {
    // Untouched pages of a reservation cost nothing, and a full reservation
    // avoids copying as the part fills.
    buffer_.reserve(first_part_);
  }

  ~S3Writer() override {
    if (finished_) return;
    cancel_ = true;
    drain(in_flight_);
    if (upload_id_.empty()) return;
    try {
      S3Request r;
      r.method = "DELETE";
      r.key = key_;
      r.query = {{"uploadId", upload_id_}};
      r.accept = {404};
      client_.send(r);
    } catch (...) {
      // Nothing more can be done here; a lifecycle rule cleans up after us.
    }
  }

  void write(Bytes data) override {
    while (!data.empty()) {
      std::uint64_t room = part_size_for(first_part_, part_number_ + 1) - buffer_.size();
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(room, data.size()));
      buffer_.insert(buffer_.end(), data.begin(), data.begin() + n);
      data = data.subspan(n);
      size_ += n;
      if (buffer_.size() == part_size_for(first_part_, part_number_ + 1)) ship_part();
    }
  }

  void finish() override {
    if (upload_id_.empty()) {
      put_whole();
    } else {
      if (!buffer_.empty()) ship_part();
      while (!in_flight_.empty()) collect_oldest();
      complete();
    }
    stored_.name = key_;
    stored_.size = size_;
    finished_ = true;
  }

  const StoredObject& stored() const override { return stored_; }

 private:
  void put_whole() {
    S3Request r;
    r.method = "PUT";
    r.key = key_;
    r.headers = object_headers_;
    r.headers.emplace_back("content-md5", content_md5(buffer_));
    r.body = buffer_;
    r.send_body = true;
    r.payload_hash = util::sha256_hex(buffer_);
    auto resp = client_.send(r);
    stored_.provider_id = resp.header("etag");
  }

  void initiate() {
    S3Request r;
    r.method = "POST";
    r.key = key_;
    r.query = {{"uploads", ""}};
    r.headers = object_headers_;
    r.send_body = true;
    upload_id_ = parse_upload_id(client_.send(r).body);
  }

  void ship_part() {
    if (upload_id_.empty()) initiate();
    while (static_cast<int>(in_flight_.size()) >= threads_) collect_oldest();
    int number = ++part_number_;
    auto body = std::make_shared<std::vector<std::uint8_t>>(std::move(buffer_));
    buffer_ = {};
    buffer_.reserve(part_size_for(first_part_, number + 1));
    in_flight_.push_back(std::async(std::launch::async, [this, number, body] {
      S3Request r;
      r.method = "PUT";
      r.key = key_;
      r.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}};
      r.headers = {{"content-md5", content_md5(*body)}};
      r.body = *body;
      r.send_body = true;
      r.payload_hash = util::sha256_hex(*body);
      r.cancel = &cancel_;
      auto etag = client_.send(r).header("etag");
      if (etag.empty())
        throw Error(ErrorKind::Storage, "S3: no ETag for part " + std::to_string(number) + " of '" + key_ + "'");
      return std::make_pair(number, etag);
    }));
  }

  void collect_oldest() {
    auto f = std::move(in_flight_.front());
    in_flight_.pop_front();
    parts_.push_back(f.get());
  }

  void complete() {
    std::sort(parts_.begin(), parts_.end());
    std::string body = complete_body(parts_);
    S3Request r;
    r.method = "POST";
    r.key = key_;
    r.query = {{"uploadId", upload_id_}};
    r.body = util::as_bytes(body);
    r.send_body = true;
    // A 200 reply may still carry an <Error> (the server failed while it
    // was assembling the parts).
    auto resp = retry::run(client_.config().retry, [&] {
      auto reply = client_.send_once(r);
      ErrorReply e = parse_error(reply.body);
      if (!e.code.empty()) {
        Failure f = classify_failure(500, e, client_.bucket(), key_, "POST");
        if (f.transient) throw retry::TransientError(f.message);
        throw Error(f.kind, f.message);
      }
      return reply;
    });
    stored_.provider_id = resp.header("etag");
  }

  Client& client_;
  std::string key_;
  Params object_headers_;
  std::uint64_t first_part_;
  int threads_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t size_ = 0;
  int part_number_ = 0;  // parts shipped
  std::string upload_id_;
  std::deque<std::future<std::pair<int, std::string>>> in_flight_;
  std::vector<std::pair<int, std::string>> parts_;
  std::atomic<bool> cancel_{false};
  bool finished_ = false;
  StoredObject stored_;
};

// Reads an object of known size as consecutive ranges, several in flight.
// A range whose transfer drops is resumed from the byte reached.
class S3Reader : public Source {
 public:
  S3Reader(Client& client, std::string key, std::uint64_t size, std::uint64_t chunk, int window)
      : client_(client), key_(std::move(key)), size_(size), chunk_(chunk), window_(std::max(1, window)) {
    schedule();
    if (!in_flight_.empty()) next_chunk();  // errors (e.g. archived) surface in open()
  }

  ~S3Reader() override {
    cancel_ = true;
    drain(in_flight_);
  }

  std::size_t read(MutableBytes out) override {
    while (pos_ == current_.size()) {
      if (in_flight_.empty()) return 0;
      next_chunk();
    }
    std::size_t n = std::min(out.size(), current_.size() - pos_);
    std::copy_n(current_.data() + pos_, n, out.data());
    pos_ += n;
    return n;
  }

 private:
  void schedule() {
    while (static_cast<int>(in_flight_.size()) < window_ && next_start_ < size_) {
      std::uint64_t start = next_start_;
      std::uint64_t len = std::min(chunk_, size_ - start);
      next_start_ += len;
      in_flight_.push_back(std::async(std::launch::async, [this, start, len] { return fetch(start, len); }));
    }
  }

  void next_chunk() {
    auto f = std::move(in_flight_.front());
    in_flight_.pop_front();
    current_ = f.get();
    pos_ = 0;
    schedule();
  }

  std::vector<std::uint8_t> fetch(std::uint64_t start, std::uint64_t len) {
    std::vector<std::uint8_t> data;
    data.reserve(len);
    retry::run(client_.config().retry, [&] {
      S3Request r;
      r.key = key_;
      r.headers = {{"range", "bytes=" + std::to_string(start + data.size()) + "-" +
                                 std::to_string(start + len - 1)}};
      r.cancel = &cancel_;
      r.on_body = [&](Bytes b) {
        if (data.size() + b.size() > len)
          throw Error(ErrorKind::Storage, "S3: '" + key_ + "' sent more bytes than the range asked");
        data.insert(data.end(), b.begin(), b.end());
      };
      client_.send_once(r);
      if (data.size() != len)
        throw retry::TransientError("S3: '" + key_ + "' ended early (changed while being read?)");
    });
    return data;
  }

  Client& client_;
  std::string key_;
  std::uint64_t size_, chunk_;
  int window_;
  std::uint64_t next_start_ = 0;
  std::deque<std::future<std::vector<std::uint8_t>>> in_flight_;
  std::vector<std::uint8_t> current_;
  std::size_t pos_ = 0;
  std::atomic<bool> cancel_{false};
};

}  // namespace

S3Storage::S3Storage(Settings settings) : settings_(std::move(settings)), client_(settings_.client) {}

void S3Storage::create_bucket() {
  std::string body = create_bucket_body(client_.config().region);
  S3Request r;
  r.method = "PUT";
  r.body = util::as_bytes(body);
  r.send_body = true;
  r.accept = {409};
  auto resp = client_.send(r);
  if (resp.status == 409) {
    auto e = parse_error(resp.body);
    if (e.code != "BucketAlreadyOwnedByYou")
      throw Error(ErrorKind::Storage, "S3: cannot create bucket '" + client_.bucket() +
                                          "', the name is taken (" + e.code + ")");
  }
}

void S3Storage::check_writable(const std::string& name) {
  S3Request r;
  r.query = {{"list-type", "2"}, {"prefix", name}, {"max-keys", "1"}};
  r.accept = {403, 404};
  auto resp = client_.send(r);
  if (resp.status == 403) {
    // Credentials allowed to write but not to list: HEAD the name instead.
    ErrorReply e = parse_error(resp.body);
    if (e.code == "AccessDenied" && !stat(name)) return;
    if (e.code == "AccessDenied")
      throw Error(ErrorKind::Conflict, "S3: '" + name + "' already exists in bucket '" + client_.bucket() + "'");
    Failure f = classify_failure(403, e, client_.bucket(), "", "GET");
    throw Error(f.kind, f.message);
  }
  if (resp.status == 404) {
    auto e = parse_error(resp.body);
    if (e.code != "NoSuchBucket") {
      Failure f = classify_failure(404, e, client_.bucket(), "", "GET");
      throw Error(f.kind, f.message);
    }
    create_bucket();
    return;
  }
  for (const auto& o : parse_list_v2(resp.body).objects)
    if (o.name == name)
      throw Error(ErrorKind::Conflict, "S3: '" + name + "' already exists in bucket '" + client_.bucket() + "'");
}

std::unique_ptr<ObjectWriter> S3Storage::create(const std::string& name,
                                                std::optional<std::uint64_t> size_hint) {
  check_writable(name);
  Params headers;
  if (!settings_.storage_class.empty() && settings_.storage_class != "STANDARD")
    headers.emplace_back("x-amz-storage-class", settings_.storage_class);
  return std::make_unique<S3Writer>(client_, name, std::move(headers),
                                    first_part_size(settings_.part_size, size_hint), settings_.threads);
}

std::unique_ptr<Source> S3Storage::open(const std::string& name) {
  auto info = stat(name);
  if (!info) throw Error(ErrorKind::NotFound, "S3: no object '" + name + "' in bucket '" + client_.bucket() + "'");
  return std::make_unique<S3Reader>(client_, name, info->size, settings_.read_chunk,
                                    std::min(settings_.threads, 4));
}

void S3Storage::remove(const std::string& name) {
  if (!stat(name))
    throw Error(ErrorKind::NotFound, "S3: no object '" + name + "' in bucket '" + client_.bucket() + "'");
  S3Request r;
  r.method = "DELETE";
  r.key = name;
  client_.send(r);
}

std::vector<ObjectInfo> S3Storage::list(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  std::string token;
  do {
    S3Request r;
    r.query = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(settings_.list_page_size)}};
    if (!token.empty()) r.query.emplace_back("continuation-token", token);
    ListPage page = parse_list_v2(client_.send(r).body);
    for (auto& o : page.objects) out.push_back(std::move(o));
    token = page.truncated ? page.next_token : "";
  } while (!token.empty());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

void S3Storage::explain_head_failure(const std::string& name, long status) {
  S3Request r;
  r.query = {{"list-type", "2"}, {"prefix", name}, {"max-keys", "1"}};
  client_.send(r);
  Failure f = classify_failure(status, {}, client_.bucket(), name, "HEAD");
  throw Error(f.kind, f.message);
}

std::optional<ObjectInfo> S3Storage::stat(const std::string& name) {
  S3Request r;
  r.method = "HEAD";
  r.key = name;
  r.accept = {400, 403, 404};
  auto resp = client_.send(r);
  if (resp.status == 404) return std::nullopt;
  if (resp.status >= 400) explain_head_failure(name, resp.status);
  ObjectInfo info;
  info.name = name;
  info.size = std::strtoull(resp.header("content-length").c_str(), nullptr, 10);
  std::string lm = resp.header("last-modified");
  info.modified = lm.empty() ? 0 : static_cast<std::int64_t>(curl_getdate(lm.c_str(), nullptr));
  if (info.modified < 0) info.modified = 0;
  info.storage_class = resp.header("x-amz-storage-class");
  if (info.storage_class.empty()) info.storage_class = "STANDARD";
  return info;
}

std::string S3Storage::presign(const std::string& name, const std::string& method,
                               std::int64_t expires_seconds) {
  return client_.presign(method, name, expires_seconds);
}

Readiness S3Storage::prepare_read(const std::string& name) {
  S3Request head;
  head.method = "HEAD";
  head.key = name;
  head.accept = {400, 403, 404};
  auto resp = client_.send(head);
  if (resp.status == 404)
    throw Error(ErrorKind::NotFound, "S3: no object '" + name + "' in bucket '" + client_.bucket() + "'");
  if (resp.status >= 400) explain_head_failure(name, resp.status);
  if (!archived_class(resp.header("x-amz-storage-class"))) return Readiness::Ready;
  std::string restore = resp.header("x-amz-restore");
  if (restore.find("ongoing-request=\"false\"") != std::string::npos) return Readiness::Ready;
  if (restore.find("ongoing-request=\"true\"") != std::string::npos) return Readiness::RetrievalInProgress;

  std::string body = restore_body(settings_.glacier_tier, 1);
  S3Request r;
  r.method = "POST";
  r.key = name;
  r.query = {{"restore", ""}};
  r.body = util::as_bytes(body);
  r.send_body = true;
  r.headers = {{"content-md5", content_md5(r.body)}};
  r.accept = {409};
  auto reply = client_.send(r);
  if (reply.status == 409) return Readiness::RetrievalInProgress;  // RestoreAlreadyInProgress
  if (reply.status == 200) return Readiness::Ready;                // already restored
  return Readiness::RetrievalStarted;
}

std::unique_ptr<Storage> make_s3_storage(const Profile& profile, const std::string& kind,
                                         const std::string& storage_class) {
  if (profile.s3_bucket.empty())
    throw Error(ErrorKind::Config, "the " + kind + " destination needs s3_bucket in the profile");
  Settings s;
  s.client.keys = resolve_credentials(profile);
  s.client.region = profile.region_name.empty() ? "us-east-1" : profile.region_name;
  s.client.endpoint = resolve_endpoint(profile);
  s.client.addressing_style = profile.s3_addressing_style.empty() ? "auto" : profile.s3_addressing_style;
  s.client.bucket = profile.s3_bucket;
  s.client.retry = retry::default_policy();
  s.kind = kind;
  s.storage_class = storage_class;
  s.glacier_tier = profile.glacier_tier.empty() ? "Standard" : profile.glacier_tier;
  s.part_size = profile.part_size;
  // Transfers wait on the network, not the CPU: a few per object even on
  // a small machine, and few enough that parts in flight stay ~150 MiB.
  s.threads = std::clamp(profile.threads, 4, 8);
  return std::make_unique<S3Storage>(std::move(s));
}

}  // namespace bakthat::storage::s3
