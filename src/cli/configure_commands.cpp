// configure and configure_backups_rotation: write a profile's settings,
// from flags or, with none given, from the Python tool's questions. Enter
// keeps the value the profile has; each answer goes through the config
// reader when it is given, so a bad one is asked again instead of failing
// once every question was answered.
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>

#include "cli/command.hpp"

namespace bakthat::cli {
namespace {

// A secret as `aws configure` shows the one it keeps: its last four
// characters only, and none of a short one.
std::string masked(const std::string& secret) {
  if (secret.empty()) return "";
  return "****" + (secret.size() > 8 ? secret.substr(secret.size() - 4) : std::string());
}

// Throws the config reader's error when these keys (a profile's YAML) are
// not a valid profile.
void check_profile_yaml(const std::string& yaml) { load_profile({"", "", yaml.empty() ? std::string("{}") : yaml}); }

std::string as_yaml(const std::map<std::string, std::string>& values) {
  std::string yaml;
  for (const auto& [k, v] : values)
    if (!v.empty()) yaml += k + ": " + nlohmann::json(v).dump() + "\n";
  return yaml;
}

// Asks until `check` accepts the answer; a rejected one prints the reason
// and the question comes again. Without a terminal to answer on, the first
// rejection is the error.
std::string ask_until_valid(const std::function<std::string()>& ask,
                            const std::function<void(const std::string&)>& check) {
  for (;;) {
    std::string answer = ask();
    try {
      check(answer);
      return answer;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted || !::isatty(STDIN_FILENO)) throw;
      std::fprintf(stderr, "bakthat: %s\n", e.what());
    }
  }
}

// The config file and profile configure writes to, as the globals say.
std::string config_file(const Context& context) {
  const Globals& g = context.globals;
  return config_path({g.config, g.profile, std::nullopt});
}

class ConfigureCommand : public Command {
 public:
  ConfigureCommand() : Command("configure", "write the profile's settings (asks for them when no flag is given)") {}

  void declare(CLI::App& sub) override {
    for (const auto& [key, help] : kKeys) {
      std::string flag = std::string("--") + key;
      for (auto& c : flag)
        if (c == '_') c = '-';
      sub.add_option(flag, flags_[key], help);
    }
  }

  int run(Context& context) override {
    const std::string file = config_file(context);
    std::map<std::string, std::string> values;
    for (const auto& [k, v] : flags_)
      if (!v.empty()) values[k] = v;
    const auto written = profile_as_written(file, context.profile_or_default());
    if (values.empty()) values = ask(written);
    check_profile_yaml(as_yaml(values));
    // The Python tool reads glacier_vault unconditionally: an empty one is
    // written, not left out, and flags that do not name it add it to a
    // profile without one.
    if (!written.count("glacier_vault")) values.try_emplace("glacier_vault", "");
    for (auto it = values.begin(); it != values.end();)
      it = it->second.empty() && it->first != "glacier_vault" ? values.erase(it) : std::next(it);
    save_profile_keys(file, context.profile_or_default(), values);
    if (!context.globals.quiet) std::fprintf(stderr, "Config written in %s\n", file.c_str());
    return 0;
  }

 private:
  static constexpr std::pair<const char*, const char*> kKeys[] = {
      {"access_key", "AWS access key (S3, Glacier)"},
      {"secret_key", "AWS secret key"},
      {"s3_bucket", "S3 bucket"},
      {"glacier_vault", "Glacier vault"},
      {"region_name", "AWS region"},
      {"default_destination", "local, s3, glacier or swift"},
      {"auth_url", "Swift auth URL"},
      {"auth_version", "Swift auth version: 1, 2 or 3"},
      {"s3_endpoint", "S3 endpoint URL (an S3-compatible service)"},
      {"local_path", "directory of the local destination"},
  };

  // The Python tool's questions, each offering the profile's current value.
  static std::map<std::string, std::string> ask(const std::map<std::string, std::string>& current) {
    std::map<std::string, std::string> values;
    auto now = [&](const std::string& key, const std::string& otherwise = "") {
      auto it = current.find(key);
      return it != current.end() && !it->second.empty() ? it->second : otherwise;
    };
    // Each answer is checked with those before it (default_destination s3
    // needs the bucket given earlier).
    auto question = [&](const std::string& key, const std::string& prompt, const std::string& default_value,
                        bool secret = false) {
      values[key] = ask_until_valid(
          [&] {
            if (!secret) return ask_line(prompt, default_value);
            std::string shown = masked(default_value);
            if (have_terminal()) {
              auto typed = ask_secret(prompt + (shown.empty() ? "" : " [" + shown + "]") + ": ");
              return typed && !typed->empty() ? *typed : default_value;
            }
            return ask_line(prompt, default_value, shown);
          },
          [&](const std::string& answer) {
            auto trial = values;
            trial[key] = answer;
            check_profile_yaml(as_yaml(trial));
          });
    };
    question("access_key", "AWS Access Key", now("access_key"), true);
    question("secret_key", "AWS Secret Key", now("secret_key"), true);
    question("s3_bucket", "S3 Bucket Name", now("s3_bucket"));
    question("glacier_vault", "Glacier Vault Name", now("glacier_vault"));
    question("default_destination", "Default destination (s3, glacier, swift, local)",
             now("default_destination", values["s3_bucket"].empty() ? "local" : "s3"));
    question("region_name", "Region Name", now("region_name", "us-east-1"));
    if (values["default_destination"] == "swift") {
      question("auth_url", "Swift auth URL", now("auth_url"));
      question("auth_version", "Swift auth version (1, 2 or 3)", now("auth_version", "1"));
    }
    return values;
  }

  std::map<std::string, std::string> flags_;
};

class ConfigureRotationCommand : public Command {
 public:
  ConfigureRotationCommand()
      : Command("configure_backups_rotation",
                "write the profile's rotation rule (asks for it when no flag is given; a flag changes only its "
                "own value)") {}

  void declare(CLI::App& sub) override {
    sub.add_option("--days", days_, "daily backups to keep");
    sub.add_option("--weeks", weeks_, "weekly backups to keep");
    sub.add_option("--months", months_, "monthly backups to keep");
    sub.add_option("--first-week-day", first_week_day_, "day weeks start on: a name (saturday) or 0..6, Monday = 0");
  }

  int run(Context& context) override {
    const std::string file = config_file(context);
    // The rule in force; none yet (or no profile yet): the Python tool's
    // suggestions.
    Rotation current;
    bool have_current = false;
    if (!profile_as_written(file, context.profile_or_default()).empty() ||
        context.profile_or_default() == "default") {
      current = load_profile({context.globals.config, context.globals.profile, std::nullopt}).rotation;
      have_current = current.configured();
    }
    std::map<std::string, std::string> rule = {
        {"days", have_current ? std::to_string(current.days) : "7"},
        {"weeks", have_current ? std::to_string(current.weeks) : "4"},
        {"months", have_current ? std::to_string(current.months) : "6"},
        {"first_week_day", !have_current                        ? "saturday"
                           : current.first_week_day_name.empty() ? std::to_string(current.first_week_day)
                                                                 : current.first_week_day_name},
    };
    if (days_.empty() && weeks_.empty() && months_.empty() && first_week_day_.empty()) {
      std::fputs("Rotation configuration (backups are kept for the last N days, weeks and months):\n", stderr);
      const std::pair<const char*, const char*> questions[] = {
          {"days", "Number of days to keep"},
          {"weeks", "Number of weeks to keep"},
          {"months", "Number of months to keep"},
          {"first_week_day", "First week day (to calculate weekly backups)"}};
      for (const auto& [key, prompt] : questions)
        rule[key] = ask_until_valid([&, key = key, prompt = prompt] { return ask_line(prompt, rule[key]); },
                                    [&, key = key](const std::string& answer) {
                                      parse_rule(current, rule, key, answer);
                                    });
    } else {
      const std::pair<const char*, const std::string*> flags[] = {
          {"days", &days_}, {"weeks", &weeks_}, {"months", &months_}, {"first_week_day", &first_week_day_}};
      for (const auto& [key, flag] : flags)
        if (!flag->empty()) rule[key] = *flag;
    }
    save_rotation(file, context.profile_or_default(), parse_rule(current, rule));
    if (!context.globals.quiet) std::fprintf(stderr, "Rotation written in %s\n", file.c_str());
    return 0;
  }

 private:
  // `current` with the four keys of `rule` (one replaced by `answer` when
  // `key` is given), read and checked as the file's own `rotation:` is.
  static Rotation parse_rule(const Rotation& current, std::map<std::string, std::string> rule,
                             const std::string& key = "", const std::string& answer = "") {
    if (!key.empty()) rule[key] = answer;
    std::string yaml = "rotation:\n";
    for (const auto& [k, v] : rule) yaml += "  " + k + ": " + v + "\n";
    Rotation parsed = load_profile({"", "", yaml}).rotation;
    // The finer units, which only the file sets, stay as they are.
    parsed.years = current.years;
    parsed.hours = current.hours;
    parsed.minutes = current.minutes;
    parsed.seconds = current.seconds;
    return parsed;
  }

  std::string days_, weeks_, months_, first_week_day_;
};

}  // namespace

void add_configure_commands(std::vector<std::unique_ptr<Command>>& out) {
  out.push_back(std::make_unique<ConfigureCommand>());
  out.push_back(std::make_unique<ConfigureRotationCommand>());
}

}  // namespace bakthat::cli
