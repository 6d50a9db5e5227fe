#include "storage/transfer/ranged_reader.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "storage/transfer/drain.hpp"

namespace bakthat::storage::transfer {

RangedReader::RangedReader(Fetch fetch, net::retry::Policy policy, std::string what, std::uint64_t size,
                           std::uint64_t chunk, int window, bool wait_first)
    : fetch_(std::move(fetch)),
      policy_(std::move(policy)),
      what_(std::move(what)),
      size_(size),
      chunk_(chunk),
      window_(std::max(1, window)) {
  schedule();
  if (wait_first && !in_flight_.empty()) next_chunk();
}

RangedReader::RangedReader(Fetch fetch, net::retry::Policy policy, std::string what, std::uint64_t size,
                           std::uint64_t chunk, int window, util::LargeBuffer first)
    : fetch_(std::move(fetch)),
      policy_(std::move(policy)),
      what_(std::move(what)),
      size_(size),
      chunk_(chunk),
      window_(std::max(1, window)),
      next_start_(first.size()),
      current_(std::move(first)) {
  schedule();
}

std::unique_ptr<RangedReader> RangedReader::open(Fetch fetch, const FirstGet& first_get, net::retry::Policy policy,
                                                std::string what, std::uint64_t chunk, int window) {
  util::LargeBuffer first;
  std::uint64_t size = 0;
  net::retry::run(policy, [&] {
    first.clear();
    auto reply = first_get(chunk - 1, [&first](Bytes b) { first.append(b); });
    if (reply.status == 416) {
      first.clear();
      size = 0;
      return;
    }
    const std::string range = reply.header("content-range");  // bytes 0-N/SIZE
    const auto slash = range.rfind('/');
    size = reply.status == 206 && slash != std::string::npos ? std::strtoull(range.c_str() + slash + 1, nullptr, 10)
                                                             : first.size();
    if (first.size() > size || (first.size() < size && first.size() != chunk))
      throw net::retry::TransientError(what + " ended early (changed while being read?)");
  });
  return std::make_unique<RangedReader>(std::move(fetch), std::move(policy), std::move(what), size, chunk, window,
                                        std::move(first));
}

RangedReader::~RangedReader() {
  cancel_ = true;
  drain(in_flight_);
}

std::size_t RangedReader::read(MutableBytes out) {
  while (pos_ == current_.size()) {
    if (in_flight_.empty()) return 0;
    next_chunk();
  }
  std::size_t n = std::min(out.size(), current_.size() - pos_);
  std::memcpy(out.data(), current_.data() + pos_, n);
  pos_ += n;
  return n;
}

void RangedReader::schedule() {
  while (static_cast<int>(in_flight_.size()) < window_ && next_start_ < size_) {
    std::uint64_t start = next_start_;
    std::uint64_t len = std::min(chunk_, size_ - start);
    next_start_ += len;
    util::LargeBuffer buffer;
    if (!spare_.empty()) {
      buffer = std::move(spare_.back());
      spare_.pop_back();
    }
    in_flight_.push_back(std::async(std::launch::async, [this, start, len, b = std::move(buffer)]() mutable {
      return fetch(start, len, std::move(b));
    }));
  }
}

void RangedReader::next_chunk() {
  auto f = std::move(in_flight_.front());
  in_flight_.pop_front();
  if (current_.capacity()) spare_.push_back(std::move(current_));
  current_ = f.get();
  pos_ = 0;
  schedule();
}

util::LargeBuffer RangedReader::fetch(std::uint64_t start, std::uint64_t len, util::LargeBuffer data) {
  data.clear();
  data.reserve(len);
  net::retry::run(policy_, [&] {
    fetch_(start + data.size(), start + len - 1, [&](Bytes b) {
      if (data.size() + b.size() > len)
        throw Error(ErrorKind::Storage, what_ + " sent more bytes than the range asked");
      data.append(b);
    }, cancel_);
    if (data.size() != len) throw net::retry::TransientError(what_ + " ended early (changed while being read?)");
  });
  return data;
}

}  // namespace bakthat::storage::transfer
