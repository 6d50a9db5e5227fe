#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "bakthat/catalog.hpp"
#include "bakthat/errors.hpp"
#include "catalog/glacier_tables.hpp"

namespace fs = std::filesystem;
using namespace bakthat;

namespace {

// The statements the Python bakthat 0.6 (peewee 2) created, as SQLite keeps
// them in sqlite_master.
const std::vector<std::pair<std::string, std::string>> kExpectedSchema = {
    {"backups",
     R"(CREATE TABLE "backups" ("id" INTEGER NOT NULL PRIMARY KEY, "backend" VARCHAR(255) NOT NULL, "backend_hash" VARCHAR(255), "backup_date" INTEGER NOT NULL, "filename" TEXT NOT NULL, "is_deleted" SMALLINT NOT NULL, "last_updated" INTEGER NOT NULL, "metadata" VARCHAR(255) NOT NULL, "size" INTEGER NOT NULL, "stored_filename" TEXT NOT NULL, "tags" VARCHAR(255) NOT NULL))"},
    {"backups_backend", R"(CREATE INDEX "backups_backend" ON "backups" ("backend"))"},
    {"backups_backend_hash", R"(CREATE INDEX "backups_backend_hash" ON "backups" ("backend_hash"))"},
    {"backups_backup_date", R"(CREATE INDEX "backups_backup_date" ON "backups" ("backup_date"))"},
    {"backups_filename", R"(CREATE INDEX "backups_filename" ON "backups" ("filename"))"},
    {"backups_stored_filename",
     R"(CREATE UNIQUE INDEX "backups_stored_filename" ON "backups" ("stored_filename"))"},
    {"jobs",
     R"(CREATE TABLE "jobs" ("id" INTEGER NOT NULL PRIMARY KEY, "filename" VARCHAR(255) NOT NULL, "job_id" VARCHAR(255) NOT NULL))"},
    {"jobs_filename", R"(CREATE INDEX "jobs_filename" ON "jobs" ("filename"))"},
    {"inventory",
     R"(CREATE TABLE "inventory" ("id" INTEGER NOT NULL PRIMARY KEY, "archive_id" VARCHAR(255) NOT NULL, "filename" VARCHAR(255) NOT NULL))"},
    {"inventory_archive_id", R"(CREATE UNIQUE INDEX "inventory_archive_id" ON "inventory" ("archive_id"))"},
    {"inventory_filename", R"(CREATE INDEX "inventory_filename" ON "inventory" ("filename"))"},
    {"config",
     R"(CREATE TABLE "config" ("id" INTEGER NOT NULL PRIMARY KEY, "key" VARCHAR(255) NOT NULL, "value" VARCHAR(255) NOT NULL))"},
    {"config_key", R"(CREATE UNIQUE INDEX "config_key" ON "config" ("key"))"},
    {"history",
     R"(CREATE TABLE "history" ("id" INTEGER NOT NULL PRIMARY KEY, "data" VARCHAR(255) NOT NULL, "ts" INTEGER NOT NULL, "action" VARCHAR(255) NOT NULL, "model" VARCHAR(255) NOT NULL, "pk" VARCHAR(255) NOT NULL))"},
    {"history_ts", R"(CREATE INDEX "history_ts" ON "history" ("ts"))"},
    {"history_action", R"(CREATE INDEX "history_action" ON "history" ("action"))"},
    {"history_model", R"(CREATE INDEX "history_model" ON "history" ("model"))"},
    {"history_pk", R"(CREATE INDEX "history_pk" ON "history" ("pk"))"},
};

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bakthat-catalog-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/bakthat.sqlite";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static BackupRecord record(const std::string& filename, const std::string& stored, std::int64_t date,
                             const std::string& tags = "", const std::string& backend = "local") {
    BackupRecord r;
    r.backend = backend;
    r.backend_hash = "hash-" + backend;
    r.backup_date = date;
    r.filename = filename;
    r.last_updated = date;
    r.metadata = {{"is_enc", false}, {"client", "host"}};
    r.size = 42;
    r.stored_filename = stored;
    r.tags = tags;
    return r;
  }

  // Rows of a raw query, as text, through the plain C API.
  std::vector<std::vector<std::string>> sql(const std::string& query) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    std::vector<std::vector<std::string>> rows;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        auto t = sqlite3_column_text(st, i);
        row.push_back(t ? reinterpret_cast<const char*>(t) : "<null>");
      }
      rows.push_back(row);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rows;
  }

  static std::vector<std::string> stored_names(const std::vector<BackupRecord>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs) out.push_back(r.stored_filename);
    return out;
  }

  std::string dir_, path_;
};

using Names = std::vector<std::string>;

CatalogQuery text(const std::string& t) {
  CatalogQuery q;
  q.text = t;
  return q;
}

}  // namespace

TEST_F(CatalogTest, SchemaIsThePythonToolsSchema) {
  { Catalog c(path_); }
  auto rows = sql("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid");
  ASSERT_EQ(rows.size(), kExpectedSchema.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][0], kExpectedSchema[i].first);
    EXPECT_EQ(rows[i][1], kExpectedSchema[i].second);
  }
  EXPECT_EQ(sql("PRAGMA journal_mode")[0][0], "wal");
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Opening again changes nothing.
  { Catalog c(path_); }
  EXPECT_EQ(sql("SELECT count(*) FROM sqlite_master")[0][0], std::to_string(kExpectedSchema.size()));
}

TEST_F(CatalogTest, CreatesItsDirectory) {
  Catalog c(dir_ + "/a/b/cat.sqlite");
  EXPECT_TRUE(fs::exists(dir_ + "/a/b/cat.sqlite"));
  EXPECT_EQ(c.path(), dir_ + "/a/b/cat.sqlite");
}

TEST_F(CatalogTest, InsertAndReadBack) {
  Catalog c(path_);
  BackupRecord r = record("mydir", "mydir.20240101120000.tgz", 1704110400, "a b");
  r.metadata["sha256"] = "abc";
  r.metadata["name"] = "é";
  std::int64_t id = c.insert(r);
  EXPECT_GT(id, 0);
  auto got = c.by_stored_filename("mydir.20240101120000.tgz");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, id);
  EXPECT_EQ(got->backend, "local");
  EXPECT_EQ(got->backend_hash, "hash-local");
  EXPECT_EQ(got->backup_date, 1704110400);
  EXPECT_EQ(got->filename, "mydir");
  EXPECT_FALSE(got->is_deleted);
  EXPECT_EQ(got->last_updated, 1704110400);
  EXPECT_EQ(got->metadata, r.metadata);
  EXPECT_EQ(got->size, 42);
  EXPECT_EQ(got->tags, "a b");
  EXPECT_FALSE(c.by_stored_filename("nope"));
  // Stored as the Python tool's json.dumps would: ASCII only, 0/1 booleans.
  auto raw = sql("SELECT metadata, is_deleted FROM backups");
  EXPECT_NE(raw[0][0].find("\\u00e9"), std::string::npos) << raw[0][0];
  EXPECT_EQ(raw[0][1], "0");
}

TEST_F(CatalogTest, InsertReplacesTheSameStoredFilename) {
  Catalog c(path_);
  std::int64_t id = c.insert(record("a", "a.1.tgz", 100));
  BackupRecord again = record("a", "a.1.tgz", 200, "new");
  again.size = 7;
  EXPECT_EQ(c.insert(again), id);
  auto all = c.search({});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].size, 7);
  EXPECT_EQ(all[0].tags, "new");
  EXPECT_EQ(all[0].backup_date, 200);
}

TEST_F(CatalogTest, ChangedSinceIncludesDeletedRowsOldestChangeFirst) {
  Catalog c(path_);
  c.insert(record("a", "a.1.tgz", 100));
  c.insert(record("b", "b.1.tgz", 300, "", "s3"));
  BackupRecord gone = record("c", "c.1.tgz", 200, "", "s3");
  gone.is_deleted = true;
  c.insert(gone);
  EXPECT_EQ(stored_names(c.changed_since(0)), (Names{"a.1.tgz", "c.1.tgz", "b.1.tgz"}));
  EXPECT_EQ(stored_names(c.changed_since(200)), (Names{"c.1.tgz", "b.1.tgz"}));
  EXPECT_TRUE(c.changed_since(301).empty());
}

TEST_F(CatalogTest, MergeTakesNewRowsAndNewerOnesAndNeverUndoesADeletion) {
  Catalog c(path_);
  auto merge1 = [&](const BackupRecord& r) { return c.merge({r}).at(0); };
  const std::int64_t mine = c.insert(record("a", "a.1.tgz", 100, "mine", "s3"));

  BackupRecord theirs = record("b", "b.1.tgz", 50, "theirs", "s3");
  theirs.id = mine;  // another machine's id: ignored
  EXPECT_EQ(merge1(theirs), Catalog::Merge::Inserted);
  auto b = c.by_stored_filename("b.1.tgz");
  ASSERT_TRUE(b);
  EXPECT_NE(b->id, mine);
  EXPECT_EQ(b->last_updated, 50);  // the other machine's time, kept
  EXPECT_EQ(b->tags, "theirs");

  BackupRecord older = record("a", "a.1.tgz", 100, "older", "s3");
  older.last_updated = 99;
  EXPECT_EQ(merge1(older), Catalog::Merge::Kept);
  BackupRecord same = record("a", "a.1.tgz", 100, "same", "s3");
  EXPECT_EQ(merge1(same), Catalog::Merge::Kept);
  EXPECT_EQ(c.by_stored_filename("a.1.tgz")->tags, "mine");

  BackupRecord newer = record("a", "a.1.tgz", 100, "newer", "s3");
  newer.last_updated = 101;
  EXPECT_EQ(merge1(newer), Catalog::Merge::Updated);
  EXPECT_EQ(c.by_stored_filename("a.1.tgz")->tags, "newer");
  EXPECT_EQ(c.by_stored_filename("a.1.tgz")->id, mine);

  // A deletion wins even when its machine's clock is behind...
  BackupRecord deleted = record("a", "a.1.tgz", 100, "newer", "s3");
  deleted.is_deleted = true;
  deleted.last_updated = 10;
  EXPECT_EQ(merge1(deleted), Catalog::Merge::Updated);
  EXPECT_TRUE(c.by_stored_filename("a.1.tgz")->is_deleted);
  // ... and nothing brings the row back.
  BackupRecord alive = record("a", "a.1.tgz", 100, "alive", "s3");
  alive.last_updated = 1000;
  EXPECT_EQ(merge1(alive), Catalog::Merge::Kept);
  EXPECT_TRUE(c.by_stored_filename("a.1.tgz")->is_deleted);
  EXPECT_EQ(c.search({}).size(), 1u);  // only b.1.tgz is live

  // Several at once, each decided on its own.
  BackupRecord fresh = record("d", "d.1.tgz", 5, "", "s3");
  EXPECT_EQ(c.merge({fresh, alive, fresh}),
            (std::vector<Catalog::Merge>{Catalog::Merge::Inserted, Catalog::Merge::Kept, Catalog::Merge::Kept}));
  EXPECT_TRUE(c.merge({}).empty());

  // Another store's backup of the same name (machines backing up in the
  // same second) does not replace ours.
  BackupRecord elsewhere = record("d", "d.1.tgz", 5, "", "swift");
  elsewhere.last_updated = 2000;
  EXPECT_EQ(merge1(elsewhere), Catalog::Merge::Conflict);
  EXPECT_EQ(c.by_stored_filename("d.1.tgz")->backend, "s3");
  BackupRecord other_bucket = record("d", "d.1.tgz", 5, "", "s3");
  other_bucket.backend_hash = "another bucket";
  other_bucket.last_updated = 2000;
  EXPECT_EQ(merge1(other_bucket), Catalog::Merge::Conflict);
  EXPECT_EQ(c.by_stored_filename("d.1.tgz")->backend_hash, "hash-s3");
}

TEST_F(CatalogTest, MergeReplacesAnAdoptedRowWithTheBackupsOwn) {
  Catalog c(path_);
  // Adopted from the object alone (a sync ran between the object and its
  // row): dated as the backup, as the backup's own row may be.
  BackupRecord adopted = record("a", "a.1.tgz", 100, "", "s3");
  adopted.metadata = {{"adopted", true}};
  c.insert(adopted);
  BackupRecord own = record("a", "a.1.tgz", 100, "t", "s3");
  own.metadata = {{"sha256", "00"}};
  EXPECT_EQ(c.merge({own}).at(0), Catalog::Merge::Updated);
  EXPECT_EQ(c.by_stored_filename("a.1.tgz")->metadata.value("sha256", ""), "00");
  // Never the reverse.
  adopted.last_updated = 100;
  EXPECT_EQ(c.merge({adopted}).at(0), Catalog::Merge::Kept);
}

TEST_F(CatalogTest, DeeplyNestedMetadataIsRefusedNotRecursedInto) {
  // What a hostile sync server may send: 200 KB nested 100,000 deep, as an
  // object and as the text the Python tool's JsonField hands over. Copying
  // or dumping it would overflow the stack.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string row_head =
      R"({"backend": "s3", "backup_date": 1, "filename": "a", "is_deleted": 0, "last_updated": 1, "size": 1, )"
      R"("stored_filename": "a.1", "metadata": )";
  for (const std::string& meta : {R"({"x": )" + deep + "}", nlohmann::json(R"({"x": )" + deep + "}").dump()}) {
    const nlohmann::json row = nlohmann::json::parse(row_head + meta + "}");
    try {
      row.get<BackupRecord>();
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
      EXPECT_NE(std::string(e.what()).find("nested too deeply"), std::string::npos) << e.what();
    }
  }
  // Depth up to the bound is data like any other.
  nlohmann::json fine = nlohmann::json::parse(row_head + R"({"x": )" + std::string(60, '[') + std::string(60, ']') + "}}");
  EXPECT_EQ(fine.get<BackupRecord>().stored_filename, "a.1");
}

TEST_F(CatalogTest, RowsAsJson) {
  BackupRecord r = record("a", "a.1.tgz", 100, "x y", "s3");
  r.id = 7;
  r.metadata["sha256"] = "abc";
  nlohmann::json j = r;
  EXPECT_EQ(j["stored_filename"], "a.1.tgz");
  EXPECT_EQ(j["is_deleted"], false);
  EXPECT_EQ(j["metadata"]["sha256"], "abc");
  BackupRecord back = j.get<BackupRecord>();
  EXPECT_EQ(nlohmann::json(back), j);

  // What other writers send: tags as a list, 0/1, metadata as text, floats.
  nlohmann::json other = {{"backend", "s3"},          {"backend_hash", nullptr}, {"backup_date", 100.0},
                          {"filename", "a"},          {"is_deleted", 1},         {"last_updated", 200},
                          {"metadata", R"({"is_enc": true})"}, {"size", 5}, {"stored_filename", "a.2.tgz"},
                          {"tags", {"p", "q"}}};
  BackupRecord o = other.get<BackupRecord>();
  EXPECT_EQ(o.backup_date, 100);
  EXPECT_TRUE(o.is_deleted);
  EXPECT_EQ(o.metadata["is_enc"], true);
  EXPECT_EQ(o.tags, "p q");
  EXPECT_EQ(o.backend_hash, "");
  EXPECT_EQ(o.id, 0);

  auto error = [](nlohmann::json j) -> std::string {
    try {
      j.get<BackupRecord>();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
      return e.what();
    }
    ADD_FAILURE() << "no error for " << j.dump();
    return "";
  };
  nlohmann::json bad = other;
  bad.erase("stored_filename");
  EXPECT_EQ(error(bad), "backup row: 'stored_filename' must be present");
  bad = other;
  bad["size"] = "5";
  EXPECT_EQ(error(bad), "backup row: 'size' must be a whole number");
  bad = other;
  bad["backup_date"] = 1.5;
  EXPECT_EQ(error(bad), "backup row: 'backup_date' must be a whole number");
  bad = other;
  bad["metadata"] = "[1]";
  EXPECT_EQ(error(bad), "backup row: 'metadata' must be a JSON object");
  EXPECT_EQ(error(nlohmann::json::array()), "backup row: not a JSON object");
}

TEST_F(CatalogTest, EmptyBackendHashIsNull) {
  Catalog c(path_);
  BackupRecord r = record("a", "a.1.tgz", 100);
  r.backend_hash.clear();
  c.insert(r);
  EXPECT_EQ(sql("SELECT backend_hash FROM backups")[0][0], "<null>");
  EXPECT_EQ(c.search({})[0].backend_hash, "");
}

TEST_F(CatalogTest, SearchTextBackendAndOrder) {
  Catalog c(path_);
  c.insert(record("photos", "photos.1.tgz", 100));
  c.insert(record("photos", "photos.3.tgz", 300));
  c.insert(record("photos", "photos.2.tgz", 200, "", "s3"));
  c.insert(record("docs", "docs.1.tgz", 150));
  EXPECT_EQ(stored_names(c.search({})), (Names{"photos.3.tgz", "photos.2.tgz", "docs.1.tgz", "photos.1.tgz"}));
  EXPECT_EQ(stored_names(c.search(text("hot"))), (Names{"photos.3.tgz", "photos.2.tgz", "photos.1.tgz"}));
  EXPECT_EQ(stored_names(c.search(text(".1."))), (Names{"docs.1.tgz", "photos.1.tgz"}));
  EXPECT_EQ(stored_names(c.search(text("HOT"))), Names{});  // case-sensitive, as the original's GLOB
  CatalogQuery q;
  q.backend = "s3";
  EXPECT_EQ(stored_names(c.search(q)), Names{"photos.2.tgz"});
  q.backend_hashes = {"hash-local"};
  EXPECT_EQ(stored_names(c.search(q)), Names{});
  q = {};
  q.backend_hashes = {"hash-local"};
  EXPECT_EQ(c.search(q).size(), 3u);
  q.backend_hashes = {"hash-local", "hash-s3"};  // several stores: any of them
  EXPECT_EQ(c.search(q).size(), 4u);
  q.backend_hashes = {"hash-elsewhere"};
  EXPECT_EQ(c.search(q).size(), 0u);
}

TEST_F(CatalogTest, SameDateNewestIdFirst) {
  Catalog c(path_);
  c.insert(record("x", "x.a", 100));
  c.insert(record("x", "x.b", 100));
  EXPECT_EQ(stored_names(c.search({})), (Names{"x.b", "x.a"}));
  EXPECT_EQ(c.latest("x", std::nullopt, {})->stored_filename, "x.b");
}

TEST_F(CatalogTest, SearchTextIsLiteral) {
  Catalog c(path_);
  c.insert(record("100%_done", "100%_done.1.tgz", 100));
  c.insert(record("100xxdone", "100xxdone.1.tgz", 200));
  c.insert(record("a*b?[c]", "a*b?[c].1.tgz", 300));
  EXPECT_EQ(stored_names(c.search(text("%_"))), Names{"100%_done.1.tgz"});
  EXPECT_EQ(stored_names(c.search(text("0%"))), Names{"100%_done.1.tgz"});
  EXPECT_EQ(stored_names(c.search(text("*"))), Names{"a*b?[c].1.tgz"});
  EXPECT_EQ(stored_names(c.search(text("[c]"))), Names{"a*b?[c].1.tgz"});
  EXPECT_EQ(stored_names(c.matches("100%", std::nullopt, {})), Names{"100%_done.1.tgz"});
  EXPECT_EQ(stored_names(c.matches("100_", std::nullopt, {})), Names{});
  EXPECT_EQ(c.latest("100_", std::nullopt, {}), std::nullopt);
  // Quotes and SQL in user text are only text.
  EXPECT_EQ(stored_names(c.search(text("'; DROP TABLE backups; --"))), Names{});
  EXPECT_EQ(c.search({}).size(), 3u);
}

TEST_F(CatalogTest, TagsMatchWholeWords) {
  Catalog c(path_);
  c.insert(record("a", "a.1", 100, "daily  prod"));
  c.insert(record("b", "b.1", 200, "daily test"));
  c.insert(record("c", "c.1", 300, "production"));
  CatalogQuery q;
  q.tags = {"daily"};
  EXPECT_EQ(stored_names(c.search(q)), (Names{"b.1", "a.1"}));
  q.tags = {"daily", "prod"};
  EXPECT_EQ(stored_names(c.search(q)), Names{"a.1"});
  q.tags = {"daily prod"};  // one string of several tags
  EXPECT_EQ(stored_names(c.search(q)), Names{"a.1"});
  q.tags = {"prod"};
  EXPECT_EQ(stored_names(c.search(q)), Names{"a.1"});
  q.tags = {"nothing"};
  EXPECT_EQ(stored_names(c.search(q)), Names{});
}

TEST_F(CatalogTest, LatestAndMatches) {
  Catalog c(path_);
  c.insert(record("web", "web.20240101000000.tgz", 100));
  c.insert(record("web", "web.20240102000000.tgz", 200));
  c.insert(record("website", "website.20240103000000.tgz", 300));
  c.insert(record("web", "web.20240104000000.tgz", 400, "", "s3"));
  EXPECT_EQ(c.latest("web", std::nullopt, {})->stored_filename, "web.20240104000000.tgz");
  // Backups named exactly "web" win over the newer "website".
  EXPECT_EQ(c.latest("web", std::string("local"), {})->stored_filename, "web.20240102000000.tgz");
  EXPECT_EQ(c.latest("web", std::string("local"), {"hash-local"})->stored_filename,
            "web.20240102000000.tgz");
  EXPECT_EQ(c.latest("webs", std::string("local"), {})->stored_filename, "website.20240103000000.tgz");
  EXPECT_FALSE(c.latest("web", std::string("local"), {"other-hash"}));
  // An exact stored name wins over newer prefix matches.
  EXPECT_EQ(c.latest("web.20240101000000.tgz", std::nullopt, {})->stored_filename,
            "web.20240101000000.tgz");
  EXPECT_EQ(c.latest("web.2024010", std::nullopt, {})->stored_filename, "web.20240104000000.tgz");
  EXPECT_FALSE(c.latest("eb", std::nullopt, {}));
  // A rotation of "web" never thins out "website"; a prefix that names no
  // backup exactly still takes in every backup it starts.
  EXPECT_EQ(stored_names(c.matches("web", std::string("local"), {})),
            (Names{"web.20240102000000.tgz", "web.20240101000000.tgz"}));
  EXPECT_EQ(stored_names(c.matches("we", std::string("local"), {})),
            (Names{"website.20240103000000.tgz", "web.20240102000000.tgz", "web.20240101000000.tgz"}));
  EXPECT_EQ(stored_names(c.matches("website.20240103000000.tgz", std::nullopt, {})),
            Names{"website.20240103000000.tgz"});
  EXPECT_EQ(stored_names(c.matches("web.", std::nullopt, {})),
            (Names{"web.20240104000000.tgz", "web.20240102000000.tgz", "web.20240101000000.tgz"}));
}

TEST_F(CatalogTest, LatestAndMatchesAcrossSeveralStores) {
  // A store reached under two hashes (the one rows get now, and one an
  // earlier version wrote): one ranking over both, other stores left out.
  Catalog c(path_);
  auto row = [&](const char* filename, const char* stored, std::int64_t date, const char* hash) {
    BackupRecord r = record(filename, stored, date, "", "s3");
    r.backend_hash = hash;
    c.insert(r);
  };
  row("web", "web.1.tgz", 100, "legacy");
  row("web", "web.3.tgz", 300, "current");
  row("webapp", "webapp.4.tgz", 400, "current");
  row("web", "web.5.tgz", 500, "someone-else");
  const std::vector<std::string> both = {"current", "legacy"};
  EXPECT_EQ(c.latest("web", std::string("s3"), both)->stored_filename, "web.3.tgz");
  EXPECT_EQ(stored_names(c.matches("web", std::string("s3"), both)), (Names{"web.3.tgz", "web.1.tgz"}));
  EXPECT_EQ(stored_names(c.matches("we", std::string("s3"), both)),
            (Names{"webapp.4.tgz", "web.3.tgz", "web.1.tgz"}));
  EXPECT_EQ(c.latest("web.1.tgz", std::string("s3"), both)->stored_filename, "web.1.tgz");
  EXPECT_EQ(stored_names(c.matches("web", std::string("s3"), {"legacy"})), Names{"web.1.tgz"});
  EXPECT_EQ(c.latest("web", std::nullopt, {})->stored_filename, "web.5.tgz");
}

TEST_F(CatalogTest, MarkDeleted) {
  Catalog c(path_);
  std::int64_t old_id = c.insert(record("a", "a.1", 100));
  c.insert(record("a", "a.2", 200));
  std::int64_t before = time(nullptr);
  c.mark_deleted(old_id);
  auto row = c.by_stored_filename("a.1");
  ASSERT_TRUE(row);
  EXPECT_TRUE(row->is_deleted);
  EXPECT_GE(row->last_updated, before);
  EXPECT_EQ(stored_names(c.search({})), Names{"a.2"});
  CatalogQuery q;
  q.include_deleted = true;
  EXPECT_EQ(stored_names(c.search(q)), (Names{"a.2", "a.1"}));
  EXPECT_EQ(stored_names(c.matches("a", std::nullopt, {})), Names{"a.2"});
  // A deleted row is not found even by its exact stored name.
  EXPECT_FALSE(c.latest("a.1", std::nullopt, {}) &&
               c.latest("a.1", std::nullopt, {})->stored_filename == "a.1");
  EXPECT_EQ(sql("SELECT is_deleted FROM backups WHERE id = " + std::to_string(old_id))[0][0], "1");
  try {
    c.mark_deleted(9999);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
}

TEST_F(CatalogTest, Config) {
  Catalog c(path_);
  EXPECT_FALSE(c.config_value("k"));
  c.set_config_value("k", {{"a", 1}});
  c.set_config_value("k", 5);
  EXPECT_EQ(*c.config_value("k"), 5);
  EXPECT_EQ(sql("SELECT count(*) FROM config")[0][0], "1");
}

TEST_F(CatalogTest, GlacierInventoryAndJobs) {
  bakthat::catalog::GlacierTables c(path_);
  EXPECT_FALSE(c.archive_id("f.tgz"));
  c.put_inventory("f.tgz", "ARCH1");
  EXPECT_EQ(c.archive_id("f.tgz"), "ARCH1");
  // The catalog file's own table, beside the backups (open at the same time).
  Catalog backups(path_);
  EXPECT_EQ(sql("SELECT filename, archive_id FROM inventory"),
            (std::vector<std::vector<std::string>>{{"f.tgz", "ARCH1"}}));
  c.put_inventory("g.tgz", "ARCH1");  // archive_id is unique
  EXPECT_FALSE(c.archive_id("f.tgz"));
  EXPECT_EQ(c.archive_id("g.tgz"), "ARCH1");
  c.remove_inventory("g.tgz");
  EXPECT_FALSE(c.archive_id("g.tgz"));

  EXPECT_FALSE(c.job_id("f.tgz"));
  c.put_job("f.tgz", "J1");
  c.put_job("f.tgz", "J2");
  EXPECT_EQ(c.job_id("f.tgz"), "J2");
  EXPECT_EQ(sql("SELECT count(*) FROM jobs")[0][0], "1");
  c.remove_job("f.tgz");
  EXPECT_FALSE(c.job_id("f.tgz"));
}

TEST_F(CatalogTest, OpensAPythonToolCatalog) {
  if (std::system("command -v sqlite3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "no sqlite3 CLI";
  // The Python bakthat 0.5 created no history table; its catalog rows hold
  // json.dumps() metadata, or anything at all in older files.
  std::string script = dir_ + "/old.sql";
  std::ofstream(script)
      << R"(CREATE TABLE "backups" ("id" INTEGER NOT NULL PRIMARY KEY, "backend" VARCHAR(255) NOT NULL, "backend_hash" VARCHAR(255), "backup_date" INTEGER NOT NULL, "filename" TEXT NOT NULL, "is_deleted" SMALLINT NOT NULL, "last_updated" INTEGER NOT NULL, "metadata" VARCHAR(255) NOT NULL, "size" INTEGER NOT NULL, "stored_filename" TEXT NOT NULL, "tags" VARCHAR(255) NOT NULL);
CREATE INDEX "backups_backend" ON "backups" ("backend");
CREATE INDEX "backups_backend_hash" ON "backups" ("backend_hash");
CREATE INDEX "backups_backup_date" ON "backups" ("backup_date");
CREATE INDEX "backups_filename" ON "backups" ("filename");
CREATE UNIQUE INDEX "backups_stored_filename" ON "backups" ("stored_filename");
CREATE TABLE "jobs" ("id" INTEGER NOT NULL PRIMARY KEY, "filename" VARCHAR(255) NOT NULL, "job_id" VARCHAR(255) NOT NULL);
CREATE INDEX "jobs_filename" ON "jobs" ("filename");
CREATE TABLE "inventory" ("id" INTEGER NOT NULL PRIMARY KEY, "archive_id" VARCHAR(255) NOT NULL, "filename" VARCHAR(255) NOT NULL);
CREATE UNIQUE INDEX "inventory_archive_id" ON "inventory" ("archive_id");
CREATE INDEX "inventory_filename" ON "inventory" ("filename");
CREATE TABLE "config" ("id" INTEGER NOT NULL PRIMARY KEY, "key" VARCHAR(255) NOT NULL, "value" VARCHAR(255) NOT NULL);
CREATE UNIQUE INDEX "config_key" ON "config" ("key");
INSERT INTO "backups" ("backend", "backend_hash", "backup_date", "filename", "is_deleted", "last_updated", "metadata", "size", "stored_filename", "tags") VALUES ('s3', 'abcd', 1380000000, 'mydir', 0, 1380000000, '{"is_enc": false, "client": "host"}', 1234, 'mydir.20130924051320.tgz', 'prod daily');
INSERT INTO "backups" ("backend", "backend_hash", "backup_date", "filename", "is_deleted", "last_updated", "metadata", "size", "stored_filename", "tags") VALUES ('s3', 'abcd', 1380000100, 'broken', 0, 1380000100, 'not json', 1, 'broken.20130924051500.tgz.enc', '');
INSERT INTO "config" ("key", "value") VALUES ('sync_ts', '1380000000');
INSERT INTO "inventory" ("archive_id", "filename") VALUES ('ARCH', 'mydir.20130924051320.tgz');
)";
  ASSERT_EQ(std::system(("sqlite3 '" + path_ + "' < '" + script + "'").c_str()), 0);

  Catalog c(path_);
  auto row = c.latest("mydir", std::string("s3"), {"abcd"});
  ASSERT_TRUE(row);
  EXPECT_EQ(row->stored_filename, "mydir.20130924051320.tgz");
  EXPECT_EQ(row->metadata["is_enc"], false);
  EXPECT_EQ(row->metadata["client"], "host");
  EXPECT_EQ(row->size, 1234);
  EXPECT_EQ(row->tags, "prod daily");
  auto broken = c.by_stored_filename("broken.20130924051500.tgz.enc");
  ASSERT_TRUE(broken);
  EXPECT_TRUE(broken->metadata.is_object());
  EXPECT_TRUE(broken->metadata.empty());
  EXPECT_EQ(c.search({}).size(), 2u);
  EXPECT_EQ(*c.config_value("sync_ts"), 1380000000);
  EXPECT_EQ(bakthat::catalog::GlacierTables(path_).archive_id("mydir.20130924051320.tgz"), "ARCH");
  // The missing history table is added; the old tables are left as they were.
  EXPECT_EQ(sql("SELECT count(*) FROM sqlite_master WHERE name = 'history'")[0][0], "1");
  c.insert(record("new", "new.1.tgz", 1700000000));
  EXPECT_EQ(c.search({}).size(), 3u);
  // The users' SQL keeps working.
  EXPECT_EQ(sql("SELECT filename FROM backups WHERE is_deleted = 0 AND backend = 's3' ORDER BY backup_date DESC")
                .size(),
            2u);
}

TEST_F(CatalogTest, NotACatalog) {
  std::ofstream(path_) << "this is not an SQLite database, just some text long enough to look like one..."
                       << std::string(200, 'x');
  try {
    Catalog c(path_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_NE(std::string(e.what()).find(path_), std::string::npos);
  }
}

TEST_F(CatalogTest, TwoProcessesInsertAtOnce) {
  constexpr int kRows = 200;
  std::vector<pid_t> children;
  for (int p = 0; p < 2; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int status = 0;
      try {
        Catalog c(path_);
        for (int i = 0; i < kRows; ++i) {
          c.insert(record("p" + std::to_string(p), "p" + std::to_string(p) + "." + std::to_string(i), 1000 + i));
          if (i % 10 == 0) c.search(text("p"));  // readers interleave with writers
        }
      } catch (const std::exception& e) {
        fprintf(stderr, "child %d: %s\n", p, e.what());
        status = 1;
      }
      _exit(status);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  Catalog c(path_);
  EXPECT_EQ(c.search({}).size(), 2u * kRows);
  EXPECT_EQ(c.matches("p0.", std::nullopt, {}).size(), size_t{kRows});
  EXPECT_EQ(c.matches("p1.", std::nullopt, {}).size(), size_t{kRows});
}
