// `bakthat mount`: backups shown as a read-only file system (FUSE 3), built
// on the public library alone (open_backup, show): the tree comes from each
// backup's index, and reading a file fetches only the bytes that hold it.
#pragma once

#include <cstdint>
#include <string>

#include "bakthat/bakthat.hpp"

namespace bakthat::mount {

struct MountOptions {
  std::string dir;  // the mount point: an existing directory
  // Bytes of file content kept once read, shared by every open file
  // (least recently used blocks go first). Each open file also holds the
  // stream it reads through (a ranged read and its decompressor).
  std::uint64_t cache_bytes = std::uint64_t{64} << 20;
  bool debug = false;  // libfuse's trace of every request, on stderr
};

// Whether this build has FUSE support (the BAKTHAT_FUSE CMake option).
bool supported();

// Mounts at options.dir, read-only: every backup named `name` (its
// filename exactly) as DIR/<backup date, UTC, YYYY-MM-DDTHH:MM:SS>/ plus
// DIR/latest, a symbolic link to the newest; or, when no backup has that
// filename, the tree of the one backup `name` picks as restore picks it
// (a stored name, or the start of a name) directly in DIR. The backup of
// one date is opened (its index read) when first looked into; the newest
// is opened before mounting, so its password is asked first and used for
// the others. Serves requests in the foreground until DIR is unmounted
// (fusermount3 -u DIR) or SIGINT, SIGTERM or SIGHUP arrives, then
// unmounts and returns. A request that fails reports its error through
// base.reporter and answers EIO (ENOENT for a missing path). Throws
// Unsupported in a build without FUSE, Io when DIR cannot be mounted.
void mount_backups(const std::string& name, const Options& base, const MountOptions& options);

}  // namespace bakthat::mount
