#include <cstdlib>
#include <fstream>

#include "cli/command.hpp"

namespace bakthat::cli {

Options Context::base_options() const {
  Options o;
  o.config.path = globals.config;
  o.config.profile = globals.profile;
  o.destination = globals.destination;
  o.reporter = reporter.get();
  o.cancel = cancel;
  return o;
}

std::optional<std::string> Context::backup_password(const std::string& prompt_flag, const Profile& profile,
                                                    bool has_recipients) const {
  // The library takes BAKTHAT_PASSWORD or runs password_command when no
  // password is given: their presence only means there is nothing to ask.
  if (std::getenv("BAKTHAT_PASSWORD") || !profile.password_command.empty() || !profile.prompt) return std::nullopt;
  if (prompt_flag == "no" || has_recipients || !have_terminal()) return std::nullopt;
  auto first = ask_secret("Password (blank to disable encryption): ");
  check_cancel(cancel);  // Ctrl-C ends the read (EINTR): no second prompt
  if (!first || first->empty()) return std::nullopt;
  auto second = ask_secret("Password confirmation: ");
  if (!second || *second != *first) throw Error(ErrorKind::Usage, "the passwords do not match; nothing was stored");
  return first;
}

std::function<std::optional<std::string>()> Context::restore_password_prompt(const std::string& prompt_flag) {
  if (prompt_flag == "no") return {};
  return [] { return ask_secret("Password: "); };
}

std::string read_password_file(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line)) throw Error(ErrorKind::Usage, "cannot read a password from " + path);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw Error(ErrorKind::Usage, "the password file " + path + " starts with an empty line");
  return line;
}

std::vector<std::string> split_words(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& s : values) {
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
  }
  return out;
}

}  // namespace bakthat::cli
