#include "util/file_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "bakthat/errors.hpp"

namespace bakthat::util {
namespace {

Error io_error(const std::string& what, int err) { return Error(ErrorKind::Io, what + ": " + std::strerror(err)); }

}  // namespace

std::vector<std::string> directory_names(int fd, const std::string& path) {
  const int copy = ::dup(fd);
  DIR* d = copy < 0 ? nullptr : ::fdopendir(copy);
  if (d == nullptr) {
    const int err = errno;
    if (copy >= 0) ::close(copy);
    throw io_error("cannot read " + path, err);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(d, ::closedir);
  ::rewinddir(d);  // the duplicate shares fd's offset, which a reader may have moved
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    if (!is_dot_or_dotdot(e->d_name)) names.emplace_back(e->d_name);
  }
  if (errno != 0) throw io_error("cannot read " + path, errno);
  return names;
}

namespace {

// Removes `name` in the directory `parent` (`path` names it in errors);
// depth is name's, below the tree removed.
void remove_entry(HeldDir& parent, const char* name, const std::string& path, int depth) {
  struct stat st {};
  if (::fstatat(parent.fd(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    throw io_error("cannot remove " + path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parent.fd(), name, 0) != 0 && errno != ENOENT) throw io_error("cannot remove " + path, errno);
    return;
  }
  int fd = ::openat(parent.fd(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES) {
    // An unreadable directory: it is being removed, so open it up.
    ::fchmodat(parent.fd(), name, 0700, AT_SYMLINK_NOFOLLOW);
    fd = ::openat(parent.fd(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) throw io_error("cannot remove " + path, errno);
  {
    HeldDir dir(fd);
    if ((st.st_mode & 0700) != 0700) ::fchmod(dir.fd(), 0700);
    // Names first, removal after: removing while reading a directory may
    // skip entries.
    const std::vector<std::string> names = directory_names(dir.fd(), path);
    const bool back = parent.descend(dir, depth, [&] {
      for (const auto& n : names) {
        if (dir.fd() < 0) throw io_error("cannot remove " + path, ESTALE);  // moved meanwhile
        remove_entry(dir, n.c_str(), path + "/" + n, depth + 1);
      }
    });
    if (!back) throw io_error("cannot remove " + path, ESTALE);
  }
  if (::unlinkat(parent.fd(), name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    throw io_error("cannot remove " + path, errno);
}

}  // namespace

HeldDir::~HeldDir() {
  if (fd_ >= 0) ::close(fd_);
}

bool HeldDir::let_go() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return false;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  ::close(fd_);
  fd_ = -1;
  return true;
}

bool HeldDir::take_back(int child_fd) {
  if (child_fd < 0) return false;
  fd_ = ::openat(child_fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st {};
  if (fd_ >= 0 && (::fstat(fd_, &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_)) {
    ::close(fd_);
    fd_ = -1;
  }
  return fd_ >= 0;
}

int rename_no_replace(int from_dir, const char* from, int to_dir, const char* to) {
  int r = ::renameat2(from_dir, from, to_dir, to, RENAME_NOREPLACE);
  if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
    struct stat st {};
    if (::fstatat(to_dir, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      errno = EEXIST;
      return -1;
    }
    r = ::renameat(from_dir, from, to_dir, to);
  }
  return r;
}

void remove_tree(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string parent_path = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const char* name = path.c_str() + (slash == std::string::npos ? 0 : slash + 1);
  HeldDir parent(::open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (parent.fd() < 0) throw io_error("cannot remove " + path, errno);
  remove_entry(parent, name, path, 1);
}

}  // namespace bakthat::util
