// The bakthat command line: parses arguments, asks for what is missing,
// calls the library, prints results. No logic of its own.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>

#include "bakthat/bakthat.hpp"
#include "cli/terminal.hpp"
#include "ops/pipeline.hpp"
#include "util/time.hpp"

namespace {

using namespace bakthat;

struct Globals {
  std::string config, profile, destination;
  bool quiet = false, verbose = false;
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

class StdinSource : public Source {
 public:
  std::size_t read(MutableBytes out) override {
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, out.data(), out.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) throw Error(ErrorKind::Io, "cannot read standard input");
    }
  }
};

void on_signal(int) { ops::g_cancel.store(true); }

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == ',' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::vector<std::string> read_recipients_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(ErrorKind::Usage, "cannot read recipients file " + path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line);
  }
  return out;
}

std::string record_line(const BackupRecord& r) {
  std::string line = util::format_utc(r.backup_date, "%Y-%m-%dT%H:%M:%S") + "\t" + r.backend + "\t" +
                     cli::human_size(static_cast<std::uint64_t>(r.size)) + "\t" + r.stored_filename;
  if (!r.tags.empty()) line += "\t(" + r.tags + ")";
  return line;
}

class Cli {
 public:
  int run(int argc, char** argv);

 private:
  void add_globals(CLI::App* app);
  Options base_options();
  std::optional<std::string> backup_password(const std::string& prompt_flag, bool has_recipients);
  std::function<std::optional<std::string>()> restore_password_prompt(const std::string& prompt_flag);
  int print_retention(const std::vector<RetentionDecision>& decisions, bool dry_run);

  Globals g_;
  std::unique_ptr<cli::TerminalReporter> reporter_;
};

void Cli::add_globals(CLI::App* app) {
  app->add_option("-c,--config", g_.config, "configuration file (default ~/.bakthat.yml)");
  app->add_option("-p,--profile", g_.profile, "profile of the configuration file (default: default)");
  app->add_option("-d,--destination", g_.destination, "local, s3, glacier or swift");
  app->add_flag("-q,--quiet", g_.quiet, "only errors");
  app->add_flag("-v,--verbose", g_.verbose, "more messages");
}

Options Cli::base_options() {
  Options o;
  o.config.path = g_.config;
  o.config.profile = g_.profile;
  o.destination = g_.destination;
  o.reporter = reporter_.get();
  return o;
}

std::optional<std::string> Cli::backup_password(const std::string& prompt_flag, bool has_recipients) {
  // The library takes BAKTHAT_PASSWORD when no password is given: its
  // presence only means there is nothing to ask.
  if (std::getenv("BAKTHAT_PASSWORD")) return std::nullopt;
  if (prompt_flag == "no" || has_recipients || !cli::have_terminal()) return std::nullopt;
  auto first = cli::ask_secret("Password (blank to disable encryption): ");
  if (!first || first->empty()) return std::nullopt;
  auto second = cli::ask_secret("Password confirmation: ");
  if (!second || *second != *first) throw Error(ErrorKind::Usage, "the passwords do not match; nothing was stored");
  return first;
}

std::function<std::optional<std::string>()> Cli::restore_password_prompt(const std::string& prompt_flag) {
  if (prompt_flag == "no") return {};
  return [] { return cli::ask_secret("Password: "); };
}

int Cli::print_retention(const std::vector<RetentionDecision>& decisions, bool dry_run) {
  int failures = 0;
  for (const auto& d : decisions) {
    std::string line;
    if (d.keep) {
      line = "keep   " + d.record.stored_filename;
      if (!d.reasons.empty()) {
        line += "  (";
        for (std::size_t i = 0; i < d.reasons.size(); ++i) line += (i ? ", " : "") + d.reasons[i];
        line += ")";
      }
    } else if (!d.error.empty()) {
      ++failures;
      line = "failed " + d.record.stored_filename + ": " + d.error;
    } else {
      line = (dry_run ? "would delete " : "delete " ) + d.record.stored_filename;
    }
    std::printf("%s\n", line.c_str());
  }
  if (failures) {
    std::fprintf(stderr, "bakthat: %d deletion(s) failed\n", failures);
    return exit_status(ErrorKind::Partial);
  }
  return 0;
}

int Cli::run(int argc, char** argv) {
  CLI::App app{"bakthat: compress, encrypt and store backups on local disk, S3, Glacier and Swift"};
  app.set_version_flag("--version", "bakthat " + version());
  app.require_subcommand(1);
  add_globals(&app);
  app.fallthrough();

  auto sub = [&](const std::string& name, const std::string& help) {
    CLI::App* s = app.add_subcommand(name, help);
    std::string dashed = name;
    for (auto& c : dashed) if (c == '_') c = '-';
    if (dashed != name) s->alias(dashed);
    s->fallthrough();
    return s;
  };

  // backup
  std::string path = ".", name, tags, prompt = "yes", exclude_file, recipients_file, periodic_key;
  std::vector<std::string> recipients, identities;
  bool rr = false;
  CLI::App* backup_cmd = sub("backup", "back up a file, a directory, or standard input (-)");
  backup_cmd->add_option("path", path, "file or directory (default: .), - for standard input");
  backup_cmd->add_option("--name", name, "custom name (required with -)");
  backup_cmd->add_option("-t,--tags", tags, "space-separated tags");
  backup_cmd->add_option("--prompt", prompt, "yes or no: ask for a password")->check(CLI::IsMember({"yes", "no"}));
  backup_cmd->add_option("--exclude-file", exclude_file, "patterns of entries to leave out");
  backup_cmd->add_flag("--s3-reduced-redundancy", rr, "S3 storage class REDUCED_REDUNDANCY");
  backup_cmd->add_option("--recipient", recipients, "age public key (age1...) to encrypt to; repeatable")
      ->allow_extra_args(false);  // one value a time: `--recipient KEY DIR` must leave DIR the path
  backup_cmd->add_option("--recipients-file", recipients_file, "file of age public keys");
  // The Python tool sent this key to BakManager.io (a monitoring service
  // long gone); kept so its command lines still work, and recorded so hooks
  // and `show --json` can use it.
  backup_cmd->add_option("-k,--key", periodic_key, "name of a periodic backup (metadata periodic_key)");

  // restore
  std::string restore_name, output, from_file;
  bool force = false, to_stdout = false, wait = false;
  CLI::App* restore_cmd = sub("restore", "restore the latest backup matching NAME");
  restore_cmd->add_option("name", restore_name, "filename or stored name (prefix)");
  restore_cmd->add_option("-o,--output", output, "directory to restore into (default: .)");
  restore_cmd->add_flag("--force", force, "replace existing files (files the backup does not hold stay)");
  restore_cmd->add_flag("--stdout", to_stdout, "write a single-file or stream backup to standard output");
  restore_cmd->add_option("--from-file", from_file, "restore an archive file that is not in the catalog");
  restore_cmd->add_option("-i,--identity", identities, "age identity file; repeatable")->allow_extra_args(false);
  restore_cmd->add_flag("--wait", wait, "wait for an archive-tier retrieval to finish");
  restore_cmd->add_option("--prompt", prompt, "yes or no: ask for a password")->check(CLI::IsMember({"yes", "no"}));

  // show
  std::string query;
  bool json = false;
  CLI::App* show_cmd = sub("show", "list the backups in the catalog");
  show_cmd->add_option("query", query, "part of a filename or stored name");
  show_cmd->add_option("-t,--tags", tags, "only backups with all these tags");
  show_cmd->add_flag("--json", json, "JSON output");

  // periodic_backups
  CLI::App* periodic_cmd = sub("periodic_backups", "the backups made with -k KEY: how many, how often, the latest");

  // ls
  std::string prefix;
  CLI::App* ls_cmd = sub("ls", "list the objects stored at the destination");
  ls_cmd->add_option("prefix", prefix, "only names starting with this");

  // delete, verify
  std::string target;
  CLI::App* delete_cmd = sub("delete", "delete the latest backup matching NAME");
  delete_cmd->add_option("name", target)->required();
  CLI::App* verify_cmd = sub("verify", "download and check the latest backup matching NAME");
  verify_cmd->add_option("name", target)->required();
  verify_cmd->add_option("-i,--identity", identities, "age identity file; repeatable")->allow_extra_args(false);

  // retention
  std::string interval;
  bool dry_run = false;
  CLI::App* dot_cmd = sub("delete_older_than", "delete the backups matching NAME older than INTERVAL");
  dot_cmd->add_option("name", target)->required();
  dot_cmd->add_option("interval", interval, "e.g. 3M2D8h20m5s (s m h D W M Y)")->required();
  dot_cmd->add_flag("--dry-run", dry_run, "only say what would be deleted");
  CLI::App* rotate_cmd = sub("rotate_backups", "grandfather-father-son rotation of the backups matching NAME");
  rotate_cmd->add_option("name", target)->required();
  rotate_cmd->add_flag("--dry-run", dry_run, "only say what would be kept and deleted");

  // catalog sync
  CLI::App* sync_cmd = sub("sync", "exchange catalog rows with the sync server of the `sync:` block");
  CLI::App* reset_sync_cmd = sub("reset_sync", "forget the sync state: the next sync sends and receives every row");

  // configure
  std::map<std::string, std::string> conf_flags;
  CLI::App* configure_cmd = sub("configure", "write the profile's settings");
  for (const char* key : {"access_key", "secret_key", "s3_bucket", "glacier_vault", "region_name",
                          "default_destination", "auth_url", "auth_version", "s3_endpoint", "local_path"}) {
    std::string flag = std::string("--") + key;
    for (auto& c : flag) if (c == '_') c = '-';
    configure_cmd->add_option(flag, conf_flags[key]);
  }
  std::string days, weeks, months, first_week_day;
  CLI::App* rotation_cmd = sub("configure_backups_rotation", "write the profile's rotation rule");
  rotation_cmd->add_option("--days", days);
  rotation_cmd->add_option("--weeks", weeks);
  rotation_cmd->add_option("--months", months);
  rotation_cmd->add_option("--first-week-day", first_week_day);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "bakthat: %s (see bakthat --help)\n", e.what());
    return exit_status(ErrorKind::Usage);
  }

  reporter_ = std::make_unique<cli::TerminalReporter>(g_.quiet, g_.verbose);

  if (backup_cmd->parsed()) {
    BackupOptions o;
    static_cast<Options&>(o) = base_options();
    o.custom_name = name;
    o.tags = split_words(tags);
    o.exclude_file = exclude_file;
    o.reduced_redundancy = rr;
    if (!periodic_key.empty()) o.extra_metadata["periodic_key"] = periodic_key;
    o.recipients = recipients;
    if (!recipients_file.empty()) {
      auto more = read_recipients_file(recipients_file);
      o.recipients.insert(o.recipients.end(), more.begin(), more.end());
    }
    // Its warnings (a misspelt `recipients:`...) before the password prompt.
    const Profile profile = load_profile(o.config);
    report_config_warnings(*reporter_, profile.warnings);
    bool has_recipients = !o.recipients.empty() || !profile.recipients.empty();
    o.password = backup_password(prompt, has_recipients);
    BackupRecord r;
    if (path == "-") {
      if (name.empty()) throw Error(ErrorKind::Usage, "backup - reads standard input and needs --name NAME");
      StdinSource in;
      r = backup_stream(in, name, o);
    } else {
      r = backup(path, o);
    }
    if (!g_.quiet) std::fprintf(stderr, "Stored %s (%s)\n", r.stored_filename.c_str(),
                                cli::human_size(static_cast<std::uint64_t>(r.size)).c_str());
    if (g_.verbose) {
      std::uint64_t original = r.metadata.value("original_size", std::uint64_t{0});
      std::fprintf(stderr, "  %s files, %s read, sha256 %s\n", r.metadata.value("files", nlohmann::json(0)).dump().c_str(),
                   cli::human_size(original).c_str(), r.metadata.value("sha256", std::string()).c_str());
    }
    int status = 0;
    if (r.metadata.contains("unreadable")) {
      std::fprintf(stderr, "bakthat: %zu file(s) could not be read (named above)\n",
                   r.metadata["unreadable"].size());
      status = exit_status(ErrorKind::Partial);
    }
    if (r.metadata.contains("changed")) {
      std::fprintf(stderr, "bakthat: %zu file(s) changed while they were read\n", r.metadata["changed"].size());
      status = exit_status(ErrorKind::Partial);
    }
    return status;
  }
  if (restore_cmd->parsed()) {
    RestoreOptions o;
    static_cast<Options&>(o) = base_options();
    o.target_dir = output;
    o.force = force;
    o.to_stdout = to_stdout;
    o.wait = wait;
    o.identity_files = identities;
    o.ask_password = restore_password_prompt(prompt);
    StdoutSink out;
    if (to_stdout) o.out = &out;
    RestoreResult r;
    if (!from_file.empty()) {
      r = restore_file(from_file, o);
    } else {
      if (restore_name.empty()) throw Error(ErrorKind::Usage, "restore needs a NAME (or --from-file FILE)");
      r = restore(restore_name, o);
    }
    if (r.state == RestoreState::RetrievalStarted)
      std::fprintf(stderr, "%s is in an archive tier: a retrieval was started; run restore again later (or --wait)\n",
                   r.record.stored_filename.c_str());
    else if (r.state == RestoreState::RetrievalInProgress)
      std::fprintf(stderr, "%s is being retrieved from its archive tier; run restore again later (or --wait)\n",
                   r.record.stored_filename.c_str());
    return 0;
  }
  if (show_cmd->parsed()) {
    ShowOptions o;
    static_cast<Options&>(o) = base_options();
    o.query = query;
    o.tags = split_words(tags);
    o.this_profile_only = !g_.profile.empty();
    o.all_destinations = g_.destination.empty();
    auto rows = show(o);
    if (json) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& r : rows) arr.push_back(r);
      std::printf("%s\n", arr.dump(2).c_str());
    } else {
      for (const auto& r : rows) std::printf("%s\n", record_line(r).c_str());
    }
    return 0;
  }
  if (periodic_cmd->parsed()) {
    ShowOptions o;
    static_cast<Options&>(o) = base_options();
    o.this_profile_only = !g_.profile.empty();
    o.all_destinations = g_.destination.empty();
    auto keys = periodic_backups(o);
    if (keys.empty() && !g_.quiet) std::fputs("No periodic backups (backup -k KEY makes one).\n", stderr);
    for (const auto& p : keys) {
      // The Python tool's line, with the catalog's figures.
      std::string interval = p.interval ? cli::human_duration(p.interval) : "-";
      std::printf("%-20s status: %-5s interval: %-6s total: %-10s latest: %s (%zu backups)\n", p.key.c_str(),
                  p.interval == 0 ? "-" : p.late ? "late" : "ok", interval.c_str(),
                  cli::human_size(static_cast<std::uint64_t>(p.total_size)).c_str(),
                  util::format_utc(p.latest, "%Y-%m-%dT%H:%M:%S").c_str(), p.count);
    }
    return 0;
  }
  if (ls_cmd->parsed()) {
    for (const auto& obj : ls(prefix, base_options())) std::printf("%s\n", obj.name.c_str());
    return 0;
  }
  if (delete_cmd->parsed()) {
    remove(target, base_options());
    return 0;
  }
  if (verify_cmd->parsed()) {
    Options o = base_options();
    o.identity_files = identities;
    o.ask_password = restore_password_prompt("yes");
    auto r = verify(target, o);
    if (!g_.quiet) std::fprintf(stderr, "%s is intact\n", r.stored_filename.c_str());
    return 0;
  }
  if (dot_cmd->parsed() || rotate_cmd->parsed()) {
    RetentionOptions o;
    static_cast<Options&>(o) = base_options();
    o.dry_run = dry_run;
    auto decisions = dot_cmd->parsed() ? delete_older_than(target, interval, o) : rotate_backups(target, o);
    return print_retention(decisions, dry_run);
  }
  if (sync_cmd->parsed()) {
    SyncOptions o;
    static_cast<Options&>(o) = base_options();
    sync_catalog(o);
    return 0;
  }
  if (reset_sync_cmd->parsed()) {
    reset_sync(base_options());
    if (!g_.quiet) std::fputs("Sync state reset: the next sync sends and receives every row\n", stderr);
    return 0;
  }
  if (configure_cmd->parsed()) {
    ConfigSource src{g_.config, g_.profile, std::nullopt};
    std::map<std::string, std::string> values;
    bool any_flag = false;
    for (auto& [k, v] : conf_flags) if (!v.empty()) any_flag = true;
    if (any_flag) {
      for (auto& [k, v] : conf_flags) if (!v.empty()) values[k] = v;
    } else {
      values["access_key"] = cli::ask_line("AWS Access Key");
      auto secret = cli::have_terminal() ? cli::ask_secret("AWS Secret Key: ") : std::nullopt;
      values["secret_key"] = secret ? *secret : cli::ask_line("AWS Secret Key");
      values["s3_bucket"] = cli::ask_line("S3 Bucket Name");
      values["glacier_vault"] = cli::ask_line("Glacier Vault Name");
      values["default_destination"] = cli::ask_line("Default destination (s3, glacier, swift, local)",
                                                    values["s3_bucket"].empty() ? "local" : "s3");
      values["region_name"] = cli::ask_line("Region Name", "us-east-1");
      if (values["default_destination"] == "swift") {
        values["auth_url"] = cli::ask_line("Swift auth URL");
        values["auth_version"] = cli::ask_line("Swift auth version (1, 2 or 3)", "1");
      }
    }
    for (auto it = values.begin(); it != values.end();) it = it->second.empty() ? values.erase(it) : std::next(it);
    // Check the answers with the config reader before anything is written.
    std::string yaml;
    for (const auto& [k, v] : values) yaml += k + ": " + nlohmann::json(v).dump() + "\n";
    load_profile({"", "", yaml.empty() ? std::string("{}") : yaml});
    std::string file = config_path(src);
    save_profile_keys(file, g_.profile.empty() ? "default" : g_.profile, values);
    if (!g_.quiet) std::fprintf(stderr, "Config written in %s\n", file.c_str());
    return 0;
  }
  if (rotation_cmd->parsed()) {
    ConfigSource src{g_.config, g_.profile, std::nullopt};
    bool any = !days.empty() || !weeks.empty() || !months.empty() || !first_week_day.empty();
    if (!any) {
      std::fputs("Rotation configuration (backups are kept for the last N days, weeks and months):\n", stderr);
      days = cli::ask_line("Number of days to keep", "7");
      weeks = cli::ask_line("Number of weeks to keep", "4");
      months = cli::ask_line("Number of months to keep", "6");
      first_week_day = cli::ask_line("First week day (to calculate weekly backups)", "saturday");
    }
    std::string yaml = "rotation:\n";
    auto add = [&](const char* k, const std::string& v) { if (!v.empty()) yaml += std::string("  ") + k + ": " + v + "\n"; };
    add("days", days);
    add("weeks", weeks);
    add("months", months);
    add("first_week_day", first_week_day.empty() ? "5" : first_week_day);
    // Parse through the config reader so the values are checked like the file's.
    Profile parsed = load_profile({"", "", yaml});
    std::string file = config_path(src);
    save_rotation(file, g_.profile.empty() ? "default" : g_.profile, parsed.rotation);
    if (!g_.quiet) std::fprintf(stderr, "Rotation written in %s\n", file.c_str());
    return 0;
  }
  return exit_status(ErrorKind::Usage);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  Cli cli;
  try {
    int status = cli.run(argc, argv);
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
    return exit_status(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bakthat: unexpected error: %s\n", e.what());
    return 1;
  }
}
