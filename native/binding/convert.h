// Conversions between JS values and the core's plain structs. Every malformed JS value becomes an
// INVALID_ARGUMENT error naming the offending field.
#pragma once

#include <napi.h>

#include <optional>
#include <string>
#include <vector>

#include "runtime/codec_model.h"
#include "runtime/engine.h"
#include "job.h"

namespace aic::js {

EngineOptions parseEngineOptions(Napi::Env env, Napi::Value value);

// { name, encoder: string | Uint8Array, decoder: string | Uint8Array, signature?: {...} }.
// Buffers are copied into memory `job` owns (loading runs on a worker).
ModelLoadRequest parseLoadRequest(Napi::Env env, Napi::Value value, Job& job);
// The optional second argument of loadModel(): { encoder?, decoder? } of { optimized?: Buffer,
// saveTo?: string }, the optimised-graph cache engine start keeps (runtime/graph.h).
void parseGraphCaches(Napi::Env env, Napi::Value value, ModelLoadRequest& req, Job& job);

// A tensor of a map { name: { data: ArrayBufferView, type, shape } } whose memory is not taken yet.
struct PendingTensor {
  TensorView view;  // name, type, shape
  Napi::Value data;
  std::string what;
};
// Reads every field (running any getters) but takes no memory: memory is taken by
// captureTensors() once no more JS will run before the job does.
std::vector<PendingTensor> parseTensorMap(Napi::Env env, Napi::Value value, const std::string& what);

enum class TensorMemory {
  InPlace,  // the caller's own memory (sync runs: no JS runs until they return)
  Copy,     // a copy taken now (async inputs)
  Staging,  // zeroed native memory of the same size, copied back by the caller (async outputs)
};
// The views of `tensors`. `objects` receives each entry's `data` object in the same order, so
// results can hand the caller's own Buffer back.
std::vector<TensorView> captureTensors(Napi::Env env, std::vector<PendingTensor>& tensors, TensorMemory memory, Job& job,
                                       std::vector<Napi::ObjectReference>* objects);

Part parsePart(Napi::Env env, Napi::Value value);

Napi::Object engineInfoToJs(Napi::Env env, const Engine& engine);
Napi::Object modelInfoToJs(Napi::Env env, const CodecModel& model);
Napi::Object modelStatsToJs(Napi::Env env, const CodecModel& model);

}  // namespace aic::js
