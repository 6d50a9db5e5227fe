// The storage interface every destination implements (local, s3, glacier,
// swift, and memory for tests). A Storage may wrap another: the folder of
// a destination that holds its catalog rows is one (PrefixedStorage). A
// network destination retries each request it sends, not whole operations
// on the Storage (src/net: retry::run around one attempt).
//
// Objects are flat names inside one container (a directory, bucket, vault).
// An object becomes visible under its name only when its writer's finish()
// returns: a writer destroyed before that leaves no object behind.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bakthat/stream.hpp"

namespace bakthat {

struct ObjectInfo {
  std::string name;
  std::uint64_t size = 0;
  std::int64_t modified = 0;   // Unix seconds, 0 when unknown
  std::string storage_class;   // empty when the destination has none
};

// What the destination confirmed once an object was completely written.
struct StoredObject {
  std::string name;
  std::uint64_t size = 0;
  std::string provider_id;  // e.g. a Glacier archive id or an S3 ETag
};

class ObjectWriter : public Sink {
 public:
  // finish() (from Sink) completes the object: when it returns the store has
  // every byte durably under the final name. Destroying a writer whose
  // finish() has not returned aborts the upload and leaves nothing visible.
  virtual const StoredObject& stored() const = 0;
};

// Whether an object can be read now (archive tiers need a retrieval first).
enum class Readiness { Ready, RetrievalStarted, RetrievalInProgress };

class Storage {
 public:
  virtual ~Storage() = default;

  // The destination's name as the catalog records it: "local", "s3", ...
  virtual std::string kind() const = 0;
  // Where objects go, for messages: a path or "s3://bucket".
  virtual std::string location() const = 0;

  // Starts writing `name`. size_hint, when known, lets a destination choose
  // part sizes. Fails with ErrorKind::Conflict if the name already exists.
  virtual std::unique_ptr<ObjectWriter> create(const std::string& name,
                                               std::optional<std::uint64_t> size_hint) = 0;
  // create() of a name no other writer picks (it carries a random part, as
  // the catalog's row entries do), in a bucket or container a create() has
  // made: no request is spent first finding the name free (S3: no LIST,
  // Swift: no HEADs), so a small object is one PUT. Where the store writes
  // conditionally (If-None-Match, link(2)) a name taken all the same still
  // fails with Conflict. The default is create().
  virtual std::unique_ptr<ObjectWriter> create_new(const std::string& name, std::optional<std::uint64_t> size_hint);
  // Opens `name` for reading from its first byte. Throws NotFound.
  virtual std::unique_ptr<Source> open(const std::string& name) = 0;
  // Opens bytes [offset, offset + length) of `name` (cut at the object's
  // end): a ranged GET, a pread. Throws NotFound. The default reads from
  // the first byte and passes over `offset` bytes.
  virtual std::unique_ptr<Source> open_range(const std::string& name, std::uint64_t offset, std::uint64_t length);
  // Removes `name`. Throws NotFound when it does not exist.
  virtual void remove(const std::string& name) = 0;
  // Removes every one of `names`; a name that does not exist is no failure
  // (unlike remove(), no request is spent finding out). The default calls
  // remove() for each in turn; S3 removes up to 1000 objects per request,
  // Swift several at once.
  virtual void remove_many(const std::vector<std::string>& names);
  // Every object whose name starts with prefix, in name order.
  virtual std::vector<ObjectInfo> list(const std::string& prefix) = 0;
  // The object's info, or nullopt when it does not exist.
  virtual std::optional<ObjectInfo> stat(const std::string& name) = 0;

  // A URL that allows `method` on `name` without credentials for
  // expires_seconds. Destinations without URLs throw Unsupported.
  virtual std::string presign(const std::string& name, const std::string& method,
                              std::int64_t expires_seconds);
  // For archive tiers: starts (or checks) a retrieval so that open() can
  // succeed later. Destinations whose objects are always readable say Ready.
  virtual Readiness prepare_read(const std::string& name);
  // Aborts the uploads left incomplete (S3 multipart uploads whose abort
  // failed) that began before `before` (Unix seconds) and whose names `ours`
  // accepts; returns their names. Destinations without such uploads: none.
  virtual std::vector<std::string> abort_incomplete(const std::function<bool(const std::string&)>& ours,
                                                    std::int64_t before);
};

}  // namespace bakthat
