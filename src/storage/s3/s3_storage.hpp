// The `s3` destination: objects in one bucket of AWS S3 or any S3-compatible
// server (docs/formats.md §5).
//
// Writers buffer one part; an object smaller than a part goes up in a
// single PUT, a larger one as a multipart upload whose parts upload in
// parallel (memory: at most parts_in_flight() parts plus the one filling),
// completed only in finish() and aborted when the writer dies unfinished.
// Readers fetch ranges in parallel and hand them on in order. Every request
// carries the SHA-256 of its body in its signature, which the server checks.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "bakthat/config.hpp"
#include "bakthat/storage.hpp"
#include "storage/s3/client.hpp"
#include "storage/warn.hpp"

namespace bakthat::storage::s3 {

struct Settings {
  ClientConfig client;
  std::string kind = "s3";             // "glacier" when used for archive classes
  std::string storage_class = "STANDARD";
  std::string glacier_tier = "Standard";
  std::uint64_t part_size = 0;         // 0: automatic
  int threads = 4;                     // parallel transfers per object (at most)
  std::uint64_t read_chunk = 8 * (1u << 20);
  int list_page_size = 1000;           // keys per ListObjectsV2 page
  Warn warn;                           // an upload left open
};

class S3Storage : public Storage {
 public:
  explicit S3Storage(Settings settings);

  std::string kind() const override { return settings_.kind; }
  std::string location() const override { return "s3://" + client_.bucket(); }
  std::unique_ptr<ObjectWriter> create(const std::string& name,
                                       std::optional<std::uint64_t> size_hint) override;
  std::unique_ptr<ObjectWriter> create_new(const std::string& name,
                                           std::optional<std::uint64_t> size_hint) override;
  std::unique_ptr<Source> open(const std::string& name) override;
  std::unique_ptr<Source> open_range(const std::string& name, std::uint64_t offset, std::uint64_t length) override;
  std::vector<std::string> abort_incomplete(const std::function<bool(const std::string&)>& ours,
                                            std::int64_t before) override;
  void remove(const std::string& name) override;
  void remove_many(const std::vector<std::string>& names) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  std::optional<ObjectInfo> stat(const std::string& name) override;
  std::string presign(const std::string& name, const std::string& method,
                      std::int64_t expires_seconds) override;
  Readiness prepare_read(const std::string& name) override;

 private:
  // Creates the bucket if it is missing and refuses an existing name.
  void check_writable(const std::string& name);
  void create_bucket();
  // A HEAD that failed without a body says nothing about why; a listing
  // request fails with the server's error code. Always throws.
  [[noreturn]] void explain_head_failure(const std::string& name, long status);

  Settings settings_;
  Client client_;
  // Cleared when the server turns down If-None-Match (Swift's S3 API).
  std::atomic<bool> conditional_writes_{true};
};

// The destination for a profile: credentials, endpoint, region, addressing,
// part size and threads resolved from it and the environment.
std::unique_ptr<Storage> make_s3_storage(const Profile& profile, const std::string& kind,
                                         const std::string& storage_class, const CancelToken* cancel = nullptr,
                                         Warn warn = {});

}  // namespace bakthat::storage::s3
