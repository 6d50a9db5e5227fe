#include <zstd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bakthat/errors.hpp"
#include "codec/stages.hpp"

namespace bakthat::codec {
namespace {

constexpr int kDefaultLevel = 3;
constexpr int kJobSize = 2 << 20;

[[noreturn]] void fail(ErrorKind kind, const char* what, std::size_t code) {
  throw Error(kind, std::string("zstd: ") + what + ": " + ZSTD_getErrorName(code));
}

// Compresses into one zstd frame with a content checksum. libzstd's own
// workers (ZSTD_c_nbWorkers) compress in the background, so write() returns
// while earlier input is still being compressed; memory stays bounded by
// libzstd's job size.
class ZstdSink : public Sink {
 public:
  ZstdSink(Sink& next, int level, int threads) : next_(next), ctx_(ZSTD_createCCtx()) {
    if (!ctx_) throw Error(ErrorKind::Io, "zstd: cannot allocate a compressor");
    set(ZSTD_c_compressionLevel, level);
    set(ZSTD_c_checksumFlag, 1);
    // A build without threads support refuses nbWorkers; it then runs inline.
    if (!ZSTD_isError(ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_nbWorkers, threads))) {
      // libzstd's default job (4x the window, 8 MiB at level 3) costs ~25 MiB
      // per worker; 2 MiB jobs bound it to a few MiB for a <1% larger output.
      ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_jobSize, kJobSize);
    }
    out_.resize(ZSTD_CStreamOutSize());
  }
  void write(Bytes data) override {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (in.pos < in.size) step(in, ZSTD_e_continue);
  }
  void finish() override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    while (step(in, ZSTD_e_end) != 0) {
    }
    next_.finish();
  }

 private:
  void set(ZSTD_cParameter p, int v) {
    const std::size_t r = ZSTD_CCtx_setParameter(ctx_.get(), p, v);
    if (ZSTD_isError(r)) fail(ErrorKind::Usage, "bad parameter", r);
  }
  std::size_t step(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    const std::size_t r = ZSTD_compressStream2(ctx_.get(), &out, &in, mode);
    if (ZSTD_isError(r)) fail(ErrorKind::Io, "compression failed", r);
    if (out.pos) next_.write(Bytes(out_.data(), out.pos));
    return r;
  }
  struct Free {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  Sink& next_;
  std::unique_ptr<ZSTD_CCtx, Free> ctx_;
  std::vector<std::uint8_t> out_;
};

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

std::unique_ptr<Sink> make_zstd_sink(Sink& next, std::optional<int> level, int threads) {
  return std::make_unique<ZstdSink>(next, level.value_or(kDefaultLevel), std::max(1, threads));
}

std::unique_ptr<Source> make_zstd_source(Source& in) { return std::make_unique<ZstdSource>(in); }

}  // namespace bakthat::codec
