// The process-wide inference engine: one Ort::Env with one global thread pool, shared by every
// model and every session. Immutable after construction, so any thread may use it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <onnxruntime_cxx_api.h>

namespace aic {

enum class ProviderPreference { Cpu, Cuda, Auto };
enum class GraphOptimization { Disabled, Basic, Extended, All };

struct EngineOptions {
  // Threads of the shared intra-op pool. 0 = one per core as reported by the OS, capped at 8.
  int intraOpThreads = 0;
  // Threads of the shared inter-op pool (only used by graphs run in parallel mode).
  int interOpThreads = 1;
  // Spinning keeps idle pool threads busy-waiting for the next task. It shaves microseconds off a
  // steady stream of back-to-back runs but burns whole cores between the bursts of a live media
  // server (a frame every 20-40 ms per stream), stealing them from other streams and the event
  // loop. Off by default for that reason.
  bool allowSpinning = false;
  GraphOptimization graphOptimization = GraphOptimization::All;
  ProviderPreference provider = ProviderPreference::Auto;
  // With provider == Cuda: throw instead of falling back to CPU.
  bool strictProvider = false;
  int cudaDeviceId = 0;
  // ONNX Runtime's own log level (0 verbose .. 4 fatal). Fatal only by default: every failure
  // already reaches the caller as an error with ONNX Runtime's message in it, and a library
  // should not write to a server's stderr on its own.
  int logSeverity = 4;
};

// Which provider a graph ended up on, and why not the requested one.
struct ProviderChoice {
  std::string provider;        // "CPUExecutionProvider" or "CUDAExecutionProvider"
  std::string fallbackReason;  // empty when the preference was met
};

// The process-wide Ort::Env, created on a thread of its own from construction on; get() waits
// for it (and throws InvalidArgument if ONNX Runtime could not start).
class EnvHandle {
 public:
  EnvHandle(int intraOpThreads, int interOpThreads, bool allowSpinning, int logSeverity);
  EnvHandle(const EnvHandle&) = delete;
  EnvHandle& operator=(const EnvHandle&) = delete;
  ~EnvHandle();
  Ort::Env& get();

 private:
  std::unique_ptr<Ort::Env> env_;
  std::string error_;
  bool failed_ = false;
  std::once_flag joined_;
  std::thread worker_;  // last: starts once the members above exist
};

class Engine {
 public:
  explicit Engine(const EngineOptions& options);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const EngineOptions& options() const { return options_; }
  int intraOpThreads() const { return intraOpThreads_; }
  Ort::Env& env() { return env_->get(); }
  static std::string ortVersion();
  static int apiVersion() { return ORT_API_VERSION; }
  // The processor as far as ONNX Runtime's CPU kernels tell processors apart (architecture and
  // instruction-set features, e.g. the CPUID feature words on x86-64): part of the key of the
  // optimised-graph cache, since a graph optimised for one feature set (NCHWc block sizes) may
  // not suit another.
  static std::string cpuSignature();
  const std::vector<std::string>& availableProviders() const { return availableProviders_; }
  bool hasProvider(const std::string& name) const;

  // Session options for a new graph. `wantCuda` asks for the CUDA provider; when it cannot be
  // appended, the options stay CPU-only and the reason is returned in the choice.
  // `callingThreadOnly`: the session's runs use the thread that calls Run and no pool (see
  // GraphThreads in graph.h); otherwise the engine's shared intra-op pool.
  Ort::SessionOptions sessionOptions(bool wantCuda, ProviderChoice& choice, bool callingThreadOnly = false) const;

  void close() { closed_.store(true); }
  bool closed() const { return closed_.load(); }

 private:
  EngineOptions options_;
  int intraOpThreads_ = 1;
  // ONNX Runtime keeps one environment per process (a second CreateEnv returns the first, with the
  // first one's thread pools), so engines share it through this handle; see engine.cc.
  std::shared_ptr<EnvHandle> env_;
  std::vector<std::string> availableProviders_;
  std::atomic<bool> closed_{false};
};

}  // namespace aic
