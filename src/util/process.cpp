#include "util/process.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "bakthat/errors.hpp"

extern char** environ;

namespace bakthat::util {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// RAII for the posix_spawn attribute objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

int run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty() || argv[0].empty()) throw Error(ErrorKind::Usage, "no command given");
  SpawnSetup s;
  if (options.stdin_fd >= 0) posix_spawn_file_actions_adddup2(&s.actions, options.stdin_fd, 0);
  if (options.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&s.actions, options.stdout_fd, 1);
  // A library user (or curl) may ignore SIGPIPE or block signals; a child
  // inherits both across exec, so reset them.
  sigset_t defaults, empty;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&s.attr, &defaults);
  posix_spawnattr_setsigmask(&s.attr, &empty);
  posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args = c_strings(argv);
  std::vector<char*> env;
  if (options.environment) env = c_strings(*options.environment);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0].c_str(), &s.actions, &s.attr, args.data(),
                          options.environment ? env.data() : environ);
  if (rc != 0)
    throw Error(rc == ENOENT || rc == EACCES ? ErrorKind::NotFound : ErrorKind::Io,
                "cannot run '" + argv[0] + "': " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error(ErrorKind::Io, "cannot wait for '" + argv[0] + "': " + std::strerror(errno));
  }
  return status;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? "" : "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "wait status " + std::to_string(status);
}

}  // namespace bakthat::util
