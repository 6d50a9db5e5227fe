// Changing a directory tree safely: removing it through directory
// descriptors, never following a symbolic link, and renaming without
// replacing.
#pragma once

#include <string>
#include <vector>

namespace bakthat::util {

// "." or "..", the two names readdir gives that are no entry of their own.
inline bool is_dot_or_dotdot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// An open directory of a tree walk, owned. A walk deeper than kHeldDirs lets
// go of each ancestor while it is below it and takes it back afterwards
// through its child's "..", checking by device and inode that it is the same
// directory (as fts(3) does), so that it holds a bounded number of
// descriptors however deep the tree: a deep walk does not fail at the
// process's limit (ulimit -n).
class HeldDir {
 public:
  static constexpr int kHeldDirs = 48;

  explicit HeldDir(int fd) : fd_(fd) {}  // fd may be -1 (none) or AT_FDCWD
  HeldDir(const HeldDir&) = delete;
  HeldDir& operator=(const HeldDir&) = delete;
  ~HeldDir();
  int fd() const { return fd_; }

  // Runs walk_child() with this directory let go when `depth` (the child's)
  // is past kHeldDirs, then takes it back as `child`'s parent. Returns false,
  // with fd() == -1, when it could not be taken back: it was moved or
  // replaced while the walk was below it, so the caller must stop walking it.
  template <typename Walk>
  bool descend(const HeldDir& child, int depth, Walk walk_child) {
    if (depth <= kHeldDirs || fd_ < 0 || !let_go()) {
      walk_child();
      return fd_ >= 0 || fd_ == kCwd;
    }
    walk_child();
    return take_back(child.fd());
  }

 private:
  static constexpr int kCwd = -100;  // AT_FDCWD, which is never let go
  bool let_go();
  bool take_back(int child_fd);

  int fd_;
  unsigned long dev_ = 0, ino_ = 0;  // of the directory let go
};

// The names in the open directory fd but "." and "..", in readdir's order,
// read through a duplicate so that fd stays usable. Throws ErrorKind::Io
// naming `path`.
std::vector<std::string> directory_names(int fd, const std::string& path);

// renameat2(RENAME_NOREPLACE): moves `from` to `to` unless `to` exists
// (then -1 with errno EEXIST). On a file system without the flag, a check
// and a plain rename: the best it offers. 0, or -1 with errno set.
int rename_no_replace(int from_dir, const char* from, int to_dir, const char* to);

// Removes path (a file, a symlink, or a directory with its contents). Every
// component below path is reached with O_NOFOLLOW, so a symbolic link, even
// one swapped in meanwhile, is removed, never followed: std::filesystem::
// remove_all gives no such guarantee against races. Directories without
// owner rwx (restored as archived, or made so by a script) are opened up
// first, since they are being removed anyway. Nothing there: no error.
// Throws ErrorKind::Io naming the path that could not be removed.
void remove_tree(const std::string& path);

}  // namespace bakthat::util
