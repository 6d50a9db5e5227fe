#include "storage/glacier/glacier_storage.hpp"

#include <condition_variable>
#include <deque>
#include <thread>

#include <nlohmann/json.hpp>

#include "storage/s3/credentials.hpp"
#include "storage/s3/s3_storage.hpp"
#include "util/huge_pages.hpp"

namespace bakthat::storage::glacier {
namespace {

std::string in_quotes(const std::string& name) { return "'" + name + "'"; }

class GlacierWriter : public ObjectWriter {
 public:
  GlacierWriter(GlacierStorage& owner, Client& client, std::string name, std::uint64_t part_size)
      : owner_(owner), client_(client), name_(std::move(name)), part_size_(part_size) {}

  ~GlacierWriter() override {
    if (finished_ || upload_id_.empty()) return;
    try {
      GlacierRequest r;
      r.method = "DELETE";
      r.path = "/multipart-uploads/" + upload_id_;
      r.subject = "upload of " + in_quotes(name_);
      r.accept = {404};
      client_.send(r);
    } catch (...) {
      // Glacier drops an upload left idle for 24 hours anyway.
    }
  }

  void write(Bytes data) override {
    whole_.update(data);
    while (!data.empty()) {
      // A full part ships only once more data comes, so an archive of
      // exactly one part still goes up in a single request.
      if (buffer_.size() == part_size_) ship_part();
      if (buffer_.capacity() == 0) buffer_.reserve(part_size_);
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(part_size_ - buffer_.size(), data.size()));
      buffer_.append(data.first(n));
      data = data.subspan(n);
    }
  }

  void finish() override {
    std::string archive_id = upload_id_.empty() ? upload_whole() : complete();
    if (archive_id.empty())
      throw Error(ErrorKind::Storage, "Glacier: no archive id for " + in_quotes(name_) + " in vault '" +
                                          client_.vault() + "'");
    owner_.add_archive(name_, archive_id);
    stored_.name = name_;
    stored_.size = whole_.size();
    stored_.provider_id = archive_id;
    finished_ = true;
  }

  const StoredObject& stored() const override { return stored_; }

 private:
  std::string upload_whole() {
    GlacierRequest r;
    r.method = "POST";
    r.path = "/archives";
    r.headers = {{"x-amz-archive-description", archive_description(name_)}};
    r.body = buffer_;
    r.send_body = true;
    r.upload_hashes = true;
    r.subject = "archive " + in_quotes(name_);
    return client_.send(r).header("x-amz-archive-id");
  }

  void ship_part() {
    if (upload_id_.empty()) {
      GlacierRequest r;
      r.method = "POST";
      r.path = "/multipart-uploads";
      r.headers = {{"x-amz-archive-description", archive_description(name_)},
                   {"x-amz-part-size", std::to_string(part_size_)}};
      r.send_body = true;
      r.subject = "upload of " + in_quotes(name_);
      r.accept = {404};
      auto resp = client_.send(r);
      if (resp.status == 404) {
        // AWS answers a missing vault in JSON; a bare 404 is a server
        // without multipart uploads (moto).
        net::retry::Failure f = classify_failure(404, parse_error(resp), client_.vault(), "", "POST");
        if (!parse_error(resp).code.empty()) throw Error(f.kind, f.message);
        throw Error(ErrorKind::Unsupported,
                    "Glacier: the server of vault '" + client_.vault() +
                        "' has no multipart uploads (HTTP 404); set part_size above the archive's size");
      }
      upload_id_ = resp.header("x-amz-multipart-upload-id");
      if (upload_id_.empty())
        throw Error(ErrorKind::Storage, "Glacier: no upload id for " + in_quotes(name_));
    }
    if (parts_ == 10000)
      throw Error(ErrorKind::Storage, "Glacier: " + in_quotes(name_) + " needs more than 10,000 parts of " +
                                          std::to_string(part_size_ >> 20) + " MiB; raise part_size");
    GlacierRequest r;
    r.method = "PUT";
    r.path = "/multipart-uploads/" + upload_id_;
    r.headers = {{"content-range", "bytes " + std::to_string(sent_) + "-" +
                                       std::to_string(sent_ + buffer_.size() - 1) + "/*"}};
    r.body = buffer_;
    r.send_body = true;
    r.upload_hashes = true;
    r.subject = "part " + std::to_string(parts_ + 1) + " of " + in_quotes(name_);
    client_.send(r);
    sent_ += buffer_.size();
    ++parts_;
    buffer_.clear();
  }

  std::string complete() {
    if (!buffer_.empty()) ship_part();
    GlacierRequest r;
    r.method = "POST";
    r.path = "/multipart-uploads/" + upload_id_;
    r.headers = {{"x-amz-archive-size", std::to_string(whole_.size())},
                 {"x-amz-sha256-tree-hash", whole_.hex_digest()}};
    r.send_body = true;
    r.subject = "upload of " + in_quotes(name_);
    return client_.send(r).header("x-amz-archive-id");  // idempotent, so retried
  }

  GlacierStorage& owner_;
  Client& client_;
  std::string name_;
  std::uint64_t part_size_;
  util::LargeBuffer buffer_;  // the part filling, reused
  TreeHash whole_;
  std::string upload_id_;
  std::uint64_t sent_ = 0;  // bytes in shipped parts
  int parts_ = 0;
  bool finished_ = false;
  StoredObject stored_;
};

// Streams a job's output: a thread runs GetJobOutput and hands the body
// over through a bounded queue. A dropped transfer is retried from the
// start, skipping the bytes already handed over, because servers differ in
// whether they honor Range (moto ignores it).
class JobOutputReader : public Source {
 public:
  JobOutputReader(Client& client, InventoryStore& inventory, std::string name, JobStatus job,
                  std::uint64_t buffer_bytes)
      : client_(client), inventory_(inventory), name_(std::move(name)), job_(std::move(job)),
        limit_(std::max<std::uint64_t>(buffer_bytes, 1)) {
    thread_ = std::thread([this] { produce(); });
  }

  ~JobOutputReader() override {
    {
      std::lock_guard lock(mutex_);
      cancel_ = true;
    }
    cancel_flag_ = true;
    changed_.notify_all();
    thread_.join();
  }

  std::size_t read(MutableBytes out) override {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return 0;
    }
    auto& front = queue_.front();
    std::size_t n = std::min(out.size(), front.size() - pos_);
    std::copy_n(front.data() + pos_, n, out.data());
    pos_ += n;
    queued_ -= n;
    if (pos_ == front.size()) {
      queue_.pop_front();
      pos_ = 0;
    }
    changed_.notify_all();
    return n;
  }

 private:
  void push(Bytes b) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queued_ < limit_ || cancel_; });
    if (cancel_) throw Error(ErrorKind::Interrupted, "Glacier: download of " + in_quotes(name_) + " cancelled");
    queue_.emplace_back(b.begin(), b.end());
    queued_ += b.size();
    changed_.notify_all();
  }

  void produce() {
    std::exception_ptr error;
    try {
      TreeHash hash;
      std::uint64_t delivered = 0;
      net::Response resp = net::retry::run(client_.config().retry, [&] {
        std::uint64_t skip = delivered;
        GlacierRequest r;
        r.path = "/jobs/" + job_.job_id + "/output";
        r.subject = "retrieval job for " + in_quotes(name_);
        r.cancel = &cancel_flag_;
        r.on_body = [&](Bytes b) {
          std::size_t drop = static_cast<std::size_t>(std::min<std::uint64_t>(skip, b.size()));
          skip -= drop;
          b = b.subspan(drop);
          if (b.empty()) return;
          hash.update(b);
          push(b);
          delivered += b.size();
        };
        return client_.send_once(r);
      });
      // The job's description and the reply may each state the archive's
      // tree hash (moto states neither).
      std::string expected = job_.archive_tree_hash;
      if (expected.empty()) expected = resp.header("x-amz-sha256-tree-hash");
      if (job_.archive_size && delivered != job_.archive_size)
        throw Error(ErrorKind::Corrupt, "Glacier: " + in_quotes(name_) + " arrived with " + std::to_string(delivered) +
                                            " bytes instead of " + std::to_string(job_.archive_size));
      if (!expected.empty() && expected != hash.hex_digest())
        throw Error(ErrorKind::Corrupt, "Glacier: " + in_quotes(name_) +
                                            " arrived damaged (tree hash differs from the vault's)");
      // The job's output stays for 24 hours, but once read the next restore
      // should start afresh rather than find an expired job.
      inventory_.remove_job(name_);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    error_ = error;
    done_ = true;
    changed_.notify_all();
  }

  Client& client_;
  InventoryStore& inventory_;
  std::string name_;
  JobStatus job_;
  std::uint64_t limit_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<std::uint8_t>> queue_;
  std::size_t pos_ = 0;
  std::uint64_t queued_ = 0;
  bool cancel_ = false;
  std::atomic<bool> cancel_flag_{false};
  bool done_ = false;
  std::exception_ptr error_;
};

}  // namespace

GlacierStorage::GlacierStorage(Settings settings)
    : settings_(std::move(settings)), client_(settings_.client), inventory_(settings_.inventory) {
  if (!inventory_) throw Error(ErrorKind::Config, "Glacier: vault '" + client_.vault() + "' needs an inventory store");
}

GlacierStorage::~GlacierStorage() = default;

void GlacierStorage::ensure_vault() {
  std::call_once(vault_checked_, [&] {
    // CreateVault succeeds for an existing vault, so one PUT covers both.
    GlacierRequest r;
    r.method = "PUT";
    r.send_body = true;
    client_.send(r);
  });
}

std::optional<std::string> GlacierStorage::known_archive(const std::string& name) {
  if (auto id = inventory_->archive_id(name)) return id;
  auto rec = inventory_->recorded(name);
  if (!rec || rec->archive_id.empty()) return std::nullopt;
  inventory_->put_archive(name, rec->archive_id);
  return rec->archive_id;
}

std::string GlacierStorage::archive_of(const std::string& name) {
  auto id = known_archive(name);
  if (!id)
    throw Error(ErrorKind::NotFound, "Glacier: no archive " + in_quotes(name) + " in vault '" + client_.vault() +
                                         "' (not in the inventory)");
  return *id;
}

std::unique_ptr<ObjectWriter> GlacierStorage::create(const std::string& name,
                                                     std::optional<std::uint64_t> size_hint) {
  if (known_archive(name))
    throw Error(ErrorKind::Conflict, "Glacier: " + in_quotes(name) + " already exists in vault '" +
                                         client_.vault() + "'");
  ensure_vault();
  return std::make_unique<GlacierWriter>(*this, client_, name,
                                         choose_part_size(settings_.part_size, size_hint));
}

void GlacierStorage::add_archive(const std::string& name, const std::string& archive_id) {
  inventory_->put_archive(name, archive_id);
  copy_inventory();
}

std::unique_ptr<Source> GlacierStorage::open(const std::string& name) {
  archive_of(name);
  auto job = inventory_->job_id(name);
  const std::string again = "; run restore to start a retrieval";
  if (!job)
    throw Error(ErrorKind::Storage, "Glacier: " + in_quotes(name) + " has not been retrieved from vault '" +
                                        client_.vault() + "'" + again);
  auto status = describe_job(name, *job);
  if (!status) {
    inventory_->remove_job(name);
    throw Error(ErrorKind::Storage, "Glacier: the retrieval job for " + in_quotes(name) + " has expired" + again);
  }
  if (status->status_code != "Succeeded")
    throw Error(ErrorKind::Storage, "Glacier: the retrieval of " + in_quotes(name) + " is " +
                                        (status->status_code == "InProgress" ? "still in progress; run restore again later"
                                                                             : "not usable (" + status->status_code + ")" + again));
  return std::make_unique<JobOutputReader>(client_, *inventory_, name, std::move(*status), settings_.read_buffer);
}

std::optional<JobStatus> GlacierStorage::describe_job(const std::string& name, const std::string& job_id) {
  GlacierRequest r;
  r.path = "/jobs/" + job_id;
  r.subject = "retrieval job for " + in_quotes(name);
  r.accept = {404};
  auto resp = client_.send(r);
  if (resp.status == 404) return std::nullopt;
  return parse_job(resp.body);
}

void GlacierStorage::remove(const std::string& name) {
  std::string id = archive_of(name);
  GlacierRequest r;
  r.method = "DELETE";
  r.path = "/archives/" + s3::uri_encode(id, false);
  r.subject = "archive " + in_quotes(name);
  r.accept = {404};  // already gone: the inventory catches up below
  client_.send(r);
  inventory_->remove_archive(name);
  inventory_->remove_job(name);
  copy_inventory();
}

ObjectInfo GlacierStorage::info_of(const std::string& name) {
  ObjectInfo info;
  info.name = name;
  info.storage_class = "GLACIER";
  // The inventory has no sizes; the backup's own record has.
  if (auto rec = inventory_->recorded(name)) {
    info.size = rec->size;
    info.modified = rec->modified;
  }
  return info;
}

std::vector<ObjectInfo> GlacierStorage::list(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  for (const auto& [name, id] : inventory_->archives(prefix)) {
    if (!out.empty() && out.back().name == name) continue;
    out.push_back(info_of(name));
  }
  return out;
}

std::optional<ObjectInfo> GlacierStorage::stat(const std::string& name) {
  if (!known_archive(name)) return std::nullopt;
  return info_of(name);
}

Readiness GlacierStorage::start_retrieval(const std::string& name, const std::string& archive_id) {
  std::string body = archive_retrieval_body(archive_id, settings_.tier, "bakthat " + name);
  GlacierRequest r;
  r.method = "POST";
  r.path = "/jobs";
  r.body = util::as_bytes(body);
  r.send_body = true;
  r.subject = "archive " + in_quotes(name);
  std::string job = client_.send(r).header("x-amz-job-id");
  if (job.empty()) throw Error(ErrorKind::Storage, "Glacier: no job id for the retrieval of " + in_quotes(name));
  inventory_->put_job(name, job);
  return Readiness::RetrievalStarted;
}

Readiness GlacierStorage::prepare_read(const std::string& name) {
  std::string archive_id = archive_of(name);
  if (auto job = inventory_->job_id(name)) {
    if (auto s = describe_job(name, *job)) {
      if (s->status_code == "Succeeded") return Readiness::Ready;
      if (s->status_code == "InProgress") return Readiness::RetrievalInProgress;
      inventory_->remove_job(name);
      throw Error(ErrorKind::Storage, "Glacier: the retrieval of " + in_quotes(name) + " failed" +
                                          (s->status_message.empty() ? "" : ": " + s->status_message) +
                                          "; run restore again to retry");
    }
    // Jobs expire a day after they complete: start another.
    inventory_->remove_job(name);
  }
  return start_retrieval(name, archive_id);
}

void GlacierStorage::copy_inventory() {
  const auto& profile = settings_.inventory_profile;
  if (!profile || profile->s3_bucket.empty()) return;
  try {
    nlohmann::json map = nlohmann::json::object();
    for (const auto& [name, id] : inventory_->archives("")) map[name] = id;
    std::string text = map.dump(2);
    auto s3 = s3::make_s3_storage(*profile, "s3", "STANDARD", client_.config().retry.cancel);
    if (s3->stat(kInventoryKey)) s3->remove(kInventoryKey);
    auto w = s3->create(kInventoryKey, text.size());
    w->write(util::as_bytes(text));
    w->finish();
  } catch (const std::exception& e) {
    if (settings_.warn)
      settings_.warn("Glacier inventory not copied to s3://" + profile->s3_bucket + "/" + kInventoryKey + ": " +
                     e.what());
  }
}

std::unique_ptr<Storage> make_glacier_storage(const Profile& profile, std::shared_ptr<InventoryStore> inventory,
                                              Warn warn, const CancelToken* cancel) {
  if (profile.glacier_vault.empty())
    throw Error(ErrorKind::Config, "the glacier destination needs glacier_vault in the profile");
  const std::string& tier = profile.glacier_tier.empty() ? "Standard" : profile.glacier_tier;
  if (tier != "Standard" && tier != "Bulk" && tier != "Expedited")
    throw Error(ErrorKind::Config, "glacier_tier must be Standard, Bulk or Expedited, not '" + tier + "'");
  Settings s;
  s.client.keys = s3::resolve_credentials(profile);
  s.client.region = profile.region_name.empty() ? "us-east-1" : profile.region_name;
  s.client.endpoint = profile.glacier_endpoint;
  if (s.client.endpoint.empty()) {
    const char* env = std::getenv("AWS_ENDPOINT_URL_GLACIER");
    if (env) s.client.endpoint = env;
  }
  s.client.vault = profile.glacier_vault;
  s.client.retry = net::retry::default_policy(cancel, std::chrono::seconds(profile.retry_time));
  s.inventory = std::move(inventory);
  s.tier = tier;
  s.part_size = profile.part_size;
  if (!profile.s3_bucket.empty()) s.inventory_profile = std::make_shared<const Profile>(profile);
  s.warn = std::move(warn);
  return std::make_unique<GlacierStorage>(std::move(s));
}

}  // namespace bakthat::storage::glacier
