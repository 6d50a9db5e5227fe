// At most `length` bytes of a source, after passing over `offset` of them:
// what a ranged read is when the bytes can only be read in order (a
// destination without ranged reads, a decrypted run of whole age chunks).
#pragma once

#include <cstdint>
#include <memory>

#include "bakthat/stream.hpp"

namespace bakthat::util {

class WindowSource : public Source {
 public:
  WindowSource(Source& in, std::uint64_t offset, std::uint64_t length) : in_(in), skip_(offset), left_(length) {}
  // Holds `in` as long as it lives.
  WindowSource(std::unique_ptr<Source> in, std::uint64_t offset, std::uint64_t length)
      : owned_(std::move(in)), in_(*owned_), skip_(offset), left_(length) {}
  std::size_t read(MutableBytes out) override;

 private:
  std::unique_ptr<Source> owned_;
  Source& in_;
  std::uint64_t skip_, left_;
};

}  // namespace bakthat::util
