// show, periodic_backups, ls, delete, delete_older_than, rotate_backups,
// sync and reset_sync: the commands that read or change what is stored
// without moving archive bytes.
#include <cstdio>

#include "cli/command.hpp"
#include "util/time.hpp"

namespace bakthat::cli {
namespace {

// The Python tool's `show` line: ISO date, backend, size, stored name, (tags).
std::string record_line(const BackupRecord& r) {
  std::string line = util::format_utc(r.backup_date, "%Y-%m-%dT%H:%M:%S") + "\t" + r.backend + "\t" +
                     human_size(static_cast<std::uint64_t>(r.size)) + "\t" + r.stored_filename;
  if (!r.tags.empty()) line += "\t(" + r.tags + ")";
  return line;
}

// show and periodic_backups: every profile's rows unless -p names one, every
// destination's unless -d names one.
ShowOptions show_options(const Context& context) {
  auto o = context.options<ShowOptions>();
  o.this_profile_only = !context.globals.profile.empty();
  o.all_destinations = context.globals.destination.empty();
  return o;
}

class ShowCommand : public Command {
 public:
  ShowCommand() : Command("show", "list the backups in the catalog") {}

  void declare(CLI::App& sub) override {
    sub.add_option("query", query_, "part of a filename or stored name");
    sub.add_option("-t,--tags", tags_, "only backups with all these tags");
    sub.add_flag("--json", json_, "JSON output");
  }

  int run(Context& context) override {
    ShowOptions o = show_options(context);
    o.query = query_;
    o.tags = split_words(tags_);
    auto rows = show(o);
    if (json_) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& r : rows) arr.push_back(r);
      std::printf("%s\n", arr.dump(2).c_str());
    } else {
      for (const auto& r : rows) std::printf("%s\n", record_line(r).c_str());
    }
    return 0;
  }

 private:
  std::string query_, tags_;
  bool json_ = false;
};

class PeriodicBackupsCommand : public Command {
 public:
  PeriodicBackupsCommand()
      : Command("periodic_backups", "the backups made with -k KEY: how many, how often, the latest") {}

  int run(Context& context) override {
    auto keys = periodic_backups(show_options(context));
    if (keys.empty() && !context.globals.quiet) std::fputs("No periodic backups (backup -k KEY makes one).\n", stderr);
    for (const auto& p : keys) {
      // The Python tool's line, with the catalog's figures.
      std::string interval = p.interval ? human_duration(p.interval) : "-";
      std::printf("%-20s status: %-5s interval: %-6s total: %-10s latest: %s (%zu backups)\n", p.key.c_str(),
                  p.interval == 0 ? "-" : p.late ? "late" : "ok", interval.c_str(),
                  human_size(static_cast<std::uint64_t>(p.total_size)).c_str(),
                  util::format_utc(p.latest, "%Y-%m-%dT%H:%M:%S").c_str(), p.count);
    }
    return 0;
  }
};

class LsCommand : public Command {
 public:
  LsCommand() : Command("ls", "list the objects stored at the destination") {}

  void declare(CLI::App& sub) override { sub.add_option("prefix", prefix_, "only names starting with this"); }

  int run(Context& context) override {
    for (const auto& obj : ls(prefix_, context.base_options())) std::printf("%s\n", obj.name.c_str());
    return 0;
  }

 private:
  std::string prefix_;
};

class DeleteCommand : public Command {
 public:
  DeleteCommand() : Command("delete", "delete the latest backup matching NAME") {}

  void declare(CLI::App& sub) override { sub.add_option("name", name_)->required(); }

  int run(Context& context) override {
    remove(name_, context.base_options());
    return 0;
  }

 private:
  std::string name_;
};

// delete_older_than and rotate_backups: a decision a row, printed as it was
// carried out; a failed deletion makes the status non-zero.
class RetentionCommand : public Command {
 public:
  RetentionCommand(std::string name, std::string help, std::string dry_run_help)
      : Command(std::move(name), std::move(help)), dry_run_help_(std::move(dry_run_help)) {}

  void declare(CLI::App& sub) override {
    sub.add_option("name", name_)->required();
    declare_more(sub);
    sub.add_flag("--dry-run", dry_run_, dry_run_help_);
  }

  int run(Context& context) override {
    auto o = context.options<RetentionOptions>();
    o.dry_run = dry_run_;
    return print(decide(o));
  }

 protected:
  virtual void declare_more(CLI::App&) {}
  virtual std::vector<RetentionDecision> decide(const RetentionOptions& o) = 0;
  std::string name_;

 private:
  int print(const std::vector<RetentionDecision>& decisions) const {
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
        line = (dry_run_ ? "would delete " : "delete ") + d.record.stored_filename;
      }
      std::printf("%s\n", line.c_str());
    }
    if (failures) {
      std::fprintf(stderr, "bakthat: %d deletion(s) failed\n", failures);
      return exit_status(ErrorKind::Partial);
    }
    return 0;
  }

  std::string dry_run_help_;
  bool dry_run_ = false;
};

class DeleteOlderThanCommand : public RetentionCommand {
 public:
  DeleteOlderThanCommand()
      : RetentionCommand("delete_older_than", "delete the backups matching NAME older than INTERVAL",
                         "only say what would be deleted") {}

 private:
  void declare_more(CLI::App& sub) override {
    sub.add_option("interval", interval_, "e.g. 3M2D8h20m5s (s m h D W M Y)")->required();
  }
  std::vector<RetentionDecision> decide(const RetentionOptions& o) override {
    return delete_older_than(name_, interval_, o);
  }
  std::string interval_;
};

class RotateBackupsCommand : public RetentionCommand {
 public:
  RotateBackupsCommand()
      : RetentionCommand("rotate_backups", "grandfather-father-son rotation of the backups matching NAME",
                         "only say what would be kept and deleted") {}

 private:
  std::vector<RetentionDecision> decide(const RetentionOptions& o) override { return rotate_backups(name_, o); }
};

class SyncCommand : public Command {
 public:
  SyncCommand()
      : Command("sync", "exchange catalog rows with the destination, or the sync server of the `sync:` block") {}

  void declare(CLI::App& sub) override {
    sub.add_flag("--all-objects", all_objects_,
                 "also give a row to every object of the destination that has none (lists them all)");
  }

  int run(Context& context) override {
    auto o = context.options<SyncOptions>();
    o.adopt_all = all_objects_;
    sync_catalog(o);
    return 0;
  }

 private:
  bool all_objects_ = false;
};

class ResetSyncCommand : public Command {
 public:
  ResetSyncCommand()
      : Command("reset_sync", "forget the sync state: the next sync sends and receives every row") {}

  int run(Context& context) override {
    reset_sync(context.base_options());
    if (!context.globals.quiet) std::fputs("Sync state reset: the next sync sends and receives every row\n", stderr);
    return 0;
  }
};

}  // namespace

void add_catalog_commands(std::vector<std::unique_ptr<Command>>& out) {
  out.push_back(std::make_unique<ShowCommand>());
  out.push_back(std::make_unique<PeriodicBackupsCommand>());
  out.push_back(std::make_unique<LsCommand>());
  out.push_back(std::make_unique<DeleteCommand>());
  out.push_back(std::make_unique<DeleteOlderThanCommand>());
  out.push_back(std::make_unique<RotateBackupsCommand>());
  out.push_back(std::make_unique<SyncCommand>());
  out.push_back(std::make_unique<ResetSyncCommand>());
}

}  // namespace bakthat::cli
