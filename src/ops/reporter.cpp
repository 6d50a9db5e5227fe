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

std::string version() { return "0.1.0"; }

}  // namespace bakthat
