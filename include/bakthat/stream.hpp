// Byte streams: the two shapes every pipeline stage takes.
//
// A backup pushes bytes down a chain of Sinks (tar -> compress -> encrypt ->
// hash -> store); a restore pulls bytes up a chain of Sources (store -> hash ->
// decrypt -> decompress -> untar). A stage holds a reference to the next one
// and never owns it, so the operation that wires a pipeline owns every stage
// and can query any of them (sizes, digests) once the data has flowed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace bakthat {

using Bytes = std::span<const std::uint8_t>;
using MutableBytes = std::span<std::uint8_t>;

class Sink {
 public:
  virtual ~Sink() = default;
  // Appends data. Throws bakthat::Error; after a throw the sink is unusable.
  virtual void write(Bytes data) = 0;
  // Flushes everything buffered and finishes the next stage. Called once;
  // nothing may be written after it.
  virtual void finish() = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Reads up to out.size() bytes. Returns 0 only at the end of the stream;
  // a short read does not mean the end. Throws bakthat::Error.
  virtual std::size_t read(MutableBytes out) = 0;
};

}  // namespace bakthat
