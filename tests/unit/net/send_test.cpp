// What every client does with a reply (accept_or_raise) and the policy of a
// clean-up after a cancelled operation (cleanup_policy).
#include <gtest/gtest.h>

#include "bakthat/cancel.hpp"
#include "net/send.hpp"

namespace net = bakthat::net;
namespace retry = bakthat::net::retry;
using bakthat::ErrorKind;

namespace {

net::Response reply(long status) {
  net::Response r;
  r.status = status;
  r.body = "body " + std::to_string(status);
  return r;
}

retry::Failure judge(const net::Response& r) {
  if (r.status >= 500) return {ErrorKind::Storage, "busy " + std::to_string(r.status), true};
  return {ErrorKind::NotFound, "no " + r.body, false};
}

}  // namespace

TEST(AcceptOrRaise, TwoHundredsAndAcceptedStatusesAreReplies) {
  EXPECT_EQ(net::accept_or_raise(reply(200), {}, judge).body, "body 200");
  EXPECT_EQ(net::accept_or_raise(reply(204), {}, judge).status, 204);
  EXPECT_EQ(net::accept_or_raise(reply(404), {404, 409}, judge).body, "body 404");
}

TEST(AcceptOrRaise, OtherStatusesRaiseWhatTheJudgeSays) {
  try {
    net::accept_or_raise(reply(404), {409}, judge);
    ADD_FAILURE() << "404 accepted";
  } catch (const retry::TransientError&) {
    ADD_FAILURE() << "a permanent failure raised as transient";
  } catch (const bakthat::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_STREQ(e.what(), "no body 404");
  }
  EXPECT_THROW(net::accept_or_raise(reply(503), {}, judge), retry::TransientError);
  // A redirect is no success either.
  EXPECT_THROW(net::accept_or_raise(reply(301), {}, judge), bakthat::Error);
}

// Retried under the policy: a transient failure is tried again, a permanent
// one ends the request at once.
TEST(AcceptOrRaise, UnderRetryRunOnlyTransientFailuresAreTriedAgain) {
  retry::Policy p;
  p.max_attempts = 3;
  p.first_delay = std::chrono::milliseconds(1);
  p.max_delay = std::chrono::milliseconds(1);
  std::vector<long> statuses = {503, 500, 200};
  std::size_t calls = 0;
  auto got = retry::run(p, [&] { return net::accept_or_raise(reply(statuses.at(calls++)), {}, judge); });
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(calls, 3u);
  statuses = {503, 404, 200};
  calls = 0;
  EXPECT_THROW(retry::run(p, [&] { return net::accept_or_raise(reply(statuses.at(calls++)), {}, judge); }),
               bakthat::Error);
  EXPECT_EQ(calls, 2u);
}

TEST(CleanupPolicy, NotStoppedByTheCancellationAndOneAttemptOnceCancelled) {
  retry::Policy p;
  p.max_attempts = 6;
  EXPECT_EQ(net::cleanup_policy(p).max_attempts, 6);  // no token: as it is

  bakthat::CancelToken token;
  p.cancel = &token;
  retry::Policy running = net::cleanup_policy(p);
  EXPECT_EQ(running.cancel, nullptr);
  EXPECT_EQ(running.max_attempts, 6);

  token.cancel();
  retry::Policy cancelled = net::cleanup_policy(p);
  EXPECT_EQ(cancelled.cancel, nullptr);
  EXPECT_EQ(cancelled.max_attempts, 1);
  int calls = 0;
  retry::run(cancelled, [&] { ++calls; });  // runs although the token is cancelled
  EXPECT_EQ(calls, 1);
}
