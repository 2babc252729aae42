// One ONNX graph (an encoder or a decoder) loaded into an Ort::Session, with the checks that make
// running it safe: declared signature, input shapes and sizes, caller-provided output buffers.
// Ort::Session::Run is thread-safe, and so is Graph::run: many threads may run one Graph at once.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "runtime/tensor.h"

namespace aic {

// Where a graph's bytes come from: a file path, or borrowed bytes the caller keeps alive for the
// duration of the load.
struct ModelSource {
  std::string path;
  const void* bytes = nullptr;
  size_t length = 0;
  bool isPath() const { return bytes == nullptr; }
};

// The on-disk cache of optimised graphs (docs/native-core.md, "Engine start"): `optimized` holds
// the bytes of this graph as ONNX Runtime optimised it before, read and verified by the caller
// (loaded with optimisation off, its signature checked; anything off falls back to `source`);
// `saveTo` is where ONNX Runtime writes the graph it optimises when `optimized` is not used.
// Used only where the session runs on the CPU provider with optimisation on.
// With `required`, the source is a file the caller did not read (its fingerprint said it was
// unchanged since it was checked): it is never loaded, and a cached graph that cannot be used is
// the error kOptimizedGraphMissed, for the caller to load again from checked bytes.
struct OptimizedGraphCache {
  ModelSource optimized;  // length 0: none
  std::string saveTo;     // empty: not saved
  bool required = false;
};
inline constexpr const char* kOptimizedGraphMissed = "the cached optimised graph could not be used (optimised-graph cache miss)";

// Where a graph's session came from: its source optimised now, the same with the optimised graph
// written to OptimizedGraphCache::saveTo, or the cached optimised graph.
enum class OptimizedFrom { Source, Saved, Cache };

struct GraphSignature {
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

// A graph output after a run. Either ORT allocated it (`value` owns the memory and `data` points
// into it) or it was written straight into the caller's buffer (`callerProvided`).
struct OutputTensor {
  std::string name;
  ElementType type = ElementType::Float32;
  std::vector<int64_t> shape;
  Ort::Value value{nullptr};
  bool callerProvided = false;
  void* data = nullptr;
  size_t byteLength = 0;
};

// Copies the core could not avoid, counted so that tests and docs can hold us to "zero copy".
struct CopyCounters {
  std::atomic<uint64_t> runs{0};
  std::atomic<uint64_t> inputBytesCopied{0};   // misaligned input views re-laid in aligned memory
  std::atomic<uint64_t> outputBytesCopied{0};  // misaligned caller output buffers filled by memcpy
};

class Graph {
 public:
  // `label` ("encoder"/"decoder") prefixes every message about this graph.
  // `callingThreadOnly`: runs on the caller's thread alone, without the engine's intra-op pool —
  // for small graphs that many callers run in parallel already (the audio batches' lanes, one per
  // core, src/audio-batcher.ts), where the pool's threads only contend with the lanes.
  Graph(const std::shared_ptr<Engine>& engine, const std::string& label, const ModelSource& source,
        const std::optional<GraphSignature>& declared, const OptimizedGraphCache* cache = nullptr, bool callingThreadOnly = false);

  const std::string& label() const { return label_; }
  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  const ProviderChoice& provider() const { return provider_; }
  const CopyCounters& counters() const { return counters_; }
  OptimizedFrom optimizedFrom() const { return optimizedFrom_; }

  // Runs the graph. `inputs` must name every graph input exactly once. `outputs` may name some
  // graph outputs with caller memory to write into; the rest are allocated by ONNX Runtime.
  // Results come back in graph output order.
  std::vector<OutputTensor> run(const std::vector<TensorView>& inputs, const std::vector<TensorView>& outputs) const;

 private:
  void readSignature();
  void checkDeclared(const GraphSignature& declared) const;

  std::shared_ptr<Engine> engine_;  // keeps the Ort::Env alive as long as the session
  std::string label_;
  std::unique_ptr<Ort::Session> session_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  std::vector<const char*> inputNames_;
  std::vector<const char*> outputNames_;
  ProviderChoice provider_;
  OptimizedFrom optimizedFrom_ = OptimizedFrom::Source;
  mutable CopyCounters counters_;
};

}  // namespace aic
