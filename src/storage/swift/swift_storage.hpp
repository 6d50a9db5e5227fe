// The `swift` destination: objects in one OpenStack Swift container (the
// profile's s3_bucket), docs/formats.md §6.
//
// Writers buffer one segment; an object smaller than a segment goes up in a
// single PUT whose ETag (MD5) the server checks. A larger one becomes a
// Static Large Object: segments upload in parallel to "<container>_segments"
// (memory: at most `threads` segments in flight plus the one filling) and
// the manifest PUT in finish() makes the object appear; a writer destroyed
// unfinished deletes its segments. Readers fetch ranges in parallel and
// hand them on in order. Removing an SLO removes its segments too.
#pragma once

#include <memory>
#include <string>

#include "bakthat/config.hpp"
#include "bakthat/storage.hpp"
#include "storage/swift/client.hpp"

namespace bakthat::storage::swift {

struct Settings {
  Credentials credentials;
  net::retry::Policy retry;
  std::string container;
  std::uint64_t segment_size = 0;  // 0: automatic
  int threads = 4;                 // parallel transfers per object
  std::uint64_t read_chunk = 8 * kMiB;
  int list_page_size = 10000;      // names per listing page
};

class SwiftStorage : public Storage {
 public:
  explicit SwiftStorage(Settings settings);

  std::string kind() const override { return "swift"; }
  std::string location() const override { return "swift://" + settings_.container; }
  std::unique_ptr<ObjectWriter> create(const std::string& name,
                                       std::optional<std::uint64_t> size_hint) override;
  std::unique_ptr<ObjectWriter> create_new(const std::string& name,
                                           std::optional<std::uint64_t> size_hint) override;
  std::unique_ptr<Source> open(const std::string& name) override;
  std::unique_ptr<Source> open_range(const std::string& name, std::uint64_t offset, std::uint64_t length) override;
  void remove(const std::string& name) override;
  // remove() of several names at once: each is a HEAD and a DELETE.
  void remove_many(const std::vector<std::string>& names) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  std::optional<ObjectInfo> stat(const std::string& name) override;
  // A TempURL; needs a Temp-URL-Key on the account or container (else
  // Unsupported, saying how to set one).
  std::string presign(const std::string& name, const std::string& method,
                      std::int64_t expires_seconds) override;

 private:
  // PUTs `container` unless it exists (201 created, 202 already there).
  void ensure_container(const std::string& container);
  [[noreturn]] void not_found(const std::string& name) const;

  Settings settings_;
  Client client_;
};

// The destination for a profile: auth_url, auth_version, access_key (user),
// secret_key (key), region_name, s3_bucket (container), part_size, threads.
std::unique_ptr<Storage> make_swift_storage(const Profile& profile, const CancelToken* cancel = nullptr);

}  // namespace bakthat::storage::swift
