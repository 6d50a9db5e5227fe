// Archives streamed once through the page cache: what is behind the writer
// or the reader leaves it, the file stays whole, and file descriptors that
// cannot do it (a pipe) or are broken (closed) are told apart.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <linux/magic.h>

#include <cstring>
#include <string>
#include <vector>

#include "bakthat/errors.hpp"
#include "util/drop_behind.hpp"

using namespace bakthat;

namespace {

constexpr std::uint64_t kWindow = util::DropBehind::kWindow;

// The test file's byte at `offset`.
std::uint8_t pattern_at(std::uint64_t offset) { return static_cast<std::uint8_t>(offset * 131 >> 7); }

// A file in the build directory (on disk: tmpfs keeps its pages anyway).
class StreamedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::string(BAKTHAT_BINARY_DIR) + "/drop_behind_test." + std::to_string(::getpid());
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0) << path_;
    struct statfs fs {};
    ASSERT_EQ(::fstatfs(fd_, &fs), 0);
    if (fs.f_type == TMPFS_MAGIC) GTEST_SKIP() << "the build directory is on tmpfs, whose pages cannot be dropped";
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }

  // Writes `total` bytes of a known pattern in writes of `chunk` bytes,
  // telling `window` (if any) after each.
  void write_pattern(std::uint64_t total, std::size_t chunk, util::DropBehind* window) {
    std::vector<std::uint8_t> buf(chunk);
    for (std::uint64_t done = 0; done < total;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - done));
      for (std::size_t i = 0; i < n; ++i) buf[i] = pattern_at(done + i);
      ASSERT_EQ(::write(fd_, buf.data(), n), static_cast<ssize_t>(n));
      done += n;
      if (window) window->written(done);
    }
  }

  // How many of the file's pages in [from, to) are in the page cache.
  std::size_t resident_pages(std::uint64_t from, std::uint64_t to) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    void* map = ::mmap(nullptr, to, PROT_READ, MAP_SHARED, fd_, 0);
    EXPECT_NE(map, MAP_FAILED);
    if (map == MAP_FAILED) return 0;
    std::vector<unsigned char> in_core((to + page - 1) / page);
    EXPECT_EQ(::mincore(map, to, in_core.data()), 0);
    ::munmap(map, to);
    std::size_t n = 0;
    for (std::size_t i = from / page; i < in_core.size(); ++i) n += in_core[i] & 1;
    return n;
  }

  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST_F(StreamedFile, WhatIsBehindTheWriterLeavesThePageCache) {
  const std::uint64_t total = 8 * kWindow + 12345;
  util::DropBehind window(fd_, path_);
  write_pattern(total, (1 << 20) + 256, &window);  // the age writer's unaligned job size
  // Three windows stay (one being filled, two written back but not yet
  // dropped); everything before them is gone.
  const std::uint64_t kept_from = total / kWindow * kWindow - 2 * kWindow;
  EXPECT_EQ(resident_pages(0, kept_from), 0u);
  EXPECT_GT(resident_pages(kept_from, total), 0u);

  // The bytes are all there, read back from the disk.
  ASSERT_EQ(::fsync(fd_), 0);
  std::vector<std::uint8_t> back(1 << 20);
  for (std::uint64_t done = 0; done < total;) {
    const ssize_t n = ::pread(fd_, back.data(), back.size(), static_cast<off_t>(done));
    ASSERT_GT(n, 0);
    for (ssize_t i = 0; i < n; ++i)
      ASSERT_EQ(back[static_cast<std::size_t>(i)], pattern_at(done + static_cast<std::uint64_t>(i)))
          << "byte " << done + static_cast<std::uint64_t>(i);
    done += static_cast<std::uint64_t>(n);
  }
}

TEST_F(StreamedFile, WhatIsBehindTheReaderLeavesThePageCache) {
  const std::uint64_t total = 6 * kWindow;
  write_pattern(total, 1 << 20, nullptr);  // cached, as the next test shows
  ASSERT_EQ(::fsync(fd_), 0);  // an archive is: dirty pages would stay
  ASSERT_EQ(::lseek(fd_, 0, SEEK_SET), 0);
  util::DropBehind window(fd_, path_);
  std::vector<std::uint8_t> buf((1 << 20) + 256);
  std::uint64_t offset = 0;
  for (ssize_t n; (n = ::read(fd_, buf.data(), buf.size())) > 0;) {
    offset += static_cast<std::uint64_t>(n);
    window.read(offset);
  }
  ASSERT_EQ(offset, total);
  EXPECT_EQ(resident_pages(0, total - 3 * kWindow), 0u);
  EXPECT_GT(resident_pages(total - 3 * kWindow, total), 0u);
}

// The checks above can see cached pages: without the window they stay.
TEST_F(StreamedFile, WithoutTheWindowThePagesStay) {
  const std::uint64_t total = 4 * kWindow;
  write_pattern(total, 1 << 20, nullptr);
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_GT(resident_pages(0, total), total / page * 9 / 10);
}

TEST(DropBehind, APipeIsLeftAlone) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  util::DropBehind window(p[1], "a pipe");
  EXPECT_NO_THROW(window.written(5 * kWindow));
  EXPECT_NO_THROW(window.written(9 * kWindow));
  util::DropBehind reading(p[0], "a pipe");
  EXPECT_NO_THROW(reading.read(9 * kWindow));
  ::close(p[0]);
  ::close(p[1]);
}

TEST(DropBehind, ABrokenDescriptorIsAnIoError) {
  const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ::close(fd);
  util::DropBehind window(fd, "/some/archive");
  try {
    window.written(kWindow);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Io);
    EXPECT_NE(std::string(e.what()).find("cannot write /some/archive"), std::string::npos) << e.what();
  }
}
