#include <memory>

#include "codec/block_sink.hpp"
#include "codec/gzip_member.hpp"
#include "codec/stages.hpp"

namespace bakthat::codec {

// Cuts the stream into kBlockSize blocks; each becomes one member compressed
// on a worker (about 2 MiB a slot of gzip::slots_for(threads)).
std::unique_ptr<Sink> make_gzip_sink(Sink& next, std::optional<int> level, int threads) {
  using Worker = std::unique_ptr<gzip::MemberCompressor>;
  threads = std::max(1, threads);
  const gzip::EngineChoice choice = gzip::choose_engine(level);
  return std::make_unique<BlockSink<Worker>>(
      next, gzip::kBlockSize, threads, gzip::slots_for(threads),
      [choice] { return std::make_unique<gzip::MemberCompressor>(choice); },
      [](Worker& w, Block& b) { b.out_size = w->compress(b.in, b.out); });
}

}  // namespace bakthat::codec
