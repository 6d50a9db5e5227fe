// The bakthat 0.6 (beefish) decryptor, password "password" (that of
// tests/data/beefish/small.*), in each of its three modes.
#include <exception>

#include "crypto/stages.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bakthat::crypto::BeefishMode;
  for (BeefishMode mode : {BeefishMode::Auto, BeefishMode::Ecb, BeefishMode::Cbc}) {
    bakthat::fuzz::SpanSource in({data, size});
    try {
      auto r = bakthat::crypto::detail::make_beefish_reader(in, "password", mode);
      bakthat::fuzz::drain(*r);
    } catch (const std::exception&) {
    }
  }
  return 0;
}
