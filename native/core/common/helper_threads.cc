#include "common/helper_threads.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace aic {

struct HelperTask::State {
  std::function<void()> fn;
  std::mutex m;
  std::condition_variable cv;
  bool claimed = false, done = false;
  std::exception_ptr error;
};

HelperTask::HelperTask(std::function<void()> fn) : state_(std::make_shared<State>()) { state_->fn = std::move(fn); }

bool HelperTask::claimAndRun() {
  State& s = *state_;
  {
    std::lock_guard<std::mutex> l(s.m);
    if (s.claimed) return false;
    s.claimed = true;
  }
  std::exception_ptr error;
  try {
    s.fn();
  } catch (...) {
    error = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> l(s.m);
    s.error = error;
    s.done = true;
    s.fn = nullptr;  // what it captured goes with the caller's frame
  }
  s.cv.notify_all();
  return true;
}

void HelperTask::wait() {
  claimAndRun();  // not started by a helper: run it here
  State& s = *state_;
  std::unique_lock<std::mutex> l(s.m);
  s.cv.wait(l, [&] { return s.done; });
  if (s.error) std::rethrow_exception(s.error);
}

namespace {

class Pool {
 public:
  explicit Pool(unsigned threads) : threads_(threads) {
    // Detached and never joined: the pool lives as long as the process (an addon is not unloaded
    // while its calls run), and its threads sleep when there is nothing to do.
    for (unsigned i = 0; i < threads_; ++i) std::thread([this] { work(); }).detach();
  }
  unsigned threads() const { return threads_; }
  void push(const std::shared_ptr<HelperTask>& t) {
    {
      std::lock_guard<std::mutex> l(m_);
      queue_.push_back(t);
    }
    cv_.notify_one();
  }

 private:
  void work() {
    for (;;) {
      std::shared_ptr<HelperTask> t;
      {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [&] { return !queue_.empty(); });
        t = std::move(queue_.front());
        queue_.pop_front();
      }
      t->claimAndRun();  // false when its caller ran it already
    }
  }
  const unsigned threads_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<HelperTask>> queue_;
};

Pool& pool() {
  static Pool* p = new Pool(std::min(7u, std::max(1u, std::thread::hardware_concurrency()) - 1));
  return *p;
}

}  // namespace

unsigned helperThreads() { return pool().threads(); }

std::shared_ptr<HelperTask> offerToHelper(std::function<void()> fn) {
  auto t = std::make_shared<HelperTask>(std::move(fn));
  if (pool().threads() > 0) pool().push(t);
  return t;
}

}  // namespace aic
