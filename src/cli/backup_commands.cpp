// backup, restore, verify, list and mount: the commands that read or write archive bytes.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli/command.hpp"
#include "mount/mount.hpp"

namespace bakthat::cli {
namespace {

// Standard input, waited for in short polls so that a cancellation (Ctrl-C
// while a pipe's writer is silent) is seen within a second.
class StdinSource : public Source {
 public:
  explicit StdinSource(const CancelToken* cancel) : cancel_(cancel) {}
  std::size_t read(MutableBytes out) override {
    for (;;) {
      check_cancel(cancel_);
      pollfd ready{STDIN_FILENO, POLLIN, 0};
      const int polled = ::poll(&ready, 1, 100);
      if (polled < 0 && errno != EINTR) throw Error(ErrorKind::Io, "cannot read standard input");
      if (polled <= 0) continue;  // a signal (EINTR): the token says whether to stop
      ssize_t n = ::read(STDIN_FILENO, out.data(), out.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR && errno != EAGAIN) throw Error(ErrorKind::Io, "cannot read standard input");
    }
  }

 private:
  const CancelToken* cancel_;
};

// Writes a restored stream to standard output.
class StdoutSink : public Sink {
 public:
  void write(Bytes d) override {
    if (std::fwrite(d.data(), 1, d.size(), stdout) != d.size()) failed();
  }
  // The last buffered bytes can fail too (a full disk behind a redirection).
  void finish() override {
    if (std::fflush(stdout) != 0) failed();
  }

 private:
  [[noreturn]] static void failed() {
    throw Error(ErrorKind::Io, std::string("cannot write to standard output: ") + std::strerror(errno));
  }
};

// One age public key (age1... or an SSH public key line) a line; blank
// lines and # comments skipped. A line holding a secret key (an identity
// file given by mistake) is refused by its file and line, never shown.
std::vector<std::string> read_recipients_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(ErrorKind::Usage, "cannot read recipients file " + path);
  std::vector<std::string> out;
  std::string line;
  for (int number = 1; std::getline(f, line); ++number) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("AGE-SECRET-KEY-", 0) == 0 || line.find("PRIVATE KEY") != std::string::npos)
      throw Error(ErrorKind::Usage, path + " line " + std::to_string(number) +
                                        " holds a secret key, not a recipient: give the public keys "
                                        "(age-keygen -y " + path + " prints an identity's)");
    out.push_back(line);
  }
  return out;
}

// `--prompt yes|no`, which backup, restore and verify take.
void declare_prompt(CLI::App& sub, std::string& prompt) {
  sub.add_option("--prompt", prompt, "yes or no: ask for a password")
      ->transform(CLI::IsMember({"yes", "no"}, CLI::ignore_case));
}

// `--password-file FILE`, which backup, restore and verify take.
void declare_password_file(CLI::App& sub, std::string& file) {
  sub.add_option("--password-file", file, "read the password from the first line of FILE (never asks)");
}

// `-i FILE`, repeatable.
void declare_identities(CLI::App& sub, std::vector<std::string>& identities) {
  sub.add_option("-i,--identity", identities, "age identity file or unencrypted OpenSSH private key; repeatable")
      ->allow_extra_args(false);
}

// What reading an encrypted backup takes, from the flags declared by
// declare_identities, declare_password_file and declare_prompt.
void set_decryption(Options& o, const std::vector<std::string>& identities, const std::string& password_file,
                    const std::string& prompt) {
  o.identity_files = identities;
  o.ask_password = Context::restore_password_prompt(prompt);
  if (!password_file.empty()) o.password = read_password_file(password_file);
}

class BackupCommand : public Command {
 public:
  BackupCommand() : Command("backup", "back up a file, a directory, or standard input (-)") {}

  void declare(CLI::App& sub) override {
    sub.add_option("path", path_, "file or directory (default: .), - for standard input");
    sub.add_option("--name", name_, "custom name (required with -)");
    sub.add_option("-t,--tags", tags_, "tags, separated by spaces or given one -t each")->allow_extra_args(false);
    declare_prompt(sub, prompt_);
    declare_password_file(sub, password_file_);
    sub.add_option("--exclude-file", exclude_file_, "patterns of entries to leave out");
    sub.add_flag("--no-exclude", no_exclude_, "read no exclude file (.bakthatexclude, .gitignore)");
    sub.add_flag("-x,--one-file-system", one_file_system_,
                 "store directories on other file systems (/proc, mounts) empty, as tar does");
    sub.add_flag("--incremental", incremental_,
                 "only what changed since the last backup of this name (a GNU tar incremental level)");
    sub.add_flag("--s3-reduced-redundancy", reduced_redundancy_, "S3 storage class REDUCED_REDUNDANCY");
    sub.add_option("--recipient", recipients_, "age public key (age1... or \"ssh-ed25519 AAAA...\") to encrypt to; repeatable")
        ->allow_extra_args(false);  // one value a time: `--recipient KEY DIR` must leave DIR the path
    sub.add_option("--recipients-file", recipients_file_, "file of age public keys");
    // The Python tool sent this key to BakManager.io (a monitoring service
    // long gone); kept so its command lines still work, and recorded so hooks
    // and `show --json` can use it.
    sub.add_option("-k,--key", periodic_key_, "name of a periodic backup (metadata periodic_key)");
    sub.add_flag("--json", json_, "print the new backup's catalog row as JSON");
  }

  int run(Context& context) override {
    auto o = context.options<BackupOptions>();
    o.custom_name = name_;
    o.tags = split_words(tags_);
    o.exclude_file = exclude_file_;
    o.read_exclude_files = !no_exclude_;
    o.reduced_redundancy = reduced_redundancy_;
    o.one_file_system = one_file_system_;
    o.incremental = incremental_;
    if (!periodic_key_.empty()) o.extra_metadata["periodic_key"] = periodic_key_;
    o.recipients = recipients_;
    if (!recipients_file_.empty()) {
      auto more = read_recipients_file(recipients_file_);
      o.recipients.insert(o.recipients.end(), more.begin(), more.end());
    }
    // Its warnings (a misspelt `recipients:`...) before the password prompt.
    const Profile profile = load_profile(o.config);
    report_config_warnings(*context.reporter, profile.warnings);
    if (path_ == "-") {
      if (name_.empty()) throw Error(ErrorKind::Usage, "backup - reads standard input and needs --name NAME");
      // What is typed is no archive's content (tar and gzip refuse a terminal too).
      if (::isatty(STDIN_FILENO) == 1)
        throw Error(ErrorKind::Usage, "backup - reads standard input, which is a terminal: pipe the data in "
                                      "(command | bakthat backup - --name " + name_ + ")");
    }
    const bool has_recipients = !o.recipients.empty() || !profile.recipients.empty();
    if (!password_file_.empty()) o.password = read_password_file(password_file_);
    else o.password = context.backup_password(prompt_, profile, has_recipients);
    BackupRecord r;
    if (path_ == "-") {
      StdinSource in(context.cancel);
      r = backup_stream(in, name_, o);
    } else {
      r = backup(path_, o);
    }
    const Globals& g = context.globals;
    if (json_) std::printf("%s\n", nlohmann::json(r).dump(2).c_str());
    // Also with -q: a cron job's mail says what was stored, and where.
    std::fprintf(stderr, "Stored %s (%s) in %s\n", r.stored_filename.c_str(),
                 human_size(static_cast<std::uint64_t>(r.size)).c_str(), location(o).c_str());
    if (g.verbose) {
      std::uint64_t original = r.metadata.value("original_size", std::uint64_t{0});
      std::fprintf(stderr, "  %s files, %s read, sha256 %s\n",
                   r.metadata.value("files", nlohmann::json(0)).dump().c_str(), human_size(original).c_str(),
                   r.metadata.value("sha256", std::string()).c_str());
    }
    int status = 0;
    if (auto n = r.metadata.value("unreadable_count", std::uint64_t{0})) {
      std::fprintf(stderr, "bakthat: %llu file(s) could not be read (named above)\n",
                   static_cast<unsigned long long>(n));
      status = exit_status(ErrorKind::Partial);
    }
    if (auto n = r.metadata.value("changed_count", std::uint64_t{0})) {
      std::fprintf(stderr, "bakthat: %llu file(s) changed while they were read\n", static_cast<unsigned long long>(n));
      status = exit_status(ErrorKind::Partial);
    }
    return status;
  }

 private:
  std::string path_ = ".", name_, prompt_ = "yes", exclude_file_, recipients_file_, periodic_key_, password_file_;
  std::vector<std::string> tags_, recipients_;
  bool reduced_redundancy_ = false;
  bool one_file_system_ = false;
  bool incremental_ = false;
  bool no_exclude_ = false;
  bool json_ = false;
};

class RestoreCommand : public Command {
 public:
  RestoreCommand() : Command("restore", "restore the latest backup matching NAME") {}

  void declare(CLI::App& sub) override {
    sub.add_option("name", name_, "the backup: its name, the start of it, or a stored name (required unless "
                                   "--from-file)");
    sub.add_option("paths", paths_, "only these paths of a tar backup (and what is under them)");
    sub.add_option("--include", include_, "only entries matching this shell pattern (repeatable)");
    sub.add_option("--exclude", exclude_, "not the entries matching this shell pattern (repeatable)");
    sub.add_option("--tar", tar_, "- : write the backup (or the paths selected) as a tar stream to standard "
                                   "output instead of extracting it");
    sub.add_option("-o,--output", output_, "directory to restore into (default: .)");
    sub.add_flag("--force", force_, "replace existing files (files the backup does not hold stay)");
    sub.add_flag("--stdout", to_stdout_, "write a single-file or stream backup to standard output");
    sub.add_option("--from-file", from_file_,
                   "restore an archive file that is not in the catalog; several: the levels of an incremental "
                   "chain, level 0 first");
    declare_identities(sub, identities_);
    sub.add_flag("--wait", wait_, "wait for an archive-tier retrieval to finish");
    declare_prompt(sub, prompt_);
    declare_password_file(sub, password_file_);
  }

  int run(Context& context) override {
    auto o = context.options<RestoreOptions>();
    o.target_dir = output_;
    o.force = force_;
    o.to_stdout = to_stdout_;
    o.wait = wait_;
    set_decryption(o, identities_, password_file_, prompt_);
    o.paths = paths_;
    o.include = include_;
    o.exclude = exclude_;
    StdoutSink out;
    if (to_stdout_) o.out = &out;
    if (!tar_.empty()) {
      if (tar_ != "-") throw Error(ErrorKind::Usage, "--tar writes to standard output: give --tar - (and redirect it)");
      if (to_stdout_ || !from_file_.empty()) throw Error(ErrorKind::Usage, "--tar goes with neither --stdout nor --from-file");
      o.as_tar = true;
      o.out = &out;
    }
    RestoreResult r;
    if (!from_file_.empty()) {
      r = restore_files(from_file_, o);
    } else {
      if (name_.empty()) throw Error(ErrorKind::Usage, "restore needs a NAME (or --from-file FILE)");
      r = restore(name_, o);
    }
    if (r.state == RestoreState::Restored && !to_stdout_ && tar_.empty() && !context.globals.quiet) {
      std::error_code ec;
      std::string into = std::filesystem::absolute(output_.empty() ? "." : output_, ec).lexically_normal().string();
      std::string what;
      for (const auto& n : r.restored) what += (what.empty() ? "" : ", ") + n;
      std::fprintf(stderr, "Restored %s into %s%s\n", r.record.stored_filename.c_str(), into.c_str(),
                   what.empty() ? "" : (": " + what).c_str());
    }
    if (r.state == RestoreState::RetrievalStarted)
      std::fprintf(stderr, "%s is in an archive tier: a retrieval was started; run restore again later (or --wait)\n",
                   r.record.stored_filename.c_str());
    else if (r.state == RestoreState::RetrievalInProgress)
      std::fprintf(stderr, "%s is being retrieved from its archive tier; run restore again later (or --wait)\n",
                   r.record.stored_filename.c_str());
    return 0;
  }

 private:
  std::string name_, output_, prompt_ = "yes", password_file_, tar_;
  std::vector<std::string> from_file_, identities_, paths_, include_, exclude_;
  bool force_ = false, to_stdout_ = false, wait_ = false;
};

class VerifyCommand : public Command {
 public:
  VerifyCommand() : Command("verify", "download and check the latest backup matching NAME") {}

  void declare(CLI::App& sub) override {
    sub.add_option("name", name_, "the backup: its name, the start of it, or a stored name")->required();
    declare_identities(sub, identities_);
    declare_password_file(sub, password_file_);
    sub.add_flag("--json", json_, "print the verified backup's catalog row as JSON");
  }

  int run(Context& context) override {
    Options o = context.base_options();
    set_decryption(o, identities_, password_file_, "yes");
    auto r = verify(name_, o);
    if (json_) std::printf("%s\n", nlohmann::json(r).dump(2).c_str());
    if (!context.globals.quiet) std::fprintf(stderr, "%s is intact\n", r.stored_filename.c_str());
    return 0;
  }

 private:
  std::string name_, password_file_;
  std::vector<std::string> identities_;
  bool json_ = false;
};

class ListCommand : public Command {
 public:
  ListCommand() : Command("list", "list the files in the latest backup matching NAME (as tar -tv)") {}

  void declare(CLI::App& sub) override {
    sub.add_option("name", name_, "the backup: its name, the start of it, or a stored name")->required();
    declare_identities(sub, identities_);
    declare_password_file(sub, password_file_);
    declare_prompt(sub, prompt_);
    sub.add_flag("--json", json_, "JSON: path, type, size, mode, mtime, uid, gid, user, group, link of each");
  }

  int run(Context& context) override {
    Options o = context.base_options();
    set_decryption(o, identities_, password_file_, prompt_);
    auto entries = list_entries(name_, o);
    if (json_) {
      std::printf("%s\n", nlohmann::json(entries).dump(2).c_str());
      return 0;
    }
    for (const auto& e : entries) std::printf("%s\n", listing_line(e).c_str());
    return 0;
  }

 private:
  std::string name_, password_file_, prompt_ = "yes";
  std::vector<std::string> identities_;
  bool json_ = false;
};

class MountCommand : public Command {
 public:
  MountCommand()
      : Command("mount",
                "show the backups named NAME (by date, DIR/<date>/) or the one NAME picks as a read-only file "
                "system at DIR (FUSE), until fusermount3 -u DIR or Ctrl-C") {}

  void declare(CLI::App& sub) override {
    sub.add_option("name", name_, "a backup name (every backup of it), or the start of one, or a stored name")
        ->required();
    sub.add_option("dir", mount_.dir, "the mount point: an existing directory")->required();
    declare_identities(sub, identities_);
    declare_password_file(sub, password_file_);
    declare_prompt(sub, prompt_);
    sub.add_flag("-f,--foreground", foreground_, "stay in the foreground (always: bakthat mount never detaches)");
    sub.add_option("--cache-mb", cache_mb_, "MiB of file content kept once read (default 64)")
        ->check(CLI::Range(1, 1 << 20));
    sub.add_flag("--debug", mount_.debug, "trace every FUSE request on stderr");
  }

  int run(Context& context) override {
    Options o = context.base_options();
    set_decryption(o, identities_, password_file_, prompt_);
    mount_.cache_bytes = static_cast<std::uint64_t>(cache_mb_) << 20;
    mount::mount_backups(name_, o, mount_);
    return 0;
  }

 private:
  std::string name_, password_file_, prompt_ = "yes";
  std::vector<std::string> identities_;
  bool foreground_ = true;
  int cache_mb_ = 64;
  mount::MountOptions mount_;
};

class IndexCommand : public Command {
 public:
  IndexCommand() : Command("index", "make and store the index of the latest backup matching NAME, if it has none") {}

  void declare(CLI::App& sub) override {
    sub.add_option("name", name_, "the backup: its name, the start of it, or a stored name")->required();
    declare_identities(sub, identities_);
    declare_password_file(sub, password_file_);
    declare_prompt(sub, prompt_);
  }

  int run(Context& context) override {
    Options o = context.base_options();
    set_decryption(o, identities_, password_file_, prompt_);
    index_backup(name_, o);
    return 0;
  }

 private:
  std::string name_, password_file_, prompt_ = "yes";
  std::vector<std::string> identities_;
};

}  // namespace

void add_backup_commands(std::vector<std::unique_ptr<Command>>& out) {
  out.push_back(std::make_unique<BackupCommand>());
  out.push_back(std::make_unique<RestoreCommand>());
  out.push_back(std::make_unique<VerifyCommand>());
  out.push_back(std::make_unique<ListCommand>());
  out.push_back(std::make_unique<IndexCommand>());
  out.push_back(std::make_unique<MountCommand>());
}

}  // namespace bakthat::cli
