#include "codec/codec.hpp"

#include "codec/stages.hpp"

namespace bakthat::codec {
namespace {

// Codec::None: the bytes as they are (backups with `compress: false`).
class PassSink : public Sink {
 public:
  explicit PassSink(Sink& next) : next_(next) {}
  void write(Bytes data) override { next_.write(data); }
  void finish() override { next_.finish(); }

 private:
  Sink& next_;
};

class PassSource : public Source {
 public:
  explicit PassSource(Source& in) : in_(in) {}
  std::size_t read(MutableBytes out) override { return in_.read(out); }

 private:
  Source& in_;
};

}  // namespace

std::unique_ptr<Sink> make_compressor(Sink& next, const CompressOptions& options) {
  switch (options.codec) {
    case Codec::Gzip: return make_gzip_sink(next, options.level, options.threads);
    case Codec::Zstd: return make_zstd_sink(next, options.level, options.threads);
    case Codec::None: break;
  }
  return std::make_unique<PassSink>(next);
}

std::unique_ptr<Source> make_decompressor(Source& in, Codec codec, int threads) {
  switch (codec) {
    case Codec::Gzip: return make_gzip_source(in, threads);
    case Codec::Zstd: return make_zstd_source(in);
    case Codec::None: break;
  }
  return std::make_unique<PassSource>(in);
}

Codec detect(Bytes head) {
  if (head.size() >= 2 && head[0] == 0x1f && head[1] == 0x8b) return Codec::Gzip;
  if (head.size() >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) {
    return Codec::Zstd;
  }
  return Codec::None;
}

}  // namespace bakthat::codec
