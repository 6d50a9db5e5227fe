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

// Removes `name` in the directory `parent` (`path` names it in errors).
void remove_entry(int parent, const char* name, const std::string& path) {
  struct stat st {};
  if (::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    throw io_error("cannot remove " + path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parent, name, 0) != 0 && errno != ENOENT) throw io_error("cannot remove " + path, errno);
    return;
  }
  int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES) {
    // An unreadable directory: it is being removed, so open it up.
    ::fchmodat(parent, name, 0700, AT_SYMLINK_NOFOLLOW);
    fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) throw io_error("cannot remove " + path, errno);
  if ((st.st_mode & 0700) != 0700) ::fchmod(fd, 0700);
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int err = errno;
    ::close(fd);
    throw io_error("cannot remove " + path, err);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(d, ::closedir);
  // Names first, removal after: removing while reading a directory may skip
  // entries.
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    if (!is_dot_or_dotdot(e->d_name)) names.emplace_back(e->d_name);
  }
  if (errno != 0) throw io_error("cannot read " + path, errno);
  for (const auto& n : names) remove_entry(::dirfd(d), n.c_str(), path + "/" + n);
  dir.reset();
  if (::unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT) throw io_error("cannot remove " + path, errno);
}

}  // namespace

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
  int parent = ::open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0) throw io_error("cannot remove " + path, errno);
  try {
    remove_entry(parent, name, path);
  } catch (...) {
    ::close(parent);
    throw;
  }
  ::close(parent);
}

}  // namespace bakthat::util
