// The concrete compression stages behind make_compressor/make_decompressor.
#pragma once

#include <memory>
#include <optional>

#include "bakthat/stream.hpp"

namespace bakthat::codec {

// Parallel gzip: independent ~1 MiB members compressed by `threads` workers
// and written in order (see gzip_member.hpp for the member layout).
std::unique_ptr<Sink> make_gzip_sink(Sink& next, std::optional<int> level, int threads);
// Any gzip stream: tagged members are inflated in parallel, everything else
// by a streaming decoder.
std::unique_ptr<Source> make_gzip_source(Source& in, int threads);

// zstd frames of zstd::kFrameInput bytes of input each, compressed on
// `threads` workers and written in order (zstd_frames.hpp).
std::unique_ptr<Sink> make_zstd_sink(Sink& next, std::optional<int> level, int threads);
// Any sequence of zstd frames.
std::unique_ptr<Source> make_zstd_source(Source& in);

}  // namespace bakthat::codec
