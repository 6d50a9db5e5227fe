// Incremental backups (GNU tar's --listed-incremental format): which level
// a backup of a name is, and the snapshot state the next level is computed
// against, kept beside the catalog.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "ops/context.hpp"

namespace bakthat::ops {

// The level a new incremental backup of `filename` is, and its base.
struct Level {
  int level = 0;
  std::string parent;     // the previous level's stored_filename; empty at level 0
  archive::Snapshot base; // what the previous level accounted for; empty at level 0
  std::string why;        // said to the user: which level and why
};

// Continues the chain of the newest backup of `filename` at this
// destination (the destination's rows taken in first when this catalog
// knows no backup of it) when that is an incremental level with fewer than
// `max_levels` levels after its full (0: no limit); else a new level 0,
// saying why (a chain cut by a plain backup or a failed one, the limit
// reached, a chain that cannot be read). The base is the snapshot this
// machine kept of that level, or, when it has none (another machine made
// the level, or the snapshot was lost), one rebuilt from the levels'
// indexes at the destination (rebuild_snapshot), decrypted with what
// `options` and the profile give.
Level next_level(Context& ctx, const std::string& filename, int max_levels, const Options& options);

// The snapshot of the last level of `chain` (level 0 first) as the
// destination's indexes of its levels tell it: each level's directories
// list their entries (GNU.dumpdir: Y archived in that level, N as in the
// level before), so following them from level 0 gives every file the last
// level accounts for, with the size, mtime, mode and owner it had when it
// was archived. An index records no device, inode or ctime, so a file
// counts as unchanged when those four are (FileState::from_index): a
// change that keeps them all (a rewrite in the same second at the same
// size, a new hard link to an unchanged file) is missed until the file
// changes again; a file the indexes do not describe fully (a hard link, a
// symlink, a name the index could not keep) is taken as changed. Throws
// when a level has no index or it cannot be read (why, in the message).
archive::Snapshot rebuild_snapshot(Context& ctx, const std::vector<BackupRecord>& chain, const Options& options);

// Keeps `snapshot` as the state of the level `record` (its metadata "level")
// for the next level of its name: a 0600 file under the catalog's
// "<database>.incremental/" directory, replaced whole (a killed write leaves
// the previous state, and the next backup then starts a new chain).
void save_snapshot(Context& ctx, const BackupRecord& record, const archive::Snapshot& snapshot);

// The level and parent of an incremental backup's row (metadata "level",
// "parent"); nullopt for a plain backup.
struct LevelOf {
  int level = 0;
  std::string parent;
};
std::optional<LevelOf> level_of(const BackupRecord& record);

// The chain `last` needs, level 0 first, ending with `last` (only `last`
// for a plain backup): each level's parent row, found in the catalog by
// stored_filename. A level missing (deleted, or never known here) throws
// NotFound naming it and what can still be restored.
std::vector<BackupRecord> chain_of(Context& ctx, const BackupRecord& last);

// The backup of the same name at this destination whose level is built on
// `record` (its metadata "parent"), if any: what deleting `record` breaks.
std::optional<BackupRecord> dependent_of(Context& ctx, const BackupRecord& record);

}  // namespace bakthat::ops
