#include "archive/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include "bakthat/errors.hpp"
#include "util/bytes.hpp"

namespace fs = std::filesystem;
using bakthat::Bytes;
using bakthat::Error;
using bakthat::ErrorKind;
using bakthat::MutableBytes;
namespace ar = bakthat::archive;

namespace {

// ---- streams over memory -------------------------------------------------

struct VectorSink : bakthat::Sink {
  std::vector<std::uint8_t> data;
  bool finished = false;
  void write(Bytes d) override {
    ASSERT_FALSE(finished);
    data.insert(data.end(), d.begin(), d.end());
  }
  void finish() override { finished = true; }
};

// Hands out at most `chunk` bytes per read, to exercise short reads.
struct VectorSource : bakthat::Source {
  const std::vector<std::uint8_t>& data;
  std::size_t pos = 0;
  std::size_t chunk;
  explicit VectorSource(const std::vector<std::uint8_t>& d, std::size_t c = SIZE_MAX) : data(d), chunk(c) {}
  std::size_t read(MutableBytes out) override {
    std::size_t n = std::min({out.size(), data.size() - pos, chunk});
    std::memcpy(out.data(), data.data() + pos, n);
    pos += n;
    return n;
  }
};

// ---- scratch directories and trees ----------------------------------------

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "bakthat-archive-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
    fs::permissions(path, fs::perms(0755));
  }
  ~ScratchDir() {
    // Restored trees may hold read-only directories.
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path, ec); it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory() && !it->is_symlink()) fs::permissions(it->path(), fs::perms(0755), ec);
    }
    fs::remove_all(path, ec);
  }
};

void write_file(const fs::path& p, const std::string& content, mode_t mode = 0644) {
  std::ofstream(p, std::ios::binary) << content;
  ASSERT_EQ(::chmod(p.c_str(), mode), 0);
}

void set_mtime(const fs::path& p, time_t sec, long nsec) {
  struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << p;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A tree with every kind of entry the archive must keep.
void make_tree(const fs::path& root) {
  fs::create_directories(root / "empty_dir");
  fs::create_directories(root / "sub" / "deeper");
  write_file(root / "plain.txt", "hello\n", 0644);
  write_file(root / "empty_file", "", 0644);
  write_file(root / "sub" / "secret", "private data", 0600);
  write_file(root / "sub" / "run.sh", "#!/bin/sh\necho hi\n", 0755);
  std::string big(3 * 1024 * 1024 + 17, '\0');  // more than one read chunk
  std::mt19937 rng(42);
  for (auto& c : big) c = static_cast<char>(rng());
  write_file(root / "sub" / "deeper" / "big.bin", big, 0644);
  write_file(root / "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.txt", "utf8 name", 0644);
  std::string long_name(150, 'n');
  long_name += ".txt";
  write_file(root / "sub" / long_name, "long name", 0644);
  fs::path long_dir = root / std::string(120, 'd') / std::string(120, 'e');
  fs::create_directories(long_dir);
  write_file(long_dir / "f", "deep long path", 0644);
  fs::create_symlink("plain.txt", root / "link_rel");
  fs::create_symlink("does/not/exist", root / "dangling");
  fs::create_symlink("/nonexistent-bakthat-target", root / "link_abs");
  fs::create_symlink("sub", root / "link_dir");
  write_file(root / "hard_a", "shared inode", 0640);
  fs::create_hard_link(root / "hard_a", root / "sub" / "hard_b");
  ::chmod((root / "sub").c_str(), 0750);
  ::chmod((root / "empty_dir").c_str(), 0700);

  // Distinct sub-second mtimes everywhere, directories last.
  long n = 1;
  std::vector<fs::path> dirs;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory() && !it->is_symlink()) {
      dirs.push_back(it->path());
    } else {
      set_mtime(it->path(), 1500000000 + n * 1000, n * 123457);
    }
    ++n;
  }
  std::sort(dirs.rbegin(), dirs.rend());  // children before parents
  dirs.push_back(root);
  for (const auto& d : dirs) {
    set_mtime(d, 1400000000 + n * 1000, n * 7919);
    ++n;
  }
}

// A description of every entry below root: type, permissions, mtime,
// content digest or link target, and hard-link group. Equal maps mean equal
// trees as far as the archive is concerned.
std::map<std::string, std::string> describe(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::map<std::pair<dev_t, ino_t>, std::string> first_name;
  std::vector<std::pair<std::string, std::pair<dev_t, ino_t>>> multi;
  std::function<void(const fs::path&, const std::string&)> walk = [&](const fs::path& p, const std::string& rel) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      out[rel] = "lstat failed";
      return;
    }
    std::ostringstream d;
    d << std::oct << (st.st_mode & 07777) << std::dec << " mtime=" << st.st_mtim.tv_sec << "."
      << st.st_mtim.tv_nsec;
    if (S_ISDIR(st.st_mode)) {
      d << " dir";
    } else if (S_ISLNK(st.st_mode)) {
      d.str("");
      d << "symlink -> " << fs::read_symlink(p).string();  // symlink modes/times are not portable
    } else if (S_ISREG(st.st_mode)) {
      std::string content = read_file(p);
      d << " file size=" << content.size() << " sha256="
        << bakthat::util::hex(bakthat::util::sha256(
               Bytes(reinterpret_cast<const std::uint8_t*>(content.data()), content.size())));
      if (st.st_nlink > 1) multi.push_back({rel, {st.st_dev, st.st_ino}});
    } else {
      d << " other";
    }
    out[rel] = d.str();
    if (S_ISDIR(st.st_mode)) {
      for (const auto& child : fs::directory_iterator(p)) {
        walk(child.path(), rel + "/" + child.path().filename().string());
      }
    }
  };
  walk(root, ".");
  // Hard-link group = smallest name sharing the inode (walk-order free).
  for (const auto& [rel, key] : multi) {
    auto it = first_name.find(key);
    if (it == first_name.end() || rel < it->second) first_name[key] = rel;
  }
  for (const auto& [rel, key] : multi) out[rel] += " linkgroup=" + first_name[key];
  return out;
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) names.push_back(e.path().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Archives root as arcname into sink, checking that the progress reported
// adds up to the bytes archived.
ar::TarStats tar_into(bakthat::Sink& sink, const fs::path& root, const std::string& arcname,
                      ar::ExcludeRules excludes = {}) {
  ar::TarOptions opt;
  opt.root = root.string();
  opt.arcname = arcname;
  opt.excludes = std::move(excludes);
  std::uint64_t progress = 0;
  opt.on_progress = [&](std::uint64_t n) { progress += n; };
  auto s = ar::write_tar(opt, sink);
  EXPECT_EQ(progress, s.bytes);
  return s;
}

std::vector<std::uint8_t> tar_of(const fs::path& root, const std::string& arcname, ar::TarStats* stats = nullptr,
                                 ar::ExcludeRules excludes = {}) {
  VectorSink sink;
  auto s = tar_into(sink, root, arcname, std::move(excludes));
  EXPECT_TRUE(sink.finished);
  if (stats != nullptr) *stats = s;
  return std::move(sink.data);
}

ar::ExtractStats extract(const std::vector<std::uint8_t>& tar, const fs::path& target, bool force = false,
                         std::size_t chunk = SIZE_MAX) {
  VectorSource src(tar, chunk);
  ar::ExtractOptions opt;
  opt.target_dir = target.string();
  opt.force = force;
  return ar::extract_tar(src, opt);
}

int run(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void save(const std::vector<std::uint8_t>& data, const fs::path& p) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                            static_cast<std::streamsize>(data.size()));
}

std::vector<std::uint8_t> load(const fs::path& p) {
  std::string s = read_file(p);
  return {s.begin(), s.end()};
}

// ---- hostile archives, written with libarchive directly -------------------

struct RawEntry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string content;
  std::string symlink;
  std::string hardlink;
};
RawEntry raw_file(std::string path, std::string content) { return {std::move(path), AE_IFREG, std::move(content), "", ""}; }
RawEntry raw_dir(std::string path) { return {std::move(path), AE_IFDIR, "", "", ""}; }
RawEntry raw_symlink(std::string path, std::string to) { return {std::move(path), AE_IFLNK, "", std::move(to), ""}; }
RawEntry raw_hardlink(std::string path, std::string to) { return {std::move(path), AE_IFREG, "", "", std::move(to)}; }

std::vector<std::uint8_t> raw_tar(const std::vector<RawEntry>& entries) {
  std::vector<std::uint8_t> out(1 << 20);
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  EXPECT_EQ(archive_write_open_memory(a, out.data(), out.size(), &used), ARCHIVE_OK);
  for (const auto& r : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, r.path.c_str());
    archive_entry_set_filetype(e, r.type);
    archive_entry_set_perm(e, r.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(r.content.size()));
    if (!r.symlink.empty()) archive_entry_set_symlink(e, r.symlink.c_str());
    if (!r.hardlink.empty()) archive_entry_set_hardlink(e, r.hardlink.c_str());
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (!r.content.empty()) archive_write_data(a, r.content.data(), r.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

class ArchiveTest : public ::testing::Test {
 protected:
  ScratchDir scratch;
  fs::path src() const { return scratch.path / "src"; }
};

}  // namespace

TEST_F(ArchiveTest, RoundTripKeepsEverything) {
  make_tree(src() / "tree");
  ar::TarStats stats;
  auto tar = tar_of(src() / "tree", "tree", &stats);
  EXPECT_TRUE(stats.unreadable.empty());
  EXPECT_EQ(stats.files, 9u);  // the hard link's second name has no content
  EXPECT_GT(stats.bytes, 3u * 1024 * 1024);

  fs::create_directory(scratch.path / "out");
  auto ex = extract(tar, scratch.path / "out", false, 4093);  // odd short reads
  EXPECT_EQ(ex.top_entries, std::vector<std::string>{"tree"});
  EXPECT_EQ(ex.bytes, stats.bytes);
  EXPECT_EQ(describe(src() / "tree"), describe(scratch.path / "out" / "tree"));
  // Nothing but the restored tree is left in the target.
  EXPECT_EQ(std::distance(fs::directory_iterator(scratch.path / "out"), fs::directory_iterator()), 1);
}

TEST_F(ArchiveTest, OutputIsDeterministic) {
  make_tree(src() / "tree");
  EXPECT_EQ(tar_of(src() / "tree", "tree"), tar_of(src() / "tree", "tree"));
}

TEST_F(ArchiveTest, GnuTarReadsOurArchives) {
  make_tree(src() / "tree");
  save(tar_of(src() / "tree", "tree"), scratch.path / "a.tar");
  fs::create_directory(scratch.path / "gnu");
  std::string q = "'" + scratch.path.string() + "'";
  ASSERT_EQ(run("tar -tvf " + q + "/a.tar > " + q + "/list.txt 2> " + q + "/err.txt"), 0);
  std::string list = read_file(scratch.path / "list.txt");
  EXPECT_NE(list.find("tree/link_rel -> plain.txt"), std::string::npos) << list;
  EXPECT_NE(list.find("tree/sub/hard_b link to tree/hard_a"), std::string::npos) << list;
  EXPECT_NE(list.find(std::string(150, 'n') + ".txt"), std::string::npos);
  // Owners by name, as tar lists them.
  const struct passwd* pw = ::getpwuid(::geteuid());
  const struct group* gr = ::getgrgid(::getegid());
  ASSERT_TRUE(pw && gr);
  EXPECT_NE(list.find(std::string(" ") + pw->pw_name + "/" + gr->gr_name + " "), std::string::npos) << list;
  EXPECT_EQ(read_file(scratch.path / "err.txt"), "");
  ASSERT_EQ(run("tar -xpf " + q + "/a.tar -C " + q + "/gnu"), 0);
  EXPECT_EQ(describe(src() / "tree"), describe(scratch.path / "gnu" / "tree"));
}

TEST_F(ArchiveTest, ExtractsGnuTarArchives) {
  make_tree(src() / "tree");
  std::string q = "'" + scratch.path.string() + "'";
  for (const char* format : {"gnu", "pax", "ustar"}) {
    SCOPED_TRACE(format);
    if (std::string(format) == "ustar") {
      // ustar cannot hold the 150-character name.
      for (const auto& e : fs::directory_iterator(src() / "tree" / "sub")) {
        if (e.path().filename().string().size() > 100) fs::remove(e.path());
      }
      fs::remove_all(src() / "tree" / std::string(120, 'd'));
    }
    ASSERT_EQ(run(std::string("tar --format=") + format + " -C " + q + "/src -cf " + q + "/g.tar tree"), 0);
    fs::path out = scratch.path / (std::string("out-") + format);
    fs::create_directory(out);
    extract(load(scratch.path / "g.tar"), out);
    auto want = describe(src() / "tree");
    auto got = describe(out / "tree");
    if (std::string(format) != "pax") {  // gnu and ustar keep whole seconds only
      for (auto* m : {&want, &got}) {
        for (auto& [k, v] : *m) {
          auto dot = v.find('.', v.find("mtime="));
          if (v.find("mtime=") != std::string::npos) v.erase(dot, v.find(' ', dot) - dot);
        }
      }
    }
    EXPECT_EQ(want, got);
  }
}

// Files with holes are archived sparse (only their data regions, with a
// GNU sparse map): the archive stays small, and our extractor and GNU tar
// both restore the same bytes with the holes kept; GNU tar's own sparse
// archives restore with their holes too.
TEST_F(ArchiveTest, SparseFilesKeepTheirHoles) {
  const fs::path tree = src() / "sparse";
  fs::create_directories(tree);
  auto put = [](std::fstream& f, std::uint64_t at, const std::string& bytes) {
    f.seekp(static_cast<std::streamoff>(at));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };
  std::string noise(1 << 20, '\0');
  std::uint32_t x = 12345;
  for (auto& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  {
    std::fstream img(tree / "img", std::ios::out | std::ios::binary);
    img.close();
    fs::resize_file(tree / "img", std::uint64_t{256} << 20);
    img.open(tree / "img", std::ios::in | std::ios::out | std::ios::binary);
    put(img, 0, noise);                                      // data at the start
    put(img, (std::uint64_t{100} << 20) + 12345, noise);     // unaligned, mid-file
    put(img, (std::uint64_t{100} << 20) + 12345 + noise.size() + 1000, "x");  // a short hole, kept as data
    put(img, (std::uint64_t{256} << 20) - 100, std::string(100, 'E'));      // data at the very end
  }
  { std::ofstream(tree / "all_hole"); }
  fs::resize_file(tree / "all_hole", std::uint64_t{64} << 20);
  {
    std::ofstream tail(tree / "trailing_hole", std::ios::binary);
    tail.write(noise.data(), 70000);
  }
  fs::resize_file(tree / "trailing_hole", std::uint64_t{32} << 20);
  auto blocks = [](const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return static_cast<std::uint64_t>(st.st_blocks) * 512;
  };
  if (blocks(tree / "all_hole") != 0) GTEST_SKIP() << "this file system does not keep holes";

  ar::TarStats stats;
  auto tar = tar_of(tree, "sparse", &stats);
  EXPECT_TRUE(stats.unreadable.empty());
  EXPECT_EQ(stats.bytes, (std::uint64_t{256} << 20) + (std::uint64_t{64} << 20) + (std::uint64_t{32} << 20));
  EXPECT_LT(tar.size(), std::size_t{4} << 20);  // ~2 MiB of data, not 352 MiB of zeros

  std::string q = "'" + scratch.path.string() + "'";
  fs::create_directory(scratch.path / "ours");
  extract(tar, scratch.path / "ours", false, 65537);
  save(tar, scratch.path / "s.tar");
  fs::create_directory(scratch.path / "gnu");
  ASSERT_EQ(run("tar -xf " + q + "/s.tar -C " + q + "/gnu"), 0);
  // GNU tar's own sparse archive of the same tree, extracted by us.
  ASSERT_EQ(run("tar --format=pax -S -C " + q + "/src -cf " + q + "/g.tar sparse"), 0);
  fs::create_directory(scratch.path / "from-gnu");
  extract(load(scratch.path / "g.tar"), scratch.path / "from-gnu");
  for (const char* name : {"img", "all_hole", "trailing_hole"}) {
    for (const char* where : {"ours", "gnu", "from-gnu"}) {
      SCOPED_TRACE(std::string(where) + "/" + name);
      const fs::path got = scratch.path / where / "sparse" / name;
      EXPECT_EQ(fs::file_size(got), fs::file_size(tree / name));
      EXPECT_EQ(run("cmp -s '" + (tree / name).string() + "' '" + got.string() + "'"), 0);
      EXPECT_LE(blocks(got), blocks(tree / name) + (std::uint64_t{1} << 20));  // the holes are holes
    }
  }
}

TEST_F(ArchiveTest, SingleFileIsTheTopEntry) {
  fs::create_directory(src());
  write_file(src() / "notes.txt", "just one file", 0600);
  set_mtime(src() / "notes.txt", 1600000000, 5);
  auto tar = tar_of(src() / "notes.txt", "notes.txt");
  fs::create_directory(scratch.path / "out");
  auto ex = extract(tar, scratch.path / "out");
  EXPECT_EQ(ex.top_entries, std::vector<std::string>{"notes.txt"});
  EXPECT_EQ(describe(src() / "notes.txt"), describe(scratch.path / "out" / "notes.txt"));
}

TEST_F(ArchiveTest, ExclusionSkipsMatchesAndDoesNotDescend) {
  fs::path t = src() / "proj";
  fs::create_directories(t / "node_modules" / "pkg");
  fs::create_directories(t / "build" / "tmp");
  fs::create_directories(t / "src");
  write_file(t / ".bakthatexclude", "# generated\n*.log\nnode_modules/\nbuild/tmp\n");
  write_file(t / "node_modules" / "pkg" / "index.js", "x");
  write_file(t / "build" / "tmp" / "a.o", "x");
  write_file(t / "build" / "keep.o", "x");
  write_file(t / "src" / "main.c", "x");
  write_file(t / "src" / "debug.log", "x");
  write_file(t / "top.log", "x");
  auto rules = ar::ExcludeRules::for_directory(t.string(), "");
  auto tar = tar_of(t, "proj", nullptr, rules);
  fs::create_directory(scratch.path / "out");
  extract(tar, scratch.path / "out");
  fs::path o = scratch.path / "out" / "proj";
  EXPECT_TRUE(fs::exists(o / ".bakthatexclude"));  // not excluded automatically
  EXPECT_TRUE(fs::exists(o / "src" / "main.c"));
  EXPECT_TRUE(fs::exists(o / "build" / "keep.o"));
  EXPECT_FALSE(fs::exists(o / "node_modules"));
  EXPECT_FALSE(fs::exists(o / "build" / "tmp"));
  EXPECT_FALSE(fs::exists(o / "src" / "debug.log"));
  EXPECT_FALSE(fs::exists(o / "top.log"));
}

TEST_F(ArchiveTest, UnreadableFilesAreReportedAndSkipped) {
  fs::path t = src() / "t";
  fs::create_directories(t / "locked_dir");
  write_file(t / "a_ok", "fine");
  write_file(t / "b_locked", "no access", 0000);
  write_file(t / "locked_dir" / "inner", "hidden");
  write_file(t / "z_ok", "fine too");
  ::chmod((t / "locked_dir").c_str(), 0000);
  fs::permissions(src(), fs::perms(0755));
  // Root reads anything whatever its mode: run the archiving as "nobody".
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(90);
    try {
      VectorSink sink;
      ar::TarOptions opt;
      opt.root = t.string();
      opt.arcname = "t";
      auto stats = ar::write_tar(opt, sink);
      if (stats.unreadable.size() != 2) ::_exit(91);
      if (stats.unreadable[0].find("b_locked: Permission denied") == std::string::npos) ::_exit(92);
      if (stats.unreadable[1].find("locked_dir: Permission denied") == std::string::npos) ::_exit(93);
      if (stats.files != 2) ::_exit(94);
      // The walk went on: the later file is in the archive.
      std::string data(sink.data.begin(), sink.data.end());
      if (data.find("fine too") == std::string::npos) ::_exit(95);
      ::_exit(0);
    } catch (...) {
      ::_exit(96);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child check failed (see the exit codes in the test)";
}

// Runs `act` once, when the archive has passed 1 MiB: in the middle of a
// multi-chunk file's content, while the writer still reads it.
struct MidwaySink : VectorSink {
  std::function<void()> act;
  bool acted = false;
  void write(Bytes d) override {
    VectorSink::write(d);
    if (!acted && data.size() > (1u << 20)) {
      acted = true;
      act();
    }
  }
};

TEST_F(ArchiveTest, FilesWrittenToWhileReadAreArchivedAndReported) {
  fs::path t = src() / "t";
  fs::create_directories(t);
  write_file(t / "live.log", std::string(3 << 20, 'a'));  // three read chunks
  write_file(t / "still.txt", "unchanged");
  set_mtime(t / "live.log", 1000000000, 0);
  MidwaySink sink;
  sink.act = [&] {
    int fd = ::open((t / "live.log").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "b", 1, 0), 1);
    ::close(fd);
    set_mtime(t / "live.log", 1000000001, 0);  // the clock's granularity cannot hide it
  };
  auto stats = tar_into(sink, t, "t");
  EXPECT_TRUE(sink.acted);
  ASSERT_EQ(stats.changed.size(), 1u);
  EXPECT_EQ(stats.changed[0], (t / "live.log").string());
  EXPECT_TRUE(stats.unreadable.empty());
  EXPECT_EQ(stats.files, 2u);

  // Left alone, nothing is reported.
  ar::TarStats quiet;
  tar_of(t, "t", &quiet);
  EXPECT_TRUE(quiet.changed.empty());
}

TEST_F(ArchiveTest, FileThatShrinksWhileReadIsPaddedAndReportedAsChanged) {
  fs::path t = src() / "t";
  fs::create_directories(t);
  write_file(t / "shrinking", std::string(3 << 20, 'a'));
  MidwaySink sink;
  sink.act = [&] { ASSERT_EQ(::truncate((t / "shrinking").c_str(), 1 << 20), 0); };
  auto stats = tar_into(sink, t, "t");
  EXPECT_TRUE(sink.acted);
  ASSERT_EQ(stats.changed.size(), 1u);
  EXPECT_EQ(stats.changed[0], (t / "shrinking").string());
  EXPECT_TRUE(stats.unreadable.empty());
  // The archive still holds the promised size: the missing end is zeros.
  ScratchDir out;
  extract(sink.data, out.path);
  std::string got = read_file(out.path / "t" / "shrinking");
  ASSERT_EQ(got.size(), 3u << 20);
  EXPECT_EQ(got.substr(0, 1 << 20), std::string(1 << 20, 'a'));
  EXPECT_EQ(got.substr(2 << 20), std::string(1 << 20, '\0'));
}

TEST_F(ArchiveTest, MissingRootIsNotFound) {
  VectorSink sink;
  ar::TarOptions opt;
  opt.root = (scratch.path / "nope").string();
  opt.arcname = "nope";
  try {
    ar::write_tar(opt, sink);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
}

TEST_F(ArchiveTest, SinkErrorsKeepTheirKind) {
  struct FailingSink : bakthat::Sink {
    void write(Bytes) override { throw Error(ErrorKind::Storage, "store is gone"); }
    void finish() override {}
  } sink;
  make_tree(src() / "tree");
  ar::TarOptions opt;
  opt.root = (src() / "tree").string();
  opt.arcname = "tree";
  try {
    ar::write_tar(opt, sink);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Storage);
    EXPECT_STREQ(e.what(), "store is gone");
  }
}

// ---- restore safety ---------------------------------------------------------

struct HostileCase {
  const char* name;
  std::vector<RawEntry> entries;
};

TEST_F(ArchiveTest, HostileArchivesAreRefusedAndWriteNothing) {
  fs::path outside = scratch.path / "outside";
  fs::path target = scratch.path / "nest" / "target";
  std::vector<HostileCase> cases = {
      {"dotdot", {raw_file("ok.txt", "fine"), raw_file("../x", "evil")}},
      {"dotdot deep", {raw_file("a/b/../../../x", "evil")}},
      {"absolute", {raw_file(outside.string() + "/x", "evil")}},
      {"through symlink", {raw_symlink("l", outside.string()), raw_file("l/x", "evil")}},
      {"through relative symlink", {raw_symlink("l", "../.."), raw_file("l/outside/x", "evil")}},
      {"through nested symlink", {raw_dir("d"), raw_symlink("d/l", outside.string()),
                                  raw_file("d/l/x", "evil")}},
      {"hardlink outside", {raw_hardlink("h", "../../outside/x")}},
      {"hardlink absolute", {raw_hardlink("h", outside.string() + "/victim")}},
      {"through hardlinked symlink", {raw_symlink("s", outside.string()), raw_hardlink("h", "s"),
                                      raw_file("h/x", "evil")}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    fs::remove_all(scratch.path / "nest");
    fs::remove_all(outside);
    fs::create_directories(target);
    fs::create_directories(outside);
    write_file(outside / "victim", "untouched");
    write_file(target / "existing", "mine");
    auto before_target = describe(target);
    auto before_outside = describe(outside);
    auto tar = raw_tar(c.entries);
    try {
      extract(tar, target);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Unsafe) << e.what();
    }
    EXPECT_EQ(describe(target), before_target);
    EXPECT_EQ(describe(outside), before_outside);
    EXPECT_EQ(listing(scratch.path / "nest"), (std::vector<std::string>{target.string(),
                                                                        (target / "existing").string()}));
    EXPECT_FALSE(fs::exists(scratch.path / "x"));
  }
}

TEST_F(ArchiveTest, SymlinksPointingOutsideAreKeptAsLinks) {
  // A link may point anywhere; only writing through it is refused.
  auto tar = raw_tar({raw_symlink("l", "/etc/passwd"), raw_symlink("d/up", "../..")});
  fs::create_directory(scratch.path / "out");
  extract(tar, scratch.path / "out");
  EXPECT_EQ(fs::read_symlink(scratch.path / "out" / "l"), "/etc/passwd");
  EXPECT_EQ(fs::read_symlink(scratch.path / "out" / "d" / "up"), "../..");
}

TEST_F(ArchiveTest, EntriesReplacingASymlinkDoNotFollowIt) {
  // A later entry of the same name replaces the link itself; nothing is
  // written, chmod-ed or touched where the link pointed.
  fs::path outside = scratch.path / "outside";
  fs::create_directories(outside);
  fs::permissions(outside, fs::perms::owner_all);
  write_file(outside / "victim", "untouched");
  auto before_outside = describe(outside);
  auto tar = raw_tar({raw_symlink("d", outside.string()), raw_dir("d"), raw_file("d/x", "inside"),
                      raw_symlink("f", (outside / "victim").string()), raw_file("f", "new"),
                      raw_symlink("h", outside.string()), raw_hardlink("h", "f")});
  fs::path out = scratch.path / "out";
  fs::create_directory(out);
  extract(tar, out);
  EXPECT_EQ(describe(outside), before_outside);
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(out / "d")));
  EXPECT_EQ(read_file(out / "d" / "x"), "inside");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(out / "f")));
  EXPECT_EQ(read_file(out / "f"), "new");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(out / "h")));
  EXPECT_TRUE(fs::equivalent(out / "h", out / "f"));
}

TEST_F(ArchiveTest, HardLinkWithDataToAnOutsideSymlinkChangesNothingOutside) {
  // A hard link to a symlink is a second name of the symlink: the data and
  // mode (setuid too) it carries must never reach the file the link names.
  fs::path outside = scratch.path / "outside";
  fs::create_directories(outside);
  write_file(outside / "victim", "untouched", 0644);
  auto before_outside = describe(outside);
  // libarchive's writer drops a hard link's data: the archive is written by
  // hand, as Python's tarfile writes it (a pax header keeps the link's size).
  auto block = [](std::string name, char type, std::size_t size, unsigned mode, std::string link) {
    std::string h(512, '\0');
    auto put = [&](std::size_t at, std::size_t len, const std::string& v) { h.replace(at, v.size(), v); (void)len; };
    auto octal = [](std::uint64_t v, int width) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%0*llo", width - 1, static_cast<unsigned long long>(v));
      return std::string(buf);
    };
    put(0, 100, name);
    put(100, 8, octal(mode, 8));
    put(108, 8, octal(0, 8));
    put(116, 8, octal(0, 8));
    put(124, 12, octal(size, 12));
    put(136, 12, octal(0, 12));
    h[156] = type;
    put(157, 100, link);
    put(257, 6, std::string("ustar\0", 6));
    put(263, 2, "00");
    h.replace(148, 8, std::string(8, ' '));
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    put(148, 8, octal(sum, 7) + std::string(1, '\0'));
    return h;
  };
  auto padded = [](std::string data) {
    data.resize((data.size() + 511) / 512 * 512, '\0');
    return data;
  };
  const std::string record = "26 comment=keeps the size\n";
  std::string raw = block("l", '2', 0, 0777, (outside / "victim").string()) +
                    block("PaxHeaders/h", 'x', record.size(), 0644, "") + padded(record) +
                    block("h", '1', 1, 04777, "l") + padded("A") + std::string(1024, '\0');
  std::vector<std::uint8_t> tar(raw.begin(), raw.end());
  {  // The archive is what the test means: a hard link that carries data.
    VectorSource check(tar, SIZE_MAX);
    ar::ExtractStats seen = ar::read_tar(check);
    ASSERT_EQ(seen.bytes, 1u);
  }
  fs::path out = scratch.path / "out";
  fs::create_directory(out);
  try {
    extract(tar, out);
    EXPECT_EQ(fs::read_symlink(out / "h"), outside / "victim");
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
  EXPECT_EQ(describe(outside), before_outside);
  EXPECT_EQ(fs::status(outside / "victim").permissions() & fs::perms::mask, static_cast<fs::perms>(0644));
}

TEST_F(ArchiveTest, ExistingNamesNeedForce) {
  make_tree(src() / "tree");
  auto tar = tar_of(src() / "tree", "tree");
  fs::path out = scratch.path / "out";
  fs::create_directories(out / "tree" / "old_only");
  write_file(out / "tree" / "plain.txt", "old content");
  write_file(out / "tree" / "sub", "a file where the archive has a directory");
  write_file(out / "unrelated", "stays");
  auto before = describe(out);
  try {
    extract(tar, out);
    FAIL() << "no conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Conflict);
    EXPECT_NE(std::string(e.what()).find("/tree/plain.txt (and 1 more); use --force"), std::string::npos) << e.what();
  }
  EXPECT_EQ(describe(out), before);

  // Merged: the archive's entries replace theirs, the rest stays (tar -x,
  // restic); the merged directory takes the archive's mode and times.
  extract(tar, out, /*force=*/true);
  auto merged = describe(out / "tree");
  EXPECT_EQ(merged.erase("./old_only"), 1u);
  EXPECT_EQ(merged, describe(src() / "tree"));
  EXPECT_EQ(read_file(out / "unrelated"), "stays");
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 2);
}

TEST_F(ArchiveTest, NewEntriesGoIntoAnExistingDirectoryWithoutForce) {
  make_tree(src() / "tree");
  auto tar = tar_of(src() / "tree", "tree");
  fs::path out = scratch.path / "out";
  fs::create_directories(out / "tree" / "sub" / "mine");
  write_file(out / "tree" / "sub" / "mine" / "notes", "kept");
  ::chmod((out / "tree").c_str(), 0711);
  extract(tar, out);
  EXPECT_EQ(read_file(out / "tree" / "sub" / "mine" / "notes"), "kept");
  EXPECT_EQ(read_file(out / "tree" / "plain.txt"), "hello\n");
  // Not asked to replace anything, so the existing directory keeps its mode.
  EXPECT_EQ(fs::status(out / "tree").permissions() & fs::perms::mask, static_cast<fs::perms>(0711));
  auto restored = describe(out / "tree");
  for (const auto& name : {"./sub/mine", "./sub/mine/notes"}) EXPECT_EQ(restored.erase(name), 1u) << name;
  auto archived = describe(src() / "tree");
  for (const auto& merged : {".", "./sub"}) {  // their own mode and times stay the existing ones
    archived.erase(merged);
    restored.erase(merged);
  }
  EXPECT_EQ(restored, archived);
}

TEST_F(ArchiveTest, MergedReadOnlyDirectoryTakesTheArchivedMode) {
  // The staged copy is opened up to move its entries out; the target's
  // directory still gets the mode the archive gives.
  fs::create_directories(src() / "tree" / "ro");
  write_file(src() / "tree" / "ro" / "f", "new");
  ::chmod((src() / "tree" / "ro").c_str(), 0555);
  auto tar = tar_of(src() / "tree", "tree");
  ::chmod((src() / "tree" / "ro").c_str(), 0755);
  fs::path out = scratch.path / "out";
  fs::create_directories(out / "tree" / "ro");
  write_file(out / "tree" / "ro" / "mine", "kept");
  extract(tar, out, /*force=*/true);
  EXPECT_EQ(read_file(out / "tree" / "ro" / "f"), "new");
  EXPECT_EQ(read_file(out / "tree" / "ro" / "mine"), "kept");
  EXPECT_EQ(fs::status(out / "tree" / "ro").permissions() & fs::perms::mask, static_cast<fs::perms>(0555));
  ::chmod((out / "tree" / "ro").c_str(), 0755);
}

TEST_F(ArchiveTest, FailedMergeLeavesTargetAsItWas) {
  make_tree(src() / "tree");
  auto tar = tar_of(src() / "tree", "tree");
  fs::path out = scratch.path / "out";
  fs::create_directories(out / "tree" / "sub" / "deeper");
  write_file(out / "tree" / "plain.txt", "old content");
  write_file(out / "tree" / "mine", "kept");
  // A directory nothing may be moved into (immutable for root, read-only
  // for others): the merge fails after earlier entries were placed.
  fs::path locked = out / "tree" / "sub" / "deeper";
  bool immutable = false;
  if (::geteuid() == 0) {
    immutable = std::system(("chattr +i '" + locked.string() + "' 2>/dev/null").c_str()) == 0;
    if (!immutable) GTEST_SKIP() << "chattr +i is not available here";
  } else {
    ::chmod(locked.c_str(), 0555);
  }
  auto before = describe(out);
  EXPECT_THROW(extract(tar, out, /*force=*/true), Error);
  if (immutable) {
    EXPECT_EQ(std::system(("chattr -i '" + locked.string() + "'").c_str()), 0);
  } else {
    ::chmod(locked.c_str(), 0755);
  }
  EXPECT_EQ(describe(out), before);
  EXPECT_EQ(read_file(out / "tree" / "plain.txt"), "old content");
}

TEST_F(ArchiveTest, ExistingFileReplacedByFileWithForce) {
  fs::create_directory(src());
  write_file(src() / "f.txt", "new");
  auto tar = tar_of(src() / "f.txt", "f.txt");
  fs::create_directory(scratch.path / "out");
  write_file(scratch.path / "out" / "f.txt", "old");
  EXPECT_THROW(extract(tar, scratch.path / "out"), Error);
  EXPECT_EQ(read_file(scratch.path / "out" / "f.txt"), "old");
  extract(tar, scratch.path / "out", true);
  EXPECT_EQ(read_file(scratch.path / "out" / "f.txt"), "new");
}

TEST_F(ArchiveTest, ForceNeverEmptiesADirectoryForAFile) {
  fs::create_directories(src() / "tree");
  write_file(src() / "tree" / "a", "archived file");
  auto tar = tar_of(src() / "tree", "tree");
  fs::path out = scratch.path / "out";
  fs::create_directories(out / "tree" / "a" / "inner");
  write_file(out / "tree" / "a" / "inner" / "mine", "not in the archive");
  auto before = describe(out);
  try {
    extract(tar, out, /*force=*/true);
    FAIL() << "replaced a directory with entries";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Conflict);
    EXPECT_NE(std::string(e.what()).find("/tree/a, which is not empty, with a file"), std::string::npos) << e.what();
  }
  EXPECT_EQ(describe(out), before);
  // An empty directory holds nothing to lose: replaced.
  fs::remove_all(out / "tree" / "a" / "inner");
  extract(tar, out, /*force=*/true);
  EXPECT_EQ(read_file(out / "tree" / "a"), "archived file");
}

TEST_F(ArchiveTest, TruncatedStreamLeavesTargetUnchanged) {
  make_tree(src() / "tree");
  auto tar = tar_of(src() / "tree", "tree");
  fs::path out = scratch.path / "out";
  fs::create_directory(out);
  write_file(out / "existing", "mine");
  auto before = describe(out);
  for (std::size_t cut : {tar.size() / 2, tar.size() - 3000, std::size_t{700}}) {
    SCOPED_TRACE(cut);
    std::vector<std::uint8_t> part(tar.begin(), tar.begin() + static_cast<std::ptrdiff_t>(cut));
    try {
      extract(part, out);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Corrupt) << e.what();
    }
    EXPECT_EQ(describe(out), before);
    VectorSource src(part);
    EXPECT_THROW(ar::read_tar(src), Error);
  }
}

TEST_F(ArchiveTest, SourceErrorsKeepTheirKind) {
  struct FailingSource : bakthat::Source {
    std::size_t read(MutableBytes) override { throw Error(ErrorKind::Crypto, "wrong password"); }
  } src;
  fs::create_directory(scratch.path / "out");
  ar::ExtractOptions opt;
  opt.target_dir = (scratch.path / "out").string();
  try {
    ar::extract_tar(src, opt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Crypto);
  }
  EXPECT_TRUE(fs::is_empty(scratch.path / "out"));
}

TEST_F(ArchiveTest, ReadTarCountsWithoutWriting) {
  make_tree(src() / "tree");
  ar::TarStats stats;
  auto tar = tar_of(src() / "tree", "tree", &stats);
  VectorSource in(tar, 10000);
  auto r = ar::read_tar(in);
  EXPECT_EQ(r.entries, stats.entries);
  EXPECT_EQ(r.bytes, stats.bytes);
  EXPECT_EQ(r.top_entries, std::vector<std::string>{"tree"});

  std::vector<std::uint8_t> garbage(4096, 0x5a);
  VectorSource bad(garbage);
  try {
    ar::read_tar(bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
  }
}

TEST_F(ArchiveTest, OnlyTarIsRead) {
  // Formats libarchive also reads are refused: an mtree line claims 8 EiB
  // with no data behind it (found by the tar fuzzer: extract_single_to
  // wrote zeros for it without end), a cpio archive is no backup.
  const std::string mtree = "#mtree\nf type=file size=9223372036854775807\n";
  // One file "f" in cpio's newc format: the header's 13 fields in hex, the
  // name and the data each padded to 4 bytes, then the trailer entry.
  auto newc = [](const std::string& name, const std::string& data, unsigned mode) {
    char head[111];
    std::snprintf(head, sizeof head, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1u, mode, 0u, 0u,
                  1u, 0u, data.size(), 0u, 0u, 0u, 0u, name.size() + 1, 0u);
    std::string out = std::string(head, 110) + name + '\0';
    out.resize((out.size() + 3) / 4 * 4, '\0');
    out += data;
    out.resize((out.size() + 3) / 4 * 4, '\0');
    return out;
  };
  const std::string cpio = newc("f", "cpio content", 0100644) + newc("TRAILER!!!", "", 0) + std::string(400, '\0');
  for (const auto& input : {std::vector<std::uint8_t>(mtree.begin(), mtree.end()),
                            std::vector<std::uint8_t>(cpio.begin(), cpio.end())}) {
    for (int mode = 0; mode < 2; ++mode) {
      VectorSource in(input);
      struct BoundedSink : bakthat::Sink {  // a regression fails fast, not out of memory
        std::size_t written = 0;
        void write(Bytes d) override {
          written += d.size();
          if (written > (1u << 20)) throw std::runtime_error("unbounded output");
        }
        void finish() override {}
      } out;
      try {
        if (mode == 0) ar::extract_single_to(in, out);
        else ar::read_tar(in);
        FAIL() << "read as an archive";
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Corrupt) << e.what();
      }
      EXPECT_EQ(out.written, 0u);
    }
  }
}

TEST_F(ArchiveTest, ErrorAtTheEndOfTheStreamStillAbortsTheRestore) {
  // The stages upstream (hash, authentication) only judge the stream at its
  // very end: extraction must read that far before moving anything.
  struct CheckedAtEnd : bakthat::Source {
    VectorSource inner;
    explicit CheckedAtEnd(const std::vector<std::uint8_t>& d) : inner(d) {}
    std::size_t read(MutableBytes out) override {
      std::size_t n = inner.read(out);
      if (n == 0) throw Error(ErrorKind::Corrupt, "sha256 mismatch");
      return n;
    }
  };
  make_tree(src() / "tree");
  auto tar = tar_of(src() / "tree", "tree");
  tar.resize(tar.size() + 10240, 0);  // record padding, as GNU tar writes
  fs::path out = scratch.path / "out";
  fs::create_directory(out);
  auto before = describe(out);
  CheckedAtEnd in(tar);
  ar::ExtractOptions opt;
  opt.target_dir = out.string();
  try {
    ar::extract_tar(in, opt);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_STREQ(e.what(), "sha256 mismatch");
  }
  EXPECT_EQ(describe(out), before);
  CheckedAtEnd again(tar);
  EXPECT_THROW(ar::read_tar(again), Error);
}

TEST_F(ArchiveTest, ArchiveNameMustBeARelativeName) {
  fs::create_directory(src());
  for (const char* bad : {"", ".", "..", "/abs", "../up"}) {
    VectorSink sink;
    ar::TarOptions opt;
    opt.root = src().string();
    opt.arcname = bad;
    try {
      ar::write_tar(opt, sink);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Usage);
    }
  }
}

namespace {

// A level of GNU tar's incremental format of root, against `base`.
std::vector<std::uint8_t> level_of(const fs::path& root, const ar::Snapshot& base, ar::Snapshot& out,
                                   ar::TarStats* stats = nullptr) {
  VectorSink sink;
  ar::TarOptions o;
  o.root = root.string();
  o.arcname = "tree";
  o.incremental_base = &base;
  o.snapshot_out = &out;
  auto s = ar::write_tar(o, sink);
  if (stats != nullptr) *stats = s;
  return std::move(sink.data);
}

}  // namespace

TEST_F(ArchiveTest, IncrementalLevelsRestoreDeletionsAndRenamesAsGnuTarDoes) {
  make_tree(src() / "tree");
  const fs::path tree = src() / "tree";
  ar::Snapshot empty, s0, s1;
  ar::TarStats st0, st1;
  auto l0 = level_of(tree, empty, s0, &st0);
  EXPECT_EQ(st0.files, 9u);
  // Deletions, a rename (of a directory with a long name), a change, an addition.
  fs::remove(tree / "plain.txt");
  fs::remove_all(tree / "empty_dir");
  fs::rename(tree / std::string(120, 'd'), tree / (std::string(119, 'd') + "X"));
  write_file(tree / "sub" / "secret", "changed data", 0600);
  write_file(tree / "added", "new", 0644);
  auto l1 = level_of(tree, s0, s1, &st1);
  // The change, the addition and the renamed directory's file; the rest is
  // listed in the dumpdirs only.
  EXPECT_EQ(st1.files, 3u);
  EXPECT_LT(l1.size(), l0.size() / 4);

  // Ours: both levels as one restore, read in odd short pieces.
  fs::create_directory(scratch.path / "out");
  VectorSource in0(l0, 509), in1(l1, 1021);
  std::vector<bakthat::Source*> levels{&in0, &in1};
  std::size_t next = 0;
  ar::extract_tar_levels([&]() -> bakthat::Source* { return next < levels.size() ? levels[next++] : nullptr; },
                         {(scratch.path / "out").string(), false});
  EXPECT_EQ(describe(tree), describe(scratch.path / "out" / "tree"));

  // GNU tar's, from the same files.
  save(l0, scratch.path / "l0.tar");
  save(l1, scratch.path / "l1.tar");
  fs::create_directory(scratch.path / "gnu");
  std::string q = "'" + scratch.path.string() + "'";
  for (const char* l : {"l0", "l1"})
    ASSERT_EQ(run("tar -xp --listed-incremental=/dev/null -f " + q + "/" + l + ".tar -C " + q + "/gnu"), 0);
  EXPECT_EQ(describe(tree), describe(scratch.path / "gnu" / "tree"));

  // An unchanged tree: no file at all, every directory listed.
  ar::Snapshot s2;
  ar::TarStats st2;
  level_of(tree, s1, s2, &st2);
  EXPECT_EQ(st2.files, 0u);
  EXPECT_EQ(s2, s1);
}
