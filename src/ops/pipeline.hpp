// Pipeline stages the operations put around the codec, crypto and storage
// stages: digests of what is stored, progress counting, and cancellation.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <string>

#include "bakthat/bakthat.hpp"
#include "util/bytes.hpp"

namespace bakthat::ops {

// Set by a signal handler (SIGINT, SIGTERM); every stage below checks it and
// throws Interrupted, so unwinding aborts the upload.
extern std::atomic<bool> g_cancel;
void check_cancel();

// Passes bytes on while computing their SHA-256 and count.
class HashingSink : public Sink {
 public:
  explicit HashingSink(Sink& next) : next_(next) {}
  void write(Bytes data) override;
  void finish() override;
  std::uint64_t size() const { return size_; }
  const std::string& sha256() const { return digest_; }  // after finish()

 private:
  Sink& next_;
  util::Sha256 hash_;
  std::uint64_t size_ = 0;
  std::string digest_;
};

// Passes bytes on while computing their SHA-256; at the end of the stream,
// throws Corrupt when an expected digest was given and differs, before the
// end is reported downstream (so nothing is committed from bad data).
class HashingSource : public Source {
 public:
  HashingSource(Source& in, std::string expected_sha256) : in_(in), expected_(std::move(expected_sha256)) {}
  std::size_t read(MutableBytes out) override;
  std::uint64_t size() const { return size_; }

 private:
  Source& in_;
  std::string expected_;
  util::Sha256 hash_;
  std::uint64_t size_ = 0;
  bool done_ = false;
};

// Counts bytes through a Sink or Source and reports them to a Reporter. A
// sink's `total` still being computed is passed on
// (Reporter::progress_total) once ready, at the latest when it finishes.
class ProgressSink : public Sink {
 public:
  ProgressSink(Sink& next, Reporter& reporter, std::future<std::uint64_t> total = {})
      : next_(next), reporter_(reporter), total_(std::move(total)) {}
  void write(Bytes data) override;
  void finish() override;
  std::uint64_t count() const { return count_; }

 private:
  Sink& next_;
  Reporter& reporter_;
  std::future<std::uint64_t> total_;
  std::uint64_t count_ = 0;
};

class ProgressSource : public Source {
 public:
  ProgressSource(Source& in, Reporter& reporter) : in_(in), reporter_(reporter) {}
  std::size_t read(MutableBytes out) override;

 private:
  Source& in_;
  Reporter& reporter_;
  std::uint64_t count_ = 0;
};

// Writes everything from `in` into `out` (without finishing out).
std::uint64_t copy(Source& in, Sink& out);

}  // namespace bakthat::ops
