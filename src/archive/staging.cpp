#include "archive/staging.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>

#include "bakthat/errors.hpp"
#include "util/file_tree.hpp"

namespace bakthat::archive::detail {
namespace {

[[noreturn]] void io_error(const std::string& what, int err) {
  throw Error(ErrorKind::Io, what + ": " + std::strerror(err));
}

// An owned directory descriptor.
class Dir {
 public:
  Dir(int parent, const char* name, const std::string& shown)
      : fd_(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) {
    if (fd_ < 0) io_error("cannot restore into " + shown, errno);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() { ::close(fd_); }
  int fd() const { return fd_; }

  // The names in the directory, read in full before any of them moves
  // (moving entries while reading a directory may skip some).
  std::vector<std::string> names(const std::string& shown) const {
    int copy = ::dup(fd_);
    DIR* d = copy < 0 ? nullptr : ::fdopendir(copy);
    if (d == nullptr) {
      int err = errno;
      if (copy >= 0) ::close(copy);
      io_error("cannot read " + shown, err);
    }
    ::rewinddir(d);
    std::vector<std::string> out;
    while (dirent* e = ::readdir(d)) {
      if (!util::is_dot_or_dotdot(e->d_name)) out.emplace_back(e->d_name);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());  // messages and moves in a stable order
    return out;
  }

 private:
  int fd_;
};

// The entry's lstat, or nullopt when there is none.
std::optional<struct stat> lstat_at(int dir, const std::string& name, const std::string& shown) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return st;
  if (errno != ENOENT) io_error("cannot restore " + shown, errno);
  return std::nullopt;
}

bool both_directories(const struct stat& a, const struct stat& b) { return S_ISDIR(a.st_mode) && S_ISDIR(b.st_mode); }

// Whether the entry (whose lstat is st) is a directory holding anything.
bool directory_with_entries(int dir, const std::string& name, const struct stat& st, const std::string& shown) {
  if (!S_ISDIR(st.st_mode)) return false;
  int fd = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (d == nullptr) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    io_error("cannot restore " + shown, err);
  }
  bool any = false;
  while (dirent* e = ::readdir(d)) {
    if (!util::is_dot_or_dotdot(e->d_name)) {
      any = true;
      break;
    }
  }
  ::closedir(d);
  return any;
}

// --force replaces what the archive holds, never what it does not: a
// directory with entries where the archive has a file (or link...) would
// take all of them with it.
[[noreturn]] void refuse_to_empty(const std::string& shown) {
  throw Error(ErrorKind::Conflict, "restore would replace the directory " + shown +
                                       ", which is not empty, with a file; move it away first");
}

class Placer {
 public:
  Placer(const std::string& staging, const std::string& target, bool replace, const std::string& shown_target)
      : staging_(staging), target_(target), shown_target_(shown_target), replace_(replace) {}

  void place(const std::vector<std::string>& tops) {
    {
      Dir staged(AT_FDCWD, staging_.c_str(), staging_), target(AT_FDCWD, target_.c_str(), shown_target_);
      std::vector<std::string> collisions;
      for (const auto& top : tops) survey(staged.fd(), target.fd(), top, top, collisions);
      if (!collisions.empty() && !replace_) {
        std::string more = collisions.size() > 1 ? " (and " + std::to_string(collisions.size() - 1) + " more)" : "";
        throw Error(ErrorKind::Conflict, "restore would overwrite " + shown(collisions.front()) + more + "; use --force");
      }
      try {
        for (const auto& top : tops) put(staged.fd(), target.fd(), top, top);
      } catch (...) {
        undo();
        throw;
      }
    }
    aside_.reset();  // what was replaced goes only now
  }

 private:
  // One step done in the target, and what undoes it.
  struct Step {
    enum Kind { MovedIn, MovedAside, Merged } kind;
    std::string rel;
    std::string aside_name;  // MovedAside
    struct stat before {};   // Merged: the directory's mode and times before
  };

  std::string shown(const std::string& rel) const { return shown_target_ + "/" + rel; }

  // Adds to `collisions` each path where the staged tree meets an existing
  // entry it cannot merge with; refuses one that --force may not replace.
  void survey(int staged_dir, int target_dir, const std::string& name, const std::string& rel,
              std::vector<std::string>& collisions) {
    auto existing = lstat_at(target_dir, name, shown(rel));
    if (!existing) return;
    auto staged = lstat_at(staged_dir, name, rel);
    if (staged && both_directories(*staged, *existing)) {
      open_up(staged_dir, name, *staged, rel);
      Dir from(staged_dir, name.c_str(), rel), into(target_dir, name.c_str(), shown(rel));
      for (const auto& child : from.names(rel)) survey(from.fd(), into.fd(), child, rel + "/" + child, collisions);
      return;
    }
    if (directory_with_entries(target_dir, name, *existing, shown(rel))) refuse_to_empty(shown(rel));
    collisions.push_back(rel);
  }

  void put(int staged_dir, int target_dir, const std::string& name, const std::string& rel) {
    auto existing = lstat_at(target_dir, name, shown(rel));
    if (!existing) {
      move(staged_dir, name, target_dir, name, rel);
      steps_.push_back({Step::MovedIn, rel, {}, {}});
      return;
    }
    auto staged = lstat_at(staged_dir, name, rel);
    if (!staged) throw Error(ErrorKind::Io, "cannot restore " + shown(rel) + ": its staged copy is gone");
    if (both_directories(*staged, *existing)) {
      open_up(staged_dir, name, *staged, rel);
      Dir from(staged_dir, name.c_str(), rel), into(target_dir, name.c_str(), shown(rel));
      // Before the entries move, so that undoing it comes after theirs (each
      // move touches the directory's times).
      steps_.push_back({Step::Merged, rel, {}, *existing});
      for (const auto& child : from.names(rel)) put(from.fd(), into.fd(), child, rel + "/" + child);
      if (replace_) {
        struct stat archived = *staged;
        if (auto it = archived_modes_.find(rel); it != archived_modes_.end()) archived.st_mode = it->second;
        take_mode_and_times(into.fd(), archived, rel);
      }
      return;
    }
    // Appeared since the survey: never overwritten without being asked to.
    if (!replace_) throw Error(ErrorKind::Conflict, "restore would overwrite " + shown(rel) + "; use --force");
    if (directory_with_entries(target_dir, name, *existing, shown(rel))) refuse_to_empty(shown(rel));
    if (!aside_) aside_ = std::make_unique<TempDir>(target_, ".bakthat-replaced-");
    std::string aside_name = std::to_string(steps_.size());
    Dir aside(AT_FDCWD, aside_->path().c_str(), aside_->path());
    move(target_dir, name, aside.fd(), aside_name, rel);
    steps_.push_back({Step::MovedAside, rel, aside_name, {}});
    move(staged_dir, name, target_dir, name, rel);
    steps_.push_back({Step::MovedIn, rel, {}, {}});
  }

  // A staged directory whose entries are read or moved out may have the
  // archive's mode without owner rwx (deleted with the staging anyway): it
  // is opened up, its archived mode kept for the target's directory.
  void open_up(int staged_dir, const std::string& name, const struct stat& staged, const std::string& rel) {
    if ((staged.st_mode & 0700) == 0700) return;
    archived_modes_.emplace(rel, staged.st_mode);
    if (::fchmodat(staged_dir, name.c_str(), 0700, 0) != 0) io_error("cannot restore " + rel, errno);
  }

  // A merged directory takes the archive's mode and times, as tar -x gives
  // them (its extended attributes and ACLs stay the existing ones').
  void take_mode_and_times(int dir, const struct stat& archived, const std::string& rel) {
    const struct timespec times[2] = {archived.st_atim, archived.st_mtim};
    if (::fchmod(dir, archived.st_mode & 07777) != 0 || ::futimens(dir, times) != 0)
      io_error("cannot restore " + shown(rel), errno);
  }

  // Never replaces what appeared at `to` meanwhile.
  void move(int from_dir, const std::string& from, int to_dir, const std::string& to, const std::string& rel) {
    int r = ::renameat2(from_dir, from.c_str(), to_dir, to.c_str(), RENAME_NOREPLACE);
    if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {  // a file system without the flag
      struct stat st {};
      if (::fstatat(to_dir, to.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
      } else {
        r = ::renameat(from_dir, from.c_str(), to_dir, to.c_str());
      }
    }
    if (r != 0) io_error("cannot move into place " + shown(rel), errno);
  }

  // Best effort, newest step first: the target as it was.
  void undo() noexcept {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      const std::string in_target = target_ + "/" + it->rel;
      switch (it->kind) {
        case Step::MovedIn:
          ::rename(in_target.c_str(), (staging_ + "/" + it->rel).c_str());
          break;
        case Step::MovedAside:
          ::rename((aside_->path() + "/" + it->aside_name).c_str(), in_target.c_str());
          break;
        case Step::Merged: {
          const struct timespec times[2] = {it->before.st_atim, it->before.st_mtim};
          ::chmod(in_target.c_str(), it->before.st_mode & 07777);
          ::utimensat(AT_FDCWD, in_target.c_str(), times, AT_SYMLINK_NOFOLLOW);
          break;
        }
      }
    }
    steps_.clear();
  }

  const std::string& staging_;
  const std::string& target_;
  const std::string& shown_target_;
  const bool replace_;
  std::unique_ptr<TempDir> aside_;  // replaced entries, deleted at the end
  std::map<std::string, mode_t> archived_modes_;  // of staged directories opened up
  std::vector<Step> steps_;
};

}  // namespace

TempDir::TempDir(const std::string& parent, const char* prefix) {
  std::string tmpl = parent + "/" + prefix + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) io_error("cannot create a directory in " + parent, errno);
  path_ = std::move(tmpl);
}

TempDir::~TempDir() {
  try {
    util::remove_tree(path_);
  } catch (const Error&) {
    // Left behind under a name that says what it is; nothing to report to.
  }
}

void place_staged(const std::string& staging, const std::string& target, const std::vector<std::string>& tops,
                  bool replace, const std::string& shown_target) {
  Placer(staging, target, replace, shown_target).place(tops);
}

}  // namespace bakthat::archive::detail
