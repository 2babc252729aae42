#include "common/cpu_features.h"

#include <atomic>

namespace aic {

namespace {

struct Features {
  bool avx2Fma = false;
  bool sse42 = false;
};

Features detect() {
  Features f;
#if AIC_X86_DISPATCH
  __builtin_cpu_init();
  f.avx2Fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  f.sse42 = __builtin_cpu_supports("sse4.2");
#endif
  return f;
}

const Features& features() {
  static const Features f = detect();
  return f;
}

std::atomic<bool>& forced() {
  static std::atomic<bool> on{false};
  return on;
}

}  // namespace

bool cpuHasAvx2Fma() { return features().avx2Fma && !forced().load(std::memory_order_relaxed); }
bool cpuHasSse42() { return features().sse42 && !forced().load(std::memory_order_relaxed); }
void forceBaselinePaths(bool on) { forced().store(on, std::memory_order_relaxed); }

}  // namespace aic
