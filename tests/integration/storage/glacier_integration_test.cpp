// The glacier vault destination against moto on 127.0.0.1 (the only local
// server with the Glacier vault API; it has no multipart uploads, does not
// check tree hashes, and completes Expedited jobs after 2 s).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "catalog/glacier_tables.hpp"
#include "ops/glacier_inventory.hpp"
#include "storage/glacier/glacier_storage.hpp"
#include "storage/s3/s3_storage.hpp"
#include "test_servers.hpp"

namespace glacier = bakthat::storage::glacier;
using bakthat::Error;
using bakthat::ErrorKind;
using bakthat::Readiness;
using bakthat::test::random_bytes;
using bakthat::test::servers;

namespace {

class GlacierVault : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bakthat-glacier-it-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    vault_ = "bakthat-it-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  glacier::Settings settings() {
    glacier::Settings s;
    s.client.keys = {"testing", "testing", ""};
    s.client.endpoint = servers()["MOTO_ENDPOINT"];
    s.client.vault = vault_;
    s.client.retry.first_delay = std::chrono::milliseconds(50);
    s.inventory = bakthat::ops::catalog_inventory(catalog_path());
    s.tier = "Expedited";
    return s;
  }

  // The catalog file that keeps the vault's inventory and jobs, as the
  // command line's does.
  std::string catalog_path() const { return (dir_ / "catalog.sqlite").string(); }

  static void write_all(bakthat::ObjectWriter& w, const std::vector<std::uint8_t>& data) {
    std::size_t pos = 0, step = 1000;
    while (pos < data.size()) {
      std::size_t n = std::min(step, data.size() - pos);
      w.write(bakthat::Bytes(data).subspan(pos, n));
      pos += n;
      step = step * 2 + 1;
    }
    w.finish();
  }

  static std::vector<std::uint8_t> read_all(bakthat::Source& src) {
    std::vector<std::uint8_t> out;
    std::uint8_t buf[70000];
    while (std::size_t n = src.read(buf)) out.insert(out.end(), buf, buf + n);
    return out;
  }

  std::filesystem::path dir_;
  std::string vault_;
};

TEST_F(GlacierVault, UploadRetrieveDownloadDelete) {
  glacier::GlacierStorage store(settings());
  auto data = random_bytes(3 * (1 << 20) + 4321, 7);
  auto w = store.create("home.tgz", data.size());
  write_all(*w, data);
  EXPECT_EQ(w->stored().size, data.size());
  std::string archive_id = w->stored().provider_id;
  EXPECT_FALSE(archive_id.empty());
  w.reset();

  bakthat::catalog::GlacierTables catalog(catalog_path());
  EXPECT_EQ(catalog.archive_id("home.tgz"), archive_id);
  auto listed = store.list("ho");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "home.tgz");
  EXPECT_TRUE(store.list("x").empty());
  EXPECT_TRUE(store.stat("home.tgz"));
  EXPECT_FALSE(store.stat("nope.tgz"));

  try {
    store.create("home.tgz", std::nullopt);
    FAIL() << "a second archive under one name";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Conflict);
  }
  try {
    store.open("home.tgz");
    FAIL() << "opened before any retrieval";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Storage);
    EXPECT_NE(std::string(e.what()).find("run restore"), std::string::npos) << e.what();
  }

  EXPECT_EQ(store.prepare_read("home.tgz"), Readiness::RetrievalStarted);
  ASSERT_TRUE(catalog.job_id("home.tgz"));
  EXPECT_EQ(store.prepare_read("home.tgz"), Readiness::RetrievalInProgress);
  try {
    store.open("home.tgz");
    FAIL() << "opened while the job runs";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("still in progress"), std::string::npos) << e.what();
  }
  // A second GlacierStorage (a later bakthat run) finds the job in the catalog.
  glacier::GlacierStorage later(settings());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Readiness r;
  while ((r = later.prepare_read("home.tgz")) != Readiness::Ready) {
    ASSERT_EQ(r, Readiness::RetrievalInProgress);
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  {
    auto src = later.open("home.tgz");
    EXPECT_EQ(read_all(*src), data);
  }
  EXPECT_FALSE(catalog.job_id("home.tgz")) << "a completely read job is forgotten";

  later.remove("home.tgz");
  EXPECT_FALSE(catalog.archive_id("home.tgz"));
  EXPECT_TRUE(store.list("").empty());
  try {
    later.remove("home.tgz");
    FAIL() << "removed twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
  try {
    later.prepare_read("home.tgz");
    FAIL() << "retrieval of a removed archive";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
}

TEST_F(GlacierVault, AbandonedReaderStopsCleanly) {
  glacier::GlacierStorage store(settings());
  auto data = random_bytes(5 * (1 << 20), 3);
  auto w = store.create("big.bin", data.size());
  write_all(*w, data);
  glacier::Settings s = settings();
  s.read_buffer = 64 * 1024;  // the producer blocks on a full queue
  glacier::GlacierStorage reader(s);
  EXPECT_EQ(reader.prepare_read("big.bin"), Readiness::RetrievalStarted);
  while (reader.prepare_read("big.bin") != Readiness::Ready)
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  {
    auto src = reader.open("big.bin");
    std::uint8_t buf[1000];
    EXPECT_GT(src->read(buf), 0u);
  }  // destroyed mid-stream: must not hang
  bakthat::catalog::GlacierTables catalog(catalog_path());
  EXPECT_TRUE(catalog.job_id("big.bin")) << "an unfinished read keeps the job";
}

TEST_F(GlacierVault, EmptyArchive) {
  glacier::GlacierStorage store(settings());
  auto w = store.create("empty", 0);
  w->finish();
  EXPECT_EQ(w->stored().size, 0u);
  EXPECT_TRUE(store.stat("empty"));
}

// moto has no multipart upload: the failure must be clear and leave no
// inventory entry behind (on AWS the same path uploads the parts).
TEST_F(GlacierVault, MultipartRefusedLeavesNothing) {
  glacier::Settings s = settings();
  s.part_size = 1 << 20;
  glacier::GlacierStorage store(s);
  auto data = random_bytes(2 * (1 << 20) + 1, 5);
  try {
    auto w = store.create("parts.bin", data.size());
    write_all(*w, data);
    FAIL() << "moto accepted a multipart upload";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("Glacier: ", 0), 0u) << e.what();
  }
  EXPECT_FALSE(store.stat("parts.bin"));
}

TEST_F(GlacierVault, InventoryCopiedToS3) {
  auto env = servers();
  auto profile = std::make_shared<bakthat::Profile>();
  profile->access_key = "testing";
  profile->secret_key = "testing";
  profile->s3_bucket = "bakthat-it-inv-" + std::to_string(::getpid());
  profile->s3_endpoint = env["MOTO_ENDPOINT"];
  profile->s3_addressing_style = "path";
  glacier::Settings s = settings();
  s.inventory_profile = profile;
  glacier::GlacierStorage store(s);
  for (const char* name : {"a.tgz", "b.tgz"}) {
    auto w = store.create(name, std::nullopt);
    std::string body = std::string("content of ") + name;
    w->write(bakthat::util::as_bytes(body));
    w->finish();
  }
  store.remove("a.tgz");
  auto s3 = bakthat::storage::s3::make_s3_storage(*profile, "s3", "STANDARD");
  auto src = s3->open(glacier::kInventoryKey);
  auto bytes = read_all(*src);
  auto j = nlohmann::json::parse(std::string(bytes.begin(), bytes.end()));
  bakthat::catalog::GlacierTables catalog(catalog_path());
  EXPECT_EQ(j, nlohmann::json({{"b.tgz", *catalog.archive_id("b.tgz")}}));
}

}  // namespace
