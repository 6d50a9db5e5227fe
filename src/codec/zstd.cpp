#include <zstd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bakthat/errors.hpp"
#include "codec/block_sink.hpp"
#include "codec/stages.hpp"
#include "codec/zstd_frames.hpp"

namespace bakthat::codec {
namespace {

constexpr int kDefaultLevel = 3;

[[noreturn]] void fail(ErrorKind kind, const char* what, std::size_t code) {
  throw Error(kind, std::string("zstd: ") + what + ": " + ZSTD_getErrorName(code));
}

// One frame's compressor, on one worker: level, content checksum, and the
// content size in the frame header (what lets an index find frames).
class FrameCompressor {
 public:
  explicit FrameCompressor(int level) : ctx_(ZSTD_createCCtx()) {
    if (!ctx_) throw Error(ErrorKind::Io, "zstd: cannot allocate a compressor");
    set(ZSTD_c_compressionLevel, level);
    set(ZSTD_c_checksumFlag, 1);
    set(ZSTD_c_contentSizeFlag, 1);
  }
  void compress(Block& f) {
    f.out.resize(ZSTD_compressBound(f.in.size()));
    const std::size_t r = ZSTD_compress2(ctx_.get(), f.out.data(), f.out.size(), f.in.data(), f.in.size());
    if (ZSTD_isError(r)) fail(ErrorKind::Io, "compression failed", r);
    f.out_size = r;
  }

 private:
  void set(ZSTD_cParameter p, int v) {
    const std::size_t r = ZSTD_CCtx_setParameter(ctx_.get(), p, v);
    if (ZSTD_isError(r)) fail(ErrorKind::Usage, "bad parameter", r);
  }
  struct Free {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  std::unique_ptr<ZSTD_CCtx, Free> ctx_;
};
using Worker = std::unique_ptr<FrameCompressor>;

// Decompresses every frame of `in` in turn (checksums verified when present).
class ZstdSource : public Source {
 public:
  explicit ZstdSource(Source& in) : in_(in), ctx_(ZSTD_createDCtx()) {
    if (!ctx_) throw Error(ErrorKind::Io, "zstd: cannot allocate a decompressor");
    buf_.resize(ZSTD_DStreamInSize());
  }
  std::size_t read(MutableBytes out) override {
    if (out.empty()) return 0;
    for (;;) {
      if (in_buf_.pos == in_buf_.size) {
        if (eof_) return 0;
        const std::size_t got = in_.read(MutableBytes(buf_.data(), buf_.size()));
        if (got == 0) {
          eof_ = true;
          if (!seen_input_) throw Error(ErrorKind::Corrupt, "zstd: empty input, not a zstd stream");
          if (frame_open_) throw Error(ErrorKind::Corrupt, "zstd: compressed data is truncated");
          return 0;
        }
        seen_input_ = true;
        in_buf_ = {buf_.data(), got, 0};
      }
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      const std::size_t r = ZSTD_decompressStream(ctx_.get(), &o, &in_buf_);
      if (ZSTD_isError(r)) fail(ErrorKind::Corrupt, "corrupt compressed data", r);
      frame_open_ = r != 0;
      if (o.pos) return o.pos;
    }
  }

 private:
  struct Free {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
  };
  Source& in_;
  std::unique_ptr<ZSTD_DCtx, Free> ctx_;
  std::vector<std::uint8_t> buf_;
  ZSTD_inBuffer in_buf_{nullptr, 0, 0};
  bool eof_ = false, seen_input_ = false, frame_open_ = false;
};

}  // namespace

// Cuts the stream into zstd::kFrameInput pieces, each one complete frame
// compressed on a worker, as the gzip sink does with members: every zstd
// reader reads the frames as one stream, and an index can fetch only the
// frames that hold a range. threads + 1 frames in flight, about twice
// kFrameInput each.
std::unique_ptr<Sink> make_zstd_sink(Sink& next, std::optional<int> level, int threads) {
  threads = std::max(1, threads);
  const int lvl = level.value_or(kDefaultLevel);
  return std::make_unique<BlockSink<Worker>>(
      next, zstd::kFrameInput, threads, static_cast<std::size_t>(threads) + 1,
      [lvl] { return std::make_unique<FrameCompressor>(lvl); }, [](Worker& w, Block& f) { w->compress(f); });
}

std::unique_ptr<Source> make_zstd_source(Source& in) { return std::make_unique<ZstdSource>(in); }

}  // namespace bakthat::codec
