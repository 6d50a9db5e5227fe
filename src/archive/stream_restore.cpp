// extract_stream: a stream backup restored as one file, with the same
// guarantees as a tree (nothing left behind by a failure, nothing replaced
// without force, leftovers of killed restores recovered first).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "archive/archive.hpp"
#include "archive/staging.hpp"
#include "bakthat/errors.hpp"
#include "util/file_tree.hpp"

namespace bakthat::archive {

namespace {

[[noreturn]] void io_error(const std::string& what) {
  const int err = errno;
  throw Error(ErrorKind::Io, what + ": " + std::strerror(err));
}

// The temporary file: a short name of its own whatever the length of the
// final one (NAME_MAX), made under the target's lock and flock-ed while it
// is written, so that recover_interrupted removes it only once its writer
// is gone. Removed when destroyed unless kept.
class TempFile {
 public:
  explicit TempFile(const std::string& dir) {
    detail::TargetLock lock(dir);
    for (int attempt = 0; fd_ < 0 && attempt < 100; ++attempt) {
      path_ = dir + "/" + std::string(detail::kStagingPrefix) + std::to_string(::getpid()) + "-" +
              std::to_string(std::random_device{}());
      // 0644 less the umask, which open(2) applies: reading the umask means
      // setting it, racy in a threaded host.
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd_ < 0 && errno != EEXIST) break;
    }
    if (fd_ < 0) io_error("cannot create a file in " + dir);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::unlink(path_.c_str());
      ::close(fd_);
      errno = err;
      io_error("cannot lock " + path_);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!kept_) ::unlink(path_.c_str());
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  void keep() { kept_ = true; }

 private:
  std::string path_;
  int fd_ = -1;
  bool kept_ = false;
};

}  // namespace

ExtractStats extract_stream(Source& in, const ExtractOptions& options, const std::string& name) {
  // Resolved, as a tree's target is: the target may be a symlink to a
  // directory, which the lock and the sweep open without following.
  char resolved[PATH_MAX];
  if (::realpath(options.target_dir.c_str(), resolved) == nullptr) io_error("cannot restore into " + options.target_dir);
  const std::string dir = resolved;
  ExtractStats stats;
  stats.recovered = detail::recover_interrupted(dir);
  const std::string final_path = options.target_dir + "/" + name;
  struct stat st {};
  if (!options.force && ::lstat(final_path.c_str(), &st) == 0)
    throw Error(ErrorKind::Conflict, "restore would overwrite " + final_path + "; use --force");
  TempFile temp(dir);
  std::vector<std::uint8_t> buffer(1 << 20);
  while (std::size_t n = in.read(MutableBytes(buffer.data(), buffer.size()))) {
    for (std::size_t done = 0; done < n;) {
      const ssize_t w = ::write(temp.fd(), buffer.data() + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) io_error("cannot write " + final_path);
      done += static_cast<std::size_t>(w);
    }
    stats.bytes += n;
  }
  if (::fsync(temp.fd()) != 0) io_error("cannot write " + final_path);
  const int r = options.force ? ::rename(temp.path().c_str(), final_path.c_str())
                              : util::rename_no_replace(AT_FDCWD, temp.path().c_str(), AT_FDCWD, final_path.c_str());
  if (r != 0 && errno == EEXIST)
    throw Error(ErrorKind::Conflict, "restore would overwrite " + final_path + "; use --force");
  if (r != 0) io_error("cannot create " + final_path);
  temp.keep();
  stats.entries = 1;
  stats.top_entries.push_back(name);
  return stats;
}

}  // namespace bakthat::archive
