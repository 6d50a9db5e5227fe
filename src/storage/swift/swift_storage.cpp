#include "storage/swift/swift_storage.hpp"


#include <algorithm>
#include <chrono>
#include <random>

#include "net/http.hpp"
#include "storage/transfer/parallel_upload.hpp"
#include "storage/transfer/ranged_reader.hpp"
#include "util/bytes.hpp"
#include "util/parallel_for.hpp"

namespace bakthat::storage::swift {
namespace {

std::string md5_hex(Bytes data) { return util::hex(net::md5(data)); }

// An object's HEAD response; nullopt when there is no such object.
std::optional<net::Response> head_object(Client& client, const std::string& container, const std::string& object) {
  SwiftRequest r;
  r.method = "HEAD";
  r.container = container;
  r.object = object;
  r.accept = {404};
  auto resp = client.send(r);
  if (resp.status == 404) return std::nullopt;
  return resp;
}

// Unique per upload, so an abandoned upload's segments never mix with a
// later one's.
std::string new_upload_id() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%06lld-%08x", static_cast<long long>(us / 1000000),
                static_cast<long long>(us % 1000000), rd());
  return buf;
}

// One object as a Static Large Object: segments in the segment container
// and a manifest (or a plain PUT when it fits in one segment).
// upload_segment runs on several threads at once: it only reads.
//
// The object (manifest or plain PUT) is written only if its name is still
// free (If-None-Match: *): the name was checked when the backup began, and
// another machine may have stored one in the same second since. The upload
// id goes along as metadata, so that a retry after a lost reply knows the
// object it finds for its own.
class SwiftUpload : public transfer::PartUpload {
 public:
  SwiftUpload(Client& client, std::function<void()> ensure_segments, std::string container, std::string name,
              std::uint64_t first_segment)
      : client_(client),
        ensure_segments_(std::move(ensure_segments)),
        container_(std::move(container)),
        segments_container_(segment_container(container_)),
        name_(std::move(name)),
        first_segment_(first_segment) {}

  std::uint64_t part_size(int index) override { return segment_size_for(first_segment_, index); }

  void before_part(int index) override {
    if (index == 0) {
      ensure_segments_();
      upload_id_ = new_upload_id();
    }
    if (index >= kMaxSegments)
      throw Error(ErrorKind::Storage, "Swift: '" + name_ + "' needs more than " + std::to_string(kMaxSegments) +
                                          " segments; raise part_size");
  }

  std::string upload_part(int index, Bytes body, const std::atomic<bool>& cancel) override {
    std::string etag = md5_hex(body);
    SwiftRequest r;
    r.method = "PUT";
    r.container = segments_container_;
    r.object = segment_name(name_, upload_id_, index);
    r.headers = {{"ETag", etag}};
    r.body = body;
    r.send_body = true;
    r.cancel = &cancel;
    client_.send(r);
    return etag;
  }

  std::string put_whole(Bytes body) override {
    upload_id_ = new_upload_id();
    SwiftRequest r;
    r.method = "PUT";
    r.container = container_;
    r.object = name_;
    r.headers = {{"ETag", md5_hex(body)}, {"Content-Type", "application/octet-stream"}};
    r.body = body;
    r.send_body = true;
    return put_if_absent(r);
  }

  std::string complete(const std::vector<transfer::UploadedPart>& parts) override {
    std::vector<Segment> segments;
    for (const auto& p : parts)
      segments.push_back({segments_container_, segment_name(name_, upload_id_, p.index), p.etag, p.size});
    std::string manifest = slo_manifest(segments);
    SwiftRequest r;
    r.method = "PUT";
    r.container = container_;
    r.object = name_;
    r.query = {{"multipart-manifest", "put"}};
    r.headers = {{"Content-Type", "application/octet-stream"}};
    r.body = util::as_bytes(manifest);
    r.send_body = true;
    return put_if_absent(r);
  }

  // Sends the object's PUT unless the name is taken; returns its ETag.
  std::string put_if_absent(SwiftRequest r) {
    r.headers.emplace_back("If-None-Match", "*");
    r.headers.emplace_back(kUploadHeader, upload_id_);
    r.accept = {412};
    auto resp = client_.send(r);
    if (resp.status != 412) return resp.header("etag");
    auto found = head_object(client_, container_, name_);
    if (!found || found->header(kUploadHeader) != upload_id_)
      throw Error(ErrorKind::Conflict, "Swift: '" + name_ + "' already exists in container '" + container_ +
                                           "' (stored by someone else since this backup began)");
    return found->header("etag");
  }

  static constexpr const char* kUploadHeader = "x-object-meta-bakthat-upload";  // lower case: header() wants it so

  void abort(int started) noexcept override {
    // Every segment started may have landed; 404 for those that did not.
    for (int i = 0; i < started; ++i) {
      try {
        SwiftRequest r;
        r.method = "DELETE";
        r.container = segments_container_;
        r.object = segment_name(name_, upload_id_, i);
        r.accept = {404};
        client_.send(r);
      } catch (...) {
        // Nothing more can be done here: the segments stay unreferenced.
      }
    }
  }

 private:
  Client& client_;
  std::function<void()> ensure_segments_;
  std::string container_, segments_container_, name_;
  std::uint64_t first_segment_;
  std::string upload_id_;
};

}  // namespace

SwiftStorage::SwiftStorage(Settings settings)
    : settings_(std::move(settings)), client_(settings_.credentials, settings_.retry) {}

void SwiftStorage::not_found(const std::string& name) const {
  throw Error(ErrorKind::NotFound, "Swift: no object '" + name + "' in container '" + settings_.container + "'");
}

void SwiftStorage::ensure_container(const std::string& container) {
  SwiftRequest head;
  head.method = "HEAD";
  head.container = container;
  head.accept = {404};
  if (client_.send(head).status != 404) return;
  SwiftRequest put;
  put.method = "PUT";
  put.container = container;
  put.send_body = true;
  client_.send(put);
}

std::unique_ptr<ObjectWriter> SwiftStorage::create(const std::string& name,
                                                   std::optional<std::uint64_t> size_hint) {
  ensure_container(settings_.container);
  if (stat(name))
    throw Error(ErrorKind::Conflict, "Swift: '" + name + "' already exists in container '" + settings_.container + "'");
  return create_new(name, size_hint);
}

std::unique_ptr<ObjectWriter> SwiftStorage::create_new(const std::string& name,
                                                       std::optional<std::uint64_t> size_hint) {
  auto upload = std::make_unique<SwiftUpload>(
      client_, [this] { ensure_container(segment_container(settings_.container)); }, settings_.container, name,
      first_segment_size(settings_.segment_size, size_hint));
  // A full segment ships only once more data comes, so an object of
  // exactly one segment is still a plain object.
  return std::make_unique<transfer::ParallelUploadWriter>(std::move(upload), name, settings_.threads,
                                                          /*eager=*/false);
}

std::unique_ptr<Source> SwiftStorage::open(const std::string& name) {
  Client& client = client_;
  const std::string container = settings_.container;
  auto get = [&client, container, name](std::uint64_t first, std::uint64_t last, const std::function<void(Bytes)>& on_body,
                                        const std::atomic<bool>* cancel) {
    SwiftRequest r;
    r.container = container;
    r.object = name;
    r.headers = {{"Range", "bytes=" + std::to_string(first) + "-" + std::to_string(last)}};
    r.cancel = cancel;
    r.on_body = on_body;
    r.accept = {416};  // an empty object has no byte 0
    return client.send_once(r);
  };
  return transfer::RangedReader::open(
      [get](std::uint64_t first, std::uint64_t last, const std::function<void(Bytes)>& on_body,
            const std::atomic<bool>& cancel) { get(first, last, on_body, &cancel); },
      [get](std::uint64_t last, const std::function<void(Bytes)>& on_body) { return get(0, last, on_body, nullptr); },
      client_.policy(), "Swift: '" + name + "'", settings_.read_chunk, std::min(settings_.threads, 4));
}

std::unique_ptr<Source> SwiftStorage::open_range(const std::string& name, std::uint64_t offset, std::uint64_t length) {
  auto info = stat(name);
  if (!info) not_found(name);
  Client& client = client_;
  auto fetch = [&client, container = settings_.container, name, offset](std::uint64_t first, std::uint64_t last,
                                                               const std::function<void(Bytes)>& on_body,
                                                               const std::atomic<bool>& cancel) {
    SwiftRequest r;
    r.container = container;
    r.object = name;
    r.headers = {{"Range", "bytes=" + std::to_string(offset + first) + "-" + std::to_string(offset + last)}};
    r.cancel = &cancel;
    r.on_body = on_body;
    client.send_once(r);
  };
  return std::make_unique<transfer::RangedReader>(fetch, client_.policy(), "Swift: '" + name + "'", offset >= info->size ? 0 : std::min(length, info->size - offset),
                                                  settings_.read_chunk, std::min(settings_.threads, 4),
                                                  /*wait_first=*/false);
}

void SwiftStorage::remove(const std::string& name) {
  auto info = head_object(client_, settings_.container, name);
  if (!info) not_found(name);
  SwiftRequest r;
  r.method = "DELETE";
  r.container = settings_.container;
  r.object = name;
  std::string slo = info->header("x-static-large-object");
  std::transform(slo.begin(), slo.end(), slo.begin(), [](unsigned char c) { return std::tolower(c); });
  if (slo != "true") {
    client_.send(r);
    return;
  }
  // The bulk delete answers 200 and tells in its body how it went.
  r.query = {{"multipart-manifest", "delete"}};
  r.headers = {{"Accept", "application/json"}};
  std::string failure = bulk_delete_failure(client_.send(r).body);
  if (!failure.empty())
    throw Error(ErrorKind::Storage, "Swift: deleting large object '" + name + "' and its segments failed: " + failure);
}

void SwiftStorage::remove_many(const std::vector<std::string>& names) {
  // Each removal waits on two round trips: several in flight at once.
  util::parallel_for(names.size(), static_cast<unsigned>(std::max(settings_.threads, 8)),
                     [&](std::size_t i) { Storage::remove_many({names[i]}); });
}

std::vector<ObjectInfo> SwiftStorage::list(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  std::string marker;
  for (;;) {
    SwiftRequest r;
    r.container = settings_.container;
    r.query = {{"format", "json"}, {"limit", std::to_string(settings_.list_page_size)}};
    if (!prefix.empty()) r.query.emplace_back("prefix", prefix);
    if (!marker.empty()) r.query.emplace_back("marker", marker);
    r.accept = {404};
    auto resp = client_.send(r);
    if (resp.status == 404) return {};  // no container yet: nothing stored
    auto page = parse_listing(resp.body);
    for (auto& o : page) out.push_back(std::move(o));
    if (static_cast<int>(page.size()) < settings_.list_page_size) break;
    marker = out.back().name;
  }
  // Swift lists in UTF-8 byte order already; sorting keeps the contract
  // whatever a proxy does.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::optional<ObjectInfo> SwiftStorage::stat(const std::string& name) {
  auto resp = head_object(client_, settings_.container, name);
  if (!resp) return std::nullopt;
  ObjectInfo info;
  info.name = name;
  info.size = resp->content_length();
  info.modified = resp->last_modified();
  return info;
}

std::string SwiftStorage::presign(const std::string& name, const std::string& method,
                                  std::int64_t expires_seconds) {
  if (expires_seconds < 1)
    throw Error(ErrorKind::Usage, "a presigned URL must expire at least 1 second from now");
  if (method != "GET" && method != "PUT" && method != "DELETE" && method != "HEAD")
    throw Error(ErrorKind::Usage, "presigned URLs are for GET, PUT, DELETE or HEAD, not " + method);
  // The TempURL key is the account's (or the container's) metadata.
  std::string key;
  for (const std::string& container : {std::string(), settings_.container}) {
    SwiftRequest r;
    r.method = "HEAD";
    r.container = container;
    r.accept = {404};
    auto resp = client_.send(r);
    const std::string level = container.empty() ? "account" : "container";
    key = resp.header("x-" + level + "-meta-temp-url-key");
    if (key.empty()) key = resp.header("x-" + level + "-meta-temp-url-key-2");
    if (!key.empty()) break;
  }
  if (key.empty())
    throw Error(ErrorKind::Unsupported,
                "Swift: presigned (TempURL) links need a key on the account; set one with "
                "`swift post -m Temp-URL-Key:<secret>`");
  Session s = client_.session();
  auto expires = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count() + expires_seconds;
  std::string path = url_path(s.storage_url) + "/" + settings_.container + "/" + name;
  return object_url(s.storage_url, settings_.container, name) + "?" +
         temp_url_query(key, method, expires, path);
}

std::unique_ptr<Storage> make_swift_storage(const Profile& profile, const CancelToken* cancel) {
  if (profile.s3_bucket.empty())
    throw Error(ErrorKind::Config, "the swift destination needs s3_bucket (the container) in the profile");
  if (profile.s3_bucket.find('/') != std::string::npos)
    throw Error(ErrorKind::Config, "a Swift container name cannot contain '/': '" + profile.s3_bucket + "'");
  if (profile.auth_url.empty())
    throw Error(ErrorKind::Config, "the swift destination needs auth_url in the profile");
  if (profile.access_key.empty() || profile.secret_key.empty())
    throw Error(ErrorKind::Config, "the swift destination needs access_key (user) and secret_key (key)");
  Settings s;
  s.credentials.auth_url = profile.auth_url;
  s.credentials.version = profile.auth_version.empty() ? "1" : profile.auth_version;
  s.credentials.user = profile.access_key;
  s.credentials.key = profile.secret_key;
  s.credentials.region = profile.region_name;
  s.retry = net::retry::default_policy(cancel, std::chrono::seconds(profile.retry_time));
  s.container = profile.s3_bucket;
  s.segment_size = profile.part_size;
  // Like s3: transfers wait on the network, and few enough segments are in
  // flight that memory stays bounded.
  s.threads = std::clamp(profile.threads, 4, 8);
  return std::make_unique<SwiftStorage>(std::move(s));
}

}  // namespace bakthat::storage::swift
