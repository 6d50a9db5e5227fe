#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "bakthat/storage.hpp"
#include "bakthat/stream.hpp"
#include "util/huge_pages.hpp"

namespace bakthat::storage::transfer {

struct UploadedPart {
  int index = 0;  // 0-based, in stream order
  std::uint64_t size = 0;
  std::string etag;  // what PartUpload::upload_part returned
};

// What a destination does to store one object in parts (an S3 multipart
// upload, Swift segments and a manifest). ParallelUploadWriter drives it.
class PartUpload {
 public:
  virtual ~PartUpload() = default;
  // Size of part `index`; the sizes may grow along the stream.
  virtual std::uint64_t part_size(int index) = 0;
  // On the writer's thread just before part `index` starts uploading
  // (e.g. initiate the upload before part 0, check limits).
  virtual void before_part(int index) = 0;
  // On a worker thread, several at once; raising `cancel` aborts it.
  // Returns the part's ETag.
  virtual std::string upload_part(int index, Bytes data, const std::atomic<bool>& cancel) = 0;
  // The whole object when it fit in one part: stores it plainly.
  // Returns the provider's id for it.
  virtual std::string put_whole(Bytes data) = 0;
  // Joins the parts (in order) into the object; returns the provider's id.
  virtual std::string complete(const std::vector<UploadedPart>& parts) = 0;
  // The upload is abandoned after `started` parts were handed out, none
  // still running: best-effort cleanup of what the server holds.
  virtual void abort(int started) noexcept = 0;
};

// An ObjectWriter that cuts the stream into parts and uploads them, at most
// `threads` at once. Memory stays bounded: one part filling plus `threads`
// in flight, in buffers reused from part to part. The first failed part's
// error surfaces from the next write() or finish(). Destroyed unfinished, it
// cancels the uploads running, waits for them (keeping none of their
// errors), then calls abort().
class ParallelUploadWriter : public ObjectWriter {
 public:
  // A full part ships at once when `eager`; otherwise only when more data
  // comes, so an object of exactly one part is still a plain object.
  ParallelUploadWriter(std::unique_ptr<PartUpload> upload, std::string name, int threads, bool eager);
  ~ParallelUploadWriter() override;

  void write(Bytes data) override;
  void finish() override;
  const StoredObject& stored() const override { return stored_; }

 private:
  void ship();
  void collect_oldest();
  void take_buffer();

  // A part that went up, and the buffer it was sent from, handed back for
  // the next parts.
  struct Shipped {
    UploadedPart part;
    util::LargeBuffer buffer;
  };

  std::unique_ptr<PartUpload> upload_;
  std::string name_;
  int threads_;
  bool eager_;
  util::LargeBuffer buffer_;
  std::uint64_t size_ = 0;
  int started_ = 0;  // parts handed to upload_part
  std::deque<std::future<Shipped>> in_flight_;
  // Part buffers are reused (on huge pages): a fresh one per part would
  // fault in (and then unmap) tens of MiB of pages for every part.
  std::vector<util::LargeBuffer> spare_;
  std::vector<UploadedPart> parts_;  // in order: collected oldest first
  std::atomic<bool> cancel_{false};
  bool finished_ = false;
  StoredObject stored_;
};

}  // namespace bakthat::storage::transfer
