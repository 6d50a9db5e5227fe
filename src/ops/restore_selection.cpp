// Partial restore, listing and tar export of a tar backup: the index says
// which bytes of the uncompressed tar stream hold the selected entries and
// which gzip members hold those bytes; only those members are fetched (a
// ranged GET, a pread), inflated (their CRCs checked) and handed to the
// same safe extraction as a full restore, as a tar stream of their own.
#include <fnmatch.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "archive/archive.hpp"
#include "events/scope.hpp"
#include "ops/restore_selection.hpp"
#include "util/peek_source.hpp"
#include "util/window_source.hpp"

namespace bakthat {
namespace {

using archive::TarEntry;
using ops::BackupIndex;
using ops::normalized_path;

// An index far beyond any real one (a few bytes per entry) is refused
// rather than held in memory.
constexpr std::uint64_t kMaxIndex = std::uint64_t{1} << 30;

// The object's whole bytes (an index), at most `limit` of them.
std::string read_all(Source& in, std::uint64_t limit, const std::string& what) {
  ops::StringSink out;
  std::vector<std::uint8_t> buf(1 << 16);
  for (;;) {
    std::size_t n = in.read(buf);
    if (n == 0) return std::move(out.data());
    if (out.data().size() + n > limit) throw Error(ErrorKind::Corrupt, what + " is larger than any index");
    out.write(Bytes(buf.data(), n));
  }
}

// Which entries a restore takes: those named (or under one named), matching
// an include pattern if there are any and no exclude pattern. A pattern is
// a shell glob matched against the whole path, or, without a '/', against
// any one of its components; a directory that matches takes what is under it.
class Selector {
 public:
  explicit Selector(const RestoreOptions& o) : include_(o.include), exclude_(o.exclude) {
    for (const auto& p : o.paths) paths_.push_back(normalized_path(p));
  }

  bool wants(const std::string& entry_path) const {
    const std::string p = normalized_path(entry_path);
    bool named = paths_.empty(), included = include_.empty();
    // The path itself and each directory above it.
    for (std::size_t end = p.size();; end = p.rfind('/', end - 1)) {
      const std::string prefix = p.substr(0, end);
      if (!named && std::find(paths_.begin(), paths_.end(), prefix) != paths_.end()) named = true;
      if (!included && matches_any(include_, prefix)) included = true;
      if (matches_any(exclude_, prefix)) return false;
      if (end == 0 || end == std::string::npos || p.rfind('/', end - 1) == std::string::npos) break;
    }
    return named && included;
  }

 private:
  static bool matches_any(const std::vector<std::string>& patterns, const std::string& path) {
    const std::size_t slash = path.rfind('/');
    const std::string last = slash == std::string::npos ? path : path.substr(slash + 1);
    for (const auto& pat : patterns) {
      if (::fnmatch(pat.c_str(), path.c_str(), 0) == 0) return true;
      if (pat.find('/') == std::string::npos && ::fnmatch(pat.c_str(), last.c_str(), 0) == 0) return true;
    }
    return false;
  }
  std::vector<std::string> paths_, include_, exclude_;
};

// The entries to extract, in archive order: those the selector wants, the
// directories above them (their modes and times), and for a hard link
// whose target is not taken, the target's entry, which holds the data (as
// in every tar, the first link in archive order).
std::vector<const TarEntry*> select_entries(const BackupIndex& index, const RestoreOptions& options) {
  Selector selector(options);
  std::map<std::string, std::size_t> by_path;
  for (std::size_t i = 0; i < index.entries.size(); ++i) by_path.emplace(normalized_path(index.entries[i].path), i);
  std::set<std::size_t> chosen;
  for (std::size_t i = 0; i < index.entries.size(); ++i) {
    const TarEntry& e = index.entries[i];
    if (!selector.wants(e.path)) continue;
    chosen.insert(i);
    if (e.type == TarEntry::Type::Hardlink) {
      auto t = by_path.find(normalized_path(e.link));
      if (t != by_path.end()) chosen.insert(t->second);
    }
  }
  std::set<std::size_t> parents;
  for (std::size_t i : chosen) {
    std::string p = normalized_path(index.entries[i].path);
    for (std::size_t slash = p.rfind('/'); slash != std::string::npos && slash > 0; slash = p.rfind('/', slash - 1)) {
      auto d = by_path.find(p.substr(0, slash));
      if (d != by_path.end()) parents.insert(d->second);
      if (slash == 0) break;
    }
  }
  chosen.insert(parents.begin(), parents.end());
  std::vector<const TarEntry*> out;
  for (std::size_t i : chosen) out.push_back(&index.entries[i]);
  return out;
}

// Bytes [begin, end) of the uncompressed tar stream.
struct Span {
  std::uint64_t begin, end;
};

// The object from its first byte, fetched by ranged reads of kHeadRead
// bytes as they are needed: an age header (a few hundred bytes; more with
// many recipients) costs one small read, not the object.
class RangedHead : public Source {
 public:
  static constexpr std::uint64_t kHeadRead = 16 * 1024;
  RangedHead(Storage& store, const std::string& name, std::uint64_t& fetched)
      : store_(store), name_(name), fetched_(fetched) {}
  std::size_t read(MutableBytes out) override {
    for (;;) {
      if (!part_) {
        if (ended_) return 0;
        part_ = store_.open_range(name_, at_, kHeadRead);
        part_left_ = kHeadRead;
      }
      const std::size_t n = part_->read(out);
      at_ += n;
      fetched_ += n;
      part_left_ -= n;
      if (n > 0 || out.empty()) return n;
      ended_ = part_left_ > 0;  // a short range: the object's end
      part_.reset();
    }
  }

 private:
  Storage& store_;
  const std::string& name_;
  std::uint64_t& fetched_;
  std::unique_ptr<Source> part_;
  std::uint64_t at_ = 0, part_left_ = 0;
  bool ended_ = false;
};

// Opens the uncompressed tar stream of a backup from offset `from` on (at
// or before it: the stream returned starts at the offset it returns).
// This is the one reader of a backup's bytes by ranges: list, partial
// restore and tar export go through it.
class TarOpener {
 public:
  TarOpener(Storage& store, const ops::Located& found, const BackupIndex& index)
      : store_(store), found_(found), index_(index) {}

  // A source of the tar stream from offset `*start` (set to where it
  // really starts: a member's start), holding at least up to `end`.
  struct Opened {
    std::vector<std::unique_ptr<Source>> chain;
    Source* head = nullptr;
    std::uint64_t start = 0;
    bool whole = false;  // the stream from the object's first byte to its end
    // Read to its end before it is trusted: a zstd frame's checksum
    // follows all of its content.
    bool drain = false;
  };
  Opened open(std::uint64_t begin, std::uint64_t end) {
    Opened o;
    const std::string& stored = found_.record.stored_filename;
    auto push = [&o](std::unique_ptr<Source> s) {
      o.head = s.get();
      o.chain.push_back(std::move(s));
    };
    // A compressed stream without a map of its members or frames (a zstd
    // backup of one frame) is read as one stream from the object's first
    // byte; so is an encrypted object that is not binary age (armored,
    // beefish).
    const bool seekable = index_.codec == codec::Codec::None || !index_.members.empty();
    if (!seekable || (found_.decrypt && !age_ranges())) {
      push(store_.open(stored));
      if (found_.decrypt) push(crypto::make_decryptor(*o.head, *found_.decrypt));
      if (index_.codec != codec::Codec::None) push(codec::make_decompressor(*o.head, index_.codec, 2));
      o.start = 0;
      o.whole = true;
      o.drain = index_.codec == codec::Codec::Zstd;
      return o;
    }
    // [c0, c1): the bytes of the compressed stream (the age payload's
    // plaintext, encrypted) holding tar bytes [begin, end), and u0, the tar
    // offset of c0.
    std::uint64_t c0 = begin, c1 = end, u0 = begin;
    if (index_.codec != codec::Codec::None) {
      const auto& m = index_.members;
      auto first = std::upper_bound(m.begin(), m.end(), begin,
                                    [](std::uint64_t v, const codec::gzip::MemberStart& s) { return v < s.uncompressed; });
      if (first != m.begin()) --first;
      auto last = std::lower_bound(first, m.end(), end,
                                   [](const codec::gzip::MemberStart& s, std::uint64_t v) { return s.uncompressed < v; });
      c0 = first->compressed;
      c1 = last == m.end() ? index_.compressed_size : last->compressed;
      u0 = first->uncompressed;
    }
    if (age_) {
      // Whole age chunks, opened one by one, cut to [c0, c1).
      const crypto::AgeRanges::Span span = age_->span(c0, c1);
      fetched_ += span.length;
      push(store_.open_range(stored, span.offset, span.length));
      push(age_->open(*o.head, span));
      push(std::make_unique<util::WindowSource>(*o.head, c0 - span.plain_begin, c1 - c0));
    } else {
      fetched_ += c1 - c0;
      push(store_.open_range(stored, c0, c1 - c0));
    }
    if (index_.codec != codec::Codec::None) push(codec::make_decompressor(*o.head, index_.codec, 2));
    o.start = u0;
    o.drain = index_.codec == codec::Codec::Zstd;
    return o;
  }
  // Bytes of the object read by ranges so far (an age header included).
  std::uint64_t fetched() const { return fetched_; }

 private:
  // The age file opened for ranged reads (its header read by a small
  // ranged read, the file key unwrapped once), or nullptr when the object
  // is not binary age.
  crypto::AgeRanges* age_ranges() {
    if (age_ || age_tried_) return age_.get();
    age_tried_ = true;
    RangedHead head_reader(store_, found_.record.stored_filename, fetched_);
    util::PeekSource head(head_reader);
    if (crypto::detect(head.peek(64)) != crypto::Envelope::Age) return nullptr;
    age_ = std::make_unique<crypto::AgeRanges>(head, *found_.decrypt, index_.compressed_size);
    return age_.get();
  }

  Storage& store_;
  const ops::Located& found_;
  const BackupIndex& index_;
  std::unique_ptr<crypto::AgeRanges> age_;
  bool age_tried_ = false;
  std::uint64_t fetched_ = 0;
};

// A tar stream of the selected entries: their bytes in archive order, then
// the two zero blocks that end an archive. Each entry the stream holds is
// checked against the index as it passes: an index that does not describe
// the archive (damaged, or another backup's) stops the restore before
// anything is moved into place.
class SelectionSource : public Source {
 public:
  SelectionSource(TarOpener& opener, std::vector<const TarEntry*> entries, const CancelToken* cancel)
      : opener_(opener), entries_(std::move(entries)), cancel_(cancel),
        scanner_([this](TarEntry&& seen) { check(seen); }) {
    for (const TarEntry* e : entries_) {
      if (!spans_.empty() && spans_.back().end == e->header) spans_.back().end = e->end;
      else spans_.push_back({e->header, e->end});
    }
  }

  std::size_t read(MutableBytes out) override {
    check_cancel(cancel_);
    for (;;) {
      if (span_ >= spans_.size()) {
        close_opened();
        const std::size_t n = std::min<std::size_t>(out.size(), 1024 - trailer_);
        std::memset(out.data(), 0, n);
        trailer_ += n;
        if (n > 0) scanner_.feed(Bytes(out.data(), n));
        if (n == 0 && next_check_ != entries_.size()) mismatch("entries missing from the archive");
        return n;
      }
      const Span& s = spans_[span_];
      if (!opened_.head) {
        opened_ = opener_.open(s.begin, s.end);
        at_ = opened_.start;
      }
      // Up to the span's start, then its bytes.
      if (at_ < s.begin) {
        std::vector<std::uint8_t> scratch(static_cast<std::size_t>(std::min<std::uint64_t>(s.begin - at_, 1 << 20)));
        std::size_t n = opened_.head->read(scratch);
        if (n == 0) mismatch("the archive ends before an entry the index names");
        at_ += n;
        continue;
      }
      if (at_ >= s.end) {
        ++span_;
        // The next span may lie in what this stream still holds (and the
        // last one's stream may have to be drained).
        if (span_ >= spans_.size() || (spans_[span_].begin >= at_ && reusable())) continue;
        close_opened();
        continue;
      }
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), s.end - at_));
      std::size_t n = opened_.head->read(out.first(want));
      if (n == 0) mismatch("the archive ends before an entry the index names");
      at_ += n;
      scanner_.feed(Bytes(out.data(), n));
      return n;
    }
  }

 private:
  // A stream read from the object's start goes on to every later span; a
  // ranged one only holds its own members.
  bool reusable() const { return opened_.head && opened_.whole; }

  // Lets go of the stream read, first reading it to its end when only its
  // end proves it whole (a zstd frame's checksum): nothing it gave passes
  // into the restore unchecked.
  void close_opened() {
    if (opened_.head && opened_.drain) {
      std::vector<std::uint8_t> scratch(1 << 20);
      while (opened_.head->read(scratch) > 0) check_cancel(cancel_);
    }
    opened_ = {};
  }

  void check(const TarEntry& seen) {
    if (scanner_.ended()) return;
    if (next_check_ >= entries_.size()) mismatch("an entry the index does not name");
    const TarEntry& want = *entries_[next_check_++];
    if (seen.path != want.path || seen.type != want.type || seen.size != want.size || seen.link != want.link ||
        seen.end - seen.data != want.end - want.data)
      mismatch("'" + want.path + "' is not where the index says");
  }
  [[noreturn]] static void mismatch(const std::string& what) { ops::index_mismatch(what); }

  TarOpener& opener_;
  std::vector<const TarEntry*> entries_;
  const CancelToken* cancel_;
  archive::TarScanner scanner_;
  std::vector<Span> spans_;
  std::size_t span_ = 0;
  TarOpener::Opened opened_;
  std::uint64_t at_ = 0;
  std::size_t trailer_ = 0;
  std::size_t next_check_ = 0;
};

}  // namespace

namespace ops {

std::string normalized_path(std::string p) {
  while (p.starts_with("./")) p.erase(0, 2);
  while (p.starts_with("/")) p.erase(0, 1);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

void index_mismatch(const std::string& what) {
  throw Error(ErrorKind::Corrupt, "the backup's index does not match its archive: " + what);
}

bool selects_part(const RestoreOptions& options) {
  return !options.paths.empty() || !options.include.empty() || !options.exclude.empty();
}

namespace {

// A tar backup read whole once: its index, the index file's lines, and
// the object's sha256 (checked against the row's when it has one).
struct WholeRead {
  BackupIndex index;
  std::string lines;
  std::string sha256;
};
WholeRead read_whole(Context& ctx, const Located& found) {
  const BackupRecord& rec = found.record;
  auto src = ctx.storage().open(rec.stored_filename);
  HashingSource hashed(*src, rec.metadata.value("sha256", std::string()), ctx.cancel());
  Source* head = &hashed;
  std::unique_ptr<Source> decryptor, decompressor;
  if (found.decrypt) {
    decryptor = crypto::make_decryptor(*head, *found.decrypt);
    head = decryptor.get();
  }
  IndexBuilder builder(found.info.codec);
  head = &builder.compressed_tap(*head);
  decompressor = codec::make_decompressor(*head, found.info.codec, 2);
  Source& tar = builder.tar_tap(*decompressor);
  std::vector<std::uint8_t> buf(1 << 20);
  while (tar.read(buf) > 0) {}
  while (hashed.read(buf) > 0) {}
  WholeRead out;
  out.lines = builder.serialize();
  out.index = std::move(builder.result());
  out.sha256 = hashed.sha256();
  return out;
}

}  // namespace

BackupIndex load_index(Context& ctx, const Located& found) {
  const BackupRecord& rec = found.record;
  if (found.info.layout != Layout::Tar)
    throw Error(ErrorKind::Usage, rec.stored_filename + " is not a tar archive: it has no entries to list or select");
  const std::string expected = rec.metadata.value("index_sha256", std::string());
  Storage* indexes = expected.empty() ? nullptr : ctx.indexes();
  if (indexes) {
    std::optional<std::string> raw;
    try {
      auto src = indexes->open(rec.stored_filename);
      raw = read_all(*src, kMaxIndex, "the index of " + rec.stored_filename);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound) throw;
      ctx.reporter().warning("the index of " + rec.stored_filename + " is missing: reading the whole archive");
    }
    if (raw) {
      // Checked before a byte of it is believed.
      if (util::sha256_hex(util::as_bytes(*raw)) != expected)
        throw Error(ErrorKind::Corrupt, "the index of " + rec.stored_filename +
                                            " is damaged: its sha256 does not match the catalog");
      BackupIndex index = parse_index(std::move(*raw), found.decrypt);
      if (index.codec != found.info.codec)
        throw Error(ErrorKind::Corrupt, "the index of " + rec.stored_filename + " is another archive's");
      return index;
    }
  }
  // No index: the whole archive, read once.
  ctx.reporter().message("Reading the whole of " + rec.stored_filename + " (it has no index)");
  return std::move(read_whole(ctx, found).index);
}

void index_backup(Context& ctx, Located& found) {
  BackupRecord& rec = found.record;
  const std::string& stored = rec.stored_filename;
  if (found.info.layout != Layout::Tar) throw Error(ErrorKind::Usage, stored + " is not a tar archive: it has no index");
  Storage* indexes = ctx.indexes();
  if (!indexes) throw Error(ErrorKind::Unsupported, "the " + ctx.destination() + " destination keeps no indexes");
  if (!rec.metadata.value("index_sha256", std::string()).empty() && indexes->stat(stored)) {
    ctx.reporter().message(stored + " already has an index");
    return;
  }
  std::optional<crypto::EncryptOptions> encryption;
  if (found.decrypt) {
    // The index opens with what opens the backup: its own header, when it
    // is binary age (one unwrap for both); else a password's.
    std::uint64_t fetched = 0;
    RangedHead head_reader(ctx.storage(), stored, fetched);
    util::PeekSource head(head_reader);
    encryption.emplace();
    if (crypto::detect(head.peek(64)) == crypto::Envelope::Age) {
      encryption->shared_header = crypto::read_shared_header(head, *found.decrypt);
    } else if (found.decrypt->password) {
      encryption->password = found.decrypt->password;
      encryption->scrypt_work_factor = ctx.profile().scrypt_work_factor;
    } else {
      throw Error(ErrorKind::Unsupported, stored + " is not an age file: its index cannot be encrypted to the same keys");
    }
  }
  ctx.reporter().message("Reading the whole of " + stored);
  WholeRead made = read_whole(ctx, found);
  StoredIndex index = store_index(ctx, stored, made.lines, encryption);
  rec.metadata["index_sha256"] = index.sha256;
  rec.metadata["index_size"] = index.size;
  // The archive was read through: a row without its digest gets it.
  if (rec.metadata.value("sha256", std::string()).empty()) rec.metadata["sha256"] = made.sha256;
  note_update(ctx, rec);
  ctx.reporter().message("Indexed " + std::to_string(made.index.entries.size()) + " entries of " + stored);
}

RestoreResult restore_selection(Context& ctx, const Located& found, const RestoreOptions& options,
                                const std::string& target_dir) {
  BackupIndex index = load_index(ctx, found);
  std::vector<const TarEntry*> entries;
  if (selects_part(options)) {
    entries = select_entries(index, options);
    if (entries.empty()) throw Error(ErrorKind::NotFound, "nothing in " + found.record.stored_filename + " matches");
  } else {
    for (const auto& e : index.entries) entries.push_back(&e);
  }
  Storage& store = ctx.storage();
  TarOpener opener(store, found, index);
  SelectionSource tar(opener, std::move(entries), ctx.cancel());
  RestoreResult result;
  result.record = found.record;
  if (options.as_tar) {
    if (!options.out) throw Error(ErrorKind::Usage, "no output given for the tar stream");
    copy(tar, *options.out, ctx.cancel());
    options.out->finish();
    return result;
  }
  archive::ExtractStats s = archive::extract_tar(tar, {target_dir, options.force});
  for (const auto& line : s.recovered) ctx.reporter().message(line);
  for (const auto& w : s.warnings) ctx.reporter().warning("restored without all its metadata: " + w);
  result.restored = s.top_entries;
  return result;
}

namespace {

class TarRange : public Source {
 public:
  TarRange(Storage& store, const Located& found, const BackupIndex& index, std::uint64_t begin,
           std::uint64_t end, const CancelToken* cancel)
      : opener_(store, found, index), opened_(opener_.open(begin, end)), at_(opened_.start), begin_(begin),
        end_(end), cancel_(cancel) {}

  std::size_t read(MutableBytes out) override {
    check_cancel(cancel_);
    while (at_ < begin_) {
      std::vector<std::uint8_t> scratch(static_cast<std::size_t>(std::min<std::uint64_t>(begin_ - at_, 1 << 20)));
      std::size_t n = opened_.head->read(scratch);
      if (n == 0) ended_early();
      at_ += n;
      check_cancel(cancel_);
    }
    if (at_ >= end_ || out.empty()) return 0;
    std::size_t n = opened_.head->read(out.first(static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), end_ - at_))));
    if (n == 0) ended_early();
    at_ += n;
    return n;
  }

 private:
  [[noreturn]] static void ended_early() { index_mismatch("the archive ends before an entry the index names"); }
  TarOpener opener_;
  TarOpener::Opened opened_;
  std::uint64_t at_, begin_, end_;
  const CancelToken* cancel_;
};

}  // namespace

std::unique_ptr<Source> open_tar_range(Storage& store, const Located& found, const BackupIndex& index,
                                       std::uint64_t begin, std::uint64_t end, const CancelToken* cancel) {
  return std::make_unique<TarRange>(store, found, index, begin, end, cancel);
}

}  // namespace ops

void index_backup(const std::string& name, const Options& options) {
  ops::Context ctx(options);
  ops::Located found = ops::locate(ctx, name, options);
  ops::index_backup(ctx, found);
}

std::vector<ArchiveEntry> list_entries(const std::string& name, const Options& options) {
  ops::Context ctx(options);
  ops::Located found = ops::locate(ctx, name, options);
  return std::move(ops::load_index(ctx, found).entries);
}

}  // namespace bakthat
