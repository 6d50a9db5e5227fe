#include "archive/exclude.hpp"

#include <fnmatch.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "bakthat/errors.hpp"

namespace bakthat::archive {

namespace {

// Normalises one line of an exclude file; returns "" for lines to ignore.
std::string pattern_of(std::string_view line) {
  const std::size_t end = line.find_last_not_of(" \t\r");
  if (end == std::string_view::npos) return {};
  line = line.substr(0, end + 1);
  line.remove_prefix(line.find_first_not_of(" \t"));
  // '#' starts a comment; a gitignore '!' re-includes, which this "any
  // pattern excludes" model cannot express, so such lines are ignored.
  if (line[0] == '#' || line[0] == '!') return {};
  // "dir/" means directories in gitignore; here a pattern matches a name
  // whatever its type, so the slash is dropped. A leading "/" anchors to the
  // top in gitignore and is kept: such a pattern only matches whole paths.
  while (line.size() > 1 && line.back() == '/') line.remove_suffix(1);
  if (line == "/") return {};
  return std::string(line);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

ExcludeRules::ExcludeRules(std::vector<std::string> patterns) {
  for (const auto& p : patterns) {
    std::string norm = pattern_of(p);
    if (!norm.empty()) patterns_.push_back(std::move(norm));
  }
}

ExcludeRules ExcludeRules::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    int err = errno;
    throw Error(err == ENOENT ? ErrorKind::NotFound : ErrorKind::Io,
                "cannot read exclude file " + path + ": " + std::strerror(err));
  }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  if (in.bad()) throw Error(ErrorKind::Io, "cannot read exclude file " + path);
  return ExcludeRules(std::move(lines));
}

ExcludeRules ExcludeRules::for_directory(const std::string& dir, const std::string& exclude_file) {
  ExcludeRules rules;
  if (!exclude_file.empty()) {
    rules = from_file(exclude_file);
  } else {
    for (const char* name : {"/.bakthatexclude", "/.gitignore"}) {
      std::string candidate = dir + name;
      if (is_regular_file(candidate)) {
        rules = from_file(candidate);
        break;
      }
    }
  }
  if (!dir.empty() && dir[0] == '/') rules.root_ = dir.substr(0, dir.find_last_not_of('/') + 1);
  return rules;
}

bool ExcludeRules::excluded_leaf(const char* relpath) const {
  for (const auto& pattern : patterns_) {
    if (pattern[0] == '/') {
      if (::fnmatch(pattern.c_str() + 1, relpath, 0) == 0) return true;
      if (root_ && ::fnmatch(pattern.c_str(), (*root_ + "/" + relpath).c_str(), 0) == 0) return true;
      continue;
    }
    // The whole path, then each suffix of components down to the last name.
    for (const char* p = relpath;;) {
      if (::fnmatch(pattern.c_str(), p, 0) == 0) return true;
      p = std::strchr(p, '/');
      if (p == nullptr) break;
      ++p;
    }
  }
  return false;
}

bool ExcludeRules::excluded(std::string_view relpath) const {
  if (patterns_.empty()) return false;
  // A path is excluded when it or any ancestor is: that is what a walk that
  // does not descend into excluded directories produces.
  std::string prefix;
  for (std::size_t pos = 0;;) {
    std::size_t slash = relpath.find('/', pos);
    prefix.assign(relpath.substr(0, slash));
    if (!prefix.empty() && excluded_leaf(prefix.c_str())) return true;
    if (slash == std::string_view::npos) return false;
    pos = slash + 1;
  }
}

}  // namespace bakthat::archive
