// bakthat: compress, optionally encrypt, and store backups of files,
// directories and streams on local disk, S3, Glacier and Swift, with a
// searchable SQLite catalog.
//
// The umbrella header. Every operation takes Options that say which
// configuration, profile and destination to use; they return catalog records
// and throw bakthat::Error (errors.hpp) with a one-line message.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bakthat/archive_entry.hpp"
#include "bakthat/cancel.hpp"
#include "bakthat/catalog.hpp"
#include "bakthat/config.hpp"
#include "bakthat/errors.hpp"
#include "bakthat/storage.hpp"
#include "bakthat/stream.hpp"

namespace bakthat {

// The release, "MAJOR.MINOR.PATCH": project(VERSION) of CMakeLists.txt, as
// `bakthat --version`, bakthatConfigVersion.cmake, bakthat.pc and the .deb say.
std::string version();

// Progress and messages: the library reports through this interface; the
// command line prints them (messages in the original's words on stderr,
// a progress bar on a terminal).
class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void message(const std::string& text) = 0;  // "Backing up X"
  virtual void warning(const std::string& text) = 0;  // a file skipped...
  // Shown only when asked for (-v): each path an exclude file left out.
  virtual void detail(const std::string& text) { (void)text; }
  // A transfer of `total` bytes (0 when unknown) began / advanced / ended.
  virtual void progress_start(const std::string& label, std::uint64_t total) = 0;
  // The total of a transfer begun with total 0 became known (a backup
  // measures its tree while it already streams it).
  virtual void progress_total(std::uint64_t total) { (void)total; }
  virtual void progress(std::uint64_t done) = 0;
  virtual void progress_end() = 0;
};

// A Reporter that says nothing.
Reporter& silent_reporter();

// Reports `warnings` (Profile::warnings, SyncSettings::warnings) through
// `reporter`, each text once in the process. The operations call it for the
// configuration they load; a caller that loads the profile itself first
// (say, to decide whether to ask for a password) can show them before
// prompting, and they are not repeated.
void report_config_warnings(Reporter& reporter, const std::vector<std::string>& warnings);

struct Options {
  ConfigSource config;
  std::string destination;                 // empty: the profile's default_destination
  std::optional<std::string> password;     // empty string: no encryption
  std::vector<std::string> recipients;     // age1... or "ssh-ed25519 AAAA..." (added to the profile's)
  std::vector<std::string> identity_files; // added to the profile's identity_file
  Reporter* reporter = nullptr;            // nullptr: silent
  // Asked for a password when an encrypted backup needs one and none was
  // given (restore asks before downloading anything).
  std::function<std::optional<std::string>()> ask_password;
  // A store of the caller's own (a backend bakthat does not have, or one in
  // memory for tests) instead of the destination's: the catalog records its
  // kind() as the backend, and its location() stands for the store. Its
  // catalog rows go in its own folder .bakthat/rows/KIND/, as every
  // destination's do (docs/destination-catalog.md); a store of kind
  // "glacier" keeps none. It must outlive the call; `destination` is then
  // ignored.
  std::shared_ptr<Storage> storage;
  // Cancelling it stops the operation within a second: Error(Interrupted),
  // nothing stored or recorded (cancel.hpp). nullptr: not cancellable.
  const CancelToken* cancel = nullptr;
};

struct BackupOptions : Options {
  std::string custom_name;        // catalog filename instead of the arcname
  std::vector<std::string> tags;
  std::string exclude_file;       // instead of .bakthatexclude / .gitignore
  // false: no exclude file at all (the directory's .bakthatexclude and
  // .gitignore are not read); exclusive with exclude_file. The file used
  // and what it left out ("exclude_file", "excluded", "excluded_count")
  // are recorded in the row's metadata.
  bool read_exclude_files = true;
  bool reduced_redundancy = false;
  std::optional<bool> compress;   // overrides the profile's `compress`
  // Directories on other file systems than the path's are stored empty
  // (their content left out, each named on the Reporter), as
  // `tar --one-file-system`: for backing up / without /proc or mounts.
  bool one_file_system = false;
  // Added to the catalog row's metadata (never replacing the keys bakthat
  // sets); KeyValue marks its rows with it.
  std::map<std::string, nlohmann::json> extra_metadata;
  // A directory's backup as a level of GNU tar's incremental format: the
  // first of a name (and one whose chain this machine cannot continue) is
  // level 0, a full archive; each later one holds only what changed since
  // the level before it, with every directory's listing, so that
  // `tar -x --listed-incremental=/dev/null` of the levels in order restores
  // the tree, deletions and renames included. The row's metadata says
  // "level" and "parent" (the stored_filename of the level before). The
  // profile's `incremental: N` makes every directory backup one.
  bool incremental = false;
};

// Backs up a file or directory. The catalog row is written only once the
// destination has the whole object. Unreadable files are skipped and listed
// in the returned record's metadata ("unreadable"), files written to while
// they were read are archived and listed ("changed"); the call still
// succeeds. Each list holds the first 100 paths; "unreadable_count" and
// "changed_count" say how many there were (the Reporter named them all).
BackupRecord backup(const std::string& path, const BackupOptions& options);

// Backs up a stream (stored compressed, not tarred) under `name`.
BackupRecord backup_stream(Source& in, const std::string& name, const BackupOptions& options);

struct RestoreOptions : Options {
  std::string target_dir;  // empty: the current directory
  bool force = false;      // replace existing files; others in merged directories stay
  bool to_stdout = false;  // write the (single file or stream) content to `out`
  Sink* out = nullptr;     // with to_stdout
  bool wait = false;       // archive tiers: wait until the retrieval is done
  // Only part of a tar backup: the entries whose path is one of `paths` or
  // lies under one (a leading "./" or "/" and a trailing "/" aside), that
  // match an `include` pattern when there are any and no `exclude` pattern,
  // with the directories above them, and for a hard link the entry that
  // holds its data. Patterns are shell globs (fnmatch) matched against the
  // whole path, or, without a '/', against each of its components. With an
  // index (docs/formats.md §13), only their bytes are fetched from an
  // unencrypted backup; the rules of a full restore (staging, no
  // overwrite without force, nothing outside the target) hold.
  std::vector<std::string> paths, include, exclude;
  // Writes the tar backup (or the part selected) as a tar stream to `out`
  // instead of extracting it.
  bool as_tar = false;
};

enum class RestoreState { Restored, RetrievalStarted, RetrievalInProgress };

struct RestoreResult {
  BackupRecord record;
  RestoreState state = RestoreState::Restored;
  std::vector<std::string> restored;  // top-level names created
};

// Restores the latest backup whose filename or stored name starts with name
// (an exact stored name picks that version).
RestoreResult restore(const std::string& name, const RestoreOptions& options);

// The entries of the latest tar backup matching name, in archive order,
// read from its index (a small object beside the backup's rows) when it
// has one, else from the whole archive. Throws Corrupt for an index that
// does not match its catalog row.
std::vector<ArchiveEntry> list_entries(const std::string& name, const Options& options);

// Makes and stores the index of the latest tar backup matching name when
// it has none (an older backup, the Python tool's, an object adopted), by
// reading it whole once; its sha256 goes into the backup's row, here and
// at the destination. Encrypted, the index opens with what opens the
// backup. Throws Unsupported at a destination that keeps no indexes.
void index_backup(const std::string& name, const Options& options);

// A tar backup opened to read its files one at a time: its entries (from
// its index, as list_entries gives them) and the content of any regular
// file, for which only the bytes that hold it are fetched where the backup
// allows (RestoreOptions::paths says which backups do; the others are read
// from their start up to the file's end). Each file's content is checked
// as a restore checks it (gzip CRCs, age tags; the first read of a file
// checks its tar header against the index). Not thread-safe: one thread
// at a time uses a reader and the Sources it made; each Source keeps what
// it needs of the reader alive.
class BackupReader {
 public:
  virtual ~BackupReader() = default;
  virtual const BackupRecord& record() const = 0;
  // In archive order.
  virtual const std::vector<ArchiveEntry>& entries() const = 0;
  // The content of the regular file `path` (as entries() names it, a
  // leading "./" or "/" and a trailing "/" aside; a hard link reads as the
  // file it links to) from byte `offset` on (past the end: nothing).
  // Throws NotFound for a path the backup does not hold, Usage for one
  // that is not a regular file, Corrupt when the archive does not hold
  // what the index says.
  virtual std::unique_ptr<Source> open(const std::string& path, std::uint64_t offset = 0) = 0;
};

// The latest tar backup matching name (as restore picks it), opened: its
// index is read now (or made, for a backup without one, by reading it
// whole once), and its password asked for now when it needs one. The
// reader keeps options.reporter and options.cancel, which must outlive it.
// Throws as list_entries does.
std::unique_ptr<BackupReader> open_backup(const std::string& name, const Options& options);

// One file of a backup as a Source: open_backup(name, options)->open(path).
std::unique_ptr<Source> open_entry(const std::string& name, const std::string& path, const Options& options);

// Restores an archive file that is not in the catalog (downloaded by hand).
RestoreResult restore_file(const std::string& file, const RestoreOptions& options);

// Restores the levels of an incremental chain downloaded by hand, level 0
// first (one file: restore_file), as restore() of its last level does: one
// staging tree, each level decrypted and decompressed as its content says
// and extracted over the one before. Files with stored names
// (NAME.YYYYMMDDHHMMSS...) must be of one NAME, oldest first; a file that
// is no tar archive throws Corrupt, and the target is left as it was.
RestoreResult restore_files(const std::vector<std::string>& files, const RestoreOptions& options);

struct ShowOptions : Options {
  std::string query;
  std::vector<std::string> tags;
  bool this_profile_only = false;  // only rows of this profile's backend_hash
  bool all_destinations = true;    // false: only options.destination
};
std::vector<BackupRecord> show(const ShowOptions& options);

// The backups made with a periodic key (backup -k, metadata periodic_key),
// one entry per key, in key order, from the rows show() would list: the
// Python tool asked BakManager.io for this; here the catalog answers.
struct PeriodicBackups {
  std::string key;
  std::size_t count = 0;
  std::int64_t total_size = 0;  // bytes stored
  std::int64_t latest = 0;      // backup_date of the newest
  std::int64_t interval = 0;    // median seconds between backups; 0 with one
  bool late = false;            // more than 1.5 intervals since the newest
};
std::vector<PeriodicBackups> periodic_backups(const ShowOptions& options, std::int64_t now = 0);

// Names stored at the destination, read from the store itself.
std::vector<ObjectInfo> ls(const std::string& prefix, const Options& options);

// Where the destination keeps its objects, for messages: a directory,
// s3://bucket, swift://container or glacier://vault.
std::string location(const Options& options);

// Removes the latest match from the store and marks it deleted. A NAME that
// is only the prefix of more than one backup name throws Usage naming them.
BackupRecord remove(const std::string& name, const Options& options);

// Downloads, checks sha256, decrypts and reads the whole archive.
BackupRecord verify(const std::string& name, const Options& options);

// Seconds of an interval string such as "3M2D8h20m5s": one or more
// <positive integer><unit>, units s m h D W M Y = 1 s, 1 min, 1 h, 1 day,
// 7 days, 30 days, 365 days (m is minutes, as in the Python tool; d, w, y
// are taken for D, W, Y). Anything else throws Usage.
std::int64_t parse_interval(const std::string& text);

struct RetentionOptions : Options {
  bool dry_run = false;
  // delete_older_than: the newest backup may go too. Without it the newest
  // is always kept (restic's --keep-within counts from the latest too), so
  // an interval shorter than meant never leaves a name with no backup.
  bool include_newest = false;
  std::int64_t now = 0;  // Unix seconds; 0: the current time
};

struct RetentionDecision {
  BackupRecord record;               // updated (is_deleted) once deleted
  bool keep = false;
  std::vector<std::string> reasons;  // for kept ones: "daily 2026-11-24", "within 30D", "future"...
  std::string error;                 // deletion failed: why (record left as it was)
};

// Retention works on the non-deleted backups named `name` (required, chosen
// as Catalog::matches chooses) on this destination and store (backend and
// backend_hash), and returns one decision per backup, oldest first. A NAME
// that is only the prefix of more than one backup name throws Usage naming
// them; one that matches nothing throws NotFound naming the backup names
// that contain it (the Python tool matched *NAME*), before anything is
// deleted. Unless
// dry_run, every backup not kept is removed from the store and then marked
// deleted in the catalog; one already gone from the store is marked deleted
// with a warning. A deletion that fails does NOT throw: it is reported as a
// warning and recorded in that decision's `error`, and the others go on, so
// callers must check `error` (the command line exits with the Partial
// status when any is set). Configuration, catalog and "store cannot be
// opened" errors still throw, before anything is deleted.

// Deletes every backup whose backup_date < now - interval, except the
// newest unless include_newest. An interval under one day is also said in
// words as a warning ("6m = 6 minutes").
std::vector<RetentionDecision> delete_older_than(const std::string& name,
                                                 const std::string& interval,
                                                 const RetentionOptions& options);

// Grandfather-father-son rotation by the profile's `rotation`, exactly as the
// Python package grandfatherson (1.2+) decides, in UTC: for each unit with a
// count N, the oldest backup of each of the last N calendar periods (weeks
// starting on first_week_day) is kept, as are backups dated after now. Of
// backups with the same date, the one with the lowest catalog id counts.
// Throws Config when no rotation is configured.
std::vector<RetentionDecision> rotate_backups(const std::string& name,
                                              const RetentionOptions& options);

}  // namespace bakthat

// The rest of the library: events, KeyValue, BakHelper and catalog sync (after the
// declarations above, which they use).
#include "bakthat/events.hpp"
#include "bakthat/bak_helper.hpp"
#include "bakthat/key_value.hpp"
#include "bakthat/sync.hpp"
