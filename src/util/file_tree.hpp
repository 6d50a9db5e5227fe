// Changing a directory tree safely: removing it through directory
// descriptors, never following a symbolic link, and renaming without
// replacing.
#pragma once

#include <string>

namespace bakthat::util {

// "." or "..", the two names readdir gives that are no entry of their own.
inline bool is_dot_or_dotdot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

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
