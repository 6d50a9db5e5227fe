// Running a program without a shell in between: the hooks' /bin/sh and
// BakHelper::run_to_file's commands.
#pragma once

#include <string>
#include <vector>

namespace bakthat::util {

struct ProcessOptions {
  // The environment as NAME=VALUE strings; nullptr: this process's.
  const std::vector<std::string>* environment = nullptr;
  int stdin_fd = -1;   // -1: inherited
  int stdout_fd = -1;  // -1: inherited
};

// Runs argv (argv[0] looked up in PATH when it has no '/') and waits for it.
// Returns its wait status (see describe_status). Signals this process
// ignores or blocks are restored to their defaults in the child, so that a
// command behaves as it would from a shell. Throws NotFound when the program
// cannot be started.
int run_process(const std::vector<std::string>& argv, const ProcessOptions& options);

// "exit status 3", "killed by signal 9 (Killed)" for a wait status; "" for success.
std::string describe_status(int status);

}  // namespace bakthat::util
