// The entries of a tar stream and where each one lies in it, found by
// following the stream as it passes (no second pass, nothing buffered but a
// header): what a backup's index records (docs/formats.md §13) and what
// `list` prints.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bakthat/archive_entry.hpp"
#include "bakthat/stream.hpp"

namespace bakthat::archive {

using TarEntry = ArchiveEntry;

// Follows a tar stream fed to it in pieces of any size and reports each
// entry once its header is read. Throws Corrupt on a header whose checksum
// or numbers are wrong (the archive itself would not extract).
class TarScanner {
 public:
  explicit TarScanner(std::function<void(TarEntry&&)> on_entry) : on_entry_(std::move(on_entry)) {}
  void feed(Bytes data);
  std::uint64_t offset() const { return offset_; }  // bytes fed so far
  // Whether the end-of-archive blocks were seen.
  bool ended() const { return ended_; }

 private:
  enum class State { Header, Extension, Data };
  void on_header();
  void on_extension();
  std::function<void(TarEntry&&)> on_entry_;
  State state_ = State::Header;
  std::uint64_t offset_ = 0;
  std::uint8_t block_[512];
  std::size_t have_ = 0;         // bytes of block_ (Header) or ext_ (Extension) filled
  std::uint64_t skip_ = 0;       // bytes left to pass over (Data; Extension padding)
  std::string ext_;              // an extension header's data (pax, GNU long name)
  std::uint64_t ext_size_ = 0;
  char ext_type_ = 0;
  std::uint64_t group_start_ = 0;  // first header block of the current entry
  bool in_group_ = false;
  // What the extension headers before an entry said.
  std::vector<std::pair<std::string, std::string>> pax_;
  std::string long_name_, long_link_;
  bool ended_ = false;
};

// The records of a GNU.dumpdir (TarEntry::dumpdir), each "<flag><name>".
std::vector<std::string> dumpdir_records(const std::string& dumpdir);

}  // namespace bakthat::archive
