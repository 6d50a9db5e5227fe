// A local file read as a Source, whole or a range of it, and what a missing
// file or a directory gives.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "bakthat/errors.hpp"
#include "util/file_source.hpp"

using namespace bakthat;

namespace {

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bakthat-file-source-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    file_ = (dir_ / "f").string();
    std::ofstream(file_) << "0123456789";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string read_all(Source& src) {
    std::string out;
    char buf[3];
    while (std::size_t n = src.read(MutableBytes(reinterpret_cast<std::uint8_t*>(buf), sizeof buf)))
      out.append(buf, n);
    return out;
  }

  static std::optional<ErrorKind> kind_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("bakthat-file-source-"), std::string::npos) << e.what();
      return e.kind();
    }
    return std::nullopt;
  }

  std::filesystem::path dir_;
  std::string file_;
};

TEST_F(FileSourceTest, WholeFile) { EXPECT_EQ(read_all(*util::open_file_source(file_)), "0123456789"); }

TEST_F(FileSourceTest, Ranges) {
  EXPECT_EQ(read_all(*util::open_file_range(file_, 2, 5)), "23456");
  EXPECT_EQ(read_all(*util::open_file_range(file_, 8, 100)), "89") << "the file ends first";
  EXPECT_EQ(read_all(*util::open_file_range(file_, 20, 5)), "");
}

TEST_F(FileSourceTest, MissingFileAndDirectory) {
  const std::string missing = (dir_ / "missing").string();
  EXPECT_EQ(kind_of([&] { util::open_file_source(missing); }), ErrorKind::NotFound);
  EXPECT_EQ(kind_of([&] { util::open_file_range(missing, 0, 1); }), ErrorKind::NotFound);
  EXPECT_EQ(kind_of([&] { util::open_file_source(dir_.string()); }), ErrorKind::Usage);
}

}  // namespace
