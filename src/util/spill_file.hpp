// An unnamed temporary file that holds bytes a stage must hold back for a
// while (the age writer's payload while scrypt derives the header's key), so
// the stage need not stall and its memory stays bounded.
#pragma once

#include <cstdint>
#include <filesystem>

#include "bakthat/stream.hpp"

namespace bakthat::util {

// Opened with O_TMPFILE (mode 0600, never linked, gone when closed), so no
// crash leaves it behind. Meant for bytes that are no secret (ciphertext).
// Not thread-safe. Move-only in spirit: not copyable.
class SpillFile {
 public:
  // Throws bakthat::Error(Io) when `dir` cannot hold an unnamed file.
  SpillFile(const std::filesystem::path& dir, std::uint64_t limit);
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;
  ~SpillFile();

  // Appends all of data, or nothing and returns false when the limit would
  // be passed or the disk refuses (full, quota): holding back is an
  // optimization, so a caller that cannot spill waits instead of failing.
  bool append(Bytes data);
  // Writes everything held to `out`, in order and in bounded pieces, then
  // empties the file. Throws what `out` throws, or Error(Io) on a read error.
  void replay(Sink& out);

  std::uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint64_t limit_;
};

}  // namespace bakthat::util
