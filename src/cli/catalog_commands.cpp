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
  // A backup that left files out, or holds files that changed while they
  // were read, says so (the counts; older rows only have the lists).
  auto count = [&](const char* list, const char* counted) -> std::uint64_t {
    auto n = r.metadata.find(counted);
    if (n != r.metadata.end() && n->is_number_unsigned()) return n->get<std::uint64_t>();
    auto l = r.metadata.find(list);
    return l != r.metadata.end() && l->is_array() ? l->size() : 0;
  };
  std::string flags;
  if (auto n = count("unreadable", "unreadable_count")) flags += std::to_string(n) + " unreadable file(s) left out";
  if (auto n = count("changed", "changed_count"))
    flags += (flags.empty() ? "" : ", ") + std::to_string(n) + " file(s) changed while read";
  if (!flags.empty()) line += "\t[" + flags + "]";
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
    sub.add_option("-t,--tags", tags_, "only backups with all these tags (separated by spaces, or one -t each)")
        ->allow_extra_args(false);
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
      if (rows.empty() && !context.globals.quiet)
        std::fputs(query_.empty() && tags_.empty() ? "No backups in the catalog.\n" : "No backup matched.\n", stderr);
    }
    return 0;
  }

 private:
  std::string query_;
  std::vector<std::string> tags_;
  bool json_ = false;
};

class PeriodicBackupsCommand : public Command {
 public:
  PeriodicBackupsCommand()
      : Command("periodic_backups", "the backups made with -k KEY: how many, how often, the latest") {}

  void declare(CLI::App& sub) override { sub.add_flag("--json", json_, "JSON output"); }

  int run(Context& context) override {
    auto keys = periodic_backups(show_options(context));
    if (json_) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& p : keys)
        arr.push_back({{"key", p.key}, {"count", p.count}, {"total_size", p.total_size}, {"latest", p.latest},
                       {"interval", p.interval}, {"late", p.late}});
      std::printf("%s\n", arr.dump(2).c_str());
      return 0;
    }
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

 private:
  bool json_ = false;
};

class LsCommand : public Command {
 public:
  LsCommand() : Command("ls", "list the objects stored at the destination") {}

  void declare(CLI::App& sub) override {
    sub.add_option("prefix", prefix_, "only names starting with this");
    sub.add_flag("--json", json_, "JSON output: name, size, modified, storage_class of each");
  }

  int run(Context& context) override {
    auto objects = ls(prefix_, context.base_options());
    if (json_) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& o : objects)
        arr.push_back({{"name", o.name}, {"size", o.size}, {"modified", o.modified}, {"storage_class", o.storage_class}});
      std::printf("%s\n", arr.dump(2).c_str());
      return 0;
    }
    for (const auto& obj : objects) std::printf("%s\n", obj.name.c_str());
    if (objects.empty() && !context.globals.quiet)
      std::fprintf(stderr, "Nothing stored in %s%s.\n", location(context.base_options()).c_str(),
                   prefix_.empty() ? "" : (" under " + prefix_).c_str());
    return 0;
  }

 private:
  std::string prefix_;
  bool json_ = false;
};

class DeleteCommand : public Command {
 public:
  DeleteCommand() : Command("delete", "delete the latest backup matching NAME") {}

  void declare(CLI::App& sub) override {
    sub.add_option("name", name_, "the backup: its whole name, or a stored name")->required();
  }

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
    sub.add_option("name", name_, "the backups' whole name (a start of it must name only one)")->required();
    declare_more(sub);
    sub.add_flag("--dry-run", dry_run_, dry_run_help_);
    sub.add_flag("--json", json_, "JSON output: each backup's row, whether it is kept, why, and any error");
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
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& d : decisions) {
      if (!d.error.empty()) ++failures;
      if (json_) {
        arr.push_back({{"record", d.record}, {"keep", d.keep}, {"reasons", d.reasons}, {"error", d.error}});
        continue;
      }
      std::string line;
      if (d.keep) {
        line = "keep   " + d.record.stored_filename;
        if (!d.reasons.empty()) {
          line += "  (";
          for (std::size_t i = 0; i < d.reasons.size(); ++i) line += (i ? ", " : "") + d.reasons[i];
          line += ")";
        }
      } else if (!d.error.empty()) {
        line = "failed " + d.record.stored_filename + ": " + d.error;
      } else {
        line = (dry_run_ ? "would delete " : "delete ") + d.record.stored_filename;
      }
      std::printf("%s\n", line.c_str());
    }
    if (json_) std::printf("%s\n", arr.dump(2).c_str());
    if (failures) {
      std::fprintf(stderr, "bakthat: %d deletion(s) failed\n", failures);
      return exit_status(ErrorKind::Partial);
    }
    return 0;
  }

  std::string dry_run_help_;
  bool dry_run_ = false, json_ = false;
};

class DeleteOlderThanCommand : public RetentionCommand {
 public:
  DeleteOlderThanCommand()
      : RetentionCommand("delete_older_than", "delete the backups matching NAME older than INTERVAL",
                         "only say what would be deleted") {}

 private:
  void declare_more(CLI::App& sub) override {
    sub.add_option("interval", interval_, "e.g. 3M2D8h20m5s: s, m (minutes), h, d, w, M (months), y")->required();
    sub.add_flag("--all", all_, "the newest backup too, when it is older (otherwise it is always kept)");
  }
  std::vector<RetentionDecision> decide(const RetentionOptions& o) override {
    RetentionOptions with_newest = o;
    with_newest.include_newest = all_;
    return delete_older_than(name_, interval_, with_newest);
  }
  std::string interval_;
  bool all_ = false;
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
