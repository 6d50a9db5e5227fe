// Retrying of transient failures, kept apart from the protocol code: a
// destination marks a failure as worth another try by throwing
// TransientError, and wraps each replayable request in retry::run. Every
// other error passes through at once.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <type_traits>
#include <string>
#include <utility>

#include "bakthat/cancel.hpp"
#include "bakthat/errors.hpp"

namespace bakthat::net::retry {

// A failure that may go away (HTTP 5xx, 429, throttling, timeouts, dropped
// connections). If every attempt fails, the last one's message is reported
// as an ErrorKind::Storage error.
class TransientError : public Error {
 public:
  explicit TransientError(const std::string& message) : Error(ErrorKind::Storage, message) {}
};

// How a destination reports a failed request: what went wrong and whether
// another try may help. raise() throws it as a TransientError or an Error.
struct Failure {
  ErrorKind kind;
  std::string message;
  bool transient;
  [[noreturn]] void raise() const {
    if (transient) throw TransientError(message);
    throw Error(kind, message);
  }
};

// The budget of a request is counted in attempts and progress, not in wall
// time: after max_attempts failed attempts in a row that moved no bytes
// (note_progress), or once max_stall has passed without progress (since the
// first attempt began or bytes last moved, whichever is later), no new
// attempt starts. A failed attempt that moved bytes (a slow upload the
// network broke after many minutes) starts the count again, up to
// kProgressFactor * max_attempts attempts in all.
struct Policy {
  static constexpr int kProgressFactor = 4;
  int max_attempts = 6;
  std::chrono::milliseconds first_delay{400};
  std::chrono::milliseconds max_delay{15000};
  std::chrono::milliseconds max_stall{std::chrono::minutes(15)};
  // Cancelled: no new attempt, and the wait before one ends (Interrupted).
  const CancelToken* cancel = nullptr;
};

// The policy used by network destinations: the defaults, with
// BAKTHAT_RETRY_ATTEMPTS and BAKTHAT_RETRY_DELAY_MS (first delay) overriding
// them so tests of permanent failures need not wait.
// `max_stall`: the profile's retry_time.
Policy default_policy(const CancelToken* cancel = nullptr,
                      std::chrono::seconds max_stall = std::chrono::minutes(15));

// Called by the transport whenever bytes of a request or reply move: the
// retries of the request being tried on this thread count from now.
void note_progress() noexcept;

// Delay before attempt number `attempt` (2, 3, ...): exponential backoff
// with full jitter in [d/2, d].
std::chrono::milliseconds backoff(const Policy& policy, int attempt);

namespace detail {
void run_erased(const Policy& policy, const std::function<void()>& attempt);
}

// Calls attempt() until it returns, throws something other than a
// TransientError, or the policy's attempts or time run out.
template <class F>
auto run(const Policy& policy, F&& attempt) -> decltype(attempt()) {
  using R = decltype(attempt());
  if constexpr (std::is_void_v<R>) {
    detail::run_erased(policy, std::function<void()>(std::forward<F>(attempt)));
  } else {
    std::optional<R> result;
    detail::run_erased(policy, [&] { result.emplace(attempt()); });
    return std::move(*result);
  }
}

}  // namespace bakthat::net::retry
