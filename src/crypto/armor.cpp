// ASCII armor reader with age 1.1.1's strict PEM rules (docs/formats.md §1.9).
#include <cstring>

#include "bakthat/errors.hpp"
#include "crypto/age_format.hpp"
#include "crypto/stages.hpp"

namespace bakthat::crypto::detail {
namespace {

constexpr std::size_t kColumns = 64;
constexpr std::size_t kBytesPerLine = 48;
constexpr std::size_t kMaxWhitespace = 1024;

[[noreturn]] void bad_armor(const std::string& what) {
  throw Error(ErrorKind::Corrupt, "armored archive is malformed: " + what);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool all_space(std::string_view s) {
  for (char c : s)
    if (!is_space(c)) return false;
  return true;
}

class ArmorReader : public Source {
 public:
  explicit ArmorReader(Source& in) : in_(in) {}

  std::size_t read(MutableBytes out) override {
    while (pos_ == decoded_.size()) {
      if (done_) return 0;
      next_line();
    }
    std::size_t n = std::min(out.size(), decoded_.size() - pos_);
    std::memcpy(out.data(), decoded_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  // The next line without its "\n" or "\r\n".
  std::string get_line() {
    std::string line;
    if (!in_.read_line(line, kMaxWhitespace + 2, "armor")) bad_armor("unexpected end of file");
    if (line.ends_with('\n')) line.pop_back();
    if (line.ends_with('\r')) line.pop_back();
    return line;
  }

  void drain_trailing() {
    std::uint8_t buf[kMaxWhitespace];
    std::size_t n = in_.read(MutableBytes(buf, sizeof buf));
    if (!all_space(std::string_view(reinterpret_cast<const char*>(buf), n)))
      bad_armor("data after the end line");
    if (n == sizeof buf) bad_armor("too much whitespace after the end line");
    done_ = true;
  }

  void next_line() {
    decoded_.clear();
    pos_ = 0;
    std::size_t skipped = 0;
    while (!started_) {
      std::string line = get_line();
      if (all_space(line)) {
        skipped += line.size() + 1;
        if (skipped > kMaxWhitespace) bad_armor("too much whitespace before the begin line");
        continue;
      }
      if (line != kArmorBegin) bad_armor("the first line is not the begin line");
      started_ = true;
    }
    std::string line = get_line();
    if (line == kArmorEnd) return drain_trailing();
    if (line.empty()) bad_armor("empty line");
    if (line.size() > kColumns) bad_armor("line longer than 64 columns");
    auto bytes = base64_padded_decode(line);
    if (!bytes) bad_armor("invalid base64 line");
    decoded_ = std::move(*bytes);
    if (decoded_.size() < kBytesPerLine) {
      if (get_line() != kArmorEnd) bad_armor("a short line is not followed by the end line");
      drain_trailing();
    }
  }

  ByteReader in_;
  std::vector<std::uint8_t> decoded_;
  std::size_t pos_ = 0;
  bool started_ = false, done_ = false;
};

}  // namespace

std::unique_ptr<Source> make_armor_reader(Source& in) { return std::make_unique<ArmorReader>(in); }

}  // namespace bakthat::crypto::detail
