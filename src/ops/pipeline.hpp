// Pipeline stages the operations put around the codec, crypto and storage
// stages: digests of what is stored, progress counting, and cancellation.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <string>

#include "bakthat/bakthat.hpp"
#include "util/bytes.hpp"
#include "util/string_stream.hpp"

namespace bakthat::ops {

// The stages that take a CancelToken (Options::cancel, may be nullptr)
// check it at each block and throw Interrupted, so unwinding aborts the
// upload.

// Passes bytes on while computing their SHA-256 and count.
class HashingSink : public Sink {
 public:
  HashingSink(Sink& next, const CancelToken* cancel) : next_(next), cancel_(cancel) {}
  void write(Bytes data) override;
  void finish() override;
  std::uint64_t size() const { return size_; }
  const std::string& sha256() const { return digest_; }  // after finish()

 private:
  Sink& next_;
  const CancelToken* cancel_;
  util::Sha256 hash_;
  std::uint64_t size_ = 0;
  std::string digest_;
};

// Passes bytes on while computing their SHA-256; at the end of the stream,
// throws Corrupt when an expected digest was given and differs, before the
// end is reported downstream (so nothing is committed from bad data).
class HashingSource : public Source {
 public:
  HashingSource(Source& in, std::string expected_sha256, const CancelToken* cancel)
      : in_(in), expected_(std::move(expected_sha256)), cancel_(cancel) {}
  std::size_t read(MutableBytes out) override;
  std::uint64_t size() const { return size_; }
  // The digest of every byte, once the end was read; "" before.
  const std::string& sha256() const { return digest_; }

 private:
  Source& in_;
  std::string expected_;
  std::string digest_;
  const CancelToken* cancel_;
  util::Sha256 hash_;
  std::uint64_t size_ = 0;
  bool done_ = false;
};

// Counts bytes through a Sink or Source and reports them to a Reporter (the
// sink, first stage of a backup, checks its token too: compressors buffer). A
// sink's `total` still being computed is passed on
// (Reporter::progress_total) once ready, at the latest when it finishes.
class ProgressSink : public Sink {
 public:
  ProgressSink(Sink& next, Reporter& reporter, const CancelToken* cancel, std::future<std::uint64_t> total = {})
      : next_(next), reporter_(reporter), cancel_(cancel), total_(std::move(total)) {}
  void write(Bytes data) override;
  void finish() override;
  std::uint64_t count() const { return count_; }

 private:
  Sink& next_;
  Reporter& reporter_;
  const CancelToken* cancel_;
  std::future<std::uint64_t> total_;
  std::uint64_t count_ = 0;
};

class ProgressSource : public Source {
 public:
  // `already`: what earlier sources of the same transfer counted (the
  // levels of an incremental chain make one progress display).
  ProgressSource(Source& in, Reporter& reporter, std::uint64_t already = 0)
      : in_(in), reporter_(reporter), count_(already) {}
  std::size_t read(MutableBytes out) override;

 private:
  Source& in_;
  Reporter& reporter_;
  std::uint64_t count_ = 0;
};

// Passes bytes on; throws Interrupted once `cancel` is cancelled.
class CancellableSource : public Source {
 public:
  CancellableSource(Source& in, const CancelToken* cancel) : in_(in), cancel_(cancel) {}
  std::size_t read(MutableBytes out) override {
    check_cancel(cancel_);
    return in_.read(out);
  }

 private:
  Source& in_;
  const CancelToken* cancel_;
};

// Passes bytes on after showing them to `observe` (an index following the
// stream it is built from).
class TapSink : public Sink {
 public:
  TapSink(Sink& next, std::function<void(Bytes)> observe) : next_(next), observe_(std::move(observe)) {}
  void write(Bytes data) override {
    observe_(data);
    next_.write(data);
  }
  void finish() override { next_.finish(); }

 private:
  Sink& next_;
  std::function<void(Bytes)> observe_;
};

class TapSource : public Source {
 public:
  TapSource(Source& in, std::function<void(Bytes)> observe) : in_(in), observe_(std::move(observe)) {}
  std::size_t read(MutableBytes out) override {
    std::size_t n = in_.read(out);
    observe_(Bytes(out.data(), n));
    return n;
  }

 private:
  Source& in_;
  std::function<void(Bytes)> observe_;
};

// A string read as a Source, or collected from a Sink (util/string_stream.hpp).
using util::StringSink;
using util::StringSource;

// Writes everything from `in` into `out` (without finishing out).
std::uint64_t copy(Source& in, Sink& out, const CancelToken* cancel);

}  // namespace bakthat::ops
