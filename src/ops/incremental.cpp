// The chain of an incremental backup and its snapshot file:
//   bakthat-snapshot 1\n STORED_FILENAME\n LEVEL\n
// then one record per non-directory: NAME\0 DEV INO MTIME_NS CTIME_NS SIZE\n
// (the name ends at its NUL, so any byte but NUL may be in it).
#include "ops/incremental.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "ops/restore_selection.hpp"
#include "util/bytes.hpp"

namespace bakthat::ops {
namespace {

namespace fs = std::filesystem;
constexpr const char* kMagic = "bakthat-snapshot 1";

std::string snapshot_dir(Context& ctx) { return ctx.profile().database + ".incremental"; }

// One file per name and store: the same name backed up to two destinations
// makes two chains.
std::string snapshot_path(Context& ctx, const std::string& filename) {
  std::string key = ctx.destination() + '\n' + ctx.backend_hash() + '\n' + filename;
  return snapshot_dir(ctx) + "/" +
         util::sha256_hex(Bytes(reinterpret_cast<const std::uint8_t*>(key.data()), key.size())) + ".snapshot";
}

struct Loaded {
  std::string stored;
  int level = 0;
  archive::Snapshot snapshot;
};

std::optional<Loaded> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  Loaded l;
  std::string magic, level;
  if (!std::getline(in, magic) || magic != kMagic || !std::getline(in, l.stored) || !std::getline(in, level))
    return std::nullopt;
  try {
    l.level = std::stoi(level);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string name, fields;
  while (std::getline(in, name, '\0')) {
    if (!std::getline(in, fields)) return std::nullopt;
    archive::FileState s;
    std::istringstream f(fields);
    if (!(f >> s.dev >> s.ino >> s.mtime_ns >> s.ctime_ns >> s.size)) return std::nullopt;
    l.snapshot.emplace(std::move(name), s);
  }
  if (!in.eof()) return std::nullopt;
  return l;
}

}  // namespace

std::optional<LevelOf> level_of(const BackupRecord& record) {
  auto it = record.metadata.find("level");
  if (it == record.metadata.end() || !it->is_number_integer()) return std::nullopt;
  LevelOf l;
  l.level = it->get<int>();
  auto p = record.metadata.find("parent");
  if (p != record.metadata.end() && p->is_string()) l.parent = p->get<std::string>();
  return l;
}

archive::Snapshot rebuild_snapshot(Context& ctx, const std::vector<BackupRecord>& chain, const Options& options) {
  archive::Snapshot state;
  for (const auto& level : chain) {
    if (!level.metadata.contains("index_sha256"))
      throw Error(ErrorKind::NotFound, level.stored_filename + " has no index");
    Located found{level, parse_stored_name(level.stored_filename), std::nullopt};
    if (level.metadata.value("is_enc", false)) found.info.encrypted = true;
    if (found.info.encrypted) found.decrypt = decrypt_options(ctx, options, ctx.password());
    BackupIndex index = load_index(ctx, found);
    std::unordered_map<std::string, const archive::TarEntry*> files;
    for (const auto& e : index.entries)
      if (e.type == archive::TarEntry::Type::File) files.emplace(e.path, &e);
    archive::Snapshot next;
    for (const auto& dir : index.entries) {
      if (dir.type != archive::TarEntry::Type::Directory) continue;
      if (dir.dumpdir.empty())
        throw Error(ErrorKind::NotFound, "the index of " + level.stored_filename + " does not list " + dir.path +
                                             "'s entries");
      for (const auto& record : archive::dumpdir_records(dir.dumpdir)) {
        const std::string name = dir.path + record.substr(1);
        if (record[0] == 'Y') {
          auto it = files.find(name);
          if (it == files.end()) continue;
          archive::FileState s;
          s.from_index = true;
          s.size = static_cast<std::int64_t>(it->second->size);
          s.mtime_ns = it->second->mtime * 1000000000;
          s.mode = it->second->mode;
          s.uid = it->second->uid;
          s.gid = it->second->gid;
          next.emplace(name, s);
        } else if (record[0] == 'N') {
          if (auto it = state.find(name); it != state.end()) next.insert(*it);
        }
      }
    }
    state = std::move(next);
  }
  return state;
}

Level next_level(Context& ctx, const std::string& filename, int max_levels, const Options& options) {
  Level next;
  auto newest_of = [&]() -> std::optional<BackupRecord> {
    for (auto& r : ctx.matches(filename))
      if (r.filename == filename) return std::move(r);
    return std::nullopt;
  };
  std::optional<BackupRecord> newest = newest_of();
  // A machine that never backed up this name may continue another's chain:
  // the destination's rows first. A destination not made yet (a bucket the
  // backup creates) holds no chain.
  if (!newest) {
    try {
      if (ctx.latest(filename)) newest = newest_of();
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound) throw;
    }
  }
  const std::string full = "Incremental level 0 (full) of " + filename;
  if (!newest) {
    next.why = full + ": its first backup here";
    return next;
  }
  auto prev = level_of(*newest);
  if (!prev) {
    next.why = full + ": its latest backup, " + newest->stored_filename + ", is not incremental";
    return next;
  }
  if (max_levels > 0 && prev->level >= max_levels) {
    next.why = full + ": its chain has " + std::to_string(max_levels) + " levels after its full (incremental: " +
               std::to_string(max_levels) + ")";
    return next;
  }
  next.level = prev->level + 1;
  next.parent = newest->stored_filename;
  next.why = "Incremental level " + std::to_string(next.level) + " of " + filename + ", after " + next.parent;
  auto loaded = load(snapshot_path(ctx, filename));
  if (loaded && loaded->stored == newest->stored_filename) {
    next.base = std::move(loaded->snapshot);
    return next;
  }
  // Made elsewhere, or the snapshot lost: the chain as the destination
  // keeps it.
  try {
    next.base = rebuild_snapshot(ctx, chain_of(ctx, *newest), options);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Interrupted) throw;
    Level fresh;
    fresh.why = full + ": a new full, as this machine has no snapshot of its latest level, " +
                newest->stored_filename + ", and cannot rebuild it from the destination (" + e.what() + ")";
    return fresh;
  }
  next.why += ": continuing the chain of " + next.parent + " from the destination (this machine has no snapshot "
              "of it: a file counts as changed unless its size, mtime, mode and owner are as the levels' indexes "
              "record them)";
  return next;
}

std::vector<BackupRecord> chain_of(Context& ctx, const BackupRecord& last) {
  std::vector<BackupRecord> chain{last};
  for (auto l = level_of(last); l && l->level > 0; l = level_of(chain.back())) {
    auto parent = l->parent.empty() ? std::nullopt : ctx.catalog().by_stored_filename(l->parent);
    if (!parent || parent->is_deleted) {
      // What the levels after the gap cannot give back, the levels before
      // it still can.
      std::string can = l->level >= 2 ? "; " + std::to_string(l->level - 1) + " earlier level(s) of " +
                                            last.filename + " may still be restorable (bakthat show " +
                                            last.filename + ")"
                                      : "";
      throw Error(ErrorKind::NotFound, last.stored_filename + " is level " + std::to_string(level_of(last)->level) +
                                           " of an incremental chain whose level " + std::to_string(l->level - 1) +
                                           " (" + (l->parent.empty() ? "unnamed" : l->parent) +
                                           ") is missing: it cannot be restored" + can);
    }
    chain.push_back(std::move(*parent));
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

std::optional<BackupRecord> dependent_of(Context& ctx, const BackupRecord& record) {
  for (auto& r : ctx.matches(record.filename)) {
    auto l = level_of(r);
    if (l && l->parent == record.stored_filename) return std::move(r);
  }
  return std::nullopt;
}

void save_snapshot(Context& ctx, const BackupRecord& record, const archive::Snapshot& snapshot) {
  auto level = level_of(record);
  if (!level) return;
  const std::string dir = snapshot_dir(ctx);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw Error(ErrorKind::Io, "cannot create " + dir + ": " + std::strerror(errno));
  const std::string path = snapshot_path(ctx, record.filename);
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(ErrorKind::Io, "cannot write " + tmp + ": " + std::strerror(errno));
  ::close(fd);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << kMagic << '\n' << record.stored_filename << '\n' << level->level << '\n';
    for (const auto& [name, s] : snapshot)
      out << name << '\0' << s.dev << ' ' << s.ino << ' ' << s.mtime_ns << ' ' << s.ctime_ns << ' ' << s.size << '\n';
    out.flush();
    if (!out) {
      ::unlink(tmp.c_str());
      throw Error(ErrorKind::Io, "cannot write " + tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error(ErrorKind::Io, "cannot write " + path + ": " + std::strerror(err));
  }
}

}  // namespace bakthat::ops
