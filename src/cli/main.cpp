// The bakthat command line: parses arguments, asks for what is missing,
// calls the library, prints results. No logic of its own: each command is a
// cli::Command (command.hpp), in the file of its group.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "bakthat/bakthat.hpp"
#include "cli/command.hpp"
#include "util/edit_distance.hpp"

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

const char kGlobalOptions[] =
    "Global options (before or after the command): -c/--config FILE, -p/--profile NAME,\n"
    "-d/--destination local|s3|glacier|swift, -q/--quiet, -v/--verbose, --help, --version";

// Positionals shown as required in the usage line though CLI11 cannot
// require them (restore's NAME, which --from-file replaces).
class UsageFormatter : public CLI::Formatter {
 public:
  std::set<const CLI::Option*> shown_required;
  std::string make_option_usage(const CLI::Option* opt) const override {
    std::string usage = CLI::Formatter::make_option_usage(opt);
    if (shown_required.count(opt) && usage.size() > 2 && usage.front() == '[') usage = usage.substr(1, usage.size() - 2);
    return usage;
  }
};

// The one of `names` closest to a mistyped `typed` (at most 2 edits away),
// else "".
std::string nearest(const std::string& typed, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& n : names)
    if (std::size_t d = util::edit_distance(typed, n); d < best_distance) best_distance = d, best = n;
  return best;
}

// "--name" of each long option of these apps.
std::vector<std::string> long_options(const std::vector<const CLI::App*>& apps) {
  std::vector<std::string> out;
  for (const CLI::App* app : apps)
    for (const CLI::Option* opt : app->get_options())
      for (const auto& l : opt->get_lnames()) out.push_back("--" + l);
  return out;
}

// The command named in the arguments (its name or an alias), or nullptr.
CLI::App* named_command(CLI::App& app, const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") break;
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
      if (sub->check_name(a)) return sub;
  }
  return nullptr;
}

// Long options shortened to an unambiguous prefix (`--dry` for `--dry-run`),
// as the Python tool's argparse took them: written out in full. An
// ambiguous one is an error naming the candidates.
void expand_long_options(std::vector<std::string>& args, const std::vector<std::string>& known) {
  for (auto& a : args) {
    if (a == "--") break;
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) continue;
    std::string name = a.substr(0, a.find('='));
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::vector<std::string> candidates;
    for (const auto& k : known)
      if (k.compare(0, name.size(), name) == 0 && std::find(candidates.begin(), candidates.end(), k) == candidates.end())
        candidates.push_back(k);
    if (candidates.size() == 1) {
      a = candidates.front() + a.substr(name.size());
    } else if (candidates.size() > 1) {
      std::string list;
      for (const auto& c : candidates) list += (list.empty() ? "" : ", ") + c;
      throw Error(ErrorKind::Usage, "option " + name + " is ambiguous: " + list);
    }
  }
}

// Parses the arguments and runs the command they name.
int run(int argc, char** argv, cli::Context& context) {
  CLI::App app{"bakthat: compress, encrypt and store backups on local disk, S3, Glacier and Swift"};
  app.name("bakthat");
  auto formatter = std::make_shared<UsageFormatter>();
  app.formatter(formatter);
  app.set_version_flag("--version", "bakthat " + version());
  app.require_subcommand(1);
  cli::Globals& g = context.globals;
  app.add_option("-c,--config", g.config, "configuration file (default ~/.bakthat.yml)");
  app.add_option("-p,--profile", g.profile, "profile of the configuration file (default: default)");
  app.add_option("-d,--destination", g.destination, "local, s3, glacier or swift");
  app.add_flag("-q,--quiet", g.quiet, "only errors, and the line saying what was stored");
  app.add_flag("-v,--verbose", g.verbose, "more messages");
  // The global options also after the command name, as the original took them.
  app.fallthrough();
  app.footer("Run `bakthat help COMMAND` (or bakthat COMMAND --help) for a command's arguments.");

  std::vector<std::unique_ptr<cli::Command>> commands;
  cli::add_backup_commands(commands);
  cli::add_catalog_commands(commands);
  cli::add_configure_commands(commands);
  std::vector<std::pair<CLI::App*, cli::Command*>> subs;
  std::vector<std::string> command_names;
  for (const auto& command : commands) {
    CLI::App* sub = app.add_subcommand(command->name(), command->help());
    std::string dashed = command->name();  // delete-older-than for delete_older_than
    for (auto& c : dashed)
      if (c == '_') c = '-';
    if (dashed != command->name()) sub->alias(dashed);
    sub->fallthrough();
    sub->footer(kGlobalOptions);
    command->declare(*sub);
    for (CLI::Option* opt : sub->get_options())
      if (opt->get_positional() && command->name() == "restore") formatter->shown_required.insert(opt);
    subs.emplace_back(sub, command.get());
    command_names.push_back(command->name());
  }

  std::vector<std::string> args(argv + 1, argv + argc);
  // `bakthat help [COMMAND]`, as git and pip take it.
  if (!args.empty() && args.front() == "help") {
    args.erase(args.begin());
    if (args.size() > 1) args.resize(1);
    args.push_back("--help");
  }
  CLI::App* command = named_command(app, args);
  std::vector<const CLI::App*> scope = {&app};
  if (command) scope.push_back(command);
  const std::vector<std::string> known = long_options(scope);
  expand_long_options(args, known);

  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const auto rest = app.remaining();
    // CLI11 takes an unknown command for a missing one.
    if (app.get_subcommands().empty() && !rest.empty() && rest.front().rfind("-", 0) != 0) {
      std::string near = nearest(rest.front(), command_names);
      std::fprintf(stderr, "bakthat: unknown command '%s'%s (see bakthat --help)\n", rest.front().c_str(),
                   near.empty() ? "" : (" (did you mean '" + near + "'?)").c_str());
      return exit_status(ErrorKind::Usage);
    }
    // A mistyped option: the nearest of those this command takes.
    for (const auto& r : rest) {
      if (r.rfind("--", 0) != 0) continue;
      std::string near = nearest(r.substr(0, r.find('=')), known);
      if (near.empty()) continue;
      std::fprintf(stderr, "bakthat: unknown option '%s' (did you mean '%s'?)\n", r.c_str(), near.c_str());
      return exit_status(ErrorKind::Usage);
    }
    std::fprintf(stderr, "bakthat: %s (see bakthat %s--help)\n", e.what(),
                 command ? (command->get_name() + " ").c_str() : "");
    return exit_status(ErrorKind::Usage);
  }

  context.reporter = std::make_unique<cli::TerminalReporter>(g.quiet, g.verbose);
  for (const auto& [sub, cmd] : subs)
    if (sub->parsed()) return cmd->run(context);
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
    if (context.reporter) context.reporter->abandon();
    std::fflush(stdout);
    std::fprintf(stderr, "bakthat: %s\n", e.what());
    return status_after_signal(exit_status(e.kind()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bakthat: unexpected error: %s\n", e.what());
    return 1;
  }
}
