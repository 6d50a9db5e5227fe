// The age ASCII armor decoder alone (crypto/armor.cpp), drained to its end.
#include <exception>

#include "crypto/stages.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bakthat::fuzz::SpanSource in({data, size});
  try {
    auto r = bakthat::crypto::detail::make_armor_reader(in);
    bakthat::fuzz::drain(*r);
  } catch (const std::exception&) {
  }
  return 0;
}
