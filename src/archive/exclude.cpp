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
  // '#' starts a comment; '!' re-includes what an earlier line excluded.
  if (line[0] == '#') return {};
  const bool negated = line[0] == '!';
  if (negated) line.remove_prefix(1);
  // "dir/" means directories in gitignore; here a pattern matches a name
  // whatever its type, so the slash is dropped. A leading "/" anchors to the
  // top in gitignore and is kept: such a pattern only matches whole paths.
  while (line.size() > 1 && line.back() == '/') line.remove_suffix(1);
  if (line.empty() || line == "/") return {};
  return (negated ? "!" : "") + std::string(line);
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
  ExcludeRules rules(std::move(lines));
  rules.source_ = path;
  return rules;
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

bool ExcludeRules::matches(const char* pattern, const char* relpath) const {
  if (pattern[0] == '/') {
    if (::fnmatch(pattern + 1, relpath, 0) == 0) return true;
    return root_ && ::fnmatch(pattern, (*root_ + "/" + relpath).c_str(), 0) == 0;
  }
  // The whole path, then each suffix of components down to the last name.
  for (const char* p = relpath;;) {
    if (::fnmatch(pattern, p, 0) == 0) return true;
    p = std::strchr(p, '/');
    if (p == nullptr) return false;
    ++p;
  }
}

bool ExcludeRules::excluded_leaf(const char* relpath) const {
  // As in gitignore, the last line that matches decides: "*" then "!keep"
  // keeps keep.
  for (auto it = patterns_.rbegin(); it != patterns_.rend(); ++it) {
    const bool negated = (*it)[0] == '!';
    if (matches(it->c_str() + (negated ? 1 : 0), relpath)) return !negated;
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
