#include "runtime/gpu_utilization.h"

#include <mutex>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dlfcn.h>
#endif

namespace aic::runtime {

namespace {

// The few NVML declarations used (nvml.h is not needed to build): every call returns 0 on success.
struct NvmlUtilization {
  unsigned int gpu;
  unsigned int memory;
};
using NvmlDevice = void*;
using InitFn = int (*)();
using HandleByIndexFn = int (*)(unsigned int, NvmlDevice*);
using UtilizationFn = int (*)(NvmlDevice, NvmlUtilization*);

struct Nvml {
  HandleByIndexFn handleByIndex = nullptr;
  UtilizationFn utilization = nullptr;
  bool ok = false;
};

Nvml load() {
  Nvml n;
#ifdef _WIN32
  HMODULE lib = LoadLibraryA("nvml.dll");
  if (!lib) return n;
  auto sym = [&](const char* name) { return reinterpret_cast<void*>(GetProcAddress(lib, name)); };
#else
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return n;
  auto sym = [&](const char* name) { return dlsym(lib, name); };
#endif
  auto init = reinterpret_cast<InitFn>(sym("nvmlInit_v2"));
  n.handleByIndex = reinterpret_cast<HandleByIndexFn>(sym("nvmlDeviceGetHandleByIndex_v2"));
  n.utilization = reinterpret_cast<UtilizationFn>(sym("nvmlDeviceGetUtilizationRates"));
  n.ok = init && n.handleByIndex && n.utilization && init() == 0;
  return n;
}

}  // namespace

int gpuUtilizationPercent(int index) {
  static std::once_flag once;
  static Nvml nvml;
  std::call_once(once, [] { nvml = load(); });
  if (!nvml.ok || index < 0) return -1;
  NvmlDevice device = nullptr;
  if (nvml.handleByIndex(static_cast<unsigned int>(index), &device) != 0) return -1;
  NvmlUtilization u{};
  if (nvml.utilization(device, &u) != 0) return -1;
  return static_cast<int>(u.gpu);
}

}  // namespace aic::runtime
