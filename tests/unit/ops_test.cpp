// The operations on the in-memory Storage: their error paths, which the
// real destinations reach only end to end (a catalog that refuses the row
// once the store has the object, a store failing midway through a restore,
// a store changed by someone else while retention works on it).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "bakthat/bakthat.hpp"
#include "storage/memory/memory_storage.hpp"

namespace fs = std::filesystem;
using bakthat::Error;
using bakthat::ErrorKind;
using bakthat::storage::MemoryStorage;

namespace {

class OpsOnMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bakthat-ops-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    fs::create_directories(dir / "src" / "sub");
    std::ofstream(dir / "src" / "a.txt") << "alpha";
    std::string noise(300000, '\0');  // incompressible: the archive is as big
    std::mt19937 random(7);
    for (auto& c : noise) c = static_cast<char>(random());
    std::ofstream(dir / "src" / "sub" / "b.bin") << noise;
    store = std::make_shared<MemoryStorage>();
  }
  void TearDown() override { fs::remove_all(dir); }

  template <typename O>
  O options() const {
    O o;
    o.config.conf_yaml = "database: " + (dir / "catalog.sqlite").string() +
                         "\nrotation: {days: 1, weeks: 0, months: 0}\n";
    o.storage = store;
    o.password = "";
    return o;
  }

  void sql(const std::string& statement) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "catalog.sqlite").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  fs::path dir;
  std::shared_ptr<MemoryStorage> store;
};

TEST_F(OpsOnMemory, BackupAndRestoreRoundTrip) {
  auto record = bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>());
  EXPECT_EQ(record.backend, "memory");
  ASSERT_TRUE(store->object(record.stored_filename));
  auto ro = options<bakthat::RestoreOptions>();
  ro.target_dir = (dir / "out").string();
  bakthat::restore("src", ro);
  std::ifstream in(dir / "out" / "src" / "a.txt");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "alpha");
}

TEST_F(OpsOnMemory, AStoreOfTheCallersOwnKeepsRowsAnotherCatalogRestoresBy) {
  // A backup to the caller's store leaves its row in the store's row
  // folder; a catalog that never saw it (another machine) finds it there.
  auto record = bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>());
  std::size_t entries = 0;
  for (const auto& o : store->list(".bakthat/rows/memory/")) entries += o.name.find("/log-") != std::string::npos;
  EXPECT_GE(entries, 1u);
  for (const auto& o : bakthat::ls("", options<bakthat::Options>())) EXPECT_EQ(o.name, record.stored_filename);

  auto other = options<bakthat::RestoreOptions>();
  other.config.conf_yaml = "database: " + (dir / "other.sqlite").string() + "\n";
  other.target_dir = (dir / "out").string();
  bakthat::restore("src", other);
  std::ifstream in(dir / "out" / "src" / "a.txt");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "alpha");
  bakthat::ShowOptions shown;
  static_cast<bakthat::Options&>(shown) = other;
  auto rows = bakthat::show(shown);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].stored_filename, record.stored_filename);
  EXPECT_EQ(rows[0].metadata.value("sha256", ""), record.metadata.value("sha256", ""));
}

TEST_F(OpsOnMemory, CatalogRefusingTheRowLeavesNoObject) {
  // The store has every byte, then the catalog refuses the row: no row and
  // no object may remain.
  bakthat::show(options<bakthat::ShowOptions>());  // creates the catalog
  sql("CREATE TRIGGER refuse BEFORE INSERT ON backups BEGIN SELECT RAISE(ABORT, 'refused'); END;");
  bool finished = false;
  store->set_hook([&](MemoryStorage::Op op, const std::string&) { finished |= op == MemoryStorage::Op::Finish; });
  EXPECT_THROW(bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>()), Error);
  EXPECT_TRUE(finished);
  EXPECT_TRUE(store->list("").empty());
  sql("DROP TRIGGER refuse;");
  EXPECT_TRUE(bakthat::show(options<bakthat::ShowOptions>()).empty());
}

TEST_F(OpsOnMemory, StoreFailingMidwayThroughARestoreLeavesTheTargetAsItWas) {
  bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>());
  fs::create_directories(dir / "out" / "src");
  std::ofstream(dir / "out" / "src" / "a.txt") << "mine";
  store->fail_reads_after(20000);
  auto ro = options<bakthat::RestoreOptions>();
  ro.target_dir = (dir / "out").string();
  ro.force = true;
  try {
    bakthat::restore("src", ro);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Storage) << e.what();
  }
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir / "out")) names.push_back(e.path().string());
  EXPECT_EQ(names, (std::vector<std::string>{(dir / "out" / "src").string(), (dir / "out" / "src" / "a.txt").string()}));
  std::ifstream in(dir / "out" / "src" / "a.txt");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "mine");
}

TEST_F(OpsOnMemory, RetentionGoesOnWhenTheStoreChangesUnderIt) {
  // Three old backups; while retention removes one of the two oldest,
  // someone else removes the other from the store (whichever retention
  // takes first: it removes newest first): that one is marked deleted with
  // a warning, and no decision fails.
  std::vector<bakthat::BackupRecord> made;
  for (int i = 0; i < 3; ++i) made.push_back(bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>()));
  bool removed_by_other = false;
  store->set_hook([&](MemoryStorage::Op op, const std::string& name) {
    if (op != MemoryStorage::Op::Remove || removed_by_other) return;
    for (int i : {0, 1})
      if (name == made[i].stored_filename) {
        removed_by_other = true;
        store->remove(made[1 - i].stored_filename);
        return;
      }
  });
  auto retention = options<bakthat::RetentionOptions>();
  retention.now = made.back().backup_date + 10 * 86400;
  auto decisions = bakthat::delete_older_than("src", "1D", retention);
  EXPECT_TRUE(removed_by_other);
  int deleted = 0;
  for (const auto& d : decisions) {
    EXPECT_EQ(d.error, "") << d.record.stored_filename;
    if (!d.keep) ++deleted;
  }
  EXPECT_GE(deleted, 2);
  EXPECT_FALSE(store->object(made[0].stored_filename));
  EXPECT_FALSE(store->object(made[1].stored_filename));
  for (const auto& r : bakthat::show(options<bakthat::ShowOptions>())) {
    EXPECT_NE(r.stored_filename, made[0].stored_filename);
    EXPECT_NE(r.stored_filename, made[1].stored_filename);
  }
}

// A deletion marks its row deleted before its object goes: a store that
// fails the removal (as a kill there would stop it) leaves an object
// without a row, never a row without its object. The same for retention.
TEST_F(OpsOnMemory, DeletionMarksTheRowBeforeRemovingTheObject) {
  std::vector<bakthat::BackupRecord> made;
  for (int i = 0; i < 2; ++i) made.push_back(bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>()));
  auto listed = [&](const std::string& stored) {
    for (const auto& r : bakthat::show(options<bakthat::ShowOptions>()))
      if (r.stored_filename == stored) return true;
    return false;
  };
  std::vector<std::string> listed_at_removal;
  store->set_hook([&](MemoryStorage::Op op, const std::string& name) {
    if (op != MemoryStorage::Op::Remove) return;
    if (listed(name)) listed_at_removal.push_back(name);
    throw Error(ErrorKind::Storage, "the store failed");
  });

  try {
    bakthat::remove(made[1].stored_filename, options<bakthat::Options>());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Storage);
    EXPECT_NE(std::string(e.what()).find(made[1].stored_filename + " is deleted from the catalog"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(store->object(made[1].stored_filename));
  EXPECT_FALSE(listed(made[1].stored_filename));

  auto retention = options<bakthat::RetentionOptions>();
  retention.now = made.back().backup_date + 10 * 86400;
  retention.include_newest = true;
  auto decisions = bakthat::delete_older_than("src", "1D", retention);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_NE(decisions[0].error, "");
  EXPECT_TRUE(store->object(made[0].stored_filename));
  EXPECT_FALSE(listed(made[0].stored_filename));

  EXPECT_EQ(listed_at_removal, std::vector<std::string>{});
}

// The progress total counts what the archive takes however deep, past the
// descriptors a walk holds (util::HeldDir::kHeldDirs) too.
TEST_F(OpsOnMemory, ProgressTotalCountsFilesAtAnyDepth) {
  fs::path deep = dir / "deep";
  for (int i = 0; i < 60; ++i) deep /= "d";
  fs::create_directories(deep);
  std::ofstream(deep / "f.bin") << std::string(123456, 'x');
  struct TotalReporter : bakthat::Reporter {
    std::uint64_t total = 0;
    void message(const std::string&) override {}
    void warning(const std::string&) override {}
    void progress_start(const std::string&, std::uint64_t t) override { total = t; }
    void progress_total(std::uint64_t t) override { total = t; }
    void progress(std::uint64_t) override {}
    void progress_end() override {}
  } reporter;
  auto o = options<bakthat::BackupOptions>();
  o.reporter = &reporter;
  bakthat::backup((dir / "deep").string(), o);
  EXPECT_EQ(reporter.total, 123456u);
}

}  // namespace
