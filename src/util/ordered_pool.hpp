// A fixed ring of job slots processed by worker threads and handed back in
// submission order: the shape of the parallel gzip compressor and
// decompressor and of the age encryptor and decryptor.
//
// Contract: a single owner thread fills the slot returned by back() and
// submit()s it, then takes results with front() / pop_front() in the same
// order. At most capacity() jobs are in flight, which bounds memory; slot
// objects (and their buffers) are reused, never reallocated. Workers run
// process(job) concurrently on different slots; an exception thrown by
// process is rethrown by front() for that job. Only the owner thread touches
// anything outside the slots (e.g. the next pipeline stage).
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace bakthat::util {

template <class Job, class Worker>
class OrderedPool {
 public:
  // make_worker() is called once per thread (on that thread) to build its
  // private state (e.g. a compressor object); worker(job) then runs jobs.
  OrderedPool(int threads, std::size_t capacity, std::function<Worker()> make_worker,
              std::function<void(Worker&, Job&)> run)
      : slots_(capacity), run_(std::move(run)) {
    // A thread that cannot start (std::system_error) leaves the ones started
    // before it joinable: they are stopped and joined before the error
    // leaves, as a joinable std::thread destroyed ends the process.
    try {
      for (int i = 0; i < threads; ++i) {
        threads_.emplace_back([this, make_worker] { loop(make_worker); });
      }
    } catch (...) {
      stop_and_join();
      throw;
    }
  }
  ~OrderedPool() { stop_and_join(); }
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

  std::size_t capacity() const { return slots_.size(); }
  std::size_t in_flight() const { return count_; }
  bool full() const { return count_ == slots_.size(); }
  bool empty() const { return count_ == 0; }

  // The free slot the owner fills next; only when !full().
  Job& back() { return slots_[(head_ + count_) % slots_.size()].job; }
  void submit() {
    {
      std::lock_guard lock(mu_);
      Slot& s = slots_[(head_ + count_) % slots_.size()];
      s.state = State::Queued;
      s.error = nullptr;
      ++count_;
    }
    work_cv_.notify_one();
  }
  // True when the oldest job has finished (front() will not block).
  bool front_ready() {
    std::lock_guard lock(mu_);
    return count_ && slots_[head_].state == State::Done;
  }
  // Waits for the oldest job; rethrows its exception. Only when !empty().
  Job& front() {
    Slot& s = slots_[head_];
    {
      std::unique_lock lock(mu_);
      done_cv_.wait(lock, [&] { return s.state == State::Done; });
    }
    if (s.error) std::rethrow_exception(s.error);
    return s.job;
  }
  void pop_front() {
    std::lock_guard lock(mu_);
    slots_[head_].state = State::Free;
    head_ = (head_ + 1) % slots_.size();
    --count_;
  }

 private:
  enum class State { Free, Queued, Running, Done };
  struct Slot {
    Job job;
    State state = State::Free;
    std::exception_ptr error;
  };

  void stop_and_join() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void loop(const std::function<Worker()>& make_worker) {
    std::exception_ptr setup_error;
    std::optional<Worker> worker;
    try {
      worker.emplace(make_worker());
    } catch (...) {
      setup_error = std::current_exception();
    }
    std::unique_lock lock(mu_);
    for (;;) {
      Slot* slot = nullptr;
      work_cv_.wait(lock, [&] {
        if (stop_) return true;
        for (std::size_t i = 0; i < count_; ++i) {
          Slot& s = slots_[(head_ + i) % slots_.size()];
          if (s.state == State::Queued) {
            slot = &s;
            return true;
          }
        }
        return false;
      });
      if (stop_) return;
      slot->state = State::Running;
      lock.unlock();
      std::exception_ptr error = setup_error;
      if (!error) {
        try {
          run_(*worker, slot->job);
        } catch (...) {
          error = std::current_exception();
        }
      }
      lock.lock();
      slot->error = error;
      slot->state = State::Done;
      done_cv_.notify_all();
    }
  }

  std::vector<Slot> slots_;
  std::function<void(Worker&, Job&)> run_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::size_t head_ = 0, count_ = 0;  // guarded by mu_ (count_ also read by the owner)
  bool stop_ = false;
};

}  // namespace bakthat::util
