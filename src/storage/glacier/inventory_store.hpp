// What the glacier vault destination keeps between runs, behind an
// interface it owns so that storage does not depend on the catalog: the
// names of the archives it stored with their archive ids (Glacier names
// archives by ids it chooses, and its own inventory lags by a day), the
// retrieval job of each name, and what a backup's record says of a stored
// object. The command line keeps them in the catalog file (its `inventory`
// and `jobs` tables and the backups' rows, docs/formats.md §11).
//
// An InventoryStore may be called from the threads of one GlacierStorage
// (a reader's thread forgets the job it has read): its calls are serialized.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bakthat::storage::glacier {

class InventoryStore {
 public:
  virtual ~InventoryStore() = default;

  // The archive id of `name`, the newest when there are several.
  virtual std::optional<std::string> archive_id(const std::string& name) = 0;
  // Records that `name` is the archive `archive_id` (an archive id names
  // one name only: a previous name of that id is forgotten).
  virtual void put_archive(const std::string& name, const std::string& archive_id) = 0;
  virtual void remove_archive(const std::string& name) = 0;
  // (name, archive id) of every archive whose name starts with prefix, in
  // name order.
  virtual std::vector<std::pair<std::string, std::string>> archives(const std::string& prefix) = 0;

  // The retrieval job of `name`: one job per name.
  virtual std::optional<std::string> job_id(const std::string& name) = 0;
  virtual void put_job(const std::string& name, const std::string& job_id) = 0;
  virtual void remove_job(const std::string& name) = 0;

  // What the record of the backup stored as `name` says of it, when there
  // is one: its size and date (the inventory has neither) and its archive
  // id, which is how the backup of another machine that a catalog sync
  // brought here becomes known.
  struct Recorded {
    std::uint64_t size = 0;
    std::int64_t modified = 0;   // Unix seconds
    std::string archive_id;      // empty unless a live backup in a vault recorded one
  };
  virtual std::optional<Recorded> recorded(const std::string& name) = 0;
};

}  // namespace bakthat::storage::glacier
