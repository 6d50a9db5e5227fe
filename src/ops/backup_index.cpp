#include "ops/backup_index.hpp"

#include "bakthat/errors.hpp"
#include "util/bytes.hpp"

namespace bakthat::ops {
namespace {

// Lines are sent down the compressor in batches of about this size.
constexpr std::size_t kBatch = 256 * 1024;

const char* codec_word(codec::Codec c) {
  switch (c) {
    case codec::Codec::Gzip: return "gzip";
    case codec::Codec::Zstd: return "zstd";
    case codec::Codec::None: return "none";
  }
  return "none";
}

nlohmann::json first_line(codec::Codec c) { return {{"bakthat_index", kIndexFormat}, {"codec", codec_word(c)}}; }
nlohmann::json member_line(const codec::gzip::MemberStart& m) {
  return {{"member", {m.compressed, m.uncompressed}}};
}
nlohmann::json last_line(std::uint64_t tar_size, std::uint64_t compressed_size, std::size_t entries) {
  return {{"end", {{"tar_size", tar_size}, {"compressed_size", compressed_size}, {"entries", entries}}}};
}

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorKind::Corrupt, "the backup's index is damaged: " + what); }

}  // namespace

IndexWriter::IndexWriter(std::unique_ptr<ObjectWriter> object, codec::Codec codec,
                         const std::optional<crypto::EncryptOptions>& encryption)
    : object_(std::move(object)),
      hashed_(*object_, nullptr),
      head_(&hashed_),
      tar_([this](archive::TarEntry&& e) { line(nlohmann::json(e)); }),
      members_([this](const codec::gzip::MemberStart& m) { line(member_line(m)); }),
      frames_([this](const codec::zstd::FrameStart& f) { line(member_line(f)); }),
      codec_(codec) {
  if (encryption) {
    crypto::EncryptOptions one = *encryption;
    one.threads = 1;
    encryptor_ = crypto::make_encryptor(*head_, one);
    head_ = encryptor_.get();
  }
  compressor_ = codec::make_compressor(*head_, {codec::Codec::Gzip, std::nullopt, 1});
  head_ = compressor_.get();
  line(first_line(codec));
}

Sink& IndexWriter::tar_tap(Sink& next) {
  tar_tap_.emplace(next, [this](Bytes b) { tar_.feed(b); });
  return *tar_tap_;
}

Sink& IndexWriter::compressed_tap(Sink& next) {
  compressed_tap_.emplace(next, [this](Bytes b) {
    compressed_ += b.size();
    if (codec_ == codec::Codec::Gzip) members_.feed(b);
    if (codec_ == codec::Codec::Zstd) frames_.feed(b);
  });
  return *compressed_tap_;
}

void IndexWriter::line(const nlohmann::json& j) {
  std::lock_guard lock(mutex_);
  if (j.contains("path")) ++entries_;
  batch_ += j.dump();
  batch_ += '\n';
  if (batch_.size() >= kBatch) flush();
}

void IndexWriter::flush() {
  head_->write(util::as_bytes(batch_));
  batch_.clear();
}

void IndexWriter::finish() {
  if (!tar_.ended()) throw Error(ErrorKind::Corrupt, "index: the tar stream did not end as a tar archive");
  line(last_line(tar_.offset(), compressed_, entries_));
  std::lock_guard lock(mutex_);
  flush();
  head_->finish();
}

void IndexWriter::write_lines(const std::string& lines) {
  std::lock_guard lock(mutex_);
  batch_.clear();  // the first line, which `lines` has
  head_->write(util::as_bytes(lines));
  head_->finish();
}

BackupIndex parse_index(std::string object, const std::optional<crypto::DecryptOptions>& decrypt) {
  StringSource raw(std::move(object));
  Source* head = &raw;
  std::unique_ptr<Source> decryptor, decompressor;
  if (decrypt) {
    decryptor = crypto::make_decryptor(*head, *decrypt);
    head = decryptor.get();
  }
  decompressor = codec::make_decompressor(*head, codec::Codec::Gzip, 1);
  StringSink text;
  copy(*decompressor, text, nullptr);

  BackupIndex index;
  bool first = true, ended = false;
  std::size_t pos = 0;
  const std::string& s = text.data();
  while (pos < s.size()) {
    std::size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) bad("a line without its end");
    if (ended) bad("lines after the last one");
    nlohmann::json j = nlohmann::json::parse(s.begin() + static_cast<std::ptrdiff_t>(pos),
                                             s.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
    pos = nl + 1;
    if (!j.is_object()) bad("a line that is not a JSON object");
    if (first) {
      if (j.value("bakthat_index", 0) != kIndexFormat) bad("not an index of format " + std::to_string(kIndexFormat));
      std::string c = j.value("codec", std::string());
      index.codec = c == "gzip" ? codec::Codec::Gzip : c == "zstd" ? codec::Codec::Zstd : codec::Codec::None;
      first = false;
    } else if (j.contains("path")) {
      index.entries.push_back(j.get<ArchiveEntry>());
    } else if (j.contains("member")) {
      const auto& m = j["member"];
      if (!m.is_array() || m.size() != 2 || !m[0].is_number_unsigned() || !m[1].is_number_unsigned())
        bad("a malformed member line");
      codec::gzip::MemberStart start{m[0].get<std::uint64_t>(), m[1].get<std::uint64_t>()};
      if (!index.members.empty() && (start.compressed <= index.members.back().compressed ||
                                     start.uncompressed < index.members.back().uncompressed))
        bad("members out of order");
      index.members.push_back(start);
    } else if (j.contains("end")) {
      const auto& e = j["end"];
      try {
        index.tar_size = e.at("tar_size").get<std::uint64_t>();
        index.compressed_size = e.at("compressed_size").get<std::uint64_t>();
        if (e.at("entries").get<std::size_t>() != index.entries.size()) bad("entries missing");
      } catch (const nlohmann::json::exception&) {
        bad("a malformed last line");
      }
      ended = true;
    }
  }
  if (!ended) bad("it is cut short");
  for (const auto& e : index.entries)
    if (e.end > index.tar_size) bad("an entry beyond the archive's end");
  return index;
}

IndexBuilder::IndexBuilder(codec::Codec codec)
    : tar_([this](archive::TarEntry&& e) { index_.entries.push_back(std::move(e)); }),
      members_([this](const codec::gzip::MemberStart& m) { index_.members.push_back(m); }),
      frames_([this](const codec::zstd::FrameStart& f) { index_.members.push_back(f); }) {
  index_.codec = codec;
}

Source& IndexBuilder::compressed_tap(Source& in) {
  compressed_tap_.emplace(in, [this](Bytes b) {
    index_.compressed_size += b.size();
    if (index_.codec == codec::Codec::Gzip) members_.feed(b);
    if (index_.codec == codec::Codec::Zstd) frames_.feed(b);
  });
  return *compressed_tap_;
}

Source& IndexBuilder::tar_tap(Source& in) {
  tar_tap_.emplace(in, [this](Bytes b) {
    tar_.feed(b);
    index_.tar_size = tar_.offset();
  });
  return *tar_tap_;
}

std::string IndexBuilder::serialize() const {
  std::string out = first_line(index_.codec).dump() + "\n";
  for (const auto& e : index_.entries) out += nlohmann::json(e).dump() + "\n";
  // A stream not all of bakthat's tagged members (or of frames that say
  // their size) has no map to seek by.
  if (index_.codec == codec::Codec::Gzip ? members_.tagged() : frames_.seekable())
    for (const auto& m : index_.members) out += member_line(m).dump() + "\n";
  out += last_line(index_.tar_size, index_.compressed_size, index_.entries.size()).dump() + "\n";
  return out;
}

std::unique_ptr<IndexWriter> open_index_writer(Context& ctx, const std::string& stored, codec::Codec codec,
                                               const std::optional<crypto::EncryptOptions>& encryption) {
  try {
    Storage* indexes = ctx.indexes();
    if (!indexes) return nullptr;
    return std::make_unique<IndexWriter>(indexes->create(stored, std::nullopt), codec, encryption);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Interrupted || e.kind() == ErrorKind::Usage) throw;
    ctx.reporter().warning(std::string("the backup gets no index (list and partial restore read it whole): ") +
                           e.what());
    return nullptr;
  }
}

StoredIndex store_index(Context& ctx, const std::string& stored, const std::string& lines,
                        const std::optional<crypto::EncryptOptions>& encryption) {
  Storage* indexes = ctx.indexes();
  if (!indexes) throw Error(ErrorKind::Unsupported, "the " + ctx.destination() + " destination keeps no indexes");
  if (indexes->stat(stored)) indexes->remove(stored);
  IndexWriter writer(indexes->create(stored, std::nullopt), codec::Codec::None, encryption);
  writer.write_lines(lines);
  return {writer.sha256(), writer.size()};
}

void remove_index(Context& ctx, const std::string& stored) noexcept {
  try {
    if (Storage* indexes = ctx.indexes()) indexes->remove(stored);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::NotFound) ctx.reporter().warning("the index of " + stored + " was not removed: " + e.what());
  } catch (const std::exception& e) {
    ctx.reporter().warning("the index of " + stored + " was not removed: " + e.what());
  }
}

}  // namespace bakthat::ops
