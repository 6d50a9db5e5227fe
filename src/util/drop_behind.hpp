// Keeps a file streamed once, front to back, from piling up in the page
// cache: for archives, written once and read back seldom.
//
// Why: a backup streams gigabytes that the machine will not read again soon.
// Left in the page cache they evict what it is using and accumulate as dirty
// pages for the closing fsync to wait on; and on virtual machines whose host
// reclaims free guest memory, every fresh page costs a trap to the
// hypervisor on first touch (writing a 579 MB archive: 0.2 s of write() on
// recycled pages, 0.9-2 s on fresh ones, measured on the project's VM; see
// "the archive's page cache" in bench/results/2026-11-26.md). Dropping the pages a few
// windows behind the stream keeps those windows cached and recycles their
// pages for the next ones.
#pragma once

#include <cstdint>
#include <string>

namespace bakthat::util {

// Contract: the owner streams the file `fd` sequentially from offset 0 and,
// after each write or read, tells the file's offset so far. Writing, every
// kWindow bytes it starts the writeback of the window just filled, and once
// two more are in flight it waits for the oldest and drops its pages;
// reading, it drops what lies more than two windows behind. Where the file
// system cannot (a pipe; sync_file_range unsupported) it does nothing. An
// I/O error that the writeback wait reports is thrown as Error(Io) naming
// `path`: fsync would not report it again. A writer still fsyncs at the end.
class DropBehind {
 public:
  static constexpr std::uint64_t kWindow = std::uint64_t{8} << 20;

  DropBehind(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  void written(std::uint64_t offset);
  void read(std::uint64_t offset);

 private:
  int fd_;
  std::string path_;
  std::uint64_t started_ = 0;  // bytes whose writeback has been started
  std::uint64_t dropped_ = 0;  // bytes dropped from the cache
  bool supported_ = true;
};

}  // namespace bakthat::util
