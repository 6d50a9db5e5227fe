// The unnamed temporary file the age writer holds its payload in: bytes come
// back whole and in order, the limit refuses without losing what is held,
// nothing shows in the directory, a directory that cannot hold it throws.
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <stdexcept>
#include <unistd.h>
#include <vector>

#include "bakthat/errors.hpp"
#include "util/spill_file.hpp"

namespace fs = std::filesystem;
using namespace bakthat;

namespace {

struct CollectSink : Sink {
  std::vector<std::uint8_t> data;
  std::size_t writes = 0, largest = 0;
  void write(Bytes d) override {
    data.insert(data.end(), d.begin(), d.end());
    ++writes;
    largest = std::max(largest, d.size());
  }
  void finish() override {}
};

struct FailingSink : Sink {
  void write(Bytes) override { throw Error(ErrorKind::Io, "downstream refused"); }
  void finish() override {}
};

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t start) {
  std::vector<std::uint8_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

class SpillFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bakthat-spill-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

}  // namespace

TEST_F(SpillFileTest, ReplaysEverythingInOrderAndEmpties) {
  util::SpillFile spill(dir_, 64 << 20);
  std::vector<std::uint8_t> all;
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{3} << 20, std::size_t{65537}}) {
    auto piece = pattern(n, static_cast<std::uint8_t>(n));
    ASSERT_TRUE(spill.append(piece));
    all.insert(all.end(), piece.begin(), piece.end());
  }
  EXPECT_EQ(spill.size(), all.size());
  EXPECT_TRUE(fs::is_empty(dir_));  // unnamed: nothing to clean up after a crash
  CollectSink out;
  spill.replay(out);
  EXPECT_EQ(out.data, all);
  EXPECT_LE(out.largest, std::size_t{1} << 20);  // bounded pieces
  EXPECT_EQ(spill.size(), 0u);

  // Usable again after a replay, from the start.
  auto again = pattern(1000, 7);
  ASSERT_TRUE(spill.append(again));
  CollectSink second;
  spill.replay(second);
  EXPECT_EQ(second.data, again);
}

TEST_F(SpillFileTest, TheLimitRefusesAWholeAppendAndKeepsWhatIsHeld) {
  util::SpillFile spill(dir_, 1000);
  auto first = pattern(600, 1);
  ASSERT_TRUE(spill.append(first));
  EXPECT_FALSE(spill.append(pattern(401, 2)));
  EXPECT_EQ(spill.size(), 600u);
  ASSERT_TRUE(spill.append(pattern(400, 3)));
  EXPECT_FALSE(spill.append(pattern(1, 4)));
  CollectSink out;
  spill.replay(out);
  ASSERT_EQ(out.data.size(), 1000u);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), out.data.begin()));
}

TEST_F(SpillFileTest, ADirectoryThatCannotHoldItThrowsIo) {
  try {
    util::SpillFile spill(dir_ / "missing", 1 << 20);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Io);
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
}

TEST_F(SpillFileTest, ReplayPassesOnTheSinksError) {
  util::SpillFile spill(dir_, 1 << 20);
  ASSERT_TRUE(spill.append(pattern(10, 0)));
  FailingSink out;
  EXPECT_THROW(spill.replay(out), Error);
}
