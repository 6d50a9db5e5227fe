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
// destination when that is an incremental level whose snapshot this machine
// kept, and when it has fewer than `max_levels` levels after its full (0:
// no limit); else a new level 0, saying why (a new machine, a chain cut by
// a plain backup or a failed one, the limit reached).
Level next_level(Context& ctx, const std::string& filename, int max_levels);

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
