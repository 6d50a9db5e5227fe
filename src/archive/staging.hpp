// How an extraction makes its result appear in the target all or nothing:
// everything is first written into a private staging directory inside the
// target (same file system), then moved into place by renames, each of which
// can be undone.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bakthat::archive::detail {

// A fresh directory (mkdtemp, 0700) inside `parent`, so that renames out of
// it stay on one file system; removed with its content when destroyed, best
// effort (it only ever holds staged or replaced copies). It is flock-ed for
// its whole life, so that a later restore can tell one whose process died
// (recover_interrupted). Create it under a TargetLock.
class TempDir {
 public:
  TempDir(const std::string& parent, std::string_view prefix);
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }
  // The name inside parent.
  std::string name() const { return path_.substr(path_.rfind('/') + 1); }

 private:
  std::string path_;
  int lock_fd_ = -1;
};

// Held while bakthat's own entries in a target are made or swept: an
// exclusive flock of the target directory, so that a sweep never sees a
// staging directory made but not yet locked.
class TargetLock {
 public:
  explicit TargetLock(const std::string& target);
  TargetLock(const TargetLock&) = delete;
  TargetLock& operator=(const TargetLock&) = delete;
  ~TargetLock();

 private:
  int fd_;
};

// The moves an extraction makes in its target, one JSON line each in a file
// of its staging directory, written before the move it names: what a later
// restore needs to put the target back as it was if this one is killed
// midway (write(2) without fsync: a killed process loses nothing it wrote).
class Journal {
 public:
  explicit Journal(const std::string& path);
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();
  void record(const std::string& json_line);

 private:
  std::string path_;
  int fd_;
};

// The staging of one extraction: ".bakthat-restore-XXXXXX" in the target,
// holding tree/ (the staged entries) and journal. Removed when destroyed.
class StagingArea {
 public:
  explicit StagingArea(const std::string& target);
  const std::string& tree() const { return tree_; }
  Journal& journal() { return *journal_; }

 private:
  std::unique_ptr<TempDir> dir_;
  std::string tree_;
  std::unique_ptr<Journal> journal_;
};

// Prefixes of what bakthat keeps in a restore's target while it runs.
inline constexpr std::string_view kStagingPrefix = ".bakthat-restore-";
inline constexpr std::string_view kReplacedPrefix = ".bakthat-replaced-";

// Whether a name is one of those: never part of a backup (a killed restore
// may have left it; the next restore there removes it).
inline bool is_restore_leftover(std::string_view name) {
  return name.starts_with(kStagingPrefix) || name.starts_with(kReplacedPrefix);
}

// Finishes what restores into `target` that were killed left there (their
// processes dead: their locks are free): a move into place that was under
// way is rolled back from its journal, so the target is as it was before
// it, and their staging and replaced directories and temporary files are
// removed. Restores still running are left alone. Returns one line per
// restore recovered, and per leftover it could not recover (kept).
std::vector<std::string> recover_interrupted(const std::string& target);

// Moves the names `tops` from `staging` into `target` (absolute paths on one
// file system). A name the target lacks is moved in whole. A directory on
// both sides is merged: its entries are placed the same way, so what the
// target holds and the archive does not stays, as tar -x and restic leave
// it. Anything else already there (a file, a symlink, a directory meeting a
// non-directory) collides: without `replace`, ErrorKind::Conflict names the
// first collision (under `shown_target`, the target as the user wrote it)
// before anything moves; with `replace`, the old entry is moved aside and
// deleted once all is in place, and merged directories take the archive's
// mode and times. A failure midway undoes every step done, so the target is
// left as it was. Throws ErrorKind::Io for what the file system refuses.
void place_staged(StagingArea& staging, const std::string& target, const std::vector<std::string>& tops,
                  bool replace, const std::string& shown_target);

}  // namespace bakthat::archive::detail
