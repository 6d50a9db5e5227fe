// Catalog synchronisation between machines. So a backup made on one machine
// shows, restores and rotates from another that uses the same store, and a
// deletion made on one is seen by all. Two ways:
//
// - Through the destination (the default, when the `sync:` block names no
//   url): every backup and deletion leaves its catalog row at the
//   destination (docs/destination-catalog.md); a sync takes in the rows
//   this catalog lacks, sends those the destination lacks, and gives
//   objects without a row (the Python tool's, copied in by hand, left by a
//   killed backup) a row from their name and size.
// - Through a sync server, the Python bakthat's way (the `sync:` block's
//   url): each machine sends the server the rows it changed since its last
//   sync, and takes in the rows the other machines sent. Rows of the
//   `local` destination stay on their machine. The server is any
//   implementation of the protocol (src/sync/sync_client.hpp), such as
//   tools/bakthat-syncserver or the Python tool's bakthat-syncserver.
//
// A row taken in never undoes a deletion, and replaces a local row only
// when newer (Catalog::merge).
#pragma once

#include <cstddef>
#include <optional>

#include "bakthat/bakthat.hpp"

namespace bakthat {

struct SyncOptions : Options {
  // The server to sync with; nullopt: the config file's `sync:` block, and
  // without a url there, the destination (options.destination).
  std::optional<SyncSettings> settings;
  // Destination sync: look for objects without a row in the whole store,
  // not only on this catalog's first sync (a LIST of every object).
  bool adopt_all = false;
};

struct SyncReport {
  std::size_t sent = 0;      // rows sent to the server
  std::size_t received = 0;  // rows the server sent back
  std::size_t inserted = 0;  // of those, new here
  std::size_t updated = 0;   // of those, newer than ours (deletions mostly)
  std::size_t adopted = 0;   // objects without a row that got one (destination sync)
};

// With a server: registers this machine with it (once), then exchanges rows;
// Auth when it refuses the username and password. With the destination:
// Config when it keeps no rows (a Glacier vault without s3_bucket). Storage
// or Corrupt when it fails; a failed sync changes nothing it has not
// finished (the next one sends and receives again).
SyncReport sync_catalog(const SyncOptions& options);

// Forgets this machine's sync state (its registration and marks, what it
// read of the destination's rows), so that the next sync registers again,
// sends and receives every row, and looks at every object.
void reset_sync(const Options& options);

}  // namespace bakthat
