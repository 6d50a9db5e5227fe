// The catalog kept at the destination (docs/destination-catalog.md): the
// row entries backups and deletions write, and sync_with_destination(),
// which reconciles this machine's catalog with them.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "ops/backup_index.hpp"
#include "ops/context.hpp"
#include "ops/names.hpp"
#include "storage/factory.hpp"
#include "sync/row_log.hpp"
#include "util/parallel_for.hpp"

namespace bakthat::ops {
namespace {

using catalog_sync::Entry;
using catalog_sync::RowLog;

// The log is packed once it holds this many entries, and the packs into
// one once there are this many: a sync then reads few objects whatever the
// number of backups (docs/destination-catalog.md).
constexpr std::size_t kPackAfterEntries = 64;
constexpr std::size_t kPackAfterPacks = 4;
// A pending entry whose object never appeared is dropped after a day: the
// backup that wrote it died before its object was complete.
constexpr std::int64_t kPendingLifetime = 24 * 3600;
constexpr unsigned kReaders = 8;

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// The `config` table's key for what this catalog has read of one store's
// rows: {"mark": the time the last sync began, "read": names already read}.
std::string key_of(Context& ctx) { return "destination_sync " + ctx.destination() + " " + ctx.backend_hash(); }

// A row of this destination, as this machine files it: under this store's
// hash, or the one its catalog already has the row under.
void file_here(Context& ctx, BackupRecord& row) {
  row.id = 0;
  row.backend = ctx.destination();
  const auto& hashes = ctx.lookup_hashes();
  if (auto mine = ctx.catalog().by_stored_filename(row.stored_filename);
      mine && mine->backend == row.backend && std::find(hashes.begin(), hashes.end(), mine->backend_hash) != hashes.end())
    row.backend_hash = mine->backend_hash;
  else
    row.backend_hash = ctx.backend_hash();
}

bool adopted(const BackupRecord& r) { return r.metadata.value("adopted", false); }

// Which of two rows of one backup stands: a deletion, then the row its
// backup wrote over one adopted from the object, then the newer.
bool supersedes(const BackupRecord& a, const BackupRecord& b) {
  if (a.is_deleted != b.is_deleted) return a.is_deleted;
  if (adopted(a) != adopted(b)) return !adopted(a);
  return a.last_updated > b.last_updated;
}

// A stored name as backups are named: NAME.YYYYMMDDHHMMSS, then the
// extensions bakthat and the Python tool give (ops/names.hpp).
std::optional<BackupRecord> row_from_name(const std::string& stored) {
  static const std::regex kStored(R"(^(.+)\.(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\.tgz|\.tar\.gz|\.tar\.zst|\.tar|\.gz|\.zst)?(\.enc)?$)");
  std::smatch m;
  if (!std::regex_match(stored, m, kStored)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[2]) - 1900;
  tm.tm_mon = std::stoi(m[3]) - 1;
  tm.tm_mday = std::stoi(m[4]);
  tm.tm_hour = std::stoi(m[5]);
  tm.tm_min = std::stoi(m[6]);
  tm.tm_sec = std::stoi(m[7]);
  const std::int64_t when = ::timegm(&tm);
  if (utc_stamp(when) != m[2].str() + m[3].str() + m[4].str() + m[5].str() + m[6].str() + m[7].str())
    return std::nullopt;  // not a real date (month 13...)
  BackupRecord r;
  r.filename = m[1];
  r.stored_filename = stored;
  r.backup_date = when;
  NameInfo info = parse_stored_name(stored);
  r.metadata = {{"is_enc", info.encrypted}, {"format", info.layout == Layout::Tar ? "tar" : "stream"}};
  return r;
}

// What an adopted row says: what its name (or pending entry) and the
// object tell, marked adopted (no checksum: verify reads the archive
// through). Its last_updated is its backup date, so that any row its
// backup writes is newer.
BackupRecord adopt(Context& ctx, BackupRecord row, const ObjectInfo& object) {
  file_here(ctx, row);
  row.size = static_cast<std::int64_t>(object.size);
  row.is_deleted = false;
  row.last_updated = row.backup_date;
  row.metadata["adopted"] = true;
  return row;
}

// The objects of the store that are backups of this destination: not
// bakthat's own folder, and on a bucket shared by s3 and glacier, the
// storage classes of each.
bool is_backup_here(const Context& ctx, const ObjectInfo& o) {
  if (storage::is_reserved(o.name)) return false;
  const bool archived = o.storage_class == "GLACIER" || o.storage_class == "DEEP_ARCHIVE";
  if (ctx.destination() == "s3") return !archived;
  if (ctx.destination() == "glacier") return archived || o.storage_class.empty();
  return true;
}

struct State {
  std::optional<std::int64_t> mark;
  std::set<std::string> read;
};

State load_state(Context& ctx) {
  State s;
  auto v = ctx.catalog().config_value(key_of(ctx));
  if (!v || !v->is_object()) return s;
  if (auto m = v->find("mark"); m != v->end() && m->is_number_integer()) s.mark = m->get<std::int64_t>();
  if (auto r = v->find("read"); r != v->end() && r->is_array())
    for (const auto& n : *r)
      if (n.is_string()) s.read.insert(n.get<std::string>());
  return s;
}

// Reads the named objects, kReaders at once; a name gone meanwhile
// (another machine packed it) is left out and counted in `gone`.
std::map<std::string, std::vector<Entry>> read_all(Storage& rows, const std::vector<std::string>& names,
                                                   std::size_t& gone) {
  std::vector<std::optional<std::vector<Entry>>> read(names.size());
  RowLog log(rows);
  util::parallel_for(names.size(), kReaders, [&](std::size_t i) {
    try {
      read[i] = log.read(names[i]);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound) throw;
    }
  });
  std::map<std::string, std::vector<Entry>> out;
  gone = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (read[i]) out.emplace(names[i], std::move(*read[i]));
    else ++gone;
  }
  return out;
}

// The test hooks of the kill trials (tests/e2e/test_destination_catalog.py),
// not settings: unset outside the tests. SECONDS of
//   BAKTHAT_TEST_PAUSE_BEFORE_ROW: a backup waits between its complete
//     object and its row entry, the window a kill must not turn into a lost
//     backup;
//   BAKTHAT_TEST_PAUSE_BEFORE_REMOVAL: a deletion waits between its row
//     marked deleted and the object's removal.
void test_pause(const char* variable) {
  const char* v = std::getenv(variable);
  if (v && *v) std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(std::atof(v) * 1000)));
}

// The entry's name in the row log, "" when none was written.
std::string append(Context& ctx, const Entry& entry) {
  Storage* rows = nullptr;
  try {
    rows = ctx.rows();
    if (!rows) return {};
    return RowLog(*rows).append(entry);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Interrupted) throw;
    ctx.reporter().warning("the destination's catalog has no " + std::string(entry.pending ? "note" : "row") +
                           " of " + entry.record.stored_filename + " yet (" + e.what() +
                           "): the next `bakthat sync` sends it");
    return {};
  }
}

}  // namespace

std::string destination_state_key(Context& ctx) { return key_of(ctx); }

std::string note_pending(Context& ctx, const BackupRecord& row) { return append(ctx, {true, row}); }

void drop_entry(Context& ctx, const std::string& entry) noexcept {
  if (entry.empty()) return;
  try {
    if (Storage* rows = ctx.rows()) rows->remove_many({entry});
  } catch (...) {
    // Left for a sync, which drops a note a day old whose object never came.
  }
}

std::string note_row(Context& ctx, const BackupRecord& row) {
  test_pause("BAKTHAT_TEST_PAUSE_BEFORE_ROW");
  return append(ctx, {false, row});
}

void note_checksum(Context& ctx, BackupRecord row, const std::string& sha256) {
  if (sha256.empty() || !row.metadata.value("sha256", std::string()).empty()) return;
  row.metadata["sha256"] = sha256;
  note_update(ctx, row);
}

void note_update(Context& ctx, BackupRecord row) {
  row.last_updated = std::max(now(), row.last_updated + 1);  // newer than the row it replaces
  ctx.catalog().merge({row});
  append(ctx, {false, row});
}

bool note_deletion(Context& ctx, const BackupRecord& row) {
  BackupRecord tombstone = row;
  tombstone.is_deleted = true;
  tombstone.last_updated = now();
  return !append(ctx, {false, tombstone}).empty() || !ctx.rows();
}

void delete_backup(Context& ctx, BackupRecord& record) {
  // The store reached first: one that cannot be (credentials, network)
  // fails before anything is changed.
  Storage& store = ctx.storage();
  const bool present = store.stat(record.stored_filename).has_value();
  const bool tombstone = note_deletion(ctx, record);
  ctx.catalog().mark_deleted(record.id);
  record.is_deleted = true;
  record.last_updated = now();
  test_pause("BAKTHAT_TEST_PAUSE_BEFORE_REMOVAL");
  if (present) {
    try {
      store.remove(record.stored_filename);
      remove_index(ctx, record.stored_filename);
      return;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted) throw;
      if (e.kind() != ErrorKind::NotFound)
        throw Error(e.kind(), std::string(e.what()) + " (" + record.stored_filename + " is deleted from the catalog; " +
                                  (tombstone && ctx.rows() ? "the next `bakthat sync` removes it from the store)"
                                                           : "it stays in the store)"));
    }
  }
  remove_index(ctx, record.stored_filename);
  ctx.reporter().warning(record.stored_filename + " was already gone from the store");
}

SyncReport sync_with_destination(Context& ctx, const DestinationScan& scan) {
  Storage* rows = ctx.rows();
  if (!rows)
    throw Error(ErrorKind::Config, "the glacier destination with a vault keeps its catalog rows in s3_bucket: add "
                                   "s3_bucket to the profile (or a `sync:` server)");
  Catalog& catalog = ctx.catalog();
  RowLog log(*rows);
  State state = load_state(ctx);
  const bool first = !state.mark;
  const std::int64_t started = now();

  RowLog::Listing listing = log.list();
  std::vector<std::string> unread;
  for (const auto* names : {&listing.packs, &listing.logs})
    for (const auto& n : *names)
      if (!state.read.contains(n)) unread.push_back(n);
  std::size_t gone = 0;
  auto entries = read_all(*rows, unread, gone);

  // The destination's rows read now, one per backup, and the pending notes.
  std::map<std::string, BackupRecord> theirs;
  std::vector<std::pair<std::string, BackupRecord>> pending;  // (entry name, row)
  std::set<std::string> tombstoned;  // by a log entry (a pack's are carried out)
  for (auto& [name, list] : entries)
    for (auto& e : list) {
      if (e.pending) {
        pending.emplace_back(name, std::move(e.record));
        continue;
      }
      if (e.record.is_deleted && name.starts_with(catalog_sync::kLogPrefix)) tombstoned.insert(e.record.stored_filename);
      auto [it, fresh] = theirs.try_emplace(e.record.stored_filename, e.record);
      if (!fresh && supersedes(e.record, it->second)) it->second = std::move(e.record);
    }

  SyncReport report;
  std::vector<BackupRecord> incoming;
  for (auto& [stored, row] : theirs) {
    file_here(ctx, row);
    incoming.push_back(row);
  }
  report.received = incoming.size();
  bool conflicts = false;
  auto merged = catalog.merge(incoming);
  for (std::size_t i = 0; i < merged.size(); ++i) {
    if (merged[i] == Catalog::Merge::Inserted) ++report.inserted;
    if (merged[i] == Catalog::Merge::Updated) ++report.updated;
    if (merged[i] == Catalog::Merge::Conflict) {
      conflicts = true;
      ctx.reporter().warning("not taken from the destination: " + incoming[i].stored_filename +
                             ", this catalog has another store's backup of that name");
    }
  }

  // A deletion that was decided but whose object is still there (the
  // deleting command was killed, or the removal failed) is finished.
  for (const auto& stored : tombstoned) {
    try {
      ctx.storage().remove(stored);
      ctx.reporter().message("Deleted " + stored + ": a deletion that was not finished");
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted) throw;
      if (e.kind() != ErrorKind::NotFound) {
        ctx.reporter().warning("could not finish the deletion of " + stored + ": " + e.what());
        continue;  // the index stays while its backup does
      }
    }
    remove_index(ctx, stored);
  }

  std::vector<std::string> written;  // entries this sync appended
  std::set<std::string> sent;        // their backups' stored names
  auto adopt_object = [&](BackupRecord row, const ObjectInfo& object) {
    BackupRecord r = adopt(ctx, std::move(row), object);
    catalog.merge({r});
    ++report.adopted;
    ctx.reporter().message("Adopted " + r.stored_filename + " (" + std::to_string(r.size) + " bytes): it had no row");
    try {
      written.push_back(log.append({false, r}));
      sent.insert(r.stored_filename);
      ++report.sent;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted) throw;
      ctx.reporter().warning("the destination's catalog has no row of " + r.stored_filename + " yet (" + e.what() + ")");
    }
  };

  // Pending notes: a backup that has its row is done; one whose object is
  // complete but has no row was killed in between, and is adopted; one
  // without an object is still being written, or died before it finished.
  std::set<std::string> unresolved;
  for (auto& [name, row] : pending) {
    if (catalog.by_stored_filename(row.stored_filename)) continue;
    if (auto object = ctx.storage().stat(row.stored_filename)) {
      adopt_object(row, *object);
    } else if (started - row.backup_date < kPendingLifetime) {
      unresolved.insert(name);
    }
  }

  // Objects without a row: the Python tool's, copied in by hand.
  if (first || scan.all || scan.adopt_prefix) {
    for (const auto& object : ctx.storage().list(scan.adopt_prefix.value_or(""))) {
      if (!is_backup_here(ctx, object) || catalog.by_stored_filename(object.name)) continue;
      if (auto row = row_from_name(object.name)) adopt_object(std::move(*row), object);
    }
  }

  // What the destination lacks: every row of this store on the first sync
  // (backups made before it kept rows), else those changed since the last
  // one began (a row entry that failed), unless what was just read says
  // the same.
  CatalogQuery q;
  q.backend = ctx.destination();
  q.backend_hashes = ctx.lookup_hashes();
  q.include_deleted = true;
  for (const auto& r : catalog.search(q)) {
    if (!first && r.last_updated < *state.mark) continue;
    if (sent.contains(r.stored_filename)) continue;
    auto t = theirs.find(r.stored_filename);
    // A deletion is final, whenever it was recorded.
    if (t != theirs.end() && t->second.is_deleted == r.is_deleted &&
        (r.is_deleted || t->second.last_updated == r.last_updated))
      continue;
    written.push_back(log.append({false, r}));
    ++report.sent;
  }

  // Packing: one pack of every row of this store replaces the packs and
  // entries listed (the notes of backups still being written stay).
  std::set<std::string> read_now;
  if (!conflicts && gone == 0 &&
      (listing.logs.size() + written.size() >= kPackAfterEntries || listing.packs.size() >= kPackAfterPacks)) {
    read_now.insert(log.write_pack(catalog.search(q)));
    std::vector<std::string> replaced = written;
    for (const auto* names : {&listing.packs, &listing.logs})
      for (const auto& n : *names)
        if (!unresolved.contains(n)) replaced.push_back(n);
    log.drop(replaced);
  } else {
    for (const auto* names : {&listing.packs, &listing.logs})
      for (const auto& n : *names)
        if (!unresolved.contains(n) && (state.read.contains(n) || entries.contains(n))) read_now.insert(n);
    read_now.insert(written.begin(), written.end());
  }
  catalog.set_config_value(key_of(ctx), {{"mark", started}, {"read", read_now}});
  return report;
}

}  // namespace bakthat::ops
