#include "cli/terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <algorithm>
#include <cstdio>
#include <vector>

namespace bakthat::cli {

TerminalReporter::TerminalReporter(bool quiet, bool verbose)
    : quiet_(quiet), verbose_(verbose), tty_(::isatty(STDERR_FILENO) == 1) {}

void TerminalReporter::message(const std::string& text) {
  if (quiet_) return;
  if (active_ && tty_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "%s\n", text.c_str());
}

void TerminalReporter::detail(const std::string& text) {
  if (verbose_) message(text);
}

void TerminalReporter::warning(const std::string& text) {
  warned_ = true;
  if (active_ && tty_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "warning: %s\n", text.c_str());
}

void TerminalReporter::progress_start(const std::string& label, std::uint64_t total) {
  label_ = label;
  total_ = total;
  done_ = 0;
  last_percent_ = -1;
  active_ = true;
  start_ = last_draw_ = std::chrono::steady_clock::now();
  if (!quiet_ && !tty_ && total_ > 0) draw(false);
}

void TerminalReporter::progress_total(std::uint64_t total) {
  total_ = total;
  if (!quiet_ && active_ && total_ > 0) draw(false);
}

void TerminalReporter::progress(std::uint64_t done) {
  done_ = done;
  if (quiet_ || !active_) return;
  if (tty_) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
  }
  draw(false);
}

void TerminalReporter::progress_end() {
  if (!quiet_ && active_) draw(true);
  active_ = false;
}

void TerminalReporter::abandon() {
  if (active_ && tty_ && !quiet_) std::fputs("\r\033[K", stderr);
  active_ = false;
}

void TerminalReporter::draw(bool final) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0;
  int percent = total_ ? static_cast<int>(std::min<std::uint64_t>(100, done_ * 100 / total_)) : -1;
  if (final && total_) percent = 100;
  if (!tty_) {
    // Without a terminal (cron mail, a log) only with -v: one line each 10%,
    // as the original's "Upload completion" log lines.
    if (percent < 0 || !verbose_) return;
    int step = percent / 10 * 10;
    if (step == last_percent_ || (!final && step == 100)) return;
    last_percent_ = step;
    std::string what = label_ == "Downloading" ? "Download"
                       : label_ == "Reading"   ? "Read"
                       : label_ == "Writing"   ? "Write"
                                               : "Upload";
    std::fprintf(stderr, "%s completion: %d%%\n", what.c_str(), step);
    return;
  }
  std::string head = label_ + " " + human_size(done_);
  if (total_) head += " of " + human_size(total_);
  const std::string percent_text = total_ ? " " + std::to_string(percent) + "%" : "";
  // The figures after the percentage, the least needed last.
  std::vector<std::string> figures{"  " + human_size(static_cast<std::uint64_t>(rate)) + "/s"};
  if (total_ && rate > 0 && done_ < total_ && !final) {
    int eta = static_cast<int>((total_ - done_) / rate);
    char buf[32];
    std::snprintf(buf, sizeof buf, "  ETA %d:%02d", eta / 60, eta % 60);
    figures.emplace_back(buf);
  }
  // The line never reaches the last column (a line that fills it wraps on
  // some terminals): the figures that do not fit are left out whole, and the
  // bar takes what is left, up to 30 columns.
  winsize ws{};
  const int columns = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
  const int room = columns - 1;
  auto used = [&] {
    std::size_t n = head.size() + percent_text.size();
    for (const auto& f : figures) n += f.size();
    return static_cast<int>(n);
  };
  while (!figures.empty() && used() > room) figures.pop_back();
  std::string line = head;
  const int width = std::min(30, room - used() - 3);
  if (total_ && width >= 5) {
    int filled = percent * width / 100;
    line += " [" + std::string(filled, '#') + std::string(width - filled, ' ') + "]";
  }
  line += percent_text;
  for (const auto& f : figures) line += f;
  if (static_cast<int>(line.size()) > room) line.resize(std::max(0, room));
  line = "\r\033[K" + line;
  if (final) line += "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

bool have_terminal() {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

namespace {

volatile std::sig_atomic_t g_prompt_interrupted = 0;
void on_prompt_interrupt(int) { g_prompt_interrupted = 1; }

// For the time of one prompt, Ctrl-C ends the read at once: the process's
// own SIGINT handler only asks the work under way to stop, and the read it
// interrupts would be restarted (SA_RESTART) and wait on.
class PromptInterrupt {
 public:
  PromptInterrupt() {
    g_prompt_interrupted = 0;
    struct sigaction sa {};
    sa.sa_handler = on_prompt_interrupt;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &previous_);
  }
  ~PromptInterrupt() { ::sigaction(SIGINT, &previous_, nullptr); }
  PromptInterrupt(const PromptInterrupt&) = delete;
  PromptInterrupt& operator=(const PromptInterrupt&) = delete;

 private:
  struct sigaction previous_ {};
};

// A line from `fd`, a byte at a time so that nothing after it is consumed;
// nullopt at the end of input with nothing read. Ctrl-C (from the moment
// `interrupt` was set up, before the prompt was shown) throws Interrupted
// (exit 130) before anything was written. The wait is in short polls, so a
// Ctrl-C that lands between two system calls, or on another thread, is
// still seen.
std::optional<std::string> read_line(int fd, const PromptInterrupt&) {
  std::string line;
  for (;;) {
    if (g_prompt_interrupted) {
      std::fputs("\n", stderr);
      throw Error(ErrorKind::Interrupted, "interrupted: nothing was changed");
    }
    pollfd ready{fd, POLLIN, 0};
    int polled = ::poll(&ready, 1, 100);
    if (polled == 0 || (polled < 0 && errno == EINTR)) continue;
    char c;
    ssize_t n = polled < 0 ? -1 : ::read(fd, &c, 1);
    if (n == 1) {
      if (c == '\n') break;
      line.push_back(c);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (line.empty()) return std::nullopt;
      break;
    }
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

std::optional<std::string> ask_secret(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  PromptInterrupt interrupt;
  (void)!::write(fd, prompt.data(), prompt.size());
  termios old{};
  bool restore = ::tcgetattr(fd, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  auto done = [&] {
    if (restore) ::tcsetattr(fd, TCSAFLUSH, &old);
    ::close(fd);
  };
  std::optional<std::string> line;
  try {
    line = read_line(fd, interrupt);
  } catch (...) {
    done();
    throw;
  }
  done();
  return line.value_or("");
}

std::string ask_line(const std::string& prompt, const std::string& default_value, const std::string& shown_default) {
  PromptInterrupt interrupt;
  std::string shown = prompt;
  const std::string& in_brackets = shown_default.empty() ? default_value : shown_default;
  if (!in_brackets.empty()) shown += " [" + in_brackets + "]";
  shown += ": ";
  std::fputs(shown.c_str(), stderr);
  std::fflush(stderr);
  auto line = read_line(STDIN_FILENO, interrupt);
  return !line || line->empty() ? default_value : *line;
}

std::string human_size(std::uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string human_duration(std::int64_t seconds) {
  static const std::pair<std::int64_t, const char*> units[] = {
      {365 * 86400, "Y"}, {30 * 86400, "M"}, {7 * 86400, "W"}, {86400, "D"}, {3600, "h"}, {60, "m"}};
  for (const auto& [size, unit] : units)
    if (seconds >= size) return std::to_string((seconds + size / 2) / size) + unit;
  return std::to_string(seconds) + "s";
}

}  // namespace bakthat::cli
