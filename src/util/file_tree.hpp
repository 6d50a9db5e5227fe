// Removing a directory tree safely: through directory descriptors, never
// following a symbolic link.
#pragma once

#include <string>

namespace bakthat::util {

// "." or "..", the two names readdir gives that are no entry of their own.
inline bool is_dot_or_dotdot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// Removes path (a file, a symlink, or a directory with its contents). Every
// component below path is reached with O_NOFOLLOW, so a symbolic link, even
// one swapped in meanwhile, is removed, never followed: std::filesystem::
// remove_all gives no such guarantee against races. Directories without
// owner rwx (restored as archived, or made so by a script) are opened up
// first, since they are being removed anyway. Nothing there: no error.
// Throws ErrorKind::Io naming the path that could not be removed.
void remove_tree(const std::string& path);

}  // namespace bakthat::util
