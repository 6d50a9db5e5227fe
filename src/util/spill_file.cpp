#include "util/spill_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "bakthat/errors.hpp"

namespace bakthat::util {

SpillFile::SpillFile(const std::filesystem::path& dir, std::uint64_t limit) : limit_(limit) {
  fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw Error(ErrorKind::Io, "cannot make a temporary file in " + dir.string() + ": " + std::strerror(errno));
  }
}

SpillFile::~SpillFile() { ::close(fd_); }

bool SpillFile::append(Bytes data) {
  if (data.size() > limit_ - size_) return false;
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(size_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Drop the partial append, so what is held stays whole.
      if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        throw Error(ErrorKind::Io, std::string("temporary file: ") + std::strerror(errno));
      }
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  size_ += data.size();
  return true;
}

void SpillFile::replay(Sink& out) {
  std::vector<std::uint8_t> piece(std::size_t{1} << 20);
  std::uint64_t at = 0;
  while (at < size_) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), size_ - at));
    const ssize_t n = ::pread(fd_, piece.data(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(ErrorKind::Io, std::string("temporary file: ") + (n < 0 ? std::strerror(errno) : "short read"));
    out.write(Bytes(piece.data(), static_cast<std::size_t>(n)));
    at += static_cast<std::uint64_t>(n);
  }
  if (::ftruncate(fd_, 0) != 0) throw Error(ErrorKind::Io, std::string("temporary file: ") + std::strerror(errno));
  size_ = 0;
}

}  // namespace bakthat::util
