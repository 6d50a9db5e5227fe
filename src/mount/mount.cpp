// The FUSE 3 file system of `bakthat mount` (high-level, path-based API,
// one thread): getattr, readdir and readlink answer from the backups'
// indexes; read() goes through a bounded cache of file blocks, filled by
// BackupReader::open from the block's offset (a file read in order goes on
// through the stream its last block came from).
#include "mount/mount.hpp"

#if BAKTHAT_FUSE

#define FUSE_USE_VERSION 31
#include <fuse3/fuse.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace bakthat::mount {
namespace {

// The unit the cache holds and a stream is opened at.
constexpr std::uint64_t kBlock = 256 * 1024;

std::string without_slashes(std::string p) {
  while (p.starts_with("./")) p.erase(0, 2);
  while (p.starts_with("/")) p.erase(0, 1);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

// A directory or an entry of one backup's tree.
struct Node {
  const ArchiveEntry* entry = nullptr;  // nullptr: a directory the archive does not list
  std::map<std::string, Node*> children;
};

// One backup opened: its reader and its tree.
struct Tree {
  std::unique_ptr<BackupReader> reader;
  std::deque<Node> nodes;  // nodes[0] is the root
  std::unordered_map<std::string, const ArchiveEntry*> by_path;

  explicit Tree(std::unique_ptr<BackupReader> r) : reader(std::move(r)) {
    nodes.emplace_back();
    for (const ArchiveEntry& e : reader->entries()) {
      const std::string path = without_slashes(e.path);
      if (path.empty()) continue;
      by_path[path] = &e;
      Node* at = &nodes.front();
      for (std::size_t start = 0;;) {
        const std::size_t slash = path.find('/', start);
        const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        auto [it, added] = at->children.emplace(part, nullptr);
        if (added) {
          nodes.emplace_back();
          it->second = &nodes.back();
        }
        at = it->second;
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
      at->entry = &e;
    }
  }

  // The entry that holds a hard link's data, or `e` itself.
  const ArchiveEntry& data_of(const ArchiveEntry& e) const {
    if (e.type != ArchiveEntry::Type::Hardlink) return e;
    auto it = by_path.find(without_slashes(e.link));
    return it == by_path.end() ? e : *it->second;
  }
};

// A backup of the mounted name: opened when first looked into.
struct Slot {
  std::string label;  // its directory's name ("" for a single backup at the root)
  BackupRecord record;
  std::unique_ptr<Tree> tree;
};

// Blocks of file content, least recently used first out, at most `bound` bytes.
class BlockCache {
 public:
  explicit BlockCache(std::uint64_t bound) : bound_(bound) {}
  using Key = std::pair<const ArchiveEntry*, std::uint64_t>;  // the file's data entry, block number

  const std::vector<std::uint8_t>* find(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.end(), order_, it->second);
    return &it->second->second;
  }
  const std::vector<std::uint8_t>& put(const Key& key, std::vector<std::uint8_t> block) {
    held_ += block.size();
    order_.emplace_back(key, std::move(block));
    index_[key] = std::prev(order_.end());
    // The block just put stays, whatever the bound.
    while (held_ > bound_ && order_.size() > 1) {
      held_ -= order_.front().second.size();
      index_.erase(order_.front().first);
      order_.pop_front();
    }
    return order_.back().second;
  }

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<const void*>()(k.first) ^ (std::hash<std::uint64_t>()(k.second) * 0x9e3779b97f4a7c15ULL);
    }
  };
  std::uint64_t bound_, held_ = 0;
  std::list<std::pair<Key, std::vector<std::uint8_t>>> order_;
  std::unordered_map<Key, decltype(order_)::iterator, KeyHash> index_;
};

// An open file: where its content comes from, and the stream its last
// block was read through (kept while the reads go on in order).
struct OpenFile {
  Tree* tree;
  const ArchiveEntry* data;  // the entry holding the content
  std::unique_ptr<Source> stream;
  std::uint64_t stream_at = 0;
};

class Filesystem {
 public:
  Filesystem(const std::string& name, const Options& base, const MountOptions& options)
      : options_(base), cache_(options.cache_bytes) {
    reporter_ = base.reporter ? base.reporter : &silent_reporter();
    // The password asked once serves every backup of the name.
    if (base.ask_password) {
      auto ask = base.ask_password;
      auto asked = std::make_shared<std::optional<std::optional<std::string>>>();
      options_.ask_password = [ask, asked]() {
        if (!*asked) *asked = ask();
        return **asked;
      };
    }
    ShowOptions query;
    static_cast<Options&>(query) = options_;
    query.query = name;
    query.this_profile_only = true;
    query.all_destinations = false;
    std::vector<BackupRecord> rows;
    for (auto& r : show(query))
      if (r.filename == name && !r.is_deleted) rows.push_back(std::move(r));
    if (rows.empty()) {
      // One backup, at the root.
      slots_.push_back({"", {}, std::make_unique<Tree>(open_backup(name, options_))});
      slots_.back().record = slots_.back().tree->reader->record();
      return;
    }
    std::sort(rows.begin(), rows.end(), [](const BackupRecord& a, const BackupRecord& b) {
      return a.backup_date != b.backup_date ? a.backup_date < b.backup_date : a.id < b.id;
    });
    std::map<std::string, int> seen;
    for (auto& r : rows) {
      std::string label = utc_label(r.backup_date);
      if (int n = ++seen[label]; n > 1) label += "." + std::to_string(n);
      slots_.push_back({label, std::move(r), nullptr});
    }
    by_date_ = true;
    tree_of(slots_.back());  // the newest, opened now: its password before the mount
  }

  int getattr(const char* path, struct stat* st) {
    std::memset(st, 0, sizeof *st);
    Found f = resolve(path);
    if (f.error) return f.error;
    st->st_uid = ::getuid();
    st->st_gid = ::getgid();
    if (f.latest) {
      st->st_mode = S_IFLNK | 0777;
      st->st_nlink = 1;
      st->st_size = static_cast<off_t>(slots_.back().label.size());
      st->st_mtime = slots_.back().record.backup_date;
      return 0;
    }
    if (!f.node) {  // the root of several backups, or a backup's directory
      st->st_mode = S_IFDIR | 0555;
      st->st_nlink = 2;
      st->st_mtime = f.slot ? f.slot->record.backup_date : (slots_.empty() ? 0 : slots_.back().record.backup_date);
      return 0;
    }
    const ArchiveEntry* e = f.node->entry;
    if (!e) {
      st->st_mode = S_IFDIR | 0555;
      st->st_nlink = 2;
      st->st_mtime = f.slot->record.backup_date;
      return 0;
    }
    const ArchiveEntry& data = f.slot->tree->data_of(*e);
    st->st_uid = static_cast<uid_t>(e->uid);
    st->st_gid = static_cast<gid_t>(e->gid);
    st->st_mtime = e->mtime;
    st->st_nlink = 1;
    const mode_t perm = static_cast<mode_t>(e->mode & 07777);
    switch (data.type) {
      case ArchiveEntry::Type::Directory: st->st_mode = S_IFDIR | perm; st->st_nlink = 2; break;
      case ArchiveEntry::Type::Symlink:
        st->st_mode = S_IFLNK | perm;
        st->st_size = static_cast<off_t>(e->link.size());
        break;
      case ArchiveEntry::Type::CharDevice:
      case ArchiveEntry::Type::BlockDevice:
        st->st_mode = (data.type == ArchiveEntry::Type::CharDevice ? S_IFCHR : S_IFBLK) | perm;
        st->st_rdev = makedev(e->dev_major, e->dev_minor);
        break;
      case ArchiveEntry::Type::Fifo: st->st_mode = S_IFIFO | perm; break;
      default:
        st->st_mode = S_IFREG | perm;
        st->st_size = static_cast<off_t>(data.size);
        st->st_blocks = static_cast<blkcnt_t>((data.size + 511) / 512);
        break;
    }
    return 0;
  }

  int readdir(const char* path, void* buf, fuse_fill_dir_t fill) {
    Found f = resolve(path);
    if (f.error) return f.error;
    if (f.latest) return -ENOTDIR;
    fill(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    fill(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    if (!f.slot) {
      for (const Slot& s : slots_) fill(buf, s.label.c_str(), nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
      fill(buf, "latest", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
      return 0;
    }
    if (int error = opened(*f.slot)) return error;
    const Node* node = f.node ? f.node : &f.slot->tree->nodes.front();
    if (node->entry && node->entry->type != ArchiveEntry::Type::Directory) return -ENOTDIR;
    for (const auto& [child, _] : node->children)
      fill(buf, child.c_str(), nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    return 0;
  }

  int readlink(const char* path, char* buf, std::size_t size) {
    Found f = resolve(path);
    if (f.error) return f.error;
    std::string target;
    if (f.latest) target = slots_.back().label;
    else if (f.node && f.node->entry && f.node->entry->type == ArchiveEntry::Type::Symlink) target = f.node->entry->link;
    else return -EINVAL;
    if (size == 0) return -EINVAL;
    const std::size_t n = std::min(size - 1, target.size());
    std::memcpy(buf, target.data(), n);
    buf[n] = '\0';
    return 0;
  }

  int open(const char* path, fuse_file_info* fi) {
    if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
    Found f = resolve(path);
    if (f.error) return f.error;
    if (!f.node || !f.node->entry) return -EISDIR;
    const ArchiveEntry& data = f.slot->tree->data_of(*f.node->entry);
    if (data.type == ArchiveEntry::Type::Directory) return -EISDIR;
    if (data.type != ArchiveEntry::Type::File) return -EACCES;
    auto file = std::make_unique<OpenFile>();
    file->tree = f.slot->tree.get();
    file->data = &data;
    fi->fh = reinterpret_cast<std::uint64_t>(file.release());
    fi->keep_cache = 1;
    return 0;
  }

  int read(char* buf, std::size_t size, off_t offset, fuse_file_info* fi) {
    auto* file = reinterpret_cast<OpenFile*>(fi->fh);
    const std::uint64_t total = file->data->size;
    std::uint64_t at = static_cast<std::uint64_t>(offset);
    std::size_t done = 0;
    return guarded(file->data->path, [&] {
      while (done < size && at < total) {
        const std::uint64_t number = at / kBlock;
        const std::vector<std::uint8_t>& block = block_of(*file, number);
        const std::uint64_t within = at - number * kBlock;
        if (within >= block.size()) break;
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size - done, block.size() - within));
        std::memcpy(buf + done, block.data() + within, n);
        done += n;
        at += n;
      }
      return static_cast<int>(done);
    });
  }

  int release(fuse_file_info* fi) {
    delete reinterpret_cast<OpenFile*>(fi->fh);
    return 0;
  }

 private:
  struct Found {
    int error = 0;
    bool latest = false;  // DIR/latest
    Slot* slot = nullptr;
    const Node* node = nullptr;  // nullptr: the slot's root (or the mount's)
  };

  // What a path names: the mount's root, DIR/latest, a backup's directory,
  // or a node of a backup's tree.
  Found resolve(const char* raw) {
    Found f;
    std::string path = without_slashes(raw);
    if (by_date_) {
      if (path.empty()) return f;
      const std::size_t slash = path.find('/');
      const std::string first = path.substr(0, slash);
      if (first == "latest" && slash == std::string::npos) {
        f.latest = true;
        return f;
      }
      auto it = std::find_if(slots_.begin(), slots_.end(), [&](const Slot& s) { return s.label == first; });
      if (it == slots_.end()) {
        f.error = -ENOENT;
        return f;
      }
      f.slot = &*it;
      path = slash == std::string::npos ? std::string() : path.substr(slash + 1);
    } else {
      f.slot = &slots_.front();
    }
    // A backup's own directory is stat'ed without opening the backup.
    if (path.empty() && by_date_) return f;
    if ((f.error = opened(*f.slot)) != 0 || path.empty()) return f;
    const Node* node = &f.slot->tree->nodes.front();
    for (std::size_t start = 0;;) {
      const std::size_t slash = path.find('/', start);
      auto it = node->children.find(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
      if (it == node->children.end()) {
        f.error = -ENOENT;
        return f;
      }
      node = it->second;
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    f.node = node;
    return f;
  }

  Tree& tree_of(Slot& slot) {
    if (!slot.tree) slot.tree = std::make_unique<Tree>(open_backup(slot.record.stored_filename, options_));
    return *slot.tree;
  }
  // 0 once the slot's backup is open, else the errno of why it is not.
  int opened(Slot& slot) {
    return guarded(slot.record.stored_filename, [&] {
      tree_of(slot);
      return 0;
    });
  }

  // Block `number` of the file, from the cache or read now.
  const std::vector<std::uint8_t>& block_of(OpenFile& file, std::uint64_t number) {
    const BlockCache::Key key{file.data, number};
    if (const auto* hit = cache_.find(key)) return *hit;
    const std::uint64_t start = number * kBlock;
    if (!file.stream || file.stream_at != start) {
      file.stream = file.tree->reader->open(file.data->path, start);
      file.stream_at = start;
    }
    std::vector<std::uint8_t> block(static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, file.data->size - start)));
    std::size_t have = 0;
    while (have < block.size()) {
      const std::size_t n = file.stream->read(MutableBytes(block.data() + have, block.size() - have));
      if (n == 0) throw Error(ErrorKind::Corrupt, file.data->path + " ends before its size");
      have += n;
    }
    file.stream_at += have;
    return cache_.put(key, std::move(block));
  }

  // f()'s answer, or the errno for the error it threw (said on the reporter).
  template <class F>
  int guarded(const std::string& what, F&& f) {
    try {
      return f();
    } catch (const Error& e) {
      reporter_->warning(what + ": " + e.what());
      return e.kind() == ErrorKind::NotFound ? -ENOENT : -EIO;
    } catch (const std::exception& e) {
      reporter_->warning(what + ": " + e.what());
      return -EIO;
    }
  }

  static std::string utc_label(std::int64_t seconds) {
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char out[32];
    std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
    return out;
  }

  Options options_;
  Reporter* reporter_;
  std::vector<Slot> slots_;
  bool by_date_ = false;
  BlockCache cache_;
};

Filesystem* self() { return static_cast<Filesystem*>(fuse_get_context()->private_data); }

fuse_operations operations() {
  fuse_operations ops{};
  ops.getattr = [](const char* path, struct stat* st, fuse_file_info*) { return self()->getattr(path, st); };
  ops.readlink = [](const char* path, char* buf, std::size_t size) { return self()->readlink(path, buf, size); };
  ops.open = [](const char* path, fuse_file_info* fi) { return self()->open(path, fi); };
  ops.read = [](const char*, char* buf, std::size_t size, off_t offset, fuse_file_info* fi) {
    return self()->read(buf, size, offset, fi);
  };
  ops.release = [](const char*, fuse_file_info* fi) { return self()->release(fi); };
  ops.readdir = [](const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*, fuse_readdir_flags) {
    return self()->readdir(path, buf, fill);
  };
  return ops;
}

// libfuse installs its handlers of SIGINT, SIGTERM and SIGHUP (which end
// the loop, and so unmount) only over the default ones: the caller's are
// set aside while the file system is mounted, and put back after.
class SignalsToFuse {
 public:
  explicit SignalsToFuse(fuse_session* session) : session_(session) {
    for (std::size_t i = 0; i < std::size(kSignals); ++i) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(kSignals[i], &dfl, &saved_[i]);
    }
    if (fuse_set_signal_handlers(session_) != 0) throw Error(ErrorKind::Io, "cannot set the signal handlers");
  }
  ~SignalsToFuse() {
    fuse_remove_signal_handlers(session_);
    for (std::size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &saved_[i], nullptr);
  }

 private:
  static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
  fuse_session* session_;
  struct sigaction saved_[std::size(kSignals)] {};
};

}  // namespace

bool supported() { return true; }

void mount_backups(const std::string& name, const Options& base, const MountOptions& options) {
  Filesystem fs(name, base, options);
  std::vector<std::string> argv = {"bakthat", "-o", "ro,fsname=bakthat,subtype=bakthat"};
  if (options.debug) argv.push_back("-d");
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  fuse_args fa = FUSE_ARGS_INIT(static_cast<int>(args.size()), args.data());
  const fuse_operations ops = operations();
  std::unique_ptr<fuse, void (*)(fuse*)> f(fuse_new(&fa, &ops, sizeof ops, &fs), fuse_destroy);
  fuse_opt_free_args(&fa);
  if (!f) throw Error(ErrorKind::Io, "cannot start the FUSE file system");
  if (fuse_mount(f.get(), options.dir.c_str()) != 0)
    throw Error(ErrorKind::Io, "cannot mount at " + options.dir + " (is /dev/fuse usable, and fusermount3 installed?)");
  {
    SignalsToFuse signals(fuse_get_session(f.get()));
    if (base.reporter)
      base.reporter->message("Mounted at " + options.dir + ": unmount with fusermount3 -u " + options.dir +
                             " or Ctrl-C");
    fuse_loop(f.get());
  }
  fuse_unmount(f.get());
}

}  // namespace bakthat::mount

#else

namespace bakthat::mount {

bool supported() { return false; }

void mount_backups(const std::string&, const Options&, const MountOptions&) {
  throw Error(ErrorKind::Unsupported, "this bakthat was built without FUSE support (mount): rebuild with libfuse3-dev");
}

}  // namespace bakthat::mount

#endif
