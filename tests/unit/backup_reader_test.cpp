// One file of a backup through the library (open_backup, open_entry) and a
// selection restored through it (RestoreOptions paths, include, exclude),
// on the local store, and on a store that counts the bytes its ranged
// reads return (only the members holding a file are fetched).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "bakthat/bakthat.hpp"
#include "storage/memory/memory_storage.hpp"

namespace fs = std::filesystem;
using bakthat::Error;
using bakthat::ErrorKind;

namespace {

// A memory store whose ranged reads return the range alone, counting the
// bytes of backups (not of their indexes) they give.
class RangedStore : public bakthat::storage::MemoryStorage {
 public:
  std::unique_ptr<bakthat::Source> open_range(const std::string& name, std::uint64_t offset,
                                              std::uint64_t length) override {
    auto bytes = object(name);
    if (!bytes) return MemoryStorage::open_range(name, offset, length);
    offset = std::min<std::uint64_t>(offset, bytes->size());
    length = std::min<std::uint64_t>(length, bytes->size() - offset);
    if (!name.starts_with(".bakthat/")) fetched += length;
    return std::make_unique<Slice>(std::vector<std::uint8_t>(bytes->begin() + offset, bytes->begin() + offset + length));
  }
  std::uint64_t fetched = 0;

 private:
  class Slice : public bakthat::Source {
   public:
    explicit Slice(std::vector<std::uint8_t> data) : data_(std::move(data)) {}
    std::size_t read(bakthat::MutableBytes out) override {
      const std::size_t n = std::min(out.size(), data_.size() - at_);
      std::copy_n(data_.begin() + at_, n, out.begin());
      at_ += n;
      return n;
    }

   private:
    std::vector<std::uint8_t> data_;
    std::size_t at_ = 0;
  };
};

std::string read_all(bakthat::Source& in) {
  std::string out;
  std::vector<std::uint8_t> buf(100000);
  while (std::size_t n = in.read(buf)) out.append(reinterpret_cast<const char*>(buf.data()), n);
  return out;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class BackupReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bakthat-reader-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    const fs::path src = dir / "src";
    fs::create_directories(src / "sub" / "deep");
    fs::create_directories(src / "other");
    std::ofstream(src / "first.txt") << "the first file";
    // Incompressible, over several gzip members (1 MiB of input each).
    std::string noise(5 * 1000 * 1000, '\0');
    std::mt19937 random(11);
    for (auto& c : noise) c = static_cast<char>(random());
    std::ofstream(src / "sub" / "big.bin", std::ios::binary) << noise;
    std::ofstream(src / "sub" / "deep" / "middle.txt") << "in the middle.";
    std::ofstream(src / "other" / "last.log") << "the last one";
    fs::create_hard_link(src / "first.txt", src / "other" / "link.txt");
    fs::create_symlink("first.txt", src / "symlink");
    // Sparse: data at 3 MB in a 6 MB file.
    int fd = ::open((src / "sparse.img").c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "island", 6, 3000000), 6);
    ASSERT_EQ(::ftruncate(fd, 6000000), 0);
    ::close(fd);
  }
  void TearDown() override { fs::remove_all(dir); }

  // The local store under dir/store, or `store` when set.
  template <typename O>
  O options(std::shared_ptr<bakthat::Storage> store = nullptr) const {
    O o;
    o.config.conf_yaml = "database: " + (dir / "catalog.sqlite").string() + "\nlocal_path: " +
                         (dir / "store").string() + "\n";
    o.storage = store;
    o.password = "";
    return o;
  }

  fs::path dir;
};

TEST_F(BackupReaderTest, EachFileReadsAsOnDiskOnTheLocalStore) {
  bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>());
  auto reader = bakthat::open_backup("src", options<bakthat::Options>());
  EXPECT_EQ(reader->entries().size(), bakthat::list_entries("src", options<bakthat::Options>()).size());
  for (const char* path : {"src/first.txt", "src/sub/big.bin", "src/sub/deep/middle.txt", "src/other/last.log",
                           "src/sparse.img"}) {
    auto in = reader->open(path);
    EXPECT_EQ(read_all(*in), file_bytes(dir / path)) << path;
  }
  // A hard link reads as its file; "./" and "/" in front change nothing.
  auto link = reader->open("./src/other/link.txt");
  EXPECT_EQ(read_all(*link), "the first file");
  auto one = bakthat::open_entry("src", "/src/sub/deep/middle.txt", options<bakthat::Options>());
  EXPECT_EQ(read_all(*one), "in the middle.");
}

TEST_F(BackupReaderTest, FromAnOffset) {
  bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>());
  auto reader = bakthat::open_backup("src", options<bakthat::Options>());
  const std::string big = file_bytes(dir / "src/sub/big.bin");
  const std::string sparse = file_bytes(dir / "src/sparse.img");
  // Before and after the first read at the start has said whether the file is sparse.
  for (int pass = 0; pass < 2; ++pass) {
    for (std::uint64_t at : {std::uint64_t{1}, std::uint64_t{1048575}, std::uint64_t{3333333}, std::uint64_t{4999999}}) {
      auto in = reader->open("src/sub/big.bin", at);
      EXPECT_EQ(read_all(*in), big.substr(at)) << at;
    }
    for (std::uint64_t at : {std::uint64_t{2999999}, std::uint64_t{3000003}, std::uint64_t{5999999}}) {
      auto in = reader->open("src/sparse.img", at);
      EXPECT_EQ(read_all(*in), sparse.substr(at)) << at;
    }
    read_all(*reader->open("src/sub/big.bin"));
    read_all(*reader->open("src/sparse.img"));
  }
  auto past = reader->open("src/first.txt", 1000);
  EXPECT_EQ(read_all(*past), "");
}

TEST_F(BackupReaderTest, FetchesOnlyTheMembersHoldingTheFile) {
  auto store = std::make_shared<RangedStore>();
  auto record = bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>(store));
  const std::uint64_t object = store->object(record.stored_filename)->size();
  ASSERT_GT(object, 5000000u);
  auto reader = bakthat::open_backup("src", options<bakthat::Options>(store));
  store->fetched = 0;
  EXPECT_EQ(read_all(*reader->open("src/other/last.log")), "the last one");
  EXPECT_GT(store->fetched, 0u);
  EXPECT_LT(store->fetched, object / 4);
  // The last MiB of the big file, once its first read said it is not sparse.
  read_all(*reader->open("src/sub/big.bin"));
  store->fetched = 0;
  auto tail = reader->open("src/sub/big.bin", 4000000);
  EXPECT_EQ(read_all(*tail).size(), 1000000u);
  EXPECT_LT(store->fetched, 2500000u);
}

TEST_F(BackupReaderTest, WhatIsNotAFileIsRefused) {
  bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>());
  auto reader = bakthat::open_backup("src", options<bakthat::Options>());
  try {
    reader->open("src/nothing");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound) << e.what();
  }
  for (const char* path : {"src/sub", "src/sub/", "src/symlink"}) {
    try {
      reader->open(path);
      FAIL() << "no error for " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
    }
  }
}

TEST_F(BackupReaderTest, AnArchiveThatIsNotWhatItsIndexSaysIsCorrupt) {
  auto store = std::make_shared<RangedStore>();
  auto bo = options<bakthat::BackupOptions>(store);
  bo.compress = false;
  auto record = bakthat::backup((dir / "src").string(), bo);
  auto reader = bakthat::open_backup("src", options<bakthat::Options>(store));
  const auto& entries = reader->entries();
  auto middle = std::find_if(entries.begin(), entries.end(),
                             [](const bakthat::ArchiveEntry& e) { return e.path == "src/sub/deep/middle.txt"; });
  ASSERT_NE(middle, entries.end());
  // Another entry's bytes where the index puts this one: the headers of
  // first.txt and middle.txt swapped (each a valid tar header).
  auto first = std::find_if(entries.begin(), entries.end(),
                            [](const bakthat::ArchiveEntry& e) { return e.path == "src/first.txt"; });
  ASSERT_NE(first, entries.end());
  auto bytes = *store->object(record.stored_filename);
  std::vector<std::uint8_t> a(bytes.begin() + first->header, bytes.begin() + first->end);
  std::vector<std::uint8_t> b(bytes.begin() + middle->header, bytes.begin() + middle->end);
  ASSERT_EQ(a.size(), b.size());
  std::copy(a.begin(), a.end(), bytes.begin() + middle->header);
  std::copy(b.begin(), b.end(), bytes.begin() + first->header);
  store->remove(record.stored_filename);
  store->put(record.stored_filename, bytes);
  try {
    read_all(*reader->open("src/sub/deep/middle.txt"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt) << e.what();
    EXPECT_NE(std::string(e.what()).find("index does not match"), std::string::npos) << e.what();
  }
}

TEST_F(BackupReaderTest, RestoresASelection) {
  bakthat::backup((dir / "src").string(), options<bakthat::BackupOptions>());
  auto ro = options<bakthat::RestoreOptions>();
  ro.target_dir = (dir / "out").string();
  fs::create_directories(ro.target_dir);
  ro.paths = {"src/sub"};
  ro.exclude = {"big.bin"};
  auto result = bakthat::restore("src", ro);
  EXPECT_EQ(file_bytes(dir / "out/src/sub/deep/middle.txt"), "in the middle.");
  EXPECT_FALSE(fs::exists(dir / "out/src/sub/big.bin"));
  EXPECT_FALSE(fs::exists(dir / "out/src/first.txt"));
  EXPECT_EQ(result.restored, std::vector<std::string>{"src"});

  auto only_logs = options<bakthat::RestoreOptions>();
  only_logs.target_dir = (dir / "logs").string();
  fs::create_directories(only_logs.target_dir);
  only_logs.include = {"*.log"};
  bakthat::restore("src", only_logs);
  EXPECT_EQ(file_bytes(dir / "logs/src/other/last.log"), "the last one");
  EXPECT_FALSE(fs::exists(dir / "logs/src/other/link.txt"));
  EXPECT_FALSE(fs::exists(dir / "logs/src/first.txt"));
}

}  // namespace
