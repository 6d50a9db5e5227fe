// Catalog synchronisation between machines, the Python bakthat's way: each
// machine sends a sync server (the `sync:` block of the config file) the
// catalog rows it changed since its last sync, and takes in the rows the
// other machines sent. So a backup made on one machine shows, restores and
// rotates from another that uses the same store, and a deletion made on one
// is seen by all.
//
// Rows of the `local` destination stay on their machine (another machine
// cannot reach that store). A row taken in never undoes a deletion, and
// replaces a local row only when newer (Catalog::merge). The server is any
// implementation of the protocol (src/sync/sync_client.hpp), such as
// tools/bakthat-syncserver or the Python tool's bakthat-syncserver.
#pragma once

#include <cstddef>
#include <optional>

#include "bakthat/bakthat.hpp"

namespace bakthat {

struct SyncOptions : Options {
  // The server to sync with; nullopt: the config file's `sync:` block.
  std::optional<SyncSettings> settings;
};

struct SyncReport {
  std::size_t sent = 0;      // rows sent to the server
  std::size_t received = 0;  // rows the server sent back
  std::size_t inserted = 0;  // of those, new here
  std::size_t updated = 0;   // of those, newer than ours (deletions mostly)
};

// Registers this machine with the server (once), then exchanges rows. Throws
// Config when no server is configured, Auth when it refuses the username
// and password, Storage or Corrupt when it fails; a failed sync changes
// nothing it has not finished (the next one sends and receives again).
SyncReport sync_catalog(const SyncOptions& options);

// Forgets this machine's sync state (its registration and marks), so that the
// next sync registers again and sends and receives every row.
void reset_sync(const Options& options);

}  // namespace bakthat
