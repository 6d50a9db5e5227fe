// The retry layer's budget and its cancellation.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "bakthat/cancel.hpp"
#include "net/retry.hpp"

namespace retry = bakthat::net::retry;
using bakthat::ErrorKind;
using namespace std::chrono_literals;

TEST(RetryCancel, AWaitBetweenAttemptsEndsWhenCancelled) {
  bakthat::CancelToken token;
  retry::Policy p;
  p.max_attempts = 5;
  p.first_delay = 20s;
  p.max_delay = 20s;
  p.cancel = &token;
  int calls = 0;
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    token.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  try {
    retry::run(p, [&] { ++calls; throw retry::TransientError("busy"); });
    ADD_FAILURE() << "no error";
  } catch (const bakthat::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Interrupted) << e.what();
  }
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(calls, 1);
}

TEST(RetryCancel, NoAttemptOnceCancelled) {
  bakthat::CancelToken token;
  token.cancel();
  retry::Policy p;
  p.cancel = &token;
  int calls = 0;
  EXPECT_THROW(retry::run(p, [&] { ++calls; }), bakthat::Error);
  EXPECT_EQ(calls, 0);
  token.reset();
  retry::run(p, [&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

// An attempt that moved bytes before it broke does not use up the attempts
// (a slow part the network broke is sent again), up to kProgressFactor
// times as many in all; attempts that move nothing stop at max_attempts.
TEST(RetryBudget, ProgressGivesMoreAttemptsAndNoProgressDoesNot) {
  retry::Policy p;
  p.max_attempts = 3;
  p.first_delay = 1ms;
  p.max_delay = 1ms;
  int calls = 0;
  EXPECT_THROW(retry::run(p, [&] { ++calls; throw retry::TransientError("busy"); }), bakthat::Error);
  EXPECT_EQ(calls, 3);
  calls = 0;
  EXPECT_THROW(retry::run(p, [&] {
                 ++calls;
                 retry::note_progress();
                 throw retry::TransientError("dropped");
               }),
               bakthat::Error);
  EXPECT_EQ(calls, retry::Policy::kProgressFactor * 3);
}

// The time budget counts from the last progress, not from the first attempt:
// an attempt that ran longer than max_stall while moving bytes is retried.
TEST(RetryBudget, TimeCountsFromTheLastProgress) {
  retry::Policy p;
  p.max_attempts = 5;
  p.first_delay = 1ms;
  p.max_delay = 1ms;
  p.max_stall = 200ms;
  int calls = 0;
  retry::run(p, [&] {
    if (++calls == 1) {
      std::this_thread::sleep_for(300ms);
      retry::note_progress();
      throw retry::TransientError("dropped after a long transfer");
    }
  });
  EXPECT_EQ(calls, 2);
  // Without progress the same wait ends the retries.
  calls = 0;
  EXPECT_THROW(retry::run(p, [&] {
                 ++calls;
                 std::this_thread::sleep_for(300ms);
                 throw retry::TransientError("hangs");
               }),
               bakthat::Error);
  EXPECT_EQ(calls, 1);
}
