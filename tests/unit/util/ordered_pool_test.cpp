// OrderedPool: results come back in submission order with each job's own
// error, and a thread that cannot start leaves no thread behind (the
// constructor's error reaches the caller instead of std::terminate).
#include <grp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <stdexcept>
#include <system_error>

#include "util/ordered_pool.hpp"

using bakthat::util::OrderedPool;

namespace {

struct Job {
  int in = 0;
  int out = 0;
};

using Pool = OrderedPool<Job, int>;

Pool make_pool(int threads, std::size_t capacity) {
  return Pool(threads, capacity, [] { return 0; }, [](int&, Job& job) {
    if (job.in == 13) throw std::runtime_error("unlucky");
    job.out = job.in * 2;
  });
}

}  // namespace

TEST(OrderedPool, ResultsInSubmissionOrderWithTheirOwnErrors) {
  auto pool = make_pool(3, 4);
  int next = 0, expect = 0;
  while (expect < 40) {
    while (next < 40 && !pool.full()) {
      pool.back().in = next++;
      pool.submit();
    }
    if (expect == 13) {
      EXPECT_THROW(pool.front(), std::runtime_error);
    } else {
      EXPECT_EQ(pool.front().out, expect * 2);
    }
    pool.pop_front();
    ++expect;
  }
  EXPECT_TRUE(pool.empty());
}

// A user with no other processes and RLIMIT_NPROC 3 can start two threads
// in all; the pool asks for 16. Run in a child process, which must end by
// catching the constructor's std::system_error (not by std::terminate).
TEST(OrderedPool, ThreadThatCannotStartStopsTheOthers) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to run as a user with no other processes";
  const uid_t kUid = 54321;  // no account: nothing else runs as it
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const rlimit nproc{3, 3};
    if (::setgroups(0, nullptr) != 0 || ::setgid(kUid) != 0 || ::setuid(kUid) != 0 ||
        ::setrlimit(RLIMIT_NPROC, &nproc) != 0)
      ::_exit(10);
    try {
      auto pool = make_pool(16, 4);
      ::_exit(11);  // every thread started: the limit did not hold
    } catch (const std::system_error&) {
      ::_exit(0);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child ended by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}
