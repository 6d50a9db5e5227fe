#include "net/retry.hpp"

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>

namespace bakthat::net::retry {
namespace {

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return (end && *end == 0 && n >= 0) ? n : fallback;
}

thread_local std::chrono::steady_clock::time_point t_last_progress;

}  // namespace

void note_progress() noexcept { t_last_progress = std::chrono::steady_clock::now(); }

Policy default_policy(const CancelToken* cancel, std::chrono::seconds max_stall) {
  Policy p;
  p.cancel = cancel;
  p.max_stall = max_stall;
  p.max_attempts = static_cast<int>(std::max(1L, env_long("BAKTHAT_RETRY_ATTEMPTS", p.max_attempts)));
  p.first_delay = std::chrono::milliseconds(env_long("BAKTHAT_RETRY_DELAY_MS", p.first_delay.count()));
  return p;
}

std::chrono::milliseconds backoff(const Policy& policy, int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  long long d = policy.first_delay.count();
  for (int i = 2; i < attempt && d < policy.max_delay.count(); ++i) d *= 2;
  d = std::min<long long>(d, policy.max_delay.count());
  if (d <= 1) return std::chrono::milliseconds(d);
  std::uniform_int_distribution<long long> jitter(d / 2, d);
  return std::chrono::milliseconds(jitter(rng));
}

namespace detail {

void run_erased(const Policy& policy, const std::function<void()>& attempt) {
  const auto start = std::chrono::steady_clock::now();
  int without_progress = 0;
  for (int n = 1;; ++n) {
    check_cancel(policy.cancel);
    const auto began = std::chrono::steady_clock::now();
    try {
      attempt();
      return;
    } catch (const TransientError& e) {
      without_progress = t_last_progress >= began ? 0 : without_progress + 1;
      if (without_progress >= policy.max_attempts || n >= Policy::kProgressFactor * policy.max_attempts)
        throw Error(ErrorKind::Storage, e.what());
      auto delay = backoff(policy, without_progress + 1);
      const auto progressed = std::max(start, t_last_progress);
      if (std::chrono::steady_clock::now() + delay - progressed > policy.max_stall)
        throw Error(ErrorKind::Storage, e.what());
      sleep_unless_cancelled(policy.cancel, delay);
    }
  }
}

}  // namespace detail
}  // namespace bakthat::net::retry
