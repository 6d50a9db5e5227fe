// The profile's `hooks:` shell commands.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/process.hpp"
#include "events/scope.hpp"

extern char** environ;

namespace bakthat::events {
namespace {

// Larger results go through a file: one environment string is limited to
// 128 KiB by Linux (MAX_ARG_STRLEN), and all of them together by ARG_MAX.
constexpr std::size_t kMaxResultInEnvironment = 64 * 1024;

bool is_ours(const char* entry) {
  // The password never reaches a hook; stale event variables (a hook that
  // runs bakthat itself) are replaced.
  return std::strncmp(entry, "BAKTHAT_PASSWORD=", 17) == 0 || std::strncmp(entry, "BAKTHAT_EVENT=", 14) == 0 ||
         std::strncmp(entry, "BAKTHAT_SESSION_ID=", 19) == 0 || std::strncmp(entry, "BAKTHAT_NAME=", 13) == 0 ||
         std::strncmp(entry, "BAKTHAT_OPERATION=", 18) == 0 || std::strncmp(entry, "BAKTHAT_PROFILE=", 16) == 0 ||
         std::strncmp(entry, "BAKTHAT_DESTINATION=", 20) == 0 || std::strncmp(entry, "BAKTHAT_RESULT=", 15) == 0 ||
         std::strncmp(entry, "BAKTHAT_RESULT_FILE=", 20) == 0;
}

// A 0600 temporary file holding the result, removed when done.
class ResultFile {
 public:
  explicit ResultFile(const std::string& text) {
    const char* tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/bakthat-result-XXXXXX";
    int fd = ::mkstemp(path_.data());
    if (fd < 0) throw std::runtime_error("cannot create " + path_ + ": " + std::strerror(errno));
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::close(fd);
        ::unlink(path_.c_str());
        throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(err));
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::close(fd);
  }
  ~ResultFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

std::string run_hook(const std::string& command, const Event& event) {
  try {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e)
      if (!is_ours(*e)) env.emplace_back(*e);
    env.push_back("BAKTHAT_EVENT=" + event.name);
    env.push_back("BAKTHAT_OPERATION=" + event.operation);
    env.push_back("BAKTHAT_SESSION_ID=" + event.session_id);
    env.push_back("BAKTHAT_NAME=" + event.target);
    env.push_back("BAKTHAT_PROFILE=" + event.profile);
    env.push_back("BAKTHAT_DESTINATION=" + event.destination);
    std::string result = event.result.dump();
    std::unique_ptr<ResultFile> file;
    if (result.size() > kMaxResultInEnvironment) {
      file = std::make_unique<ResultFile>(result);
      env.push_back("BAKTHAT_RESULT_FILE=" + file->path());
      env.push_back("BAKTHAT_RESULT=");
    } else {
      env.push_back("BAKTHAT_RESULT=" + result);
    }
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    util::ProcessOptions opts;
    opts.environment = &env;
    opts.stdin_fd = devnull;
    opts.stdout_fd = 2;
    int status = 0;
    try {
      status = util::run_process({"/bin/sh", "-c", command}, opts);
    } catch (...) {
      if (devnull >= 0) ::close(devnull);
      throw;
    }
    if (devnull >= 0) ::close(devnull);
    return util::describe_status(status);
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace bakthat::events
