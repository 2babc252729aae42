#include "common/faults.h"

#include <chrono>
#include <new>
#include <thread>

#include "common/errors.h"

namespace aic::faults {

namespace detail {
std::atomic<bool> enabled{false};
}  // namespace detail

namespace {

constexpr auto R = std::memory_order_relaxed;

std::atomic<uint32_t> inferenceFailureEvery{0};
std::atomic<uint32_t> slowEvery{0};
std::atomic<uint32_t> slowMs{0};
std::atomic<uint32_t> allocFailureEvery{0};
std::atomic<bool> vanishModels{false};
std::atomic<bool> providerLost{false};
std::atomic<bool> allGraphs{false};

std::atomic<uint64_t> eligibleRuns{0};
std::atomic<uint64_t> inferenceFailures{0};
std::atomic<uint64_t> failedRows{0};
std::atomic<uint64_t> slowRuns{0};
std::atomic<uint64_t> allocFailures{0};
std::atomic<uint64_t> vanishedModels{0};
std::atomic<uint64_t> providerLostLoads{0};
std::atomic<uint64_t> providerLostRuns{0};

bool hits(uint64_t n, uint32_t every) { return every > 0 && n % every == 0; }

}  // namespace

void set(const Settings& s) {
  inferenceFailureEvery.store(s.inferenceFailureEvery, R);
  slowEvery.store(s.slowEvery, R);
  slowMs.store(s.slowMs, R);
  allocFailureEvery.store(s.allocFailureEvery, R);
  vanishModels.store(s.vanishModels, R);
  providerLost.store(s.providerLost, R);
  allGraphs.store(s.allGraphs, R);
  bool any = s.inferenceFailureEvery || (s.slowEvery && s.slowMs) || s.allocFailureEvery || s.vanishModels || s.providerLost;
  detail::enabled.store(any, std::memory_order_seq_cst);
}

Settings current() {
  Settings s;
  s.inferenceFailureEvery = inferenceFailureEvery.load(R);
  s.slowEvery = slowEvery.load(R);
  s.slowMs = slowMs.load(R);
  s.allocFailureEvery = allocFailureEvery.load(R);
  s.vanishModels = vanishModels.load(R);
  s.providerLost = providerLost.load(R);
  s.allGraphs = allGraphs.load(R);
  return s;
}

Counts counts() {
  Counts c;
  c.eligibleRuns = eligibleRuns.load(R);
  c.inferenceFailures = inferenceFailures.load(R);
  c.failedRows = failedRows.load(R);
  c.slowRuns = slowRuns.load(R);
  c.allocFailures = allocFailures.load(R);
  c.vanishedModels = vanishedModels.load(R);
  c.providerLostLoads = providerLostLoads.load(R);
  c.providerLostRuns = providerLostRuns.load(R);
  return c;
}

void clear() {
  set(Settings{});
  for (auto* c : {&eligibleRuns, &failedRows, &inferenceFailures, &slowRuns, &allocFailures, &vanishedModels, &providerLostLoads, &providerLostRuns}) {
    c->store(0, R);
  }
}

namespace detail {

void beforeRun(const std::string& label, bool cudaWanted, uint64_t rows) {
  if (!allGraphs.load(R) && label != "encoder") return;
  uint64_t n = eligibleRuns.fetch_add(1, R) + 1;
  uint32_t ms = slowMs.load(R);
  if (ms > 0 && hits(n, slowEvery.load(R))) {
    slowRuns.fetch_add(1, R);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  if (hits(n, inferenceFailureEvery.load(R))) {
    inferenceFailures.fetch_add(1, R);
    failedRows.fetch_add(rows, R);
    throw CoreError(ErrorCode::InferenceFailed, label + " inference failed: injected fault (run " + std::to_string(n) + ")");
  }
  if (hits(n, allocFailureEvery.load(R))) {
    allocFailures.fetch_add(1, R);
    failedRows.fetch_add(rows, R);
    throw std::bad_alloc();
  }
  if (cudaWanted && providerLost.load(R)) {
    providerLostRuns.fetch_add(1, R);
    failedRows.fetch_add(rows, R);
    throw CoreError(ErrorCode::InferenceFailed,
                    label + " inference failed: the CUDA execution provider was lost (injected fault: device lost)");
  }
}

bool vanishPath() {
  if (!vanishModels.load(R)) return false;
  vanishedModels.fetch_add(1, R);
  return true;
}

bool loseProviderAtLoad() {
  if (!providerLost.load(R)) return false;
  providerLostLoads.fetch_add(1, R);
  return true;
}

}  // namespace detail

}  // namespace aic::faults
