// The SQLite catalog, with exactly the Python bakthat's schema (peewee
// models), so existing ~/.bakthat.sqlite files and users' SQL keep working.
//
// A Catalog is one connection in WAL mode with a busy timeout, so several
// bakthat processes may use one file at once. Rows are never removed:
// deletion sets is_deleted = 1 and last_updated = now. One Catalog may be
// shared by the threads of a process: its calls are serialized.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bakthat {

struct BackupRecord {
  std::int64_t id = 0;
  std::string backend;        // destination name: local, s3, glacier, swift
  std::string backend_hash;   // hex SHA-512 of access_key + bucket/vault (local: the store path)
  std::int64_t backup_date = 0;   // Unix seconds, UTC
  std::string filename;           // arcname or custom name
  bool is_deleted = false;
  std::int64_t last_updated = 0;  // Unix seconds, UTC
  nlohmann::json metadata = nlohmann::json::object();
  std::int64_t size = 0;          // stored object's size in bytes
  std::string stored_filename;    // unique
  std::string tags;               // space separated
};

// A row as JSON, with the column names as keys (metadata as an object,
// is_deleted as a boolean): what `show --json`, event hooks and the sync
// protocol exchange.
void to_json(nlohmann::json& out, const BackupRecord& record);
// The reverse, lenient about what other writers send (tags as a list,
// is_deleted as 0/1, metadata as JSON text, backend_hash null); a missing or
// ill-typed column throws Error(Corrupt) naming it.
void from_json(const nlohmann::json& in, BackupRecord& record);

struct CatalogQuery {
  std::string text;                      // matches *text* on filename or stored_filename
  std::vector<std::string> tags;         // every tag must be present
  std::optional<std::string> backend;    // destination
  std::vector<std::string> backend_hashes;  // rows of any of these stores; empty: any store
  bool include_deleted = false;
};

class Catalog {
 public:
  // Opens (creating if needed) the catalog file and its tables and indexes.
  explicit Catalog(const std::string& path);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  const std::string& path() const;

  // Inserts a new row; returns its id. A stored_filename already present is
  // replaced (the original's upsert).
  std::int64_t insert(const BackupRecord& record);

  // Rows matching the query, newest backup_date first.
  std::vector<BackupRecord> search(const CatalogQuery& query) const;

  // The newest non-deleted row named `name` of `backend` (nullopt: any) and
  // one of `backend_hashes` (empty: any store): the row of that exact
  // stored_filename, else the newest of that exact filename, else the newest
  // whose filename or stored_filename starts with name.
  std::optional<BackupRecord> latest(const std::string& name,
                                     const std::optional<std::string>& backend,
                                     const std::vector<std::string>& backend_hashes) const;

  // The non-deleted rows named `name`, newest first, in the same scope and
  // chosen as latest() chooses: an exact stored_filename, else every row of
  // that exact filename, else every row whose filename or stored_filename
  // starts with name (so that "web" never takes in "webapp" when "web"
  // exists).
  std::vector<BackupRecord> matches(const std::string& name,
                                    const std::optional<std::string>& backend,
                                    const std::vector<std::string>& backend_hashes) const;

  std::optional<BackupRecord> by_stored_filename(const std::string& stored) const;

  // Sets is_deleted = 1 and last_updated = now.
  void mark_deleted(std::int64_t id);

  // Every row (deleted ones too) with last_updated >= since, oldest change
  // first: what a machine has to tell others.
  std::vector<BackupRecord> changed_since(std::int64_t since) const;

  // Takes in rows another machine wrote, in one transaction: each is
  // inserted when its stored_filename is new here; replaces the local row
  // (which keeps its id) when it is newer by last_updated, says deleted, or
  // is a backup's own row where ours was adopted from its object (metadata
  // "adopted"), and never once ours says deleted (a deletion is final, whatever the
  // machines' clocks say); is refused (Conflict) when the local row of that
  // name is another store's (backend or backend_hash differ). Incoming ids
  // are ignored. Returns what happened to each row, in order.
  enum class Merge { Inserted, Updated, Kept, Conflict };
  std::vector<Merge> merge(const std::vector<BackupRecord>& incoming);

  // The `config` table (key UNIQUE, value JSON).
  std::optional<nlohmann::json> config_value(const std::string& key) const;
  void set_config_value(const std::string& key, const nlohmann::json& value);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bakthat
