#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "codec/gzip_member.hpp"
#include "util/ordered_pool.hpp"
#include "codec/stages.hpp"

namespace bakthat::codec {
namespace {

using gzip::kBlockSize;
using gzip::MemberCompressor;

struct Block {
  std::vector<std::uint8_t> in, out;
  std::size_t out_size = 0;  // the member's bytes at the start of out
};
using Worker = std::unique_ptr<MemberCompressor>;

// Cuts the stream into kBlockSize blocks; each becomes one member compressed
// on a worker. The caller's thread fills blocks and writes finished members
// to `next` (so `next` is only ever used from the caller's thread); it blocks
// only when all gzip::slots_for(threads) slots are in flight, bounding memory
// to about 2 MiB a slot.
class GzipSink : public Sink {
 public:
  GzipSink(Sink& next, gzip::EngineChoice choice, int threads)
      : next_(next),
        pool_(threads, gzip::slots_for(threads),
              [choice] { return std::make_unique<MemberCompressor>(choice); },
              [](Worker& w, Block& b) { b.out_size = w->compress(b.in, b.out); }) {}

  void write(Bytes data) override {
    while (!data.empty()) {
      Block& b = current();
      const std::size_t n = std::min(data.size(), kBlockSize - b.in.size());
      b.in.insert(b.in.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
      data = data.subspan(n);
      if (b.in.size() == kBlockSize) submit();
    }
  }

  void finish() override {
    // An empty stream still gets one (empty) member: zero bytes is not a
    // valid .gz for gzip -t or tar.
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
      pool_.back().in.reserve(kBlockSize);
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
  util::OrderedPool<Block, Worker> pool_;
  bool filling_ = false;  // pool_.back() is the block being filled
  bool wrote_any_ = false;
};

}  // namespace

std::unique_ptr<Sink> make_gzip_sink(Sink& next, std::optional<int> level, int threads) {
  return std::make_unique<GzipSink>(next, gzip::choose_engine(level), std::max(1, threads));
}

}  // namespace bakthat::codec
