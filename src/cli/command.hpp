// The command line's commands: each declares its own arguments and, once
// they are parsed, calls the library and prints what it returned. What every
// command shares (the global options, the reporter, the password prompts) is
// the Context.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bakthat/bakthat.hpp"
#include "cli/terminal.hpp"

namespace bakthat::cli {

// The options accepted before or after any command name.
struct Globals {
  std::string config, profile, destination;
  bool quiet = false, verbose = false;
};

// What the commands share; the reporter exists once arguments are parsed.
class Context {
 public:
  Globals globals;
  std::unique_ptr<TerminalReporter> reporter;
  // Cancelled by SIGINT / SIGTERM; every operation's Options::cancel.
  const CancelToken* cancel = nullptr;

  // Config file, profile, destination and reporter, as the globals say.
  Options base_options() const;
  // An operation's options (BackupOptions, ...) with base_options() filled in.
  template <class OperationOptions>
  OperationOptions options() const {
    OperationOptions o;
    static_cast<Options&>(o) = base_options();
    return o;
  }
  // The profile name configure writes to.
  std::string profile_or_default() const { return globals.profile.empty() ? "default" : globals.profile; }
  // Asks for a backup's password twice on the terminal; nullopt (no
  // encryption, or the library's BAKTHAT_PASSWORD or password_command) when
  // it is set in the environment, the profile has a password_command or
  // `prompt: no`, `--prompt no`, encryption goes to recipients, there is no
  // terminal, or the answer is blank. Throws Usage when the answers differ.
  std::optional<std::string> backup_password(const std::string& prompt_flag, const Profile& profile,
                                             bool has_recipients) const;
  // The library's password callback for reading: none with `--prompt no`.
  static std::function<std::optional<std::string>()> restore_password_prompt(const std::string& prompt_flag);
};

// One subcommand. The option values are the command's members, which CLI11
// fills while parsing; run() is called only for the command given.
class Command {
 public:
  Command(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
  virtual ~Command() = default;
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  // Declares the command's arguments on its CLI11 subcommand; none by default.
  virtual void declare(CLI::App&) {}
  // Runs the parsed command; returns the exit status. Throws bakthat::Error.
  virtual int run(Context& context) = 0;

 private:
  std::string name_, help_;
};

// The commands, in the order `--help` lists them; one file each group.
void add_backup_commands(std::vector<std::unique_ptr<Command>>& out);     // backup, restore, verify
void add_catalog_commands(std::vector<std::unique_ptr<Command>>& out);    // show, ls, delete, retention, sync
void add_configure_commands(std::vector<std::unique_ptr<Command>>& out);  // configure, configure_backups_rotation

// The first line of a --password-file (restic's), without its line end.
std::string read_password_file(const std::string& path);

// {"a b,c", "d"} -> {"a", "b", "c", "d"}: tags as the Python tool took them
// (-t "a b"), and one -t each.
std::vector<std::string> split_words(const std::vector<std::string>& values);

}  // namespace bakthat::cli
