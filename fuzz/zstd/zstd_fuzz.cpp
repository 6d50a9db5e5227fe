// The zstd decoder of restores (codec/zstd.cpp): any sequence of frames.
#include <exception>

#include "codec/codec.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bakthat::fuzz::SpanSource in({data, size});
  try {
    auto r = bakthat::codec::make_decompressor(in, bakthat::codec::Codec::Zstd, 1);
    bakthat::fuzz::drain(*r);
  } catch (const std::exception&) {
  }
  return 0;
}
