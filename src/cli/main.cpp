// The bakthat command line: parses arguments, asks for what is missing,
// calls the library, prints results. No logic of its own: each command is a
// cli::Command (command.hpp), in the file of its group.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "bakthat/bakthat.hpp"
#include "cli/command.hpp"

namespace {

using namespace bakthat;

CancelToken g_cancel;
volatile std::sig_atomic_t g_signal = 0;

// SIGINT, SIGTERM: the running operation is cancelled and unwinds (an upload
// is aborted, no row written); a second one ends the process at once.
void on_signal(int signo) {
  if (g_signal != 0) ::_exit(128 + signo);
  g_signal = signo;
  g_cancel.cancel();
}

// Without SA_RESTART, so that a read waiting on a terminal or a pipe returns
// (EINTR) and its caller sees the cancellation.
void handle_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

// A command that failed after a signal exits as the shell reports a process
// the signal ended: 128 + its number (130 for SIGINT, 143 for SIGTERM).
int status_after_signal(int status) { return status != 0 && g_signal != 0 ? 128 + g_signal : status; }

// Parses the arguments and runs the command they name.
int run(int argc, char** argv, cli::Context& context) {
  CLI::App app{"bakthat: compress, encrypt and store backups on local disk, S3, Glacier and Swift"};
  app.set_version_flag("--version", "bakthat " + version());
  app.require_subcommand(1);
  cli::Globals& g = context.globals;
  app.add_option("-c,--config", g.config, "configuration file (default ~/.bakthat.yml)");
  app.add_option("-p,--profile", g.profile, "profile of the configuration file (default: default)");
  app.add_option("-d,--destination", g.destination, "local, s3, glacier or swift");
  app.add_flag("-q,--quiet", g.quiet, "only errors");
  app.add_flag("-v,--verbose", g.verbose, "more messages");
  // The global options also after the command name, as the original took them.
  app.fallthrough();

  std::vector<std::unique_ptr<cli::Command>> commands;
  cli::add_backup_commands(commands);
  cli::add_catalog_commands(commands);
  cli::add_configure_commands(commands);
  std::vector<std::pair<CLI::App*, cli::Command*>> subs;
  for (const auto& command : commands) {
    CLI::App* sub = app.add_subcommand(command->name(), command->help());
    std::string dashed = command->name();  // delete-older-than for delete_older_than
    for (auto& c : dashed)
      if (c == '_') c = '-';
    if (dashed != command->name()) sub->alias(dashed);
    sub->fallthrough();
    command->declare(*sub);
    subs.emplace_back(sub, command.get());
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 takes an unknown command for a missing one.
    const auto rest = app.remaining();
    if (app.get_subcommands().empty() && !rest.empty()) {
      std::fprintf(stderr, "bakthat: unknown command '%s' (see bakthat --help)\n", rest.front().c_str());
      return exit_status(ErrorKind::Usage);
    }
    std::fprintf(stderr, "bakthat: %s (see bakthat --help)\n", e.what());
    return exit_status(ErrorKind::Usage);
  }

  context.reporter = std::make_unique<cli::TerminalReporter>(g.quiet, g.verbose);
  for (const auto& [sub, command] : subs)
    if (sub->parsed()) return command->run(context);
  return exit_status(ErrorKind::Usage);
}

}  // namespace

int main(int argc, char** argv) {
  handle_signals();
  cli::Context context;
  context.cancel = &g_cancel;
  try {
    int status = status_after_signal(run(argc, argv, context));
    // Output that never arrived (a full disk behind `show > file`) is a
    // failure, as coreutils treat it; a reader that went away (`| head`) is not.
    if ((std::fflush(stdout) != 0 || std::ferror(stdout)) && errno != EPIPE) {
      std::fprintf(stderr, "bakthat: cannot write to standard output: %s\n", std::strerror(errno));
      return status != 0 ? status : exit_status(ErrorKind::Io);
    }
    return status;
  } catch (const Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "bakthat: %s\n", e.what());
    return status_after_signal(exit_status(e.kind()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bakthat: unexpected error: %s\n", e.what());
    return 1;
  }
}
