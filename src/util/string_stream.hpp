// A string as a stream stage: read as a Source, or collected from a Sink.
#pragma once

#include <cstddef>
#include <string>

#include "bakthat/stream.hpp"

namespace bakthat::util {

// The bytes of a string, as a Source.
class StringSource : public Source {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  std::size_t read(MutableBytes out) override;

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

// Collects what is written into a string.
class StringSink : public Sink {
 public:
  void write(Bytes data) override { data_.append(reinterpret_cast<const char*>(data.data()), data.size()); }
  void finish() override {}
  std::string& data() { return data_; }

 private:
  std::string data_;
};

}  // namespace bakthat::util
