// How an extraction makes its result appear in the target all or nothing:
// everything is first written into a private staging directory inside the
// target (same file system), then moved into place by renames, each of which
// can be undone.
#pragma once

#include <string>
#include <vector>

namespace bakthat::archive::detail {

// A fresh directory (mkdtemp, 0700) inside `parent`, so that renames out of
// it stay on one file system; removed with its content when destroyed, best
// effort (it only ever holds staged or replaced copies).
class TempDir {
 public:
  TempDir(const std::string& parent, const char* prefix);
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

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
void place_staged(const std::string& staging, const std::string& target, const std::vector<std::string>& tops,
                  bool replace, const std::string& shown_target);

}  // namespace bakthat::archive::detail
