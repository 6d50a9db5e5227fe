#include "util/drop_behind.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "bakthat/errors.hpp"

namespace bakthat::util {

void DropBehind::written(std::uint64_t offset) {
  while (supported_ && offset - started_ >= kWindow) {
    if (::sync_file_range(fd_, static_cast<off_t>(started_), kWindow, SYNC_FILE_RANGE_WRITE) != 0) {
      // Pipes, some network and FUSE file systems: the cache is theirs to keep.
      if (errno == EINVAL || errno == ESPIPE || errno == ENOSYS || errno == EOPNOTSUPP) {
        supported_ = false;
        return;
      }
      throw Error(ErrorKind::Io, "cannot write " + path_ + ": " + std::strerror(errno));
    }
    started_ += kWindow;
    while (started_ - dropped_ > 2 * kWindow) {
      if (::sync_file_range(fd_, static_cast<off_t>(dropped_), kWindow,
                            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0)
        throw Error(ErrorKind::Io, "cannot write " + path_ + ": " + std::strerror(errno));
      // Written back, so clean: the advice drops the pages.
      ::posix_fadvise(fd_, static_cast<off_t>(dropped_), kWindow, POSIX_FADV_DONTNEED);
      dropped_ += kWindow;
    }
  }
}

void DropBehind::read(std::uint64_t offset) {
  while (supported_ && offset - dropped_ > 3 * kWindow) {
    // Advice: a pipe says ESPIPE, and nothing else here is worth an error.
    if (::posix_fadvise(fd_, static_cast<off_t>(dropped_), kWindow, POSIX_FADV_DONTNEED) == ESPIPE) {
      supported_ = false;
      return;
    }
    dropped_ += kWindow;
  }
}

}  // namespace bakthat::util
