#include "runtime/engine.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <mutex>

#if defined(__x86_64__) || defined(_M_X64)
#if defined(_MSC_VER)
#include <intrin.h>
#include <immintrin.h>
#else
#include <cpuid.h>
#endif
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

#include "common/errors.h"
#include "runtime/onnxruntime_library.h"
#include "runtime/warmup.h"

namespace aic {

namespace {

GraphOptimizationLevel toOrt(GraphOptimization level) {
  switch (level) {
    case GraphOptimization::Disabled: return ORT_DISABLE_ALL;
    case GraphOptimization::Basic: return ORT_ENABLE_BASIC;
    case GraphOptimization::Extended: return ORT_ENABLE_EXTENDED;
    case GraphOptimization::All: return ORT_ENABLE_ALL;
  }
  return ORT_ENABLE_ALL;
}

// The process-wide Ort::Env and the threading settings it was made with. ONNX Runtime would hand a
// second engine the first environment and silently ignore the second engine's pool settings, so
// we share it explicitly and refuse conflicting settings while it is alive.
struct EnvSettings {
  int intra, inter, spin, log;
  bool operator==(const EnvSettings& o) const { return intra == o.intra && inter == o.inter && spin == o.spin && log == o.log; }
};
std::mutex envMutex;
std::weak_ptr<EnvHandle> sharedEnv;
EnvSettings sharedSettings{};

std::shared_ptr<EnvHandle> acquireEnv(const EnvSettings& wanted) {
  std::lock_guard<std::mutex> lock(envMutex);
  if (auto env = sharedEnv.lock()) {
    if (!(wanted == sharedSettings)) {
      throw CoreError(ErrorCode::InvalidArgument,
                      "another engine in this process already runs ONNX Runtime with intraOpThreads=" +
                          std::to_string(sharedSettings.intra) + ", interOpThreads=" + std::to_string(sharedSettings.inter) +
                          ", allowSpinning=" + (sharedSettings.spin ? "true" : "false") +
                          "; ONNX Runtime has one environment per process, so use the same threading options or close that engine first");
    }
    return env;
  }
  auto env = std::make_shared<EnvHandle>(wanted.intra, wanted.inter, wanted.spin != 0, wanted.log);
  sharedEnv = env;
  sharedSettings = wanted;
  return env;
}

}  // namespace

EnvHandle::EnvHandle(int intra, int inter, bool spin, int log) {
  // Creating the environment starts its global pools and ONNX Runtime's one-time initialisation
  // (about 20 ms on a small machine). It runs on its own thread, so that the caller (the JS
  // thread in createEngine()) reads and checks the model manifests meanwhile; env() waits for it.
  worker_ = std::thread([this, intra, inter, spin, log] {
    // The process's warm-up (warmup.h) holds an environment of its own while it runs; ONNX
    // Runtime would hand that one to this engine, settings and all.
    runtime::awaitWarmup();
    try {
      // One global pool for all sessions: a server with dozens of loaded graphs must not start
      // dozens of pools that fight over the same cores.
      Ort::ThreadingOptions threading;
      threading.SetGlobalIntraOpNumThreads(intra);
      threading.SetGlobalInterOpNumThreads(inter);
      threading.SetGlobalSpinControl(spin);
      env_ = std::make_unique<Ort::Env>(threading, static_cast<OrtLoggingLevel>(log), "aic");
    } catch (const std::exception& e) {
      error_ = e.what();
      failed_ = true;
    }
  });
}

EnvHandle::~EnvHandle() {
  if (worker_.joinable()) worker_.join();
}

Ort::Env& EnvHandle::get() {
  std::call_once(joined_, [this] { worker_.join(); });
  if (failed_) throw CoreError(ErrorCode::InvalidArgument, "could not start ONNX Runtime: " + error_);
  return *env_;
}

Engine::Engine(const EngineOptions& options) : options_(options) {
  if (options.intraOpThreads < 0 || options.intraOpThreads > 256) {
    throw CoreError(ErrorCode::InvalidArgument, "intraOpThreads must be between 0 (auto) and 256");
  }
  if (options.interOpThreads < 1 || options.interOpThreads > 256) {
    throw CoreError(ErrorCode::InvalidArgument, "interOpThreads must be between 1 and 256");
  }
  if (options.logSeverity < 0 || options.logSeverity > 4) {
    throw CoreError(ErrorCode::InvalidArgument, "logSeverity must be between 0 and 4");
  }
  intraOpThreads_ = options.intraOpThreads;
  if (intraOpThreads_ == 0) {
    unsigned hw = std::thread::hardware_concurrency();
    intraOpThreads_ = static_cast<int>(std::clamp(hw == 0 ? 1u : hw, 1u, 8u));
  }
  runtime::onnxRuntime();  // loads the default ONNX Runtime unless the binding chose one already
  try {
    env_ = acquireEnv({intraOpThreads_, options.interOpThreads, options.allowSpinning ? 1 : 0, options.logSeverity});
    availableProviders_ = Ort::GetAvailableProviders();
  } catch (const Ort::Exception& e) {
    throw CoreError(ErrorCode::InvalidArgument, std::string("could not start ONNX Runtime: ") + e.what());
  }
  if (options.provider == ProviderPreference::Cuda && options.strictProvider && !hasProvider("CUDAExecutionProvider")) {
    throw CoreError(ErrorCode::ProviderUnavailable,
                    "executionProvider 'cuda' was required (strict) but this ONNX Runtime " + ortVersion() +
                        " has no CUDAExecutionProvider; use 'auto' to fall back to CPU");
  }
}

std::string Engine::ortVersion() { return runtime::onnxRuntime().version; }

std::string Engine::cpuSignature() {
  char buffer[160];
#if defined(__x86_64__) || defined(_M_X64)
  // CPUID leaf 1 (ECX, EDX), leaf 7 subleaves 0 (EBX, ECX, EDX) and 1 (EAX), and XCR0 (the
  // register state the OS enables: AVX, AVX-512, AMX), which decide MLAS's kernels.
  uint32_t r[4] = {0, 0, 0, 0};
  uint32_t l1c = 0, l1d = 0, l7b = 0, l7c = 0, l7d = 0, l71a = 0, xcr0 = 0;
  auto cpuid = [&r](uint32_t leaf, uint32_t sub) {
#if defined(_MSC_VER)
    int v[4];
    __cpuidex(v, static_cast<int>(leaf), static_cast<int>(sub));
    for (int i = 0; i < 4; ++i) r[i] = static_cast<uint32_t>(v[i]);
#else
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
  };
  cpuid(0, 0);
  const uint32_t maxLeaf = r[0];
  cpuid(1, 0);
  l1c = r[2];
  l1d = r[3];
  if (maxLeaf >= 7) {
    cpuid(7, 0);
    l7b = r[1];
    l7c = r[2];
    l7d = r[3];
    cpuid(7, 1);
    l71a = r[0];
  }
  if (l1c & (1u << 27)) {  // OSXSAVE: XGETBV is available
#if defined(_MSC_VER)
    xcr0 = static_cast<uint32_t>(_xgetbv(0));
#else
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = lo;
#endif
  }
  std::snprintf(buffer, sizeof buffer, "x86_64:%08x.%08x.%08x.%08x.%08x.%08x.%08x", l1c, l1d, l7b, l7c, l7d, l71a, xcr0);
#elif defined(__aarch64__) && defined(__linux__)
  std::snprintf(buffer, sizeof buffer, "arm64-linux:%lx.%lx", getauxval(AT_HWCAP), getauxval(AT_HWCAP2));
#elif defined(__aarch64__) || defined(_M_ARM64)
  std::snprintf(buffer, sizeof buffer, "arm64");
#else
  std::snprintf(buffer, sizeof buffer, "other");
#endif
  return buffer;
}

bool Engine::hasProvider(const std::string& name) const {
  return std::find(availableProviders_.begin(), availableProviders_.end(), name) != availableProviders_.end();
}

Ort::SessionOptions Engine::sessionOptions(bool wantCuda, ProviderChoice& choice, bool callingThreadOnly) const {
  Ort::SessionOptions so;
  if (callingThreadOnly) {
    // A pool of one thread is the calling thread itself: no pool threads to wake or spin.
    so.SetIntraOpNumThreads(1);
    so.SetInterOpNumThreads(1);
    so.AddConfigEntry("session.intra_op.allow_spinning", "0");
  } else {
    so.DisablePerSessionThreads();
  }
  so.SetGraphOptimizationLevel(toOrt(options_.graphOptimization));
  so.SetExecutionMode(ORT_SEQUENTIAL);
  choice.provider = "CPUExecutionProvider";
  choice.fallbackReason.clear();
  if (!wantCuda) return so;

  if (!hasProvider("CUDAExecutionProvider")) {
    std::string list;
    for (const auto& p : availableProviders_) list += (list.empty() ? "" : ", ") + p;
    choice.fallbackReason = "CUDAExecutionProvider is not in this ONNX Runtime " + ortVersion() + " build (available: " + list + ")";
    return so;
  }
  OrtCUDAProviderOptionsV2* cuda = nullptr;
  try {
    const OrtApi& api = Ort::GetApi();
    Ort::ThrowOnError(api.CreateCUDAProviderOptions(&cuda));
    std::string device = std::to_string(options_.cudaDeviceId);
    const char* keys[] = {"device_id"};
    const char* values[] = {device.c_str()};
    Ort::ThrowOnError(api.UpdateCUDAProviderOptions(cuda, keys, values, 1));
    so.AppendExecutionProvider_CUDA_V2(*cuda);
    api.ReleaseCUDAProviderOptions(cuda);
    choice.provider = "CUDAExecutionProvider";
  } catch (const Ort::Exception& e) {
    if (cuda) Ort::GetApi().ReleaseCUDAProviderOptions(cuda);
    choice.fallbackReason = std::string("CUDA provider could not be enabled: ") + e.what();
    // The failed append may have left the options half-configured; start again on CPU.
    ProviderChoice cpu;
    return sessionOptions(false, cpu);
  }
  return so;
}

}  // namespace aic
