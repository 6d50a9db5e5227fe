#include <cstdlib>

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

std::optional<std::string> Context::backup_password(const std::string& prompt_flag, bool has_recipients) const {
  // The library takes BAKTHAT_PASSWORD when no password is given: its
  // presence only means there is nothing to ask.
  if (std::getenv("BAKTHAT_PASSWORD")) return std::nullopt;
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

}  // namespace bakthat::cli
