// restore() and verify(): store -> hash check -> decrypt -> decompress ->
// untar into a staging directory -> move into place (or one stream out).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "archive/archive.hpp"
#include "crypto/crypto.hpp"
#include "events/scope.hpp"
#include "ops/context.hpp"
#include "ops/incremental.hpp"
#include "ops/names.hpp"
#include "ops/pipeline.hpp"
#include "ops/restore_selection.hpp"
#include "util/file_source.hpp"
#include "util/peek_source.hpp"

namespace bakthat {

crypto::DecryptOptions ops::decrypt_options(const Context& ctx, const Options& options,
                                            const std::optional<std::string>& password) {
  crypto::DecryptOptions d;
  d.password = password;
  d.identity_files = options.identity_files;
  if (!ctx.profile().identity_file.empty()) d.identity_files.push_back(ctx.profile().identity_file);
  d.threads = ctx.profile().threads;
  // A backup's index shares its header: one unwrap (one scrypt) opens both.
  d.file_keys = crypto::make_file_key_cache();
  return d;
}

namespace {

namespace fs = std::filesystem;
using ops::decrypt_options;

// The password for an encrypted object, asked before any download. Objects
// encrypted to age recipients need an identity instead.
std::optional<std::string> password_for(const nlohmann::json& metadata, const ops::Context& ctx,
                                        const Options& options, bool have_identities) {
  if (ctx.password() && !ctx.password()->empty()) return ctx.password();
  std::string scheme = metadata.value("encryption", nlohmann::json()).is_string()
                           ? metadata["encryption"].get<std::string>() : "";
  if (crypto::scheme_takes_identities(scheme) || (scheme.empty() && have_identities)) return std::nullopt;
  if (options.ask_password && ctx.profile().prompt) {
    auto p = options.ask_password();
    if (p && !p->empty()) return p;
  }
  throw Error(ErrorKind::Crypto, "this backup is encrypted: a password is needed (BAKTHAT_PASSWORD or the prompt)");
}

// The directory a restore writes into, made if missing. A restore that
// fails removes again the directories it made (those still empty), so that
// `-o new/dir` leaves nothing behind either.
class TargetDir {
 public:
  explicit TargetDir(const RestoreOptions& options) : path_(options.target_dir.empty() ? "." : options.target_dir) {
    std::error_code ec;
    if (fs::is_directory(path_, ec)) return;
    if (options.target_dir.empty()) throw Error(ErrorKind::Io, "the current directory is not usable");
    for (fs::path p = fs::path(path_).lexically_normal(); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
      made_.push_back(p);
      if (p == p.parent_path()) break;
    }
    fs::create_directories(path_, ec);
    if (ec) {
      remove_made();
      throw Error(ErrorKind::Io, "cannot create " + path_ + ": " + ec.message());
    }
  }
  ~TargetDir() {
    if (!kept_) remove_made();
  }
  TargetDir(const TargetDir&) = delete;
  TargetDir& operator=(const TargetDir&) = delete;
  const std::string& path() const { return path_; }
  void keep() { kept_ = true; }

 private:
  void remove_made() {
    for (const auto& p : made_) ::rmdir(p.c_str());  // deepest first; fails harmlessly if not empty
  }
  std::string path_;
  std::vector<fs::path> made_;
  bool kept_ = false;
};

bool looks_like_tar(Bytes head) {
  return head.size() >= 262 && std::memcmp(head.data() + 257, "ustar", 5) == 0;
}

// What an extraction recovered and could not set, said.
void report_extraction(const archive::ExtractStats& s, bool tar, Reporter& rep) {
  for (const auto& line : s.recovered) rep.message(line);
  if (!tar) return;
  // A few by name, then a count: restoring a labelled tree as a user who
  // may not set the labels would otherwise print a line per file.
  constexpr std::size_t kNamed = 5;
  for (std::size_t i = 0; i < std::min(kNamed, s.warnings.size()); ++i)
    rep.warning("restored without all its metadata: " + s.warnings[i]);
  if (s.warnings.size() > kNamed)
    rep.warning("... and " + std::to_string(s.warnings.size() - kNamed) + " more restored without all their metadata");
}

// Decrypts, decompresses and delivers `stored` (already hash-checked) as the
// options ask: untarred into the target, one file into the target, or out.
// A catalog row's object is read as its name says; a local file
// (`from_file` names it) as its magic says, which must agree with its name.
RestoreResult deliver(Source& stored, const ops::NameInfo& info, const std::string& stream_name,
                      const RestoreOptions& options, Reporter& rep,
                      const std::optional<crypto::DecryptOptions>& decrypt, const std::string& from_file,
                      const CancelToken* cancel) {
  bool detect_layout = !from_file.empty();
  ops::CancellableSource cancellable(stored, cancel);
  Source* head = &cancellable;
  std::unique_ptr<Source> decryptor, decompressor;
  if (decrypt) {
    rep.message("Decrypting...");
    decryptor = crypto::make_decryptor(*head, *decrypt);
    head = decryptor.get();
  }
  util::PeekSource peeked(*head);
  codec::Codec c = info.codec;
  if (detect_layout) {
    c = codec::detect(peeked.peek(4));
    // A file named as a compressed archive that does not start as one is
    // damaged (or empty), not a stream to write out as it is.
    if (info.codec != codec::Codec::None && c != info.codec)
      throw Error(ErrorKind::Corrupt, from_file + " is named as a " +
                                          (info.codec == codec::Codec::Gzip ? "gzip" : "zstd") +
                                          " archive, but is not one (damaged or empty)");
  }
  head = &peeked;
  if (c != codec::Codec::None) {
    rep.message("Uncompressing...");
    decompressor = codec::make_decompressor(*head, c, 2);
    head = decompressor.get();
  }
  util::PeekSource body(*head);
  ops::Layout layout = info.layout;
  if (detect_layout) {
    layout = looks_like_tar(body.peek(512)) ? ops::Layout::Tar : ops::Layout::Stream;
    if (info.layout == ops::Layout::Tar && layout != ops::Layout::Tar)
      throw Error(ErrorKind::Corrupt, from_file + " is named as a tar archive, but holds none (damaged or empty)");
  }

  RestoreResult result;
  if (options.to_stdout) {
    if (!options.out) throw Error(ErrorKind::Usage, "no output given for --stdout");
    if (layout == ops::Layout::Tar) {
      archive::extract_single_to(body, *options.out);
    } else {
      ops::copy(body, *options.out, cancel);
    }
    options.out->finish();
    return result;
  }
  TargetDir target(options);
  const std::string& dir = target.path();
  archive::ExtractStats s = layout == ops::Layout::Tar
                               ? archive::extract_tar(body, {dir, options.force})
                               : archive::extract_stream(body, {dir, options.force}, stream_name);
  report_extraction(s, layout == ops::Layout::Tar, rep);
  result.restored = s.top_entries;
  target.keep();
  return result;
}

}  // namespace

namespace ops {

Located locate(ops::Context& ctx, const std::string& name, const Options& options, bool one_file) {
  // Only this profile's store holds the object, so only its rows match.
  auto rec = ctx.latest(name);
  if (!rec) throw ctx.no_match(name);
  // A backup of several files is refused before the password prompt and the
  // download (rows of the Python bakthat have no count: the archive tells).
  auto files = rec->metadata.find("files");
  if (one_file && files != rec->metadata.end() && files->is_number_integer() && files->get<std::int64_t>() > 1)
    throw Error(ErrorKind::Usage, "--stdout needs a backup of a single file");
  Located l{*rec, ops::parse_stored_name(rec->stored_filename), std::nullopt};
  if (rec->metadata.value("is_enc", false)) l.info.encrypted = true;
  // The Python KeyValue stored its values under the bare key name, gzipped,
  // and said so only in the row's metadata.
  if (l.info.layout == ops::Layout::Stream && l.info.codec == codec::Codec::None &&
      rec->metadata.value("is_gzipped", false))
    l.info.codec = codec::Codec::Gzip;
  if (l.info.encrypted) {
    auto d = decrypt_options(ctx, options, std::nullopt);
    d.password = password_for(rec->metadata, ctx, options, !d.identity_files.empty());
    l.decrypt = d;
  }
  return l;
}

}  // namespace ops

namespace {

using ops::Located;
using ops::locate;

// One level of an incremental chain as its tar stream: downloaded (counted
// on the chain's one progress display from `already`), hash-checked,
// decrypted, decompressed.
class LevelStream : public Source {
 public:
  LevelStream(Storage& store, const BackupRecord& rec, const std::optional<crypto::DecryptOptions>& decrypt,
              Reporter& rep, std::uint64_t already, const CancelToken* cancel)
      : stored_(store.open(rec.stored_filename)), progress_(*stored_, rep, already),
        hashed_(progress_, rec.metadata.value("sha256", std::string()), cancel) {
    ops::NameInfo info = ops::parse_stored_name(rec.stored_filename);
    head_ = &hashed_;
    if (info.encrypted || rec.metadata.value("is_enc", false)) {
      if (!decrypt) throw Error(ErrorKind::Crypto, rec.stored_filename + " is encrypted: a password is needed");
      decryptor_ = crypto::make_decryptor(*head_, *decrypt);
      head_ = decryptor_.get();
    }
    if (info.codec != codec::Codec::None) {
      decompressor_ = codec::make_decompressor(*head_, info.codec, 2);
      head_ = decompressor_.get();
    }
  }
  std::size_t read(MutableBytes out) override { return head_->read(out); }

 private:
  std::unique_ptr<Source> stored_;
  ops::ProgressSource progress_;
  ops::HashingSource hashed_;
  std::unique_ptr<Source> decryptor_, decompressor_;
  Source* head_ = nullptr;
};

// One way to decrypt every level of `chain` (one password), asked before
// any download.
std::optional<crypto::DecryptOptions> chain_decryption(ops::Context& ctx, const Options& options,
                                                       const std::vector<BackupRecord>& chain, const Located& found) {
  std::optional<crypto::DecryptOptions> decrypt = found.decrypt;
  for (const auto& level : chain) {
    if (decrypt || !level.metadata.value("is_enc", false)) continue;
    auto d = decrypt_options(ctx, options, std::nullopt);
    d.password = password_for(level.metadata, ctx, options, !d.identity_files.empty());
    decrypt = d;
  }
  return decrypt;
}

// restore() of a level above 0: the levels from 0 up to it, downloaded one
// after the other into one staging tree (archive::extract_tar_levels).
RestoreResult restore_chain(ops::Context& ctx, const Located& found, const RestoreOptions& options) {
  Reporter& rep = ctx.reporter();
  if (options.to_stdout) throw Error(ErrorKind::Usage, "--stdout needs a backup of a single file; " +
                                                           found.record.stored_filename + " is an incremental level");
  std::vector<BackupRecord> chain = ops::chain_of(ctx, found.record);
  RestoreResult result;
  result.record = found.record;
  Storage& store = ctx.storage();
  for (int round = 0;; ++round) {
    Readiness worst = Readiness::Ready;
    for (const auto& level : chain) {
      Readiness r = store.prepare_read(level.stored_filename);
      if (r != Readiness::Ready && worst != Readiness::RetrievalStarted) worst = r;
    }
    if (worst == Readiness::Ready) break;
    if (!options.wait) {
      result.state = worst == Readiness::RetrievalStarted ? RestoreState::RetrievalStarted
                                                           : RestoreState::RetrievalInProgress;
      return result;
    }
    sleep_unless_cancelled(ctx.cancel(), std::chrono::seconds(std::min(60, 2 << std::min(round, 5))));
  }
  std::optional<crypto::DecryptOptions> decrypt = chain_decryption(ctx, options, chain, found);
  std::uint64_t total = 0;
  for (const auto& level : chain) total += static_cast<std::uint64_t>(level.size);
  rep.message("Restoring " + found.record.stored_filename + ", level " + std::to_string(chain.size() - 1) +
              " of an incremental chain: " + std::to_string(chain.size()) + " levels from " +
              chain.front().stored_filename);
  rep.message("Downloading...");
  rep.progress_start("Downloading", total);
  TargetDir target(options);
  std::unique_ptr<LevelStream> current;
  std::size_t next = 0;
  std::uint64_t done = 0;
  archive::ExtractStats s = archive::extract_tar_levels(
      [&]() -> Source* {
        current.reset();
        if (next == chain.size()) return nullptr;
        const BackupRecord& level = chain[next++];
        current = std::make_unique<LevelStream>(store, level, decrypt, rep, done, ctx.cancel());
        done += static_cast<std::uint64_t>(level.size);
        return current.get();
      },
      {target.path(), options.force});
  rep.progress_end();
  report_extraction(s, true, rep);
  result.restored = s.top_entries;
  target.keep();
  return result;
}

}  // namespace

RestoreResult restore(const std::string& name, const RestoreOptions& options) {
  ops::Context ctx(options);
  events::Scope ev("restore", name, ctx.profile(), ctx.destination(), ctx.reporter());
  Reporter& rep = ctx.reporter();
  Located found = locate(ctx, name, options, options.to_stdout);
  if (auto level = ops::level_of(found.record); level && level->level > 0)
    return ev.done(restore_chain(ctx, found, options));
  const BackupRecord* rec = &found.record;
  const std::string& stored = rec->stored_filename;
  rep.message("Restoring " + stored);

  Storage& store = ctx.storage();
  RestoreResult result;
  result.record = *rec;
  for (int round = 0;; ++round) {
    Readiness r = store.prepare_read(stored);
    if (r == Readiness::Ready) break;
    if (!options.wait) {
      result.state = r == Readiness::RetrievalStarted ? RestoreState::RetrievalStarted
                                                       : RestoreState::RetrievalInProgress;
      return ev.done(std::move(result));
    }
    sleep_unless_cancelled(ctx.cancel(), std::chrono::seconds(std::min(60, 2 << std::min(round, 5))));
  }

  if (ops::selects_part(options) || options.as_tar) {
    if (options.as_tar) return ev.done(ops::restore_selection(ctx, found, options, ""));
    TargetDir target(options);
    RestoreResult part = ops::restore_selection(ctx, found, options, target.path());
    target.keep();
    return ev.done(std::move(part));
  }
  // "Downloading" is for what comes over the network, as backup's "Uploading".
  const bool remote = ctx.destination() != "local";
  rep.message((remote ? "Downloading from " : "Reading from ") + store.location() + "...");
  auto src = store.open(stored);
  ops::ProgressSource progress(*src, rep);
  rep.progress_start(remote ? "Downloading" : "Reading", static_cast<std::uint64_t>(rec->size));
  ops::HashingSource hashed(progress, rec->metadata.value("sha256", std::string()), ctx.cancel());
  // A stream is restored under its catalog name, which must stay inside the target.
  std::string stream_name = ops::last_component(rec->filename);
  if (stream_name.empty() || stream_name == "." || stream_name == "..")
    throw Error(ErrorKind::Unsafe, "cannot restore a stream named '" + rec->filename + "'");
  RestoreResult delivered = deliver(hashed, found.info, stream_name, options, rep, found.decrypt, "", ctx.cancel());
  rep.progress_end();
  ops::note_checksum(ctx, *rec, hashed.sha256());
  result.restored = delivered.restored;
  return ev.done(std::move(result));
}

namespace {

// Whether a file downloaded by hand (its first bytes in `peeked`, its name
// parsed as `info`) is encrypted.
bool file_is_encrypted(util::PeekSource& peeked, const ops::NameInfo& info) {
  return crypto::detect(peeked.peek(64)) != crypto::Envelope::Plain || info.encrypted;
}

// How to decrypt such an encrypted file: the password asked for only when
// its age header has an scrypt stanza (or it is no age file: the Python
// tool's) and no identity may open it instead.
crypto::DecryptOptions file_decryption(ops::Context& ctx, const Options& options, util::PeekSource& peeked) {
  crypto::Envelope env = crypto::detect(peeked.peek(64));
  auto d = decrypt_options(ctx, options, std::nullopt);
  if (!ctx.password() || ctx.password()->empty()) {
    // An age file names its recipients' types in the header; ask only for scrypt.
    Bytes h = peeked.peek(256);
    std::string head(reinterpret_cast<const char*>(h.data()), h.size());
    bool scrypt = head.find("-> scrypt ") != std::string::npos || env == crypto::Envelope::Plain ||
                  env == crypto::Envelope::AgeArmored;
    if (scrypt && (d.identity_files.empty() || env == crypto::Envelope::Plain)) {
      nlohmann::json meta = {{"encryption", "age-scrypt"}};
      d.password = password_for(meta, ctx, options, false);
    }
  } else {
    d.password = ctx.password();
  }
  return d;
}

// One level of a chain downloaded by hand, as its tar stream: decrypted
// (with `decrypt`, found from the first encrypted level and kept for the
// others: one password) and decompressed as its content says.
class FileLevel : public Source {
 public:
  FileLevel(ops::Context& ctx, const Options& options, const std::string& file,
            std::optional<crypto::DecryptOptions>& decrypt)
      : src_(util::open_file_source(file)), peeked_(*src_) {
    head_ = &peeked_;
    if (file_is_encrypted(peeked_, ops::parse_stored_name(ops::last_component(file)))) {
      if (!decrypt) decrypt = file_decryption(ctx, options, peeked_);
      decryptor_ = crypto::make_decryptor(*head_, *decrypt);
      head_ = decryptor_.get();
    }
    plain_.emplace(*head_);
    head_ = &*plain_;
    codec::Codec c = codec::detect(plain_->peek(4));
    if (c != codec::Codec::None) {
      decompressor_ = codec::make_decompressor(*head_, c, 2);
      head_ = decompressor_.get();
    }
  }
  std::size_t read(MutableBytes out) override { return head_->read(out); }

 private:
  std::unique_ptr<Source> src_;
  util::PeekSource peeked_;
  std::unique_ptr<Source> decryptor_, decompressor_;
  std::optional<util::PeekSource> plain_;
  Source* head_ = nullptr;
};

}  // namespace

RestoreResult restore_file(const std::string& file, const RestoreOptions& options) {
  ops::Context ctx(options);
  events::Scope ev("restore", file, ctx.profile(), ctx.destination(), ctx.reporter());
  Reporter& rep = ctx.reporter();
  auto src = util::open_file_source(file);
  util::PeekSource peeked(*src);
  std::string base = ops::last_component(file);
  ops::NameInfo info = ops::parse_stored_name(base);
  std::optional<crypto::DecryptOptions> decrypt;
  if (file_is_encrypted(peeked, info)) decrypt = file_decryption(ctx, options, peeked);
  rep.message("Restoring " + file);
  // The file's own name without the archive suffixes names a stream restore.
  std::string stream_name = base;
  for (const char* suffix : {".enc", ".gz", ".zst", ".tgz"}) {
    std::string s = suffix;
    if (stream_name.size() > s.size() && stream_name.compare(stream_name.size() - s.size(), s.size(), s) == 0)
      stream_name.resize(stream_name.size() - s.size());
  }
  RestoreResult result = deliver(peeked, info, stream_name, options, rep, decrypt, file, ctx.cancel());
  return ev.done(std::move(result));
}

RestoreResult restore_files(const std::vector<std::string>& files, const RestoreOptions& options) {
  if (files.empty()) throw Error(ErrorKind::Usage, "restore_files needs at least one file");
  if (files.size() == 1) return restore_file(files[0], options);
  if (options.to_stdout || options.as_tar || ops::selects_part(options))
    throw Error(ErrorKind::Usage, "the levels of a chain restore whole: no --stdout, --tar or paths with them");
  // Stored names tell a level's name and time: a level given out of order
  // would restore another tree than any level's.
  for (std::size_t i = 1; i < files.size(); ++i) {
    const std::string a = ops::last_component(files[i - 1]), b = ops::last_component(files[i]);
    const std::string sa = ops::stored_stamp(a), sb = ops::stored_stamp(b);
    if (sa.empty() || sb.empty()) continue;
    if (a.substr(0, a.find(sa)) != b.substr(0, b.find(sb)))
      throw Error(ErrorKind::Usage, a + " and " + b + " are backups of different names, not levels of one chain");
    if (sb <= sa)
      throw Error(ErrorKind::Usage, b + " is not newer than " + a + ": give the levels in order, level 0 first");
  }
  ops::Context ctx(options);
  events::Scope ev("restore", files.back(), ctx.profile(), ctx.destination(), ctx.reporter());
  Reporter& rep = ctx.reporter();
  for (const auto& f : files) util::open_file_source(f);  // each one readable before anything is staged
  rep.message("Restoring " + std::to_string(files.size()) + " levels of an incremental chain, " + files.front() +
              " to " + files.back());
  TargetDir target(options);
  std::optional<crypto::DecryptOptions> decrypt;
  std::unique_ptr<FileLevel> current;
  std::size_t next = 0;
  archive::ExtractStats s = archive::extract_tar_levels(
      [&]() -> Source* {
        current.reset();
        if (next == files.size()) return nullptr;
        current = std::make_unique<FileLevel>(ctx, options, files[next++], decrypt);
        return current.get();
      },
      {target.path(), options.force});
  report_extraction(s, true, rep);
  RestoreResult result;
  result.restored = s.top_entries;
  result.record.stored_filename = ops::last_component(files.back());
  target.keep();
  return ev.done(std::move(result));
}

namespace {

// verify() of one object: downloaded, hash-checked, decrypted, decompressed
// and read whole.
void verify_one(ops::Context& ctx, const BackupRecord* rec, const ops::NameInfo& info,
                const std::optional<crypto::DecryptOptions>& decrypt) {
  Reporter& rep = ctx.reporter();
  rep.message("Verifying " + rec->stored_filename);
  auto src = ctx.storage().open(rec->stored_filename);
  ops::HashingSource hashed(*src, rec->metadata.value("sha256", std::string()), ctx.cancel());
  Source* head = &hashed;
  std::unique_ptr<Source> decryptor, decompressor;
  if (decrypt) {
    decryptor = crypto::make_decryptor(*head, *decrypt);
    head = decryptor.get();
  }
  if (info.codec != codec::Codec::None) {
    decompressor = codec::make_decompressor(*head, info.codec, 2);
    head = decompressor.get();
  }
  if (info.layout == ops::Layout::Tar) archive::read_tar(*head);
  // Drain to the end so that the stored object's digest is checked in full.
  std::vector<std::uint8_t> buf(1 << 20);
  while (head->read(buf) > 0) {}
  while (hashed.read(buf) > 0) {}
  if (static_cast<std::int64_t>(hashed.size()) != rec->size)
    throw Error(ErrorKind::Corrupt, rec->stored_filename + " has " + std::to_string(hashed.size()) +
                                        " bytes, the catalog says " + std::to_string(rec->size));
  ops::note_checksum(ctx, *rec, hashed.sha256());
}

}  // namespace

BackupRecord verify(const std::string& name, const Options& options) {
  ops::Context ctx(options);
  Located found = locate(ctx, name, options);
  // An incremental level is sound only with every level below it: a
  // missing one is reported naming it and what can still be restored.
  std::vector<BackupRecord> chain = ops::chain_of(ctx, found.record);
  std::optional<crypto::DecryptOptions> decrypt = chain_decryption(ctx, options, chain, found);
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    ops::NameInfo info = ops::parse_stored_name(chain[i].stored_filename);
    if (chain[i].metadata.value("is_enc", false)) info.encrypted = true;
    try {
      verify_one(ctx, &chain[i], info, info.encrypted ? decrypt : std::nullopt);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted) throw;
      throw Error(e.kind(), "level " + std::to_string(i) + " of " + found.record.stored_filename + "'s chain: " +
                                e.what() + (i > 0 ? "; levels 0-" + std::to_string(i - 1) + " restore" : ""));
    }
  }
  verify_one(ctx, &found.record, found.info, found.decrypt ? found.decrypt : decrypt);
  return found.record;
}

}  // namespace bakthat
