// One file of a tar backup at a time (BackupReader, open_backup,
// open_entry): the entry's bytes of the tar stream, fetched by
// open_tar_range, read through the tar reader (archive::EntryContent),
// which checks the entry's header against the index and turns a sparse
// file's regions back into its content.
#include <cstring>
#include <map>

#include "archive/archive.hpp"
#include "ops/restore_selection.hpp"

namespace bakthat {
namespace {

using archive::TarEntry;

// What a reader and every Source it made share: the Sources keep it alive.
struct ReaderState {
  ReaderState(const std::string& name, const Options& options) : ctx(options) {
    found = ops::locate(ctx, name, options);
    index = ops::load_index(ctx, found);
    for (std::size_t i = 0; i < index.entries.size(); ++i)
      by_path.emplace(ops::normalized_path(index.entries[i].path), i);
    sparse.assign(index.entries.size(), Sparse::Unknown);
  }
  ops::Context ctx;
  ops::Located found;
  ops::BackupIndex index;
  std::map<std::string, std::size_t> by_path;
  // Whether each file is stored sparse, learnt from its header the first
  // time it is opened at its start: a file known not to be is then read
  // from any offset by the bytes that hold it alone.
  enum class Sparse : unsigned char { Unknown, No, Yes };
  std::vector<Sparse> sparse;
};

// A tar stream followed by the two zero blocks that end an archive, so the
// tar reader sees one entry and the archive's end.
class Terminated : public Source {
 public:
  explicit Terminated(std::unique_ptr<Source> in) : in_(std::move(in)) {}
  std::size_t read(MutableBytes out) override {
    if (in_) {
      if (std::size_t n = in_->read(out); n > 0) return n;
      in_.reset();
    }
    const std::size_t n = std::min<std::size_t>(out.size(), 1024 - trailer_);
    std::memset(out.data(), 0, n);
    trailer_ += n;
    return n;
  }

 private:
  std::unique_ptr<Source> in_;
  std::size_t trailer_ = 0;
};

// A file's content read through its tar header: checked against the index.
class CheckedEntry : public Source {
 public:
  CheckedEntry(std::shared_ptr<ReaderState> state, std::size_t at, std::uint64_t offset)
      : state_(std::move(state)) {
    const TarEntry& e = state_->index.entries[at];
    tar_ = std::make_unique<Terminated>(ops::open_tar_range(state_->ctx.storage(), state_->found, state_->index,
                                                            e.header, e.end, state_->ctx.cancel()));
    content_ = std::make_unique<archive::EntryContent>(*tar_, offset);
    if (ops::normalized_path(content_->path()) != ops::normalized_path(e.path) || content_->size() != e.size)
      ops::index_mismatch("'" + e.path + "' is not where the index says");
    state_->sparse[at] = content_->sparse() ? ReaderState::Sparse::Yes : ReaderState::Sparse::No;
  }
  std::size_t read(MutableBytes out) override { return content_->read(out); }

 private:
  std::shared_ptr<ReaderState> state_;
  std::unique_ptr<Source> tar_;
  std::unique_ptr<archive::EntryContent> content_;
};

// A file known not to be sparse, from `offset`: its data bytes alone.
class DataRange : public Source {
 public:
  DataRange(std::shared_ptr<ReaderState> state, std::size_t at, std::uint64_t offset) : state_(std::move(state)) {
    const TarEntry& e = state_->index.entries[at];
    in_ = ops::open_tar_range(state_->ctx.storage(), state_->found, state_->index, e.data + offset, e.data + e.size,
                              state_->ctx.cancel());
  }
  std::size_t read(MutableBytes out) override { return in_->read(out); }

 private:
  std::shared_ptr<ReaderState> state_;
  std::unique_ptr<Source> in_;
};

class Reader : public BackupReader {
 public:
  Reader(const std::string& name, const Options& options)
      : state_(std::make_shared<ReaderState>(name, options)) {}

  const BackupRecord& record() const override { return state_->found.record; }
  const std::vector<ArchiveEntry>& entries() const override { return state_->index.entries; }

  std::unique_ptr<Source> open(const std::string& path, std::uint64_t offset) override {
    std::size_t at = find(path);
    const TarEntry* e = &state_->index.entries[at];
    if (e->type == TarEntry::Type::Hardlink) {
      at = find(e->link);
      e = &state_->index.entries[at];
    }
    if (e->type != TarEntry::Type::File) throw Error(ErrorKind::Usage, "'" + path + "' is not a regular file");
    offset = std::min(offset, e->size);
    if (offset > 0 && state_->sparse[at] == ReaderState::Sparse::No)
      return std::make_unique<DataRange>(state_, at, offset);
    return std::make_unique<CheckedEntry>(state_, at, offset);
  }

 private:
  std::size_t find(const std::string& path) const {
    auto it = state_->by_path.find(ops::normalized_path(path));
    if (it == state_->by_path.end())
      throw Error(ErrorKind::NotFound, "'" + path + "' is not in " + state_->found.record.stored_filename);
    return it->second;
  }
  std::shared_ptr<ReaderState> state_;
};

}  // namespace

std::unique_ptr<BackupReader> open_backup(const std::string& name, const Options& options) {
  return std::make_unique<Reader>(name, options);
}

std::unique_ptr<Source> open_entry(const std::string& name, const std::string& path, const Options& options) {
  return open_backup(name, options)->open(path);
}

}  // namespace bakthat
