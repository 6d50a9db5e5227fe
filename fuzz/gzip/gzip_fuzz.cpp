// The gzip decoder of restores: tagged (bakthat) members inflated on a
// worker, any other member by the streaming decoder (codec/gzip_source.cpp).
#include <exception>

#include "codec/codec.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bakthat::fuzz::SpanSource in({data, size});
  try {
    auto r = bakthat::codec::make_decompressor(in, bakthat::codec::Codec::Gzip, 2);
    bakthat::fuzz::drain(*r);
  } catch (const std::exception&) {
  }
  return 0;
}
