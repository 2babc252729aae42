// Conversions between JS values and the core's plain structs. Every malformed JS value becomes an
// INVALID_ARGUMENT error naming the offending field.
#pragma once

#include <napi.h>

#include <optional>
#include <string>
#include <vector>

#include "../core/codec_model.h"
#include "../core/engine.h"
#include "job.h"

namespace aic::js {

EngineOptions parseEngineOptions(Napi::Env env, Napi::Value value);

// { name, encoder: string | Uint8Array, decoder: string | Uint8Array, signature?: {...} }.
// Buffers are borrowed, not copied: they are pinned on `job` for the duration of the load.
ModelLoadRequest parseLoadRequest(Napi::Env env, Napi::Value value, Job& job);

// A map { name: { data: ArrayBufferView, type, shape } } as views over the JS memory, pinned on
// `job`. `objects` receives each entry's `data` object in the same order, so results can hand
// the caller's own Buffer back.
std::vector<TensorView> parseTensorMap(Napi::Env env, Napi::Value value, const std::string& what, Job& job,
                                       std::vector<Napi::ObjectReference>* objects);

Part parsePart(Napi::Env env, Napi::Value value);

Napi::Object engineInfoToJs(Napi::Env env, const Engine& engine);
Napi::Object modelInfoToJs(Napi::Env env, const CodecModel& model);
Napi::Object modelStatsToJs(Napi::Env env, const CodecModel& model);

}  // namespace aic::js
