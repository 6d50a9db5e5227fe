#include "storage/s3/s3_storage.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include "storage/s3/credentials.hpp"
#include "storage/s3/part_size.hpp"
#include "net/http.hpp"
#include "storage/transfer/parallel_upload.hpp"
#include "storage/transfer/ranged_reader.hpp"
#include "util/bytes.hpp"
#include "util/parallel_for.hpp"

namespace bakthat::storage::s3 {
namespace {

std::string content_md5(Bytes data) {
  auto md = net::md5(data);
  unsigned char b64[4 * ((md.size() + 2) / 3) + 1];
  int n = EVP_EncodeBlock(b64, md.data(), static_cast<int>(md.size()));
  return std::string(reinterpret_cast<char*>(b64), static_cast<std::size_t>(n));
}

// The ETag S3 gives an object written by one PUT of `body`.
std::string single_put_etag(Bytes body) {
  auto md = net::md5(body);
  return util::hex(Bytes(md.data(), md.size()));
}

// The ETag S3 gives a multipart object: the MD5 of the parts' MD5s, "-N".
std::string multipart_etag(const std::vector<transfer::UploadedPart>& parts) {
  std::vector<std::uint8_t> digests;
  for (const auto& p : parts) {
    std::string hex_md5 = p.etag;
    std::erase(hex_md5, '"');
    if (hex_md5.size() != 32) return {};  // not an MD5: nothing to compare
    for (std::size_t i = 0; i < 32; i += 2)
      digests.push_back(static_cast<std::uint8_t>(std::stoi(hex_md5.substr(i, 2), nullptr, 16)));
  }
  return single_put_etag(digests) + "-" + std::to_string(parts.size());
}

bool archived_class(const std::string& storage_class) {
  return storage_class == "GLACIER" || storage_class == "DEEP_ARCHIVE";
}

// One object as an S3 multipart upload (or a plain PUT when it fits in
// one part). upload_part runs on several threads at once: it only reads.
// Every body is signed with its SHA-256 (x-amz-content-sha256), which the
// server checks against what it received: that is the per-part checksum.
// No Content-MD5 beside it: a second hash of every byte cost a sixth of the
// upload's CPU (MD5 runs at half SHA-256's speed with SHA-NI) and adds no
// check the signature does not already make.
//
// The object is written only if the name is still free (If-None-Match: *):
// the name was checked when the backup began, and another machine may have
// stored one in the same second since. Servers without conditional writes
// (Swift's S3 API answers 501) get the plain request, and the storage
// remembers not to ask again.
void abort_upload(Client& client, const std::string& key, const std::string& upload_id) {
  S3Request r;
  r.method = "DELETE";
  r.key = key;
  r.query = {{"uploadId", upload_id}};
  r.accept = {404};
  r.cleanup = true;
  client.send(r);
}

// Aborts every upload of `key` the bucket lists: the one a cancelled
// CreateMultipartUpload left, which the server made but whose id never
// arrived (a stored name is this backup's own).
void abort_uploads_of(Client& client, const std::string& key) {
  S3Request r;
  r.query = {{"uploads", ""}, {"prefix", key}};
  r.cleanup = true;
  for (const auto& u : parse_list_uploads(client.send(r).body).uploads)
    if (u.key == key) abort_upload(client, u.key, u.upload_id);
}

class S3Upload : public transfer::PartUpload {
 public:
  S3Upload(Client& client, std::string key, Params object_headers, std::uint64_t first_part,
           std::atomic<bool>& conditional, const Warn& warn)
      : client_(client),
        warn_(warn),
        key_(std::move(key)),
        object_headers_(std::move(object_headers)),
        first_part_(first_part),
        conditional_(conditional) {}

  std::uint64_t part_size(int index) override { return part_size_for(first_part_, index + 1); }

  void before_part(int index) override {
    if (index != 0) return;
    S3Request r;
    r.method = "POST";
    r.key = key_;
    r.query = {{"uploads", ""}};
    r.headers = object_headers_;
    r.send_body = true;
    // Its id is what abort() needs: a Ctrl-C lets it finish if it can soon.
    r.grace_after_cancel = std::chrono::seconds(2);
    try {
      upload_id_ = parse_upload_id(client_.send(r).body);
    } catch (const Error& e) {
      create_cut_off_ = e.kind() == ErrorKind::Interrupted;
      throw;
    }
  }

  std::string upload_part(int index, Bytes body, const std::atomic<bool>& cancel) override {
    int number = index + 1;
    S3Request r;
    r.method = "PUT";
    r.key = key_;
    r.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}};
    r.body = body;
    r.send_body = true;
    r.payload_hash = util::sha256_hex(body);
    r.cancel = &cancel;
    auto etag = client_.send(r).header("etag");
    if (etag.empty())
      throw Error(ErrorKind::Storage, "S3: no ETag for part " + std::to_string(number) + " of '" + key_ + "'");
    return etag;
  }

  std::string put_whole(Bytes body) override {
    S3Request r;
    r.method = "PUT";
    r.key = key_;
    r.headers = object_headers_;
    r.body = body;
    r.send_body = true;
    r.payload_hash = util::sha256_hex(body);
    return send_if_absent(r, [&] { return single_put_etag(body); });
  }

  std::string complete(const std::vector<transfer::UploadedPart>& uploaded) override {
    std::vector<std::pair<int, std::string>> parts;
    for (const auto& p : uploaded) parts.emplace_back(p.index + 1, p.etag);
    std::string body = complete_body(parts);
    S3Request r;
    r.method = "POST";
    r.key = key_;
    r.query = {{"uploadId", upload_id_}};
    r.body = util::as_bytes(body);
    r.send_body = true;
    return send_if_absent(r, [&] { return multipart_etag(uploaded); });
  }

  // Sends r with If-None-Match: * while the server takes it; returns the
  // object's ETag. A 412 means the name was taken, unless by this very
  // request: a retry after a lost reply finds our own object, known by its
  // ETag (`ours`).
  template <class OurEtag>
  std::string send_if_absent(const S3Request& plain, OurEtag ours) {
    const bool conditional = conditional_.load();
    S3Request r = plain;
    if (conditional) r.headers.emplace_back("if-none-match", "*");
    r.accept = {412, 501};
    auto resp = net::retry::run(client_.config().retry, [&] {
      auto reply = client_.send_once(r);
      // A 200 reply may still carry an <Error> (CompleteMultipartUpload:
      // the server failed while it was assembling the parts).
      ErrorReply e = parse_error(reply.body);
      if (reply.status / 100 == 2 && !e.code.empty()) classify_failure(500, e, client_.bucket(), key_, r.method).raise();
      return reply;
    });
    if (resp.status == 501 && conditional && parse_error(resp.body).code == "NotImplemented") {
      conditional_.store(false);
      return send_if_absent(plain, ours);
    }
    if (resp.status == 412) {
      std::string expected = ours();
      if (expected.empty() || existing_etag() != expected)
        throw Error(ErrorKind::Conflict, "S3: '" + key_ + "' already exists in bucket '" + client_.bucket() +
                                             "' (stored by someone else since this backup began)");
      return "\"" + expected + "\"";
    }
    if (resp.status / 100 != 2) {
      classify_failure(resp.status, parse_error(resp.body), client_.bucket(), key_, r.method).raise();
    }
    return resp.header("etag");
  }

  std::string existing_etag() {
    S3Request head;
    head.method = "HEAD";
    head.key = key_;
    head.accept = {404};
    std::string etag = client_.send(head).header("etag");
    std::erase(etag, '"');
    return etag;
  }

  void abort(int) noexcept override {
    if (upload_id_.empty() && !create_cut_off_) return;
    try {
      if (upload_id_.empty())
        abort_uploads_of(client_, key_);
      else
        abort_upload(client_, key_, upload_id_);
    } catch (const std::exception& e) {
      // The parts stay stored (and billed) until aborted: said, and left to
      // the next backup to this bucket (S3Storage::abort_incomplete).
      try {
        if (warn_)
          warn_("the incomplete upload of '" + key_ + "' to bucket '" + client_.bucket() +
                "' could not be aborted (" + e.what() + "); the next backup to this bucket aborts it once a day old");
      } catch (...) {
      }
    }
  }

 private:
  Client& client_;
  const Warn& warn_;
  std::string key_;
  Params object_headers_;
  std::uint64_t first_part_;
  std::atomic<bool>& conditional_;
  std::string upload_id_;
  bool create_cut_off_ = false;  // a cancellation ended CreateMultipartUpload before its reply
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
    net::retry::Failure f = classify_failure(403, e, client_.bucket(), "", "GET");
    throw Error(f.kind, f.message);
  }
  if (resp.status == 404) {
    auto e = parse_error(resp.body);
    if (e.code != "NoSuchBucket") {
      net::retry::Failure f = classify_failure(404, e, client_.bucket(), "", "GET");
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
  return create_new(name, size_hint);
}

std::unique_ptr<ObjectWriter> S3Storage::create_new(const std::string& name,
                                                    std::optional<std::uint64_t> size_hint) {
  Params headers;
  if (!settings_.storage_class.empty() && settings_.storage_class != "STANDARD")
    headers.emplace_back("x-amz-storage-class", settings_.storage_class);
  const std::uint64_t first = first_part_size(settings_.part_size, size_hint);
  auto upload =
      std::make_unique<S3Upload>(client_, name, std::move(headers), first, conditional_writes_, settings_.warn);
  return std::make_unique<transfer::ParallelUploadWriter>(std::move(upload), name,
                                                          parts_in_flight(settings_.threads, first),
                                                          /*eager=*/true);
}

std::vector<std::string> S3Storage::abort_incomplete(const std::function<bool(const std::string&)>& ours,
                                                     std::int64_t before) {
  std::vector<std::string> aborted;
  UploadsPage page;
  do {
    S3Request r;
    r.query = {{"uploads", ""}};
    if (!page.next_key_marker.empty())
      r.query.insert(r.query.end(), {{"key-marker", page.next_key_marker},
                                     {"upload-id-marker", page.next_upload_id_marker}});
    page = parse_list_uploads(client_.send(r).body);
    for (const auto& u : page.uploads)
      if (u.initiated > 0 && u.initiated < before && ours(u.key)) {
        abort_upload(client_, u.key, u.upload_id);
        aborted.push_back(u.key);
      }
  } while (page.truncated && !page.next_key_marker.empty());
  return aborted;
}

std::unique_ptr<Source> S3Storage::open(const std::string& name) {
  Client& client = client_;
  auto fetch = [&client, name](std::uint64_t first, std::uint64_t last, const std::function<void(Bytes)>& on_body,
                               const std::atomic<bool>& cancel) {
    S3Request r;
    r.key = name;
    r.headers = {{"range", "bytes=" + std::to_string(first) + "-" + std::to_string(last)}};
    r.cancel = &cancel;
    r.on_body = on_body;
    client.send_once(r);
  };
  // Every row entry fits in the first range: one request.
  return transfer::RangedReader::open(
      fetch,
      [&client, name](std::uint64_t last, const std::function<void(Bytes)>& on_body) {
        S3Request r;
        r.key = name;
        r.headers = {{"range", "bytes=0-" + std::to_string(last)}};
        r.on_body = on_body;
        r.accept = {416};
        return client.send_once(r);
      },
      client_.config().retry, "S3: '" + name + "'", settings_.read_chunk, std::min(settings_.threads, 4));
}

std::unique_ptr<Source> S3Storage::open_range(const std::string& name, std::uint64_t offset, std::uint64_t length) {
  auto info = stat(name);
  if (!info) throw Error(ErrorKind::NotFound, "S3: no object '" + name + "' in bucket '" + client_.bucket() + "'");
  Client& client = client_;
  auto fetch = [&client, name, offset](std::uint64_t first, std::uint64_t last, const std::function<void(Bytes)>& on_body,
                                       const std::atomic<bool>& cancel) {
    S3Request r;
    r.key = name;
    r.headers = {{"range", "bytes=" + std::to_string(offset + first) + "-" + std::to_string(offset + last)}};
    r.cancel = &cancel;
    r.on_body = on_body;
    client.send_once(r);
  };
  const std::uint64_t size = offset >= info->size ? 0 : std::min(length, info->size - offset);
  return std::make_unique<transfer::RangedReader>(fetch, client_.config().retry, "S3: '" + name + "'", size,
                                                  settings_.read_chunk, std::min(settings_.threads, 4),
                                                  /*wait_first=*/true);
}

void S3Storage::remove(const std::string& name) {
  if (!stat(name))
    throw Error(ErrorKind::NotFound, "S3: no object '" + name + "' in bucket '" + client_.bucket() + "'");
  S3Request r;
  r.method = "DELETE";
  r.key = name;
  client_.send(r);
}

void S3Storage::remove_many(const std::vector<std::string>& names) {
  // DeleteObjects: up to 1000 keys a request, a missing key no failure.
  constexpr std::size_t kKeysPerRequest = 1000;
  const std::size_t batches = (names.size() + kKeysPerRequest - 1) / kKeysPerRequest;
  util::parallel_for(batches, static_cast<unsigned>(settings_.threads), [&](std::size_t b) {
    const auto first = names.begin() + static_cast<std::ptrdiff_t>(b * kKeysPerRequest);
    const auto last = names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), (b + 1) * kKeysPerRequest));
    std::string body = delete_body({first, last});
    S3Request r;
    r.method = "POST";
    r.query = {{"delete", ""}};
    r.body = util::as_bytes(body);
    r.send_body = true;
    r.headers = {{"content-md5", content_md5(r.body)}};
    auto failed = parse_delete_errors(client_.send(r).body);
    if (!failed.empty())
      throw Error(ErrorKind::Storage, "S3: removing '" + failed[0].first + "' from bucket '" + client_.bucket() +
                                          "' failed (" + failed[0].second + ")" +
                                          (failed.size() > 1 ? " and " + std::to_string(failed.size() - 1) + " more" : ""));
  });
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
  net::retry::Failure f = classify_failure(status, {}, client_.bucket(), name, "HEAD");
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
  info.size = resp.content_length();
  info.modified = resp.last_modified();
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
                                         const std::string& storage_class, const CancelToken* cancel,
                                         Warn warn) {
  if (profile.s3_bucket.empty())
    throw Error(ErrorKind::Config, kind == "glacier" ? "the glacier destination needs glacier_vault (a Glacier vault) "
                                                       "or s3_bucket (S3 in an archive storage class) in the profile"
                                                     : "the " + kind + " destination needs s3_bucket in the profile");
  Settings s;
  s.client.keys = resolve_credentials(profile);
  s.client.region = profile.region_name.empty() ? "us-east-1" : profile.region_name;
  s.client.endpoint = resolve_endpoint(profile);
  s.client.addressing_style = profile.s3_addressing_style.empty() ? "auto" : profile.s3_addressing_style;
  s.client.bucket = profile.s3_bucket;
  s.client.retry = net::retry::default_policy(cancel, std::chrono::seconds(profile.retry_time));
  s.kind = kind;
  s.storage_class = storage_class;
  s.warn = std::move(warn);
  s.glacier_tier = profile.glacier_tier.empty() ? "Standard" : profile.glacier_tier;
  s.part_size = profile.part_size;
  // Transfers wait on the network, not the CPU: a few per object even on
  // a small machine (uploads are further bounded by parts_in_flight).
  s.threads = std::clamp(profile.threads, 4, 8);
  return std::make_unique<S3Storage>(std::move(s));
}

}  // namespace bakthat::storage::s3
