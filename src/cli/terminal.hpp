// The command line's side of reporting and asking: messages and progress on
// standard error, prompts on the terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bakthat/bakthat.hpp"

namespace bakthat::cli {

// Messages on stderr (unless quiet); a progress bar with rate and ETA when
// stderr is a terminal, "Upload completion: N%" lines otherwise with -v.
class TerminalReporter : public Reporter {
 public:
  TerminalReporter(bool quiet, bool verbose);
  void message(const std::string& text) override;
  void warning(const std::string& text) override;
  void detail(const std::string& text) override;
  void progress_start(const std::string& label, std::uint64_t total) override;
  void progress_total(std::uint64_t total) override;
  void progress(std::uint64_t done) override;
  void progress_end() override;
  // An error ends the run: a bar on the terminal is wiped so that the
  // error's line starts at the margin.
  void abandon();
  bool warned() const { return warned_; }

 private:
  void draw(bool final);

  bool quiet_, verbose_, tty_;
  bool warned_ = false;
  bool active_ = false;
  std::string label_;
  std::uint64_t total_ = 0, done_ = 0;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Whether a terminal can be asked (/dev/tty opens).
bool have_terminal();
// The prompts: Ctrl-C at one throws Error(Interrupted) at once.
// Reads a line from the terminal without echo. nullopt when there is no terminal.
std::optional<std::string> ask_secret(const std::string& prompt);
// Reads a line from standard input, or the default when it is blank or the
// input ended; the prompt shows `shown_default` (a masked secret) in its
// place when given.
std::string ask_line(const std::string& prompt, const std::string& default_value = "",
                     const std::string& shown_default = "");

std::string human_size(std::uint64_t bytes);
// The largest whole unit of an interval: "1D", "3h", "2W" (the units of
// interval strings, parse_interval).
std::string human_duration(std::int64_t seconds);

}  // namespace bakthat::cli
