// One entry of a backup's tar archive, as `bakthat list` shows it and a
// backup's index records it (docs/formats.md §13).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace bakthat {

struct ArchiveEntry {
  enum class Type { File, Directory, Symlink, Hardlink, CharDevice, BlockDevice, Fifo, Other };
  std::string path;  // as stored (directories end with '/')
  Type type = Type::File;
  std::uint64_t size = 0;  // a regular file's size (a sparse file's whole size); 0 for the others
  std::uint32_t mode = 0;  // permission bits (with setuid, setgid, sticky)
  std::int64_t mtime = 0;  // Unix seconds
  std::int64_t uid = 0, gid = 0;
  std::string user, group;  // names, when the archive has them
  std::string link;         // symlink or hard link target
  std::uint32_t dev_major = 0, dev_minor = 0;
  // A directory of an incremental level: its GNU.dumpdir record as stored,
  // one "<flag><name>\0" per entry (D a directory, Y in this archive, N
  // not) and a final "\0"; empty for anything else.
  std::string dumpdir;
  // Where it lies in the uncompressed tar stream: [header, end) holds its
  // headers (pax extended ones included), data and padding; data is where
  // its data starts.
  std::uint64_t header = 0, data = 0, end = 0;
};

// The line `tar -tv` (GNU tar) prints for an entry, in the local time zone:
// "-rw-r--r-- user/group 1234 2026-12-07 21:30 path".
std::string listing_line(const ArchiveEntry& entry);

// JSON: path, type ("file", "directory", "symlink", "hardlink", "char",
// "block", "fifo", "other"), size, mode, mtime, uid, gid, user, group, link
// (when set), dev_major and dev_minor (devices), dumpdir (when set: a list
// of "<flag><name>" strings), header, data, end.
// from_json throws Error(Corrupt) when a field is missing or mistyped.
void to_json(nlohmann::json& out, const ArchiveEntry& entry);
void from_json(const nlohmann::json& in, ArchiveEntry& entry);

}  // namespace bakthat
