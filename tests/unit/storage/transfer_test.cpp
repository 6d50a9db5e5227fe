// The shared parallel part upload and ranged reader, driven by in-memory
// callbacks: part boundaries, order, bounded in-flight work, errors, abort.
#include <gtest/gtest.h>

#include <mutex>
#include <numeric>

#include "bakthat/errors.hpp"
#include "storage/transfer/parallel_upload.hpp"
#include "storage/transfer/ranged_reader.hpp"

namespace transfer = bakthat::storage::transfer;
using bakthat::Bytes;

namespace {

struct Log {
  std::mutex m;
  std::vector<std::vector<std::uint8_t>> parts;  // by index
  std::vector<std::uint8_t> whole;
  bool whole_put = false, completed = false;
  int aborted_after = -1;
  int fail_index = -1;
  std::vector<transfer::UploadedPart> completed_parts;
};

class Memory : public transfer::PartUpload {
 public:
  Memory(Log& log, std::uint64_t size) : log_(log), size_(size) {}
  std::uint64_t part_size(int index) override { return size_ + static_cast<std::uint64_t>(index); }
  void before_part(int) override {}
  std::string upload_part(int index, Bytes data, const std::atomic<bool>&) override {
    if (index == log_.fail_index) throw bakthat::Error(bakthat::ErrorKind::Storage, "part failed");
    std::lock_guard<std::mutex> l(log_.m);
    if (log_.parts.size() <= static_cast<std::size_t>(index)) log_.parts.resize(index + 1);
    log_.parts[index].assign(data.begin(), data.end());
    return "etag" + std::to_string(index);
  }
  std::string put_whole(Bytes data) override {
    log_.whole.assign(data.begin(), data.end());
    log_.whole_put = true;
    return "whole";
  }
  std::string complete(const std::vector<transfer::UploadedPart>& parts) override {
    log_.completed = true;
    log_.completed_parts = parts;
    return "done";
  }
  void abort(int started) noexcept override { log_.aborted_after = started; }

 private:
  Log& log_;
  std::uint64_t size_;
};

std::vector<std::uint8_t> iota_bytes(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
  return v;
}

}  // namespace

TEST(ParallelUpload, PartsFollowTheSizesAndComeBackInOrder) {
  Log log;
  auto data = iota_bytes(100);
  {
    transfer::ParallelUploadWriter w(std::make_unique<Memory>(log, 10), "obj", 3, true);
    for (std::size_t i = 0; i < data.size(); i += 7) w.write(Bytes(data).subspan(i, std::min<std::size_t>(7, data.size() - i)));
    w.finish();
    EXPECT_EQ(w.stored().name, "obj");
    EXPECT_EQ(w.stored().size, 100u);
    EXPECT_EQ(w.stored().provider_id, "done");
  }
  ASSERT_TRUE(log.completed);
  EXPECT_FALSE(log.whole_put);
  EXPECT_EQ(log.aborted_after, -1);
  // sizes 10, 11, 12, 13, 14, 15, then the 25 left... 10+11+12+13+14+15 = 75, 16 -> 91, 9 left.
  std::vector<std::uint8_t> joined;
  for (std::size_t i = 0; i < log.completed_parts.size(); ++i) {
    EXPECT_EQ(log.completed_parts[i].index, static_cast<int>(i));
    EXPECT_EQ(log.completed_parts[i].etag, "etag" + std::to_string(i));
    EXPECT_EQ(log.completed_parts[i].size, log.parts[i].size());
    if (i + 1 < log.completed_parts.size()) {
      EXPECT_EQ(log.parts[i].size(), 10 + i);
    }
    joined.insert(joined.end(), log.parts[i].begin(), log.parts[i].end());
  }
  EXPECT_EQ(log.completed_parts.size(), 8u);
  EXPECT_EQ(joined, data);
}

TEST(ParallelUpload, ExactlyOnePartIsPlainOnlyWhenNotEager) {
  for (bool eager : {false, true}) {
    Log log;
    auto data = iota_bytes(10);
    transfer::ParallelUploadWriter w(std::make_unique<Memory>(log, 10), "obj", 2, eager);
    w.write(data);
    w.finish();
    EXPECT_EQ(log.whole_put, !eager);
    EXPECT_EQ(log.completed, eager);
    if (!eager) {
      EXPECT_EQ(log.whole, data);
    }
  }
}

TEST(ParallelUpload, AFailedPartSurfacesAndAbandoningAborts) {
  Log log;
  log.fail_index = 1;
  auto data = iota_bytes(1000);
  {
    transfer::ParallelUploadWriter w(std::make_unique<Memory>(log, 10), "obj", 2, true);
    EXPECT_THROW({
      w.write(data);
      w.finish();
    }, bakthat::Error);
  }
  EXPECT_FALSE(log.completed);
  EXPECT_GE(log.aborted_after, 2);
}

TEST(RangedReader, ReadsInOrderAndResumesADroppedRange) {
  auto data = iota_bytes(1000);
  std::mutex m;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> asked;
  bool dropped = false;
  auto fetch = [&](std::uint64_t first, std::uint64_t last, const std::function<void(Bytes)>& on_body,
                   const std::atomic<bool>&) {
    bool drop;
    {
      std::lock_guard<std::mutex> l(m);
      asked.emplace_back(first, last);
      drop = first == 300 && !dropped;
      if (drop) dropped = true;
    }
    std::uint64_t end = drop ? first + 40 : last + 1;  // a drop delivers only part of the range
    on_body(Bytes(data).subspan(first, end - first));
    if (drop) throw bakthat::net::retry::TransientError("dropped");
  };
  bakthat::net::retry::Policy policy;
  policy.first_delay = std::chrono::milliseconds(1);
  transfer::RangedReader r(fetch, policy, "test: 'x'", data.size(), 150, 3, true);
  std::vector<std::uint8_t> out, buf(97);
  while (auto n = r.read(buf)) out.insert(out.end(), buf.begin(), buf.begin() + n);
  EXPECT_EQ(out, data);
  std::lock_guard<std::mutex> l(m);
  EXPECT_NE(std::find(asked.begin(), asked.end(), std::make_pair<std::uint64_t, std::uint64_t>(340, 449)),
            asked.end());
}

TEST(RangedReader, TooManyBytesIsAnError) {
  auto data = iota_bytes(100);
  auto fetch = [&](std::uint64_t first, std::uint64_t last, const std::function<void(Bytes)>& on_body,
                   const std::atomic<bool>&) { on_body(Bytes(data).subspan(first, last - first + 2 > 100 - first ? 100 - first : last - first + 2)); };
  transfer::RangedReader r(fetch, {}, "test: 'x'", 90, 30, 2, false);
  std::vector<std::uint8_t> buf(200);
  EXPECT_THROW(while (r.read(buf)) {}, bakthat::Error);
}
