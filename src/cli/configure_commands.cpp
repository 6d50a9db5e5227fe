// configure and configure_backups_rotation: write a profile's settings,
// from flags or, with none given, from the Python tool's questions. The
// answers go through the config reader before anything is written, so they
// are checked as the file's own values are.
#include <cstdio>
#include <map>

#include "cli/command.hpp"

namespace bakthat::cli {
namespace {

class ConfigureCommand : public Command {
 public:
  ConfigureCommand() : Command("configure", "write the profile's settings") {}

  void declare(CLI::App& sub) override {
    for (const char* key : {"access_key", "secret_key", "s3_bucket", "glacier_vault", "region_name",
                            "default_destination", "auth_url", "auth_version", "s3_endpoint", "local_path"}) {
      std::string flag = std::string("--") + key;
      for (auto& c : flag)
        if (c == '_') c = '-';
      sub.add_option(flag, flags_[key]);
    }
  }

  int run(Context& context) override {
    std::map<std::string, std::string> values;
    for (const auto& [k, v] : flags_)
      if (!v.empty()) values[k] = v;
    if (values.empty()) values = ask();
    for (auto it = values.begin(); it != values.end();) it = it->second.empty() ? values.erase(it) : std::next(it);
    std::string yaml;
    for (const auto& [k, v] : values) yaml += k + ": " + nlohmann::json(v).dump() + "\n";
    load_profile({"", "", yaml.empty() ? std::string("{}") : yaml});
    const Globals& g = context.globals;
    std::string file = config_path({g.config, g.profile, std::nullopt});
    save_profile_keys(file, context.profile_or_default(), values);
    if (!g.quiet) std::fprintf(stderr, "Config written in %s\n", file.c_str());
    return 0;
  }

 private:
  static std::map<std::string, std::string> ask() {
    std::map<std::string, std::string> values;
    values["access_key"] = ask_line("AWS Access Key");
    auto secret = have_terminal() ? ask_secret("AWS Secret Key: ") : std::nullopt;
    values["secret_key"] = secret ? *secret : ask_line("AWS Secret Key");
    values["s3_bucket"] = ask_line("S3 Bucket Name");
    values["glacier_vault"] = ask_line("Glacier Vault Name");
    values["default_destination"] =
        ask_line("Default destination (s3, glacier, swift, local)", values["s3_bucket"].empty() ? "local" : "s3");
    values["region_name"] = ask_line("Region Name", "us-east-1");
    if (values["default_destination"] == "swift") {
      values["auth_url"] = ask_line("Swift auth URL");
      values["auth_version"] = ask_line("Swift auth version (1, 2 or 3)", "1");
    }
    return values;
  }

  std::map<std::string, std::string> flags_;
};

class ConfigureRotationCommand : public Command {
 public:
  ConfigureRotationCommand() : Command("configure_backups_rotation", "write the profile's rotation rule") {}

  void declare(CLI::App& sub) override {
    sub.add_option("--days", days_);
    sub.add_option("--weeks", weeks_);
    sub.add_option("--months", months_);
    sub.add_option("--first-week-day", first_week_day_);
  }

  int run(Context& context) override {
    if (days_.empty() && weeks_.empty() && months_.empty() && first_week_day_.empty()) {
      std::fputs("Rotation configuration (backups are kept for the last N days, weeks and months):\n", stderr);
      days_ = ask_line("Number of days to keep", "7");
      weeks_ = ask_line("Number of weeks to keep", "4");
      months_ = ask_line("Number of months to keep", "6");
      first_week_day_ = ask_line("First week day (to calculate weekly backups)", "saturday");
    }
    std::string yaml = "rotation:\n";
    auto add = [&](const char* k, const std::string& v) {
      if (!v.empty()) yaml += std::string("  ") + k + ": " + v + "\n";
    };
    add("days", days_);
    add("weeks", weeks_);
    add("months", months_);
    add("first_week_day", first_week_day_.empty() ? "5" : first_week_day_);
    Profile parsed = load_profile({"", "", yaml});
    const Globals& g = context.globals;
    std::string file = config_path({g.config, g.profile, std::nullopt});
    save_rotation(file, context.profile_or_default(), parsed.rotation);
    if (!g.quiet) std::fprintf(stderr, "Rotation written in %s\n", file.c_str());
    return 0;
  }

 private:
  std::string days_, weeks_, months_, first_week_day_;
};

}  // namespace

void add_configure_commands(std::vector<std::unique_ptr<Command>>& out) {
  out.push_back(std::make_unique<ConfigureCommand>());
  out.push_back(std::make_unique<ConfigureRotationCommand>());
}

}  // namespace bakthat::cli
