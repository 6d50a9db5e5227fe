// Cancelling an operation from another thread or a signal handler.
//
// A caller puts a CancelToken in an operation's Options and calls cancel()
// to stop it: every stage (reading, compressing, hashing, each transfer),
// every wait between retries and every walk of a tree checks it at least
// every few hundred milliseconds, unwinds (an upload in progress is aborted,
// no catalog row is written) and throws Error(ErrorKind::Interrupted). The
// token stays cancelled until reset(); one token may serve many operations.
#pragma once

#include <atomic>
#include <chrono>

namespace bakthat {

class CancelToken {
 public:
  // Async-signal-safe: a SIGINT handler may call it.
  void cancel() noexcept { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }
  void reset() noexcept { cancelled_.store(false, std::memory_order_relaxed); }

  // Throws Error(Interrupted) once cancelled.
  void check() const;
  // Sleeps for `duration`, or less when cancelled meanwhile; then check().
  void sleep_for(std::chrono::milliseconds duration) const;

 private:
  static_assert(std::atomic<bool>::is_always_lock_free, "cancel() must be async-signal-safe");
  std::atomic<bool> cancelled_{false};
};

// check() and sleep_for() of a token that may be absent (nullptr: never
// cancelled).
void check_cancel(const CancelToken* token);
void sleep_unless_cancelled(const CancelToken* token, std::chrono::milliseconds duration);

}  // namespace bakthat
