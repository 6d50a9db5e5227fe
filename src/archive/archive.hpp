// Tar archives (POSIX pax, via libarchive): writing a file or directory tree
// into a Sink, and extracting a tar stream safely into a directory.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "archive/exclude.hpp"
#include "bakthat/stream.hpp"

namespace bakthat::archive {

struct TarStats {
  std::uint64_t entries = 0;         // every entry written
  std::uint64_t files = 0;           // regular files
  std::uint64_t bytes = 0;           // bytes of file content archived (holes included)
  // "path: reason" for each file skipped, or archived with zeros from where
  // a read failed.
  std::vector<std::string> unreadable;
  // Files written to while they were read (their size, mtime or ctime moved;
  // one that shrank is padded with zeros): archived, but their copy may mix
  // old and new content.
  std::vector<std::string> changed;
  // TarOptions::leave_out met in the tree, and what killed restores left
  // (their staging and replaced directories).
  std::vector<std::string> left_out;
  // Entries the exclude rules left out (a directory once, not its content).
  std::vector<std::string> excluded;
  // Directories on another file system, archived empty (one_file_system).
  std::vector<std::string> other_file_systems;
};

// Whether a file's status taken after reading it differs from the one taken
// before in size, mtime or ctime: it was written to while it was read, as
// GNU tar and borg judge it.
bool changed_while_read(const struct stat& before, const struct stat& after);

// Files and directories known by identity (device and inode), whatever path
// leads to them: how TarOptions::leave_out is matched, by the archive and by
// whoever must predict what it takes (the progress total).
class Identities {
 public:
  Identities() = default;
  // The identities of those of `paths` that exist now.
  explicit Identities(const std::vector<std::string>& paths);
  bool contains(const struct stat& st) const;
  bool empty() const { return ids_.empty(); }

 private:
  std::vector<std::pair<dev_t, ino_t>> ids_;
};

// What a non-directory was when an incremental level accounted for it:
// the change test of GNU tar's --listed-incremental (device, inode, mtime,
// ctime, size), kept per name in the archive ("arcname/dir/file").
struct FileState {
  std::uint64_t dev = 0, ino = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0, size = 0;
  // Rebuilt from a level's index (a machine without the snapshot file),
  // which records no device, inode or ctime: such a state stands for a
  // regular file and compares its size, mtime to the second, permission
  // bits and owner only.
  bool from_index = false;
  std::uint32_t mode = 0;
  std::int64_t uid = 0, gid = 0;
  bool operator==(const FileState&) const = default;
  static FileState of(const struct stat& st);
  // Whether `st` (an lstat) is unchanged since this state was taken.
  bool matches(const struct stat& st) const;
};
using Snapshot = std::unordered_map<std::string, FileState>;

struct TarOptions {
  std::string root;     // file or directory to archive
  std::string arcname;  // name of the top entry (usually root's last component)
  ExcludeRules excludes;
  // Files or directories never archived, found by identity (device and
  // inode) wherever they sit in the tree: bakthat's own local store, which
  // would otherwise hold every earlier backup inside the next one.
  std::vector<std::string> leave_out;
  // Directories on another file system than root's are archived without
  // their content, as `tar --one-file-system` does: a backup of / then
  // leaves /proc, /sys and network mounts out.
  bool one_file_system = false;
  // Called with the number of content bytes archived (read, or skipped as
  // a hole) since the last call.
  std::function<void(std::uint64_t)> on_progress;
  // Called as each entry of TarStats::unreadable, changed, left_out,
  // other_file_systems and excluded is found, so that a long backup says so
  // when it happens, not at its end.
  enum class Notice { Unreadable, Changed, LeftOut, RestoreLeftover, OtherFileSystem, Excluded };
  std::function<void(Notice, const std::string&)> on_notice;
  // Set: the archive is a level of GNU tar's incremental format
  // (`tar --listed-incremental`, POSIX flavour): every directory is written,
  // with a GNU.dumpdir record listing its entries (D directory, Y in this
  // archive, N not), and a non-directory whose FileState equals its entry
  // in *base is left out (N). `tar -x --listed-incremental=/dev/null` of the
  // levels in order then restores the tree, deletions and renames included
  // (a directory's entries missing from its dumpdir are removed). An empty
  // base makes a full level 0.
  const Snapshot* incremental_base = nullptr;
  // Receives the FileState of every non-directory the level accounts for
  // (archived, or left out as unchanged): the next level's base.
  Snapshot* snapshot_out = nullptr;
};

// Writes root as a pax tar stream into out and finishes it. Files that
// cannot be read are recorded in TarStats::unreadable and skipped; anything
// else (out failing, root missing) throws.
TarStats write_tar(const TarOptions& options, Sink& out);

struct ExtractOptions {
  std::string target_dir;  // must exist
  bool force = false;      // replace existing files
};

struct ExtractStats {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::vector<std::string> top_entries;  // names created directly in target_dir
  // "name: what" for metadata libarchive could not set (a time, a mode, an
  // attribute the user may not set); the content is restored all the same.
  std::vector<std::string> warnings;
  // What was done with the leftovers of restores into the same target that
  // were killed (rolled back, finished, removed), one line each.
  std::vector<std::string> recovered;
};

// Extracts a tar stream into target_dir: everything goes first into a
// staging directory inside target_dir and is moved into place only when the
// whole stream was read without error, so a failed restore leaves the target
// as it was. Entries that would land outside the target (absolute names,
// "..", through a symlink) throw ErrorKind::Unsafe; an existing path without
// force throws ErrorKind::Conflict (before anything is moved).
ExtractStats extract_tar(Source& in, const ExtractOptions& options);

// Extracts the levels of an incremental chain (GNU tar's incremental
// format, level 0 first) as one restore, with extract_tar's guarantees:
// each level goes into the same staging tree, where the entries a
// directory's dumpdir does not list (deleted or renamed since the level
// before) are removed, and only the result moves into target_dir.
// next_level() gives each level's tar stream in turn, read to its end
// before the next is asked for, and nullptr after the last.
ExtractStats extract_tar_levels(const std::function<Source*()>& next_level, const ExtractOptions& options);

// Writes the stream `in` as the file `name` in target_dir (0644 less the
// umask), through a temporary file renamed into place, so a failure leaves
// nothing behind; without force an existing `name`, even one that appears
// meanwhile, throws ErrorKind::Conflict and is never replaced.
ExtractStats extract_stream(Source& in, const ExtractOptions& options, const std::string& name);

// Reads every entry and its content without writing anything (verify).
ExtractStats read_tar(Source& in);

// Writes the content of the one regular file in the tar stream `in` to out
// (holes of a sparse file as zeros; without finishing out), then reads `in`
// to its end. Throws Usage when the archive holds anything else: at the
// first entry that is not a regular file, before writing, and at a second
// file (restore --stdout of a file backup).
void extract_single_to(Source& in, Sink& out);

// The content of the first entry of the tar stream `tar`, a regular file
// (holes of a sparse file as zeros), from byte `offset` of it on: what one
// file of a backup reads as (BackupReader). The header is read, and the
// bytes before `offset` passed over, when it is made. Throws Usage when
// that entry is not a regular file, Corrupt when the stream is not a tar.
// `tar` must outlive it.
class EntryContent : public Source {
 public:
  EntryContent(Source& tar, std::uint64_t offset);
  ~EntryContent() override;
  const std::string& path() const;  // as stored
  std::uint64_t size() const;       // the file's whole size (holes included)
  bool sparse() const;              // stored as data regions and holes
  std::size_t read(MutableBytes out) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace bakthat::archive
