// backup(): source (tar of a tree, a file as is, or a stream) -> compress ->
// encrypt -> hash -> store, then the catalog row.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <future>
#include <optional>
#include <system_error>
#include <thread>

#include "archive/archive.hpp"
#include "crypto/crypto.hpp"
#include "events/scope.hpp"
#include "ops/backup_index.hpp"
#include "ops/context.hpp"
#include "ops/incremental.hpp"
#include "ops/names.hpp"
#include "ops/pipeline.hpp"
#include "util/file_source.hpp"
#include "util/file_tree.hpp"

namespace bakthat {
namespace {

namespace fs = std::filesystem;
using ops::Layout;

std::string codec_name(codec::Codec c) {
  switch (c) {
    case codec::Codec::Gzip: return "gzip";
    case codec::Codec::Zstd: return "zstd";
    case codec::Codec::None: return "";
  }
  return "";
}

// How one backup is encrypted, from options and profile.
struct Encryption {
  std::optional<crypto::EncryptOptions> options;
  std::string scheme;  // crypto::encryption_scheme, or "" when not encrypted
};

Encryption choose_encryption(const ops::Context& ctx, const Options& options) {
  Encryption e;
  std::vector<std::string> recipients = ctx.profile().recipients;
  recipients.insert(recipients.end(), options.recipients.begin(), options.recipients.end());
  const std::optional<std::string>& password = ctx.password();
  bool has_password = password && !password->empty();
  if (!recipients.empty() && has_password)
    throw Error(ErrorKind::Usage, "give either a password or age recipients, not both");
  if (recipients.empty() && !has_password) return e;
  crypto::EncryptOptions o;
  o.scrypt_work_factor = ctx.profile().scrypt_work_factor;
  o.threads = ctx.profile().threads;
  if (!recipients.empty())
    o.recipients = std::move(recipients);
  else
    o.password = password;
  e.scheme = crypto::encryption_scheme(o);
  e.options = std::move(o);
  return e;
}

// What the source is and how it is stored.
struct Plan {
  std::string filename;  // catalog filename
  std::string base;      // stored name base
  Layout layout = Layout::Tar;
  codec::Codec codec = codec::Codec::Gzip;
  bool store_as_is = false;  // a file copied byte for byte (already .tgz, or compress: false)
};

codec::Codec profile_codec(const Profile& p) {
  return p.compression == "zstd" ? codec::Codec::Zstd : codec::Codec::Gzip;
}

// Uploads older than a day that a failed abort left open are bakthat's to
// abort: a younger one may be another machine's backup in progress.
// BAKTHAT_STALE_UPLOAD_SECONDS shortens the day for tests.
std::int64_t stale_upload_age() {
  const char* v = std::getenv("BAKTHAT_STALE_UPLOAD_SECONDS");
  return v && *v ? std::atoll(v) : 86400;
}

// Aborts bakthat's own uploads a failed abort left open at this destination
// (parts are stored and billed until then). A failure is only a warning.
void abort_stale_uploads(Storage& store, Reporter& rep) {
  try {
    for (const auto& name : store.abort_incomplete(ops::is_stored_name, std::time(nullptr) - stale_upload_age()))
      rep.message("Aborted the incomplete upload of " + name + " left by an earlier backup");
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Interrupted) throw;
    if (e.kind() == ErrorKind::NotFound) return;  // no bucket yet: no upload either
    rep.warning(std::string("incomplete uploads were not checked: ") + e.what());
  }
}

// Runs the common tail: compress -> encrypt -> hash -> store, fed by
// `produce`, then writes the catalog row. Retries the next second when the
// name is taken, so two backups of one name in one second both succeed; it
// waits for that second to come, since the name's time is the row's
// backup_date and a date in the future would read as such to rotation.
template <typename Produce>
BackupRecord store_and_record(ops::Context& ctx, const BackupOptions& options, const Plan& plan,
                              const std::string& announcement, std::future<std::uint64_t> total, Produce produce) {
  Encryption enc = choose_encryption(ctx, options);
  if (options.reduced_redundancy) ctx.set_storage_class("REDUCED_REDUNDANCY");
  Reporter& rep = ctx.reporter();
  Storage& store = ctx.storage();
  std::int64_t when = std::time(nullptr);
  std::string ext = ops::extension_for(plan.layout, plan.store_as_is ? codec::Codec::None : plan.codec);
  if (plan.store_as_is && plan.layout == Layout::Tar) ext = ".tgz";

  std::unique_ptr<ObjectWriter> writer;
  std::string stored;
  for (int attempt = 0;; ++attempt) {
    stored = ops::stored_name(plan.base, when, ext, enc.options.has_value());
    try {
      if (ctx.catalog().by_stored_filename(stored)) throw Error(ErrorKind::Conflict, stored);
      writer = store.create(stored, std::nullopt);
      break;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Conflict || attempt > 300) throw;
      ++when;
      while (std::time(nullptr) < when) sleep_unless_cancelled(ctx.cancel(), std::chrono::milliseconds(20));
    }
  }
  // After create(), which reaches the bucket (or makes it): a bucket that
  // cannot be used is refused there, in one line, not also warned about here.
  abort_stale_uploads(store, rep);

  BackupRecord r;
  r.backend = ctx.destination();
  r.backend_hash = ctx.backend_hash();
  r.backup_date = when;
  r.filename = plan.filename;
  r.stored_filename = stored;
  for (const auto& t : options.tags) r.tags += (r.tags.empty() ? "" : " ") + t;
  // Named nlohmann::json{...}, not a bare {...}: in a template, clang before
  // 17 never destroys operator='s by-value argument made from a braced list
  // (https://github.com/llvm/llvm-project/issues/51037): the map it
  // replaces would leak, once per backup.
  r.metadata = nlohmann::json{
      {"is_enc", enc.options.has_value()},
      {"client", ops::host_name()},
      {"compression", plan.store_as_is ? nlohmann::json(nullptr) : nlohmann::json(codec_name(plan.codec))},
      {"encryption", enc.scheme.empty() ? nlohmann::json(nullptr) : nlohmann::json(enc.scheme)},
      {"format", plan.layout == Layout::Tar ? "tar" : "stream"}};
  // Before the object can appear: a backup killed after it is complete but
  // before its row leaves this note for a sync to follow.
  r.last_updated = std::time(nullptr);
  // A backup that fails takes its note back; one killed leaves it for sync.
  struct PendingNote {
    ops::Context& ctx;
    std::string entry;
    ~PendingNote() { ops::drop_entry(ctx, entry); }
  } pending{ctx, ops::note_pending(ctx, r)};

  ops::HashingSink hashed(*writer, ctx.cancel());
  std::unique_ptr<Sink> encryptor;
  Sink* head = &hashed;
  if (enc.options) {
    // The backup and its index share one header: a reader unwraps it (a
    // password's scrypt) once for both.
    enc.options->shared_header = crypto::make_shared_header(*enc.options);
    encryptor = crypto::make_encryptor(*head, *enc.options);
    head = encryptor.get();
  }

  // Only now, with the destination reached (credentials, bucket) and the
  // recipients read: what can be refused before a byte is read was refused
  // before this line.
  rep.message(announcement);
  if (!plan.store_as_is) rep.message("Compressing...");
  if (enc.options) rep.message("Encrypting...");
  // "Uploading" is for what leaves the machine.
  const bool remote = ctx.destination() != "local";
  rep.message((remote ? "Uploading to " : "Writing to ") + store.location() + "...");
  // A tar archive's index follows its streams as they pass (docs/formats.md §13).
  std::unique_ptr<ops::IndexWriter> index;
  if (plan.layout == Layout::Tar && !plan.store_as_is) {
    index = ops::open_index_writer(ctx, stored, plan.codec, enc.options);
    if (index) head = &index->compressed_tap(*head);
  }
  std::unique_ptr<Sink> compressor;
  if (!plan.store_as_is) {
    int threads = ctx.profile().threads;
    compressor = codec::make_compressor(*head, {plan.codec, ctx.profile().compression_level, threads});
    head = compressor.get();
  }
  if (index) head = &index->tar_tap(*head);
  rep.progress_start(remote ? "Uploading" : "Writing", 0);
  ops::ProgressSink progress(*head, rep, ctx.cancel(), std::move(total));
  nlohmann::json extra = produce(progress);
  rep.progress_end();

  if (index) {
    // The backup is complete: an index that cannot be stored only costs
    // list and partial restore a whole read.
    try {
      index->finish();
      r.metadata["index_sha256"] = index->sha256();
      r.metadata["index_size"] = index->size();
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted) throw;
      rep.warning(std::string("the backup's index was not stored: ") + e.what());
    }
  }
  r.last_updated = std::time(nullptr);
  r.size = static_cast<std::int64_t>(hashed.size());
  r.metadata["sha256"] = hashed.sha256();
  r.metadata["original_size"] = progress.count();
  for (auto& [k, v] : extra.items()) r.metadata[k] = v;
  for (const auto& [k, v] : options.extra_metadata) if (!r.metadata.contains(k)) r.metadata[k] = v;
  if (!writer->stored().provider_id.empty()) r.metadata["provider_id"] = writer->stored().provider_id;
  // The destination's row, then ours: killed in between, the next sync
  // takes the row in from the destination.
  const std::string row_entry = ops::note_row(ctx, r);
  try {
    r.id = ctx.catalog().insert(r);
  } catch (...) {
    // No row, no object: a backup that could not be recorded is removed,
    // and its row entry with it (its note goes with `pending`).
    try { store.remove(stored); } catch (...) {}
    ops::drop_entry(ctx, row_entry);
    ops::remove_index(ctx, stored);
    throw;
  }
  pending.entry.clear();  // the row stands for it now
  ops::sync_if_auto(ctx);
  return r;
}

// The bytes of regular files under root that the archive takes: not those
// excluded, nor those it leaves out (the local store), for the progress
// total. `device`: root's file system, when the backup stays on it. Walks
// as deep as the archive's walk, holding as few descriptors
// (util::HeldDir), and stops early (with what it counted) once `stop` is set.
class TreeSize {
 public:
  TreeSize(const archive::ExcludeRules& excludes, const archive::Identities& leave_out, std::optional<dev_t> device,
           const std::atomic<bool>& stop)
      : excludes_(excludes), leave_out_(leave_out), device_(device), stop_(stop) {}

  std::uint64_t of(const std::string& root) {
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) return 0;
    if (S_ISREG(st.st_mode)) return static_cast<std::uint64_t>(st.st_size);  // a link to one too
    util::HeldDir dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.fd() >= 0) walk(dir, 1);
    return total_;
  }

 private:
  // The entries below `dir`, at `depth` below the root; rel_ names it
  // relative to the root, as the archive's walk matches patterns.
  void walk(util::HeldDir& dir, int depth) {
    std::vector<std::string> names;
    try {
      names = util::directory_names(dir.fd(), rel_);
    } catch (const Error&) {
      return;  // unreadable: the archive says so, the total leaves it out
    }
    const std::size_t rel_len = rel_.size();
    for (const auto& name : names) {
      if (stop_.load(std::memory_order_relaxed) || dir.fd() < 0) return;
      if (!rel_.empty()) rel_.push_back('/');
      rel_.append(name);
      struct stat st {};
      if ((excludes_.empty() || !excludes_.excluded_leaf(rel_.c_str())) &&
          ::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !leave_out_.contains(st)) {
        if (S_ISREG(st.st_mode)) {
          total_ += static_cast<std::uint64_t>(st.st_size);
        } else if (S_ISDIR(st.st_mode) && (!device_ || st.st_dev == *device_)) {
          util::HeldDir child(::openat(dir.fd(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          if (child.fd() >= 0) dir.descend(child, depth + 1, [&] { walk(child, depth + 1); });
        }
      }
      rel_.resize(rel_len);
    }
  }

  const archive::ExcludeRules& excludes_;
  const archive::Identities& leave_out_;
  const std::optional<dev_t> device_;
  const std::atomic<bool>& stop_;
  std::uint64_t total_ = 0;
  std::string rel_;
};

// TreeSize on a thread while the backup already streams (on a cold cache
// a walk of its own would delay the first byte by a whole metadata pass).
// The walk ends with the backup, even one that failed or was cancelled at
// once: a backup of / does not wait for the walk of the whole machine.
class TreeTotal {
 public:
  TreeTotal(std::string root, archive::ExcludeRules excludes, archive::Identities leave_out,
            std::optional<dev_t> device) {
    std::future<std::uint64_t> result = promise_.get_future();
    try {
      walker_ = std::thread([this, root = std::move(root), excludes = std::move(excludes),
                             leave_out = std::move(leave_out), device] {
        try {
          promise_.set_value(TreeSize(excludes, leave_out, device, stop_).of(root));
        } catch (...) {
          promise_.set_exception(std::current_exception());
        }
      });
      result_ = std::move(result);
    } catch (const std::system_error&) {  // no thread to spare: no total
    }
  }
  ~TreeTotal() {
    stop_ = true;
    if (walker_.joinable()) walker_.join();
  }
  TreeTotal(const TreeTotal&) = delete;
  TreeTotal& operator=(const TreeTotal&) = delete;
  // The total once known (invalid without a walk); taken once.
  std::future<std::uint64_t> future() { return std::move(result_); }

 private:
  std::atomic<bool> stop_{false};
  std::promise<std::uint64_t> promise_;
  std::future<std::uint64_t> result_;
  std::thread walker_;
};

// A kind of trouble's paths in the catalog row: the count, and the first
// kListedInRow of them. Trees like /sys change by the thousand while read;
// the whole list made rows of a megabyte, which every `show --json`, sync
// and on_backup hook then carries. Each path was already named on the
// Reporter as it happened.
constexpr std::size_t kListedInRow = 100;
void list_in_row(nlohmann::json& extra, const std::string& key, const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  extra[key] = std::vector<std::string>(paths.begin(), paths.begin() + static_cast<std::ptrdiff_t>(
                                                                         std::min(paths.size(), kListedInRow)));
  extra[key + "_count"] = paths.size();
}

void warn_changed(ops::Context& ctx, const std::string& path) {
  ctx.reporter().warning(path + " changed while it was read; its copy may be inconsistent");
}

}  // namespace

BackupRecord backup(const std::string& path_in, const BackupOptions& options) {
  ops::Context ctx(options);
  events::Scope ev("backup", path_in, ctx.profile(), ctx.destination(), ctx.reporter());
  const bool compress = options.compress.value_or(ctx.profile().compress);
  std::string path = path_in.empty() ? "." : path_in;
  // A symlink named on the command line is followed (its target is what the
  // user means), under the link's own name; links inside a tree are stored.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    throw Error(err == ENOENT ? ErrorKind::NotFound : ErrorKind::Io,
                "cannot back up " + path + ": " + std::strerror(err));
  }
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
    throw Error(ErrorKind::Usage, "cannot back up " + path +
                                      ": not a regular file or directory (a device or pipe's content: "
                                      "bakthat backup - --name NAME < " + path + ")");
  // A file named on the command line that cannot be read is refused, as an
  // unreadable directory is: else a backup of nothing would be recorded.
  if (S_ISREG(st.st_mode)) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      const int err = errno;
      throw Error(ErrorKind::Io, "cannot back up " + path + ": " + std::strerror(err));
    }
    ::close(fd);
  }
  std::error_code ec;
  std::string absolute = fs::absolute(path, ec).lexically_normal().string();
  while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
  std::string arcname = ops::last_component(absolute);
  if (arcname.empty()) arcname = "root";

  Plan plan;
  plan.filename = options.custom_name.empty() ? arcname : options.custom_name;
  plan.base = plan.filename;
  plan.codec = profile_codec(ctx.profile());
  std::string untgz = S_ISREG(st.st_mode) ? ops::strip_tgz(arcname) : "";
  if (!untgz.empty()) {
    // Already a .tgz: stored as is, never compressed twice. The catalog
    // keeps the file's own name, as the Python bakthat did, so that
    // `restore x.tgz` finds the backups of either; the stored name drops it.
    plan.store_as_is = true;
    plan.layout = Layout::Tar;
    if (options.custom_name.empty()) plan.base = untgz;
  } else if (!compress && S_ISREG(st.st_mode)) {
    plan.store_as_is = true;
    plan.layout = Layout::Stream;
  } else if (!compress) {
    plan.codec = codec::Codec::None;
  }

  // bakthat's own local store, if the tree holds it: left out of the archive.
  std::vector<std::string> leave_out;
  if (ctx.destination() == "local") leave_out.push_back(ctx.profile().local_path);
  archive::ExcludeRules excludes;
  if (!options.read_exclude_files && !options.exclude_file.empty())
    throw Error(ErrorKind::Usage, "give --exclude-file or --no-exclude, not both");
  if (options.read_exclude_files && !plan.store_as_is) {
    if (S_ISDIR(st.st_mode))
      excludes = archive::ExcludeRules::for_directory(absolute, options.exclude_file);
    else if (!options.exclude_file.empty())
      excludes = archive::ExcludeRules::from_file(options.exclude_file);
  }
  if (options.incremental && !S_ISDIR(st.st_mode))
    throw Error(ErrorKind::Usage, "--incremental needs a directory; " + path + " is a file");
  std::optional<ops::Level> level;
  archive::Snapshot snapshot;
  if (S_ISDIR(st.st_mode) && (options.incremental || ctx.profile().incremental > 0)) {
    level = ops::next_level(ctx, plan.filename, ctx.profile().incremental, options);
    ctx.reporter().message(level->why);
  }
  // A level above 0 reads only what changed: a walk of the whole tree for
  // the progress total would cost more than the level itself.
  std::optional<TreeTotal> total;
  if (!level || level->level == 0)
    total.emplace(absolute, excludes, archive::Identities(leave_out),
                  options.one_file_system ? std::optional<dev_t>(st.st_dev) : std::nullopt);
  BackupRecord made = store_and_record(ctx, options, plan, "Backing up " + absolute,
                                       total ? total->future() : std::future<std::uint64_t>(),
                                       [&](Sink& out) -> nlohmann::json {
    if (plan.store_as_is) {
      auto src = util::open_file_source(absolute);
      ops::copy(*src, out, ctx.cancel());
      out.finish();
      nlohmann::json extra = {{"files", 1}};
      struct stat after {};
      if (::stat(absolute.c_str(), &after) == 0 && archive::changed_while_read(st, after)) {
        warn_changed(ctx, absolute);
        list_in_row(extra, "changed", {absolute});
      }
      return extra;
    }
    archive::TarOptions topts;
    topts.root = absolute;
    topts.arcname = arcname;
    topts.excludes = excludes;
    topts.leave_out = leave_out;
    topts.one_file_system = options.one_file_system;
    if (level) {
      topts.incremental_base = &level->base;
      topts.snapshot_out = &snapshot;
    }
    topts.on_notice = [&](archive::TarOptions::Notice kind, const std::string& what) {
      switch (kind) {
        case archive::TarOptions::Notice::LeftOut:
          ctx.reporter().message("Leaving out " + what + ": bakthat's own store");
          break;
        case archive::TarOptions::Notice::RestoreLeftover:
          ctx.reporter().message("Leaving out " + what + ": left by an interrupted restore");
          break;
        case archive::TarOptions::Notice::Unreadable: ctx.reporter().warning("cannot read " + what); break;
        case archive::TarOptions::Notice::Changed: warn_changed(ctx, what); break;
        case archive::TarOptions::Notice::OtherFileSystem:
          ctx.reporter().message("Leaving out the content of " + what + ": another file system");
          break;
        case archive::TarOptions::Notice::Excluded: ctx.reporter().detail("Excluded " + what); break;
      }
    };
    archive::TarStats stats = archive::write_tar(topts, out);
    nlohmann::json extra = {{"files", stats.files}};
    list_in_row(extra, "unreadable", stats.unreadable);
    list_in_row(extra, "changed", stats.changed);
    // An exclude file (a .gitignore above all) leaves files out that the
    // user may not think of: said, and recorded in the row.
    if (!excludes.source().empty()) {
      ctx.reporter().message("Using " + excludes.source() + " to exclude files: " +
                             std::to_string(stats.excluded.size()) +
                             " path(s) left out (-v names them; --no-exclude keeps them)");
      extra["exclude_file"] = excludes.source();
      list_in_row(extra, "excluded", stats.excluded);
      extra["excluded_count"] = stats.excluded.size();
    }
    if (level) {
      extra["level"] = level->level;
      if (!level->parent.empty()) extra["parent"] = level->parent;
    }
    return extra;
  });
  if (level) {
    try {
      ops::save_snapshot(ctx, made, snapshot);
    } catch (const Error& e) {
      ctx.reporter().warning(std::string(e.what()) + "; the next backup of " + made.filename +
                             " starts a new chain");
    }
  }
  return ev.done(std::move(made));
}

BackupRecord backup_stream(Source& in, const std::string& name, const BackupOptions& options) {
  ops::Context ctx(options);
  events::Scope ev("backup", name, ctx.profile(), ctx.destination(), ctx.reporter());
  if (name.empty() || name.find('/') != std::string::npos)
    throw Error(ErrorKind::Usage, "a stream backup needs a name without '/' (--name NAME)");
  Plan plan;
  plan.filename = plan.base = name;
  plan.layout = Layout::Stream;
  plan.codec = options.compress.value_or(ctx.profile().compress) ? profile_codec(ctx.profile()) : codec::Codec::None;
  return ev.done(store_and_record(ctx, options, plan, "Backing up " + name + " from standard input", {},
                                  [&](Sink& out) -> nlohmann::json {
    ops::copy(in, out, ctx.cancel());
    out.finish();
    return {{"files", 1}};
  }));
}

}  // namespace bakthat
