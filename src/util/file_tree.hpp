// Removing a directory tree safely: through directory descriptors, never
// following a symbolic link.
#pragma once

#include <string>

namespace bakthat::util {

// Removes path (a file, a symlink, or a directory with its contents). Every
// component below path is reached with O_NOFOLLOW, so a symbolic link, even
// one swapped in meanwhile, is removed, never followed: std::filesystem::
// remove_all gives no such guarantee against races. Directories without
// owner rwx (restored as archived, or made so by a script) are opened up
// first, since they are being removed anyway. Nothing there: no error.
// Throws ErrorKind::Io naming the path that could not be removed.
void remove_tree(const std::string& path);

}  // namespace bakthat::util
