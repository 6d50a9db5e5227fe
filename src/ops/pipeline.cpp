#include "ops/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace bakthat::ops {

void HashingSink::write(Bytes data) {
  check_cancel(cancel_);
  hash_.update(data);
  size_ += data.size();
  next_.write(data);
}

void HashingSink::finish() {
  digest_ = hash_.hex_digest();
  next_.finish();
}

std::size_t HashingSource::read(MutableBytes out) {
  check_cancel(cancel_);
  if (done_) return 0;
  std::size_t n = in_.read(out);
  if (n == 0) {
    done_ = true;
    std::string actual = hash_.hex_digest();
    if (!expected_.empty() && actual != expected_)
      throw Error(ErrorKind::Corrupt, "the stored object is damaged: its sha256 does not match the catalog");
    digest_ = std::move(actual);
    return 0;
  }
  hash_.update(out.first(n));
  size_ += n;
  return n;
}

void ProgressSink::write(Bytes data) {
  check_cancel(cancel_);
  count_ += data.size();
  if (total_.valid() && total_.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
    reporter_.progress_total(total_.get());
  reporter_.progress(count_);
  next_.write(data);
}

void ProgressSink::finish() {
  if (total_.valid()) reporter_.progress_total(total_.get());
  next_.finish();
}

std::size_t ProgressSource::read(MutableBytes out) {
  std::size_t n = in_.read(out);
  count_ += n;
  reporter_.progress(count_);
  return n;
}

std::uint64_t copy(Source& in, Sink& out, const CancelToken* cancel) {
  std::vector<std::uint8_t> buf(1 << 20);
  std::uint64_t total = 0;
  for (;;) {
    check_cancel(cancel);
    std::size_t n = in.read(buf);
    if (n == 0) return total;
    out.write(Bytes(buf.data(), n));
    total += n;
  }
}

}  // namespace bakthat::ops
