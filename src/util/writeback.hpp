// Writes a large file through the page cache without letting it pile up
// there: for archives written once and seldom read back.
//
// Why: a backup streams gigabytes that the machine will not read again soon.
// Left in the page cache they evict what it is using, accumulate as dirty
// pages for the closing fsync to wait on, and, on virtual machines whose
// host reclaims free guest memory, every fresh page costs a trap to the
// hypervisor on first touch (a 579 MB archive: 0.2 s of write() on recycled
// pages, 0.9-2 s on fresh ones, measured on the project's VM; see
// bench/results-2026-11-26.md, ninth session). Writing back and dropping
// each window behind the writer keeps a few windows cached and recycles
// their pages.
#pragma once

#include <cstdint>
#include <string>

namespace bakthat::util {

// Contract: the owner writes the file `fd` sequentially from offset 0 and
// calls written(n) after each write, n being the file's size so far. Every
// kWindow bytes it starts the writeback of the window just filled; once two
// more are in flight it waits for the oldest and drops its pages. Where the
// file system cannot (sync_file_range unsupported) it does nothing more. An
// I/O error that the wait reports is thrown as Error(Io) naming `path`: it
// would not be reported again by fsync. The owner still fsyncs at the end.
class WritebackWindow {
 public:
  static constexpr std::uint64_t kWindow = std::uint64_t{8} << 20;

  WritebackWindow(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  void written(std::uint64_t size);

 private:
  int fd_;
  std::string path_;
  std::uint64_t started_ = 0;  // bytes whose writeback has been started
  std::uint64_t dropped_ = 0;  // bytes written back and dropped from the cache
  bool supported_ = true;
};

}  // namespace bakthat::util
