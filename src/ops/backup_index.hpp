// A backup's index (docs/formats.md §13): every tar entry with its offsets,
// and where each gzip member starts, written while the backup streams, as
// an object of its own beside the destination's rows; read back to list a
// backup or restore part of it by ranged reads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "archive/tar_index.hpp"
#include "bakthat/storage.hpp"
#include "codec/codec.hpp"
#include "codec/gzip_member.hpp"
#include "codec/zstd_frames.hpp"
#include "crypto/crypto.hpp"
#include "ops/context.hpp"
#include "ops/pipeline.hpp"

namespace bakthat::ops {

inline constexpr int kIndexFormat = 1;

struct BackupIndex {
  codec::Codec codec = codec::Codec::None;
  std::vector<archive::TarEntry> entries;          // in archive order
  // Each gzip member's or zstd frame's start, in order: the units a range
  // of the tar stream is fetched by (none: the stream is read whole).
  std::vector<codec::gzip::MemberStart> members;
  std::uint64_t tar_size = 0;         // bytes of the uncompressed tar stream
  std::uint64_t compressed_size = 0;  // bytes of the compressed stream (the age payload, encrypted)
};

// Builds the index of the backup whose streams pass through its taps and
// writes it, gzip-compressed JSON lines (age-encrypted as the backup is),
// into `object` as they come: nothing but a line batch is held.
class IndexWriter {
 public:
  IndexWriter(std::unique_ptr<ObjectWriter> object, codec::Codec codec,
              const std::optional<crypto::EncryptOptions>& encryption);
  // Observes the uncompressed tar stream on its way to `next`.
  Sink& tar_tap(Sink& next);
  // Observes the compressed stream on its way to `next` (the encryptor).
  Sink& compressed_tap(Sink& next);
  // Once the backup's streams are finished: the last line, and the object
  // completed. Throws Corrupt when the tar stream did not end as a tar.
  void finish();
  // Instead of taps and finish(): the whole index (IndexBuilder::serialize
  // of an archive read back), and the object completed.
  void write_lines(const std::string& lines);
  const std::string& sha256() const { return hashed_.sha256(); }
  std::uint64_t size() const { return hashed_.size(); }

 private:
  void line(const nlohmann::json& j);
  void flush();
  std::unique_ptr<ObjectWriter> object_;
  HashingSink hashed_;
  std::unique_ptr<Sink> encryptor_, compressor_;
  Sink* head_;
  std::mutex mutex_;
  std::string batch_;
  archive::TarScanner tar_;
  codec::gzip::MemberScanner members_;
  codec::zstd::FrameScanner frames_;
  std::uint64_t compressed_ = 0;
  std::size_t entries_ = 0;
  codec::Codec codec_;
  std::optional<TapSink> tar_tap_, compressed_tap_;
};

// Decodes an index object's bytes (already checked against the row's
// index_sha256 by the caller), decrypting them first when `decrypt` is set.
BackupIndex parse_index(std::string object, const std::optional<crypto::DecryptOptions>& decrypt);

// The index of a whole tar stream read from `tar` (an archive without an
// index); `compressed`, when given, is the compressed stream that `tar`
// was inflated from, followed for its gzip members.
class IndexBuilder {
 public:
  explicit IndexBuilder(codec::Codec codec);
  // Observes the compressed stream (before decompression).
  Source& compressed_tap(Source& in);
  // Observes the tar stream.
  Source& tar_tap(Source& in);
  BackupIndex& result() { return index_; }
  // Lines of the index file for result(), as IndexWriter writes them.
  std::string serialize() const;

 private:
  BackupIndex index_;
  archive::TarScanner tar_;
  codec::gzip::MemberScanner members_;
  codec::zstd::FrameScanner frames_;
  std::optional<TapSource> compressed_tap_, tar_tap_;
};

// The index of the backup stored as `stored` at ctx's destination (its
// writer, or nullptr, with a warning, when none can be written there: the
// backup goes on without one).
std::unique_ptr<IndexWriter> open_index_writer(Context& ctx, const std::string& stored, codec::Codec codec,
                                               const std::optional<crypto::EncryptOptions>& encryption);

// Stores `lines` (IndexBuilder::serialize) as the index of the backup
// stored as `stored`, as IndexWriter writes one, replacing one already
// there; returns its sha256 and size for the row.
struct StoredIndex {
  std::string sha256;
  std::uint64_t size = 0;
};
StoredIndex store_index(Context& ctx, const std::string& stored, const std::string& lines,
                        const std::optional<crypto::EncryptOptions>& encryption);

// Removes the index of the backup stored as `stored`, after the backup
// itself: one missing is no error; a failure is a warning.
void remove_index(Context& ctx, const std::string& stored) noexcept;

}  // namespace bakthat::ops
