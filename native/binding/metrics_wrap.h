// Module-level functions of the addon: payload header inspection and quality metrics.
#pragma once

#include <napi.h>

namespace aic::js {

Napi::Value ParsePayloadHeader(const Napi::CallbackInfo& info);
Napi::Value PackPayload(const Napi::CallbackInfo& info);
Napi::Value I420Metrics(const Napi::CallbackInfo& info);
Napi::Value ImageMetrics(const Napi::CallbackInfo& info);
Napi::Value AudioMetrics(const Napi::CallbackInfo& info);

}  // namespace aic::js
