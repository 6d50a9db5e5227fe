// The catalog as the destination keeps it (docs/destination-catalog.md): a
// log of small immutable objects in the destination's row folder
// (storage::make_row_storage), which compaction packs into few.
//
//   log-<UTC %Y%m%d%H%M%S>-<16 hex>   one entry: a row, a tombstone (a row
//                                     with is_deleted) or a pending backup
//   pack-<UTC %Y%m%d%H%M%S>-<16 hex>  gzip-compressed JSON: many rows
//
// Every object is written once under a fresh random name (Storage::
// create_new: one PUT, no request to find the name free first, the store's
// conditional write where it has one), and never rewritten: two machines
// never write the same object. A reader learns what is new from one listing and the names
// it has already read; compaction writes a pack holding every row before it
// removes the entries and packs that pack replaces, so a reader that lists
// in between reads some rows twice, never none.
#pragma once

#include <string>
#include <vector>

#include "bakthat/catalog.hpp"
#include "bakthat/storage.hpp"

namespace bakthat::catalog_sync {

inline constexpr const char* kLogPrefix = "log-";
inline constexpr const char* kPackPrefix = "pack-";

// One log entry. A pending entry is written before a backup's object: its
// row as far as known then (no size, no checksum), so that a backup killed
// before its row entry leaves a trace a later sync can follow to the
// object (sync_ops.cpp).
struct Entry {
  bool pending = false;
  BackupRecord record;
};

class RowLog {
 public:
  // `rows`: the destination's row folder.
  explicit RowLog(Storage& rows) : rows_(rows) {}

  // Writes one entry as a new object; returns its name.
  std::string append(const Entry& entry);

  struct Listing {
    std::vector<std::string> logs;   // log entries, in name order
    std::vector<std::string> packs;  // packs, in name order
  };
  // One listing of the folder.
  Listing list();

  // The entries of a log object or a pack (a pack's are rows). Throws
  // NotFound when it is gone (compacted by another machine meanwhile),
  // Corrupt when it is not what this file writes.
  std::vector<Entry> read(const std::string& name);

  // Writes `rows` as one new pack; returns its name.
  std::string write_pack(const std::vector<BackupRecord>& rows);

  // Removes entries and packs (in few requests where the store allows);
  // one already gone is no failure.
  void drop(const std::vector<std::string>& names);

 private:
  std::string write_object(const std::string& prefix, const std::string& bytes);
  Storage& rows_;
};

}  // namespace bakthat::catalog_sync
