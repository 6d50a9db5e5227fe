#include "config/files.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "bakthat/errors.hpp"
#include "util/read_file.hpp"

namespace fs = std::filesystem;

namespace bakthat::config {

std::string home_dir() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir && *pw->pw_dir) return pw->pw_dir;
  return "/";
}

std::string expand_user(const std::string& path) {
  if (path == "~") return home_dir();
  if (path.rfind("~/", 0) == 0) return home_dir() + path.substr(1);
  return path;
}

YAML::Node parse_yaml(const std::string& text, const std::string& origin) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw Error(ErrorKind::Config, origin + ": invalid YAML at line " +
                                       std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const YAML::Exception& e) {
    throw Error(ErrorKind::Config, origin + ": invalid YAML: " + e.msg);
  }
}

std::optional<YAML::Node> read_yaml_file(const std::string& path) {
  // A configuration is a few kilobytes; the limit only stops a wrong name.
  constexpr std::size_t kMaxConfig = 1u << 20;
  auto text = util::read_regular_file(path, kMaxConfig, ErrorKind::Config, "configuration file");
  if (!text) return std::nullopt;
  return parse_yaml(*text, path);
}

std::optional<std::string> privacy_warning(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return std::nullopt;
  return path + " holds secrets and is readable by others: run `chmod 600 " + path + "`";
}

namespace {

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  throw Error(ErrorKind::Io, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

void write_file_atomic_private(const std::string& path, const std::string& contents) {
  std::error_code ec;
  fs::path target = fs::is_symlink(path, ec) ? fs::canonical(path, ec) : fs::path(path);
  if (ec) target = path;
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";

  std::string tmp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  int fd = mkstemp(tmp.data());  // created 0600
  if (fd < 0) io_error("cannot create a file in", dir.string());
  auto fail = [&](const std::string& what) {
    int saved = errno;
    close(fd);
    unlink(tmp.c_str());
    errno = saved;
    io_error(what, tmp);
  };
  const char* p = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (fchmod(fd, 0600) != 0) fail("cannot chmod");
  if (fsync(fd) != 0) fail("cannot sync");
  if (close(fd) != 0) {
    unlink(tmp.c_str());
    io_error("cannot write", tmp);
  }
  if (rename(tmp.c_str(), target.c_str()) != 0) {
    int saved = errno;
    unlink(tmp.c_str());
    errno = saved;
    io_error("cannot replace", target.string());
  }
  // The rename is durable only once the directory itself is synced.
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
}

}  // namespace bakthat::config
