// A library caller cancels an operation through Options::cancel: it throws
// Interrupted and stores and records nothing; the token can be reset and
// the next operation runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "bakthat/bakthat.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

class CancelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("bakthat-cancel-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "tree");
    std::ofstream(root_ / "tree" / "a.txt") << "hello\n";
    std::ofstream(root_ / "config.yml") << "default:\n  local_path: " << (root_ / "store").string()
                                         << "\n  database: " << (root_ / "catalog.sqlite").string() << "\n";
    options_.config.path = (root_ / "config.yml").string();
    options_.password = "";
    options_.cancel = &token_;
  }
  void TearDown() override { fs::remove_all(root_); }

  // A stream that never ends, as a silent pipe's writer.
  class Endless : public bakthat::Source {
   public:
    std::size_t read(bakthat::MutableBytes out) override {
      std::this_thread::sleep_for(10ms);
      out[0] = 'x';
      return 1;
    }
  };

  // Backup objects: the store's own files (its .bakthat/ folder holds the
  // destination's catalog log, no backup).
  std::size_t stored() const {
    std::size_t n = 0;
    if (fs::exists(root_ / "store"))
      for (const auto& e : fs::directory_iterator(root_ / "store")) n += e.is_regular_file();
    return n;
  }

  fs::path root_;
  bakthat::CancelToken token_;
  bakthat::BackupOptions options_;
};

TEST_F(CancelTest, ACancelledTokenStopsABackupBeforeAnythingIsStored) {
  token_.cancel();
  try {
    bakthat::backup((root_ / "tree").string(), options_);
    ADD_FAILURE() << "the backup ran";
  } catch (const bakthat::Error& e) {
    EXPECT_EQ(e.kind(), bakthat::ErrorKind::Interrupted) << e.what();
  }
  bakthat::ShowOptions show;
  show.config = options_.config;
  EXPECT_TRUE(bakthat::show(show).empty());
  EXPECT_EQ(stored(), 0u);

  token_.reset();
  bakthat::backup((root_ / "tree").string(), options_);
  EXPECT_EQ(bakthat::show(show).size(), 1u);
}

TEST_F(CancelTest, AnotherThreadCancelsAStreamBackupWithinASecond) {
  Endless in;
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    token_.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(bakthat::backup_stream(in, "endless", options_), bakthat::Error);
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1200ms);
  EXPECT_EQ(stored(), 0u);
}

}  // namespace
