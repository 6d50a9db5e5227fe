#include "bakthat/cancel.hpp"

#include <algorithm>
#include <thread>

#include "bakthat/errors.hpp"

namespace bakthat {

namespace {
// How often a sleep looks at its token: well within the second a user
// waits after Ctrl-C.
constexpr std::chrono::milliseconds kPollInterval{50};
}  // namespace

void CancelToken::check() const {
  if (cancelled()) throw Error(ErrorKind::Interrupted, "interrupted");
}

void CancelToken::sleep_for(std::chrono::milliseconds duration) const {
  const auto end = std::chrono::steady_clock::now() + duration;
  for (auto now = std::chrono::steady_clock::now(); now < end && !cancelled(); now = std::chrono::steady_clock::now())
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(end - now, kPollInterval));
  check();
}

void check_cancel(const CancelToken* token) {
  if (token) token->check();
}

void sleep_unless_cancelled(const CancelToken* token, std::chrono::milliseconds duration) {
  if (token) token->sleep_for(duration);
  else std::this_thread::sleep_for(duration);
}

}  // namespace bakthat
