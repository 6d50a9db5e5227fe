// The shape of both compressors: the stream cut into blocks of a fixed
// size, each compressed alone on a worker (into one gzip member, one zstd
// frame) and written to `next` in order.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

#include "bakthat/stream.hpp"
#include "util/ordered_pool.hpp"

namespace bakthat::codec {

struct Block {
  std::vector<std::uint8_t> in, out;
  std::size_t out_size = 0;  // the compressed bytes at the start of out
};

// The caller's thread fills blocks and writes finished ones to `next` (so
// `next` is only ever used from the caller's thread); it blocks only when
// all `slots` are in flight, which bounds memory to about twice the block
// size a slot. An empty stream is one empty block (zero bytes is not a
// valid .gz or .zst for gzip -t, zstd -t or tar).
template <class Worker>
class BlockSink : public Sink {
 public:
  BlockSink(Sink& next, std::size_t block_size, int threads, std::size_t slots, std::function<Worker()> make_worker,
            std::function<void(Worker&, Block&)> compress)
      : next_(next), block_size_(block_size), pool_(threads, slots, std::move(make_worker), std::move(compress)) {}

  void write(Bytes data) override {
    while (!data.empty()) {
      Block& b = current();
      const std::size_t n = std::min(data.size(), block_size_ - b.in.size());
      b.in.insert(b.in.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
      data = data.subspan(n);
      if (b.in.size() == block_size_) submit();
    }
  }

  void finish() override {
    if (filling_ || !wrote_any_) {
      current();
      submit();
    }
    while (!pool_.empty()) retire();
    next_.finish();
  }

 private:
  Block& current() {
    if (!filling_) {
      while (pool_.full()) retire();
      pool_.back().in.clear();
      pool_.back().in.reserve(block_size_);
      filling_ = true;
    }
    return pool_.back();
  }
  void submit() {
    pool_.submit();
    filling_ = false;
    wrote_any_ = true;
    // Hand on what is already done so output flows while we keep filling.
    while (pool_.front_ready()) retire();
  }
  void retire() {
    Block& b = pool_.front();
    next_.write(Bytes(b.out.data(), b.out_size));
    pool_.pop_front();
  }

  Sink& next_;
  const std::size_t block_size_;
  util::OrderedPool<Block, Worker> pool_;
  bool filling_ = false;  // pool_.back() is the block being filled
  bool wrote_any_ = false;
};

}  // namespace bakthat::codec
