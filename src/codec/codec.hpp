// Compression stages: gzip (parallel members) and zstd, as Sinks for backup
// and Sources for restore.
#pragma once

#include <memory>
#include <optional>

#include "bakthat/stream.hpp"

namespace bakthat::codec {

enum class Codec { None, Gzip, Zstd };

struct CompressOptions {
  Codec codec = Codec::Gzip;
  std::optional<int> level;  // codec default when empty
  int threads = 1;           // worker threads (>= 1)
};

// A sink that compresses everything written into `next` and finishes it.
// Gzip output is a sequence of independent gzip members written in order,
// a valid .gz for every gzip reader; Codec::None passes bytes through.
std::unique_ptr<Sink> make_compressor(Sink& next, const CompressOptions& options);

// A source that decompresses `in` (every member of a multi-member gzip).
// Corrupt input throws ErrorKind::Corrupt.
std::unique_ptr<Source> make_decompressor(Source& in, Codec codec, int threads);

// The codec whose magic starts `head` (gzip 1f 8b, zstd 28 b5 2f fd), else None.
Codec detect(Bytes head);

}  // namespace bakthat::codec
