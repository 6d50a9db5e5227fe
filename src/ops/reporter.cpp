#include <mutex>
#include <set>

#include "bakthat/bakthat.hpp"

namespace bakthat {
namespace {

class SilentReporter : public Reporter {
 public:
  void message(const std::string&) override {}
  void warning(const std::string&) override {}
  void progress_start(const std::string&, std::uint64_t) override {}
  void progress(std::uint64_t) override {}
  void progress_end() override {}
};

}  // namespace

Reporter& silent_reporter() {
  static SilentReporter r;
  return r;
}

void report_config_warnings(Reporter& reporter, const std::vector<std::string>& warnings) {
  static std::mutex mutex;
  static std::set<std::string> reported;
  for (const auto& w : warnings) {
    {
      std::lock_guard lock(mutex);
      if (!reported.insert(w).second) continue;
    }
    reporter.warning(w);
  }
}

std::string version() { return BAKTHAT_VERSION; }

}  // namespace bakthat
