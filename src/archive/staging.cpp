#include "archive/staging.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "bakthat/errors.hpp"
#include "util/bytes.hpp"
#include "util/file_tree.hpp"

namespace bakthat::archive::detail {
namespace {

[[noreturn]] void io_error(const std::string& what, int err) {
  throw Error(ErrorKind::Io, what + ": " + std::strerror(err));
}

// A descriptor of the directory `name`, never of what a symlink there names;
// -1 with errno set when it is no directory.
int open_directory(int dir, const char* name) {
  return ::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// An owned directory descriptor (let go and taken back by deep walks:
// util::HeldDir).
class Dir {
 public:
  Dir(int parent, const char* name, const std::string& shown) : held_(open_directory(parent, name)) {
    if (held_.fd() < 0) io_error("cannot restore into " + shown, errno);
  }
  int fd() const { return held_.fd(); }
  util::HeldDir& held() { return held_; }

  // The names in the directory, read in full before any of them moves
  // (moving entries while reading a directory may skip some), sorted.
  std::vector<std::string> names(const std::string& shown) const {
    std::vector<std::string> out = util::directory_names(held_.fd(), shown);
    std::sort(out.begin(), out.end());  // messages and moves in a stable order
    return out;
  }

 private:
  util::HeldDir held_;
};

// Runs walk() below the directories `staged` and `target` (children of
// `staged_parent` and `target_parent`, `depth` below the top) with the
// parents let go when the walk is deep; throws when they cannot be taken
// back (moved meanwhile).
template <typename Walk>
void descend_both(Dir& staged_parent, Dir& staged, Dir& target_parent, Dir& target, int depth,
                  const std::string& shown, Walk walk) {
  bool target_back = true;
  const bool staged_back = staged_parent.held().descend(staged.held(), depth, [&] {
    target_back = target_parent.held().descend(target.held(), depth, walk);
  });
  if (!staged_back || !target_back) io_error("cannot restore " + shown, ESTALE);
}

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
  int fd = open_directory(dir, name.c_str());
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

// One step of a move into the target, and what undoes it.
struct Step {
  enum Kind { MovedIn, MovedAside, Merged } kind;
  std::string rel;
  std::string aside_name;  // MovedAside
  struct stat before {};   // Merged: the directory's mode and times before
};

// A step as a journal line: its kind, then its fields, names in hex (a name
// may hold any byte but '/' and NUL).
std::string journal_line(const Step& step) {
  const std::string rel = util::hex(util::as_bytes(step.rel));
  switch (step.kind) {
    case Step::MovedIn: return "in " + rel;
    case Step::MovedAside: return "aside " + rel + " " + util::hex(util::as_bytes(step.aside_name));
    case Step::Merged: {
      const struct stat& b = step.before;
      return "merged " + rel + " " + std::to_string(b.st_mode & 07777) + " " + std::to_string(b.st_atim.tv_sec) +
             " " + std::to_string(b.st_atim.tv_nsec) + " " + std::to_string(b.st_mtim.tv_sec) + " " +
             std::to_string(b.st_mtim.tv_nsec);
    }
  }
  return {};
}

// Undoes `steps`, newest first, best effort: each undo acts only if its
// step was taken (the journal names a step just before it is taken), and
// never replaces anything, so undoing a step that was not taken does
// nothing.
void undo_steps(const std::vector<Step>& steps, const std::string& staging, const std::string& target,
                const std::string& aside) noexcept {
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    const std::string in_target = target + "/" + it->rel;
    switch (it->kind) {
      case Step::MovedIn:
        util::rename_no_replace(AT_FDCWD, in_target.c_str(), AT_FDCWD, (staging + "/" + it->rel).c_str());
        break;
      case Step::MovedAside:
        if (!aside.empty())
          util::rename_no_replace(AT_FDCWD, (aside + "/" + it->aside_name).c_str(), AT_FDCWD, in_target.c_str());
        break;
      case Step::Merged: {
        // Through a descriptor of the directory itself: a path-based chmod
        // would follow a symlink put there meanwhile.
        const int fd = open_directory(AT_FDCWD, in_target.c_str());
        if (fd < 0) break;
        const struct timespec times[2] = {it->before.st_atim, it->before.st_mtim};
        ::fchmod(fd, it->before.st_mode & 07777);
        ::futimens(fd, times);
        ::close(fd);
        break;
      }
    }
  }
}

class Placer {
 public:
  Placer(StagingArea& staging, const std::string& target, bool replace, const std::string& shown_target)
      : staging_(staging.tree()), journal_(staging.journal()), target_(target), shown_target_(shown_target),
        replace_(replace) {}

  void place(const std::vector<std::string>& tops) {
    {
      Dir staged(AT_FDCWD, staging_.c_str(), staging_), target(AT_FDCWD, target_.c_str(), shown_target_);
      std::vector<std::string> collisions;
      for (const auto& top : tops) survey(staged, target, top, top, collisions, 1);
      if (!collisions.empty() && !replace_) {
        std::string more = collisions.size() > 1 ? " (and " + std::to_string(collisions.size() - 1) + " more)" : "";
        throw Error(ErrorKind::Conflict, "restore would overwrite " + shown(collisions.front()) + more + "; use --force");
      }
      try {
        for (const auto& top : tops) put(staged, target, top, top, 1);
      } catch (...) {
        undo_steps(steps_, staging_, target_, aside_ ? aside_->path() : std::string());
        steps_.clear();
        throw;
      }
    }
    journal_.record("done");
    aside_.reset();  // what was replaced goes only now
  }

 private:
  // Records the step in the journal, then takes it with `act`; steps_ says
  // what to undo if a later one fails.
  template <typename Act>
  void take(Step step, Act act) {
    journal_.record(journal_line(step));
    steps_.push_back(std::move(step));
    // Test hook: the tests kill a restore here, after the journal names a
    // move and before it is made, the hardest point to recover from.
    static const long die_after = [] {
      const char* v = std::getenv("BAKTHAT_TEST_DIE_AFTER_MOVES");
      return v != nullptr ? std::atol(v) : -1L;
    }();
    if (die_after >= 0 && static_cast<long>(steps_.size()) > die_after) ::raise(SIGKILL);
    act();
  }

  std::string shown(const std::string& rel) const { return shown_target_ + "/" + rel; }

  // Adds to `collisions` each path where the staged tree meets an existing
  // entry it cannot merge with; refuses one that --force may not replace.
  void survey(Dir& staged_parent, Dir& target_parent, const std::string& name, const std::string& rel,
              std::vector<std::string>& collisions, int depth) {
    const int staged_dir = staged_parent.fd(), target_dir = target_parent.fd();
    auto existing = lstat_at(target_dir, name, shown(rel));
    if (!existing) return;
    auto staged = lstat_at(staged_dir, name, rel);
    if (staged && both_directories(*staged, *existing)) {
      open_up(staged_dir, name, *staged, rel);
      Dir from(staged_dir, name.c_str(), rel), into(target_dir, name.c_str(), shown(rel));
      descend_both(staged_parent, from, target_parent, into, depth, shown(rel), [&] {
        for (const auto& child : from.names(rel)) survey(from, into, child, rel + "/" + child, collisions, depth + 1);
      });
      return;
    }
    if (directory_with_entries(target_dir, name, *existing, shown(rel))) refuse_to_empty(shown(rel));
    collisions.push_back(rel);
  }

  void put(Dir& staged_parent, Dir& target_parent, const std::string& name, const std::string& rel, int depth) {
    const int staged_dir = staged_parent.fd(), target_dir = target_parent.fd();
    auto existing = lstat_at(target_dir, name, shown(rel));
    if (!existing) {
      take({Step::MovedIn, rel, {}, {}}, [&] { move(staged_dir, name, target_dir, name, rel); });
      return;
    }
    auto staged = lstat_at(staged_dir, name, rel);
    if (!staged) throw Error(ErrorKind::Io, "cannot restore " + shown(rel) + ": its staged copy is gone");
    if (both_directories(*staged, *existing)) {
      open_up(staged_dir, name, *staged, rel);
      Dir from(staged_dir, name.c_str(), rel), into(target_dir, name.c_str(), shown(rel));
      // Before the entries move, so that undoing it comes after theirs (each
      // move touches the directory's times).
      take({Step::Merged, rel, {}, *existing}, [] {});
      descend_both(staged_parent, from, target_parent, into, depth, shown(rel), [&] {
        for (const auto& child : from.names(rel)) put(from, into, child, rel + "/" + child, depth + 1);
      });
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
    if (!aside_) {
      TargetLock lock(target_);
      aside_ = std::make_unique<TempDir>(target_, kReplacedPrefix);
      journal_.record("replaced " + util::hex(util::as_bytes(aside_->name())));
    }
    std::string aside_name = std::to_string(steps_.size());
    Dir aside(AT_FDCWD, aside_->path().c_str(), aside_->path());
    take({Step::MovedAside, rel, aside_name, {}}, [&] { move(target_dir, name, aside.fd(), aside_name, rel); });
    take({Step::MovedIn, rel, {}, {}}, [&] { move(staged_dir, name, target_dir, name, rel); });
  }

  // A staged directory whose entries are read or moved out may have the
  // archive's mode without owner rwx (deleted with the staging anyway): it
  // is opened up, its archived mode kept for the target's directory.
  void open_up(int staged_dir, const std::string& name, const struct stat& staged, const std::string& rel) {
    if ((staged.st_mode & 0700) == 0700) return;
    archived_modes_.emplace(rel, staged.st_mode);
    const int fd = open_directory(staged_dir, name.c_str());
    const bool opened_up = fd >= 0 && ::fchmod(fd, 0700) == 0;
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (!opened_up) io_error("cannot restore " + rel, err);
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
    if (util::rename_no_replace(from_dir, from.c_str(), to_dir, to.c_str()) != 0) io_error("cannot move into place " + shown(rel), errno);
  }

  const std::string& staging_;
  Journal& journal_;
  const std::string& target_;
  const std::string& shown_target_;
  const bool replace_;
  std::unique_ptr<TempDir> aside_;  // replaced entries, deleted at the end
  std::map<std::string, mode_t> archived_modes_;  // of staged directories opened up
  std::vector<Step> steps_;
};

}  // namespace

TempDir::TempDir(const std::string& parent, std::string_view prefix) {
  std::string tmpl = parent + "/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) io_error("cannot create a directory in " + parent, errno);
  path_ = std::move(tmpl);
  lock_fd_ = open_directory(AT_FDCWD, path_.c_str());
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (lock_fd_ >= 0) ::close(lock_fd_);
    ::rmdir(path_.c_str());
    io_error("cannot lock " + path_, err);
  }
}

TempDir::~TempDir() {
  try {
    util::remove_tree(path_);
  } catch (const Error&) {
    // Left behind under a name that says what it is; the next restore into
    // this target removes it (recover_interrupted).
  }
  ::close(lock_fd_);
}

TargetLock::TargetLock(const std::string& target) : fd_(open_directory(AT_FDCWD, target.c_str())) {
  if (fd_ < 0) io_error("cannot restore into " + target, errno);
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      const int err = errno;
      ::close(fd_);
      io_error("cannot lock " + target, err);
    }
  }
}

TargetLock::~TargetLock() { ::close(fd_); }

Journal::Journal(const std::string& path)
    : path_(path), fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600)) {
  if (fd_ < 0) io_error("cannot create " + path, errno);
}

Journal::~Journal() { ::close(fd_); }

void Journal::record(const std::string& json_line) {
  const std::string line = json_line + "\n";
  for (std::size_t done = 0; done < line.size();) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error("cannot write " + path_, errno);
    done += static_cast<std::size_t>(n);
  }
}

StagingArea::StagingArea(const std::string& target) {
  {
    TargetLock lock(target);
    dir_ = std::make_unique<TempDir>(target, kStagingPrefix);
  }
  tree_ = dir_->path() + "/tree";
  if (::mkdir(tree_.c_str(), 0700) != 0) io_error("cannot create " + tree_, errno);
  journal_ = std::make_unique<Journal>(dir_->path() + "/journal");
}

namespace {

// What a dead restore's journal says: the steps it took (or was about to
// take), its replaced directory, and whether it got to the end.
struct JournalContent {
  std::vector<Step> steps;
  std::string replaced;
  bool done = false;
};

JournalContent read_journal(const std::string& path) {
  JournalContent out;
  std::ifstream in(path);
  std::string line;
  auto name = [](const std::string& hex) { return util::from_hex(hex).value_or(std::string()); };
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind, rel;
    fields >> kind;
    if (kind == "done") {
      out.done = true;
    } else if (kind == "replaced") {
      fields >> rel;
      out.replaced = name(rel);
    } else if (kind == "in" || kind == "aside" || kind == "merged") {
      fields >> rel;
      Step step{Step::MovedIn, name(rel), {}, {}};
      if (step.rel.empty()) continue;  // a line cut short by the kill
      if (kind == "aside") {
        std::string aside;
        fields >> aside;
        step.kind = Step::MovedAside;
        step.aside_name = name(aside);
        if (step.aside_name.empty()) continue;
      } else if (kind == "merged") {
        unsigned mode = 0;
        step.kind = Step::Merged;
        fields >> mode >> step.before.st_atim.tv_sec >> step.before.st_atim.tv_nsec >> step.before.st_mtim.tv_sec >>
            step.before.st_mtim.tv_nsec;
        if (!fields) continue;
        step.before.st_mode = static_cast<mode_t>(mode);
      }
      out.steps.push_back(std::move(step));
    }
  }
  return out;
}

// An entry of bakthat's (at dir/name) whose owner is gone: its flock is
// free. Returns its descriptor, locked, or -1 for one still in use.
int lock_if_abandoned(int dir, const std::string& name, bool directory) {
  const int fd = directory ? open_directory(dir, name.c_str())
                           : ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool empty_directory(const std::string& path) { return ::rmdir(path.c_str()) == 0; }

}  // namespace

std::vector<std::string> recover_interrupted(const std::string& target) {
  std::vector<std::string> said;
  TargetLock lock(target);
  Dir dir(AT_FDCWD, target.c_str(), target);
  std::vector<std::string> names;
  for (auto& n : dir.names(target)) {
    if (is_restore_leftover(n)) names.push_back(std::move(n));
  }
  std::set<std::string> replaced_handled;
  for (const auto& name : names) {
    if (!name.starts_with(kStagingPrefix)) continue;
    auto st = lstat_at(dir.fd(), name, target + "/" + name);
    if (!st) continue;
    const std::string path = target + "/" + name;
    const int fd = lock_if_abandoned(dir.fd(), name, S_ISDIR(st->st_mode));
    if (fd < 0) continue;
    if (!S_ISDIR(st->st_mode)) {  // a stream restore's temporary file
      ::unlinkat(dir.fd(), name.c_str(), 0);
      ::close(fd);
      continue;
    }
    const JournalContent journal = read_journal(path + "/journal");
    const std::string replaced = journal.replaced.empty() ? std::string() : target + "/" + journal.replaced;
    if (!journal.replaced.empty()) replaced_handled.insert(journal.replaced);
    if (!journal.done && !journal.steps.empty()) {
      undo_steps(journal.steps, path + "/tree", target, replaced);
      said.push_back("an interrupted restore into " + target + " was rolled back: the target is as it was before it");
    } else if (journal.done) {
      said.push_back("an interrupted restore into " + target + " was finished");
    } else {
      said.push_back("removed what an interrupted restore had staged in " + target);
    }
    if (!replaced.empty()) {
      // Finished: the replaced entries were to go. Rolled back: it is empty,
      // unless an entry could not be moved back, which it keeps.
      if (journal.done) {
        try {
          util::remove_tree(replaced);
        } catch (const Error&) {
        }
      } else if (!empty_directory(replaced)) {
        said.push_back("kept " + replaced + ": it holds files an interrupted restore replaced");
      }
    }
    try {
      util::remove_tree(path);
    } catch (const Error& e) {
      said.push_back(std::string("cannot remove a leftover of an interrupted restore: ") + e.what());
    }
    ::close(fd);
  }
  for (const auto& name : names) {
    if (!name.starts_with(kReplacedPrefix) || replaced_handled.count(name) != 0) continue;
    const int fd = lock_if_abandoned(dir.fd(), name, true);
    if (fd < 0) continue;
    const std::string path = target + "/" + name;
    if (!empty_directory(path)) said.push_back("kept " + path + ": it holds files an interrupted restore replaced");
    ::close(fd);
  }
  return said;
}

void place_staged(StagingArea& staging, const std::string& target, const std::vector<std::string>& tops,
                  bool replace, const std::string& shown_target) {
  Placer(staging, target, replace, shown_target).place(tops);
}

}  // namespace bakthat::archive::detail
