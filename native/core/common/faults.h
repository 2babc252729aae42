// Test-only fault injection in the native core (docs/RELIABILITY.md, "Injected faults").
//
// Off by default. When off, the only cost on the hot path is one relaxed atomic load per
// Graph::run and per model load. Every setting and counter is an atomic: set() may be called from
// the JS thread while worker threads run graphs.
//
// Which runs are eligible: by default only graphs labelled "encoder" (a sending session's neural
// path runs its encoder exactly once per frame, and an injected throw ends that frame's neural
// attempt). A run codes `rows` frames (an audio batch runs the frames of many sessions as the rows
// of one run, native/core/audio/audio_batch.h), so one injected failure is `rows` frames that fall
// back: failedRows counts them. With `allGraphs`, decoders
// (receivers' decodes, the closed loop's decodes) are eligible as well.
//
// Eligible runs are numbered 1, 2, 3, ... by one process-wide counter; run n
//   - sleeps `slowMs` first when slowEvery > 0 and n % slowEvery == 0;
//   - then throws CoreError(INFERENCE_FAILED) when inferenceFailureEvery > 0 and n % it == 0;
//   - else throws std::bad_alloc (OUT_OF_MEMORY at the binding) when allocFailureEvery > 0 and
//     n % it == 0;
//   - else, with providerLost set and the graph's engine asking for CUDA explicitly (or the graph
//     running on CUDA), throws CoreError(INFERENCE_FAILED) saying the provider was lost.
// Model loads: with vanishModels, a load from a path fails with MODEL_NOT_FOUND as if the file had
// been deleted; with providerLost, a graph whose engine wants CUDA is created on CPU with a
// fallback reason saying the provider was lost (strict engines refuse it, as for a real loss).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace aic::faults {

struct Settings {
  uint32_t inferenceFailureEvery = 0;
  uint32_t slowEvery = 0;
  uint32_t slowMs = 0;
  uint32_t allocFailureEvery = 0;
  bool vanishModels = false;
  bool providerLost = false;
  bool allGraphs = false;
};

struct Counts {
  uint64_t eligibleRuns = 0;
  uint64_t inferenceFailures = 0;
  uint64_t slowRuns = 0;
  uint64_t allocFailures = 0;
  uint64_t vanishedModels = 0;
  uint64_t providerLostLoads = 0;
  uint64_t providerLostRuns = 0;
  uint64_t failedRows = 0;  // the rows (frames) of the runs that an injected fault failed
};

// Replaces the settings (a field left at its default turns that fault off) and enables injection
// when any fault is set. Counters are kept; clear() resets them.
void set(const Settings& s);
Settings current();
Counts counts();
// Turns every fault off and zeroes the counters and the run numbering.
void clear();

namespace detail {
extern std::atomic<bool> enabled;
void beforeRun(const std::string& label, bool cudaWanted, uint64_t rows);
bool vanishPath();
bool loseProviderAtLoad();
}  // namespace detail

// Hooks: inline so that "off" is one relaxed load and a branch.
inline bool active() { return detail::enabled.load(std::memory_order_relaxed); }
// Call only when active(): may sleep, throw CoreError(INFERENCE_FAILED) or std::bad_alloc.
inline void beforeRun(const std::string& label, bool cudaWanted, uint64_t rows = 1) { detail::beforeRun(label, cudaWanted, rows); }
inline bool vanishPath() { return detail::enabled.load(std::memory_order_relaxed) && detail::vanishPath(); }
inline bool loseProviderAtLoad() { return detail::enabled.load(std::memory_order_relaxed) && detail::loseProviderAtLoad(); }

}  // namespace aic::faults
