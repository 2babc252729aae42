// Helper threads: how one call (a frame's motion search, its score, its rANS bands) uses a second
// core. A few threads per process, started on first use and asleep when idle, take work the
// calling thread offers. Why not a std::thread per call: a thread created on a 2-vCPU virtual
// machine (this project's CI and benchmark machine) was placed on its creator's CPU and did not
// start until the creator blocked - 2 ms of work ran as 2 ms on one core while the other idled
// (bench/thread-start.cc: 10 to 12 of 12 tries) - where a thread asleep on a condition variable
// wakes in 10-25 us.
//
// A task offered and not yet started by the time its caller waits runs on the caller instead,
// so a caller never waits on work queued behind other sessions' (many libuv threads may offer at
// once; there are fewer helpers than that) and nothing can deadlock on a busy pool.
#pragma once

#include <exception>
#include <functional>
#include <memory>

namespace aic {

class HelperTask;

/** Offers fn to a helper thread; wait on the result before anything fn uses goes away. */
std::shared_ptr<HelperTask> offerToHelper(std::function<void()> fn);

/** Helper threads of this process: the cores less one (0 on a machine of one core; at most 7). */
unsigned helperThreads();

class HelperTask {
 public:
  /** Returns once fn has run (here, when no helper had started it); rethrows what fn threw. */
  void wait();

  // Internal: run by a helper or by wait().
  explicit HelperTask(std::function<void()> fn);
  bool claimAndRun();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

/**
 * fn(i) for every i in [0, shares): share 0 on the calling thread, the others offered to helper
 * threads (run by the caller when none takes them). Rethrows the first exception of any share.
 */
template <typename Fn>
void forEachShare(int shares, Fn&& fn) {
  if (shares <= 1 || helperThreads() == 0) {
    for (int i = 0; i < shares; ++i) fn(i);
    return;
  }
  std::shared_ptr<HelperTask> tasks[8];
  const int offered = shares - 1 < 8 ? shares - 1 : 8;
  for (int i = 0; i < offered; ++i) tasks[i] = offerToHelper([&fn, i] { fn(i + 1); });
  std::exception_ptr error;
  try {
    fn(0);
    for (int i = offered + 1; i < shares; ++i) fn(i);
  } catch (...) {
    error = std::current_exception();
  }
  for (int i = 0; i < offered; ++i) {
    try {
      tasks[i]->wait();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace aic
