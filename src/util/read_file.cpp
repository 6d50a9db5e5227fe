#include "util/read_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bakthat::util {

std::optional<std::string> read_regular_file(const std::string& path, std::size_t limit, ErrorKind kind,
                                             const std::string& what) {
  const std::string named = what + " " + path;
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw Error(kind, "cannot read " + named + ": " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw Error(kind, "cannot read " + named + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw Error(kind, named + " is not a regular file");
  if (static_cast<std::size_t>(st.st_size) > limit)
    throw Error(kind, named + " is too large (over " + std::to_string(limit >> 10) + " KiB)");
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(kind, "cannot read " + named + ": " + std::strerror(errno));
    if (n == 0) return text;
    // A file growing while read is held to the same limit.
    if (text.size() + static_cast<std::size_t>(n) > limit)
      throw Error(kind, named + " is too large (over " + std::to_string(limit >> 10) + " KiB)");
    text.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace bakthat::util
