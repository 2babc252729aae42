// A codec model: an encoder graph and a decoder graph loaded together under one name. Loaded
// once and shared (by shared_ptr) by every session and every in-flight call that uses it, so an
// unload while work is running frees the sessions only when that work is done.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "runtime/graph.h"

namespace aic {

enum class Part { Encoder, Decoder };

struct ModelLoadRequest {
  std::string name;
  ModelSource encoder;
  ModelSource decoder;
  std::optional<GraphSignature> encoderSignature;
  std::optional<GraphSignature> decoderSignature;
  // The optimised-graph cache of each graph (graph.h), when the caller keeps one.
  std::optional<OptimizedGraphCache> encoderCache;
  std::optional<OptimizedGraphCache> decoderCache;
  // Both graphs run on their callers' threads only (Graph's callingThreadOnly).
  bool callingThreadOnly = false;
};

class CodecModel {
 public:
  CodecModel(const std::shared_ptr<Engine>& engine, const ModelLoadRequest& request);

  const std::string& name() const { return name_; }
  const Graph& graph(Part part) const { return part == Part::Encoder ? *encoder_ : *decoder_; }

 private:
  std::string name_;
  std::unique_ptr<Graph> encoder_;
  std::unique_ptr<Graph> decoder_;
};

}  // namespace aic
