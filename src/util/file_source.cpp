#include "util/file_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "bakthat/errors.hpp"
#include "util/drop_behind.hpp"

namespace bakthat::util {
namespace {

Error io_error(const std::string& what, const std::string& path) {
  return Error(ErrorKind::Io, what + " " + path + ": " + std::strerror(errno));
}

int open_for_reading(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) throw Error(ErrorKind::NotFound, "no such file: " + path);
    throw io_error("cannot open", path);
  }
  return fd;
}

class FileSource : public Source {
 public:
  explicit FileSource(const std::string& path) : path_(path) {
    fd_ = open_for_reading(path);
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd_);
      throw Error(ErrorKind::Usage, path + " is a directory");
    }
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    cache_.emplace(fd_, path_);
  }
  ~FileSource() override { ::close(fd_); }

  std::size_t read(MutableBytes out) override {
    for (;;) {
      ssize_t n = ::read(fd_, out.data(), out.size());
      if (n >= 0) {
        offset_ += static_cast<std::uint64_t>(n);
        cache_->read(offset_);
        return static_cast<std::size_t>(n);
      }
      if (errno != EINTR) throw io_error("cannot read", path_);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t offset_ = 0;
  std::optional<DropBehind> cache_;  // set once fd_ is open
};

class FileRangeSource : public Source {
 public:
  FileRangeSource(const std::string& path, std::uint64_t offset, std::uint64_t length)
      : path_(path), fd_(open_for_reading(path)), offset_(offset), left_(length) {}
  ~FileRangeSource() override { ::close(fd_); }

  std::size_t read(MutableBytes out) override {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left_, out.size()));
    if (want == 0) return 0;
    for (;;) {
      ssize_t n = ::pread(fd_, out.data(), want, static_cast<off_t>(offset_));
      if (n >= 0) {
        offset_ += static_cast<std::uint64_t>(n);
        left_ -= static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
      }
      if (errno != EINTR) throw io_error("cannot read", path_);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t offset_, left_;
};

}  // namespace

std::unique_ptr<Source> open_file_source(const std::string& path) { return std::make_unique<FileSource>(path); }

std::unique_ptr<Source> open_file_range(const std::string& path, std::uint64_t offset, std::uint64_t length) {
  return std::make_unique<FileRangeSource>(path, offset, length);
}

}  // namespace bakthat::util
