// extract_tar / read_tar: libarchive reads the (already decompressed) tar
// stream from a Source; extraction goes through archive_write_disk into a
// staging directory inside the target, then the top-level names are renamed
// into place. Names are checked here before libarchive sees them.
//
// Why not libarchive's ARCHIVE_EXTRACT_SECURE_SYMLINKS: it lstats and opens
// every component of every staged path (~12 openat + ~11 fstatat per entry
// here), which made restores of many small files syscall bound. It is not
// needed: the staging directory is fresh and private (mkdtemp, 0700), so the
// only symlinks in it are the ones this archive created, which the Extractor
// tracks itself. It refuses any entry or hard-link target below one of them
// and removes one before an entry replaces it (so nothing is written, and no
// deferred mode or time is applied, through a link).
//
// Links (symlinks, and hard links, which may name a symlink) are made here,
// never by libarchive: for an entry it cannot open, archive_write_disk
// applies the entry's mode with a path-based chmod(2), which follows a
// symlink wherever it points (a hard link to an outside symlink carrying
// mode 04777 would change the outside file). Every call made here on a
// staged link uses the *at() form with AT_SYMLINK_NOFOLLOW, or does not
// follow by nature (link, symlink, unlink).
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "archive/archive.hpp"
#include "archive/libarchive_glue.hpp"
#include "archive/staging.hpp"
#include "util/file_tree.hpp"

namespace bakthat::archive {

namespace {

using detail::ArchiveHandle;
using detail::CallbackState;
using detail::EntryPtr;

constexpr std::size_t kReadBlock = 1 << 20;

std::string relative_name(std::string_view name, const char* what);

// The GNU incremental directory listings (dumpdirs) of a tar stream: the
// GNU.dumpdir pax records and GNU 'D' entries, by the relative name of their
// directory, read from the raw bytes as libarchive is given them (libarchive
// reads them but has no call that hands them over). By the time libarchive
// returns a directory's entry, its header has gone through here.
class DumpdirScanner {
 public:
  void feed(const std::uint8_t* p, std::size_t n) {
    while (n > 0 && state_ != State::End) {
      if (state_ == State::Header) {
        std::size_t take = std::min(n, kBlock - block_.size());
        block_.append(reinterpret_cast<const char*>(p), take);
        p += take;
        n -= take;
        if (block_.size() == kBlock) header();
      } else {
        std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
        if (keep_ && content_.size() < size_)
          content_.append(reinterpret_cast<const char*>(p), std::min<std::size_t>(take, size_ - content_.size()));
        p += take;
        n -= take;
        remaining_ -= take;
        if (remaining_ == 0) content_done();
      }
    }
  }

  // The names the dumpdir of the directory `rel` lists (whatever their
  // flag), taken out; nullopt when it has none.
  std::optional<std::set<std::string>> take(const std::string& rel) {
    auto it = found_.find(rel);
    if (it == found_.end()) return std::nullopt;
    std::set<std::string> names;
    const std::string& d = it->second;
    for (std::size_t pos = 0; pos < d.size();) {
      std::size_t end = d.find('\0', pos);
      if (end == std::string::npos) end = d.size();
      if (end == pos) break;  // the empty entry that ends the list
      // Y, N, D: an entry; R, T, X: GNU tar's rename instructions, which
      // bakthat's levels never hold (a renamed directory is a new one).
      if (d[pos] == 'Y' || d[pos] == 'N' || d[pos] == 'D') names.insert(d.substr(pos + 1, end - pos - 1));
      pos = end + 1;
    }
    found_.erase(it);
    return names;
  }

 private:
  static constexpr std::size_t kBlock = 512;
  static constexpr std::uint64_t kMaxKept = 64 << 20;  // a header's records, a GNU 'D' listing
  enum class State { Header, Content, End };

  static std::uint64_t size_of(const std::string& h) {
    if (static_cast<unsigned char>(h[124]) & 0x80) {  // base-256, for sizes past 8 GiB
      std::uint64_t v = 0;
      for (int i = 125; i < 136; ++i) v = (v << 8) | static_cast<unsigned char>(h[i]);
      return v;
    }
    return std::strtoull(std::string(h.data() + 124, 12).c_str(), nullptr, 8);
  }

  static std::string field(const std::string& h, std::size_t at, std::size_t len) {
    std::string f = h.substr(at, len);
    return f.substr(0, f.find('\0'));
  }

  static std::string key(const std::string& name) {
    try {
      return relative_name(name, "entry");
    } catch (const Error&) {
      return std::string(1, '\0');  // refused by the extractor anyway
    }
  }

  void header() {
    const std::string h = std::move(block_);
    block_.clear();
    if (h.find_first_not_of('\0') == std::string::npos) {
      state_ = State::End;  // end of archive: what follows is padding
      return;
    }
    type_ = h[156];
    size_ = size_of(h);
    name_ = field(h, 0, 100);
    if (h.compare(257, 5, "ustar") == 0) {
      std::string prefix = field(h, 345, 155);
      if (!prefix.empty()) name_ = prefix + "/" + name_;
    }
    keep_ = (type_ == 'x' || type_ == 'D' || type_ == 'L') && size_ <= kMaxKept;
    content_.clear();
    if (type_ != 'x' && type_ != 'g' && type_ != 'L' && type_ != 'K') {
      std::string name = path_.empty() ? name_ : path_;
      if (type_ == 'D') name_ = name;
      else if (dumpdir_) found_[key(name)] = std::move(*dumpdir_);
      path_.clear();
      dumpdir_.reset();
    }
    remaining_ = (size_ + kBlock - 1) / kBlock * kBlock;
    state_ = State::Content;
    if (remaining_ == 0) content_done();
  }

  void content_done() {
    state_ = State::Header;
    if (!keep_) return;
    if (type_ == 'D') {
      found_[key(name_)] = std::move(content_);
    } else if (type_ == 'L') {
      path_ = content_.substr(0, content_.find('\0'));
    } else if (type_ == 'x') {
      records(content_);
    }
  }

  // "LEN key=value\n" records: the path and dumpdir of the next entry.
  void records(const std::string& r) {
    for (std::size_t pos = 0; pos < r.size();) {
      std::size_t space = r.find(' ', pos);
      if (space == std::string::npos) return;
      std::size_t len = std::strtoull(r.substr(pos, space - pos).c_str(), nullptr, 10);
      if (len == 0 || pos + len > r.size()) return;
      std::size_t eq = r.find('=', space);
      if (eq == std::string::npos || eq + 1 >= pos + len) return;
      std::string k = r.substr(space + 1, eq - space - 1);
      std::string v = r.substr(eq + 1, pos + len - eq - 2);  // without the '\n'
      if (k == "path") path_ = v;
      else if (k == "GNU.dumpdir") dumpdir_ = v;
      pos += len;
    }
  }

  State state_ = State::Header;
  std::string block_, content_, name_, path_;
  std::optional<std::string> dumpdir_;
  char type_ = 0;
  bool keep_ = false;
  std::uint64_t size_ = 0, remaining_ = 0;
  std::map<std::string, std::string> found_;
};

struct SourceClient {
  Source* in;
  std::vector<std::uint8_t> buffer;
  CallbackState state;
  DumpdirScanner* dumpdirs = nullptr;
};

la_ssize_t source_read(struct archive*, void* client, const void** out) {
  auto* c = static_cast<SourceClient*>(client);
  try {
    std::size_t n = c->in->read(MutableBytes(c->buffer.data(), c->buffer.size()));
    if (c->dumpdirs != nullptr) c->dumpdirs->feed(c->buffer.data(), n);
    *out = c->buffer.data();
    return static_cast<la_ssize_t>(n);
  } catch (...) {
    c->state.error = std::current_exception();
    return -1;
  }
}

// A libarchive reader over a Source: tar in any of its formats (ustar, pax,
// GNU, v7), no decompression (the pipeline has already decompressed). Only
// tar: a backup is one, and libarchive's other readers (mtree, cpio, zip,
// ISO 9660...) are attack surface an archive from elsewhere could reach; an
// mtree line may claim any size with no data behind it. Format errors throw
// Corrupt; an error thrown by the Source is rethrown as it was.
class TarStream {
 public:
  explicit TarStream(Source& in, DumpdirScanner* dumpdirs = nullptr)
      : client_{&in, std::vector<std::uint8_t>(kReadBlock), {}, dumpdirs}, archive_(archive_read_new(), true) {
    struct archive* a = archive_.get();
    if (a == nullptr) throw Error(ErrorKind::Io, "tar: out of memory");
    archive_read_support_format_tar(a);
    archive_read_support_filter_none(a);
    if (archive_read_open(a, &client_, nullptr, source_read, nullptr) != ARCHIVE_OK) corrupt();
  }

  // The next entry, or nullptr at the end of the archive.
  archive_entry* next() {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(archive_.get(), &e);
    if (r == ARCHIVE_EOF) return nullptr;
    if (r < ARCHIVE_WARN) corrupt();
    return e;  // ARCHIVE_WARN: e.g. a name not convertible to the locale; kept as raw bytes
  }

  // The next block of the current entry's data; false at its end.
  bool data(const void** buf, std::size_t* size, la_int64_t* offset) {
    int r = archive_read_data_block(archive_.get(), buf, size, offset);
    if (r == ARCHIVE_EOF) return false;
    if (r < ARCHIVE_WARN) corrupt();
    return true;
  }

  // Reads past the rest of the current entry's data.
  void skip() {
    const void* buf = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    while (data(&buf, &size, &offset)) {
    }
  }

  // Reads what follows the end-of-archive marker (record padding) to the end
  // of the Source, so that the stages upstream see their whole stream and
  // can report a bad checksum or authentication tag before anything is
  // committed.
  void drain() {
    while (client_.in->read(MutableBytes(client_.buffer.data(), client_.buffer.size())) > 0) {
    }
  }

  [[noreturn]] void corrupt() {
    client_.state.rethrow_if_any();
    throw Error(ErrorKind::Corrupt,
                "archive is damaged: " + detail::error_of(archive_.get(), "unreadable tar data"));
  }

 private:
  SourceClient client_;
  ArchiveHandle archive_;
};

const char* entry_name(archive_entry* e) {
  const char* p = archive_entry_pathname(e);
  if (p == nullptr) p = archive_entry_pathname_utf8(e);
  if (p == nullptr) throw Error(ErrorKind::Corrupt, "archive is damaged: an entry has no name");
  return p;
}

// name without "." and empty components, or "" when nothing is left (the
// entry "./"). Throws Unsafe for absolute names and ".." components: those
// are what would let an entry land outside the target.
std::string relative_name(std::string_view name, const char* what) {
  if (!name.empty() && name.front() == '/') {
    throw Error(ErrorKind::Unsafe,
                std::string("refusing archive ") + what + " with an absolute path: " + std::string(name));
  }
  std::string out;
  std::size_t pos = 0;
  while (pos <= name.size()) {
    std::size_t slash = name.find('/', pos);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(pos, slash - pos);
    if (part == "..") {
      throw Error(ErrorKind::Unsafe,
                  std::string("refusing archive ") + what + " containing '..': " + std::string(name));
    }
    if (!part.empty() && part != ".") {
      if (!out.empty()) out.push_back('/');
      out.append(part);
    }
    pos = slash + 1;
  }
  return out;
}

std::string first_component(const std::string& rel) { return rel.substr(0, rel.find('/')); }

class Extractor {
 public:
  Extractor(std::function<Source*()> next_level, const ExtractOptions& options)
      : options_(options), next_level_(std::move(next_level)) {
    char resolved[PATH_MAX];
    if (::realpath(options.target_dir.c_str(), resolved) == nullptr) {
      int err = errno;
      throw Error(err == ENOENT ? ErrorKind::NotFound : ErrorKind::Io,
                  "cannot restore into " + options.target_dir + ": " + std::strerror(err));
    }
    // Resolved, so that the staging paths handed to libarchive contain no
    // symlink outside the archive's own.
    target_ = resolved;
    if (::stat(target_.c_str(), &target_stat_) != 0 || !S_ISDIR(target_stat_.st_mode)) {
      throw Error(ErrorKind::Io, "cannot restore into " + options.target_dir + ": not a directory");
    }
  }

  ExtractStats run() {
    stats_.recovered = detail::recover_interrupted(target_);
    ::stat(target_.c_str(), &target_stat_);
    auto staging = std::make_unique<detail::StagingArea>(target_);
    staging_area_ = staging.get();
    staging_ = staging->tree();
    try {
      extract_all();
      move_into_place();
    } catch (...) {
      // Creating and removing the staging directory touched the target's
      // mtime; put it back so a failed restore leaves no trace at all.
      staging.reset();
      struct timespec times[2] = {target_stat_.st_atim, target_stat_.st_mtim};
      ::utimensat(AT_FDCWD, target_.c_str(), times, AT_SYMLINK_NOFOLLOW);
      throw;
    }
    return std::move(stats_);
  }

 private:
  void extract_all() {
    while (Source* in = next_level_()) {
      DumpdirScanner dumpdirs;
      TarStream stream(*in, &dumpdirs);
      stream_ = &stream;
      dumpdirs_ = &dumpdirs;
      extract_level();
      stream_ = nullptr;
      dumpdirs_ = nullptr;
    }
  }

  // One archive into the staging tree. Each has its own disk writer, closed
  // at its end: the directory times it defers are those of this archive,
  // which a later level (of an incremental chain) sets again.
  void extract_level() {
    ArchiveHandle disk(archive_write_disk_new(), false);
    if (disk.get() == nullptr) throw Error(ErrorKind::Io, "tar: out of memory");
    // NOABSOLUTEPATHS cannot be used: names are rewritten into the
    // (absolute) staging directory, after relative_name() refused
    // absolute names. No SECURE_SYMLINKS: see the top of this file. No
    // OWNER: like restic, files belong to the user restoring them. XATTR
    // and ACL: those archived; what the user may not set (security.* and
    // trusted.* without privilege) is skipped with a warning, except SELinux
    // labels (drop_selinux_label).
    archive_write_disk_set_options(disk.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                                                   ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    while (archive_entry* e = stream_->next()) extract(disk.get(), e);
    stream_->drain();
    // Closing applies what libarchive deferred: directory modes and
    // mtimes, set after their content.
    if (archive_write_close(disk.get()) < ARCHIVE_WARN) {
      throw Error(ErrorKind::Io, "cannot restore: " + detail::error_of(disk.get(), "close failed"));
    }
    // libarchive leaves a directory that already exists as it is: one an
    // earlier level staged takes this level's mode and times here, after
    // its content (deepest last set first, though a child's times never
    // touch its parent's).
    for (auto it = staged_dirs_.rbegin(); it != staged_dirs_.rend(); ++it) {
      const std::string staged = staging_ + "/" + it->rel;
      if (::fchmodat(AT_FDCWD, staged.c_str(), it->mode, 0) != 0)
        stats_.warnings.push_back(it->rel + ": cannot set its mode: " + std::strerror(errno));
      struct timespec times[2] = {it->mtime, it->mtime};
      if (::utimensat(AT_FDCWD, staged.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        stats_.warnings.push_back(it->rel + ": cannot set its times: " + std::strerror(errno));
    }
    staged_dirs_.clear();
  }

  // A directory of this archive that was already staged (by an earlier
  // level), and what the archive says of it.
  struct StagedDir {
    std::string rel;
    mode_t mode;
    struct timespec mtime;
  };
  std::vector<StagedDir> staged_dirs_;

  void extract(struct archive* disk, archive_entry* e) {
    std::string rel = relative_name(entry_name(e), "entry");
    if (rel.empty()) {  // "./": the target itself, which already exists
      stream_->skip();
      return;
    }
    check_not_through_symlink(rel);
    std::string top = first_component(rel);
    if (tops_seen_.insert(top).second) stats_.top_entries.push_back(top);

    std::string staged = staging_ + "/" + rel;
    // An entry replacing one of our symlinks: libarchive would keep a
    // directory the link points to and set its mode and times.
    if (symlinks_.erase(rel) != 0 && ::unlink(staged.c_str()) != 0 && errno != ENOENT) {
      io_error("cannot restore " + rel);
    }
    if (const char* link = archive_entry_hardlink(e)) {
      make_hard_link(rel, link);
      return;
    }
    if (archive_entry_filetype(e) == AE_IFDIR) {
      if (auto listed = dumpdirs_->take(rel)) purge(rel, *listed);
      struct stat st {};
      if (::fstatat(AT_FDCWD, staged.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
        // Its mode from that level may not let this one write into it.
        if ((st.st_mode & 0700) != 0700) ::fchmodat(AT_FDCWD, staged.c_str(), (st.st_mode & 07777) | 0700, 0);
        staged_dirs_.push_back({rel, static_cast<mode_t>(archive_entry_mode(e) & 07777),
                                {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}});
      }
    }
    if (archive_entry_filetype(e) == AE_IFLNK) {
      make_symlink(e, rel);
      return;
    }
    archive_entry_copy_pathname(e, staged.c_str());
    if (!privileged_) drop_selinux_label(e);

    int r = archive_write_header(disk, e);
    if (r < ARCHIVE_WARN) disk_failed(disk, rel);
    if (r == ARCHIVE_WARN) warn(disk, rel);
    ++stats_.entries;
    const void* buf = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    while (stream_->data(&buf, &size, &offset)) {
      // A warning here is a failed write(2) (ENOSPC, EIO, EDQUOT): libarchive
      // says ARCHIVE_WARN and goes on, and the file would end at its full
      // size with zeros where the data did not fit.
      if (archive_write_data_block(disk, buf, size, offset) < ARCHIVE_OK) disk_failed(disk, rel);
      stats_.bytes += size;
    }
    r = archive_write_finish_entry(disk);
    if (r < ARCHIVE_WARN) disk_failed(disk, rel);
    if (r == ARCHIVE_WARN) warn(disk, rel);
  }

  // An incremental level's directory: what the staging tree holds in it
  // (from earlier levels) and its dumpdir does not list was deleted or
  // renamed since, and is removed, as tar --listed-incremental does.
  void purge(const std::string& rel, const std::set<std::string>& listed) {
    const std::string staged = staging_ + "/" + rel;
    int fd = ::open(staged.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;  // not there yet (level 0), or not a directory: replaced below
    std::vector<std::string> names;
    try {
      names = util::directory_names(fd, rel);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    for (const auto& name : names) {
      if (listed.count(name) != 0) continue;
      const std::string gone = rel + "/" + name;
      util::remove_tree(staging_ + "/" + gone);
      for (auto it = symlinks_.lower_bound(gone); it != symlinks_.end() && it->starts_with(gone);) {
        if (it->size() == gone.size() || (*it)[gone.size()] == '/') it = symlinks_.erase(it);
        else ++it;
      }
    }
  }

  // A hard link entry: link(2) to the staged file it names, which must come
  // earlier in the archive. Its data, if any, is skipped and its metadata
  // left alone (the inode already has the first entry's), as GNU tar does.
  void make_hard_link(const std::string& rel, const char* link) {
    std::string link_rel = relative_name(link, "hard link");
    if (link_rel.empty()) throw Error(ErrorKind::Unsafe, "refusing hard link to the target itself: " + rel);
    check_not_through_symlink(link_rel);
    const std::string staged = make_room(rel);
    const std::string staged_link = staging_ + "/" + link_rel;
    // No AT_SYMLINK_FOLLOW: a link to a symlink is a second name of the
    // symlink, never of what it points to.
    if (::linkat(AT_FDCWD, staged_link.c_str(), AT_FDCWD, staged.c_str(), 0) != 0) {
      int err = errno;
      if (err == ENOENT) {
        throw Error(ErrorKind::Corrupt, "archive is damaged: " + rel + " is a hard link to " + link_rel +
                                            ", which the archive does not hold before it");
      }
      throw Error(ErrorKind::Io, "cannot restore " + rel + ": " + std::strerror(err));
    }
    if (symlinks_.count(link_rel) != 0) symlinks_.insert(rel);
    ++stats_.entries;
    stream_->skip();
  }

  // A symlink entry, with its times (a symlink has no mode of its own on
  // Linux; its owner is the restoring user's, as for every entry).
  void make_symlink(archive_entry* e, const std::string& rel) {
    const char* to = archive_entry_symlink(e);
    if (to == nullptr) to = archive_entry_symlink_utf8(e);
    if (to == nullptr) throw Error(ErrorKind::Corrupt, "archive is damaged: the symlink " + rel + " has no target");
    const std::string staged = make_room(rel);
    if (::symlinkat(to, AT_FDCWD, staged.c_str()) != 0) io_error("cannot restore " + rel);
    symlinks_.insert(rel);
    ++stats_.entries;
    if (archive_entry_mtime_is_set(e)) {
      struct timespec times[2];
      times[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
      times[0] = archive_entry_atime_is_set(e) ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)}
                                               : times[1];
      if (::utimensat(AT_FDCWD, staged.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        stats_.warnings.push_back(rel + ": cannot set its times: " + std::strerror(errno));
    }
    stream_->skip();
  }

  // The staged path for a link entry `rel`: its missing parent directories
  // made (as libarchive makes them for other entries), an earlier entry of
  // that name removed (a later entry replaces an earlier one, as in tar -x),
  // an empty directory too; one with entries is an error.
  std::string make_room(const std::string& rel) {
    for (std::size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
      const std::string dir = staging_ + "/" + rel.substr(0, slash);
      if (::mkdir(dir.c_str(), 0755) == 0) continue;
      struct stat st {};
      if (errno != EEXIST || ::fstatat(AT_FDCWD, dir.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
        if (errno == EEXIST) errno = ENOTDIR;
        io_error("cannot restore " + rel);
      }
    }
    std::string staged = staging_ + "/" + rel;
    struct stat st {};
    if (::fstatat(AT_FDCWD, staged.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (::unlinkat(AT_FDCWD, staged.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0)
        io_error("cannot restore " + rel + " in place of the archive's earlier entry");
    } else if (errno != ENOENT) {
      io_error("cannot restore " + rel);
    }
    return staged;
  }

  // An SELinux label is the policy's to give a user's new files (GNU tar
  // restores labels only when asked, and only root may set any): archives
  // made on SELinux systems carry one on every file, and an unprivileged
  // restore would warn once per file. Capabilities and trusted.* stay, and
  // warn: the user should know those were not restored.
  static void drop_selinux_label(archive_entry* e) {
    if (archive_entry_xattr_reset(e) == 0) return;
    struct Attribute {
      std::string name;
      std::vector<char> value;
    };
    std::vector<Attribute> kept;
    bool dropped = false;
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      if (std::string_view(name) == "security.selinux") {
        dropped = true;
        continue;
      }
      const char* bytes = static_cast<const char*>(value);
      kept.push_back({name, std::vector<char>(bytes, bytes + size)});
    }
    if (!dropped) return;
    archive_entry_xattr_clear(e);
    for (const auto& a : kept) archive_entry_xattr_add_entry(e, a.name.c_str(), a.value.data(), a.value.size());
  }

  // Keeps what libarchive said, if anything: an attribute the file system
  // does not support (ENOTSUP) warns without a word, and is no news.
  void warn(struct archive* disk, const std::string& rel) {
    const char* msg = archive_error_string(disk);
    if (msg == nullptr || *msg == '\0') return;
    stats_.warnings.push_back(rel + ": " + unstaged(msg));
    archive_clear_error(disk);
  }

  // libarchive's messages name the staged path; users know the archive's.
  std::string unstaged(std::string msg) const {
    for (std::size_t at; (at = msg.find(staging_ + "/")) != std::string::npos;) msg.erase(at, staging_.size() + 1);
    return msg;
  }

  // An entry whose parent path is a symlink from this archive would be
  // written wherever that link points.
  void check_not_through_symlink(const std::string& rel) const {
    for (std::size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
      std::string prefix = rel.substr(0, slash);
      if (symlinks_.count(prefix) != 0) {
        throw Error(ErrorKind::Unsafe,
                    "refusing archive entry " + rel + ": it goes through the symlink " + prefix);
      }
    }
  }

  [[noreturn]] void disk_failed(struct archive* disk, const std::string& rel) {
    std::string msg = unstaged(detail::error_of(disk, "write failed"));
    // libarchive keeps the system's reason apart (bsdtar prints both).
    if (int err = archive_errno(disk); err > 0) {
      std::string reason = std::strerror(err);
      if (msg.find(reason) == std::string::npos) msg += ": " + reason;
    }
    // libarchive's secure-extraction refusals (a second line behind the
    // checks above) are reported as unsafe, not as I/O errors.
    bool refused = msg.find("through symlink") != std::string::npos ||
                   msg.find("Path contains '..'") != std::string::npos;
    throw Error(refused ? ErrorKind::Unsafe : ErrorKind::Io, "cannot restore " + rel + ": " + msg);
  }

  // Nothing in the target changes before the whole archive was read.
  void move_into_place() {
    detail::place_staged(*staging_area_, target_, stats_.top_entries, options_.force, options_.target_dir);
  }

  [[noreturn]] static void io_error(const std::string& what) {
    int err = errno;
    throw Error(ErrorKind::Io, what + ": " + std::strerror(err));
  }

  const ExtractOptions& options_;
  std::function<Source*()> next_level_;
  TarStream* stream_ = nullptr;          // the archive being extracted
  DumpdirScanner* dumpdirs_ = nullptr;   // its dumpdirs
  std::string target_;   // resolved target directory
  struct stat target_stat_ {};
  detail::StagingArea* staging_area_ = nullptr;  // inside target_, while run() runs
  std::string staging_;  // its tree
  ExtractStats stats_;
  std::set<std::string> tops_seen_;
  std::set<std::string> symlinks_;  // relative names of symlinks extracted
  const bool privileged_ = ::geteuid() == 0;
};

}  // namespace

ExtractStats extract_tar(Source& in, const ExtractOptions& options) {
  Source* once = &in;
  return extract_tar_levels([&once] { return std::exchange(once, nullptr); }, options);
}

ExtractStats extract_tar_levels(const std::function<Source*()>& next_level, const ExtractOptions& options) {
  detail::Utf8LocaleScope utf8;
  Extractor extractor(next_level, options);
  return extractor.run();
}

ExtractStats read_tar(Source& in) {
  detail::Utf8LocaleScope utf8;
  TarStream stream(in);
  ExtractStats stats;
  std::set<std::string> tops;
  while (archive_entry* e = stream.next()) {
    ++stats.entries;
    std::string_view name = entry_name(e);
    while (name.starts_with("./")) name.remove_prefix(2);
    std::string top(name.substr(0, name.find('/')));
    if (!top.empty() && tops.insert(top).second) stats.top_entries.push_back(top);
    const void* buf = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    while (stream.data(&buf, &size, &offset)) stats.bytes += size;
  }
  stream.drain();
  return stats;
}

void extract_single_to(Source& in, Sink& out) {
  detail::Utf8LocaleScope utf8;
  TarStream stream(in);
  int files = 0;
  std::vector<std::uint8_t> zeros;
  // Holes of a sparse file come as gaps between the blocks' offsets (and
  // after the last block); they are zeros in the file's content.
  auto write_zeros = [&](std::uint64_t n) {
    if (zeros.empty()) zeros.assign(kReadBlock, 0);
    for (; n > 0;) {
      const std::size_t step = static_cast<std::size_t>(std::min<std::uint64_t>(n, zeros.size()));
      out.write(Bytes(zeros.data(), step));
      n -= step;
    }
  };
  while (archive_entry* e = stream.next()) {
    // A tree is refused at its first entry (its directory), before a byte
    // reaches the output; only a second file, in an archive not made by
    // bakthat, is found after the first one was written.
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != nullptr || ++files > 1)
      throw Error(ErrorKind::Usage, "--stdout needs a backup of a single file");
    const void* buf = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    std::uint64_t pos = 0;
    while (stream.data(&buf, &size, &offset)) {
      if (static_cast<std::uint64_t>(offset) < pos) stream.corrupt();  // blocks out of order
      write_zeros(static_cast<std::uint64_t>(offset) - pos);
      out.write(Bytes(static_cast<const std::uint8_t*>(buf), size));
      pos = static_cast<std::uint64_t>(offset) + size;
    }
    const la_int64_t total = archive_entry_size(e);
    if (total > 0 && static_cast<std::uint64_t>(total) > pos) write_zeros(static_cast<std::uint64_t>(total) - pos);
  }
  if (files == 0) throw Error(ErrorKind::Usage, "--stdout needs a backup of a single file");
  stream.drain();
}

struct EntryContent::State {
  explicit State(Source& tar) : stream(tar) {}
  TarStream stream;
  std::string path;
  std::uint64_t size = 0;
  bool sparse = false;
  std::uint64_t pos = 0;  // the next byte of the file to give
  // The data block in hand: [block_at, block_at + block_size) of the file.
  const std::uint8_t* block = nullptr;
  std::size_t block_size = 0;
  std::uint64_t block_at = 0;
  bool blocks_done = false;

  // Holds a block that ends after pos, unless none is left (holes to the
  // end of the file are zeros).
  void next_block() {
    while (!blocks_done && (block == nullptr || block_at + block_size <= pos)) {
      const void* buf = nullptr;
      la_int64_t offset = 0;
      if (!stream.data(&buf, &block_size, &offset)) {
        blocks_done = true;
        block = nullptr;
        break;
      }
      if (offset < 0 || static_cast<std::uint64_t>(offset) + block_size > size) stream.corrupt();
      block = static_cast<const std::uint8_t*>(buf);
      block_at = static_cast<std::uint64_t>(offset);
    }
  }
};

EntryContent::EntryContent(Source& tar, std::uint64_t offset) : state_(std::make_unique<State>(tar)) {
  detail::Utf8LocaleScope utf8;
  archive_entry* e = state_->stream.next();
  if (e == nullptr) throw Error(ErrorKind::Corrupt, "archive is damaged: the entry is missing");
  state_->path = entry_name(e);
  if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != nullptr)
    throw Error(ErrorKind::Usage, "'" + state_->path + "' is not a regular file");
  const la_int64_t size = archive_entry_size(e);
  state_->size = size > 0 ? static_cast<std::uint64_t>(size) : 0;
  state_->sparse = archive_entry_sparse_count(e) > 0;
  state_->pos = std::min(offset, state_->size);
}

EntryContent::~EntryContent() = default;

const std::string& EntryContent::path() const { return state_->path; }
std::uint64_t EntryContent::size() const { return state_->size; }
bool EntryContent::sparse() const { return state_->sparse; }

std::size_t EntryContent::read(MutableBytes out) {
  State& s = *state_;
  if (s.pos >= s.size || out.empty()) return 0;
  s.next_block();
  std::size_t n;
  if (s.block == nullptr || s.pos < s.block_at) {
    // A hole (or the zeros after the last block).
    const std::uint64_t hole_end = s.block == nullptr ? s.size : s.block_at;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), hole_end - s.pos));
    std::memset(out.data(), 0, n);
  } else {
    const std::size_t from = static_cast<std::size_t>(s.pos - s.block_at);
    n = std::min(out.size(), s.block_size - from);
    std::memcpy(out.data(), s.block + from, n);
  }
  s.pos += n;
  return n;
}

}  // namespace bakthat::archive
