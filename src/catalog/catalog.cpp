#include "bakthat/catalog.hpp"

#include <ctime>
#include <mutex>
#include <set>
#include <sstream>

#include "bakthat/errors.hpp"
#include "catalog/glacier_tables.hpp"
#include "catalog/schema.hpp"
#include "catalog/sqlite.hpp"

namespace bakthat {

using catalog::Db;
using catalog::Statement;
using catalog::WriteTransaction;

namespace {

constexpr const char* kColumns =
    "SELECT id, backend, backend_hash, backup_date, filename, is_deleted, last_updated, "
    "metadata, size, stored_filename, tags FROM backups ";

// Filters shared by every backups query: ?1 backend (NULL: any), ?2 the
// backend_hashes as one JSON array (SQLite's json_each; NULL: any), so that
// one query covers every store a caller names.
constexpr const char* kScope =
    "(?1 IS NULL OR backend = ?1) AND (?2 IS NULL OR backend_hash IN (SELECT value FROM json_each(?2))) ";

// Literal prefix / substring tests: instr() and substr() treat % and _ as
// ordinary characters, unlike LIKE, and are case-sensitive like the
// original's GLOB.
constexpr const char* kPrefix =
    "(substr(filename, 1, length(?3)) = ?3 OR substr(stored_filename, 1, length(?3)) = ?3) ";

constexpr const char* kNewestFirst = "ORDER BY backup_date DESC, id DESC";

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

BackupRecord read_row(const Statement& s) {
  BackupRecord r;
  r.id = s.integer(0);
  r.backend = s.text(1);
  r.backend_hash = s.text(2);
  r.backup_date = s.integer(3);
  r.filename = s.text(4);
  r.is_deleted = s.integer(5) != 0;
  r.last_updated = s.integer(6);
  // An old catalog may hold anything here (the Python JsonField fell back to
  // the raw text): keep only a JSON object.
  nlohmann::json meta = nlohmann::json::parse(s.text(7), nullptr, false);
  r.metadata = meta.is_object() ? std::move(meta) : nlohmann::json::object();
  r.size = s.integer(8);
  r.stored_filename = s.text(9);
  r.tags = s.text(10);
  return r;
}

std::set<std::string> split_words(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

void bind_scope(Statement& s, const std::optional<std::string>& backend,
                const std::vector<std::string>& backend_hashes) {
  s.bind_opt(1, backend);
  s.bind_opt(2, backend_hashes.empty() ? std::nullopt : std::optional(nlohmann::json(backend_hashes).dump()));
}

// Which rows a NAME picks, in order of preference: the exact stored name
// (an older version), then the backups of exactly that name, and only when
// there are none, those whose name or stored name starts with NAME: without
// the middle step, "rotate_backups web" would also thin out "webapp".
std::vector<BackupRecord> named(Db& db, const std::string& name, const std::optional<std::string>& backend,
                                const std::vector<std::string>& backend_hashes, bool newest_only) {
  const std::string limit = newest_only ? " LIMIT 1" : "";
  for (const char* test : {"stored_filename = ?3 ", "filename = ?3 ", kPrefix}) {
    Statement s(db, std::string(kColumns) + "WHERE " + kScope + "AND " + test + "AND is_deleted = 0 " +
                        kNewestFirst + limit);
    bind_scope(s, backend, backend_hashes);
    s.bind(3, name);
    std::vector<BackupRecord> out;
    while (s.step()) out.push_back(read_row(s));
    if (!out.empty()) return out;
  }
  return {};
}

}  // namespace

struct Catalog::Impl {
  explicit Impl(const std::string& path) : db(path) {}
  Db db;
  // One connection serves every thread of the process; the lock keeps one
  // thread's statements out of another's transaction.
  std::mutex lock;
};

namespace {

// Makes the file a catalog: its tables and indexes, in WAL mode.
void create_schema(Db& db) {
  // WAL lets readers and one writer work at once, across processes. It is a
  // property of the file, kept once set; a file system without shared memory
  // keeps the rollback journal, which still works, only with less overlap.
  sqlite3_exec(db.handle(), "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
  WriteTransaction tx(db);
  for (const char* sql : catalog::kSchema) db.exec(sql);
  tx.commit();
}

}  // namespace

Catalog::Catalog(const std::string& path) : impl_(std::make_unique<Impl>(path)) { create_schema(impl_->db); }

Catalog::~Catalog() = default;

const std::string& Catalog::path() const { return impl_->db.path(); }

namespace {

std::optional<std::int64_t> id_of(Db& db, const std::string& stored_filename) {
  Statement find(db, "SELECT id FROM backups WHERE stored_filename = ?1");
  find.bind(1, stored_filename);
  if (find.step()) return find.integer(0);
  return std::nullopt;
}

// Inserts the row, or replaces the row `existing` (which keeps its id);
// returns the row's id. Inside the caller's transaction.
std::int64_t write_row(Db& db, const BackupRecord& record, std::optional<std::int64_t> existing) {
  Statement write(db, existing
                          ? "UPDATE backups SET backend = ?1, backend_hash = ?2, backup_date = ?3, "
                            "filename = ?4, is_deleted = ?5, last_updated = ?6, metadata = ?7, "
                            "size = ?8, tags = ?10 WHERE id = ?11 AND stored_filename = ?9"
                          : "INSERT INTO backups (backend, backend_hash, backup_date, filename, "
                            "is_deleted, last_updated, metadata, size, stored_filename, tags) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  write.bind(1, record.backend);
  if (record.backend_hash.empty()) {
    write.bind_null(2);
  } else {
    write.bind(2, record.backend_hash);
  }
  write.bind(3, record.backup_date);
  write.bind(4, record.filename);
  write.bind(5, std::int64_t{record.is_deleted ? 1 : 0});
  write.bind(6, record.last_updated ? record.last_updated : now());
  const nlohmann::json& meta = record.metadata.is_object() ? record.metadata : nlohmann::json::object();
  // ensure_ascii like Python's json.dumps, so the text is the same kind the
  // Python tool wrote; invalid UTF-8 is replaced rather than thrown on.
  write.bind(7, meta.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
  write.bind(8, record.size);
  write.bind(9, record.stored_filename);
  write.bind(10, record.tags);
  if (existing) write.bind(11, *existing);
  write.run();
  return existing ? *existing : sqlite3_last_insert_rowid(db.handle());
}

// The key-value tables beside `backups` (config, inventory, jobs): one key
// column, one value column. Names are this file's constants, never input.
struct KeyValueTable {
  const char* table;
  const char* key;
  const char* value;
};
constexpr KeyValueTable kConfig{"config", "key", "value"};
constexpr KeyValueTable kJobs{"jobs", "filename", "job_id"};
// Glacier's inventory is written by archive id and read by name.
constexpr KeyValueTable kInventoryById{"inventory", "archive_id", "filename"};
constexpr KeyValueTable kInventoryByName{"inventory", "filename", "archive_id"};

// Sets the value of the row with this key, adding the row when there is
// none. UPDATE then INSERT rather than an upsert: `jobs` (the Python tool's
// schema) has no unique index for ON CONFLICT to use.
void put(Db& db, const KeyValueTable& t, const std::string& key, const std::string& value) {
  WriteTransaction tx(db);
  Statement up(db, std::string("UPDATE ") + t.table + " SET " + t.value + " = ?2 WHERE " + t.key + " = ?1");
  up.bind(1, key).bind(2, value);
  up.run();
  if (db.changes() == 0) {
    Statement ins(db, std::string("INSERT INTO ") + t.table + " (" + t.key + ", " + t.value + ") VALUES (?1, ?2)");
    ins.bind(1, key).bind(2, value);
    ins.run();
  }
  tx.commit();
}

// The value of the newest row with this key.
std::optional<std::string> newest(Db& db, const KeyValueTable& t, const std::string& key) {
  Statement s(db, std::string("SELECT ") + t.value + " FROM " + t.table + " WHERE " + t.key +
                      " = ?1 ORDER BY id DESC LIMIT 1");
  s.bind(1, key);
  if (s.step()) return s.text(0);
  return std::nullopt;
}

void remove_all(Db& db, const KeyValueTable& t, const std::string& key) {
  WriteTransaction tx(db);
  Statement s(db, std::string("DELETE FROM ") + t.table + " WHERE " + t.key + " = ?1");
  s.bind(1, key);
  s.run();
  tx.commit();
}

}  // namespace

std::int64_t Catalog::insert(const BackupRecord& record) {
  std::lock_guard guard(impl_->lock);
  Db& db = impl_->db;
  WriteTransaction tx(db);
  // The original's upsert: the row of the same stored_filename is updated in
  // place (it keeps its id); works without relying on the unique index, which
  // a hand-edited old catalog might lack.
  std::int64_t id = write_row(db, record, id_of(db, record.stored_filename));
  tx.commit();
  return id;
}

std::vector<BackupRecord> Catalog::changed_since(std::int64_t since) const {
  std::lock_guard guard(impl_->lock);
  Statement s(impl_->db, std::string(kColumns) + "WHERE last_updated >= ?1 ORDER BY last_updated, id");
  s.bind(1, since);
  std::vector<BackupRecord> out;
  while (s.step()) out.push_back(read_row(s));
  return out;
}

std::vector<Catalog::Merge> Catalog::merge(const std::vector<BackupRecord>& incoming) {
  std::lock_guard guard(impl_->lock);
  Db& db = impl_->db;
  // One transaction: a commit per row (an fsync each) took 15 s for 10,000.
  WriteTransaction tx(db);
  std::vector<Merge> out;
  out.reserve(incoming.size());
  for (const BackupRecord& row : incoming) {
    std::optional<std::int64_t> existing;
    bool newer = true;
    Statement find(db, "SELECT id, last_updated, is_deleted, backend, backend_hash, "
                       "json_extract(CASE WHEN json_valid(metadata) THEN metadata END, '$.adopted') "
                       "FROM backups WHERE stored_filename = ?1");
    find.bind(1, row.stored_filename);
    if (find.step()) {
      // Another store's backup under the same name (two machines, the same
      // second): the names are unique here, so ours stays.
      if (find.text(3) != row.backend || find.text(4) != row.backend_hash) {
        out.push_back(Merge::Conflict);
        continue;
      }
      existing = find.integer(0);
      const std::int64_t ours = find.integer(1);
      const bool ours_deleted = find.integer(2) != 0;
      // A deletion is final (the object is gone from the store), whatever
      // the two machines' clocks say; a row its backup wrote replaces one
      // adopted from the object alone.
      const bool ours_adopted = find.integer(5) != 0;
      const bool row_adopted = row.metadata.is_object() && row.metadata.value("adopted", false);
      newer = !ours_deleted && (row.is_deleted || row.last_updated > ours || (ours_adopted && !row_adopted));
    }
    if (!newer) {
      out.push_back(Merge::Kept);
      continue;
    }
    write_row(db, row, existing);
    out.push_back(existing ? Merge::Updated : Merge::Inserted);
  }
  tx.commit();
  return out;
}

std::vector<BackupRecord> Catalog::search(const CatalogQuery& query) const {
  std::lock_guard guard(impl_->lock);
  Statement s(impl_->db, std::string(kColumns) + "WHERE " + kScope +
                             "AND (instr(filename, ?3) > 0 OR instr(stored_filename, ?3) > 0) "
                             "AND (?4 OR is_deleted = 0) " + kNewestFirst);
  bind_scope(s, query.backend, query.backend_hashes);
  s.bind(3, query.text);
  s.bind(4, std::int64_t{query.include_deleted ? 1 : 0});
  std::set<std::string> wanted;
  for (const auto& t : query.tags) {
    auto words = split_words(t);
    wanted.insert(words.begin(), words.end());
  }
  std::vector<BackupRecord> out;
  while (s.step()) {
    BackupRecord r = read_row(s);
    if (!wanted.empty()) {
      auto have = split_words(r.tags);
      bool all = true;
      for (const auto& t : wanted) all = all && have.count(t);
      if (!all) continue;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<BackupRecord> Catalog::latest(const std::string& name,
                                            const std::optional<std::string>& backend,
                                            const std::vector<std::string>& backend_hashes) const {
  std::lock_guard guard(impl_->lock);
  auto rows = named(impl_->db, name, backend, backend_hashes, true);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<BackupRecord> Catalog::matches(const std::string& name,
                                           const std::optional<std::string>& backend,
                                           const std::vector<std::string>& backend_hashes) const {
  std::lock_guard guard(impl_->lock);
  return named(impl_->db, name, backend, backend_hashes, false);
}

std::optional<BackupRecord> Catalog::by_stored_filename(const std::string& stored) const {
  std::lock_guard guard(impl_->lock);
  Statement s(impl_->db, std::string(kColumns) + "WHERE stored_filename = ?1");
  s.bind(1, stored);
  if (s.step()) return read_row(s);
  return std::nullopt;
}

void Catalog::mark_deleted(std::int64_t id) {
  std::lock_guard guard(impl_->lock);
  Db& db = impl_->db;
  WriteTransaction tx(db);
  Statement s(db, "UPDATE backups SET is_deleted = 1, last_updated = ?2 WHERE id = ?1");
  s.bind(1, id).bind(2, now());
  s.run();
  if (db.changes() == 0)
    throw Error(ErrorKind::NotFound, "catalog " + db.path() + ": no backup with id " + std::to_string(id));
  tx.commit();
}

std::optional<nlohmann::json> Catalog::config_value(const std::string& key) const {
  std::lock_guard guard(impl_->lock);
  Statement s(impl_->db, "SELECT value FROM config WHERE key = ?1");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  std::string text = s.text(0);
  nlohmann::json v = nlohmann::json::parse(text, nullptr, false);
  // Like the Python JsonField: text that is not JSON is returned as is.
  if (v.is_discarded()) return nlohmann::json(text);
  return v;
}

void Catalog::set_config_value(const std::string& key, const nlohmann::json& value) {
  std::lock_guard guard(impl_->lock);
  put(impl_->db, kConfig, key,
      value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
}

namespace catalog {

struct GlacierTables::Impl {
  explicit Impl(const std::string& path) : db(path) { create_schema(db); }
  Db db;
  std::mutex lock;
};

GlacierTables::GlacierTables(const std::string& path) : impl_(std::make_unique<Impl>(path)) {}

GlacierTables::~GlacierTables() = default;

void GlacierTables::put_inventory(const std::string& filename, const std::string& archive_id) {
  std::lock_guard guard(impl_->lock);
  put(impl_->db, kInventoryById, archive_id, filename);
}

std::optional<std::string> GlacierTables::archive_id(const std::string& filename) const {
  std::lock_guard guard(impl_->lock);
  return newest(impl_->db, kInventoryByName, filename);
}

void GlacierTables::remove_inventory(const std::string& filename) {
  std::lock_guard guard(impl_->lock);
  remove_all(impl_->db, kInventoryByName, filename);
}

std::vector<std::pair<std::string, std::string>> GlacierTables::inventory(const std::string& prefix) const {
  std::lock_guard guard(impl_->lock);
  // substr, not LIKE: names may hold % and _.
  Statement s(impl_->db,
              "SELECT filename, archive_id FROM inventory WHERE substr(filename, 1, length(?1)) = ?1 "
              "ORDER BY filename, id");
  s.bind(1, prefix);
  std::vector<std::pair<std::string, std::string>> out;
  while (s.step()) out.emplace_back(s.text(0), s.text(1));
  return out;
}

void GlacierTables::put_job(const std::string& filename, const std::string& job_id) {
  std::lock_guard guard(impl_->lock);
  put(impl_->db, kJobs, filename, job_id);
}

std::optional<std::string> GlacierTables::job_id(const std::string& filename) const {
  std::lock_guard guard(impl_->lock);
  return newest(impl_->db, kJobs, filename);
}

void GlacierTables::remove_job(const std::string& filename) {
  std::lock_guard guard(impl_->lock);
  remove_all(impl_->db, kJobs, filename);
}

}  // namespace catalog

}  // namespace bakthat
