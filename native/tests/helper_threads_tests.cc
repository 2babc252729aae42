#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/helper_threads.h"
#include "test_harness.h"

using namespace aic;

TEST(helper_shares_all_run_once_and_errors_reach_the_caller) {
  std::vector<std::atomic<int>> runs(5);
  forEachShare(5, [&](int i) { runs[i].fetch_add(1); });
  for (auto& r : runs) CHECK(r.load() == 1);
  bool caught = false;
  try {
    forEachShare(3, [&](int i) {
      if (i == 2) throw std::runtime_error("share 2");
    });
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "share 2";
  }
  CHECK(caught);
}

TEST(helper_task_runs_on_its_caller_when_every_helper_is_busy) {
  // Occupy every helper until the last task has run: the caller must not wait on a queued task,
  // it runs it itself (no deadlock on a busy pool).
  std::atomic<bool> release{false};
  std::vector<std::shared_ptr<HelperTask>> blockers;
  std::atomic<int> started{0};
  for (unsigned i = 0; i < helperThreads(); ++i)
    blockers.push_back(offerToHelper([&] {
      started.fetch_add(1);
      while (!release.load()) std::this_thread::yield();
    }));
  // Wait until the helpers hold the blockers (a blocker still queued would be run by its waiter).
  for (int spins = 0; started.load() < static_cast<int>(helperThreads()) && spins < 2000000; ++spins) std::this_thread::yield();
  const auto caller = std::this_thread::get_id();
  std::thread::id ranOn;
  auto t = offerToHelper([&] { ranOn = std::this_thread::get_id(); });
  t->wait();
  CHECK(ranOn == caller || helperThreads() == 0 || started.load() < static_cast<int>(helperThreads()));
  release = true;
  for (auto& b : blockers) b->wait();
}

TEST(helper_threads_serve_many_callers_at_once) {
  std::atomic<long> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 6; ++c)
    callers.emplace_back([&] {
      for (int k = 0; k < 200; ++k) forEachShare(3, [&](int i) { total.fetch_add(i + 1); });
    });
  for (auto& t : callers) t.join();
  CHECK(total.load() == 6L * 200 * 6);
}
