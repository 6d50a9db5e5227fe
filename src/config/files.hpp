// File-system helpers of the configuration: the user's home, `~` expansion,
// reading the YAML file, warning when it is not private, and replacing it
// atomically with mode 0600.
#pragma once

#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

namespace bakthat::config {

// $HOME, else the password database's home directory, else "/".
std::string home_dir();

// "~" and "~/x" become the home directory; other paths are returned as is.
std::string expand_user(const std::string& path);

// The YAML document of `path`, or nullopt when the file does not exist.
// Unreadable files, anything but a regular file of at most 1 MiB, and
// invalid YAML are Config errors naming the file and, for YAML, the line.
std::optional<YAML::Node> read_yaml_file(const std::string& path);

// A warning when `path` lets its group or others in (mode & 077), as ssh
// gives for keys: the caller asks it for files that hold secrets. A loose
// mode is not an error (the Python bakthat never checked).
std::optional<std::string> privacy_warning(const std::string& path);

// Parses YAML text; `origin` names it in error messages.
YAML::Node parse_yaml(const std::string& text, const std::string& origin);

// Replaces `path` (following a symlink to its target) with `contents`:
// a temporary file created 0600 in the same directory, fsync, rename, fsync
// of the directory, so a crash leaves either the old or the new file and a
// secret is never readable by others, even briefly.
void write_file_atomic_private(const std::string& path, const std::string& contents);

}  // namespace bakthat::config
