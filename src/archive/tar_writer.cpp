// write_tar: walks a tree with openat/fstatat (one syscall per name, no
// path re-resolution) and streams it through libarchive's pax writer into a
// Sink. File content is read in 1 MiB chunks into one reused buffer;
// libarchive passes whole blocks straight from that buffer to the Sink.
// Files with holes (disk images, databases) are stored sparse: only their
// data regions are read and archived, with a GNU sparse 1.0 map in the pax
// header that GNU tar, bsdtar and our extractor turn back into holes.
// Extended attributes and POSIX ACLs of files and directories are kept
// (attributes.hpp).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "archive/staging.hpp"
#include "archive/attributes.hpp"
#include "archive/libarchive_glue.hpp"
#include "util/file_tree.hpp"

namespace bakthat::archive {

namespace {

using detail::ArchiveHandle;
using detail::CallbackState;
using detail::EntryPtr;

constexpr std::size_t kReadChunk = 1 << 20;
// Holes shorter than this are archived as data (zeros): they save little,
// and each costs a map entry. It also bounds the map to size / 64 KiB entries.
constexpr off_t kMinHole = 64 * 1024;
// Files above this get POSIX_FADV_SEQUENTIAL (the default read-ahead window
// covers smaller ones in one or two reads).
constexpr off_t kSequentialFrom = 256 * 1024;

struct Region {
  off_t offset, length;
};

// The data regions of an open regular file of `size` bytes, from
// SEEK_DATA/SEEK_HOLE, with holes under kMinHole merged into the data; empty
// when the file has no hole worth skipping or its file system cannot say.
std::vector<Region> data_regions(int fd, off_t size) {
  std::vector<Region> regions;
  off_t skipped = 0;
  for (off_t pos = 0; pos < size;) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
      if (errno != ENXIO) return {};  // EINVAL: no hole support here
      data = size;                    // only a hole is left
    }
    data = std::min(data, size);
    if (!regions.empty() && data - pos < kMinHole) {
      regions.back().length += data - pos;  // a short hole: kept as data
    } else {
      skipped += data - pos;
    }
    if (data == size) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return {};
    hole = std::min(hole, size);
    if (!regions.empty() && regions.back().offset + regions.back().length == data)
      regions.back().length += hole - data;
    else
      regions.push_back({data, hole - data});
    pos = hole;
  }
  if (skipped < kMinHole) return {};
  // A file that is all hole still needs a map: one empty region at its end,
  // as GNU tar writes it.
  if (regions.empty()) regions.push_back({size, 0});
  return regions;
}

// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct SinkClient {
  Sink* out;
  CallbackState state;
  std::string* capture = nullptr;  // set: what libarchive writes goes here instead
};

la_ssize_t sink_write(struct archive*, void* client, const void* buffer, size_t length) {
  auto* c = static_cast<SinkClient*>(client);
  try {
    if (c->capture != nullptr) {
      c->capture->append(static_cast<const char*>(buffer), length);
      return static_cast<la_ssize_t>(length);
    }
    c->out->write(Bytes(static_cast<const std::uint8_t*>(buffer), length));
    return static_cast<la_ssize_t>(length);
  } catch (...) {
    c->state.error = std::current_exception();
    return -1;
  }
}

constexpr std::size_t kBlock = 512;

// Fields of a ustar header block.
std::uint64_t header_size(const char* block) {
  return std::strtoull(std::string(block + 124, 12).c_str(), nullptr, 8);
}

void set_size_and_checksum(char* block, std::uint64_t size) {
  std::snprintf(block + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  std::memset(block + 148, ' ', 8);
  unsigned sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) sum += static_cast<unsigned char>(block[i]);
  std::snprintf(block + 148, 8, "%06o", sum);  // six digits, NUL, then the space left
}

// One pax record, "LEN key=value\n", LEN counting itself.
std::string pax_record(const std::string& key, const std::string& value) {
  const std::size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  std::size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

// `made` (the bytes libarchive wrote for a directory's header: a pax 'x'
// header with its records, or none, then the ustar header) with the record
// GNU.dumpdir added to the 'x' header, made when libarchive wrote none. By
// hand because no library writes dumpdirs (libarchive has no call for a pax
// record of one's own), in the layout GNU tar's --format=posix gives them.
std::string with_dumpdir(const std::string& made, const std::string& dumpdir) {
  std::string x_header(kBlock, '\0'), records, rest;
  if (made.size() >= kBlock && made[156] == 'x') {
    x_header = made.substr(0, kBlock);
    std::uint64_t size = header_size(made.data());
    std::size_t padded = (size + kBlock - 1) / kBlock * kBlock;
    records = made.substr(kBlock, size);
    rest = made.substr(kBlock + padded);
  } else {
    std::memcpy(x_header.data(), "./PaxHeaders/dumpdir", 20);
    std::memcpy(x_header.data() + 100, "0000644", 7);
    std::memcpy(x_header.data() + 108, "0000000", 7);
    std::memcpy(x_header.data() + 116, "0000000", 7);
    if (made.size() >= kBlock) std::memcpy(x_header.data() + 136, made.data() + 136, 12);  // its mtime
    x_header[156] = 'x';
    std::memcpy(x_header.data() + 257, "ustar\0" "00", 8);
    rest = made;
  }
  records += pax_record("GNU.dumpdir", dumpdir);
  set_size_and_checksum(x_header.data(), records.size());
  records.resize((records.size() + kBlock - 1) / kBlock * kBlock, '\0');
  return x_header + records + rest;
}

class TreeWriter {
 public:
  TreeWriter(const TarOptions& options, Sink& out)
      : options_(options), client_{&out, {}}, archive_(archive_write_new(), false),
        entry_(archive_entry_new()), buffer_(kReadChunk) {
    struct archive* a = archive_.get();
    if (a == nullptr || !entry_) throw Error(ErrorKind::Io, "tar: out of memory");
    // No blocking: libarchive hands each write straight to the sink (which
    // buffers anyway) instead of copying every byte of the tree into a
    // block first, and the stream ends right after the end-of-archive
    // blocks (tar's own 512-byte padding is the format's, unchanged).
    // Extended attributes only as SCHILY.xattr records (GNU tar warns about
    // libarchive's own LIBARCHIVE.xattr ones, which say the same).
    if (archive_write_set_format_pax(a) != ARCHIVE_OK || archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
        archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK) {
      fail("tar: cannot set up the writer");
    }
    if (archive_write_open2(a, &client_, nullptr, sink_write, nullptr, nullptr) != ARCHIVE_OK) {
      fail("tar: cannot open the output");
    }
  }

  TarStats run() {
    const std::string& root = options_.root;
    const std::string& name = options_.arcname;
    if (name.empty() || name == "." || name == ".." || name.front() == '/' ||
        name.find("/../") != std::string::npos || name.starts_with("../") || name.ends_with("/..")) {
      throw Error(ErrorKind::Usage, "invalid archive name '" + name + "'");
    }
    // The root itself is followed if it is a symlink: naming a link to a
    // directory means backing up that directory. Below it, links are stored.
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) {
      int err = errno;
      throw Error(err == ENOENT ? ErrorKind::NotFound : ErrorKind::Io,
                  "cannot back up " + root + ": " + std::strerror(err));
    }
    leave_out_ = Identities(options_.leave_out);
    root_device_ = st.st_dev;
    path_ = options_.arcname;
    rel_.clear();
    if (S_ISDIR(st.st_mode)) {
      int dfd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0) {
        int err = errno;
        throw Error(ErrorKind::Io, "cannot open " + root + ": " + std::strerror(err));
      }
      util::HeldDir dir(dfd);
      walk(dir, 1, st);
    } else {
      util::HeldDir cwd(AT_FDCWD);
      add(cwd, root.c_str(), st, /*followed=*/true, 0);
    }
    if (archive_write_close(archive_.get()) != ARCHIVE_OK) fail("tar: cannot finish the archive");
    client_.out->finish();
    return std::move(stats_);
  }

 private:
  [[noreturn]] void fail(const char* what) {
    client_.state.rethrow_if_any();
    throw Error(ErrorKind::Io, std::string(what) + ": " + detail::error_of(archive_.get(), "error"));
  }

  void note(std::vector<std::string>& list, TarOptions::Notice kind, std::string what) {
    if (options_.on_notice) options_.on_notice(kind, what);
    list.push_back(std::move(what));
  }

  void unreadable(const std::string& path, int err) { unreadable(path, std::strerror(err)); }
  void unreadable(const std::string& path, const std::string& reason) {
    note(stats_.unreadable, TarOptions::Notice::Unreadable, path + ": " + reason);
  }

  // Writes the directory `dir` (whose lstat is dir_st, at `depth` below
  // the root) and the entries below it; path_/rel_ name that directory and
  // are restored on return.
  void walk(util::HeldDir& dir, int depth, const struct stat& dir_st) {
    std::vector<std::string> names;
    {
      int dup = ::dup(dir.fd());
      DIR* d = dup < 0 ? nullptr : ::fdopendir(dup);
      if (d == nullptr) {
        int err = errno;
        if (dup >= 0) ::close(dup);
        write_header(dir_st, nullptr, nullptr, nullptr, dir.fd());
        unreadable(display_path(), err);
        return;
      }
      errno = 0;
      while (struct dirent* de = ::readdir(d)) {
        if (!util::is_dot_or_dotdot(de->d_name)) names.emplace_back(de->d_name);
      }
      int err = errno;
      ::closedir(d);
      if (err != 0) unreadable(display_path(), err);
    }
    std::sort(names.begin(), names.end());  // deterministic archives

    const std::size_t path_len = path_.size();
    const std::size_t rel_len = rel_.size();
    auto enter = [&](const std::string& name) {
      path_.append("/").append(name);
      if (!rel_.empty()) rel_.push_back('/');
      rel_.append(name);
    };
    auto leave = [&] {
      path_.resize(path_len);
      rel_.resize(rel_len);
    };
    // An incremental level decides first what of the directory it takes,
    // since the directory's header lists that before its entries.
    std::vector<Child> children;
    std::string dumpdir;
    if (incremental()) {
      children.reserve(names.size());
      for (const auto& name : names) {
        enter(name);
        children.push_back(classify(dir.fd(), name));
        leave();
        dumpdir.append(1, children.back().flag).append(name).push_back('\0');
      }
      dumpdir.push_back('\0');
    }
    write_header(dir_st, nullptr, nullptr, nullptr, dir.fd(), incremental() ? &dumpdir : nullptr);

    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string& name = names[i];
      if (dir.fd() < 0) {  // moved or replaced while the walk was below it
        unreadable(display_path(), "moved while it was read; the rest of it is left out");
        break;
      }
      enter(name);
      if (detail::is_restore_leftover(name)) {
        note(stats_.left_out, TarOptions::Notice::RestoreLeftover, display_path());
      } else if (options_.excludes.excluded_leaf(rel_.c_str())) {
        note(stats_.excluded, TarOptions::Notice::Excluded, display_path());
      } else {
        struct stat st {};
        int err = 0;
        if (incremental()) {
          st = children[i].st;
          err = children[i].err;
        } else if (::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          err = errno;
        }
        if (err != 0) {
          unreadable(display_path(), err);  // vanished since readdir
        } else if (leave_out_.contains(st)) {
          note(stats_.left_out, TarOptions::Notice::LeftOut, display_path());
        } else if (incremental() && children[i].unchanged) {
          accounted(st);
        } else {
          add(dir, name.c_str(), st, /*followed=*/false, depth);
        }
      }
      leave();
    }
  }

  bool incremental() const { return options_.incremental_base != nullptr; }

  // An entry of a directory as an incremental level sees it, and its
  // dumpdir flag: 'D' a directory, 'Y' in this archive, 'N' not (unchanged
  // since the base, or not archived at all: excluded, left out, a socket,
  // gone; tar -x then leaves what the target has under that name).
  struct Child {
    struct stat st {};
    int err = 0;
    char flag = 'N';
    bool unchanged = false;
  };

  // path_/rel_ name the entry `name` of the directory open as dirfd.
  Child classify(int dirfd, const std::string& name) {
    Child c;
    if (detail::is_restore_leftover(name) || options_.excludes.excluded_leaf(rel_.c_str())) return c;
    if (::fstatat(dirfd, name.c_str(), &c.st, AT_SYMLINK_NOFOLLOW) != 0) {
      c.err = errno;
      return c;
    }
    if (leave_out_.contains(c.st) || S_ISSOCK(c.st.st_mode)) return c;
    if (S_ISDIR(c.st.st_mode)) {
      c.flag = 'D';
      return c;
    }
    auto it = options_.incremental_base->find(path_);
    c.unchanged = it != options_.incremental_base->end() && it->second.matches(c.st);
    c.flag = c.unchanged ? 'N' : 'Y';
    return c;
  }

  // Records a non-directory written into this level.
  void accounted(const struct stat& st) {
    if (options_.snapshot_out != nullptr) options_.snapshot_out->insert_or_assign(path_, FileState::of(st));
  }

  // Adds one name found in `parent` (whose lstat is st, at `depth` below the
  // root) and, for a directory, everything below it. A deep walk lets go of
  // `parent` meanwhile (util::HeldDir): parent.fd() is -1 on return if it
  // could not be taken back.
  void add(util::HeldDir& parent, const char* name, const struct stat& st, bool followed, int depth) {
    const int dirfd = parent.fd();
    if (S_ISREG(st.st_mode)) {
      add_file(dirfd, name, st, followed);
    } else if (S_ISDIR(st.st_mode)) {
      util::HeldDir dir(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (dir.fd() < 0) {
        int err = errno;
        write_header(st, nullptr);  // without a dumpdir: tar -x keeps what it holds
        unreadable(display_path(), err);
        return;
      }
      if (options_.one_file_system && st.st_dev != root_device_) {
        write_header(st, nullptr, nullptr, nullptr, dir.fd());
        note(stats_.other_file_systems, TarOptions::Notice::OtherFileSystem, display_path());
        return;
      }
      parent.descend(dir, depth + 1, [&] { walk(dir, depth + 1, st); });
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
      while (true) {
        ssize_t n = ::readlinkat(dirfd, name, target.data(), target.size());
        if (n < 0) {
          unreadable(display_path(), errno);
          return;
        }
        if (static_cast<std::size_t>(n) < target.size()) {
          target.resize(static_cast<std::size_t>(n));
          break;
        }
        target.resize(target.size() * 2);  // the link grew since lstat
      }
      write_header(st, target.c_str());
      accounted(st);
    } else if (S_ISSOCK(st.st_mode)) {
      // Sockets cannot be recreated from an archive (GNU tar skips them too).
    } else {
      write_header(st, nullptr);  // FIFOs and device nodes: metadata only
      accounted(st);
    }
  }

  void add_file(int dirfd, const char* name, const struct stat& lst, bool followed) {
    // O_NONBLOCK: if the name was swapped for a FIFO since lstat, opening it
    // must not hang; the fstat below then sees it is not a regular file.
    // (Reads from regular files ignore the flag.)
    int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followed ? 0 : O_NOFOLLOW);
    int fd = ::openat(dirfd, name, flags);
    if (fd < 0) {
      unreadable(display_path(), errno);
      return;
    }
    Fd file(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      unreadable(display_path(), errno);
      return;
    }
    if (!S_ISREG(st.st_mode) || (!followed && st.st_ino != lst.st_ino)) {
      unreadable(display_path(), "changed while being archived");
      return;
    }
    // Second and later names of a multiply-linked file become hard links
    // to the first name archived.
    if (st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto it = links_.find(key);
      if (it != links_.end()) {
        write_header(st, nullptr, it->second.c_str());
        accounted(st);
        return;
      }
      links_.emplace(key, path_);
    }
    // Skipped for small files: a syscall per file is not free on a VM.
    if (st.st_size > kSequentialFrom) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    // Fewer blocks than the size needs: the file has holes (a cheap test
    // that spares ordinary files the SEEK_DATA/SEEK_HOLE calls).
    std::vector<Region> regions;
    if (st.st_blocks * 512 < st.st_size) regions = data_regions(fd, st.st_size);
    write_header(st, nullptr, nullptr, regions.empty() ? nullptr : &regions, fd);
    ++stats_.files;
    accounted(st);

    // The header promised st_size bytes: a file that grows is cut there, a
    // file that shrinks or fails to read is padded with zeros by libarchive
    // (and reported).
    Copied copied = Copied::kAll;
    if (regions.empty()) {
      copied = copy_content(fd, 0, st.st_size);
    } else {
      // libarchive takes the whole logical stream and skips the holes'
      // bytes itself (bsdtar feeds it zeros the same way); only the data
      // regions are read from the file.
      off_t pos = 0;
      for (const Region& r : regions) {
        skip_hole(r.offset - pos);
        copied = copy_content(fd, r.offset, r.length);
        if (copied != Copied::kAll) break;
        pos = r.offset + r.length;
      }
      if (copied == Copied::kAll) skip_hole(st.st_size - pos);
    }
    if (archive_write_finish_entry(archive_.get()) < ARCHIVE_WARN) fail("tar: cannot write");
    // As GNU tar and borg do, say so when a file was written to while it was
    // read (a live log, a database without a dump): its copy may be torn.
    struct stat after {};
    if (copied == Copied::kShrank ||
        (copied == Copied::kAll && ::fstat(fd, &after) == 0 && changed_while_read(st, after))) {
      note(stats_.changed, TarOptions::Notice::Changed, display_path());
    }
  }

  enum class Copied { kAll, kShrank, kFailed };

  // Archives `length` bytes of the file from `offset`, or less when the file
  // ended first (kShrank) or a read failed (kFailed, reported here).
  Copied copy_content(int fd, off_t offset, off_t length) {
    auto remaining = static_cast<std::uint64_t>(length);
    while (remaining > 0) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buffer_.size()));
      ssize_t n = ::pread(fd, buffer_.data(), want, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        unreadable(display_path(), "read failed at byte " + std::to_string(offset) + ": " + std::strerror(errno) +
                                       "; archived with zeros from there");
        return Copied::kFailed;
      }
      if (n == 0) return Copied::kShrank;
      write_data(buffer_.data(), static_cast<std::size_t>(n));
      offset += n;
      remaining -= static_cast<std::uint64_t>(n);
      stats_.bytes += static_cast<std::uint64_t>(n);
      if (options_.on_progress) options_.on_progress(static_cast<std::uint64_t>(n));
    }
    return Copied::kAll;
  }

  // Passes a hole of `length` bytes to libarchive, which writes nothing for it.
  void skip_hole(off_t length) {
    if (zeros_.empty()) zeros_.assign(kReadChunk, 0);
    for (auto remaining = static_cast<std::uint64_t>(length); remaining > 0;) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, zeros_.size()));
      write_data(zeros_.data(), n);
      remaining -= n;
      stats_.bytes += n;
      if (options_.on_progress) options_.on_progress(n);
    }
  }

  void write_data(const std::uint8_t* data, std::size_t size) {
    while (size > 0) {
      la_ssize_t n = archive_write_data(archive_.get(), data, size);
      if (n < 0) fail("tar: cannot write");
      if (n == 0) return;  // entry full
      data += n;
      size -= static_cast<std::size_t>(n);
    }
  }

  // Writes the header of the current path_ (a hard link when hardlink is set,
  // a symlink when symlink is set, a sparse file when regions is set), with
  // the extended attributes of the file or directory open as `fd`, if any,
  // and a directory's GNU.dumpdir record when dumpdir is set.
  void write_header(const struct stat& st, const char* symlink, const char* hardlink = nullptr,
                    const std::vector<Region>* regions = nullptr, int fd = -1,
                    const std::string* dumpdir = nullptr) {
    archive_entry* e = entry_.get();
    archive_entry_clear(e);
    archive_entry_copy_pathname(e, path_.c_str());
    archive_entry_set_mode(e, st.st_mode);
    archive_entry_set_uid(e, st.st_uid);
    archive_entry_set_gid(e, st.st_gid);
    archive_entry_copy_uname(e, names_.user(st.st_uid));
    archive_entry_copy_gname(e, names_.group(st.st_gid));
    archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_nlink(e, static_cast<unsigned int>(st.st_nlink));
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) archive_entry_set_rdev(e, st.st_rdev);
    if (hardlink != nullptr) {
      archive_entry_copy_hardlink(e, hardlink);
      archive_entry_set_size(e, 0);
    } else if (S_ISREG(st.st_mode)) {
      archive_entry_set_size(e, st.st_size);
      if (regions != nullptr) {
        for (const Region& r : *regions) archive_entry_sparse_add_entry(e, r.offset, r.length);
      }
    } else {
      archive_entry_set_size(e, 0);
    }
    if (symlink != nullptr) archive_entry_copy_symlink(e, symlink);
    if (fd >= 0) {
      std::vector<std::string> problems;  // allocates only when there are some
      attributes_.add_to(fd, e, problems);
      for (const auto& p : problems) unreadable(display_path(), p);
    }
    // ARCHIVE_WARN: a name that is not valid UTF-8 is stored as raw bytes
    // (hdrcharset=BINARY), which tar readers restore as is.
    if (dumpdir == nullptr) {
      if (archive_write_header(archive_.get(), e) < ARCHIVE_WARN) fail("tar: cannot write header");
    } else {
      // The previous entry's padding goes out first, then the header is
      // caught whole (libarchive writes unblocked, straight through).
      if (archive_write_finish_entry(archive_.get()) < ARCHIVE_WARN) fail("tar: cannot write");
      std::string made;
      client_.capture = &made;
      int rc = archive_write_header(archive_.get(), e);
      client_.capture = nullptr;
      if (rc < ARCHIVE_WARN) fail("tar: cannot write header");
      std::string spliced = with_dumpdir(made, *dumpdir);
      client_.out->write(Bytes(reinterpret_cast<const std::uint8_t*>(spliced.data()), spliced.size()));
    }
    ++stats_.entries;
  }

  // The path shown to users for messages: under the root they named.
  std::string display_path() const {
    if (rel_.empty()) return options_.root;
    return options_.root.ends_with('/') ? options_.root + rel_ : options_.root + "/" + rel_;  // "/" backed up
  }

  const TarOptions& options_;
  SinkClient client_;
  ArchiveHandle archive_;
  EntryPtr entry_;
  std::vector<std::uint8_t> buffer_;
  std::vector<std::uint8_t> zeros_;  // what holes are passed as
  OwnerNames names_;
  AttributeReader attributes_{names_};
  TarStats stats_;
  std::string path_;  // name in the archive of the entry being written
  std::string rel_;   // the same, relative to the root (for exclusion)
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
  Identities leave_out_;
  dev_t root_device_ = 0;
};

}  // namespace

FileState FileState::of(const struct stat& st) {
  auto ns = [](const struct timespec& t) { return std::int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; };
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino), ns(st.st_mtim),
          ns(st.st_ctim), static_cast<std::int64_t>(st.st_size)};
}

bool FileState::matches(const struct stat& st) const {
  if (!from_index) return *this == of(st);
  return S_ISREG(st.st_mode) && size == static_cast<std::int64_t>(st.st_size) &&
         mtime_ns / 1000000000 == std::int64_t{st.st_mtim.tv_sec} && mode == (st.st_mode & 07777) &&
         uid == static_cast<std::int64_t>(st.st_uid) && gid == static_cast<std::int64_t>(st.st_gid);
}

Identities::Identities(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) ids_.emplace_back(st.st_dev, st.st_ino);
  }
}

bool Identities::contains(const struct stat& st) const {
  for (const auto& [dev, ino] : ids_)
    if (st.st_dev == dev && st.st_ino == ino) return true;
  return false;
}

bool changed_while_read(const struct stat& before, const struct stat& after) {
  auto same = [](const struct timespec& a, const struct timespec& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
  };
  return after.st_size != before.st_size || !same(after.st_mtim, before.st_mtim) ||
         !same(after.st_ctim, before.st_ctim);
}

TarStats write_tar(const TarOptions& options, Sink& out) {
  detail::Utf8LocaleScope utf8;
  TreeWriter writer(options, out);
  return writer.run();
}

}  // namespace bakthat::archive
