// Exclusion patterns (.bakthatexclude, .gitignore, --exclude-file): one shell
// wildcard per line (fnmatch, '*' also matches '/'); an entry is excluded
// when a pattern matches its path or any part of it, unless a later line
// starting with '!' matches it too (re-included, as in gitignore; what is
// below an excluded directory stays excluded). A trailing '/' is
// dropped (the pattern then matches files too); a leading '/' anchors the
// pattern to the whole relative path, as in .gitignore, or, once the rules
// know the tree's absolute root, to the absolute path: the Python bakthat
// matched its patterns against the path given on its command line
// (the working directory by default), so its exclude files name absolute
// paths.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bakthat::archive {

class ExcludeRules {
 public:
  ExcludeRules() = default;
  explicit ExcludeRules(std::vector<std::string> patterns);
  // Reads patterns from a file (blank lines and # comments ignored).
  static ExcludeRules from_file(const std::string& path);
  // The rules for a directory, given by its absolute path: --exclude-file if
  // given, else its .bakthatexclude, else its .gitignore, else none.
  // Anchored patterns also match absolute paths under dir.
  static ExcludeRules for_directory(const std::string& dir, const std::string& exclude_file);

  // relpath is relative to the archived root, '/'-separated. True when a
  // pattern matches the path, one of its names, a run of its trailing
  // names ("build/tmp"), or the same for one of its ancestors.
  bool excluded(std::string_view relpath) const;
  // Like excluded() but without looking at ancestors: for a walk that
  // already skipped excluded directories. relpath is NUL-terminated.
  bool excluded_leaf(const char* relpath) const;
  bool empty() const { return patterns_.empty(); }
  // The patterns, a re-including one with its leading '!'.
  const std::vector<std::string>& patterns() const { return patterns_; }
  // The file the rules were read from; "" when none.
  const std::string& source() const { return source_; }

 private:
  bool matches(const char* pattern, const char* relpath) const;

  std::vector<std::string> patterns_;
  std::string source_;
  std::optional<std::string> root_;  // absolute, no trailing '/' ("" for "/"), if known
};

}  // namespace bakthat::archive
