#include "bakthat/storage.hpp"

#include <algorithm>
#include <vector>

#include "bakthat/errors.hpp"

namespace bakthat {

std::string Storage::presign(const std::string&, const std::string&, std::int64_t) {
  throw Error(ErrorKind::Unsupported, "the " + kind() + " destination has no URLs");
}

void Storage::remove_many(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    try {
      remove(name);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound) throw;
    }
  }
}

namespace {

// At most `length` bytes of `in`, after passing over `offset` of them.
class WindowSource : public Source {
 public:
  WindowSource(std::unique_ptr<Source> in, std::uint64_t offset, std::uint64_t length)
      : in_(std::move(in)), skip_(offset), left_(length) {}
  std::size_t read(MutableBytes out) override {
    std::vector<std::uint8_t> scratch;
    while (skip_ > 0) {
      scratch.resize(static_cast<std::size_t>(std::min<std::uint64_t>(skip_, 1 << 20)));
      std::size_t n = in_->read(scratch);
      if (n == 0) return 0;
      skip_ -= n;
    }
    if (left_ == 0 || out.empty()) return 0;
    std::size_t n = in_->read(out.first(static_cast<std::size_t>(std::min<std::uint64_t>(left_, out.size()))));
    left_ -= n;
    return n;
  }

 private:
  std::unique_ptr<Source> in_;
  std::uint64_t skip_, left_;
};

}  // namespace

std::unique_ptr<Source> Storage::open_range(const std::string& name, std::uint64_t offset, std::uint64_t length) {
  return std::make_unique<WindowSource>(open(name), offset, length);
}

Readiness Storage::prepare_read(const std::string&) { return Readiness::Ready; }

std::vector<std::string> Storage::abort_incomplete(const std::function<bool(const std::string&)>&, std::int64_t) {
  return {};
}

}  // namespace bakthat
