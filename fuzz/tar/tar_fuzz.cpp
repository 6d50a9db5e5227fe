// The tar reader of restores (archive/tar_reader.cpp) in its two modes that
// write nothing to disk: read_tar (verify) and extract_single_to (restore
// --stdout of a one-file backup, into a sink that drops the bytes).
#include <exception>

#include "archive/archive.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    bakthat::fuzz::SpanSource in({data, size});
    try {
      bakthat::archive::read_tar(in);
    } catch (const std::exception&) {
    }
  }
  {
    bakthat::fuzz::SpanSource in({data, size});
    bakthat::fuzz::NullSink out;
    try {
      bakthat::archive::extract_single_to(in, out);
    } catch (const std::exception&) {
    }
  }
  return 0;
}
