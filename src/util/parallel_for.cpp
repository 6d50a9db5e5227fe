#include "util/parallel_for.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace bakthat::util {

void parallel_for(std::size_t count, unsigned threads, const std::function<void(std::size_t)>& job) {
  std::atomic<std::size_t> next{0};
  std::mutex lock;
  std::exception_ptr failure;
  auto work = [&] {
    for (std::size_t i; (i = next++) < count;) {
      try {
        job(i);
      } catch (...) {
        std::lock_guard g(lock);
        if (!failure) failure = std::current_exception();
        next = count;
      }
    }
  };
  std::vector<std::thread> started;
  const std::size_t n = std::min<std::size_t>(std::max(1u, threads), count);
  // A thread that cannot start leaves the work to those that did.
  try {
    for (std::size_t t = 1; t < n; ++t) started.emplace_back(work);
  } catch (const std::system_error&) {
  }
  work();
  for (auto& t : started) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace bakthat::util
